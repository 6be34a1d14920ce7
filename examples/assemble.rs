//! Interop (b): assemble your own session. Our `CookieLayer` and `RetryLayer` stacked with
//! tower-http's `TraceLayer` and `DecompressionLayer` and tower's `RateLimitLayer`, over a raw
//! hyper-util client, then wrapped in the facade with `Session::from_service`.
//! `cargo run --example assemble` (in-process upstream on 127.0.0.1). The trace layer's output
//! is one line per finished call; `ASSEMBLE_TRACE=full` prints every tower-http trace
//! event in tracing's full format.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;
use tower::buffer::BufferLayer;
use tower::limit::RateLimitLayer;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::DecompressionLayer;
use tower_http::trace::TraceLayer;
use tower_requests::layers::cookie::CookieLayer;
use tower_requests::layers::retry::RetryLayer;
use tower_requests::{Body, CookieJar, Retry, Session};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The text `/gzip` serves (compressed on the wire).
pub fn text() -> String {
    "compressible text ".repeat(200)
}

/// What the upstream saw.
#[derive(Debug, Default)]
pub struct Upstream {
    /// Hits on `/flaky` (the first one answers 503).
    pub flaky_hits: AtomicUsize,
    /// The `Cookie` header of every `/private` request.
    pub private_cookies: Mutex<Vec<String>>,
    /// (`Accept-Encoding` received, `Content-Encoding` sent) for every `/gzip` request.
    pub gzip: Mutex<Vec<(String, String)>>,
    /// When each `/burst` request arrived (tokio time, so tests can pause it).
    pub burst: Mutex<Vec<Instant>>,
}

impl Upstream {
    /// How many `/burst` requests arrived so far.
    pub fn burst_hits(&self) -> usize {
        self.burst.lock().unwrap().len()
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The upstream: sets a cookie and checks it, fails once, answers gzip, logs burst arrivals.
pub fn upstream(state: Arc<Upstream>) -> Router {
    let (private, flaky, gzip, burst) = (state.clone(), state.clone(), state.clone(), state);
    Router::new()
        .route(
            "/login",
            get(|| async { ([(header::SET_COOKIE, "token=abc; Path=/")], "ok") }),
        )
        .route(
            "/private",
            get(move |h: HeaderMap| async move {
                let cookie = header_text(&h, header::COOKIE);
                let ok = cookie.split(';').any(|c| c.trim() == "token=abc");
                private.private_cookies.lock().unwrap().push(cookie);
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }),
        )
        .route(
            "/flaky",
            get(move || async move {
                if flaky.flaky_hits.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }),
        )
        .route(
            "/gzip",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain")], text()) })
                .layer(
                    CompressionLayer::new()
                        .gzip(true)
                        .no_br()
                        .no_deflate()
                        .no_zstd(),
                )
                .layer(middleware::from_fn(move |req: Request, next: Next| {
                    let gzip = gzip.clone();
                    async move {
                        let accept = header_text(req.headers(), header::ACCEPT_ENCODING);
                        let resp = next.run(req).await;
                        let sent = header_text(resp.headers(), header::CONTENT_ENCODING);
                        gzip.gzip.lock().unwrap().push((accept, sent));
                        resp
                    }
                })),
        )
        .route(
            "/burst",
            get(move || async move {
                burst.burst.lock().unwrap().push(Instant::now());
                "ok".into_response()
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

/// The hand-assembled session: at most `rate` requests per `per` reach the wire.
pub fn assembled(jar: CookieJar, rate: u64, per: Duration) -> Session {
    let raw: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let stack = ServiceBuilder::new()
        // one span per call, above everything (a retried call is still one call)
        .layer(TraceLayer::new_for_http())
        // Accept-Encoding offered, gzip/deflate/br/zstd bodies decoded
        .layer(DecompressionLayer::new())
        .layer(CookieLayer::new(jar))
        .layer(RetryLayer::new(
            Retry::new().total(2).status_forcelist([503]),
        ))
        // `RateLimit` is not `Clone`; a `Buffer` in front of it is, and every clone of the
        // session then shares the one limiter (each attempt, retries included, is limited).
        .layer(BufferLayer::new(64))
        .layer(RateLimitLayer::new(rate, per))
        .service(raw);
    Session::from_service(stack)
}

/// A subscriber that writes tower-http's trace events (DEBUG and up) to `writer`.
pub fn trace_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(writer))
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("tower_http", tracing::Level::DEBUG),
        )
}

/// The example's default: one line per finished call (tower-http's `on_response` event,
/// with the request span's method and URI), no timestamps or targets.
pub fn short_trace_subscriber() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .compact()
                .without_time()
                .with_target(false)
                .with_level(false),
        )
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("tower_http::trace::make_span", tracing::Level::DEBUG)
                .with_target("tower_http::trace::on_response", tracing::Level::DEBUG),
        )
}

