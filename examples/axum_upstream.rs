//! Interop (a): an axum handler that calls an upstream API through one shared `Session` kept in
//! the app's state. Because every handler call uses (a clone of) the same session, the
//! upstream's cookies persist across calls and its pooled connection is reused.
//! Everything runs on 127.0.0.1: `cargo run --example axum_upstream`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_requests::Session;

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The app's state: one session for all handlers (clones share pool and cookies).
#[derive(Clone)]
pub struct AppState {
    /// The shared session.
    pub session: Session,
    /// Base URL of the upstream API.
    pub upstream: String,
}

/// The app: `GET /profile` asks the upstream's `/me`, forwarding the caller's `x-request-id`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/profile", get(profile))
        .with_state(state)
}

async fn profile(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, (StatusCode, String)> {
    let bad_gateway = |e: tower_requests::Error| (StatusCode::BAD_GATEWAY, e.to_string());
    let mut call = state
        .session
        .get(format!("{}/me", state.upstream))
        .header("x-forwarded-by", "gateway");
    if let Some(id) = headers.get("x-request-id") {
        call = call.header("x-request-id", id.clone());
    }
    let upstream = call
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(bad_gateway)?;
    let body: Value = upstream.json().await.map_err(bad_gateway)?;
    Ok(Json(json!({ "from_upstream": body })))
}

/// One request as the upstream saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The client's address (the same address twice means the same pooled connection).
    pub peer: SocketAddr,
    /// The `Cookie` header ("" if none).
    pub cookie: String,
    /// The `x-forwarded-by` header.
    pub forwarded_by: String,
    /// The `x-request-id` header.
    pub request_id: String,
}

/// Everything the upstream saw, in order.
pub type UpstreamLog = Arc<Mutex<Vec<Seen>>>;

/// The upstream: counts visits in a cookie it sets, logs what it saw.
pub fn upstream(log: UpstreamLog) -> Router {
    Router::new().route(
        "/me",
        get(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap| async move {
                let text = |name: header::HeaderName| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let cookie = text(header::COOKIE);
                let visits: u32 = cookie
                    .split(';')
                    .find_map(|p| p.trim().strip_prefix("visits="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
                    + 1;
                let seen = Seen {
                    peer,
                    cookie,
                    forwarded_by: text(header::HeaderName::from_static("x-forwarded-by")),
                    request_id: text(header::HeaderName::from_static("x-request-id")),
                };
                log.lock().unwrap().push(seen.clone());
                (
                    [(header::SET_COOKIE, format!("visits={visits}; Path=/"))],
                    Json(json!({
                        "visits": visits,
                        "forwarded_by": seen.forwarded_by,
                        "request_id": seen.request_id,
                    })),
                )
                    .into_response()
            },
        ),
    )
}

/// Serve a router on a free 127.0.0.1 port (handlers may ask for the peer's address).
pub async fn serve(router: Router) -> Result<SocketAddr, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(addr)
}

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The app's answers, one per call.
    pub answers: Vec<Value>,
    /// What the upstream saw, one per call.
    pub seen: Vec<Seen>,
    /// The shared session's cookies at the end.
    pub shared_cookies: BTreeMap<String, String>,
}

/// Start both servers, call the app twice (through a `Session` too), return what happened.
pub async fn run() -> Result<Outcome, BoxError> {
    let log = UpstreamLog::default();
    let upstream_addr = serve(upstream(log.clone())).await?;
    println!("upstream API on http://{upstream_addr}");
    let shared = Session::new();
    let app_addr = serve(app(AppState {
        session: shared.clone(),
        upstream: format!("http://{upstream_addr}"),
    }))
    .await?;
    println!(
        "axum app on http://{app_addr} (its handler calls the upstream through one shared Session)"
    );

    let client = Session::new();
    let mut answers = Vec::new();
    for i in 1..=2 {
        let v: Value = client
            .get(format!("http://{app_addr}/profile"))
            .header("x-request-id", format!("req-{i}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        println!("GET /profile (x-request-id: req-{i}) -> {v}");
        answers.push(v);
    }
    let seen = log.lock().unwrap().clone();
    for (i, s) in seen.iter().enumerate() {
        println!(
            "upstream saw call {}: from {}, Cookie: {:?}, x-forwarded-by: {:?}, x-request-id: {:?}",
            i + 1,
            s.peer,
            s.cookie,
            s.forwarded_by,
            s.request_id
        );
    }
    let shared_cookies = shared.cookies().get_dict();
    println!("the shared session's cookies: {shared_cookies:?}");
    Ok(Outcome {
        answers,
        seen,
        shared_cookies,
    })
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
