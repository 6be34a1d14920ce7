//! [`RequestBuilder`]: requests' keyword arguments as builder methods.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, Request};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::error::Error;
use crate::response::BodyLimit;
use crate::{Body, Response, Session};

/// Something that can be turned into a URL: `&str`, `String`, [`Url`].
pub trait IntoUrl: sealed::Sealed {
    /// Parse (or pass on) the URL.
    fn into_url(self) -> Result<Url, Error>;

    /// The text to parse, for a URL given as text (lets a session reuse its last parse of the
    /// same `scheme://authority`).
    #[doc(hidden)]
    fn url_text(&self) -> Option<&str> {
        None
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for url::Url {}
    impl Sealed for &url::Url {}
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, Error> {
        Url::parse(self).map_err(|e| {
            // The message says it all (the parser's error adds nothing as a cause); the text is
            // shown without its credentials.
            let shown = crate::layers::redact::userinfo(self);
            Error::builder_msg(format!("invalid URL {shown:?}: {e}"))
        })
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}
impl IntoUrl for String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}
impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}

/// A session's last parsed URL, to parse the next one on the same origin without parsing (and
/// IDNA-processing) its host again: a session usually talks to one API, often to one endpoint
/// again and again (the same text then costs a clone of the URL and of its `http::Uri`).
///
/// On an origin hit the URL is `last.join(rest)`, where `rest` is the text after the authority: the
/// URL parser copies scheme, credentials, host and port from the base and parses path, query
/// and fragment exactly as a full parse would, and the request-target URI is the last one's
/// scheme and authority with the new path and query. Only plain cases hit (`http://` or `https://`
/// lowercase, `rest` starting with a single '/', no tab or newline anywhere in `rest`, which
/// the parser removes and which could otherwise turn "/\t/x" into "//x"); a test compares
/// hits with `Url::parse` on many inputs. Anything else is parsed in full. Every plain text
/// becomes the new last one.
#[derive(Default)]
pub(crate) struct UrlCache {
    /// Updated in place, so a miss allocates only what the new URL needs.
    last: std::sync::Mutex<Option<Parsed>>,
}

/// The last plain URL text given, the URL it parsed to and its request-target URI.
#[derive(Clone)]
struct Parsed {
    text: String,
    /// `text[..origin_len]` is its `scheme://authority`.
    origin_len: usize,
    url: Arc<Url>,
    /// `None` when the URL has credentials (the facade strips them first).
    uri: Option<http::Uri>,
}

