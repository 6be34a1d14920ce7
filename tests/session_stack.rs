//! The default stack as a whole: layers in DESIGN.md's order, seen through `Session`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http::Method;
use support::{echo, echo_router, TestServer};
use tower_requests::{Retry, Session, Url};

fn cookie_redirect_app() -> Router {
    Router::new()
        .route(
            "/set-and-redirect",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [
                        (header::SET_COOKIE, "hop=1; Path=/"),
                        (header::LOCATION, "/landing"),
                    ],
                )
            }),
        )
        .route(
            "/landing",
            get(|headers: HeaderMap| async move {
                headers
                    .get(header::COOKIE)
                    .map(|v| v.to_str().unwrap_or("").to_string())
                    .unwrap_or_default()
            }),
        )
}

#[tokio::test]
async fn cookie_set_on_a_redirect_hop_is_sent_to_the_target() {
    let server = TestServer::http(cookie_redirect_app()).await;
    let session = Session::new();
    let resp = session
        .get(server.url("/set-and-redirect"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/landing");
    assert_eq!(resp.history().len(), 1);
    assert_eq!(resp.history()[0].status, StatusCode::FOUND);
    assert_eq!(resp.text().await.unwrap(), "hop=1");
    assert_eq!(session.cookies().get("hop").as_deref(), Some("1"));
}

/// The caller's own Cookie header comes first, the jar adds only the pairs it lacks, on the
/// first request and on a same-origin hop (which also gets the cookie the 3xx set).
#[tokio::test]
async fn caller_cookie_header_and_jar_cookies_merge_without_duplicates() {
    let server = TestServer::http(cookie_redirect_app()).await;
    let session = Session::new();
    let url = Url::parse(&server.url("/")).unwrap();
    session.cookies().set("sid", "abc", &url).unwrap();
    let resp = session
        .get(server.url("/set-and-redirect"))
        .header("cookie", "mine=1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/landing");
    assert_eq!(resp.text().await.unwrap(), "mine=1; sid=abc; hop=1");

    // A caller header that already names a jar cookie with its value: sent once.
    let resp = session
        .get(server.url("/landing"))
        .header("cookie", "sid=abc; mine=1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "sid=abc; mine=1; hop=1");
    // The same URL again (the jar's kept header): the same answer.
    let resp = session.get(server.url("/landing")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "sid=abc; hop=1");
    let resp = session.get(server.url("/landing")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "sid=abc; hop=1");
}

#[tokio::test]
async fn redirects_can_be_disabled_and_are_capped() {
    let app = Router::new().route(
        "/loop/{n}",
        get(|Path(n): Path<u32>| async move {
            (
                StatusCode::FOUND,
                [(header::LOCATION, format!("/loop/{}", n + 1))],
            )
        }),
    );
    let server = TestServer::http(app).await;
    let no_follow = Session::builder().redirects(false).build().unwrap();
    let resp = no_follow.get(server.url("/loop/0")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(resp.history().is_empty());

    let err = Session::new()
        .get(server.url("/loop/0"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert!(!err.is_connect());

    let three = Session::builder().max_redirects(3).build().unwrap();
    let err = three.get(server.url("/loop/0")).send().await.unwrap_err();
    assert!(err.is_redirect());
}

#[tokio::test]
async fn session_auth_never_crosses_origins_on_redirect() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let other = TestServer::http(echo_router(log.clone())).await;
    // Another host name (cookies ignore ports, so another port on 127.0.0.1 would rightly get
    // the 127.0.0.1 cookie; Authorization is dropped on any origin change).
    let target = format!("http://localhost:{}/elsewhere", other.addr.port());
    let app = Router::new().route(
        "/go",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
        }),
    );
    let first = TestServer::http(app).await;
    let session = Session::builder()
        .basic_auth("alice", "s3cret")
        .build()
        .unwrap();
    let url = Url::parse(&first.url("/")).unwrap();
    session.cookies().set("sid", "abc", &url).unwrap();
    let seen = echo(
        session
            .get(first.url("/go"))
            .header("proxy-authorization", "Basic cHJveHk6cHc="),
    )
    .await;
    assert_eq!(seen.uri, "/elsewhere");
    assert_eq!(seen.header("authorization"), None, "{seen:?}");
    assert_eq!(seen.header("proxy-authorization"), None);
    assert_eq!(seen.header("cookie"), None);

    // Another port on the same host: a new origin for credentials, the same host for cookies.
    let app = Router::new().route(
        "/go",
        get({
            let target = other.url("/port");
            move || {
                let target = target.clone();
                async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
            }
        }),
    );
    let second = TestServer::http(app).await;
    let seen = echo(session.get(second.url("/go"))).await;
    assert_eq!(seen.uri, "/port");
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("cookie"), Some("sid=abc"));

    // Called directly, the session's credentials are sent.
    let seen = echo(session.get(other.url("/direct"))).await;
    assert!(seen.header("authorization").unwrap().starts_with("Basic "));
}

#[tokio::test]
async fn per_request_auth_beats_session_auth() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log)).await;
    let session = Session::builder()
        .bearer_auth("session-token")
        .build()
        .unwrap();
    let seen = echo(session.get(server.url("/")).basic_auth("bob", Some("pw"))).await;
    assert_eq!(seen.header("authorization"), Some("Basic Ym9iOnB3"));
    let seen = echo(session.get(server.url("/"))).await;
    assert_eq!(seen.header("authorization"), Some("Bearer session-token"));
}

