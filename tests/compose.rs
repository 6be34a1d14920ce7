//! The layers on stacks that are not ours: an axum `Router`, tower-http's layers, tower's
//! `Buffer` and `ConcurrencyLimit`.

use axum::body::Body as AxumBody;
use axum::routing::get;
use axum::Router;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_requests::layers::DefaultHeadersLayer;

mod support;

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

#[tokio::test]
async fn cookie_layer_mounts_on_an_axum_router() {
    use tower_requests::layers::CookieLayer;
    use tower_requests::CookieJar;

    // Cookies the app sets are kept in the jar, and sent on the next request into the app.
    let jar = CookieJar::new();
    let app: Router = Router::new()
        .route(
            "/set",
            get(|| async { ([(http::header::SET_COOKIE, "sid=abc; Path=/")], "set") }),
        )
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                headers
                    .get(http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string()
            }),
        )
        .layer(CookieLayer::new(jar.clone()));
    let req = |path: &str| {
        Request::get(format!("http://app.test{path}"))
            .body(AxumBody::empty())
            .unwrap()
    };
    assert_eq!(
        text(app.clone().oneshot(req("/set")).await.unwrap()).await,
        "set"
    );
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    assert_eq!(
        text(app.oneshot(req("/echo")).await.unwrap()).await,
        "sid=abc"
    );
}

/// A server for the foreign-stack cases: `/login` sets a cookie and redirects to `/me`, which
/// answers (gzip-compressed when asked) with what it saw.
async fn login_server() -> support::TestServer {
    let me = |headers: HeaderMap| async move {
        let get = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string()
        };
        // Long enough for the compression layer to compress it.
        format!(
            "cookie={} app={} trace={} auth={} {}",
            get("cookie"),
            get("x-app"),
            get("x-trace"),
            get("authorization"),
            "padding ".repeat(64)
        )
    };
    let app = Router::new()
        .route(
            "/login",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [
                        (http::header::SET_COOKIE, "sid=abc; Path=/"),
                        (http::header::LOCATION, "/me"),
                    ],
                )
            }),
        )
        .route("/me", get(me))
        .layer(tower_http::compression::CompressionLayer::new());
    support::TestServer::http(app).await
}

#[tokio::test]
async fn our_layers_interleaved_with_tower_and_tower_http_layers() {
    use std::time::Duration;
    use tower::ServiceBuilder;
    use tower_http::decompression::DecompressionLayer;
    use tower_http::set_header::SetRequestHeaderLayer;
    use tower_http::trace::TraceLayer;
    use tower_requests::layers::{
        AuthLayer, CookieLayer, DefaultHeadersLayer, FollowRedirectLayer, RetryLayer, TimeoutLayer,
    };
    use tower_requests::{CookieJar, HttpClient, Retry, Session};

    let server = login_server().await;
    let jar = CookieJar::new();
    let mut defaults = HeaderMap::new();
    defaults.insert("x-app", HeaderValue::from_static("demo"));
    let stack = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(DecompressionLayer::new())
        .layer(DefaultHeadersLayer::new(defaults))
        .layer(SetRequestHeaderLayer::overriding(
            http::header::HeaderName::from_static("x-trace"),
            HeaderValue::from_static("1"),
        ))
        .layer(FollowRedirectLayer::new())
        .layer(AuthLayer::bearer("t0k3n"))
        .layer(CookieLayer::new(jar.clone()))
        .layer(tower::limit::ConcurrencyLimitLayer::new(4))
        .layer(RetryLayer::new(Retry::new().total(2)))
        .layer(tower::buffer::BufferLayer::new(16))
        .layer(TimeoutLayer::new(Duration::from_secs(10)))
        .service(HttpClient::new());
    let session = Session::from_service(stack).with_cookie_jar(jar.clone());

    let resp = session.get(server.url("/login")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.url().path().ends_with("/me"), "{}", resp.url());
    let body = resp.text().await.unwrap();
    // The cookie set on the 302 was sent on the hop, the headers of every layer arrived, and
    // the gzip body was decoded by tower-http's layer.
    assert!(
        body.starts_with("cookie=sid=abc app=demo trace=1 auth=Bearer t0k3n "),
        "{body}"
    );
    assert_eq!(session.cookies().get("sid").as_deref(), Some("abc"));
}

