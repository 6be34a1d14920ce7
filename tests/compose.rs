//! The layers on stacks that are not ours: an axum `Router`, tower-http's layers, tower's
//! `Buffer` and `ConcurrencyLimit`.

use axum::body::Body as AxumBody;
use axum::routing::get;
use axum::Router;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_requests::layers::DefaultHeadersLayer;

/// A handler answering with the request's `x-app` and `user-agent` headers.
async fn echo(headers: HeaderMap) -> String {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    format!("{} {}", get("x-app"), get("user-agent"))
}

async fn text(resp: http::Response<AxumBody>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn default_headers_mount_on_an_axum_router() {
    let mut defaults = HeaderMap::new();
    defaults.insert("x-app", HeaderValue::from_static("demo"));
    defaults.insert("user-agent", HeaderValue::from_static("tower-requests"));
    // Compiles only because the layer keeps the Router's `Infallible` error.
    let app: Router = Router::new()
        .route("/", get(echo))
        .layer(DefaultHeadersLayer::new(defaults));

    let resp = app
        .clone()
        .oneshot(Request::get("/").body(AxumBody::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(text(resp).await, "demo tower-requests");

    // A header the request carries wins over the default.
    let req = Request::get("/")
        .header("user-agent", "mine")
        .body(AxumBody::empty())
        .unwrap();
    assert_eq!(text(app.oneshot(req).await.unwrap()).await, "demo mine");
}
