//! What a session costs: `Session::new()` after the first (target ≤ 20 µs; the TLS
//! configuration and roots are built once per process), and the memory an idle session keeps
//! (target ≤ 50 KB), measured with a counting allocator; then the many-sessions scenario, 10 000
//! isolated sessions (one per user) against one in-process server: each logs in (gets its own
//! cookie) and reads it back; time and memory are printed (`SESSIONS=n` changes the count).
//! `cargo bench --bench session_cost`; `SESSION_PROFILE=new:<n>` or `SESSION_PROFILE=idle` is
//! a profiling mode (see [`profile`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, Criterion};
use futures_util::stream::{self, StreamExt};
use http_body_util::Full;
use tower_requests::{Certificate, Session};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes_per_session(n: usize, make: impl Fn() -> Session) -> isize {
    let before = LIVE.load(Ordering::SeqCst);
    let sessions: Vec<Session> = (0..n).map(|_| make()).collect();
    let after = LIVE.load(Ordering::SeqCst);
    drop(sessions);
    (after - before) / n as isize
}

/// `/login?u=N` sets `user=N`; `/me` answers with the Cookie header it received.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (s, _) = listener.accept().await.unwrap();
                let _ = s.set_nodelay(true);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        |req: http::Request<hyper::body::Incoming>| async move {
                            let mut resp = http::Response::builder();
                            let body = match req.uri().query() {
                                Some(q) if req.uri().path() == "/login" => {
                                    let user = q.trim_start_matches("u=").to_string();
                                    resp =
                                        resp.header("set-cookie", format!("user={user}; Path=/"));
                                    Bytes::new()
                                }
                                _ => req
                                    .headers()
                                    .get("cookie")
                                    .map(|v| Bytes::copy_from_slice(v.as_bytes()))
                                    .unwrap_or_default(),
                            };
                            Ok::<_, std::convert::Infallible>(resp.body(Full::new(body)).unwrap())
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// The many-sessions scenario, run once: `n` isolated sessions, one per user, each logging in
/// (its own cookie) and reading it back through one in-process server, 64 users at a time.
fn many_sessions(rt: &tokio::runtime::Runtime, n: usize) {
    let addr = start_server();
    let live_before = LIVE.load(Ordering::SeqCst);
    let start = Instant::now();
    // No idle connections kept: n users must not hold n sockets open.
    let sessions: Vec<Session> = (0..n)
        .map(|_| {
            Session::builder()
                .trust_env(false)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap()
        })
        .collect();
    let created = start.elapsed();
    let live_idle = LIVE.load(Ordering::SeqCst) - live_before;

    let start = Instant::now();
    let ok = rt.block_on(
        stream::iter(sessions.iter().enumerate())
            .map(|(i, s)| async move {
                s.get(format!("http://{addr}/login?u={i}"))
                    .send()
                    .await
                    .unwrap();
                let seen = s.get(format!("http://{addr}/me")).send().await.unwrap();
                seen.text().await.unwrap() == format!("user={i}")
            })
            .buffer_unordered(64)
            .filter(|ok| std::future::ready(*ok))
            .count(),
    );
    let used = start.elapsed();
    assert_eq!(ok, n, "every user saw exactly their own cookie");
    std::thread::sleep(Duration::from_millis(200)); // let the server drop its connections
    let live_used = LIVE.load(Ordering::SeqCst) - live_before;
    println!(
        "{n} isolated sessions: created in {:.1} ms ({:.2} us each), {} bytes live each when idle; \
         {n} logins + reads (2 requests each, 64 at a time) in {:.2} s ({:.0} requests/s); \
         {} bytes live each afterwards (one cookie in each jar)",
        created.as_secs_f64() * 1e3,
        created.as_secs_f64() * 1e6 / n as f64,
        live_idle / n as isize,
        used.as_secs_f64(),
        (2 * n) as f64 / used.as_secs_f64(),
        live_used / n as isize,
    );
    drop(sessions);
}

fn session_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = cert.cert.pem();
    let root = Certificate::from_pem(pem.as_bytes()).unwrap();

    drop(Session::new()); // the first one builds the process-wide TLS config
    println!(
        "memory: idle Session::new() keeps {} bytes; trust_env(false) {} bytes; with a custom root {} bytes",
        live_bytes_per_session(1000, Session::new),
        live_bytes_per_session(1000, || Session::builder().trust_env(false).build().unwrap()),
        live_bytes_per_session(1000, || Session::builder()
            .add_root_certificate(root.clone())
            .build()
            .unwrap()),
    );

    let mut g = c.benchmark_group("session_new");
    g.sample_size(15)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("Session::new", |b| b.iter(Session::new));
    g.bench_function("builder_trust_env_false", |b| {
        b.iter(|| Session::builder().trust_env(false).build().unwrap())
    });
    g.bench_function("builder_custom_root", |b| {
        b.iter(|| {
            Session::builder()
                .add_root_certificate(root.clone())
                .build()
                .unwrap()
        })
    });
    g.finish();

    let n = std::env::var("SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    many_sessions(&rt, n);
}

/// Profiling mode, outside criterion: `SESSION_PROFILE=new:<n>` makes `n` default sessions after
/// the first (each `Session::new()`, then dropped) and exits, for `valgrind --tool=callgrind`: the
/// difference between two `n` is the cost of one. `SESSION_PROFILE=idle` prints the bytes an idle
/// `Session::new()` keeps (`idle bytes: <n>`, the mean over 1 000 live sessions).
fn profile(spec: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    drop(Session::new()); // the first one builds the process-wide TLS config
    match spec.split_once(':') {
        Some(("new", n)) => {
            let n: usize = n.parse().expect("a count");
            for _ in 0..n {
                drop(std::hint::black_box(Session::new()));
            }
        }
        None if spec == "idle" => {
            println!("idle bytes: {}", live_bytes_per_session(1000, Session::new));
        }
        _ => panic!("SESSION_PROFILE=new:<n> or SESSION_PROFILE=idle"),
    }
}

criterion_group!(benches, session_cost);

fn main() {
    if let Ok(spec) = std::env::var("SESSION_PROFILE") {
        return profile(&spec);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
