//! [`HttpClient`]: the bottom of every stack, a pooled hyper-util client with rustls.
//!
//! HTTP/1.1 and HTTP/2 (negotiated by ALPN over TLS), keep-alive pooling per
//! (scheme, host, port), TCP_NODELAY, a connect timeout, and a TLS configuration shared by the
//! whole process unless the builder customises it. Cloning an `HttpClient` shares its pool; the
//! pool (and every idle connection in it) is closed when the last clone is dropped.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::PROXY_AUTHORIZATION;
use http::{Request, Response, StatusCode};
#[cfg(feature = "rustls")]
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower::Service;

use crate::build_error::BuildError;
use crate::connect::{self, ProxyError};
use crate::delivery::{IdleCap, IdleOnEnd, TrackedConnector};
use crate::forward::{ForwardFuture, Forwarder};
use crate::limit::HostLimit;
use crate::proxy::{Proxy, ProxyEnv, ProxyRules};
use crate::resolve::{Overrides, Resolver, TcpConnector};
#[cfg(feature = "rustls")]
use crate::tls::{Certificate, Identity, TlsOptions, TlsVersion};
use crate::{Body, BoxError};

#[cfg(feature = "rustls")]
type Connector = TrackedConnector<HttpsConnector<connect::Connector>>;
/// Without a TLS feature the connector refuses `https://` targets itself.
#[cfg(not(feature = "rustls"))]
type Connector = TrackedConnector<connect::Connector>;

/// A pooled HTTP/1.1 + HTTP/2 client: `tower::Service<http::Request<Body>>`.
///
/// Requests must carry an absolute `http://` or `https://` URI.
///
/// With `tower` (feature `util`) for `ServiceExt::oneshot`:
///
/// ```no_run
/// # async fn run() -> Result<(), tower_requests::BoxError> {
/// use tower::ServiceExt;
/// use tower_requests::http::Request;
/// use tower_requests::{Body, HttpClient};
///
/// let client = HttpClient::new();
/// let req = Request::get("http://127.0.0.1:8080/").body(Body::empty())?;
/// let resp = client.oneshot(req).await?;
/// println!("{}", resp.status());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<Connector, Body>,
    proxies: Arc<ProxyRules>,
    /// Plain-http requests through a forward proxy: pooled per proxy, not per target.
    forward: Forwarder,
    /// `pool_max_idle` is on: responses tell their connection when they are read to the end.
    idle_cap: bool,
    /// Why every request fails: the environment's proxy settings are unusable, and
    /// [`HttpClient::new`] (which cannot return an error) made this client anyway.
    refused: Option<Arc<str>>,
}

/// The default of [`HttpClientBuilder::pool_max_idle`]: idle connections kept over all hosts.
/// Enough for a client that talks to dozens of hosts at once; a crawler visiting thousands
/// keeps no more than this many sockets idle (each one a file descriptor here and a slot on a
/// server) instead of one per host for the idle timeout.
pub const DEFAULT_POOL_MAX_IDLE: usize = 100;

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client with default settings (shared TLS roots, 90 s idle timeout, no connect timeout).
    ///
    /// Only the environment can make this configuration invalid (a proxy variable that is set
    /// but unusable): every request of the client then fails with that error, and none goes
    /// out without the proxy. [`HttpClientBuilder::build`] reports it up front.
    pub fn new() -> HttpClient {
        Self::or_refusing(HttpClient::builder())
    }

    /// `builder`'s client, or, when its settings are unusable, a client that refuses every
    /// request with the reason.
    fn or_refusing(builder: HttpClientBuilder) -> HttpClient {
        match builder.build() {
            Ok(client) => client,
            Err(e) => {
                let reason: Arc<str> = match e.message() {
                    Some(message) => message.into(),
                    None => format!("{e:#}").into(),
                };
                // Without the environment the default settings have nothing left to refuse
                // (built-in roots, no proxy, no overrides).
                let mut client = HttpClient::builder()
                    .trust_env(false)
                    .build()
                    .expect("the default settings without the environment are valid");
                client.refused = Some(reason);
                client
            }
        }
    }

    /// Configure a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }
}