impl UrlCache {
    /// The URL of `text`, and its request-target URI when that is known already. The same text
    /// as last time costs a clone of an `Arc`; another path on the same origin a `join`.
    pub(crate) fn parse(&self, text: &str) -> Result<(Arc<Url>, Option<http::Uri>), Error> {
        // The same text as last time (only plain texts are kept) needs no look at all; the
        // same origin gives the base to join and the scheme and authority of the URI.
        let (split, base) = {
            let last = self.lock();
            if let Some(last) = last.as_ref().filter(|last| *last.text == *text) {
                return Ok((last.url.clone(), last.uri.clone()));
            }
            let split = split_origin(text);
            let base = match (&*last, split) {
                (Some(last), Some((origin, _))) if last.text[..last.origin_len] == *origin => {
                    Some((last.url.clone(), last.uri.clone()))
                }
                _ => None,
            };
            (split, base)
        };
        let Some((origin, rest)) = split else {
            return text.into_url().map(|url| (Arc::new(url), None));
        };
        let joined = base.as_ref().and_then(|(base, _)| base.join(rest).ok());
        let (url, base_uri) = match joined {
            Some(url) => (url, base.and_then(|(_, uri)| uri)),
            None => (text.into_url()?, None),
        };
        let plain = url.username().is_empty() && url.password().is_none();
        let uri = match (plain, base_uri) {
            (false, _) => None,
            (true, Some(base)) => uri_on_origin(&base, &url),
            (true, None) => uri_of(&url).ok(),
        };
        let url = Arc::new(url);
        let mut last = self.lock();
        match &mut *last {
            Some(last) => {
                last.text.clear();
                // One very long URL does not leave its buffer behind for good.
                if last.text.capacity() > 4096 {
                    last.text.shrink_to(text.len());
                }
                last.text.push_str(text);
                last.origin_len = origin.len();
                last.url = url.clone();
                last.uri = uri.clone();
            }
            None => {
                *last = Some(Parsed {
                    text: text.into(),
                    origin_len: origin.len(),
                    url: url.clone(),
                    uri: uri.clone(),
                })
            }
        }
        Ok((url, uri))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Parsed>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The request-target URI of `url`, a URL joined onto the one whose URI is `base`: the same
/// scheme and authority (shared, not parsed again) and `url`'s path and query.
fn uri_on_origin(base: &http::Uri, url: &Url) -> Option<http::Uri> {
    let mut parts = http::uri::Parts::default();
    parts.scheme = base.scheme().cloned();
    parts.authority = base.authority().cloned();
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    parts.path_and_query = Some(http::uri::PathAndQuery::try_from(path).ok()?);
    http::Uri::from_parts(parts).ok()
}

/// `("http(s)://authority", "/rest")` when `text` is in the plain form [`UrlCache`] reuses.
fn split_origin(text: &str) -> Option<(&str, &str)> {
    let after = if text.starts_with("http://") {
        7
    } else if text.starts_with("https://") {
        8
    } else {
        return None;
    };
    // By bytes: the delimiters are ASCII, so a match is always at a char boundary.
    let end = after
        + text.as_bytes()[after..]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#' | b'\\'))?;
    let (origin, rest) = text.split_at(end);
    let r = rest.as_bytes();
    let plain = r[0] == b'/'
        && !matches!(r.get(1), Some(b'/' | b'\\'))
        && !r.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'));
    plain.then_some((origin, rest))
}
impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, Error> {
        Ok(self)
    }
}
impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, Error> {
        Ok(self.clone())
    }
}

