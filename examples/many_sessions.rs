//! Many isolated sessions: 10 000 of them (one per user, as a multi-tenant service
//! would keep them) against one in-process server. Each user logs in (its own cookie) and reads
//! its profile; the program prints the time, the cost of creating the sessions, and the memory
//! they hold. `cargo run --release --example many_sessions [-- N]`.

mod demo_server;

use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use tower_requests::Session;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let demo = demo_server::Demo::start().await;
    let rss_before = rss_kib();

    let start = Instant::now();
    let sessions: Vec<Session> = (0..n)
        .map(|_| {
            // No idle connections kept: 10 000 users must not hold 10 000 sockets open.
            Session::builder().pool_max_idle_per_host(0).build()
        })
        .collect::<Result<_, _>>()?;
    let created = start.elapsed();
    let rss_sessions = rss_kib();

    let start = Instant::now();
    let login = demo.http_url("/login");
    let profile = demo.http_url("/profile_data.json");
    let ok = stream::iter(sessions.iter().enumerate())
        .map(|(i, s)| {
            let (login, profile) = (login.clone(), profile.clone());
            async move {
                let (user, pass) = demo_server::USERS[i % demo_server::USERS.len()];
                s.post(&login)
                    .json(&serde_json::json!({"username": user, "password": pass}))
                    .send()
                    .await?
                    .error_for_status()?;
                let me: serde_json::Value = s.get(&profile).send().await?.json().await?;
                Ok::<_, tower_requests::Error>(me["email"] == user)
            }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.ok().filter(|ok| *ok) })
        .count()
        .await;
    let used = start.elapsed();

    println!("{n} isolated sessions");
    println!(
        "  created in {:.1} ms ({:.2} us each)",
        created.as_secs_f64() * 1e3,
        created.as_secs_f64() * 1e6 / n as f64
    );
    if let (Some(a), Some(b)) = (rss_before, rss_sessions) {
        println!(
            "  resident memory for the idle sessions: {} KiB ({:.1} KiB each)",
            b.saturating_sub(a),
            b.saturating_sub(a) as f64 / n as f64
        );
    }
    println!(
        "  {ok} of {n} logged in and read their own profile in {:.2} s ({:.0} requests/s)",
        used.as_secs_f64(),
        (2 * n) as f64 / used.as_secs_f64()
    );
    assert_eq!(ok, n, "every user saw only their own session");
    Ok(())
}
