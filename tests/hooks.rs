//! `SessionBuilder::on_request` / `on_response`: where they sit in the stack. As requests'
//! response hook, they see each redirect hop but not each retried attempt.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_requests::http::HeaderValue;
use tower_requests::{Retry, Session};

mod support;

/// (path, a header's value) of each request.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[derive(Clone, Default)]
struct Seen {
    /// (path, x-hooked header) of every request the server got.
    requests: Log,
    flaky: Arc<AtomicUsize>,
}

async fn server() -> (support::TestServer, Seen) {
    let seen = Seen::default();
    let log = |seen: &Seen, path: &str, h: &HeaderMap| {
        let hooked = h.get("x-hooked").map(|v| v.to_str().unwrap().to_string());
        seen.requests
            .lock()
            .unwrap()
            .push((path.to_string(), hooked));
    };
    let (s1, s2, s3, s4) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    let app = Router::new()
        .route(
            "/a",
            get(move |h: HeaderMap| async move {
                log(&s1, "/a", &h);
                (StatusCode::FOUND, [("location", "/b")]).into_response()
            }),
        )
        .route(
            "/b",
            get(move |h: HeaderMap| async move {
                log(&s2, "/b", &h);
                "b"
            }),
        )
        .route(
            "/flaky",
            get(move |h: HeaderMap| async move {
                log(&s3, "/flaky", &h);
                if s3.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }),
        )
        .route(
            "/login",
            get(move |h: HeaderMap| async move {
                log(&s4, "/login", &h);
                ([("set-cookie", "sid=1; Path=/")], "in")
            }),
        );
    (support::TestServer::http(app).await, seen)
}

/// What the hooks saw: (path, cookie header) of requests and the statuses of responses.
#[derive(Clone, Default)]
struct Hooked {
    requests: Log,
    responses: Arc<Mutex<Vec<u16>>>,
}

fn hooked_session() -> (Session, Hooked) {
    let hooked = Hooked::default();
    let (reqs, resps) = (hooked.requests.clone(), hooked.responses.clone());
    let session = Session::builder()
        .retry(Retry::new().total(2).status_forcelist([503]))
        .on_request(move |parts| {
            let cookie = parts
                .headers
                .get("cookie")
                .map(|v| v.to_str().unwrap().to_string());
            reqs.lock()
                .unwrap()
                .push((parts.uri.path().to_string(), cookie));
            parts
                .headers
                .insert("x-hooked", HeaderValue::from_static("yes"));
        })
        .on_response(move |parts| resps.lock().unwrap().push(parts.status.as_u16()))
        .build()
        .unwrap();
    (session, hooked)
}

#[tokio::test]
async fn hooks_see_each_redirect_hop() {
    let (srv, seen) = server().await;
    let (session, hooked) = hooked_session();
    let resp = session.get(srv.url("/a")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "b");
    let paths: Vec<String> = hooked
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.0.clone())
        .collect();
    assert_eq!(paths, ["/a", "/b"]);
    assert_eq!(*hooked.responses.lock().unwrap(), [302, 200]);
    // The header the hook set went out on both hops.
    let sent = seen.requests.lock().unwrap().clone();
    assert_eq!(
        sent,
        [
            ("/a".to_string(), Some("yes".to_string())),
            ("/b".to_string(), Some("yes".to_string()))
        ]
    );
}

#[tokio::test]
async fn hooks_see_a_retried_request_once_and_its_last_response() {
    let (srv, seen) = server().await;
    let (session, hooked) = hooked_session();
    let resp = session.get(srv.url("/flaky")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // The server got two attempts, both with the hook's header...
    let sent = seen.requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|(_, h)| h.as_deref() == Some("yes")));
    // ... the hooks one request and one response, as requests' hook with urllib3 retries.
    assert_eq!(hooked.requests.lock().unwrap().len(), 1);
    assert_eq!(*hooked.responses.lock().unwrap(), [200]);
}

#[tokio::test]
async fn the_request_hook_sees_the_cookie_the_jar_adds() {
    let (srv, _seen) = server().await;
    let (session, hooked) = hooked_session();
    session.get(srv.url("/login")).send().await.unwrap();
    session.get(srv.url("/b")).send().await.unwrap();
    let reqs = hooked.requests.lock().unwrap().clone();
    assert_eq!(reqs[0], ("/login".to_string(), None));
    assert_eq!(reqs[1], ("/b".to_string(), Some("sid=1".to_string())));
}

#[tokio::test]
async fn several_hooks_run_in_the_order_added() {
    let (srv, _seen) = server().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let (o1, o2, o3) = (order.clone(), order.clone(), order.clone());
    let session = Session::builder()
        .on_request(move |_| o1.lock().unwrap().push("req 1"))
        .on_request(move |_| o2.lock().unwrap().push("req 2"))
        .on_response(move |_| o3.lock().unwrap().push("resp"))
        .build()
        .unwrap();
    session.get(srv.url("/b")).send().await.unwrap();
    assert_eq!(*order.lock().unwrap(), ["req 1", "req 2", "resp"]);
}

/// A token that is refreshed on a 401.
struct Token(Arc<Mutex<String>>);

impl tower_requests::layers::auth::Auth for Token {
    async fn authorize(
        &self,
        req: &mut tower_requests::http::request::Parts,
    ) -> Result<(), tower_requests::BoxError> {
        let value = format!("Bearer {}", self.0.lock().unwrap());
        req.headers
            .insert("authorization", HeaderValue::try_from(value)?);
        Ok(())
    }

    async fn on_unauthorized(
        &self,
        _sent: &tower_requests::http::request::Parts,
        res: &tower_requests::http::response::Parts,
    ) -> Result<bool, tower_requests::BoxError> {
        *self.0.lock().unwrap() = "fresh".into();
        Ok(res.status == StatusCode::UNAUTHORIZED)
    }
}

#[tokio::test]
async fn hooks_see_an_auth_challenge_and_its_answer() {
    use tower_requests::http::Method;
    use tower_requests::mock::{MockResponse, MockTransport};
    let mock = MockTransport::new().route_fn(Method::GET, "/api", |req| {
        match req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap())
        {
            Some("Bearer fresh") => MockResponse::ok("data"),
            _ => MockResponse::new(401),
        }
    });
    let auths = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let (a, s) = (auths.clone(), statuses.clone());
    let session = Session::builder()
        .mount("", mock)
        .auth(tower_requests::layers::AuthLayer::custom(Token(Arc::new(
            Mutex::new("stale".into()),
        ))))
        .on_request(move |parts| {
            let auth = parts.headers["authorization"].to_str().unwrap().to_string();
            a.lock().unwrap().push(auth);
        })
        .on_response(move |parts| s.lock().unwrap().push(parts.status.as_u16()))
        .build()
        .unwrap();
    let resp = session.get("http://api.test/api").send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "data");
    assert_eq!(*auths.lock().unwrap(), ["Bearer stale", "Bearer fresh"]);
    assert_eq!(*statuses.lock().unwrap(), [401, 200]);
}
