//! No setting may panic: every `Duration` a user can pass (zero to `Duration::MAX`) saturates to
//! "no deadline" where it is too large to add to an instant.

use std::time::Duration;

use proptest::prelude::*;
use tower_requests::{Retry, Session};

use crate::hostile::{Conn, Hostile};

/// A keep-alive server whose answers make every waiting point wait: the first is a 503 (so a
/// retry and its backoff run), every body comes in two writes with a pause between them (so a
/// body read has to wait, arming the read and total timers).
async fn slow_server() -> Hostile {
    Hostile::start(|mut c: Conn| async move {
        while c.read_request().await.is_some() {
            let status = if c.index == 0 {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            c.write(format!("HTTP/1.1 {status}\r\ncontent-length: 4\r\n\r\nab").as_bytes())
                .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            c.write(b"cd").await;
        }
    })
    .await
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        Just(Duration::from_secs(u64::MAX)),
        (0u64..=u64::MAX, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        (1u64..2_000).prop_map(Duration::from_millis),
    ]
}

fn factor() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(f64::MAX),
        Just(f64::INFINITY),
        Just(f64::NAN),
        Just(-1.0),
        0.0f64..0.01,
    ]
}

#[derive(Debug, Clone)]
struct Settings {
    timeout: Duration,
    attempt: Duration,
    connect: Duration,
    idle: Duration,
    request_timeout: Option<Duration>,
    backoff_max: Duration,
    jitter: Duration,
    retry_after_max: Duration,
    factor: f64,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        (duration(), duration(), duration(), duration()),
        (
            proptest::option::of(duration()),
            duration(),
            duration(),
            duration(),
            factor(),
        ),
    )
        .prop_map(
            |(
                (timeout, attempt, connect, idle),
                (request_timeout, bmax, jitter, ramax, factor),
            )| {
                Settings {
                    timeout,
                    attempt,
                    connect,
                    idle,
                    request_timeout,
                    // A backoff this long would make the test wait: the first retry sleeps 0
                    // anyway (urllib3), and the jitter is what is added to it.
                    backoff_max: bmax,
                    jitter: jitter.min(Duration::from_millis(5)),
                    retry_after_max: ramax,
                    factor,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_duration_setting_sends_without_panicking(s in settings()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = slow_server().await;
            let session = Session::builder()
                .trust_env(false)
                .timeout(s.timeout)
                .attempt_timeout(s.attempt)
                .connect_timeout(s.connect)
                .pool_idle_timeout(s.idle)
                .retry(
                    Retry::new()
                        .total(1)
                        .status_forcelist([503])
                        .backoff_factor(s.factor)
                        .backoff_max(s.backoff_max)
                        .backoff_jitter(s.jitter)
                        .retry_after_max(s.retry_after_max),
                )
                .build()
                .expect("durations are never a build error");
            let mut req = session.get(server.url("/"));
            if let Some(t) = s.request_timeout {
                req = req.timeout(t);
            }
            // Tiny timeouts fail, others succeed: either is fine, a panic is not. Bounded so a
            // bug that waits forever fails the case instead of hanging the suite.
            let call = async {
                match req.send().await {
                    Ok(resp) => resp.bytes().await.map(|_| ()),
                    Err(e) => Err(e),
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), call)
                .await
                .expect("a call with a finite server never hangs");
        });
    }
}
