//! The blocking API from plain threads, against servers running on a runtime of their own.
#![cfg(all(feature = "blocking", feature = "cookies", feature = "json"))]

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use support::{echo_router, Seen};
use tower_requests::blocking::Session;
use tower_requests::Body;

/// Serve `app` on 127.0.0.1 from a thread running its own runtime (the blocking session must
/// not run on the caller's runtime, and these tests have none).
fn serve(app: Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}")
}

fn echo_server() -> String {
    serve(echo_router(Arc::new(Mutex::new(Vec::new()))))
}

fn session() -> Session {
    Session::builder().trust_env(false).build().unwrap()
}

#[test]
fn get_post_form_and_json() {
    let base = echo_server();
    let s = session();

    let resp = s
        .get(format!("{base}/get"))
        .query(&[("k", "v")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.url().path(), "/get");
    let seen: Seen = resp.json().unwrap();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("GET", "/get?k=v")
    );

    let seen: Seen = s
        .post(format!("{base}/form"))
        .form(&[("a", "1"), ("b", "two words")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(seen.body, "a=1&b=two+words");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    let text = s
        .post(format!("{base}/json"))
        .json(&serde_json::json!({"user": "ada"}))
        .header("x-extra", "1")
        .send()
        .unwrap()
        .text()
        .unwrap();
    let seen: Seen = serde_json::from_str(&text).unwrap();
    assert_eq!(seen.body, r#"{"user":"ada"}"#);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-extra"), Some("1"));
}

#[test]
fn cookies_are_kept_across_requests() {
    let app = Router::new()
        .route(
            "/login",
            post(|| async { ([(header::SET_COOKIE, "sid=abc; Path=/")], "welcome") }),
        )
        .route(
            "/whoami",
            get(|h: HeaderMap| async move {
                h.get(header::COOKIE)
                    .map_or("-", |v| v.to_str().unwrap())
                    .to_string()
            }),
        );
    let base = serve(app);
    let s = session();
    let login = s.post(format!("{base}/login")).send().unwrap();
    assert_eq!(login.cookies()[0].name(), "sid");
    assert_eq!(login.text().unwrap(), "welcome");
    assert_eq!(s.cookies().get("sid").as_deref(), Some("abc"));
    let who = s
        .get(format!("{base}/whoami"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(who, "sid=abc");
}

#[test]
fn redirects_history_and_error_for_status() {
    let app = Router::new()
        .route("/old", get(|| async { Redirect::to("/new") }))
        .route("/new", get(|| async { "moved" }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }));
    let base = serve(app);
    let s = session();
    let resp = s.get(format!("{base}/old")).send().unwrap();
    assert_eq!(resp.url().path(), "/new");
    assert_eq!(resp.history().len(), 1);
    assert_eq!(resp.error_for_status().unwrap().text().unwrap(), "moved");

    let resp = s.get(format!("{base}/missing")).send().unwrap();
    let err = resp.error_for_status_ref().unwrap_err();
    assert!(err.is_status(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
}

#[test]
fn read_streams_the_body() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = big.clone();
    let app = Router::new().route(
        "/big",
        get(move || {
            let big = big.clone();
            async move {
                // Several chunks, as a stream.
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                    big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
                AxumBody::from_stream(futures_util::stream::iter(chunks))
            }
        }),
    );
    let base = serve(app);
    let s = session();
    let mut resp = s.get(format!("{base}/big")).send().unwrap();
    // Not from inside a runtime: an error, not a panic or a hang.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { resp.read(&mut [0u8; 16]) })
        .unwrap_err();
    assert!(err.to_string().contains("inside a tokio runtime"), "{err}");
    drop(rt);
    let mut got = Vec::new();
    resp.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected);
    // The body is gone: the whole-body readers say so.
    let err = resp.bytes().unwrap_err();
    assert!(err.is_body(), "{err:?}");
}

#[test]
fn a_stalled_server_is_a_timeout_when_one_is_set() {
    let app = Router::new()
        .route(
            "/slow-head",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("first ")]).chain(
                    futures_util::stream::once(async {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Ok("never")
                    }),
                );
                AxumBody::from_stream(chunks)
            }),
        );
    let base = serve(app);
    let s = Session::builder()
        .trust_env(false)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = s.get(format!("{base}/slow-head")).send().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    let resp = s.get(format!("{base}/slow-body")).send().unwrap();
    let err = resp.text().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    let mut resp = s.get(format!("{base}/slow-body")).send().unwrap();
    let mut got = Vec::new();
    let err = resp.read_to_end(&mut got).unwrap_err();
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<tower_requests::Error>());
    assert!(inner.is_some_and(|e| e.is_timeout()), "{err:?}");
    assert_eq!(got, b"first ");
}

use futures_util::StreamExt;

#[tokio::test]
async fn inside_a_runtime_calls_fail_instead_of_blocking() {
    // The server runs on this test's own (current-thread) runtime: blocking here would
    // deadlock, as the server could never answer.
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = support::TestServer::http(echo_router(log.clone())).await;
    // Building is allowed anywhere.
    let s = session();
    let err = s.get(server.url("/")).send().unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    assert!(err.to_string().contains("inside a tokio runtime"), "{err}");
    assert!(log.lock().unwrap().is_empty(), "nothing was sent");
    // Dropping it here (joining its thread) does not panic either.
    drop(s);
}

#[test]
fn a_panic_in_the_stack_is_an_error_not_a_hang() {
    let s = Session::from_async_builder(tower_requests::Session::builder().trust_env(false).mount(
        "http://panic.test/",
        tower::service_fn(|_req: http::Request<Body>| async move {
            if true {
                panic!("a layer panicked");
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
        }),
    ))
    .unwrap();
    // On another thread, so that a hang fails the test instead of stalling it.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(s.get("http://panic.test/").send().map(drop)));
    let answer = rx.recv_timeout(Duration::from_secs(60));
    let err = answer.expect("the call hung").unwrap_err();
    assert!(err.to_string().contains("runtime thread"), "{err}");
}

thread_local! {
    /// Set on the runtime thread: dropped (closing the channel) when that thread ends.
    static ON_RUNTIME_THREAD: std::cell::RefCell<Option<mpsc::Sender<()>>> =
        const { std::cell::RefCell::new(None) };
}

#[test]
fn dropping_the_last_handle_joins_the_runtime_thread() {
    let (tx, rx) = mpsc::channel::<()>();
    let marker = tower::service_fn(move |_req: http::Request<Body>| {
        let tx = tx.clone();
        async move {
            ON_RUNTIME_THREAD.with(|slot| *slot.borrow_mut() = Some(tx));
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("marked")))
        }
    });
    let builder = tower_requests::Session::builder()
        .trust_env(false)
        .mount("http://marker.test/", marker);
    let s = Session::from_async_builder(builder).unwrap();
    let clone = s.clone();
    let resp = s.get("http://marker.test/").send().unwrap();
    drop(s);
    drop(clone);
    // The response still holds the runtime: its body can be read.
    assert_eq!(resp.text().unwrap(), "marked");
    // `text` consumed the last handle: the thread has ended (its thread-local is gone, and
    // with it the last sender) by the time that returned.
    assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
}

#[test]
fn builder_errors_are_reported_by_build() {
    let err = Session::builder()
        .resolve("", "127.0.0.1:1".parse().unwrap())
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    let err = Session::builder()
        .default_header("bad header", "x")
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
}
