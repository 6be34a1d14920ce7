//! [`Session`] and [`SessionBuilder`] of the blocking API.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use super::runtime::Runtime;
use super::RequestBuilder;
use crate::error::Error;
use crate::request::IntoUrl;

/// A blocking [`crate::Session`]: the same stack (cookies, session headers and auth, pool,
/// retries, timeouts, redirects), driven by a tokio runtime on a thread of its own, so it is
/// called from plain synchronous code.
///
/// Clones share the session and its runtime thread. The thread stops, and is joined, when the
/// last clone and the last [`RequestBuilder`] and [`Response`](super::Response) made from it
/// are dropped; pooled connections close with it.
///
/// Calls made from inside a tokio runtime (an async task, or `spawn_blocking`) fail with an
/// [`Error::is_builder`] error instead of blocking that runtime's thread: use the async
/// [`crate::Session`] there.
#[derive(Clone)]
pub struct Session {
    inner: crate::Session,
    rt: Arc<Runtime>,
}

impl Session {
    /// A session with the default stack (as [`crate::Session::new`]). Fails only when its
    /// runtime thread cannot be started, or the environment holds an unusable proxy setting.
    pub fn new() -> Result<Session, Error> {
        SessionBuilder::new().build()
    }

    /// Configure a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// A blocking session built from an async [`SessionBuilder`](crate::SessionBuilder): every
    /// setting of the async builder, [`layer`](crate::SessionBuilder::layer) and
    /// [`mount`](crate::SessionBuilder::mount) included.
    pub fn from_async_builder(builder: crate::SessionBuilder) -> Result<Session, Error> {
        SessionBuilder::from(builder).build()
    }

    /// Start a request with any method.
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        RequestBuilder::new(self.inner.request(method, url), self.rt.clone())
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

    /// The session's cookie jar (a shared handle, as [`crate::Session::cookies`]).
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> &crate::CookieJar {
        self.inner.cookies()
    }

    /// The session's default headers, changeable at runtime (as [`crate::Session::headers`]).
    pub fn headers(&self) -> &crate::layers::headers::SharedHeaders {
        self.inner.headers()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Session").finish_non_exhaustive()
    }
}

/// Configuration for a blocking [`Session`]: a wrapper over the async
/// [`SessionBuilder`](crate::SessionBuilder) with its common settings; reach the others with
/// [`configure`](Self::configure) or build from an async builder
/// ([`Session::from_async_builder`], `SessionBuilder::from`).
///
/// ```no_run
/// use std::time::Duration;
/// use tower_requests::blocking::Session;
/// use tower_requests::Retry;
///
/// let session = Session::builder()
///     .default_header("user-agent", "MyApp/1.0")
///     .timeout(Duration::from_secs(30))
///     .configure(|b| b.retry(Retry::new().total(3).backoff_factor(0.5)))
///     .build()?;
/// let text = session.get("http://127.0.0.1:8080/").send()?.text()?;
/// # let _ = text;
/// # Ok::<(), tower_requests::Error>(())
/// ```
#[must_use]
#[derive(Debug, Default)]
pub struct SessionBuilder {
    inner: crate::SessionBuilder,
}

impl From<crate::SessionBuilder> for SessionBuilder {
    fn from(inner: crate::SessionBuilder) -> SessionBuilder {
        SessionBuilder { inner }
    }
}

/// Methods that pass their arguments on to the async builder's method of the same name.
macro_rules! delegate {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$attr])*
        pub fn $name(self, $($arg: $ty),*) -> Self {
            SessionBuilder { inner: self.inner.$name($($arg),*) }
        }
    )*};
}

impl SessionBuilder {
    /// The async builder's defaults (see [`crate::SessionBuilder::new`]).
    pub fn new() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// Any setting of the async builder: `f` gets it and returns it changed.
    pub fn configure(
        self,
        f: impl FnOnce(crate::SessionBuilder) -> crate::SessionBuilder,
    ) -> SessionBuilder {
        SessionBuilder {
            inner: f(self.inner),
        }
    }