/// What the cookie / retry / gzip calls answered.
#[derive(Debug, Default)]
pub struct Answers {
    /// `/private` after `/login`.
    pub private: u16,
    /// `/flaky` (after the retry layer).
    pub flaky: u16,
    /// The decoded `/gzip` body.
    pub gzip_text: String,
}

/// Log in (cookie into the jar), call `/private` (cookie sent), `/flaky` (retried), `/gzip`.
pub async fn calls(session: &Session, jar: &CookieJar, base: &str) -> Result<Answers, BoxError> {
    session.get(format!("{base}/login")).send().await?;
    let private = session
        .get(format!("{base}/private"))
        .send()
        .await?
        .status();
    println!(
        "jar after /login: {:?}; /private -> {private}",
        jar.get_dict()
    );
    let flaky = session.get(format!("{base}/flaky")).send().await?.status();
    println!("/flaky -> {flaky} (the 503 was retried; the retry also waits for the rate limit)");
    let resp = session.get(format!("{base}/gzip")).send().await?;
    let encoding = resp.headers().get(header::CONTENT_ENCODING).cloned();
    let gzip_text = resp.text().await?;
    println!(
        "/gzip -> {} decoded bytes, Content-Encoding left on the response: {encoding:?}",
        gzip_text.len()
    );
    Ok(Answers {
        private: private.as_u16(),
        flaky: flaky.as_u16(),
        gzip_text,
    })
}

/// Send `n` requests to `/burst` at once; returns each call's status.
pub async fn burst(session: &Session, base: &str, n: usize) -> Result<Vec<u16>, BoxError> {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let s = session.clone();
            let url = format!("{base}/burst");
            tokio::spawn(async move { s.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await??);
    }
    Ok(statuses)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::var("ASSEMBLE_TRACE").is_ok_and(|v| v == "full") {
        tracing::subscriber::set_global_default(trace_subscriber(std::io::stdout))?;
    } else {
        tracing::subscriber::set_global_default(short_trace_subscriber())?;
    }
    let state = Arc::new(Upstream::default());
    let base = format!("http://{}", serve(upstream(state.clone())).await?);
    println!("upstream on {base}");
    println!("stack: Trace > Decompression > Cookie > Retry > Buffer > RateLimit(3 per 500 ms) > hyper-util client");
    let jar = CookieJar::new();
    let session = assembled(jar.clone(), 3, Duration::from_millis(500));

    calls(&session, &jar, &base).await?;
    println!(
        "upstream saw: Cookie on /private {:?}, /flaky hit {} times, /gzip (Accept-Encoding, Content-Encoding) {:?}",
        state.private_cookies.lock().unwrap(),
        state.flaky_hits.load(Ordering::SeqCst),
        state.gzip.lock().unwrap()
    );

    // the limiter counts attempts: the retried /flaky above may have waited for a new window
    tokio::time::sleep(Duration::from_millis(500)).await; // start the burst on a fresh window
    let start = Instant::now();
    let statuses = burst(&session, &base, 6).await?;
    let arrivals: Vec<u128> = state
        .burst
        .lock()
        .unwrap()
        .iter()
        .map(|t| t.saturating_duration_since(start).as_millis())
        .collect();
    println!("burst of 6 through the rate limit: statuses {statuses:?}, arrivals (ms after start) {arrivals:?}");
    Ok(())
}
