//! `MockTransport` under a full session: cookies, auth, redirects and retries run over it as
//! over the network, and it records what the session's layers sent.

use tower_requests::http::{Method, StatusCode};
use tower_requests::mock::{MockResponse, MockTransport};
use tower_requests::{Retry, Session};

#[path = "../examples/mock.rs"]
mod example;

fn session_over(mock: &MockTransport) -> Session {
    Session::builder()
        .mount("", mock.clone())
        .basic_auth("alice", "s3cret")
        .retry(Retry::new().total(3).status_forcelist([503]))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_login_flow_keeps_the_cookie_the_mock_set() {
    let mock = MockTransport::new()
        .route(
            Method::POST,
            "/login",
            MockResponse::new(200).header("set-cookie", "sid=abc123; Path=/; HttpOnly"),
        )
        .route_fn(Method::GET, "/profile", |req| {
            match req.headers().get("cookie").and_then(|v| v.to_str().ok()) {
                Some("sid=abc123") => MockResponse::ok("{\"name\":\"alice\"}"),
                _ => MockResponse::new(401),
            }
        });
    let session = session_over(&mock);
    let login = session
        .post("http://api.test/login")
        .form(&[("user", "alice"), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(session.cookies().get("sid").as_deref(), Some("abc123"));
    let profile = session.get("http://api.test/profile").send().await.unwrap();
    assert_eq!(profile.status(), 200);
    assert_eq!(profile.text().await.unwrap(), "{\"name\":\"alice\"}");

    let seen = mock.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method(), Method::POST);
    assert_eq!(seen[0].url().as_str(), "http://api.test/login");
    assert_eq!(seen[0].text(), "user=alice&password=pw");
    assert_eq!(
        seen[0].headers()["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(seen[0].headers().get("cookie").is_none());
    // The session's layers ran: auth, default headers, the jar's cookie.
    assert!(seen[1].headers()["authorization"]
        .to_str()
        .unwrap()
        .starts_with("Basic "));
    assert!(seen[1].headers()["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("tower-requests/"));
    assert_eq!(seen[1].headers()["cookie"], "sid=abc123");
}

#[tokio::test]
async fn a_503_answered_in_sequence_is_retried() {
    let mock = MockTransport::new().route_sequence(
        Method::GET,
        "/flaky",
        [
            MockResponse::new(503),
            MockResponse::new(503),
            MockResponse::ok("finally"),
        ],
    );
    let session = session_over(&mock);
    let resp = session.get("http://api.test/flaky").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "finally");
    assert_eq!(mock.requests().len(), 3);
    // The last answer repeats once the sequence is used up.
    mock.clear_requests();
    let again = session.get("http://api.test/flaky").send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_followed_and_credentials_stay_on_their_origin() {
    let mock = MockTransport::new()
        .route(
            Method::GET,
            "/old",
            MockResponse::new(302).header("location", "/new?x=1"),
        )
        .route(Method::GET, "/new", MockResponse::ok("new place"))
        .route(
            Method::GET,
            "/away",
            MockResponse::new(302).header("location", "http://other.test/landing"),
        )
        .route_any("/landing", MockResponse::ok("landed"));
    let session = session_over(&mock);

    let resp = session.get("http://api.test/old").send().await.unwrap();
    assert_eq!(resp.url().as_str(), "http://api.test/new?x=1");
    assert_eq!(resp.history().len(), 1);
    assert_eq!(resp.text().await.unwrap(), "new place");

    let resp = session.get("http://api.test/away").send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "landed");

    let seen = mock.requests();
    let urls: Vec<&str> = seen.iter().map(|r| r.url().as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://api.test/old",
            "http://api.test/new?x=1",
            "http://api.test/away",
            "http://other.test/landing"
        ]
    );
    assert!(seen[1].headers().contains_key("authorization"));
    assert!(
        !seen[3].headers().contains_key("authorization"),
        "Authorization must not follow a redirect to another origin"
    );
}

#[tokio::test]
async fn an_unrouted_request_gets_a_404_saying_so() {
    let mock = MockTransport::new().route(Method::GET, "/here", MockResponse::ok("x"));
    let session = session_over(&mock);
    let resp = session.post("http://api.test/here").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.text().await.unwrap(),
        "MockTransport: no route for POST /here"
    );
}

#[tokio::test]
async fn a_closure_answers_as_a_bare_transport() {
    let mock = MockTransport::from_fn(|req| {
        MockResponse::new(201)
            .header("x-echo-path", req.url().path())
            .body(req.body().clone())
    });
    // from_service: the mock is the whole stack (no session layers, no default headers).
    let session = Session::from_service(mock.clone());
    let resp = session
        .put("http://api.test/items/7")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-echo-path"], "/items/7");
    assert_eq!(resp.text().await.unwrap(), "payload");
    let seen = mock.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers().get("user-agent").is_none());
}

#[tokio::test]
async fn a_mounted_prefix_sends_only_its_urls_to_the_mock() {
    let mock = MockTransport::new().route_any("/v1/ping", MockResponse::ok("pong"));
    let session = Session::builder()
        .mount("http://api.test/v1/", mock.clone())
        .build()
        .unwrap();
    let resp = session.get("http://api.test/v1/ping").send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "pong");
    // Outside the prefix the pooled client is used: nothing listens on port 1.
    let err = session
        .get("http://127.0.0.1:1/v1/ping")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn the_example_tests_its_client_code_against_the_mock() {
    let out = example::run().await.unwrap();
    assert_eq!(out.name, "alice");
    assert_eq!(
        out.sent,
        [
            "POST http://api.example.com/login",
            "GET http://api.example.com/me",
            "GET http://api.example.com/me"
        ]
    );
}
