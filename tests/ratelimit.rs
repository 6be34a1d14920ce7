//! RateLimitLayer in a Session (added with `SessionBuilder::layer`): each retried attempt
//! counts, a refused call is `is_rate_limited()` with its retry-after, and the wait counts
//! against the session's total timeout.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use support::TestServer;
use tower_requests::layers::ratelimit::{Quota, RateLimitLayer};
use tower_requests::{Retry, Session};

/// `/flaky` answers 503 to its first call, then 200; `/ok` always 200.
async fn server(hits: Arc<AtomicUsize>) -> TestServer {
    let flaky = hits.clone();
    TestServer::http(
        Router::new()
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
                "/ok",
                get(move || {
                    hits.fetch_add(1, Ordering::SeqCst);
                    async { StatusCode::OK }
                }),
            ),
    )
    .await
}

#[tokio::test]
async fn every_attempt_counts_and_a_refused_call_is_typed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = server(hits.clone()).await;
    // Two calls per hour: the 503 and its retry take both.
    let quota = Quota::per_period(1, Duration::from_secs(3600))
        .unwrap()
        .burst(2);
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .backoff_factor(0.0)
                .status_forcelist([503]),
        )
        .layer(RateLimitLayer::new(quota).fail_fast())
        .build()
        .unwrap();
    let resp = session.get(server.url("/flaky")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let err = session.get(server.url("/ok")).send().await.unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
    assert!(!err.is_timeout());
    let after = err.retry_after().expect("a retry-after");
    assert!(after > Duration::from_secs(3500), "{after:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "a refused call is not sent");
}

#[tokio::test]
async fn the_wait_counts_against_the_total_timeout() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = server(hits.clone()).await;
    let session = Session::builder()
        .timeout(Duration::from_millis(200))
        .layer(RateLimitLayer::new(
            Quota::per_period(1, Duration::from_secs(3600)).unwrap(),
        ))
        .build()
        .unwrap();
    session.get(server.url("/ok")).send().await.unwrap();
    let err = session.get(server.url("/ok")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.is_rate_limited());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
