//! [`RequestBuilder`]: requests' keyword arguments as builder methods.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, Request};
use url::Url;

use crate::error::Error;
use crate::response::BodyLimit;
pub use crate::url_cache::IntoUrl;
pub(crate) use crate::url_cache::{uri_of, validate_url};
use crate::{Body, Response, Session};

/// Starting requests (requests' `session.get(...)` and friends).
impl Session {
    /// Start a request with any method.
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        let url = match url.url_text() {
            Some(text) => self.url_cache().parse(text),
            None => url.into_url().map(|url| (Arc::new(url), None)),
        };
        RequestBuilder::new(self.clone(), method, url)
    }

    /// Start a GET request.
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }
    /// Start a POST request.
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }
    /// Start a PUT request.
    pub fn put<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PUT, url)
    }
    /// Start a PATCH request.
    pub fn patch<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }
    /// Start a DELETE request.
    pub fn delete<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
    /// Start a HEAD request.
    pub fn head<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }
    /// Start an OPTIONS request.
    pub fn options<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::OPTIONS, url)
    }
}

/// A request being put together; send it with [`RequestBuilder::send`].
///
/// Every mistake (bad URL, header, JSON) is remembered and returned by `send()` as an
/// [`Error::is_builder`] error; nothing here panics.
///
/// Against a small server that echoes what it received (hidden lines; `serde_json` is only for
/// the JSON value):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{extract::Request, http::header, Router};
/// # let app = Router::new().fallback(|req: Request| async move {
/// #     let (parts, body) = req.into_parts();
/// #     let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
/// #     let h = |n: header::HeaderName| parts.headers.get(&n).map_or("-", |v| v.to_str().unwrap()).to_string();
/// #     format!("{} {} accept={} user-agent={} {}", parts.method, parts.uri,
/// #         h(header::ACCEPT), h(header::USER_AGENT), String::from_utf8_lossy(&body))
/// # });
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let base = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, app).await });
/// use std::time::Duration;
/// use tower_requests::http::header::{ACCEPT, USER_AGENT};
/// use tower_requests::Session;
///
/// let session = Session::new();
/// // `base` is the test server's address, `http://127.0.0.1:<port>`.
/// let echoed = session
///     .post(format!("{base}/items"))
///     .query(&[("page", "2")])
///     .header(ACCEPT, "application/json")
///     .without_header(USER_AGENT) // drop a session default for this request only
///     .json(&serde_json::json!({ "name": "ada" }))
///     .timeout(Duration::from_secs(5))
///     .send()
///     .await?
///     .text()
///     .await?;
/// assert_eq!(echoed, r#"POST /items?page=2 accept=application/json user-agent=- {"name":"ada"}"#);
///
/// // A mistake surfaces at send(), as a builder error:
/// let err = session.get("http://exa mple.com/").send().await.unwrap_err();
/// assert!(err.is_builder());
/// # Ok(()) }
/// ```
#[must_use = "a RequestBuilder does nothing until you send() it"]
pub struct RequestBuilder {
    session: Session,
    parts: Result<Parts, Error>,
    /// `None`: the session's.
    body_limit: Option<BodyLimit>,
}

struct Parts {
    method: Method,
    /// Shared with the session's URL cache until changed (`Arc::make_mut`): the same URL sent
    /// again costs no copy, here nor in the [`Response`].
    url: Arc<Url>,
    /// The request-target of `url` when already known (cleared whenever `url` changes).
    uri: Option<http::Uri>,
    headers: HeaderMap,
    body: Body,
    extensions: http::Extensions,
}

impl RequestBuilder {
    pub(crate) fn new(
        session: Session,
        method: Method,
        url: Result<(Arc<Url>, Option<http::Uri>), Error>,
    ) -> Self {
        let parts = url.and_then(|(url, uri)| {
            validate_url(&url)?;
            Ok(Parts {
                method,
                url,
                uri,
                headers: HeaderMap::new(),
                body: Body::empty(),
                extensions: http::Extensions::new(),
            })
        });
        RequestBuilder {
            session,
            parts,
            body_limit: None,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Parts) -> Result<(), Error>) -> Self {
        if let Ok(parts) = &mut self.parts {
            if let Err(e) = f(parts) {
                let url = parts.url.clone();
                self.parts = Err(e.with_url(&url));
            }
        }
        self
    }

