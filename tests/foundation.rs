//! The foundation: pooling, TLS, HTTP/2, mount, request building, responses, errors.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use http::{HeaderMap, StatusCode, Version};
use support::{echo, echo_router, Seen, TestServer};
use tower::ServiceExt;
use tower_requests::{Body, Certificate, Error, Session};

fn hello() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/json",
            get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
        )
        .route("/notjson", get(|| async { "{not json" }))
        .route(
            "/status/{code}",
            get(
                |axum::extract::Path(code): axum::extract::Path<u16>| async move {
                    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
                },
            ),
        )
        .route(
            "/latin1",
            get(|| async {
                (
                    [("content-type", "text/plain; charset=ISO-8859-1")],
                    vec![b'c', b'a', b'f', 0xE9],
                )
            }),
        )
}

fn tls_session(server: &TestServer) -> Session {
    let cert = Certificate::from_pem(server.cert_pem.as_ref().unwrap().as_bytes()).unwrap();
    Session::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap()
}

async fn ten_on_one_session(session: &Session, url: &str) -> Vec<Version> {
    let mut versions = Vec::new();
    for _ in 0..10 {
        let resp = session.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        versions.push(resp.version());
        assert_eq!(resp.text().await.unwrap(), "hello");
    }
    versions
}

#[tokio::test]
async fn one_session_reuses_one_connection_fresh_sessions_do_not() {
    let server = TestServer::http(hello()).await;
    let session = Session::new();
    ten_on_one_session(&session, &server.url("/")).await;
    assert_eq!(
        server.accepts(),
        1,
        "10 requests on one session use one connection"
    );

    let fresh = TestServer::http(hello()).await;
    for _ in 0..10 {
        let s = Session::new();
        let resp = s.get(fresh.url("/")).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), "hello");
    }
    assert_eq!(fresh.accepts(), 10, "10 fresh sessions use 10 connections");
}

#[tokio::test]
async fn tls_pooling_and_http2_by_alpn() {
    let server = TestServer::https(hello()).await;
    let session = tls_session(&server);
    let versions = ten_on_one_session(&session, &server.url("/")).await;
    assert!(
        versions.iter().all(|v| *v == Version::HTTP_2),
        "{versions:?}"
    );
    assert_eq!(server.accepts(), 1);

    for _ in 0..10 {
        let s = tls_session(&server);
        s.get(server.url("/")).send().await.unwrap();
    }
    assert_eq!(server.accepts(), 11);
}