/// Settings for an [`HttpClient`]; the session builder forwards its pool, TLS and connection
/// settings here.
///
/// # Connecting: happy eyeballs
///
/// What the connector (hyper-util's `HttpConnector`) does with a host's addresses:
///
/// - A host that is an IP address is connected to as it is. A host name is looked up with the
///   system resolver (`getaddrinfo`, on tokio's blocking pool), in the order it answers, unless
///   [`resolve`](Self::resolve) gave its addresses (then in the order given).
/// - The addresses are split by family: those of the first address's family (IPv6 or IPv4) are
///   preferred, the others are the fallback. Preferred addresses are tried one at a time, in
///   order. If the host has addresses of both families and no preferred one has connected
///   within **300 ms**, the fallback family is tried too, in parallel (RFC 6555, "happy
///   eyeballs"), also one address at a time; the first connection made wins and the other
///   attempt is dropped. If every preferred address fails before the 300 ms, the fallback
///   starts at once. When all fail, the error is that of the first address tried in the family
///   that gave up last.
/// - A [`connect_timeout`](Self::connect_timeout) is shared out evenly between the addresses of
///   each family (two addresses get half of it each).
/// - With a [`local_address`](Self::local_address), only addresses of its family are tried,
///   with no fallback.
#[derive(Clone, Debug)]
pub struct HttpClientBuilder {
    #[cfg(feature = "rustls")]
    pub(crate) tls: TlsOptions,
    pool_max_idle_per_host: usize,
    pool_max_per_host: Option<usize>,
    pool_max_idle: usize,
    pool_idle_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    nodelay: bool,
    http2_only: bool,
    proxies: Vec<Proxy>,
    trust_env: bool,
    proxy_env: Option<ProxyEnv>,
    /// `resolve` entries, checked by `build`.
    dns_overrides: Vec<(String, Vec<SocketAddr>)>,
    local_address: Option<IpAddr>,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        HttpClientBuilder {
            #[cfg(feature = "rustls")]
            tls: TlsOptions::default(),
            pool_max_idle_per_host: usize::MAX,
            pool_max_per_host: None,
            pool_max_idle: DEFAULT_POOL_MAX_IDLE,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            connect_timeout: None,
            nodelay: true,
            http2_only: false,
            proxies: Vec::new(),
            trust_env: true,
            proxy_env: None,
            dns_overrides: Vec::new(),
            local_address: None,
        }
    }
}