fn flaky_app(hits: Arc<AtomicUsize>, failures: usize) -> Router {
    Router::new().route(
        "/flaky",
        get(move || {
            let hits = hits.clone();
            async move {
                let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= failures {
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                } else {
                    "ok".into_response()
                }
            }
        })
        .post(|| async { StatusCode::SERVICE_UNAVAILABLE }),
    )
}

#[tokio::test]
async fn session_retry_follows_urllib3() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = TestServer::http(flaky_app(hits.clone(), 2)).await;
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(3)
                .backoff_factor(0.0)
                .status_forcelist([503]),
        )
        .build()
        .unwrap();
    let resp = session.get(server.url("/flaky")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // POST is not in the default allowed methods: one hit, the 503 comes back.
    let resp = session.post(server.url("/flaky")).send().await.unwrap();
    assert_eq!(resp.status(), 503);

    let exhausted = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .status_forcelist([503])
                .allowed_methods([Method::POST]),
        )
        .build()
        .unwrap();
    let err = exhausted
        .post(server.url("/flaky"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_retry_exhausted(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
}

fn slow_app() -> Router {
    Router::new()
        .route(
            "/slow-head",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let stream = async_stream_body();
                axum::body::Body::from_stream(stream)
            }),
        )
}

fn async_stream_body(
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(0u32, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        (n < 2).then(|| (Ok(axum::body::Bytes::from_static(b"chunk")), n + 1))
    })
}

