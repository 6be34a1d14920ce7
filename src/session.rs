//! [`Session`] and [`SessionBuilder`]: the pre-assembled stack, its mount table and handles.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request};
use tower::{Layer, Service};
use url::Url;

use crate::boxed::{box_service, BoxService, BoxServiceFuture};
use crate::client::HttpClientBuilder;
use crate::error::Error;
use crate::layers::headers::SharedHeaders;
use crate::response::BodyLimit;
#[cfg(feature = "rustls")]
use crate::tls::{Certificate, Identity, TlsVersion};
use crate::{Body, BoxError, Response};

/// An HTTP session: cookies kept across requests, session-wide headers and auth, a shared
/// connection pool, retries, timeouts and redirects, as a stack of tower layers.
///
/// `Session` is cheap to clone; clones share the pool, the cookie jar and the configuration.
/// Dropping the last clone closes its pooled connections (Python's `with requests.Session()`).
///
/// ```no_run
/// # async fn run() -> Result<(), tower_requests::Error> {
/// use tower_requests::Session;
///
/// let session = Session::new();
/// let resp = session
///     .post("http://127.0.0.1:8080/login")
///     .form(&[("login_email", "me@example.com"), ("password", "pw")])
///     .send()
///     .await?;
/// println!("login: {}", resp.status());
/// // The cookie the server set is sent automatically:
/// let profile = session.get("http://127.0.0.1:8080/profile").send().await?;
/// println!("{}", profile.text().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    service: crate::stack::Calls,
    url_cache: crate::url_cache::UrlCache,
    #[cfg(feature = "cookies")]
    jar: crate::CookieJar,
    headers: SharedHeaders,
    body_limit: BodyLimit,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// A session with the default stack: pooled client, cookies, redirects (30), default
    /// headers, decompression, proxies from the environment.
    ///
    /// Only the environment can make this configuration invalid (a proxy variable that is set
    /// but unusable): every request of the session then fails with that error, and none goes
    /// out without the proxy. [`SessionBuilder::build`] reports it up front.
    pub fn new() -> Session {
        match Session::builder().build() {
            Ok(session) => session,
            Err(e) => Session::failing(e),
        }
    }

    /// A session whose every request fails with (a copy of) `err`.
    fn failing(err: Error) -> Session {
        let message: Arc<str> = match err.message() {
            Some(message) => message.into(),
            None => format!("{err:#}").into(),
        };
        Session::from_service(tower::service_fn(move |_req: Request<Body>| {
            let err = Error::builder_msg(&*message);
            std::future::ready(Err::<http::Response<Body>, Error>(err))
        }))
    }

    /// Configure a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// A session over any stack you assembled yourself (for example with `ServiceBuilder` and
    /// the layers in [`crate::layers`]).
    ///
    /// The stack is used as it is: the session adds no layer of its own. Its
    /// [`cookies()`](Session::cookies) and [`headers()`](Session::headers) handles are new and
    /// **not connected to your stack** until you hand it the ones your layers use, with
    /// [`with_cookie_jar`](Session::with_cookie_jar) and
    /// [`with_headers`](Session::with_headers).
    pub fn from_service<S, ResB>(service: S) -> Session
    where
        S: Service<Request<Body>, Response = http::Response<ResB>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        ResB: http_body::Body<Data = Bytes> + Send + 'static,
        ResB::Error: Into<BoxError>,
    {
        Session {
            inner: Arc::new(Inner {
                url_cache: Default::default(),
                service: crate::stack::Calls::whole(box_service(service)),
                #[cfg(feature = "cookies")]
                jar: crate::CookieJar::new(),
                headers: SharedHeaders::new(HeaderMap::new()),
                body_limit: BodyLimit::DEFAULT,
            }),
        }
    }

    /// This session with `jar` as its [`cookies()`](Session::cookies) handle: give it the jar
    /// the `CookieLayer` of a stack passed to [`from_service`](Session::from_service) uses, so
    /// that the handle and the stack see the same cookies. Clones of the session made before
    /// keep the handle they had.
    #[cfg(feature = "cookies")]
    pub fn with_cookie_jar(self, jar: crate::CookieJar) -> Session {
        let inner = &self.inner;
        Session {
            inner: Arc::new(Inner {
                service: inner.service.clone(),
                url_cache: Default::default(),
                jar,
                headers: inner.headers.clone(),
                body_limit: inner.body_limit,
            }),
        }
    }

    /// This session with `headers` as its [`headers()`](Session::headers) handle: give it the
    /// handle the `DefaultHeadersLayer` of a stack passed to
    /// [`from_service`](Session::from_service) uses, so that changes through the session reach
    /// the stack. Clones of the session made before keep the handle they had.
    pub fn with_headers(self, headers: SharedHeaders) -> Session {
        let inner = &self.inner;
        Session {
            inner: Arc::new(Inner {
                service: inner.service.clone(),
                url_cache: Default::default(),
                #[cfg(feature = "cookies")]
                jar: inner.jar.clone(),
                headers,
                body_limit: inner.body_limit,
            }),
        }
    }

    /// The session's last parsed URL (see [`UrlCache`](crate::url_cache::UrlCache)).
    pub(crate) fn url_cache(&self) -> &crate::url_cache::UrlCache {
        &self.inner.url_cache
    }

    /// Send a prebuilt request through the stack. Its URI must be absolute `http(s)://`.
    pub async fn execute(&self, req: Request<Body>) -> Result<Response, Error> {
        let url = url_of(req.uri())?;
        self.send(req, Arc::new(url)).await
    }

    pub(crate) async fn send(&self, req: Request<Body>, url: Arc<Url>) -> Result<Response, Error> {
        match self.stack_future(req).await {
            Ok(resp) => Ok(Response::new(resp, url).with_body_limit(self.inner.body_limit)),
            Err(e) => Err(e.with_url(&url)),
        }
    }

    /// The body size limit of this session's responses.
    pub(crate) fn body_limit(&self) -> BodyLimit {
        self.inner.body_limit
    }

    /// The stack's future for `req`, errors typed (without a URL: the caller adds its own).
    pub(crate) fn stack_future(&self, mut req: Request<Body>) -> SessionFuture {
        content_length_of_empty_body(&mut req);
        SessionFuture {
            call: Some(self.call_future(req)),
            url: None,
            error: None,
        }
    }

    /// The stack's future for one call (inside the call's span with the `tracing` feature).
    fn call_future(&self, req: Request<Body>) -> CallFuture {
        let service = self.inner.service.for_request(&req);
        #[cfg(feature = "tracing")]
        {
            let mut req = req;
            let span = crate::trace::call_span(&mut req);
            tracing::Instrument::instrument(service.call_shared(req), span)
        }
        #[cfg(not(feature = "tracing"))]
        service.call_shared(req)
    }

    /// The session's cookie jar (a shared handle: changes are seen by the session at once).
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> &crate::CookieJar {
        &self.inner.jar
    }

    /// The session's default headers, changeable at runtime (requests' `session.headers`):
    /// `session.headers().insert(name, value)`, `.remove(&name)`, `.get(&name)`.
    pub fn headers(&self) -> &SharedHeaders {
        &self.inner.headers
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// `Content-Length: 0` on a POST, PUT or PATCH whose body is known to be empty (and that sets
/// no length or transfer coding of its own), as requests sends it: RFC 9110 §8.6 says a client
/// should, as these methods are expected to carry a body, and some servers answer
/// `411 Length Required` without it. hyper sends no length for an empty body.
fn content_length_of_empty_body(req: &mut Request<Body>) {
    use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    let expects_body = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    if expects_body
        && req.body().as_bytes().is_some_and(<[u8]>::is_empty)
        && !req.headers().contains_key(CONTENT_LENGTH)
        && !req.headers().contains_key(TRANSFER_ENCODING)
    {
        req.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
}

fn url_of(uri: &http::Uri) -> Result<Url, Error> {
    let url = crate::layers::origin::to_url(uri).ok_or_else(|| {
        Error::builder_msg(format!(
            "request URI must be absolute http(s)://host/...: {}",
            crate::layers::redact::uri(uri)
        ))
    })?;
    crate::url_cache::validate_url(&url)?;
    Ok(url)
}

/// `Session` is itself a `tower::Service`, so it can be layered further or mounted in another
/// session.
impl Service<Request<Body>> for Session {
    type Response = http::Response<Body>;
    type Error = Error;
    type Future = SessionFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> SessionFuture {
        match url_of(req.uri()) {
            Ok(url) => SessionFuture {
                call: Some(self.call_future(req)),
                url: Some(url),
                error: None,
            },
            Err(e) => SessionFuture {
                call: None,
                url: None,
                error: Some(e),
            },
        }
    }
}

#[cfg(feature = "tracing")]
type CallFuture = tracing::instrument::Instrumented<BoxServiceFuture>;
#[cfg(not(feature = "tracing"))]
type CallFuture = BoxServiceFuture;

pin_project_lite::pin_project! {
    /// Response future of [`Session`] used as a `tower::Service`.
    pub struct SessionFuture {
        #[pin]
        call: Option<CallFuture>,
        url: Option<Url>,
        error: Option<Error>,
    }
}

impl Future for SessionFuture {
    type Output = Result<http::Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.call.as_pin_mut() {
            Some(mut call) => match call.as_mut().poll(cx) {
                Poll::Ready(Ok(resp)) => {
                    #[cfg(feature = "tracing")]
                    call.span().record("status", resp.status().as_u16());
                    Poll::Ready(Ok(resp))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(Error::from_service(e, this.url.as_ref()))),
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Ready(Err(this.error.take().unwrap_or_else(|| {
                Error::builder_msg("SessionFuture polled after completion")
            }))),
        }
    }
}

type LayerFn = Box<dyn FnOnce(BoxService) -> BoxService + Send>;

/// Configuration for a [`Session`]; see [`Session::builder`].
///
/// Session-wide settings apply to every request; a request can still override them (see
/// [`RequestBuilder`](crate::RequestBuilder)). Here against a small server started in the example (hidden lines):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{http::HeaderMap, routing::get, Router};
/// # let app = Router::new().route("/headers", get(|h: HeaderMap| async move {
/// #     let get = |n: &str| h.get(n).map_or("-", |v| v.to_str().unwrap()).to_string();
/// #     format!("{} | {}", get("user-agent"), get("authorization"))
/// # }));
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let base = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, app).await });
/// use std::time::Duration;
/// use tower_requests::{Retry, Session};
///
/// let session = Session::builder()
///     .default_header("user-agent", "MyApp/1.0")
///     .bearer_auth("t0ken")
///     .retry(Retry::new().total(3).backoff_factor(0.5).status_forcelist([502, 503, 504]))
///     .timeout(Duration::from_secs(30))
///     .build()?;
///
/// // `base` is the test server's address, `http://127.0.0.1:<port>`.
/// let seen = session.get(format!("{base}/headers")).send().await?.text().await?;
/// assert_eq!(seen, "MyApp/1.0 | Bearer t0ken");
/// # Ok(()) }
/// ```
#[must_use]
pub struct SessionBuilder {
    error: Option<Error>,
    client: HttpClientBuilder,
    headers: HeaderMap,
    auth: Option<crate::layers::auth::AuthLayer>,
    retry: crate::Retry,
    timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    max_redirects: usize,
    follow_redirects: bool,
    redirect_policy: Option<crate::stack::DynPolicy>,
    #[cfg(feature = "cookies")]
    cookie_jar: Option<crate::CookieJar>,
    #[cfg(feature = "cookies")]
    cookie_store: bool,
    layers: Vec<LayerFn>,
    mounts: Vec<(String, BoxService)>,
    body_limit: BodyLimit,
    request_hooks: Vec<crate::hooks::RequestHook>,
    response_hooks: Vec<crate::hooks::ResponseHook>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("timeout", &self.timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_redirects", &self.max_redirects)
            .field("follow_redirects", &self.follow_redirects)
            .finish_non_exhaustive()
    }
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

/// The layers crate's defaults, plus the encodings the decompression layer can decode (as a
/// session default, so `default_header(ACCEPT_ENCODING, ..)` replaces it).
fn session_default_headers() -> HeaderMap {
    #[allow(unused_mut)]
    let mut headers = crate::layers::headers::default_headers();
    #[cfg(any(
        feature = "gzip",
        feature = "brotli",
        feature = "zstd",
        feature = "deflate"
    ))]
    headers.insert(
        http::header::ACCEPT_ENCODING,
        crate::stack::accept_encoding(),
    );
    headers
}

