//! Feature `tracing`: one span per call and one per attempt, with method, URL, status, attempt
//! number and redirect hop, and never a credential.
#![cfg(feature = "tracing")]

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use support::TestServer;
use tower_requests::{Proxy, Retry, Session};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn spans_per_call_and_attempt_without_secrets() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = Router::new()
        .route(
            "/start",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/flaky?token=q")]) }),
        )
        .route(
            "/flaky",
            get(move || {
                let h = h.clone();
                async move {
                    if h.fetch_add(1, Ordering::SeqCst) == 0 {
                        StatusCode::SERVICE_UNAVAILABLE.into_response()
                    } else {
                        "ok".into_response()
                    }
                }
            }),
        );
    let server = TestServer::http(app).await;

    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let session = Session::builder()
        .basic_auth("alice", "hunter2-basic")
        .retry(Retry::new().total(2).status_forcelist([503]))
        // A proxy that the target bypasses: its password must not show up either.
        .proxy(
            Proxy::all("http://pxuser:hunter2-proxy@127.0.0.1:9")
                .unwrap()
                .no_proxy("127.0.0.1"),
        )
        .build()
        .unwrap();
    let url = format!(
        "http://bob:hunter2-url@127.0.0.1:{}/start",
        server.addr.port()
    );
    let resp = session
        .get(&url)
        .bearer_auth("hunter2-bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    drop(resp);

    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let calls: Vec<&str> = log.lines().filter(|l| l.contains("http.request")).collect();
    assert!(
        calls
            .iter()
            .any(|l| l.contains("method=GET") && l.contains("status=200")),
        "{log}"
    );
    let attempts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("http.attempt") && l.contains("close"))
        .collect();
    assert_eq!(attempts.len(), 3, "302, 503, 200: {log}");
    assert!(
        attempts[0].contains("hop=0")
            && attempts[0].contains("attempt=1")
            && attempts[0].contains("status=302"),
        "{log}"
    );
    assert!(
        attempts[1].contains("hop=1")
            && attempts[1].contains("attempt=1")
            && attempts[1].contains("status=503"),
        "{log}"
    );
    assert!(
        attempts[2].contains("hop=1")
            && attempts[2].contains("attempt=2")
            && attempts[2].contains("status=200"),
        "{log}"
    );
    assert!(attempts[1].contains("/flaky?token=q"), "{log}");
    for secret in ["hunter2", "alice", "bob:", "pxuser", "Basic ", "Bearer "] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
