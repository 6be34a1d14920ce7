//! RateLimitLayer, in-process backend: waits, fails fast, keys (tokio's paused clock: no real
//! time is measured).

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use tokio::time::Instant;
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::ratelimit::{Quota, RateLimitLayer, RateLimited};
use tower_requests_layers::timeout::{Elapsed, TotalTimeoutLayer};
use tower_requests_layers::BoxError;

fn get(uri: &str) -> Request<String> {
    Request::get(uri).body(String::new()).unwrap()
}

/// A client that counts its calls.
fn counting() -> (
    Arc<AtomicUsize>,
    impl Service<
            Request<String>,
            Response = Response<String>,
            Error = Infallible,
            Future = impl Send,
        > + Clone
        + Send,
) {
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    let svc = service_fn(move |_req: Request<String>| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(String::from("ok"))) }
    });
    (n, svc)
}

#[tokio::test(start_paused = true)]
async fn calls_over_the_limit_wait_their_turn_in_order() {
    let (sent, client) = counting();
    let svc = ServiceBuilder::new()
        .layer(RateLimitLayer::new(Quota::per_second(10).unwrap().burst(5)))
        .service(client);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            svc.oneshot(get("http://host.example/")).await.unwrap();
            start.elapsed()
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.unwrap());
    }
    assert_eq!(sent.load(Ordering::SeqCst), 25);
    // 5 at once, then one per 100 ms: the 25th at 2 s.
    assert_eq!(done.iter().filter(|d| d.is_zero()).count(), 5);
    assert_eq!(done.iter().max().copied(), Some(Duration::from_secs(2)));
}

#[tokio::test(start_paused = true)]
async fn fail_fast_gives_a_typed_error_and_sends_nothing() {
    let (sent, client) = counting();
    let mut svc = ServiceBuilder::new()
        .layer(RateLimitLayer::new(Quota::per_second(2).unwrap()).fail_fast())
        .service(client);
    svc.ready()
        .await
        .unwrap()
        .call(get("http://a.example/"))
        .await
        .unwrap();
    let err = svc
        .ready()
        .await
        .unwrap()
        .call(get("http://a.example/"))
        .await
        .unwrap_err();
    let limited = err.downcast_ref::<RateLimited>().expect("RateLimited");
    assert_eq!(limited.key(), "a.example");
    assert_eq!(limited.retry_after(), Duration::from_millis(500));
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    // Another host has its own limit (hosts compared case-insensitively).
    svc.ready()
        .await
        .unwrap()
        .call(get("http://B.example/"))
        .await
        .unwrap();
    assert!(svc
        .ready()
        .await
        .unwrap()
        .call(get("http://b.EXAMPLE/"))
        .await
        .is_err());
    // After the retry-after, it goes.
    tokio::time::sleep(limited.retry_after()).await;
    svc.ready()
        .await
        .unwrap()
        .call(get("http://a.example/"))
        .await
        .unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn max_wait_waits_short_waits_and_refuses_long_ones() {
    let (sent, client) = counting();
    let svc = ServiceBuilder::new()
        .layer(
            RateLimitLayer::new(Quota::per_second(10).unwrap())
                .max_wait(Duration::from_millis(150)),
        )
        .service(client);
    let results: Vec<Result<_, BoxError>> = futures_util::future::join_all(
        (0..4).map(|_| svc.clone().oneshot(get("http://a.example/"))),
    )
    .await;
    // At 0, 100 ms, 200 ms (too long), and the refused one reserved nothing: the 4th is refused
    // too.
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 2, "{results:?}");
    assert_eq!(sent.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_key_function_chooses_the_limit_or_none() {
    let (sent, client) = counting();
    let layer = RateLimitLayer::new(Quota::per_period(1, Duration::from_secs(3600)).unwrap())
        .fail_fast()
        .key_fn(|parts| {
            parts
                .headers
                .get("x-account")
                .map(|v| v.to_str().unwrap_or("").to_owned())
        });
    let svc = ServiceBuilder::new().layer(layer).service(client);
    let with = |account: &str, host: &str| {
        Request::get(format!("http://{host}/"))
            .header("x-account", account)
            .body(String::new())
            .unwrap()
    };
    assert!(svc.clone().oneshot(with("a", "one.example")).await.is_ok());
    // Same account, another host: same limit.
    assert!(svc.clone().oneshot(with("a", "two.example")).await.is_err());
    assert!(svc.clone().oneshot(with("b", "one.example")).await.is_ok());
    // No key: not limited.
    for _ in 0..3 {
        assert!(svc
            .clone()
            .oneshot(get("http://one.example/"))
            .await
            .is_ok());
    }
    assert_eq!(sent.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn the_wait_counts_against_the_total_timeout() {
    let (sent, client) = counting();
    let svc = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_millis(250)))
        .layer(RateLimitLayer::new(Quota::per_second(2).unwrap()))
        .service(client);
    svc.clone().oneshot(get("http://a.example/")).await.unwrap();
    // The next slot is 500 ms away: the 250 ms total limit runs out while waiting.
    let err = svc
        .clone()
        .oneshot(get("http://a.example/"))
        .await
        .unwrap_err();
    let elapsed = err.downcast_ref::<Elapsed>().expect("a total timeout");
    assert!(elapsed.is_total());
    assert_eq!(sent.load(Ordering::SeqCst), 1);
}
