//! The connector under the pooled client: direct TCP, or through a proxy (absolute-form to an
//! http/https proxy, a `CONNECT` tunnel for https targets, SOCKS5 / SOCKS5h). TLS to the target
//! is added above this by hyper-rustls, so it runs end to end through any tunnel.
//!
//! The pool is per client and a client's proxy rules are fixed when it is built, so a pooled
//! connection is always for one (proxy, target) pair and never shared across proxy credentials.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, StatusCode, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
#[cfg(feature = "rustls")]
use rustls::pki_types::ServerName;
#[cfg(feature = "rustls")]
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tower::Service;

use crate::proxy::ProxyRules;
use crate::resolve::{Overrides, TcpConnector};
use crate::BoxError;

/// A proxy refused or failed: its status (when it answered) and what happened.
#[derive(Debug)]
pub struct ProxyError {
    status: Option<StatusCode>,
    message: String,
    source: Option<BoxError>,
}

impl ProxyError {
    fn new(message: impl Into<String>) -> ProxyError {
        ProxyError {
            status: None,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn status(status: StatusCode) -> ProxyError {
        let hint = if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            " (missing or wrong proxy credentials)"
        } else {
            ""
        };
        ProxyError {
            status: Some(status),
            message: format!("proxy answered {status}{hint}"),
            source: None,
        }
    }

    pub(crate) fn with_message(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ProxyError::new(message).with_source(source)
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> ProxyError {
        self.source = Some(source.into());
        self
    }

    /// The status the proxy answered with, if it answered.
    pub fn proxy_status(&self) -> Option<StatusCode> {
        self.status
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Connects to targets, through a proxy where the rules say so.
#[derive(Clone)]
pub(crate) struct Connector {
    http: TcpConnector,
    rules: Arc<ProxyRules>,
    /// TLS for `https://` proxies (HTTP/1.1 only: CONNECT and forwarding are HTTP/1.1).
    proxy_tls: ProxyTls,
    /// The resolver's overrides, for `socks5://` proxies, which resolve the target here but
    /// not through `http`'s resolver.
    overrides: Overrides,
}

impl Connector {
    /// Without a TLS feature (`proxy_tls` is `()`), `https://` targets and proxies are refused.
    pub(crate) fn new(
        http: TcpConnector,
        rules: Arc<ProxyRules>,
        proxy_tls: ProxyTls,
        overrides: Overrides,
    ) -> Self {
        Connector {
            http,
            rules,
            proxy_tls,
            overrides,
        }
    }
}

tokio::task_local! {
    /// The connect limit of the request whose future is being polled (its
    /// `RequestBuilder::connect_timeout`).
    static CONNECT_LIMIT: Duration;
}

/// Runs `poll` (one poll of a request's future) with the request's connect limit visible to
/// the connectors it calls: hyper-util's client asks its connector for a connection while the
/// request's future is polled, and a connector has no other way to see the request.
pub(crate) fn polled_with<R>(limit: Option<Duration>, poll: impl FnOnce() -> R) -> R {
    match limit {
        Some(limit) => CONNECT_LIMIT.sync_scope(limit, poll),
        None => poll(),
    }
}

/// The connect limit of the request being polled, if it set one (read when a connection is
/// asked for: the connection may finish in the background after the request went elsewhere).
pub(crate) fn connect_limit() -> Option<Duration> {
    CONNECT_LIMIT.try_with(|limit| *limit).ok()
}

/// `connecting`, failed with a timed-out I/O error once `limit` has passed.
pub(crate) async fn within<T, E: Into<BoxError>>(
    limit: Option<Duration>,
    connecting: impl Future<Output = Result<T, E>>,
) -> Result<T, BoxError> {
    let Some(limit) = limit else {
        return connecting.await.map_err(Into::into);
    };
    match tokio::time::timeout(limit, connecting).await {
        Ok(done) => done.map_err(Into::into),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("connect timed out after {limit:?} (the request's connect_timeout)"),
        )
        .into()),
    }
}

/// The TLS configuration for `https://` proxies: the client's, offering HTTP/1.1 only (CONNECT
/// and forwarding are HTTP/1.1).
#[cfg(feature = "rustls")]
pub(crate) fn proxy_tls(tls: &Arc<ClientConfig>) -> ProxyTls {
    crate::tls::proxy_config(tls, |tls| {
        let mut proxy_tls = tls.clone();
        proxy_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        proxy_tls
    })
}

/// TLS for `https://` proxies: none without a TLS feature.
#[cfg(not(feature = "rustls"))]
pub(crate) type ProxyTls = ();
/// TLS for `https://` proxies.
#[cfg(feature = "rustls")]
pub(crate) type ProxyTls = Arc<ClientConfig>;

type ConnectFuture = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = ConnectFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> ConnectFuture {
        #[cfg(not(feature = "rustls"))]
        if dst.scheme_str() == Some("https") {
            return Box::pin(async { Err(no_tls().into()) });
        }
        let mut http = self.http.clone();
        let proxy = if self.rules.is_empty() {
            None
        } else {
            self.rules.intercept(&dst)
        };
        let Some(proxy) = proxy else {
            return Box::pin(async move {
                let tcp = http.call(dst).await?;
                Ok(Conn::new(Stream::Tcp(tcp.into_inner())))
            });
        };
        let proxy_uri = proxy.uri().clone();
        match proxy_uri.scheme_str() {
            Some("socks5") | Some("socks5h") => socks(http, proxy, dst, &self.overrides),
            _ => {
                #[allow(clippy::clone_on_copy, clippy::let_unit_value)]
                let tls = self.proxy_tls.clone();
                let auth = proxy.basic_auth().cloned();
                // Only tunnels get here: plain-http requests to an http(s) proxy go in absolute
                // form through the client's forward pool (crate::forward), pooled per proxy.
                Box::pin(async move {
                    let mut stream = connect_proxy(&mut http, &proxy_uri, tls).await?;
                    tunnel(&mut stream, &dst, auth.as_ref()).await?;
                    Ok(Conn::new(stream))
                })
            }
        }
    }
}

/// The error for `https://` without a TLS feature.
#[cfg(not(feature = "rustls"))]
fn no_tls() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "https:// needs TLS: enable the `rustls` feature of tower-requests",
    )
}

