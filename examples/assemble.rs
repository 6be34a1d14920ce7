//! Interop (b): assemble your own session. Our `CookieLayer` and `RetryLayer` stacked with
//! tower-http's `TraceLayer` and `DecompressionLayer` and tower's `RateLimitLayer`, over a raw
//! hyper-util client, then wrapped in the facade with `Session::from_service`.
//! `cargo run --example assemble` (in-process upstream on 127.0.0.1).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::DecompressionLayer;
use tower_http::trace::TraceLayer;
use tower_requests::layers::cookie::CookieLayer;
use tower_requests::layers::retry::RetryLayer;
use tower_requests::{Body, CookieJar, Retry, Session};

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Requests per window the rate limiter lets through.
pub const RATE: u64 = 5;

/// What the upstream saw, for the test.
#[derive(Debug, Default)]
pub struct Outcome {
    pub cookie_accepted: bool,
    pub flaky_status: u16,
    pub flaky_hits: usize,
    pub gzip_decoded: bool,
    pub arrived_in_first_window: usize,
    pub arrived_in_total: usize,
}

/// The upstream: sets a cookie, checks it, fails once, answers gzip, counts burst hits.
pub fn upstream(flaky: Arc<AtomicUsize>, burst: Arc<AtomicUsize>) -> Router {
    let text = "compressible text ".repeat(200);
    Router::new()
        .route(
            "/login",
            get(|| async { ([(header::SET_COOKIE, "token=abc; Path=/")], "ok") }),
        )
        .route(
            "/private",
            get(|h: HeaderMap| async move {
                let ok = h
                    .get(header::COOKIE)
                    .is_some_and(|c| c.to_str().unwrap_or("").contains("token=abc"));
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }),
        )
        .route(
            "/flaky",
            get(move || {
                let n = flaky.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        )
        .route(
            "/gzip",
            get(move || {
                let text = text.clone();
                async move { ([(header::CONTENT_TYPE, "text/plain")], text).into_response() }
            })
            .layer(CompressionLayer::new()),
        )
        .route(
            "/burst",
            get(move || {
                burst.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
}

async fn serve(router: Router) -> Result<SocketAddr, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// The hand-assembled session.
pub fn assembled(jar: CookieJar) -> Session {
    let raw: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let stack = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(DecompressionLayer::new())
        .layer(CookieLayer::new(jar))
        .layer(RetryLayer::new(
            Retry::new().total(2).status_forcelist([503]),
        ))
        // RateLimit is not Clone: a Buffer in front makes it shareable by every clone.
        .buffer(64)
        .rate_limit(RATE, Duration::from_millis(800))
        .service(raw);
    Session::from_service(stack)
}

/// Run the scenario against an in-process upstream.
pub async fn run() -> Result<Outcome, BoxError> {
    let flaky = Arc::new(AtomicUsize::new(0));
    let burst = Arc::new(AtomicUsize::new(0));
    let base = format!(
        "http://{}",
        serve(upstream(flaky.clone(), burst.clone())).await?
    );
    let jar = CookieJar::new();
    let session = assembled(jar.clone());
    let mut out = Outcome::default();

    // A burst of 2×RATE requests: only RATE reach the upstream in the first window.
    let calls: Vec<_> = (0..2 * RATE)
        .map(|_| {
            let s = session.clone();
            let url = format!("{base}/burst");
            tokio::spawn(async move { s.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    out.arrived_in_first_window = burst.load(Ordering::SeqCst);
    for call in calls {
        call.await??;
    }
    out.arrived_in_total = burst.load(Ordering::SeqCst);
    println!(
        "rate limit: {} of {} arrived in the first window, {} in all",
        out.arrived_in_first_window,
        2 * RATE,
        out.arrived_in_total
    );

    session.get(format!("{base}/login")).send().await?;
    let private = session.get(format!("{base}/private")).send().await?;
    out.cookie_accepted = private.status() == 200;
    println!(
        "cookie jar: {:?}, /private -> {}",
        jar.get_dict(),
        private.status()
    );

    let resp = session.get(format!("{base}/flaky")).send().await?;
    out.flaky_status = resp.status().as_u16();
    out.flaky_hits = flaky.load(Ordering::SeqCst);
    println!("flaky: {} after {} hits", out.flaky_status, out.flaky_hits);

    let text = session
        .get(format!("{base}/gzip"))
        .send()
        .await?
        .text()
        .await?;
    out.gzip_decoded = text == "compressible text ".repeat(200);
    println!("gzip body decoded: {}", out.gzip_decoded);
    Ok(out)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