    /// Add a header (appended: a name may have several values).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.with(|p| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            let value = HeaderValue::try_from(value).map_err(|e| Error::builder(e.into()))?;
            p.headers.append(name, value);
            Ok(())
        })
    }

    /// Set these headers, replacing values of the same names.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.with(|p| {
            let mut last = None;
            for (name, value) in headers {
                let name = match name {
                    Some(n) => {
                        p.headers.remove(&n);
                        last = Some(n.clone());
                        n
                    }
                    None => last.clone().expect("HeaderMap yields a name first"),
                };
                p.headers.append(name, value);
            }
            Ok(())
        })
    }

    /// Do not send this header, even when the session has a default for it (requests'
    /// `headers={'User-Agent': None}`). Removing `Accept-Encoding` sends
    /// `Accept-Encoding: identity`, as requests does (Python's http.client adds it).
    pub fn without_header<K>(self, name: K) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        self.with(|p| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            p.headers.remove(&name);
            let ext = &mut p.extensions;
            if ext
                .get::<crate::layers::headers::WithoutHeaders>()
                .is_none()
            {
                ext.insert(crate::layers::headers::WithoutHeaders::new());
            }
            if let Some(w) = ext.get_mut::<crate::layers::headers::WithoutHeaders>() {
                w.insert(name);
            }
            Ok(())
        })
    }

    /// Append query parameters (anything serde_urlencoded can serialise: `&[("k", "v")]`, a map,
    /// a struct) after any query already in the URL.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.with(|p| {
            let extra = serde_urlencoded::to_string(query).map_err(Error::builder)?;
            if extra.is_empty() {
                return Ok(());
            }
            let joined = match p.url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{extra}"),
                _ => extra,
            };
            Arc::make_mut(&mut p.url).set_query(Some(&joined));
            p.uri = None;
            Ok(())
        })
    }

    /// A form body (`application/x-www-form-urlencoded`, unless a Content-Type was set).
    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.with(|p| {
            let body = serde_urlencoded::to_string(form).map_err(Error::builder)?;
            set_default_content_type(
                &mut p.headers,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            p.body = Body::from(body);
            Ok(())
        })
    }

    /// A JSON body (`application/json`, unless a Content-Type was set). A value that cannot be
    /// serialised is an [`Error::is_builder`] error from `send()`.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.with(|p| {
            let body = serde_json::to_vec(json).map_err(Error::builder)?;
            set_default_content_type(&mut p.headers, HeaderValue::from_static("application/json"));
            p.body = Body::from(body);
            Ok(())
        })
    }

    /// A `multipart/form-data` body (requests' `files=`), streamed: see [`multipart`](crate::multipart).
    /// Sets `Content-Type: multipart/form-data; boundary=...` (replacing any Content-Type set
    /// before, which could not name the form's boundary) and, when every part's length is
    /// known, `Content-Length`. The form is replayable for retries and 307/308 redirects when
    /// all its parts are.
    #[cfg(feature = "multipart")]
    pub fn multipart(self, form: crate::multipart::Form) -> Self {
        self.with(|p| {
            p.headers.insert(CONTENT_TYPE, form.content_type());
            match form.content_length() {
                Some(len) => {
                    p.headers
                        .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
                }
                None => {
                    p.headers.remove(http::header::CONTENT_LENGTH);
                }
            }
            p.body = form.into_body();
            Ok(())
        })
    }

    /// The request body.
    pub fn body(self, body: impl Into<Body>) -> Self {
        self.with(|p| {
            p.body = body.into();
            Ok(())
        })
    }

    /// A limit for this whole call (redirects, retries and reading the body included), replacing
    /// the session's `timeout` for this request.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|p| {
            p.extensions
                .insert(crate::layers::timeout::RequestTimeout(timeout));
            Ok(())
        })
    }

    /// Follow redirects for this request (`true`, up to the session's limit, 30 by default, or
    /// the one [`max_redirects`](Self::max_redirects) set) or return a 3xx response as it is
    /// (`false`: requests' `allow_redirects=False`), whatever the session does.
    pub fn redirects(self, follow: bool) -> Self {
        use crate::layers::ext::Redirects;
        self.with(move |p| {
            let choice = match (follow, p.extensions.get::<Redirects>()) {
                (true, Some(Redirects::Max(max))) => Redirects::Max(*max),
                (true, _) => Redirects::Follow,
                (false, _) => Redirects::Off,
            };
            p.extensions.insert(choice);
            Ok(())
        })
    }

    /// Follow at most `max` redirects for this request (one more is an error whose
    /// [`status()`](crate::Error::status) is the last 3xx's), whatever the session's limit.
    pub fn max_redirects(self, max: usize) -> Self {
        self.with(move |p| {
            p.extensions.insert(crate::layers::ext::Redirects::Max(max));
            Ok(())
        })
    }

    /// A limit for each attempt of this request (retries each get their own): the response head
    /// must arrive within it, and no read of the body may wait longer (unless
    /// [`read_timeout`](Self::read_timeout) says otherwise). Replaces the session's
    /// `attempt_timeout` for this request. requests' `timeout=5` is `.attempt_timeout(5 s)`;
    /// [`timeout`](Self::timeout) is the whole call instead.
    pub fn attempt_timeout(self, timeout: Duration) -> Self {
        self.with(move |p| {
            p.extensions
                .insert(crate::layers::ext::AttemptTimeout(timeout));
            Ok(())
        })
    }

    /// The longest silence for this request: waiting for the response head (when no
    /// [`attempt_timeout`](Self::attempt_timeout) is set) and between reads of the body. requests'
    /// `timeout=(3.05, 27)` is `.connect_timeout(3.05 s).read_timeout(27 s)`.
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.with(move |p| {
            p.extensions
                .insert(crate::layers::ext::ReadTimeout(timeout));
            Ok(())
        })
    }

    /// The longest this request may wait for a new connection to be made (name lookup, TCP,
    /// TLS, a proxy's tunnel), on each attempt that needs one; a pooled connection needs none.
    /// The connect part of requests' `timeout=(3.05, 27)`: `.connect_timeout(3.05 s)
    /// .read_timeout(27 s)`. With the session's own
    /// [`connect_timeout`](crate::SessionBuilder::connect_timeout) also set, the shorter of the
    /// two ends the wait (the session's is shared out between a host's addresses). Running out
    /// is an error that is both [`Error::is_connect`] and [`Error::is_timeout`]: nothing was
    /// sent, so it is retried as a connection error. Transports mounted with
    /// [`SessionBuilder::mount`](crate::SessionBuilder::mount) are not connected by this crate
    /// and do not see it.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.with(move |p| {
            p.extensions
                .insert(crate::layers::ext::ConnectTimeout(timeout));
            Ok(())
        })
    }

    /// HTTP Basic credentials for this request (beat the session's).
    pub fn basic_auth(
        self,
        username: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> Self {
        let value = crate::layers::origin::basic(
            &username.to_string(),
            &password.map_or_else(String::new, |p| p.to_string()),
        );
        self.with(|p| {
            p.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// A Bearer token for this request (beats the session's auth).
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.with(|p| {
            let mut value =
                HeaderValue::try_from(format!("Bearer {token}")).map_err(Error::builder)?;
            value.set_sensitive(true);
            p.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// Set a request extension (read by your own layers).
    pub fn extension<T: Clone + Send + Sync + 'static>(self, value: T) -> Self {
        self.with(|p| {
            p.extensions.insert(value);
            Ok(())
        })
    }

    /// The most bytes [`Response::bytes`], [`Response::text`] and [`Response::json`] read from
    /// this request's response, after decompression (`None`: no limit); it replaces the
    /// session's [`max_body_size`](crate::SessionBuilder::max_body_size) and, set here, also
    /// bounds [`Response::bytes_stream`].
    pub fn max_body_size(mut self, max: impl Into<Option<usize>>) -> Self {
        self.body_limit = Some(BodyLimit::set(max.into()));
        self
    }

    /// The `http::Request` this builder makes (credentials from the URL moved into an
    /// `Authorization` header unless one was set).
    pub fn build(self) -> Result<http::Request<Body>, Error> {
        self.parts.and_then(into_request).map(|(req, _)| req)
    }

    /// Send the request through the session's stack. Nothing happens until the returned future
    /// is polled.
    pub fn send(self) -> Pending {
        Pending {
            state: PendingState::Start {
                builder: Some(self),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RequestBuilder::send`]: the [`Response`], or an [`Error`] carrying the
    /// request's URL.
    pub struct Pending {
        #[pin]
        state: PendingState,
    }
}

pin_project_lite::pin_project! {
    #[project = PendingProj]
    enum PendingState {
        Start {
            builder: Option<RequestBuilder>,
        },
        Call {
            #[pin]
            call: crate::SessionFuture,
            url: Option<Arc<Url>>,
            limit: BodyLimit,
        },
        Done,
    }
}

impl std::future::Future for Pending {
    type Output = Result<Response, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                PendingProj::Start { builder } => {
                    let Some(builder) = builder.take() else {
                        state.set(PendingState::Done);
                        continue;
                    };
                    match builder.parts.and_then(into_request) {
                        Ok((req, url)) => {
                            let call = builder.session.stack_future(req);
                            let limit = builder
                                .body_limit
                                .unwrap_or_else(|| builder.session.body_limit());
                            state.set(PendingState::Call {
                                call,
                                url: Some(url),
                                limit,
                            });
                        }
                        Err(e) => {
                            state.set(PendingState::Done);
                            return Poll::Ready(Err(e));
                        }
                    }
                }
                PendingProj::Call { call, url, limit } => {
                    let out = std::task::ready!(call.poll(cx));
                    let url = url.take();
                    let limit = *limit;
                    state.set(PendingState::Done);
                    return Poll::Ready(match (out, url) {
                        (Ok(resp), Some(url)) => {
                            Ok(Response::new(resp, url).with_body_limit(limit))
                        }
                        (Err(e), Some(url)) => Err(e.with_url(&url)),
                        (Err(e), None) => Err(e),
                        (Ok(_), None) => Err(Error::builder_msg(
                            "request future polled in an invalid state",
                        )),
                    });
                }
                PendingProj::Done => {
                    return Poll::Ready(Err(Error::builder_msg(
                        "request future polled after completion",
                    )))
                }
            }
        }
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

fn set_default_content_type(headers: &mut HeaderMap, value: HeaderValue) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, value);
    }
}

fn into_request(parts: Parts) -> Result<(Request<Body>, Arc<Url>), Error> {
    let Parts {
        method,
        mut url,
        uri,
        mut headers,
        body,
        extensions,
    } = parts;
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in the URL are used (as Basic, unless the request already carries an
        // Authorization header) and never sent in the request line.
        if !headers.contains_key(AUTHORIZATION) {
            let value = crate::layers::origin::basic_from_userinfo(url.username(), url.password());
            headers.insert(AUTHORIZATION, value);
        }
        let url = Arc::make_mut(&mut url);
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    let uri = match uri {
        Some(uri) => uri,
        None => uri_of(&url)?,
    };
    let mut extensions = extensions;
    if let Some(fragment) = url.fragment() {
        // Never sent; kept so the final URL (after redirects) carries it, as requests does.
        extensions.insert(crate::layers::redirect::Fragment(fragment.to_string()));
    }
    let mut req = Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    *req.extensions_mut() = extensions;
    Ok((req, url))
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parts {
            Ok(p) => f
                .debug_struct("RequestBuilder")
                .field("method", &p.method)
                .field(
                    "url",
                    &crate::error::strip_credentials(Url::clone(&p.url))
                        .as_ref()
                        .map_or("<hidden>", Url::as_str),
                )
                .field("headers", &p.headers)
                .finish(),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}