pub(crate) async fn connect_proxy(
    http: &mut TcpConnector,
    proxy: &Uri,
    tls: ProxyTls,
) -> Result<Stream, BoxError> {
    let tcp = http
        .call(proxy.clone())
        .await
        .map_err(|e| ProxyError::new(format!("cannot reach proxy {proxy}")).with_source(e))?
        .into_inner();
    if proxy.scheme_str() != Some("https") {
        return Ok(Stream::Tcp(tcp));
    }
    tls_to_proxy(proxy, tcp, tls).await
}

#[cfg(not(feature = "rustls"))]
async fn tls_to_proxy(proxy: &Uri, _tcp: TcpStream, _tls: ()) -> Result<Stream, BoxError> {
    Err(ProxyError::new(format!("cannot use proxy {proxy}"))
        .with_source(no_tls())
        .into())
}

#[cfg(feature = "rustls")]
async fn tls_to_proxy(
    proxy: &Uri,
    tcp: TcpStream,
    tls: Arc<ClientConfig>,
) -> Result<Stream, BoxError> {
    let host = proxy
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let name = ServerName::try_from(host)
        .map_err(|e| ProxyError::new("invalid proxy host name").with_source(e))?;
    let tls = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| ProxyError::new(format!("TLS to proxy {proxy} failed")).with_source(e))?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// The `CONNECT` handshake. Written here rather than using hyper-util's `Tunnel` because that
