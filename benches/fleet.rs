//! Beyond one process: what the Redis backends cost per call, next to their in-process
//! counterparts. `cargo bench --bench fleet --features redis` (starts its own redis-server from
//! the PATH on a free port; without one it says so and measures the in-process cases only).
//!
//! - the rate limit: a call through `RateLimitLayer` over a mock that answers at once, with a
//!   limit it never reaches: in-process, and through Redis (one `EVALSHA` round trip per call);
//! - the Cookie header for a request (`CookieJar::cookie_header_for_uri`), 3 cookies for the
//!   host: the built-in jar, and a jar over `RedisCookieStore` (read from its local replica);
//! - a cookie write through `RedisCookieStore` until Redis has it (one round trip, plus the
//!   hand-off to its background task).

use std::convert::Infallible;
use std::hint::black_box;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use tower::{service_fn, Service, ServiceExt};
use tower_requests::layers::cookie::{CookieJar, RedisCookieStore};
use tower_requests::layers::ratelimit::{Quota, RateLimitLayer, RedisLimiter};
use tower_requests::layers::redis;
use tower_requests::Url;

struct RedisServer(Child, u16);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_server() -> Option<RedisServer> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = RedisServer(child, port);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(server)
}

fn mock(
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send> + Clone
{
    service_fn(|_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) })
}

fn fleet(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let redis = redis_server();
    if redis.is_none() {
        eprintln!("no redis-server on the PATH: only the in-process cases are measured");
    }
    let _guard = rt.enter();
    let never = Quota::per_second(1_000_000_000).unwrap().burst(1_000_000);
    let req = || {
        Request::get("http://api.example/")
            .body(String::new())
            .unwrap()
    };

    let mut bare = mock();
    c.bench_function("mock_alone", |b| {
        b.to_async(&rt).iter(|| {
            let call = bare.call(req());
            async move { black_box(call.await.unwrap()) }
        })
    });
    let mut local = tower::ServiceBuilder::new()
        .layer(RateLimitLayer::new(never))
        .service(mock());
    c.bench_function("ratelimit_in_process", |b| {
        b.to_async(&rt).iter(|| {
            let call = local.call(req());
            async move { black_box(call.await.unwrap()) }
        })
    });

    let uri: http::Uri = "http://app.example/items/1".parse().unwrap();
    let url = Url::parse("http://app.example/login").unwrap();
    let fill = |jar: &CookieJar| {
        for line in [
            "sid=0123456789abcdef; Path=/; HttpOnly",
            "lang=en; Path=/",
            "theme=dark; Path=/",
        ] {
            jar.insert_raw(line, &url).unwrap();
        }
    };
    let memory = CookieJar::new();
    fill(&memory);
    c.bench_function("cookie_header_in_memory", |b| {
        b.iter(|| black_box(memory.cookie_header_for_uri(black_box(&uri))))
    });

    let Some(server) = redis else { return };
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", server.1)).unwrap();
    let limiter = RedisLimiter::new(client.clone(), "bench").unwrap();
    let mut shared = tower::ServiceBuilder::new()
        .layer(RateLimitLayer::redis(never, limiter))
        .service(mock());
    rt.block_on(async {
        shared.ready().await.unwrap().call(req()).await.unwrap();
    });
    c.bench_function("ratelimit_redis", |b| {
        b.to_async(&rt).iter(|| {
            let call = shared.call(req());
            async move { black_box(call.await.unwrap()) }
        })
    });

    let store = RedisCookieStore::new(client, "bench", Duration::from_secs(3600)).unwrap();
    assert!(rt.block_on(store.synced(Duration::from_secs(5))));
    let replicated = CookieJar::with_store(store.clone());
    fill(&replicated);
    c.bench_function("cookie_header_redis_store", |b| {
        b.iter(|| black_box(replicated.cookie_header_for_uri(black_box(&uri))))
    });
    // Staleness: how long until another member (its own connections) sends a cookie one
    // member stored.
    let other = RedisCookieStore::new(
        redis::Client::open(format!("redis://127.0.0.1:{}/", server.1)).unwrap(),
        "bench",
        Duration::from_secs(3600),
    )
    .unwrap();
    assert!(rt.block_on(other.synced(Duration::from_secs(5))));
    let other = CookieJar::with_store(other);
    let mut lags: Vec<Duration> = rt.block_on(async {
        let mut lags = Vec::new();
        for i in 0..500 {
            let value = format!("v{i}");
            let start = Instant::now();
            replicated
                .insert_raw(&format!("seen={value}; Path=/"), &url)
                .unwrap();
            while other.get("seen").as_deref() != Some(value.as_str()) {
                tokio::task::yield_now().await;
            }
            lags.push(start.elapsed());
        }
        lags
    });
    lags.sort();
    println!(
        "staleness (another member sends the cookie after): median {:?}, p99 {:?}, max {:?} (500 writes)",
        lags[lags.len() / 2],
        lags[lags.len() * 99 / 100],
        lags[lags.len() - 1]
    );
    let mut n = 0u64;
    c.bench_function("cookie_write_redis_round_trip", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            replicated
                .insert_raw(&format!("counter={n}; Path=/"), &url)
                .unwrap();
            let store = store.clone();
            async move {
                while store.status().queued > 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = fleet
}
criterion_main!(benches);