#[tokio::test]
async fn tls_http1_only_pools_too() {
    let server = TestServer::https(hello()).await;
    let cert = Certificate::from_pem(server.cert_pem.as_ref().unwrap().as_bytes()).unwrap();
    let session = Session::builder()
        .add_root_certificate(cert)
        .http1_only()
        .build()
        .unwrap();
    let versions = ten_on_one_session(&session, &server.url("/")).await;
    assert!(
        versions.iter().all(|v| *v == Version::HTTP_11),
        "{versions:?}"
    );
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn http2_concurrent_requests_share_one_tls_connection() {
    let server = TestServer::https(hello()).await;
    let session = tls_session(&server);
    // Establish the connection first, then 32 concurrent requests multiplex on it.
    session.get(server.url("/")).send().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = session.clone();
        let url = server.url("/");
        tasks.push(tokio::spawn(async move {
            s.get(url).send().await.unwrap().text().await.unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "hello");
    }
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn self_signed_rejected_by_default_accepted_in_danger_mode() {
    let server = TestServer::https(hello()).await;
    let err = Session::new()
        .get(server.url("/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let chain = format!("{:?}", err);
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");

    let danger = Session::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let resp = danger.get(server.url("/")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn dropping_the_last_session_clone_closes_idle_connections() {
    let server = TestServer::http(hello()).await;
    let session = Session::new();
    let clone = session.clone();
    session
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(server.accepts(), 1);
    drop(session);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.closes(),
        0,
        "a clone is still alive: the connection stays"
    );
    drop(clone);
    assert!(
        server.wait_closes(1, Duration::from_secs(3)).await,
        "server never saw the pooled connection close"
    );
}

#[tokio::test]
async fn mount_longest_prefix_wins() {
    let server = TestServer::http(hello()).await;
    let base = server.url("");
    let tagged = |tag: &'static str| {
        tower::service_fn(move |_req: http::Request<Body>| async move {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::from(tag)))
        })
    };
    let session = Session::builder()
        .mount(format!("{base}/api/"), tagged("api"))
        .mount(format!("{base}/api/v2/"), tagged("v2"))
        .build()
        .unwrap();
    let text = |path: &str| {
        let s = session.clone();
        let url = server.url(path);
        async move { s.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(text("/api/x").await, "api");
    assert_eq!(text("/api/v2/x").await, "v2");
    assert_eq!(
        text("/API/V2/y").await,
        "v2",
        "prefixes match case-insensitively"
    );
    assert_eq!(
        text("/").await,
        "hello",
        "unmounted URLs use the session's own stack"
    );
}

#[tokio::test]
async fn query_form_json_headers_seen_by_server() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log.clone())).await;
    let session = Session::new();

    let seen = echo(
        session
            .get(server.url("/q?a=1"))
            .query(&[("b", "two words"), ("c", "&=")])
            .header("x-custom", "yes"),
    )
    .await;
    assert_eq!(seen.uri, "/q?a=1&b=two+words&c=%26%3D");
    assert_eq!(seen.header("x-custom"), Some("yes"));
    assert!(seen
        .header("user-agent")
        .unwrap()
        .starts_with("tower-requests/"));

    let seen = echo(
        session
            .post(server.url("/form"))
            .form(&[("formPosted", "1"), ("login_email", "me@example.com")]),
    )
    .await;
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body, "formPosted=1&login_email=me%40example.com");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("content-length"), Some("41"));

    let seen = echo(
        session
            .put(server.url("/json"))
            .json(&serde_json::json!({"username": "user", "n": 1})),
    )
    .await;
    assert_eq!(seen.method, "PUT");
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(body, serde_json::json!({"username": "user", "n": 1}));
    assert_eq!(seen.header("content-type"), Some("application/json"));

    let seen = echo(
        session
            .get(server.url("/h"))
            .without_header(http::header::USER_AGENT)
            .without_header("accept"),
    )
    .await;
    assert_eq!(seen.header("user-agent"), None);
    assert_eq!(seen.header("accept"), None);

    let mut map = HeaderMap::new();
    map.insert("x-a", "1".parse().unwrap());
    let seen = echo(
        session
            .delete(server.url("/d"))
            .header("x-a", "0")
            .headers(map),
    )
    .await;
    assert_eq!(seen.method, "DELETE");
    assert_eq!(seen.headers.get("x-a").unwrap(), &vec!["1".to_string()]);
}

#[tokio::test]
async fn credentials_in_url_are_used_and_stripped() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log.clone())).await;
    let url = format!("http://al%40ice:p%3Ass@{}/private", server.addr);
    let seen = echo(Session::new().get(url)).await;
    assert_eq!(seen.uri, "/private");
    // base64("al@ice:p:ss")
    assert_eq!(seen.header("authorization"), Some("Basic YWxAaWNlOnA6c3M="));
}

