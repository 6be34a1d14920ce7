//! Redirect policies on a session: which redirects are followed and which keep credentials,
//! against real servers (two ports on 127.0.0.1 are two origins).

use std::sync::{Arc, Mutex};

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_requests::layers::redirect::policy::{
    self, Action, FilterCredentials, Limited, PolicyExt, SameOrigin,
};
use tower_requests::Session;

mod support;

/// `/to?u=URL` redirects to `URL`; `/chain/{n}` to `/chain/{n-1}`; anything else is echoed.
async fn redirector(log: Arc<Mutex<Vec<support::Seen>>>) -> support::TestServer {
    #[derive(serde::Deserialize)]
    struct To {
        u: String,
    }
    let app = Router::new()
        .route(
            "/to",
            get(|Query(to): Query<To>| async move {
                (StatusCode::FOUND, [(http::header::LOCATION, to.u)]).into_response()
            }),
        )
        .route(
            "/chain/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    let next = if n == 0 {
                        "/end".to_string()
                    } else {
                        format!("/chain/{}", n - 1)
                    };
                    (StatusCode::FOUND, [(http::header::LOCATION, next)]).into_response()
                },
            ),
        )
        .merge(support::echo_router(log));
    support::TestServer::http(app).await
}

fn to(server: &support::TestServer, target: &str) -> String {
    format!("{}?u={}", server.url("/to"), target)
}

#[tokio::test]
async fn same_origin_stops_at_another_origin_and_follows_on_its_own() {
    let (log_a, log_b) = (Arc::default(), Arc::new(Mutex::new(Vec::new())));
    let a = redirector(log_a).await;
    let b = redirector(log_b.clone()).await;
    let s = Session::builder()
        .trust_env(false)
        .redirect_policy(SameOrigin)
        .build()
        .unwrap();

    let resp = s.get(to(&a, &b.url("/x"))).send().await.unwrap();
    assert_eq!(resp.status(), 302, "the cross-origin 302 is the answer");
    assert!(resp.history().is_empty());
    assert!(
        log_b.lock().unwrap().is_empty(),
        "the other origin saw nothing"
    );

    let resp = s.get(to(&a, &a.url("/here"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/here");

    // The session's default follows both.
    let s = Session::builder().trust_env(false).build().unwrap();
    let resp = s.get(to(&a, &b.url("/x"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(log_b.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn limited_stops_with_the_3xx_where_max_redirects_fails() {
    let a = redirector(Arc::default()).await;
    let s = Session::builder()
        .trust_env(false)
        .redirect_policy(Limited(2))
        .build()
        .unwrap();
    let resp = s.get(a.url("/chain/5")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.history().len(), 2);
    assert_eq!(resp.url().path(), "/chain/3");

    let s = Session::builder()
        .trust_env(false)
        .max_redirects(2)
        .build()
        .unwrap();
    let err = s.get(a.url("/chain/5")).send().await.unwrap_err();
    assert!(err.is_redirect());
}

#[tokio::test]
async fn a_request_authorization_is_stripped_or_kept_by_the_policy() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let a = redirector(log.clone()).await;
    let b = redirector(Arc::default()).await;
    let cases: [(Option<FilterCredentials>, &str, bool); 4] = [
        (None, "same", true),
        (Some(FilterCredentials::block_any()), "same", false),
        (None, "cross", false),
        (Some(FilterCredentials::block_none()), "cross", true),
    ];
    for (policy, origin, kept) in cases {
        let mut builder = Session::builder().trust_env(false);
        if let Some(p) = policy {
            builder = builder.redirect_policy(p);
        }
        let s = builder.build().unwrap();
        let target = if origin == "same" {
            a.url("/landing")
        } else {
            b.url("/landing")
        };
        let seen: support::Seen = s
            .get(to(&a, &target))
            .bearer_auth("t0ken")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            seen.header("authorization").is_some(),
            kept,
            "{policy:?} {origin}"
        );
    }
}

#[tokio::test]
async fn a_policy_error_fails_the_call_as_a_redirect_error_with_its_source() {
    #[derive(Debug)]
    struct Forbidden;
    impl std::fmt::Display for Forbidden {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no redirects to /admin")
        }
    }
    impl std::error::Error for Forbidden {}

    let log = Arc::new(Mutex::new(Vec::new()));
    let a = redirector(log.clone()).await;
    let guard = policy::redirect_fn(|attempt: &policy::Attempt<'_>| {
        if attempt.location().path().starts_with("/admin") {
            Err(Forbidden.into())
        } else {
            Ok(Action::Follow)
        }
    });
    let s = Session::builder()
        .trust_env(false)
        .redirect_policy(guard.and(SameOrigin))
        .build()
        .unwrap();
    let err = s.get(to(&a, "/admin/x")).send().await.unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    let mut source = std::error::Error::source(&err);
    let mut found = false;
    while let Some(e) = source {
        found |= e.is::<Forbidden>();
        source = e.source();
    }
    assert!(found, "the policy's error is in the chain: {err:?}");
    assert!(log.lock().unwrap().is_empty(), "/admin was never requested");
    assert_eq!(
        s.get(to(&a, "/public")).send().await.unwrap().url().path(),
        "/public"
    );
}