    /// A session-wide default header (see [`crate::SessionBuilder::default_header`]).
    pub fn default_header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        SessionBuilder {
            inner: self.inner.default_header(name, value),
        }
    }

    /// HTTP Basic credentials for every request (see [`crate::SessionBuilder::basic_auth`]).
    pub fn basic_auth(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        SessionBuilder {
            inner: self.inner.basic_auth(username, password),
        }
    }

    /// A Bearer token for every request (see [`crate::SessionBuilder::bearer_auth`]).
    pub fn bearer_auth(self, token: impl Into<String>) -> Self {
        SessionBuilder {
            inner: self.inner.bearer_auth(token),
        }
    }

    /// The most bytes a body reader takes (see [`crate::SessionBuilder::max_body_size`]).
    pub fn max_body_size(self, max: impl Into<Option<usize>>) -> Self {
        SessionBuilder {
            inner: self.inner.max_body_size(max),
        }
    }

    /// Bind outgoing connections to this address (see [`crate::SessionBuilder::local_address`]).
    pub fn local_address(self, addr: impl Into<Option<IpAddr>>) -> Self {
        SessionBuilder {
            inner: self.inner.local_address(addr),
        }
    }

    delegate! {
        /// Session-wide default headers (see [`crate::SessionBuilder::default_headers`]).
        fn default_headers(headers: HeaderMap);
        /// The retry policy (see [`crate::SessionBuilder::retry`]).
        fn retry(retry: crate::Retry);
        /// A limit for each whole call, reading the body included (see
        /// [`crate::SessionBuilder::timeout`]): with it no call waits longer, whatever the
        /// server does.
        fn timeout(timeout: Duration);
        /// A limit for each attempt (see [`crate::SessionBuilder::attempt_timeout`]).
        fn attempt_timeout(timeout: Duration);
        /// A limit for establishing each connection (see
        /// [`crate::SessionBuilder::connect_timeout`]).
        fn connect_timeout(timeout: Duration);
        /// Follow at most `max` redirects (see [`crate::SessionBuilder::max_redirects`]).
        fn max_redirects(max: usize);
        /// `false`: return 3xx responses as they are (see [`crate::SessionBuilder::redirects`]).
        fn redirects(follow: bool);
        /// Use (and share) this cookie jar (see [`crate::SessionBuilder::cookie_jar`]).
        #[cfg(feature = "cookies")]
        fn cookie_jar(jar: crate::CookieJar);
        /// `false`: no cookie handling (see [`crate::SessionBuilder::cookie_store`]).
        #[cfg(feature = "cookies")]
        fn cookie_store(enabled: bool);
        /// Send matching requests through this proxy (see [`crate::SessionBuilder::proxy`]).
        fn proxy(proxy: crate::Proxy);
        /// Read the proxy environment variables (see [`crate::SessionBuilder::trust_env`]).
        fn trust_env(trust: bool);
        /// Trust this root certificate too (see
        /// [`crate::SessionBuilder::add_root_certificate`]).
        #[cfg(feature = "rustls")]
        fn add_root_certificate(cert: crate::Certificate);
        /// Accept any server certificate; for tests only (see
        /// [`crate::SessionBuilder::danger_accept_invalid_certs`]).
        #[cfg(feature = "rustls")]
        fn danger_accept_invalid_certs(accept: bool);
        /// Present this client certificate (see [`crate::SessionBuilder::identity`]).
        #[cfg(feature = "rustls")]
        fn identity(identity: crate::Identity);
        /// Connect to `addr` instead of looking `host` up (see
        /// [`crate::SessionBuilder::resolve`]).
        fn resolve(host: &str, addr: SocketAddr);
    }

    /// Build the session and start its runtime thread. Fails with [`Error::is_builder`] on an
    /// invalid setting, as the async builder does, or when the thread cannot be started. It
    /// may be called anywhere, inside a tokio runtime too (only the calls that wait may not).
    pub fn build(self) -> Result<Session, Error> {
        let (rt, inner) = Runtime::start(|| self.inner.build())?;
        Ok(Session {
            inner,
            rt: Arc::new(rt),
        })
    }
}