#[tokio::test]
async fn timeouts_total_attempt_per_request_and_body() {
    let server = TestServer::http(slow_app()).await;

    let total = Session::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = total
        .get(server.url("/slow-head"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    let attempt = Session::builder()
        .attempt_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = attempt
        .get(server.url("/slow-head"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    // A per-request timeout replaces the session's (shorter here than a long session timeout).
    let long = Session::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = long
        .get(server.url("/slow-head"))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A session without a timeout: a request's own bounds it, head and body, and the next
    // request without one is not bounded.
    let plain = Session::new();
    let err = plain
        .get(server.url("/slow-head"))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let resp = plain
        .get(server.url("/slow-body"))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap();
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_timeout() && err.is_body(), "{err:?}");
    let unbounded = tokio::time::timeout(
        Duration::from_millis(800),
        plain.get(server.url("/slow-head")).send(),
    )
    .await;
    assert!(unbounded.is_err(), "cut short: {unbounded:?}");

    // The head arrives, the body stalls: reading the body times out (total deadline).
    let resp = total.get(server.url("/slow-body")).send().await.unwrap();
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_timeout() && err.is_body(), "{err:?}");

    // ... and with a per-attempt (read) timeout too.
    let resp = attempt.get(server.url("/slow-body")).send().await.unwrap();
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn connect_timeout_against_a_full_backlog() {
    let (listener, _fillers) = support::unanswered_listener().await;
    let addr = listener.local_addr().unwrap();
    let session = Session::builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = session
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_connect(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(listener);
}

#[tokio::test]
async fn two_sessions_never_share_cookies_and_a_shared_jar_is_shared() {
    let app = Router::new()
        .route(
            "/set/{v}",
            get(|Path(v): Path<String>| async move {
                ([(header::SET_COOKIE, format!("who={v}; Path=/"))], "set")
            }),
        )
        .route(
            "/who",
            get(|headers: HeaderMap| async move {
                headers
                    .get(header::COOKIE)
                    .map(|v| v.to_str().unwrap_or("").to_string())
                    .unwrap_or_default()
            }),
        );
    let server = TestServer::http(app).await;
    let a = Session::new();
    let b = Session::new();
    a.get(server.url("/set/a")).send().await.unwrap();
    b.get(server.url("/set/b")).send().await.unwrap();
    assert_eq!(
        a.get(server.url("/who"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "who=a"
    );
    assert_eq!(
        b.get(server.url("/who"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "who=b"
    );

    let shared = tower_requests::CookieJar::new();
    let c = Session::builder()
        .cookie_jar(shared.clone())
        .build()
        .unwrap();
    let d = Session::builder()
        .cookie_jar(shared.clone())
        .build()
        .unwrap();
    c.get(server.url("/set/shared")).send().await.unwrap();
    assert_eq!(
        d.get(server.url("/who"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "who=shared"
    );

    let off = Session::builder().cookie_store(false).build().unwrap();
    off.get(server.url("/set/x")).send().await.unwrap();
    assert_eq!(
        off.get(server.url("/who"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        ""
    );
    assert!(off.cookies().is_empty());
}

#[tokio::test]
async fn a_users_layer_sees_every_attempt() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = TestServer::http(flaky_app(Arc::new(AtomicUsize::new(0)), 1)).await;
    let counter = hits.clone();
    let session = Session::builder()
        .retry(Retry::new().total(2).status_forcelist([503]))
        .layer(tower::layer::layer_fn(
            move |inner: tower_requests::BoxService| {
                let counter = counter.clone();
                tower::ServiceBuilder::new()
                    .map_request(move |mut req: http::Request<tower_requests::Body>| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        req.headers_mut().insert("x-signed", "1".parse().unwrap());
                        req
                    })
                    .service(inner)
            },
        ))
        .build()
        .unwrap();
    let resp = session.get(server.url("/flaky")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "the layer sits under the retry layer"
    );
}

#[tokio::test]
async fn response_cookies_lists_what_this_response_set() {
    let app = Router::new().route(
        "/c",
        get(|| async {
            (
                axum::response::AppendHeaders([
                    (header::SET_COOKIE, "a=1; Path=/"),
                    (header::SET_COOKIE, "b=2; Max-Age=0"),
                    (header::SET_COOKIE, "c=3; Domain=com"),
                    (header::SET_COOKIE, "d=4; HttpOnly; SameSite=Strict"),
                ]),
                "ok",
            )
        }),
    );
    let server = TestServer::http(app).await;
    let resp = Session::new().get(server.url("/c")).send().await.unwrap();
    let names: Vec<String> = resp
        .cookies()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(
        names,
        ["a", "d"],
        "deleted and rejected cookies are left out"
    );
    assert!(resp.cookies()[1].http_only());
}

#[tokio::test]
async fn a_user_layers_back_pressure_is_waited_for_not_bypassed() {
    // The session's boxed stack asks for readiness at call time; a layer that is not ready
    // (here a concurrency limit of 1) must make later calls wait inside their futures, with
    // the task's waker, until it is.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), peak.clone());
    let transport = tower::service_fn(move |_req: http::Request<tower_requests::Body>| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(http::Response::new(tower_requests::Body::from("ok")))
        }
    });
    let session = Session::builder()
        .mount("http://", transport)
        .layer(tower::limit::ConcurrencyLimitLayer::new(1))
        .build()
        .unwrap();
    let calls = (0..4).map(|i| {
        let session = session.clone();
        async move {
            let resp = session
                .get(format!("http://limited.test/{i}"))
                .send()
                .await
                .unwrap();
            resp.text().await.unwrap()
        }
    });
    let bodies = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("every call finishes: waiting calls are woken");
    assert_eq!(bodies, ["ok", "ok", "ok", "ok"]);
    assert_eq!(peak.load(Ordering::SeqCst), 1, "never two at once");
}

/// A body sent as a stream of these parts (chunked): hyper cannot have all of it at once, so a
/// client that drops it unread loses the connection.
fn chunked<const N: usize>(parts: [&'static str; N]) -> axum::body::Body {
    let frames = parts.map(|p| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(p)));
    axum::body::Body::from_stream(futures_util::stream::iter(frames))
}

/// A redirect whose 3xx carries a body, as most servers' do ("Redirecting to ...").
fn redirect_body_app() -> Router {
    let page = "<p>Redirecting to <a href=\"/final\">/final</a></p>\n".repeat(8);
    Router::new()
        .route(
            "/small",
            get(move || async move { (StatusCode::FOUND, [(header::LOCATION, "/final")], page) }),
        )
        .route(
            "/chunked",
            get(|| async {
                (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, "/final")],
                    chunked(["Redirecting ", "to ", "/final"]),
                )
            }),
        )
        .route(
            "/big",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "/final")],
                    vec![b'x'; tower_requests_layers::body::MAX_DRAIN as usize + 1],
                )
            }),
        )
        .route("/final", get(|| async { "done" }))
}

#[tokio::test]
async fn a_followed_3xx_body_is_read_so_its_connection_is_reused() {
    for path in ["/small", "/chunked"] {
        let server = TestServer::http(redirect_body_app()).await;
        let session = Session::new();
        for _ in 0..10 {
            let resp = session.get(server.url(path)).send().await.unwrap();
            assert_eq!(resp.history().len(), 1);
            assert_eq!(resp.text().await.unwrap(), "done");
        }
        // 20 requests. The connection that carried a 3xx goes back to the pool once its body
        // is read; the next hop may be quicker to open a second connection than the pool is
        // to get the first one back, but never more than that. (Dropping the body unread
        // closes the connection unless all of it had already arrived: hyper keeps those. The
        // chunked body comes in several writes: 11 connections for 10 calls without the
        // drain.)
        assert!(
            server.accepts() <= 2,
            "{path}: {} connections for 10 redirected calls",
            server.accepts()
        );
    }
}

#[tokio::test]
async fn a_long_3xx_body_is_not_read_and_the_redirect_is_still_followed() {
    let server = TestServer::http(redirect_body_app()).await;
    let session = Session::new();
    for _ in 0..3 {
        let resp = session.get(server.url("/big")).send().await.unwrap();
        assert_eq!(resp.history().len(), 1);
        assert_eq!(resp.text().await.unwrap(), "done");
    }
    // Each /big connection is closed with its body unread; /final reuses one of the others.
    assert!(server.accepts() >= 3, "{} connections", server.accepts());
}

/// A server whose 3xx says `Content-Length: 100` and sends 10 bytes before closing: the body
/// fails while it is drained, and the redirect is followed on a new connection all the same
/// (requests does the same: it reads `resp.content` and ignores the error).
#[tokio::test]
async fn a_3xx_body_that_fails_is_dropped_and_the_redirect_followed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(m) => n += m,
                    }
                }
                let reply: &[u8] = if buf[..n].starts_with(b"GET /lie ") {
                    b"HTTP/1.1 302 Found\r\nlocation: /final\r\ncontent-length: 100\r\n\r\n0123456789"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndone"
                };
                let _ = sock.write_all(reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    let session = Session::new();
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        session.get(format!("http://{addr}/lie")).send(),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert_eq!(resp.history().len(), 1);
    assert_eq!(resp.text().await.unwrap(), "done");
}

/// The retried 503's body is read during the backoff (urllib3's `drain_conn()`), so the retry
/// can reuse its connection. The 503 comes in chunks, so hyper alone would close it.
#[tokio::test]
async fn a_retried_responses_body_is_read_so_its_connection_is_reused() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let app = Router::new().route(
        "/busy",
        get(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n.is_multiple_of(2) {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        chunked(["Service ", "Unavailable", "\n"]),
                    )
                        .into_response()
                } else {
                    "done".into_response()
                }
            }
        }),
    );
    let server = TestServer::http(app).await;
    let session = Session::builder()
        .retry(Retry::new().total(1).status_forcelist([503]))
        .build()
        .unwrap();
    for _ in 0..10 {
        let resp = session.get(server.url("/busy")).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), "done");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 20);
    assert!(
        server.accepts() <= 2,
        "{} connections for 10 retried calls",
        server.accepts()
    );
}
