//! What a session costs: `Session::new()` after the first (issue 9 target ≤ 20 µs; the TLS
//! configuration and roots are built once per process), and the memory an idle session keeps
//! (target ≤ 50 KB), measured with a counting allocator. `cargo bench --bench session_cost`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
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
}

criterion_group!(benches, session_cost);
criterion_main!(benches);
