//! Interop (a): an axum handler that calls an upstream API through one shared `Session` kept in
//! the app's state: the upstream's cookies persist across handler calls and the pool is reused.
//! Everything runs on 127.0.0.1: `cargo run --example axum_upstream`.

use std::net::SocketAddr;

use axum::extract::State;
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
    pub session: Session,
    pub upstream: String,
}

/// The app: `GET /profile` asks the upstream.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/profile", get(profile))
        .with_state(state)
}

async fn profile(State(state): State<AppState>) -> Result<Json<Value>, (StatusCode, String)> {
    let bad_gateway = |e: tower_requests::Error| (StatusCode::BAD_GATEWAY, e.to_string());
    let upstream = state
        .session
        .get(format!("{}/me", state.upstream))
        .header("x-forwarded-by", "gateway")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(bad_gateway)?;
    let body: Value = upstream.json().await.map_err(bad_gateway)?;
    Ok(Json(json!({ "from_upstream": body })))
}

/// The upstream: counts visits in a cookie it sets, and echoes who forwarded the call.
pub fn upstream() -> Router {
    Router::new().route(
        "/me",
        get(|headers: HeaderMap| async move {
            let visits: u32 = headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("visits=")))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
                + 1;
            let forwarded = headers
                .get("x-forwarded-by")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (
                [(header::SET_COOKIE, format!("visits={visits}; Path=/"))],
                Json(json!({ "visits": visits, "forwarded_by": forwarded })),
            )
                .into_response()
        }),
    )
}

/// Serve a router on a free 127.0.0.1 port.
pub async fn serve(router: Router) -> Result<SocketAddr, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// Start both servers, call the app twice, return what it answered.
pub async fn run() -> Result<Vec<Value>, BoxError> {
    let upstream = serve(upstream()).await?;
    let shared = Session::new();
    let app_addr = serve(app(AppState {
        session: shared.clone(),
        upstream: format!("http://{upstream}"),
    }))
    .await?;
    let client = Session::new();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let v: Value = client
            .get(format!("http://{app_addr}/profile"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        println!("app answered: {v}");
        answers.push(v);
    }
    println!(
        "the shared session's cookies: {:?}",
        shared.cookies().get_dict()
    );
    Ok(answers)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