impl HttpClientBuilder {
    /// Trust this root certificate in addition to the built-in roots.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.tls.extra_roots.push(cert);
        self
    }

    /// Do not trust the built-in (webpki + native) roots; only the added ones.
    #[cfg(feature = "rustls")]
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.tls.builtin_roots_off = !enabled;
        self
    }

    /// Accept any server certificate, even expired, self-signed or for another name.
    ///
    /// Dangerous: anyone on the path can read and change the traffic. For tests only.
    #[cfg(feature = "rustls")]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.danger_accept_invalid_certs = accept;
        self
    }

    /// Present this client certificate (mutual TLS).
    #[cfg(feature = "rustls")]
    pub fn identity(mut self, identity: Identity) -> Self {
        self.tls.identity = Some(identity);
        self
    }

    /// The lowest TLS version to accept (default: TLS 1.2).
    #[cfg(feature = "rustls")]
    pub fn min_tls_version(mut self, version: TlsVersion) -> Self {
        self.tls.min_version = Some(version);
        self
    }

    /// Only offer HTTP/1.1 in ALPN.
    #[allow(unused_mut)]
    pub fn http1_only(mut self) -> Self {
        #[cfg(feature = "rustls")]
        {
            self.tls.http1_only = true;
        }
        self
    }

    /// Speak HTTP/2 without negotiation (prior knowledge), also over plain http (h2c).
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2_only = true;
        self
    }

    /// Most idle connections kept per host (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// The most connections open to one host (scheme, host and port; a forward proxy counts as
    /// the host of the plain-http requests sent through it) at once, idle ones included.
    /// Requests beyond it wait for one of those connections to be free (default: no limit).
    /// `0` is taken as `1`.
    pub fn pool_max_per_host(mut self, max: usize) -> Self {
        self.pool_max_per_host = Some(max);
        self
    }

    /// The most idle connections kept over all hosts (default [`DEFAULT_POOL_MAX_IDLE`]); past
    /// it, the connection idle the longest is closed. `usize::MAX` keeps them all (hyper-util's
    /// own behaviour). Plain-http requests through a forward proxy keep their idle connections
    /// to the proxy apart, bounded by [`pool_max_idle_per_host`](Self::pool_max_idle_per_host).
    pub fn pool_max_idle(mut self, max: usize) -> Self {
        self.pool_max_idle = max;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s; `None` keeps them until closed).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// Limit on establishing the TCP connection (per address tried).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// TCP_NODELAY on new connections (default on).
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.nodelay = enabled;
        self
    }

    /// Send matching requests through this proxy (several may be added; the first whose scheme
    /// rule covers a URL decides). See [`Proxy`].
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxies.push(proxy);
        self
    }

    /// Read `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (default: yes, like
    /// requests). Explicit proxies always win over the environment.
    pub fn trust_env(mut self, trust: bool) -> Self {
        self.trust_env = trust;
        self
    }

    /// Use these `(name, value)` pairs as the proxy environment instead of the process
    /// environment (for configuration files, and for tests that must not touch global state).
    pub fn proxy_env_from<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.proxy_env = Some(ProxyEnv::from_pairs(vars));
        self
    }

    /// Connect to `addr` instead of looking `host` up (curl's `--resolve`, reqwest's
    /// `resolve`). `host` is a host name as written in URLs (any case, IDNA allowed; not an IP
    /// address, which is never looked up); a later call for the same host replaces the earlier
    /// one.
    ///
    /// **The port:** a port written in the URL always wins; otherwise the port of `addr`, unless
    /// it is `0`, which means the scheme's default (80 or 443). (As in reqwest. A URL that spells
    /// out its scheme's default port, `http://host:80/`, counts as having none: URLs drop it.)
    ///
    /// **What it applies to:** the host a TCP connection is opened to. Through an http(s) proxy
    /// that is the proxy's host (the proxy resolves the target, so an override for the target
    /// does not apply); through a `socks5://` proxy, which resolves the target here, the
    /// override applies to the target too; a `socks5h://` proxy resolves the target itself.
    ///
    /// **TLS:** the server name sent (SNI) and checked against the certificate stays the URL's
    /// host, not the address: `https://api.example.test/` resolved to `127.0.0.1` still needs a
    /// certificate for `api.example.test`.
    ///
    /// An empty host, an IP address, or a host name with a port or invalid characters makes
    /// [`build`](Self::build) fail with a [`BuildError`].
    pub fn resolve(self, host: &str, addr: SocketAddr) -> Self {
        self.resolve_to_addrs(host, &[addr])
    }

    /// Like [`resolve`](Self::resolve), with several addresses, tried as the system resolver's
    /// answers are (see [happy eyeballs](Self#connecting-happy-eyeballs)). No address at all
    /// makes [`build`](Self::build) fail.
    pub fn resolve_to_addrs(mut self, host: &str, addrs: &[SocketAddr]) -> Self {
        self.dns_overrides.push((host.to_string(), addrs.to_vec()));
        self
    }

    /// Bind each outgoing connection to this local address (the port is chosen by the system),
    /// to pick the interface or source address connections leave from. Only addresses of the
    /// same family as `addr` are then tried: with an IPv4 address, a host that resolves to
    /// IPv6 addresses only cannot be reached. `None` (the default) leaves it to the system.
    pub fn local_address(mut self, addr: impl Into<Option<IpAddr>>) -> Self {
        self.local_address = addr.into();
        self
    }

    /// Build the client. Fails on an invalid TLS configuration, an invalid
    /// [`resolve`](Self::resolve) entry, and on a proxy variable of the environment that is set
    /// but unusable (the error names it).
    pub fn build(self) -> Result<HttpClient, BuildError> {
        #[cfg(feature = "rustls")]
        let tls = self.tls.client_config()?;
        let overrides = Overrides::new(&self.dns_overrides)?;
        let mut http = TcpConnector::new_with_resolver(Resolver::new(overrides.clone()));
        http.enforce_http(false);
        http.set_nodelay(self.nodelay);
        http.set_connect_timeout(self.connect_timeout);
        http.set_local_address(self.local_address);
        let env = if self.trust_env {
            Some(self.proxy_env.unwrap_or_else(ProxyEnv::from_process))
        } else {
            None
        };
        let proxies = Arc::new(ProxyRules::new(&self.proxies, env.as_ref())?);
        let limit = self.pool_max_per_host.map(|n| Arc::new(HostLimit::new(n)));
        #[cfg(feature = "rustls")]
        let proxy_tls = connect::proxy_tls(&tls);
        #[cfg(not(feature = "rustls"))]
        let proxy_tls = ();
        let forward = Forwarder::new(
            http.clone(),
            proxy_tls.clone(),
            self.pool_max_idle_per_host,
            self.pool_idle_timeout,
            limit.clone(),
        );
        let connector = connect::Connector::new(http, proxies.clone(), proxy_tls, overrides);
        #[cfg(feature = "rustls")]
        let connector = HttpsConnector::from((connector, tls));
        let idle_cap =
            (self.pool_max_idle != usize::MAX).then(|| Arc::new(IdleCap::new(self.pool_max_idle)));
        let connector = TrackedConnector::new(connector, limit, idle_cap.clone());
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host);
        #[cfg(feature = "http2")]
        builder.http2_only(self.http2_only);
        Ok(HttpClient {
            inner: builder.build(connector),
            proxies,
            forward,
            idle_cap: idle_cap.is_some(),
            refused: None,
        })
    }
}

