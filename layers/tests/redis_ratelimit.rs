//! RateLimitLayer over Redis: one limit for several members, and what each `WhenDown` does
//! while redis-server is killed, and after it comes back on the same port (empty).

mod redis_support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use redis_support::RedisServer;
use tower::{service_fn, ServiceExt};
use tower_requests_layers::ratelimit::{
    LimiterUnavailable, Quota, RateLimitLayer, RateLimited, RedisLimiter, WhenDown,
};
use tower_requests_layers::BoxError;

fn get() -> Request<String> {
    Request::get("http://api.example/")
        .body(String::new())
        .unwrap()
}

/// A member: its own connection to Redis, a fail-fast limit of `burst` calls per hour.
fn member(
    redis: &RedisServer,
    name: &str,
    burst: u32,
    when_down: WhenDown,
    sent: Arc<AtomicUsize>,
) -> impl Fn() -> futures_util::future::BoxFuture<'static, Result<(), BoxError>> {
    let quota = Quota::per_period(1, Duration::from_secs(3600))
        .unwrap()
        .burst(burst);
    let limiter = RedisLimiter::new(redis::Client::open(redis.url()).unwrap(), name)
        .unwrap()
        .when_down(when_down)
        .expected_members(2)
        .retry_after_failure(Duration::ZERO);
    let layer = RateLimitLayer::redis(quota, limiter).fail_fast();
    let svc = tower::ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(move |_req: Request<String>| {
            sent.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(String::new())) }
        }));
    move || {
        let svc = svc.clone();
        Box::pin(async move { svc.oneshot(get()).await.map(drop) })
    }
}

async fn count_ok(
    call: &impl Fn() -> futures_util::future::BoxFuture<'static, Result<(), BoxError>>,
    n: usize,
) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        if call().await.is_ok() {
            ok += 1;
        }
    }
    ok
}

#[tokio::test]
async fn members_share_one_limit_and_a_restart_gives_no_second_burst() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let sent = Arc::new(AtomicUsize::new(0));
    let a = member(&redis, "shared", 4, WhenDown::Fallback, sent.clone());
    let b = member(&redis, "shared", 4, WhenDown::Fallback, sent.clone());
    let other = member(&redis, "other", 4, WhenDown::Fallback, sent.clone());
    // A takes 3 of the 4, B gets the last one; the second B call is refused with the typed
    // error and nothing is sent.
    assert_eq!(count_ok(&a, 3).await, 3);
    assert_eq!(count_ok(&b, 1).await, 1);
    let err = b().await.unwrap_err();
    let limited = err.downcast_ref::<RateLimited>().expect("RateLimited");
    assert!(
        limited.retry_after() > Duration::from_secs(3000),
        "{limited:?}"
    );
    assert_eq!(count_ok(&a, 2).await, 0);
    // Another limiter name: another limit.
    assert_eq!(count_ok(&other, 4).await, 4);
    assert_eq!(sent.load(Ordering::SeqCst), 8);
    // Every key carries its limiter's hash tag (one cluster slot per limiter).
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["{other}:rl:api.example", "{shared}:rl:api.example"]);

    // Redis restarts empty: the members remember how full the bucket was.
    redis.stop();
    redis.start_again();
    let mut after = 0;
    for _ in 0..20 {
        // The connection comes back within a few tries.
        after += count_ok(&a, 1).await + count_ok(&b, 1).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(after, 0, "a restart handed out a new burst");
}

