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

/// The upstream: verifies signature and nonce freshness; `/flaky` answers 503 once.
pub fn upstream(attempts: Arc<AtomicUsize>) -> Router {
    let seen_nonces = Arc::new(Mutex::new(HashSet::new()));
    Router::new().fallback(any(move |req: Request| {
        let seen_nonces = seen_nonces.clone();
        let attempts = attempts.clone();
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
            if nonce.is_empty() || sig != expected {
                return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
            }
            if !seen_nonces.lock().unwrap().insert(nonce) {
                return (StatusCode::UNAUTHORIZED, "replayed nonce").into_response();
            }
            if parts.uri.path() == "/flaky" && attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            (StatusCode::OK, "verified").into_response()
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

/// Statuses: (signed POST, unsigned POST, forged key, signed flaky GET after retry) and how
/// often `/flaky` was hit.
pub async fn run() -> Result<(u16, u16, u16, u16, usize), BoxError> {
    let attempts = Arc::new(AtomicUsize::new(0));
    let base = format!("http://{}", serve(upstream(attempts.clone())).await?);
    let signed = Session::builder()
        .retry(Retry::new().total(2).status_forcelist([503]))
        .layer(SignLayer::new(KEY))
        .build()?;
    let plain = Session::new();
    let forged = Session::builder()
        .layer(SignLayer::new(b"wrong key"))
        .build()?;

    let ok = signed
        .post(format!("{base}/orders?id=7"))
        .body("{\"qty\":2}")
        .send()
        .await?;
    let unsigned = plain
        .post(format!("{base}/orders?id=7"))
        .body("{\"qty\":2}")
        .send()
        .await?;
    let bad = forged
        .post(format!("{base}/orders?id=7"))
        .body("{\"qty\":2}")
        .send()
        .await?;
    let flaky = signed.get(format!("{base}/flaky")).send().await?;
    let result = (
        ok.status().as_u16(),
        unsigned.status().as_u16(),
        bad.status().as_u16(),
        flaky.status().as_u16(),
        attempts.load(Ordering::SeqCst),
    );
    println!(
        "signed: {}, unsigned: {}, wrong key: {}, flaky (re-signed on retry): {} after {} hits",
        result.0, result.1, result.2, result.3, result.4
    );
    Ok(result)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