#[tokio::test]
async fn a_session_over_a_hand_built_stack_hands_out_its_handles() {
    use tower::ServiceBuilder;
    use tower_requests::layers::{CookieLayer, DefaultHeadersLayer, SharedHeaders};
    use tower_requests::{CookieJar, HttpClient, Session};

    let server = login_server().await;
    let jar = CookieJar::new();
    let headers = SharedHeaders::new(HeaderMap::new());
    let stack = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::shared(headers.clone()))
        .layer(tower_requests::layers::FollowRedirectLayer::new())
        .layer(CookieLayer::new(jar.clone()))
        .service(HttpClient::new());
    let session = Session::from_service(stack)
        .with_cookie_jar(jar)
        .with_headers(headers);

    // A header set through the session's handle reaches the stack...
    session.headers().insert(
        http::header::HeaderName::from_static("x-app"),
        HeaderValue::from_static("late"),
    );
    let body = session
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("cookie=sid=abc app=late "), "{body}");
    // ...and the cookie the stack stored is seen through the session's handle.
    assert_eq!(session.cookies().get("sid").as_deref(), Some("abc"));
}

#[tokio::test]
async fn every_replaying_layer_over_a_bare_hyper_util_client_with_axum_bodies() {
    use axum::routing::post;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tower::ServiceBuilder;
    use tower_requests::layers::{
        AuthLayer, BufferBodyLayer, CookieLayer, FollowRedirectLayer, RetryLayer, TimeoutLayer,
    };
    use tower_requests::{Body, CookieJar, Retry};

    // `/old` answers 307 to `/new`; `/new` answers 503 once, then echoes what it got.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route(
            "/old",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(http::header::LOCATION, "/new")],
                )
            }),
        )
        .route(
            "/new",
            post(move |headers: HeaderMap, body: String| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    let auth = headers.get("authorization").is_some();
                    (StatusCode::OK, format!("{body} auth={auth}"))
                }
            }),
        );
    let server = support::TestServer::http(app).await;
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let svc = ServiceBuilder::new()
        .layer(BufferBodyLayer::new(64 * 1024))
        .layer(FollowRedirectLayer::new())
        .layer(AuthLayer::basic("u", "p"))
        .layer(CookieLayer::new(CookieJar::new()))
        .layer(RetryLayer::new(
            Retry::new()
                .total(2)
                .status_forcelist([503])
                .allowed_methods([http::Method::POST]),
        ))
        .layer(TimeoutLayer::new(std::time::Duration::from_secs(10)))
        .service(client);

    // axum's own body type, sent through a 307 (replayed) and a 503 retry (replayed again).
    let req = Request::post(server.url("/old"))
        .body(AxumBody::from("payload"))
        .unwrap();
    let resp = svc.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"payload auth=true");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// The layers that can fail by themselves (a timeout, an auth error, an exhausted retry) mount
/// with `Router::layer` the way axum mounts any fallible middleware: behind `HandleErrorLayer`,
/// which turns their error into a response. `Router::layer` wraps each route on its own, so the
/// redirect layer, which must reach the other routes, goes around the whole Router instead. The
/// Router's handlers are then the "server": a redirect between its routes is followed, a 503
/// retried, a slow handler cut off.
#[tokio::test]
async fn the_fallible_layers_mount_on_an_axum_router_behind_handle_error() {
    use axum::error_handling::HandleErrorLayer;
    use axum::routing::post;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use tower::ServiceBuilder;
    use tower_requests::layers::timeout::Elapsed;
    use tower_requests::layers::{
        AuthLayer, BufferBodyLayer, FollowRedirectLayer, RetryLayer, TimeoutLayer,
    };
    use tower_requests::{BoxError, Retry};

    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router: Router = Router::new()
        .route(
            "/old",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(http::header::LOCATION, "/flaky")],
                )
            }),
        )
        .route(
            "/flaky",
            post(move |headers: HeaderMap, body: String| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    let auth = headers
                        .get("authorization")
                        .map_or("-", |v| v.to_str().unwrap());
                    (StatusCode::OK, format!("{auth} {body}"))
                }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|e: BoxError| async move {
                    let status = if e.is::<Elapsed>() {
                        StatusCode::GATEWAY_TIMEOUT
                    } else {
                        StatusCode::BAD_GATEWAY
                    };
                    (status, e.to_string())
                }))
                .layer(BufferBodyLayer::new(64 * 1024))
                .layer(AuthLayer::basic("u", "p"))
                .layer(RetryLayer::new(
                    Retry::new()
                        .total(2)
                        .backoff_factor(0.0)
                        .status_forcelist([503])
                        .allowed_methods([http::Method::POST]),
                ))
                .layer(TimeoutLayer::new(Duration::from_millis(200))),
        );
    let app = ServiceBuilder::new()
        .layer(BufferBodyLayer::new(64 * 1024))
        .layer(FollowRedirectLayer::new())
        .service(router);

    // axum's body through a 307 (replayed) and a 503 retry (replayed again), credentials added.
    let req = Request::post("http://app.test/old")
        .body(AxumBody::from("payload"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = text(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "Basic dTpw payload");
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // The attempt timeout's typed error, turned into a response by HandleErrorLayer.
    let req = Request::get("http://app.test/slow")
        .body(AxumBody::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
}