impl SessionBuilder {
    /// The defaults: `User-Agent: tower-requests/<version>`, `Accept: */*`, a fresh cookie jar,
    /// 30 redirects, no timeout, and no retries beyond the one silent resend of a request that
    /// never reached the server or hit a stale keep-alive connection (see [`Retry`](crate::Retry)).
    pub fn new() -> SessionBuilder {
        SessionBuilder {
            error: None,
            client: HttpClientBuilder::default(),
            headers: session_default_headers(),
            auth: None,
            retry: crate::Retry::disabled(),
            timeout: None,
            attempt_timeout: None,
            max_redirects: 30,
            follow_redirects: true,
            redirect_policy: None,
            #[cfg(feature = "cookies")]
            cookie_jar: None,
            #[cfg(feature = "cookies")]
            cookie_store: true,
            layers: Vec::new(),
            mounts: Vec::new(),
            body_limit: BodyLimit::DEFAULT,
            request_hooks: Vec::new(),
            response_hooks: Vec::new(),
        }
    }

    fn fail(mut self, e: Error) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// A session-wide default header (replaces the built-in default of the same name).
    pub fn default_header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = match HeaderName::try_from(name) {
            Ok(n) => n,
            Err(e) => return self.fail(Error::builder(e.into())),
        };
        match HeaderValue::try_from(value) {
            Ok(v) => {
                self.headers.insert(name, v);
                self
            }
            Err(e) => self.fail(Error::builder(e.into())),
        }
    }

    /// Session-wide default headers (each replaces the built-in default of the same name).
    pub fn default_headers(mut self, headers: HeaderMap) -> Self {
        for name in headers.keys() {
            self.headers.remove(name);
        }
        for (name, value) in headers.iter() {
            self.headers.append(name.clone(), value.clone());
        }
        self
    }

    /// HTTP Basic credentials for every request (`session.auth = (user, pass)`), sent only to
    /// the origin each call starts at, never across a redirect to another origin.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some(crate::layers::auth::AuthLayer::basic(
            username.into(),
            password.into(),
        ));
        self
    }

    /// A Bearer token for every request (origin-scoped like [`SessionBuilder::basic_auth`]).
    /// A token that cannot be sent in a header (CR, LF or another control character) makes
    /// [`build`](SessionBuilder::build) fail, as [`RequestBuilder::bearer_auth`](crate::RequestBuilder::bearer_auth) makes `send` fail.
    pub fn bearer_auth(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        // The token itself stays out of the message.
        if HeaderValue::try_from(format!("Bearer {token}")).is_err() {
            return self.fail(Error::builder_msg(
                "invalid bearer token: it contains a character a header cannot carry \
                 (CR, LF or another control character)",
            ));
        }
        self.auth = Some(crate::layers::auth::AuthLayer::bearer(token));
        self
    }

    /// Any auth layer: Digest (`AuthLayer::digest`) or your own scheme (`AuthLayer::custom`).
    pub fn auth(mut self, auth: crate::layers::auth::AuthLayer) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The retry policy (urllib3's `Retry`). Default: no retries, except the one silent retry
    /// of a request that hit a pooled connection the server had already closed.
    pub fn retry(mut self, retry: crate::Retry) -> Self {
        self.retry = retry;
        self
    }

    /// A limit for each whole call: redirects, retries, backoff sleeps and reading the body.
    /// A request's own [`RequestBuilder::timeout`](crate::RequestBuilder::timeout) replaces it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A limit for each attempt (until the response head, and between body chunks).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// A limit for establishing each TCP connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.client = self.client.connect_timeout(timeout);
        self
    }

    /// The most bytes [`Response::bytes`], [`Response::text`] and [`Response::json`] read, counted
    /// after decompression; `None` for no limit. A longer body fails with an
    /// [`Error::is_body`] error that names the limit, after reading no more than the limit (a
    /// small compressed body that would inflate to gigabytes stops there).
    ///
    /// The default is 10 MiB ([`DEFAULT_MAX_BODY_SIZE`](crate::DEFAULT_MAX_BODY_SIZE)), as
    /// ureq's `read_to_*`: these three hold the whole body in memory, so without a limit one
    /// response (or a gzip bomb) can take all of it; 10 MiB is far above what an API answers
    /// in one document and still small for a process. Read larger bodies with
    /// [`Response::bytes_stream`], which has no limit unless one is set here or with
    /// [`RequestBuilder::max_body_size`](crate::RequestBuilder::max_body_size); or raise the limit.
    pub fn max_body_size(mut self, max: impl Into<Option<usize>>) -> Self {
        self.body_limit = BodyLimit::set(max.into());
        self
    }

    /// Follow at most `max` redirects (default 30), then fail with [`Error::is_redirect`].
    /// Independent of [`redirects`](Self::redirects), in either order: with redirects off, it
    /// is the limit for a request that turns them on
    /// ([`RequestBuilder::redirects`](crate::RequestBuilder::redirects)).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// `false`: return 3xx responses as they are instead of following them (default `true`).
    /// The limit set with [`max_redirects`](Self::max_redirects) is kept either way.
    pub fn redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// Ask `policy` about each redirect: whether to follow it, and whether the request's
    /// credentials go along (see [`layers::redirect::policy`](crate::layers::redirect::policy):
    /// same-origin only, a closure, combinations with `and`/`or`). The default is requests'
    /// policy. The limit ([`max_redirects`](Self::max_redirects)) and requests' method and
    /// body rules hold whatever the policy is.
    ///
    /// ```
    /// use tower_requests::layers::redirect::policy::{Limited, PolicyExt, SameOrigin};
    /// use tower_requests::Session;
    ///
    /// // Follow redirects on the same origin only, and at most 5 of them: past that, the 3xx
    /// // is the answer (`max_redirects` would make it an error).
    /// let session = Session::builder().redirect_policy(SameOrigin.and(Limited(5))).build()?;
    /// # Ok::<(), tower_requests::Error>(())
    /// ```
    pub fn redirect_policy<P>(mut self, policy: P) -> Self
    where
        P: crate::layers::redirect::Policy + Send + Sync + 'static,
    {
        self.redirect_policy = Some(Arc::new(policy));
        self
    }

    /// Use (and share) this cookie jar instead of a fresh one.
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(mut self, jar: crate::CookieJar) -> Self {
        self.cookie_jar = Some(jar);
        self.cookie_store = true;
        self
    }

    /// `false`: no cookie handling at all.
    #[cfg(feature = "cookies")]
    pub fn cookie_store(mut self, enabled: bool) -> Self {
        self.cookie_store = enabled;
        self
    }

    /// Send matching requests through this proxy (requests' `session.proxies`); several may be
    /// added, the first whose scheme rule covers a URL decides. See [`Proxy`](crate::Proxy).
    pub fn proxy(mut self, proxy: crate::Proxy) -> Self {
        self.client = self.client.proxy(proxy);
        self
    }

    /// Read `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` when the session is built
    /// (default true, like requests). Explicit [`proxy`](SessionBuilder::proxy) settings win.
    pub fn trust_env(mut self, trust: bool) -> Self {
        self.client = self.client.trust_env(trust);
        self
    }

    /// Take the proxy environment from these `(name, value)` pairs instead of the process
    /// environment.
    pub fn proxy_env_from<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.client = self.client.proxy_env_from(vars);
        self
    }

    /// Trust this root certificate in addition to the built-in roots.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.client = self.client.add_root_certificate(cert);
        self
    }

    /// Trust only the added root certificates, not the built-in ones.
    #[cfg(feature = "rustls")]
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.client = self.client.tls_built_in_root_certs(enabled);
        self
    }

    /// Accept any server certificate. Dangerous; for tests only.
    #[cfg(feature = "rustls")]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.client = self.client.danger_accept_invalid_certs(accept);
        self
    }

    /// Present this client certificate (mutual TLS).
    #[cfg(feature = "rustls")]
    pub fn identity(mut self, identity: Identity) -> Self {
        self.client = self.client.identity(identity);
        self
    }

    /// The lowest TLS version to accept (default TLS 1.2).
    #[cfg(feature = "rustls")]
    pub fn min_tls_version(mut self, version: TlsVersion) -> Self {
        self.client = self.client.min_tls_version(version);
        self
    }

    /// Connect to `addr` instead of looking `host` up: a DNS override per host, as curl's
    /// `--resolve` and reqwest's `resolve`. A port in the URL wins over the port of `addr`;
    /// port `0` means the scheme's default. Through an http(s) proxy the override applies to
    /// the proxy's host, not the target's; the TLS server name stays the URL's host. An empty
    /// host or an IP address makes [`build`](Self::build) fail with [`Error::is_builder`]. See
    /// [`HttpClientBuilder::resolve`] for the details.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// # use axum::{http::HeaderMap, routing::get, Router};
    /// # let app = Router::new().route("/", get(|h: HeaderMap| async move {
    /// #     h["host"].to_str().unwrap().to_string()
    /// # }));
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?;
    /// # tokio::spawn(async move { axum::serve(listener, app).await });
    /// use tower_requests::Session;
    ///
    /// // `addr` is a test server's address, 127.0.0.1:<port>.
    /// let session = Session::builder().resolve("api.example.test", addr).build()?;
    /// let seen = session.get("http://api.example.test/").send().await?.text().await?;
    /// assert_eq!(seen, "api.example.test"); // the Host header is the URL's
    /// # Ok(()) }
    /// ```
    pub fn resolve(mut self, host: &str, addr: std::net::SocketAddr) -> Self {
        self.client = self.client.resolve(host, addr);
        self
    }

    /// Like [`resolve`](Self::resolve), with several addresses; see
    /// [`HttpClientBuilder::resolve_to_addrs`].
    pub fn resolve_to_addrs(mut self, host: &str, addrs: &[std::net::SocketAddr]) -> Self {
        self.client = self.client.resolve_to_addrs(host, addrs);
        self
    }

    /// Bind outgoing connections to this local address (only addresses of its family are then
    /// tried); see [`HttpClientBuilder::local_address`], and its type's docs for how several
    /// addresses of a host are tried (happy eyeballs).
    pub fn local_address(mut self, addr: impl Into<Option<std::net::IpAddr>>) -> Self {
        self.client = self.client.local_address(addr);
        self
    }

    /// Only HTTP/1.1, also over TLS.
    pub fn http1_only(mut self) -> Self {
        self.client = self.client.http1_only();
        self
    }

    /// Pool, TLS and proxy settings given as one [`HttpClientBuilder`] (the same settings the
    /// shortcuts on this builder set, such as [`pool_max_idle`](Self::pool_max_idle) or
    /// [`proxy`](Self::proxy)). It replaces what those shortcuts set before it; shortcuts
    /// called after it change it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_requests::{HttpClientBuilder, Session};
    ///
    /// let client = HttpClientBuilder::default()
    ///     .pool_max_per_host(8)
    ///     .pool_idle_timeout(Duration::from_secs(30))
    ///     .connect_timeout(Duration::from_secs(3));
    /// let session = Session::builder().client(client).trust_env(false).build()?;
    /// # let _ = session;
    /// # Ok::<(), tower_requests::Error>(())
    /// ```
    pub fn client(mut self, client: HttpClientBuilder) -> Self {
        self.client = client;
        self
    }

    /// The most connections open to one host at once, idle ones included; more requests wait
    /// for a free one (default: no limit). See [`HttpClientBuilder::pool_max_per_host`].
    pub fn pool_max_per_host(mut self, max: usize) -> Self {
        self.client = self.client.pool_max_per_host(max);
        self
    }

    /// The most idle connections kept over all hosts (default
    /// [`DEFAULT_POOL_MAX_IDLE`](crate::DEFAULT_POOL_MAX_IDLE)); past it the one idle the
    /// longest is closed. See [`HttpClientBuilder::pool_max_idle`].
    pub fn pool_max_idle(mut self, max: usize) -> Self {
        self.client = self.client.pool_max_idle(max);
        self
    }

    /// Most idle connections kept per host (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.client = self.client.pool_max_idle_per_host(max);
        self
    }

    /// How long an idle pooled connection is kept (default 90 s).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.client = self.client.pool_idle_timeout(timeout);
        self
    }

    /// Your own layer, placed just above the client and any mounted transports (under retries
    /// and timeouts, so it sees every attempt). Layers added later sit above earlier ones.
    pub fn layer<L, S>(mut self, layer: L) -> Self
    where
        L: Layer<BoxService, Service = S> + Send + 'static,
        S: Service<Request<Body>, Response = http::Response<Body>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |inner: BoxService| {
            box_service(layer.layer(inner))
        }));
        self
    }

    /// Call `hook` on each request before it goes out, with its method, URI, headers and
    /// extensions to read or change (requests has no request hook; this is the counterpart of
    /// [`on_response`](Self::on_response)). Hooks run in the order they were added.
    ///
    /// It is thin sugar over tower's `map_request`, placed in the stack under the redirect,
    /// auth and cookie layers and above the retry layer: the hook sees each redirect hop (and
    /// the answer to an auth challenge) with its `Cookie` and `Authorization` headers in, once
    /// per hop; a retried attempt is the same request again and does not call it again. For a
    /// layer that sees every attempt, use [`layer`](Self::layer). The cookies and credentials
    /// were chosen for the URI before the hook ran: a hook that changes the URI does not change
    /// them.
    ///
    /// ```
    /// use tower_requests::http::HeaderValue;
    /// use tower_requests::Session;
    ///
    /// let session = Session::builder()
    ///     .on_request(|parts| {
    ///         parts.headers.insert("x-request-source", HeaderValue::from_static("batch"));
    ///     })
    ///     .build()?;
    /// # let _ = session;
    /// # Ok::<(), tower_requests::Error>(())
    /// ```
    pub fn on_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut http::request::Parts) + Send + Sync + 'static,
    {
        self.request_hooks.push(std::sync::Arc::new(hook));
        self
    }

    /// Call `hook` on the head (status, headers, extensions) of each response, requests'
    /// `hooks={'response': f}`. Hooks run in the order they were added.
    ///
    /// It is thin sugar over tower's `map_response`, at the same place in the stack as
    /// [`on_request`](Self::on_request): as in requests, the hook sees the response of each
    /// redirect hop (the 3xx, then the next hop's response) but not the responses of retried
    /// attempts, only the last attempt's (urllib3 retries inside requests' transport). It also
    /// sees the `401` of an auth challenge that the auth layer answers (Digest), before the
    /// answer's response. A call that ends in an error (a timeout, retries exhausted) calls it
    /// for no response.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use tower_requests::Session;
    ///
    /// let server_errors = Arc::new(AtomicUsize::new(0));
    /// let count = server_errors.clone();
    /// let session = Session::builder()
    ///     .on_response(move |head| {
    ///         if head.status.is_server_error() {
    ///             count.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     })
    ///     .build()?;
    /// # let _ = session;
    /// # Ok::<(), tower_requests::Error>(())
    /// ```
    pub fn on_response<F>(mut self, hook: F) -> Self
    where
        F: Fn(&http::response::Parts) + Send + Sync + 'static,
    {
        self.response_hooks.push(std::sync::Arc::new(hook));
        self
    }

    /// Send requests whose URL starts with `prefix` (case-insensitive) to `service` instead of
    /// the pooled client; the longest matching prefix wins (requests' `mount`). As in requests,
    /// the mounted service replaces the *transport*: the session's layers (cookies, headers,
    /// auth, redirects, retries, timeouts, your own layers) still run above it, and each
    /// redirect hop is routed again. Mounting the same prefix again replaces the earlier service.
    pub fn mount<S, ResB>(mut self, prefix: impl Into<String>, service: S) -> Self
    where
        S: Service<Request<Body>, Response = http::Response<ResB>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        ResB: http_body::Body<Data = Bytes> + Send + 'static,
        ResB::Error: Into<BoxError>,
    {
        let prefix = prefix.into();
        self.mounts
            .retain(|(p, _)| !p.eq_ignore_ascii_case(&prefix));
        self.mounts.push((prefix, box_service(service)));
        self
    }

    /// Build the session. Fails with [`Error::is_builder`] on any invalid setting given above.
    pub fn build(self) -> Result<Session, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let client = BoxService::client(self.client.build()?);
        let mut base = crate::stack::mount_router(client, self.mounts);
        for layer in self.layers {
            base = layer(base);
        }
        let headers = SharedHeaders::new(self.headers);
        #[cfg(feature = "cookies")]
        let jar = self.cookie_jar.unwrap_or_default();
        let stack = crate::stack::Stack {
            headers: headers.clone(),
            auth: self.auth,
            retry: self.retry,
            timeout: self.timeout,
            attempt_timeout: self.attempt_timeout,
            max_redirects: self.max_redirects,
            follow_redirects: self.follow_redirects,
            redirect_policy: self.redirect_policy,
            #[cfg(feature = "cookies")]
            jar: self.cookie_store.then(|| jar.clone()),
            hooks: crate::hooks::Hooks {
                request: self.request_hooks.into(),
                response: self.response_hooks.into(),
            },
        };
        let service = stack.build(base);
        Ok(Session {
            inner: Arc::new(Inner {
                url_cache: Default::default(),
                service,
                #[cfg(feature = "cookies")]
                jar,
                headers,
                body_limit: self.body_limit,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_session_fails_every_request_with_the_build_error() {
        // What Session::new() returns when the environment holds an unusable proxy (the process
        // environment is not changed here: other tests read it).
        let err = Session::builder()
            .proxy_env_from([("HTTPS_PROXY", "u:s3cret@[bad")])
            .build()
            .unwrap_err();
        let session = Session::failing(err);
        for _ in 0..2 {
            let err = session.get("http://127.0.0.1:1/").send().await.unwrap_err();
            assert!(err.is_builder(), "{err:?}");
            assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
            assert!(!format!("{err:#} {err:?}").contains("s3cret"), "{err:?}");
        }
    }
}
