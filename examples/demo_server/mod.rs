//! The in-process demo server every example starts: the endpoints the article talks to, on
//! 127.0.0.1, over plain HTTP and over HTTPS with a self-signed (rcgen) certificate. No network
//! is needed.
//!
//! | endpoint                         | what it does                                                  |
//! |----------------------------------|---------------------------------------------------------------|
//! | `POST /login.py` (form)          | `login_email` + `password=pw` → sets `session_id` cookie       |
//! | `POST /login` (JSON)             | `{"username","password"}` → sets `session_id` cookie           |
//! | `GET /profile_data.json`         | the logged-in user's profile (needs the cookie), else 401     |
//! | `GET /user/data`                 | data of the Basic-auth user (or the cookie's user), else 401  |
//! | `GET /cookies`                   | `{"cookies": {...}}` the cookies received (httpbin)           |
//! | `GET /headers`                   | `{"headers": {...}}` the headers received (httpbin)           |
//! | `GET /delay/{seconds}`           | answers after that long (fractions allowed)                   |
//! | `GET /status/{code}`             | answers with that status                                      |
//! | `GET /flaky/{key}?fail=N`        | 503 for the first N hits of `key` (default 2), then 200       |
//! | `GET /unstable-endpoint`         | 503 on every other hit                                        |
//! | `GET /redirect/{n}`              | 302 chain of n hops ending at `/get`                          |
//! | `GET /get`, `ANY /anything`      | echo                                                          |
#![allow(dead_code)]

pub mod tls;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Users the demo knows: (name, password).
pub const USERS: &[(&str, &str)] = &[
    ("me@example.com", "pw"),
    ("user", "pass"),
    ("user1", "password1"),
    ("user2", "password2"),
    ("username", "password"),
];

/// What the server counted.
#[derive(Default)]
pub struct Stats {
    /// TCP connections accepted (plain + TLS).
    pub connections: AtomicUsize,
    /// TCP connections closed (by either side).
    pub closed: AtomicUsize,
    /// Requests answered.
    pub requests: AtomicUsize,
    flaky: Mutex<HashMap<String, usize>>,
    unstable: AtomicUsize,
    sessions: Mutex<HashMap<String, String>>,
    next_session: AtomicUsize,
    /// The last request's headers, per path (for examples that print what the server saw).
    pub last_headers: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

/// A running demo server.
pub struct Demo {
    /// Plain HTTP address.
    pub http: SocketAddr,
    /// HTTPS address (certificate: [`Demo::cert_pem`]).
    pub https: SocketAddr,
    /// PEM of the self-signed certificate (valid for 127.0.0.1 and localhost).
    pub cert_pem: String,
    /// Counters.
    pub stats: Arc<Stats>,
}

impl Demo {
    /// Start both listeners on free 127.0.0.1 ports.
    pub async fn start() -> Demo {
        let stats = Arc::new(Stats::default());
        let app = router(stats.clone());
        let tls = tls::self_signed();
        let http = listen(app.clone(), None, stats.clone()).await;
        let https = listen(app, Some(Arc::new(tls.config)), stats.clone()).await;
        Demo {
            http,
            https,
            cert_pem: tls.cert_pem,
            stats,
        }
    }

    /// Start the server on a thread of its own running its own runtime, for synchronous
    /// programs (the blocking examples): it serves until the process ends.
    pub fn start_on_thread() -> Demo {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("demo server runtime");
            rt.block_on(async move {
                let _ = tx.send(Demo::start().await);
                std::future::pending::<()>().await
            });
        });
        rx.recv().expect("the demo server started")
    }

    /// `http://127.0.0.1:port{path}`
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    /// `https://127.0.0.1:port{path}`
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{}", self.https, path)
    }

    /// The certificate to trust for [`Demo::https_url`].
    pub fn root_certificate(&self) -> tower_requests::Certificate {
        tower_requests::Certificate::from_pem(self.cert_pem.as_bytes()).expect("demo certificate")
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::SeqCst)
    }

    /// Connections open right now (accepted and not yet closed).
    pub fn open_connections(&self) -> usize {
        let closed = self.stats.closed.load(Ordering::SeqCst);
        self.connections().saturating_sub(closed)
    }

    /// Wait (up to `max`) until at most `n` connections are open; the number open then.
    pub async fn wait_open_at_most(&self, n: usize, max: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + max;
        while self.open_connections() > n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.open_connections()
    }

    /// The headers the server saw on the last request to `path`.
    pub fn last_headers(&self, path: &str) -> BTreeMap<String, String> {
        self.stats
            .last_headers
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

async fn listen(
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    stats: Arc<Stats>,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            stats.connections.fetch_add(1, Ordering::SeqCst);
            let service = TowerToHyperService::new(app.clone());
            let acceptor = acceptor.clone();
            let stats = stats.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                stats.closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    addr
}

fn router(stats: Arc<Stats>) -> Router {
    Router::new()
        .route("/login.py", post(login_form))
        .route("/login", post(login_json))
        .route("/profile_data.json", get(profile))
        .route("/user/data", get(user_data))
        .route("/cookies", get(cookies))
        .route("/headers", get(headers))
        .route("/delay/{secs}", get(delay))
        .route("/status/{code}", any(status))
        .route("/flaky/{key}", any(flaky))
        .route("/unstable-endpoint", any(unstable))
        .route("/redirect/{n}", get(redirect))
        .route("/get", get(echo))
        .route("/anything", any(echo))
        .route("/anything/{*rest}", any(echo))
        .layer(axum::middleware::from_fn_with_state(stats.clone(), count))
        .with_state(stats)
}

async fn count(
    State(stats): State<Arc<Stats>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    stats
        .last_headers
        .lock()
        .unwrap()
        .insert(req.uri().path().to_string(), headers);
    next.run(req).await
}

fn cookie_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn session_user(stats: &Stats, headers: &HeaderMap) -> Option<String> {
    let sid = cookie_map(headers).remove("session_id")?;
    stats.sessions.lock().unwrap().get(&sid).cloned()
}

fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    USERS
        .iter()
        .any(|(u, p)| *u == user && *p == pass)
        .then(|| user.to_string())
}

