//! Beyond one process: a fleet of worker processes shares one login and one rate limit through
//! Redis. The coordinator starts the demo server and an embedded redis-server; each worker logs
//! in (the first) or picks up the shared login (the others), then calls the demo server as fast
//! as the shared limit (100 requests/s, burst 10) lets the whole fleet.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tower_requests::layers::cookie::RedisCookieStore;
use tower_requests::layers::ratelimit::{Quota, RateLimitLayer, RedisLimiter};
use tower_requests::layers::redis;
use tower_requests::{CookieJar, Session};

use super::BoxError;
use crate::demo_server::Demo;

/// Set in a worker's environment: its index.
pub const WORKER_ENV: &str = "FLEET_WORKER";
/// How many workers.
pub const WORKERS: usize = 3;
const RATE: u32 = 100;
const BURST: u32 = 10;

/// A redis-server of our own on a free port, no persistence; killed when dropped.
pub struct EmbeddedRedis {
    child: std::process::Child,
    /// `redis://127.0.0.1:PORT/`
    pub url: String,
}

impl Drop for EmbeddedRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl EmbeddedRedis {
    /// `Ok(None)` when no redis-server is on the PATH.
    pub fn start() -> Result<Option<EmbeddedRedis>, BoxError> {
        let path = std::env::var("PATH").unwrap_or_default();
        let Some(bin) = path
            .split(':')
            .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin"])
            .map(|d| std::path::Path::new(d).join("redis-server"))
            .find(|p| p.is_file())
        else {
            return Ok(None);
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let redis = EmbeddedRedis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err("redis-server did not start".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Some(redis))
    }
}

/// The coordinator: starts `WORKERS` workers with `worker()` (a command that runs [`worker`]
/// in a new process), for `secs` seconds, and prints what each did.
pub async fn run(
    demo: &Demo,
    redis: &EmbeddedRedis,
    secs: f64,
    worker: impl Fn() -> tokio::process::Command,
) -> Result<(), BoxError> {
    let start = Instant::now();
    let before = demo
        .stats
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut children = Vec::new();
    for i in 0..WORKERS {
        let mut cmd = worker();
        cmd.env(WORKER_ENV, i.to_string())
            .env("FLEET_REDIS", &redis.url)
            .env("FLEET_SERVER", demo.http_url(""))
            .env("FLEET_SECS", secs.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        children.push(cmd.spawn()?);
    }
    let mut total_ok = 0;
    let mut logins = Vec::new();
    for child in children {
        let out = child.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("FLEET_WORKER ").map(|(_, r)| r.to_owned()))
            .ok_or_else(|| format!("a worker failed ({}):\n{stdout}", out.status))?;
        let mut parts = line.split(' ');
        let (index, ok, failed, login) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("0").parse::<usize>()?,
            parts.next().unwrap_or("0").parse::<usize>()?,
            parts.next().unwrap_or("").to_owned(),
        );
        println!("worker {index}: {ok} calls answered 200, {failed} failed, logged in as session_id={login}");
        if failed > 0 {
            return Err(format!("worker {index} had {failed} failed calls").into());
        }
        total_ok += ok;
        logins.push(login);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let seen = demo
        .stats
        .requests
        .load(std::sync::atomic::Ordering::SeqCst)
        - before;
    println!(
        "fleet: {total_ok} calls in {elapsed:.2} s ({:.0}/s; the shared limit is {RATE}/s, burst {BURST}); the server saw {seen} requests",
        total_ok as f64 / elapsed
    );
    logins.dedup();
    println!("shared login: {logins:?}");
    if logins.len() != 1 || logins[0].is_empty() {
        return Err(format!("the workers did not share one login: {logins:?}").into());
    }
    if total_ok as f64 > f64::from(RATE) * elapsed + f64::from(BURST) {
        return Err("the fleet went over the shared limit".into());
    }
    Ok(())
}

/// One worker (in its own process): the shared jar and limit, a login (worker 0) or the one
/// another worker made, then calls to the profile (which needs the login) until time is up.
pub async fn worker() -> Result<(), BoxError> {
    let index = std::env::var(WORKER_ENV)?;
    let base = std::env::var("FLEET_SERVER")?;
    let secs: f64 = std::env::var("FLEET_SECS")?.parse()?;
    let client = redis::Client::open(std::env::var("FLEET_REDIS")?)?;

    // One jar for the fleet: Cookie headers come from a local replica, writes go to Redis.
    let store = RedisCookieStore::new(client.clone(), "fleet-example", Duration::from_secs(3600))?;
    store.synced(Duration::from_secs(5)).await;
    let jar = CookieJar::with_store(store);
    // One limit for the fleet: 100 calls/s to the demo server, whoever makes them.
    let limiter = RedisLimiter::new(client, "fleet-example")?.expected_members(WORKERS as u32);
    let session = Session::builder()
        .cookie_jar(jar.clone())
        .layer(RateLimitLayer::redis(
            Quota::per_second(RATE)?.burst(BURST),
            limiter,
        ))
        .build()?;

    if index == "0" {
        let body = r#"{"username": "user", "password": "pass"}"#;
        session
            .post(format!("{base}/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
    } else {
        let start = Instant::now();
        while jar.get("session_id").is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err("no shared login".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (session, url) = (session.clone(), format!("{base}/profile_data.json"));
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0usize, 0usize);
            while start.elapsed().as_secs_f64() < secs {
                match session.get(&url).send().await {
                    Ok(r) if r.status() == 200 => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await?;
        ok += o;
        failed += f;
    }
    let login = jar.get("session_id").unwrap_or_default();
    println!("\nFLEET_WORKER {index} {ok} {failed} {login}");
    Ok(())
}