/// one reports every refusal but 407 as "unsuccessful": users need the proxy's status.
async fn tunnel(
    stream: &mut Stream,
    dst: &Uri,
    auth: Option<&HeaderValue>,
) -> Result<(), ProxyError> {
    let host = dst
        .host()
        .ok_or_else(|| ProxyError::new("CONNECT target has no host"))?;
    let port = dst.port_u16().unwrap_or(443);
    let mut req = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(auth) = auth {
        req.extend_from_slice(b"Proxy-Authorization: ");
        req.extend_from_slice(auth.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let io_err =
        |e: io::Error| ProxyError::new("proxy connection failed during CONNECT").with_source(e);
    stream.write_all(&req).await.map_err(io_err)?;
    stream.flush().await.map_err(io_err)?;

    // Read the answer one chunk at a time until the end of its head (8 KiB at most).
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    loop {
        let n = stream.read(&mut buf[len..]).await.map_err(io_err)?;
        if n == 0 {
            return Err(ProxyError::new(
                "proxy closed the connection during CONNECT",
            ));
        }
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(_)) => {
                let code = resp.code.unwrap_or(0);
                return match StatusCode::from_u16(code) {
                    Ok(s) if s.is_success() => Ok(()),
                    Ok(s) => Err(ProxyError::status(s)),
                    Err(_) => Err(ProxyError::new("proxy sent an invalid status")),
                };
            }
            Ok(httparse::Status::Partial) if len == buf.len() => {
                return Err(ProxyError::new("proxy response head too long"));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => {
                return Err(
                    ProxyError::new("proxy sent an invalid response to CONNECT").with_source(e)
                )
            }
        }
    }
}

#[cfg(feature = "socks")]
fn socks(
    http: TcpConnector,
    proxy: hyper_util::client::proxy::matcher::Intercept,
    dst: Uri,
    overrides: &Overrides,
) -> ConnectFuture {
    use hyper_util::client::legacy::connect::proxy::SocksV5;
    let uri = proxy.uri();
    // socks5 = resolve the target here; socks5h = let the proxy resolve it.
    let local_dns = uri.scheme_str() == Some("socks5");
    let proxy_uri = with_default_port(uri, 1080);
    let mut connector = SocksV5::new(proxy_uri, http).local_dns(local_dns);
    if let Some((user, pass)) = proxy.raw_auth() {
        connector = connector.with_auth(user.to_string(), pass.to_string());
    }
    let explicit_port = dst.port_u16().is_some();
    // hyper-util's SOCKS connector defaults a port-less target to 443 even for http: make the
    // port explicit.
    let default = if dst.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let mut dst = with_default_port(&dst, default);
    if local_dns {
        // hyper-util's SOCKS connector looks the target up with the system resolver, not ours:
        // an override is applied here, by giving the connector the address (with the port
        // rule of the direct path: the URL's port, else the override's, else the default).
        if let Some(uri) = overridden(&dst, explicit_port, overrides) {
            dst = uri;
        }
    }
    Box::pin(async move {
        let tcp = connector
            .call(dst)
            .await
            .map_err(|e| ProxyError::new(format!("SOCKS5 proxy failed: {e}")))?;
        Ok(Conn::new(Stream::Tcp(tcp.into_inner())))
    })
}

#[cfg(not(feature = "socks"))]
fn socks(
    _http: TcpConnector,
    _proxy: hyper_util::client::proxy::matcher::Intercept,
    _dst: Uri,
    _overrides: &Overrides,
) -> ConnectFuture {
    // Proxy URLs are validated when built: socks schemes are refused without the feature.
    Box::pin(async { Err(ProxyError::new("SOCKS proxies need the `socks` feature").into()) })
}

/// `dst` with its host replaced by the first address overriding it, if there is one.
#[cfg(feature = "socks")]
fn overridden(dst: &Uri, explicit_port: bool, overrides: &Overrides) -> Option<Uri> {
    let addr = *overrides.get(dst.host()?)?.first()?;
    let port = match (explicit_port, addr.port()) {
        (false, port) if port != 0 => port,
        _ => dst.port_u16()?,
    };
    let scheme = dst.scheme_str().unwrap_or("http");
    let target = std::net::SocketAddr::new(addr.ip(), port);
    format!("{scheme}://{target}/").parse().ok()
}

#[cfg(feature = "socks")]
fn with_default_port(uri: &Uri, port: u16) -> Uri {
    if uri.port_u16().is_some() {
        return uri.clone();
    }
    let host = uri.host().unwrap_or_default();
    let scheme = uri.scheme_str().unwrap_or("http");
    format!("{scheme}://{host}:{port}/")
        .parse()
        .unwrap_or_else(|_| uri.clone())
}

/// A connection: TCP to the target, or a tunnel (TCP or TLS to a proxy) to it.
pub(crate) struct Conn {
    io: TokioIo<Stream>,
}

impl Conn {
    fn new(stream: Stream) -> Conn {
        Conn {
            io: TokioIo::new(stream),
        }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

pub(crate) enum Stream {
    Tcp(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}