#[tokio::test]
async fn decode_status_and_charset() {
    let server = TestServer::http(hello()).await;
    let session = Session::new();

    let v: serde_json::Value = session
        .get(server.url("/json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    let err = session
        .get(server.url("/notjson"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(!err.is_status());

    for code in [404u16, 401, 503] {
        let resp = session
            .get(server.url(&format!("/status/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), code);
        let err = resp.error_for_status_ref().unwrap_err();
        assert!(err.is_status());
        assert_eq!(err.status().map(|s| s.as_u16()), Some(code));
        let err = resp.error_for_status().unwrap_err();
        assert!(err.to_string().contains(&code.to_string()), "{err}");
        assert!(err.url().unwrap().path().starts_with("/status/"));
    }
    let ok = session.get(server.url("/status/204")).send().await.unwrap();
    assert!(ok.error_for_status().is_ok());

    let text = session
        .get(server.url("/latin1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "café");
}

#[tokio::test]
async fn connection_refused_is_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = Session::new()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_request());
    assert!(!err.is_builder() && !err.is_timeout());
    assert_eq!(err.url().unwrap().port(), Some(addr.port()));
}

#[tokio::test]
async fn bad_input_is_a_builder_error_never_a_panic() {
    let session = Session::new();
    let cases: Vec<(&str, Result<tower_requests::Response, Error>)> = vec![
        ("no scheme", session.get("not a url").send().await),
        (
            "bad port",
            session.get("http://127.0.0.1:99999/").send().await,
        ),
        ("ftp", session.get("ftp://127.0.0.1/file").send().await),
        ("file", session.get("file:///etc/passwd").send().await),
        ("no host", session.get("http://").send().await),
        ("empty host", session.get("http://:8080/x").send().await),
        (
            "header name",
            session
                .get("http://127.0.0.1:1/")
                .header("bad name", "v")
                .send()
                .await,
        ),
        (
            "header value",
            session
                .get("http://127.0.0.1:1/")
                .header("x", "a\nb")
                .send()
                .await,
        ),
        (
            "json",
            session
                .post("http://127.0.0.1:1/")
                .json(&HashMap::from([((1, 2), 3)]))
                .send()
                .await,
        ),
    ];
    for (what, result) in cases {
        let err = result.expect_err(what);
        assert!(err.is_builder(), "{what}: {err:?}");
        assert!(!err.is_connect(), "{what}: nothing may be sent");
    }
    let err = Session::builder()
        .default_header("bad header", "x")
        .build()
        .unwrap_err();
    assert!(err.is_builder());
    let err = Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap_err();
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    assert!(tower_requests::Error::from(err).is_builder());
}

#[tokio::test]
async fn session_is_a_tower_service_and_executes_prebuilt_requests() {
    let server = TestServer::http(hello()).await;
    let session = Session::new();
    let req = http::Request::get(server.url("/"))
        .body(Body::empty())
        .unwrap();
    let resp = session.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);

    let req = http::Request::get(server.url("/json"))
        .body(Body::empty())
        .unwrap();
    let resp = session.execute(req).await.unwrap();
    assert_eq!(resp.url().path(), "/json");

    let relative = http::Request::get("/relative").body(Body::empty()).unwrap();
    assert!(session.execute(relative).await.unwrap_err().is_builder());
}

#[test]
fn session_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Session>();
    assert_traits::<tower_requests::HttpClient>();
}

#[tokio::test]
async fn repeated_urls_are_sent_as_given_whatever_the_session_kept() {
    // The session keeps its last parsed URL (same text: a clone; same origin: a join). Each
    // request must still go out exactly as its own URL, query and credentials say.
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log.clone())).await;
    let session = Session::new();
    let url = server.url("/same?x=1");
    assert_eq!(echo(session.get(&url)).await.uri, "/same?x=1");
    assert_eq!(echo(session.get(&url)).await.uri, "/same?x=1");
    let seen = echo(session.get(&url).query(&[("y", "2")])).await;
    assert_eq!(seen.uri, "/same?x=1&y=2");
    assert_eq!(echo(session.get(&url)).await.uri, "/same?x=1");
    assert_eq!(
        echo(session.get(server.url("/other#f"))).await.uri,
        "/other"
    );
    let creds = url.replacen("http://", "http://u:p@", 1);
    for _ in 0..2 {
        let seen = echo(session.get(&creds)).await;
        assert_eq!(seen.uri, "/same?x=1");
        assert_eq!(seen.header("authorization"), Some("Basic dTpw"));
    }
    assert_eq!(echo(session.get(&url)).await.header("authorization"), None);
}

#[tokio::test]
async fn response_url_is_the_url_sent_whatever_the_session_kept() {
    // The URL is shared between the session's cache, the request and the Response until a
    // builder changes it: a change must reach this response and no later one.
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log.clone())).await;
    let session = Session::new();
    let url = server.url("/same?x=1#top");
    let get = |b: tower_requests::RequestBuilder| async move { b.send().await.unwrap() };
    let first = get(session.get(&url)).await;
    assert_eq!(first.url().as_str(), url);
    let changed = get(session.get(&url).query(&[("y", "2")])).await;
    assert_eq!(changed.url().query(), Some("x=1&y=2"));
    assert_eq!(changed.url().fragment(), Some("top"));
    let again = get(session.get(&url)).await;
    assert_eq!(again.url().as_str(), url);
    assert_eq!(first.url().query(), Some("x=1"));
    // Credentials are sent as a header and are in no response's URL, the cache keeps them.
    let creds = url.replacen("http://", "http://u:p@", 1);
    for _ in 0..2 {
        let resp = get(session.get(&creds)).await;
        assert_eq!(resp.url().as_str(), url);
        let seen: Seen = resp.json().await.unwrap();
        assert_eq!(seen.header("authorization"), Some("Basic dTpw"));
    }
}

#[tokio::test]
async fn send_is_lazy_until_polled() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log.clone())).await;
    let session = Session::new();
    let dropped = session.get(server.url("/never")).send();
    let pending = session.get(server.url("/later")).send();
    tokio::task::yield_now().await;
    drop(dropped);
    assert!(
        log.lock().unwrap().is_empty(),
        "nothing sent before polling"
    );
    let resp = pending.await.unwrap();
    assert_eq!(resp.status(), 200);
    let seen: Vec<String> = log.lock().unwrap().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(seen, ["/later"]);
}