impl Service<Request<Body>> for HttpClient {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The legacy client is always ready: it queues on its pool.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.send(req)
    }
}

impl HttpClient {
    /// [`Service::call`] without `&mut self`: the pool and the proxy rules are shared, so a
    /// session calls its client without cloning it per request.
    pub(crate) fn send(&self, mut req: Request<Body>) -> ResponseFuture {
        if let Some(reason) = &self.refused {
            return ResponseFuture {
                inner: Inner::Refused {
                    reason: Some(reason.clone()),
                },
            };
        }
        // The request's own connect limit, for a connection made for it (either path).
        let connect_timeout = req
            .extensions()
            .get::<crate::layers::ext::ConnectTimeout>()
            .map(|t| t.0);
        if let Some(proxy) = (!self.proxies.is_empty())
            .then(|| self.proxies.intercept(req.uri()))
            .flatten()
        {
            let http_target = req.uri().scheme_str() == Some("http");
            if http_target && matches!(proxy.uri().scheme_str(), Some("http" | "https")) {
                // Absolute-form request to an http(s) proxy: its credentials go in this
                // request, which only the proxy reads.
                if let Some(auth) = proxy.basic_auth() {
                    req.headers_mut()
                        .entry(PROXY_AUTHORIZATION)
                        .or_insert_with(|| auth.clone());
                }
                return ResponseFuture {
                    inner: Inner::Forwarded {
                        fut: self.forward.send(proxy.uri().clone(), req),
                        connect_timeout,
                    },
                };
            }
            // Tunnelled (CONNECT or SOCKS): the target would read this header.
            req.headers_mut().remove(PROXY_AUTHORIZATION);
        }
        ResponseFuture {
            inner: Inner::Pooled {
                fut: self.inner.request(req),
                idle_cap: self.idle_cap,
                connect_timeout,
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`HttpClient`].
    pub struct ResponseFuture {
        #[pin]
        inner: Inner,
    }
}

pin_project_lite::pin_project! {
    #[project = InnerProj]
    enum Inner {
        Pooled {
            #[pin]
            fut: hyper_util::client::legacy::ResponseFuture,
            idle_cap: bool,
            // The request's own connect limit, seen by the connectors while this is polled.
            connect_timeout: Option<Duration>,
        },
        Forwarded {
            fut: ForwardFuture,
            connect_timeout: Option<Duration>,
        },
        Refused {
            reason: Option<Arc<str>>,
        },
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            InnerProj::Pooled {
                fut,
                idle_cap,
                connect_timeout,
            } => match connect::polled_with(*connect_timeout, || fut.poll(cx)) {
                Poll::Ready(Ok(resp)) if *idle_cap => Poll::Ready(Ok(IdleOnEnd::response(resp))),
                Poll::Ready(Ok(resp)) => Poll::Ready(Ok(resp.map(Body::wrap))),
                Poll::Ready(Err(e)) => Poll::Ready(Err(crate::delivery::tag(e))),
                Poll::Pending => Poll::Pending,
            },
            InnerProj::Forwarded {
                fut,
                connect_timeout,
            } => match connect::polled_with(*connect_timeout, || fut.as_mut().poll(cx)) {
                Poll::Ready(Ok(resp))
                    if resp.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED =>
                {
                    // The proxy refused us, just as a refused CONNECT does: a connect error.
                    Poll::Ready(Err(Box::new(ProxyError::status(resp.status()))))
                }
                Poll::Ready(Ok(resp)) => Poll::Ready(Ok(resp.map(Body::wrap))),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
            InnerProj::Refused { reason } => {
                let reason = reason
                    .take()
                    .unwrap_or_else(|| "polled after completion".into());
                Poll::Ready(Err(Box::new(BuildError::msg(reason.to_string()))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// `HttpClient::new()` cannot return an error: with an unusable proxy variable it makes a
    /// client that refuses every request with the reason, rather than panicking or sending the
    /// request without the proxy.
    #[tokio::test]
    async fn unusable_environment_makes_a_refusing_client_not_a_panic() {
        let builder = HttpClient::builder().proxy_env_from([("HTTP_PROXY", "ftp://proxy.test:21")]);
        assert!(builder.clone().build().is_err());
        let client = HttpClient::or_refusing(builder);
        let req = Request::get("http://127.0.0.1:9/")
            .body(Body::empty())
            .unwrap();
        let err = client.clone().oneshot(req).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("HTTP_PROXY"), "{text}");
        assert!(err.is::<BuildError>(), "{err:?}");
        // Through a session, the same reason.
        let session = crate::Session::from_service(client);
        let err = session.get("http://127.0.0.1:9/").send().await.unwrap_err();
        assert!(format!("{err:#}").contains("HTTP_PROXY"), "{err:#}");
        assert!(err.is_builder() && !err.is_connect(), "{err:?}");
        // Under layers that wrap errors, too.
        let stacked = tower::ServiceBuilder::new()
            .layer(crate::layers::RetryLayer::new(crate::Retry::new().total(2)))
            .service(HttpClient::or_refusing(
                HttpClient::builder().proxy_env_from([("HTTP_PROXY", "ftp://proxy.test:21")]),
            ));
        let err = crate::Session::from_service(stacked)
            .get("http://127.0.0.1:9/")
            .send()
            .await
            .unwrap_err();
        assert!(err.is_builder(), "{err:?}");

        let fine = HttpClient::or_refusing(HttpClient::builder().trust_env(false));
        assert!(fine.refused.is_none());
    }
}