/// Check what every request URL must be: http(s), with a host.
pub(crate) fn validate_url(url: &Url) -> Result<(), Error> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::builder_msg(format!(
                "unsupported URL scheme {other:?} (only http and https)"
            ))
            .with_url(url))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::builder_msg("URL has no host").with_url(url));
    }
    Ok(())
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
    /// `timeout=(3.05, 27)` is the session's `connect_timeout(3.05 s)` plus
    /// `.read_timeout(27 s)` (the pool's connector sees no request, so the connect limit is the
    /// session's).
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.with(move |p| {
            p.extensions
                .insert(crate::layers::ext::ReadTimeout(timeout));
            Ok(())
        })
    }

    /// HTTP Basic credentials for this request (beat the session's).
    pub fn basic_auth(
        self,
        username: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> Self {
        let value = basic_header(
            &username.to_string(),
            password.map(|p| p.to_string()).as_deref(),
        );
        self.with(|p| {
            p.headers.insert(AUTHORIZATION, value?);
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

pub(crate) fn basic_header(user: &str, password: Option<&str>) -> Result<HeaderValue, Error> {
    let raw = format!("{user}:{}", password.unwrap_or(""));
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).map_err(Error::builder)?;
    value.set_sensitive(true);
    Ok(value)
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
            let user = percent_decode_str(url.username()).decode_utf8_lossy();
            let pass = url
                .password()
                .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned());
            headers.insert(AUTHORIZATION, basic_header(&user, pass.as_deref())?);
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

/// The request-target URI of a URL (the fragment is never sent).
pub(crate) fn uri_of(url: &Url) -> Result<http::Uri, Error> {
    let s = &url[..url::Position::AfterQuery];
    http::Uri::try_from(s).map_err(|e| Error::builder(e).with_url(url))
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

#[cfg(test)]
mod url_cache_tests {
    use super::*;

    /// Every URL parsed through the cache (after priming it with another URL on the same
    /// origin) is exactly what `Url::parse` gives, or fails as it does.
    #[test]
    fn cached_parse_equals_full_parse() {
        let origins = [
            "http://example.com",
            "https://EXAMPLE.com:443",
            "http://u:p%40x@host:8080",
            "http://127.1",
            "http://[::1]:80",
            "https://bücher.example",
            "http://xn--bcher-kva.example",
            "http://host:99999",
            "http://ho\tst",
            "http://a.b.",
        ];
        let rests = [
            "/",
            "/a/b",
            "/a/../b",
            "/%2e%2e/x",
            "/a/./b/.",
            "/ a b",
            "/a?b c#d e",
            "/é?ü#ö",
            "/a\\b",
            "/a//b",
            "/a?x=/\\y",
            "/#frag",
            "/?",
            "/.",
            "/..",
            "/a\u{0}b",
            "/a  ",
            "/x\u{1}",
            "/\t/evil",
            "/a\n/b",
            "/a\"<>`{}|^",
            "/%zz%",
            "/a?'",
            "/a#'",
            "/./../.%2E/x",
            "/\u{3000}",
        ];
        for origin in origins {
            for rest in rests {
                let cache = UrlCache::default();
                // Prime with another URL on the same origin, then parse the one under test.
                let _ = cache.parse(&format!("{origin}/first/path?q=1#f"));
                let text = format!("{origin}{rest}");
                let full = Url::parse(&text).map(|u| u.to_string());
                // Twice: an origin hit (join), then the same text again (the stored parse).
                for _ in 0..2 {
                    let parsed = cache.parse(&text);
                    if let Ok((url, Some(uri))) = &parsed {
                        assert_eq!(uri, &uri_of(url).unwrap(), "{text:?}");
                        assert!(url.username().is_empty() && url.password().is_none());
                    }
                    let cached = parsed.map(|(u, _)| u.to_string());
                    match (&cached, &full) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                        (Err(_), Err(_)) => {}
                        _ => panic!("{text:?}: cached {cached:?}, full {full:?}"),
                    }
                }
            }
        }
    }

    /// The kept text is reused in place, but a very long URL's buffer is not kept for good.
    #[test]
    fn a_long_url_is_not_kept_for_good() {
        let cache = UrlCache::default();
        let long = format!("http://example.com/{}", "a".repeat(100_000));
        cache.parse(&long).unwrap();
        assert!(cache.last.lock().unwrap().as_ref().unwrap().text.capacity() >= 100_000);
        let (url, uri) = cache.parse("http://example.com/short").unwrap();
        assert_eq!(url.as_str(), "http://example.com/short");
        assert_eq!(uri.unwrap(), "http://example.com/short");
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(last.text, "http://example.com/short");
        let capacity = cache.last.lock().unwrap().as_ref().unwrap().text.capacity();
        assert!(capacity <= 4096, "kept {capacity} bytes for a 24-byte URL");
    }

    #[test]
    fn only_plain_same_origin_text_is_reused() {
        assert_eq!(split_origin("http://h:1/a?b"), Some(("http://h:1", "/a?b")));
        assert_eq!(split_origin("https://h/"), Some(("https://h", "/")));
        for text in [
            "http://h",
            "http://h?x",
            "http://h//evil/x",
            "http://h/\\evil",
            "http://h/\t/evil",
            "HTTP://h/x",
            " http://h/x",
            "ftp://h/x",
            "http://h\\x",
        ] {
            assert_eq!(split_origin(text), None, "{text:?}");
        }
        // What is kept: the last plain text, its origin, URL and request-target.
        let cache = UrlCache::default();
        cache.parse("http://example.com/a").unwrap();
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(&last.text[..last.origin_len], "http://example.com");
        let (url, uri) = cache.parse("http://example.com/b?c#f").unwrap();
        assert_eq!(url.as_str(), "http://example.com/b?c#f");
        assert_eq!(uri.unwrap(), "http://example.com/b?c");
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(last.text, "http://example.com/b?c#f");
        cache.parse("http://other.example/").unwrap();
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(&last.text[..last.origin_len], "http://other.example");
        // Credentials: no request-target kept (the facade strips them first).
        let (_, uri) = cache.parse("http://u:p@other.example/x").unwrap();
        assert!(uri.is_none());
        let (_, uri) = cache.parse("http://u:p@other.example/x").unwrap();
        assert!(uri.is_none());
    }
}