#[tokio::test]
async fn when_redis_is_down_each_policy_does_what_it_says() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let sent = Arc::new(AtomicUsize::new(0));
    let open = member(&redis, "open", 4, WhenDown::FailOpen, sent.clone());
    let closed = member(&redis, "closed", 4, WhenDown::FailClosed, sent.clone());
    let fallback = member(&redis, "fallback", 4, WhenDown::Fallback, sent.clone());
    // Up: each works against Redis.
    assert_eq!(count_ok(&open, 1).await, 1);
    assert_eq!(count_ok(&closed, 1).await, 1);
    assert_eq!(count_ok(&fallback, 1).await, 1);

    redis.stop();
    // Fail open: no limit at all.
    assert_eq!(count_ok(&open, 10).await, 10);
    // Fail closed: a typed error, nothing sent.
    let before = sent.load(Ordering::SeqCst);
    let err = closed().await.unwrap_err();
    assert!(err.downcast_ref::<LimiterUnavailable>().is_some(), "{err}");
    assert!(std::error::Error::source(&*err).is_some());
    assert_eq!(sent.load(Ordering::SeqCst), before);
    // Fallback: this process's share (1 per hour / 2 members: one per 2 h), starting empty.
    let err = fallback().await.unwrap_err();
    let limited = err.downcast_ref::<RateLimited>().expect("RateLimited");
    assert!(
        limited.retry_after() > Duration::from_secs(7000),
        "{limited:?}"
    );

    // Back: fail-closed works again once the connection is re-made.
    redis.start_again();
    let mut back = false;
    for _ in 0..100 {
        if closed().await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "the limiter did not reconnect");
}

#[test]
fn names_that_break_the_hash_tag_are_refused() {
    let client = redis::Client::open("redis://127.0.0.1:1/").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    for bad in ["", "a{b", "a}b"] {
        let err = RedisLimiter::new(client.clone(), bad).unwrap_err();
        assert!(err.to_string().contains("invalid Redis name"), "{err}");
    }
    assert!(RedisLimiter::new(client, "fleet:crawler").is_ok());
}

/// Three members (one connection each, `expected_members(3)`) with eight callers each, always
/// waiting for their turn, share 100 calls/s and a burst of 20; they come back from their
/// fallback at different times (pauses of 200, 500 and 800 ms); redis-server is killed and
/// restarted (empty) in the middle. Every call the service saw counts: from the first to the
/// last, at most `rate × time + burst`, as if Redis had never gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_keeps_the_exact_limit_across_a_restart() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    const RATE: u32 = 100;
    const BURST: u32 = 20;
    let quota = Quota::per_second(RATE).unwrap().burst(BURST);
    let seen = Arc::new(std::sync::Mutex::new(Vec::<std::time::Instant>::new()));
    let start = std::time::Instant::now();
    let run_for = Duration::from_millis(2600);
    let mut tasks = Vec::new();
    for pause in [200, 500, 800] {
        let limiter = RedisLimiter::new(redis::Client::open(redis.url()).unwrap(), "fleet")
            .unwrap()
            .expected_members(3)
            .retry_after_failure(Duration::from_millis(pause));
        let seen = seen.clone();
        let svc = tower::ServiceBuilder::new()
            .layer(RateLimitLayer::redis(quota, limiter))
            .service(service_fn(move |_req: Request<String>| {
                seen.lock().unwrap().push(std::time::Instant::now());
                async { Ok::<_, Infallible>(Response::new(String::new())) }
            }));
        for _ in 0..8 {
            let svc = svc.clone();
            tasks.push(tokio::spawn(async move {
                let mut failed = 0;
                while start.elapsed() < run_for {
                    if svc.clone().oneshot(get()).await.is_err() {
                        failed += 1;
                    }
                }
                failed
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    if std::env::var_os("FLEET_NO_RESTART").is_none() {
        redis.stop();
        tokio::time::sleep(Duration::from_millis(200)).await;
        redis.start_again();
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 0, "a call failed");
    }
    let seen = seen.lock().unwrap();
    let window = seen.last().unwrap().duration_since(seen[0]).as_secs_f64();
    // On this process's clock (Redis's is the one the limit keeps to), timing the first and the
    // last call: half a call of give.
    let limit = f64::from(RATE) * window + f64::from(BURST) + 0.5;
    eprintln!(
        "{} calls in {window:.3} s, limit {limit:.2} (margin {:.2})",
        seen.len(),
        limit - seen.len() as f64
    );
    assert!(seen.len() as f64 <= limit, "{} > {limit:.2}", seen.len());
    // And the fallback did not stall the fleet.
    assert!(seen.len() as f64 >= 0.6 * limit, "{} calls", seen.len());
}
