//! In-process test servers on 127.0.0.1: plain HTTP/1.1, TLS (rcgen certificate, ALPN h2 +
//! http/1.1), counting accepted and closed connections.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::routing::any;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// A running server. Dropping it stops accepting (open connections finish on their own).
pub struct TestServer {
    pub addr: SocketAddr,
    pub accepts: Arc<AtomicUsize>,
    pub closes: Arc<AtomicUsize>,
    pub scheme: &'static str,
    /// PEM of the self-signed certificate (TLS servers only).
    pub cert_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn closes(&self) -> usize {
        self.closes.load(Ordering::SeqCst)
    }

    /// Wait (up to `max`) until the server has seen `n` connections close.
    pub async fn wait_closes(&self, n: usize, max: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + max;
        while tokio::time::Instant::now() < deadline {
            if self.closes() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.closes() >= n
    }

    pub async fn http(router: Router) -> TestServer {
        serve(router, None).await
    }

    pub async fn https(router: Router) -> TestServer {
        let (config, cert_pem) = self_signed_config();
        let mut server = TestServer::https_with(router, config).await;
        server.cert_pem = Some(cert_pem);
        server
    }

    /// A TLS server with the caller's rustls configuration (client auth, versions, ...).
    pub async fn https_with(router: Router, config: rustls::ServerConfig) -> TestServer {
        serve(router, Some(Arc::new(config))).await
    }
}

#[path = "../../examples/demo_server/tls.rs"]
mod tls;

/// The ring crypto provider, for server configurations in tests.
pub fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    tls::ring()
}

/// A server configuration with a fresh self-signed certificate for 127.0.0.1 and localhost,
/// ALPN h2 + http/1.1, and that certificate's PEM.
pub fn self_signed_config() -> (rustls::ServerConfig, String) {
    let tls = tls::self_signed();
    (tls.config, tls.cert_pem)
}

async fn serve(router: Router, tls: Option<Arc<rustls::ServerConfig>>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let closes = Arc::new(AtomicUsize::new(0));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (a, c) = (accepts.clone(), closes.clone());
    let task = tokio::spawn(async move {
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            a.fetch_add(1, Ordering::SeqCst);
            let service = TowerToHyperService::new(router.clone());
            let closes = c.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                closes.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    TestServer {
        addr,
        accepts,
        closes,
        scheme,
        cert_pem: None,
        task,
    }
}

/// What an echo endpoint saw.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: String,
}

/// A router whose every path echoes the request as JSON (`Seen`), and records it.
pub fn echo_router(log: Arc<Mutex<Vec<Seen>>>) -> Router {
    Router::new().fallback(any(move |req: Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut headers = BTreeMap::<String, Vec<String>>::new();
            for (k, v) in parts.headers.iter() {
                headers
                    .entry(k.as_str().to_string())
                    .or_default()
                    .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
            }
            let seen = Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            log.lock().unwrap().push(seen.clone());
            axum::Json(seen)
        }
    }))
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// Send a request to an [`echo_router`] server and return what it saw.
pub async fn echo(req: tower_requests::RequestBuilder) -> Seen {
    req.send().await.unwrap().json().await.unwrap()
}

/// A listener that never accepts, its accept queue filled: further SYNs go unanswered, so a
/// connection to it can only time out.
pub async fn unanswered_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            std::time::Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    (listener, fillers)
}
