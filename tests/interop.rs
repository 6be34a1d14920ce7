//! Our layers next to the tower/axum ecosystem: the interop examples, run with assertions on
//! what their in-process upstreams saw.

#[path = "../examples/assemble.rs"]
mod assemble;
#[path = "../examples/axum_upstream.rs"]
mod axum_upstream;
#[path = "../examples/signing.rs"]
mod signing;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tower_requests::CookieJar;

#[tokio::test]
async fn axum_handler_calls_upstream_through_a_shared_session() {
    let out = axum_upstream::run().await.unwrap();
    assert_eq!(out.seen.len(), 2, "{out:?}");
    let (first, second) = (&out.seen[0], &out.seen[1]);
    // the handler forwarded the caller's request id and its own header
    assert_eq!(first.request_id, "req-1");
    assert_eq!(second.request_id, "req-2");
    assert!(out.seen.iter().all(|s| s.forwarded_by == "gateway"));
    // the shared session kept the upstream's cookie between the two handler calls
    assert_eq!(first.cookie, "");
    assert_eq!(second.cookie, "visits=1");
    assert_eq!(out.answers[1]["from_upstream"]["visits"], 2);
    assert_eq!(
        out.shared_cookies.get("visits").map(String::as_str),
        Some("2")
    );
    // ... and its pooled connection
    assert_eq!(
        first.peer, second.peer,
        "one pooled connection for both calls"
    );
}

/// What the process-wide `tracing` subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One global subscriber for this test binary, installed before any test touches tower-http's
/// trace callsites. (A thread-local `set_default` races with other tests' threads registering
/// the same callsites: events went missing in about 1 run of 10.)
fn trace_capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let sink = captured.clone();
        tracing::subscriber::set_global_default(assemble::trace_subscriber(move || sink.clone()))
            .expect("no other global subscriber in this test binary");
        captured
    })
}

/// The example's upstream server, started on 127.0.0.1: its state and its base URL.
async fn upstream() -> (Arc<assemble::Upstream>, String) {
    let state = Arc::new(assemble::Upstream::default());
    let addr = assemble::serve(assemble::upstream(state.clone()))
        .await
        .unwrap();
    (state, format!("http://{addr}"))
}

#[tokio::test]
async fn hand_assembled_stack_keeps_cookies_retries_decompresses_and_traces() {
    let captured = trace_capture();
    let (state, base) = upstream().await;
    let jar = CookieJar::new();
    let session = assemble::assembled(jar.clone(), 100, Duration::from_secs(1));
    let answers = assemble::calls(&session, &jar, &base).await.unwrap();

    // CookieLayer: the cookie /login set went out with /private
    assert_eq!(jar.get("token").as_deref(), Some("abc"));
    assert_eq!(*state.private_cookies.lock().unwrap(), ["token=abc"]);
    assert_eq!(answers.private, 200);
    // RetryLayer: 503 then 200
    assert_eq!(answers.flaky, 200);
    assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 2);
    // DecompressionLayer: offered gzip, got gzip on the wire, handed out the decoded text
    let gzip = state.gzip.lock().unwrap().clone();
    assert_eq!(gzip.len(), 1);
    assert!(gzip[0].0.contains("gzip"), "Accept-Encoding sent: {gzip:?}");
    assert_eq!(gzip[0].1, "gzip", "the upstream compressed");
    assert_eq!(answers.gzip_text, assemble::text());
    // TraceLayer: one span per call (4 calls; the retried /flaky is still one call)
    let all = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // only this test's lines (other tests' upstreams listen on other ports)
    let log: String = all
        .lines()
        .filter(|l| l.contains(&format!("uri={base}/")))
        .map(|l| format!("{l}\n"))
        .collect();
    let finished: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("finished processing request"))
        .collect();
    assert_eq!(finished.len(), 4, "{log}");
    assert!(finished.iter().all(|l| l.contains("status=200")), "{log}");
    for path in ["/login", "/private", "/flaky", "/gzip"] {
        assert!(
            log.lines()
                .any(|l| l.contains("started processing request") && l.contains(path)),
            "{path}: {log}"
        );
    }
}

/// Wait (real time, up to 10 s) until `done`, letting the runtime run I/O meanwhile. Sleeping in
/// a blocking task keeps a paused tokio clock from auto-advancing.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)))
            .await
            .unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_layer_admits_rate_requests_per_period() {
    trace_capture(); // this stack traces too: register the callsites with the global subscriber
    const RATE: usize = 3;
    const PER: Duration = Duration::from_secs(10);
    let (state, base) = upstream().await;
    let session = assemble::assembled(CookieJar::new(), RATE as u64, PER);

    // The tokio clock is paused; a running blocking task keeps it from auto-advancing while real
    // I/O happens, so it moves only when the test says so.
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let holder = tokio::task::spawn_blocking(move || {
        let _ = hold.recv();
    });
    let start = tokio::time::Instant::now();
    let burst = tokio::spawn({
        let (session, base) = (session.clone(), base.clone());
        async move { assemble::burst(&session, &base, 2 * RATE).await }
    });

    wait_until("the first window's requests", || state.burst_hits() >= RATE).await;
    // give the limiter every chance to let more through within the period
    for _ in 0..20 {
        tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10)))
            .await
            .unwrap();
    }
    assert_eq!(
        state.burst_hits(),
        RATE,
        "only RATE requests in the first period"
    );
    assert!(!burst.is_finished());

    tokio::time::advance(PER).await;
    wait_until("the second window's requests", || {
        state.burst_hits() >= 2 * RATE
    })
    .await;
    let statuses = burst.await.unwrap().unwrap();
    assert_eq!(statuses, vec![200; 2 * RATE]);
    let arrivals: Vec<Duration> = state
        .burst
        .lock()
        .unwrap()
        .iter()
        .map(|t| t.duration_since(start))
        .collect();
    let mut expected = vec![Duration::ZERO; RATE];
    expected.extend(vec![PER; RATE]);
    assert_eq!(
        arrivals, expected,
        "RATE at once, the rest one period later"
    );

    drop(release);
    holder.await.unwrap();
}

#[tokio::test]
async fn custom_signing_layer_signs_every_attempt() {
    let out = signing::run().await.unwrap();
    assert_eq!(out.signed, 200, "{out:?}");
    assert_eq!(out.unsigned, 401, "{out:?}");
    assert_eq!(out.forged, 401, "{out:?}");
    assert_eq!(out.flaky, 200, "{out:?}");
    // the upstream saw two correctly signed attempts of the flaky POST, each with its own nonce
    // (it refuses a replayed nonce, so a re-sent old signature would have been a 401)
    let flaky: Vec<_> = out
        .seen
        .iter()
        .filter(|s| s.target == "POST /flaky?id=7")
        .collect();
    assert_eq!(flaky.len(), 2, "{out:?}");
    assert_eq!((flaky[0].status, flaky[1].status), (503, 200), "{out:?}");
    assert_ne!(flaky[0].nonce, flaky[1].nonce);
    // the plain session's request carried no signature at all
    assert_eq!(out.seen[1].nonce, "", "{out:?}");
}
