//! Interop (c): your own layer as an adapter, plugged in with `SessionBuilder::layer`: HMAC-SHA256
//! request signing. The layer sits under the session's retry layer, so every attempt gets a fresh
//! nonce and signature; the upstream rejects unsigned, forged and replayed requests.
//! `cargo run --example signing` (in-process upstream on 127.0.0.1).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::any;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower::{Layer, Service};
use tower_requests::http::Method;
use tower_requests::{Body, Retry, Session};

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const KEY: &[u8] = b"shared secret between client and upstream";

/// `hex(HMAC-SHA256(key, method \n path?query \n nonce \n body))`.
pub fn signature(key: &[u8], method: &str, target: &str, nonce: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in [method.as_bytes(), target.as_bytes(), nonce.as_bytes()] {
        mac.update(part);
        mac.update(b"\n");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Signs every request passing through (a streaming body is signed as empty and the upstream
/// will refuse it: sign buffered bodies only).
#[derive(Clone)]
pub struct SignLayer {
    key: Arc<[u8]>,
    nonce: Arc<AtomicU64>,
}

impl SignLayer {
    /// A signer with this key.
    pub fn new(key: &[u8]) -> SignLayer {
        SignLayer {
            key: key.into(),
            nonce: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = Sign<S>;
    fn layer(&self, inner: S) -> Sign<S> {
        Sign {
            inner,
            signer: self.clone(),
        }
    }
}

/// The service of [`SignLayer`].
#[derive(Clone)]
pub struct Sign<S> {
    inner: S,
    signer: SignLayer,
}

impl<S> Service<http::Request<Body>> for Sign<S>
where
    S: Service<http::Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> S::Future {
        let nonce = self.signer.nonce.fetch_add(1, Ordering::SeqCst).to_string();
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let body = req.body().as_bytes().unwrap_or_default().to_vec();
        let sig = signature(
            &self.signer.key,
            req.method().as_str(),
            &target,
            &nonce,
            &body,
        );
        let headers = req.headers_mut();
        headers.insert("x-nonce", nonce.parse().expect("digits"));
        headers.insert("x-signature", sig.parse().expect("hex"));
        self.inner.call(req)
    }
}

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method and path.
    pub target: String,
    /// The `x-nonce` header.
    pub nonce: String,
    /// The status the upstream answered.
    pub status: u16,
}

/// Everything the upstream saw, in order.
pub type UpstreamLog = Arc<Mutex<Vec<Seen>>>;

/// The upstream: verifies signature and nonce freshness (401 otherwise); `/flaky` answers 503
/// to its first correctly signed request.
pub fn upstream(log: UpstreamLog) -> Router {
    let seen_nonces = Arc::new(Mutex::new(HashSet::new()));
    let flaky_hits = Arc::new(AtomicUsize::new(0));
    Router::new().fallback(any(move |req: Request| {
        let seen_nonces = seen_nonces.clone();
        let flaky_hits = flaky_hits.clone();
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body: Bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let header = |n: &str| {
                parts
                    .headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let (nonce, sig) = (header("x-nonce"), header("x-signature"));
            let target = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let expected = signature(KEY, parts.method.as_str(), target, &nonce, &body);
            // unsigned, wrong key, tampered, or a replayed nonce
            let valid = !nonce.is_empty()
                && sig == expected
                && seen_nonces.lock().unwrap().insert(nonce.clone());
            let status = if !valid {
                StatusCode::UNAUTHORIZED
            } else if parts.uri.path() == "/flaky" && flaky_hits.fetch_add(1, Ordering::SeqCst) == 0
            {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            log.lock().unwrap().push(Seen {
                target: format!("{} {target}", parts.method),
                nonce,
                status: status.as_u16(),
            });
            status.into_response()
        }
    }))
}

async fn serve(router: Router) -> Result<SocketAddr, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Signed POST.
    pub signed: u16,
    /// The same POST through a plain `Session`.
    pub unsigned: u16,
    /// Signed with the wrong key.
    pub forged: u16,
    /// Signed POST to `/flaky` (503 once, retried by the session's retry layer).
    pub flaky: u16,
    /// Everything the upstream saw.
    pub seen: Vec<Seen>,
}

/// Run the scenario against an in-process upstream.
pub async fn run() -> Result<Outcome, BoxError> {
    let log = UpstreamLog::default();
    let base = format!("http://{}", serve(upstream(log.clone())).await?);
    println!("upstream on {base} (verifies x-signature = HMAC-SHA256(method, path, nonce, body))");
    let retry = Retry::new()
        .total(2)
        .status_forcelist([503])
        .allowed_methods([Method::GET, Method::POST]);
    let signed = Session::builder()
        .retry(retry)
        .layer(SignLayer::new(KEY))
        .build()?;
    let plain = Session::new();
    let forged = Session::builder()
        .layer(SignLayer::new(b"wrong key"))
        .build()?;

    let order = |s: &Session, path: &str| {
        s.post(format!("{base}{path}?id=7"))
            .body("{\"qty\":2}")
            .send()
    };
    let outcome = Outcome {
        signed: order(&signed, "/orders").await?.status().as_u16(),
        unsigned: order(&plain, "/orders").await?.status().as_u16(),
        forged: order(&forged, "/orders").await?.status().as_u16(),
        flaky: order(&signed, "/flaky").await?.status().as_u16(),
        seen: log.lock().unwrap().clone(),
    };
    println!("signed POST /orders -> {}", outcome.signed);
    println!(
        "unsigned POST /orders (plain Session) -> {}",
        outcome.unsigned
    );
    println!(
        "POST /orders signed with the wrong key -> {}",
        outcome.forged
    );
    println!(
        "signed POST /flaky -> {} (503 first, retried)",
        outcome.flaky
    );
    for s in &outcome.seen {
        println!(
            "  upstream saw {} nonce={:?} -> {}",
            s.target, s.nonce, s.status
        );
    }
    Ok(outcome)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
