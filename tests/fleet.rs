//! A fleet: three processes (this test binary, started three times as workers) share one login
//! and one 100 requests/s limit on a local server, through one redis-server, which is killed
//! and restarted in the middle of the run.
//!
//! The run lasts 5 s (`FLEET_SECS` changes it); `FLEET_NO_RESTART=1` leaves Redis alone and
//! `FLEET_DEBUG=1` prints the requests per 100 ms.

#[path = "../layers/tests/redis_support/mod.rs"]
mod redis_support;
mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use redis_support::RedisServer;
use support::TestServer;
use tower_requests::layers::cookie::RedisCookieStore;
use tower_requests::layers::ratelimit::{Quota, RateLimitLayer, RedisLimiter};
use tower_requests::layers::redis;
use tower_requests::{CookieJar, Session};

const WORKERS: usize = 3;
const RATE: u32 = 100;
const BURST: u32 = 10;
/// Concurrent callers per worker.
const TASKS: usize = 8;
const WORKER_ENV: &str = "TOWER_REQUESTS_FLEET_WORKER";

fn secs() -> f64 {
    std::env::var("FLEET_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0)
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    sid: Mutex<Option<String>>,
    /// /work requests: with the session cookie, per worker.
    per_worker: Mutex<BTreeMap<String, usize>>,
    without_cookie: AtomicUsize,
    times: Mutex<Vec<Instant>>,
}

fn router(seen: Arc<Seen>) -> Router {
    let login = seen.clone();
    Router::new()
        .route(
            "/login",
            post(move || {
                let seen = login.clone();
                async move {
                    seen.times.lock().unwrap().push(Instant::now());
                    let sid = format!("s{}", std::process::id());
                    *seen.sid.lock().unwrap() = Some(sid.clone());
                    (
                        [(header::SET_COOKIE, format!("sid={sid}; Path=/; HttpOnly"))],
                        "logged in",
                    )
                }
            }),
        )
        .route(
            "/work",
            get(move |headers: HeaderMap| {
                let seen = seen.clone();
                async move {
                    seen.times.lock().unwrap().push(Instant::now());
                    let sid = seen.sid.lock().unwrap().clone();
                    let cookie = headers
                        .get(header::COOKIE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    let ok = sid.is_some_and(|sid| cookie.contains(&format!("sid={sid}")));
                    if !ok {
                        seen.without_cookie.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::UNAUTHORIZED;
                    }
                    let worker = headers
                        .get("x-worker")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("?")
                        .to_owned();
                    *seen.per_worker.lock().unwrap().entry(worker).or_default() += 1;
                    StatusCode::OK
                }
            }),
        )
}

/// The worker: runs only in a child started by the test below (the variable is set there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_worker() {
    let Ok(index) = std::env::var(WORKER_ENV) else {
        return;
    };
    let redis_url = std::env::var("FLEET_REDIS").unwrap();
    let base = std::env::var("FLEET_SERVER").unwrap();
    let client = redis::Client::open(redis_url).unwrap();
    let store =
        RedisCookieStore::new(client.clone(), "fleet-test", Duration::from_secs(3600)).unwrap();
    assert!(store.synced(Duration::from_secs(10)).await, "no first sync");
    let jar = CookieJar::with_store(store);
    let limiter = RedisLimiter::new(client, "fleet-test")
        .unwrap()
        .expected_members(WORKERS as u32);
    let quota = Quota::per_second(RATE).unwrap().burst(BURST);
    let session = Session::builder()
        .cookie_jar(jar.clone())
        .layer(RateLimitLayer::redis(quota, limiter))
        .build()
        .unwrap();
    if index == "0" {
        let resp = session.post(format!("{base}/login")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    } else {
        let start = Instant::now();
        while jar.get("sid").is_none() {
            assert!(start.elapsed() < Duration::from_secs(10), "no login seen");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let start = Instant::now();
    let run_for = Duration::from_secs_f64(secs());
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (session, ok, failed, base, index) = (
            session.clone(),
            ok.clone(),
            failed.clone(),
            base.clone(),
            index.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < run_for {
                let sent = session
                    .get(format!("{base}/work"))
                    .header("x-worker", index.as_str())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => failed
                        .lock()
                        .unwrap()
                        .push(format!("status {}", r.status())),
                    Err(e) => failed.lock().unwrap().push(format!("{e:#}")),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let failed = failed.lock().unwrap();
    println!(
        "\nFLEET_RESULT {index} {} {} {:?}",
        ok.load(Ordering::SeqCst),
        failed.len(),
        failed.first()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_a_login_and_a_rate_limit() {
    if std::env::var_os(WORKER_ENV).is_some() {
        return;
    }
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let seen = Arc::new(Seen::default());
    let server = TestServer::http(router(seen.clone())).await;
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for i in 0..WORKERS {
        let child = tokio::process::Command::new(&exe)
            .args(["fleet_worker", "--exact", "--nocapture", "--test-threads=1"])
            .env(WORKER_ENV, i.to_string())
            .env("FLEET_REDIS", redis.url())
            .env("FLEET_SERVER", server.url(""))
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push(child);
    }
    // Halfway through, Redis dies and comes back (empty) on the same port.
    let start = Instant::now();
    while seen.times.lock().unwrap().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the workers never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_secs_f64(secs() / 2.0)).await;
    if std::env::var_os("FLEET_NO_RESTART").is_none() {
        redis.stop();
        tokio::time::sleep(Duration::from_millis(300)).await;
        redis.start_again();
    }

    let mut reported = BTreeMap::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "a worker failed:\n{stdout}");
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("FLEET_RESULT ").map(|(_, r)| r))
            .unwrap_or_else(|| panic!("no result line:\n{stdout}"));
        let mut parts = line.splitn(4, ' ');
        let index = parts.next().unwrap().to_owned();
        let ok: usize = parts.next().unwrap().parse().unwrap();
        let failed: usize = parts.next().unwrap().parse().unwrap();
        assert_eq!(failed, 0, "worker {index} lost requests: {line}");
        reported.insert(index, ok);
    }

    let per_worker = seen.per_worker.lock().unwrap().clone();
    let times = seen.times.lock().unwrap().clone();
    let total = times.len();
    let window = times.last().unwrap().duration_since(times[0]).as_secs_f64();
    let budget = f64::from(RATE) * secs() + f64::from(BURST);
    if std::env::var_os("FLEET_DEBUG").is_some() {
        let mut buckets = vec![0; (window * 10.0) as usize + 1];
        for t in &times {
            buckets[(t.duration_since(times[0]).as_secs_f64() * 10.0) as usize] += 1;
        }
        eprintln!("per 100 ms: {buckets:?}");
    }
    // The limit: see below.
    let limit = f64::from(RATE) * window + f64::from(BURST) + 1.0;
    eprintln!(
        "fleet: per worker (server) {per_worker:?}, reported {reported:?}, {total} requests in \
         {window:.3} s ({:.1}/s), limit {limit:.2} (margin {:.2}), budget {budget}",
        total as f64 / window,
        limit - total as f64
    );
    // Every request after the login carried the shared session cookie, and every one a worker
    // sent, the server saw (none lost to the restart).
    assert_eq!(seen.without_cookie.load(Ordering::SeqCst), 0);
    assert_eq!(per_worker.len(), WORKERS, "{per_worker:?}");
    assert_eq!(per_worker, reported);
    // The limit held across the fleet, Redis restart included: at most rate * window + burst
    // (the window a little longer than the run, as callers started before its end finish),
    // plus the login; and at least 60% of rate * run + burst was used.
    assert!(
        total as f64 <= limit,
        "{total} requests in {window:.2} s (limit {limit:.0})"
    );
    assert!(total as f64 >= 0.6 * budget, "{total} < 60% of {budget}");
}
