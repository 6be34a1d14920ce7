//! Per-request control, as requests gives it: `allow_redirects=False` and a per-call redirect
//! limit, whatever the session does; a `TooManyRedirects` error keeps the last 3xx's status.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_requests::Session;

mod support;

/// `/r/{n}` redirects to `/r/{n-1}`, `/r/0` answers "end".
async fn chain_server() -> support::TestServer {
    let app = Router::new().route(
        "/r/{n}",
        get(|Path(n): Path<u32>| async move {
            if n == 0 {
                "end".into_response()
            } else {
                (
                    StatusCode::FOUND,
                    [(http::header::LOCATION, format!("/r/{}", n - 1))],
                )
                    .into_response()
            }
        }),
    );
    support::TestServer::http(app).await
}

fn session() -> tower_requests::SessionBuilder {
    Session::builder().trust_env(false)
}

#[tokio::test]
async fn redirects_false_returns_the_3xx_as_it_is() {
    let server = chain_server().await;
    let s = session().build().unwrap();
    let resp = s
        .get(server.url("/r/3"))
        .redirects(false)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/r/2");
    assert!(resp.history().is_empty());
    // The next call follows again: the setting was this request's only.
    let resp = s.get(server.url("/r/3")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");
}

#[tokio::test]
async fn redirects_true_follows_even_when_the_session_does_not() {
    let server = chain_server().await;
    let s = session().redirects(false).build().unwrap();
    let resp = s.get(server.url("/r/2")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let resp = s
        .get(server.url("/r/2"))
        .redirects(true)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");
}

#[tokio::test]
async fn max_redirects_per_request_beats_the_session_limit() {
    let server = chain_server().await;
    let s = session().max_redirects(1).build().unwrap();
    let resp = s
        .get(server.url("/r/4"))
        .max_redirects(5)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");
    assert_eq!(resp_history_len(&s, &server, 4).await, 4);

    let err = s
        .get(server.url("/r/4"))
        .max_redirects(2)
        .send()
        .await
        .expect_err("4 redirects, 2 allowed");
    assert!(err.is_redirect(), "{err:?}");
    // As requests' `e.response`: the last 3xx's status is kept.
    assert_eq!(err.status(), Some(StatusCode::FOUND));
}

#[tokio::test]
async fn the_session_limit_and_the_on_off_switch_are_independent() {
    let server = chain_server().await;
    // Turning redirects on after setting a limit keeps the limit (it used to reset it to 30).
    let s = session().max_redirects(2).redirects(true).build().unwrap();
    let err = s.get(server.url("/r/3")).send().await.expect_err("3 > 2");
    assert!(err.is_redirect(), "{err:?}");
    let resp = s.get(server.url("/r/2")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");

    // Off for the session, with a limit: a request that turns redirects on gets that limit.
    let s = session().max_redirects(2).redirects(false).build().unwrap();
    let resp = s.get(server.url("/r/1")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let err = s
        .get(server.url("/r/3"))
        .redirects(true)
        .send()
        .await
        .expect_err("3 > 2");
    assert!(err.is_redirect(), "{err:?}");
    let resp = s
        .get(server.url("/r/2"))
        .redirects(true)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");
}

async fn resp_history_len(s: &Session, server: &support::TestServer, n: u32) -> usize {
    let resp = s
        .get(server.url(&format!("/r/{n}")))
        .max_redirects(10)
        .send()
        .await
        .unwrap();
    resp.history().len()
}

/// `/slow-head`: answers after 400 ms. `/slow-body`: the head at once, then "a", a 400 ms pause,
/// then "b".
async fn slow_server() -> support::TestServer {
    use std::time::Duration;
    let app = Router::new()
        .route(
            "/slow-head",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "late"
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let chunks = futures_util::stream::unfold(0u8, |i| async move {
                    match i {
                        0 => Some((Ok::<_, std::io::Error>("a"), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(400)).await;
                            Some((Ok("b"), 2))
                        }
                        _ => None,
                    }
                });
                axum::body::Body::from_stream(chunks)
            }),
        );
    support::TestServer::http(app).await
}

#[tokio::test]
async fn attempt_timeout_per_request_with_or_without_a_session_one() {
    use std::time::Duration;
    let server = slow_server().await;
    let plain = session().build().unwrap();
    let err = plain
        .get(server.url("/slow-head"))
        .attempt_timeout(Duration::from_millis(100))
        .send()
        .await
        .expect_err("the head takes 400 ms");
    assert!(err.is_timeout(), "{err:?}");
    // The next request has no limit.
    let resp = plain.get(server.url("/slow-head")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "late");

    // A request's own limit replaces the session's.
    let strict = session()
        .attempt_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    strict
        .get(server.url("/slow-head"))
        .send()
        .await
        .unwrap_err();
    let resp = strict
        .get(server.url("/slow-head"))
        .attempt_timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "late");
}

#[tokio::test]
async fn read_timeout_per_request_cuts_a_stalled_body() {
    use std::time::Duration;
    let server = slow_server().await;
    let s = session().build().unwrap();
    let resp = s
        .get(server.url("/slow-body"))
        .read_timeout(Duration::from_millis(100))
        .send()
        .await
        .expect("the head comes at once");
    let err = resp.text().await.expect_err("the body stalls 400 ms");
    assert!(err.is_timeout(), "{err:?}");
    // Without it the body arrives whole.
    let resp = s.get(server.url("/slow-body")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "ab");
}

#[tokio::test]
async fn a_request_connect_timeout_bounds_a_new_connection_only() {
    use std::time::Duration;
    let (listener, _fillers) = support::unanswered_listener().await;
    let addr = listener.local_addr().unwrap();
    // No timeout of the session's own: without the request's, this would wait for the
    // system's connect timeout (minutes); the outer limit fails the test instead.
    let s = session().build().unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        s.get(format!("http://{addr}/"))
            .connect_timeout(Duration::from_millis(300))
            .send(),
    )
    .await
    .expect("the request's connect_timeout ends the wait")
    .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(format!("{err:#}").contains("connect timed out"), "{err:#}");

    // A pooled connection needs no connecting: the tiniest limit does not matter then.
    let server = chain_server().await;
    let text = s.get(server.url("/r/0")).send().await.unwrap().text().await;
    assert_eq!(text.unwrap(), "end");
    tokio::time::sleep(Duration::from_millis(50)).await; // back in the pool
    let resp = s
        .get(server.url("/r/0"))
        .connect_timeout(Duration::from_nanos(1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "end");
    assert_eq!(
        server.accepts(),
        1,
        "the second request reused the connection"
    );
    drop(listener);
}