fn start_session(stats: &Stats, user: &str) -> Response {
    let n = stats.next_session.fetch_add(1, Ordering::SeqCst);
    let sid = format!("s{n:04}");
    stats
        .sessions
        .lock()
        .unwrap()
        .insert(sid.clone(), user.to_string());
    (
        [(
            header::SET_COOKIE,
            format!("session_id={sid}; Path=/; HttpOnly; SameSite=Lax"),
        )],
        Json(json!({"status": "ok", "user": user})),
    )
        .into_response()
}

async fn login_form(
    State(stats): State<Arc<Stats>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let email = form.get("login_email").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if USERS.iter().any(|(u, p)| *u == email && *p == password) {
        start_session(&stats, &email)
    } else {
        (StatusCode::UNAUTHORIZED, "bad credentials").into_response()
    }
}

async fn login_json(State(stats): State<Arc<Stats>>, Json(body): Json<Value>) -> Response {
    let user = body["username"].as_str().unwrap_or_default();
    let pass = body["password"].as_str().unwrap_or_default();
    if USERS.iter().any(|(u, p)| *u == user && *p == pass) {
        start_session(&stats, user)
    } else {
        (StatusCode::UNAUTHORIZED, "bad credentials").into_response()
    }
}

async fn profile(State(stats): State<Arc<Stats>>, headers: HeaderMap) -> Response {
    match session_user(&stats, &headers) {
        Some(user) => Json(
            json!({"email": user, "name": user.split('@').next().unwrap_or(""), "plan": "free"}),
        )
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, "login first").into_response(),
    }
}

async fn user_data(State(stats): State<Arc<Stats>>, headers: HeaderMap) -> Response {
    match basic_user(&headers).or_else(|| session_user(&stats, &headers)) {
        Some(user) => {
            Json(json!({"user": user, "data": format!("private data of {user}")})).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"demo\"")],
            "authentication required",
        )
            .into_response(),
    }
}

async fn cookies(headers: HeaderMap) -> Json<Value> {
    Json(json!({ "cookies": cookie_map(&headers) }))
}

async fn headers(headers: HeaderMap) -> Json<Value> {
    let map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Json(json!({ "headers": map }))
}

async fn delay(Path(secs): Path<f64>) -> Json<Value> {
    let secs = secs.clamp(0.0, 10.0);
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    Json(json!({ "delayed": secs }))
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, format!("status {code}")).into_response()
}

async fn flaky(
    State(stats): State<Arc<Stats>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, usize>>,
) -> Response {
    let fail = q.get("fail").copied().unwrap_or(2);
    let hit = {
        let mut map = stats.flaky.lock().unwrap();
        let n = map.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    if hit <= fail {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("attempt {hit}: try again"),
        )
            .into_response()
    } else {
        Json(json!({"attempt": hit, "ok": true})).into_response()
    }
}

async fn unstable(State(stats): State<Arc<Stats>>) -> Response {
    let n = stats.unstable.fetch_add(1, Ordering::SeqCst);
    if n.is_multiple_of(2) {
        (StatusCode::SERVICE_UNAVAILABLE, "unstable").into_response()
    } else {
        Json(json!({"ok": true, "hit": n + 1})).into_response()
    }
}

async fn redirect(Path(n): Path<u32>) -> Response {
    let to = if n <= 1 {
        "/get".to_string()
    } else {
        format!("/redirect/{}", n - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn echo(req: Request) -> Json<Value> {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Json(json!({
        "method": parts.method.as_str(),
        "url": parts.uri.to_string(),
        "headers": headers,
        "data": String::from_utf8_lossy(&body),
    }))
}
