//! A retry backoff from tokio-retry's strategies instead of urllib3's formula: exponential sleeps
//! with jitter, three retries at most, against a small in-process server that answers 503
//! twice before it recovers. `cargo run --example backoff`
//!
//! Needs `tokio-retry` besides tower-requests and tokio.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio_retry::strategy::{jitter, ExponentialBackoff};
use tower_requests::{Retry, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // 503, 503, then 200.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/flaky",
        get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy")
                } else {
                    (StatusCode::OK, "done")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/flaky", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // tokio-retry's strategy is an Iterator<Item = Duration>: 50 ms, 100 ms, 200 ms (each with
    // jitter), then it runs out and the retries stop.
    let session = Session::builder()
        .trust_env(false)
        .retry(
            Retry::new()
                .total(10)
                .status_forcelist([503])
                .backoff_strategy(|| {
                    ExponentialBackoff::from_millis(2)
                        .factor(25)
                        .map(jitter)
                        .take(3)
                }),
        )
        .build()?;

    let start = Instant::now();
    let resp = session.get(&url).send().await?;
    println!(
        "{} after {} attempts in {:?}: {}",
        resp.status(),
        hits.load(Ordering::SeqCst),
        start.elapsed(),
        resp.text().await?
    );
    Ok(())
}
