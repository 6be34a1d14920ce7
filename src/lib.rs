//! # tower-requests
//!
//! HTTP sessions the way Python's `requests.Session` gives them (cookies kept across requests,
//! session-wide headers and auth, a reused connection pool, retries with backoff, timeouts,
//! redirects), built as independent [tower](https://docs.rs/tower) layers over a pooled
//! hyper-util client.
//!
//! Take the ready [`Session`], or assemble your own stack from [`layers`] with
//! `tower::ServiceBuilder` and wrap it with [`Session::from_service`].
//!
//! ## The stack
//!
//! A [`Session`] is this stack of layers, top to bottom; each is an independent tower layer
//! from [`layers`] that you can also use on its own.
//!
//! | layer | what it does | set with |
//! |---|---|---|
//! | [`TotalTimeoutLayer`](layers::TotalTimeoutLayer) | one deadline for the whole call, redirects, retries and body included | [`SessionBuilder::timeout`], [`RequestBuilder::timeout`] |
//! | [`DefaultHeadersLayer`](layers::DefaultHeadersLayer) | session headers, only where the request has none | [`SessionBuilder::default_header`], [`Session::headers`] |
//! | tower-http's [`DecompressionLayer`](https://docs.rs/tower-http/latest/tower_http/decompression/) | gzip, br, deflate, zstd bodies, as the features allow | features `gzip`, `brotli`, `zstd`, `deflate` |
//! | [`FollowRedirectLayer`](layers::FollowRedirectLayer) | requests' redirect policy; each hop goes through the layers below | [`SessionBuilder::max_redirects`], [`SessionBuilder::redirects`] |
//! | [`AuthLayer`](layers::AuthLayer) | Basic, Bearer, Digest, custom; origin-scoped | [`SessionBuilder::basic_auth`], [`SessionBuilder::auth`] |
//! | [`CookieLayer`](layers::CookieLayer) | `Cookie` from the jar; every `Set-Cookie` into it | [`SessionBuilder::cookie_jar`], [`Session::cookies`] |
//! | hooks | your closures on each request and response head (tower's `map_request`/`map_response`): each redirect hop, not each retried attempt | [`SessionBuilder::on_request`], [`SessionBuilder::on_response`] |
//! | [`RetryLayer`](layers::RetryLayer) | urllib3's `Retry`: backoff, `Retry-After`, status list, budget | [`SessionBuilder::retry`] with [`Retry`] |
//! | [`TimeoutLayer`](layers::TimeoutLayer) | each attempt: connect + until the response head | [`SessionBuilder::attempt_timeout`] |
//! | your layers | anything tower | [`SessionBuilder::layer`] |
//! | mounted transports | another service for a URL prefix (longest wins), e.g. a [`mock::MockTransport`] | [`SessionBuilder::mount`] |
//! | [`HttpClient`] | hyper-util pooled client, rustls, HTTP/1.1 + HTTP/2, [`Proxy`] | [`SessionBuilder::proxy`], pool and TLS settings |
//!
//! ## Cargo features
//!
//! Items that need a feature carry an "Available on crate feature … only" badge.
//!
//! | feature | default | what it enables |
//! |---|---|---|
//! | `rustls` (alias `rustls-tls`) | yes | HTTPS: [`Certificate`], [`Identity`], [`TlsVersion`] and the TLS settings of [`SessionBuilder`]; without it `https://` is refused with an error |
//! | `http2` | yes | HTTP/2 by ALPN or prior knowledge |
//! | `json` | yes | [`RequestBuilder::json`], [`Response::json`] (serde_json) |
//! | `cookies` | yes | [`CookieJar`], [`Cookie`], [`Session::cookies`], [`Response::cookies`] |
//! | `decompression` | yes | all of `gzip`, `brotli`, `zstd`, `deflate` (one response encoding each) |
//! | `socks` | no | `socks5://` and `socks5h://` [`Proxy`] URLs |
//! | `persist` | no | cookie files: JSON and curl's `cookies.txt` ([`layers::cookie`]) |
//! | `tracing` | no | [`trace`]: a span per call and per attempt |
//! | `multipart` | no | `multipart::{Form, Part}` and `RequestBuilder::multipart` (`mime_guess`); off by default as in reqwest |
//! | `blocking` | no | `blocking`: the same session for synchronous code, its runtime on a thread of its own |
//!
//! ## From requests
//!
//! | requests                                             | tower-requests                                              |
//! |------------------------------------------------------|-------------------------------------------------------------|
//! | `s = requests.Session()`                             | `let s = Session::new();`                                   |
//! | `s.get(url, params={'k': 'v'})`                      | `s.get(url).query(&[("k", "v")]).send().await?`             |
//! | `s.post(url, data={'a': '1'})`                       | `s.post(url).form(&[("a", "1")]).send().await?`             |
//! | `s.post(url, json=obj)`                              | `s.post(url).json(&obj).send().await?`                      |
//! | `s.get(url, headers={'User-Agent': None})`           | `s.get(url).without_header(USER_AGENT)`                     |
//! | `s.get(url, timeout=10)`                             | `s.get(url).timeout(Duration::from_secs(10))`               |
//! | `s.headers.update({'Accept': 'application/json'})`   | `s.headers().insert(ACCEPT, value)` or `.default_header(..)`|
//! | `s.auth = ('user', 'pass')`                          | `Session::builder().basic_auth("user", "pass")`             |
//! | `s.proxies = {'https': 'http://proxy:3128'}`         | `.proxy(Proxy::https("http://proxy:3128")?)`                |
//! | `s.verify = 'ca.pem'`                                | `.add_root_certificate(Certificate::from_pem(pem)?)`        |
//! | `s.cert = ('client.pem', 'key.pem')`                 | `.identity(Identity::from_pem_parts(cert, key)?)`           |
//! | `s.mount('https://', HTTPAdapter(max_retries=Retry(total=3)))` | `.retry(Retry::new().total(3))` or `.mount("https://", stack)` |
//! | `s.max_redirects = 5`                                | `Session::builder().max_redirects(5)`                       |
//! | `s.get(url, allow_redirects=False)`                  | `s.get(url).redirects(false)` (`.max_redirects(n)` per call)|
//! | `s.get(url, timeout=5)`                              | `s.get(url).attempt_timeout(5 s)` (`.timeout(d)`: whole call)|
//! | `s.get(url, timeout=(3.05, 27))`                     | `.connect_timeout(3.05 s).read_timeout(27 s)`               |
//! | `s.post(url, data={'k': 'v'}, files={'f': open('a.pdf', 'rb')})` | `s.post(url).multipart(Form::new().text("k", "v").file("f", "a.pdf").await?)` (feature `multipart`; streamed from disk) |
//! | `s.hooks['response'].append(f)`                      | `Session::builder().on_response(f)` (each redirect hop, as requests; `.on_request(f)` too) |
//! | `requests-mock` / `responses` / a test `HTTPAdapter` | `Session::builder().mount("", MockTransport::new().route(..))`: no server, the session's layers still run |
//! | `s.cookies.set('k', 'v')`                            | `s.cookies().set("k", "v", &url)?`                          |
//! | `s.cookies.get_dict()`                               | `s.cookies().get_dict()`                                    |
//! | `s.cookies.clear('k')` / `s.cookies.clear()`         | `s.cookies().remove("k")` / `s.cookies().clear()`           |
//! | `r.status_code`, `r.headers`, `r.url`, `r.history`   | `r.status()`, `r.headers()`, `r.url()`, `r.history()`       |
//! | `r.text`, `r.content`, `r.json()`                    | `r.text().await?`, `r.bytes().await?`, `r.json().await?`    |
//! | `r.raise_for_status()`                               | `r.error_for_status()?`                                     |
//! | `r.cookies`                                          | `r.cookies()`                                               |
//! | `except requests.Timeout`                            | `Err(e) if e.is_timeout()`                                  |
//! | `except requests.ConnectionError`                    | `Err(e) if e.is_connect()`                                  |
//! | `except requests.HTTPError as e: e.response.status_code` | `Err(e) if e.is_status()` + `e.status()`                |
//! | `except requests.TooManyRedirects as e: e.response.status_code` | `Err(e) if e.is_redirect()` + `e.status()`       |
//! | `except requests.ConnectionError` after the request was sent | `Err(e) if e.is_request()`: it may have been processed, and was not resent |
//! | `except urllib3.exceptions.MaxRetryError` (`RetryError`) | `Err(e) if e.is_retry_exhausted()`                      |
//! | `with requests.Session() as s:`                      | a scope: dropping the last clone closes the pool            |
//! | a synchronous script: `r = s.get(url); r.text`       | `blocking::Session` (feature `blocking`): `s.get(url).send()?.text()?`, from a plain `fn main()` |
//! | `curl --resolve host:443:10.0.0.7` (requests: a custom adapter) | `.resolve("host", "10.0.0.7:0".parse()?)`: the URL's port wins, port `0` means the scheme's |
//! | requests_toolbelt's `SourceAddressAdapter('10.0.0.5')` | `.local_address(ip)`                                      |
//!
//! One row differs: with `HTTPDigestAuth`, requests puts the first `401` of the Digest round trip
//! in `r.history`; [`Response::history`] lists redirect hops only (the challenge is answered inside
//! the auth layer).
//!
//! ## From reqwest
//!
//! | reqwest 0.13                                         | tower-requests                                              |
//! |------------------------------------------------------|-------------------------------------------------------------|
//! | `let c = reqwest::Client::new();`                    | `let s = Session::new();` (cookies on, env proxies on)      |
//! | `Client::builder().cookie_store(true)`               | on by default (feature `cookies`); `.cookie_store(false)` to turn off, `.cookie_jar(jar)` to share one |
//! | `.cookie_provider(Arc<Jar>)`                         | `.cookie_jar(CookieJar)`; read it with `s.cookies().get_dict()` |
//! | `.default_headers(map)`                              | `.default_headers(map)`, and later `s.headers().insert(..)` |
//! | `.timeout(d)` / `.connect_timeout(d)`                | `.timeout(d)` / `.connect_timeout(d)`; `.attempt_timeout(d)` per attempt |
//! | `.retry(reqwest::retry::for_host(h).classify_fn(..))`| `.retry(Retry::new().total(3).backoff_factor(0.5).status_forcelist([503]))` |
//! | `.redirect(Policy::limited(5))` / `Policy::none()`   | `.max_redirects(5)` / `.redirects(false)`                   |
//! | `.proxy(reqwest::Proxy::https(url)?)`                | `.proxy(Proxy::https(url)?)`                                |
//! | `.add_root_certificate(reqwest::Certificate::from_pem(pem)?)` | `.add_root_certificate(Certificate::from_pem(pem)?)` |
//! | `.connector_layer(layer)`                            | `.layer(layer)` (around each request, above the client), or your own stack in [`Session::from_service`] |
//! | `c.get(url).query(..).form(..).json(..).send().await?` | `s.get(url).query(..).form(..).json(..).send().await?`    |
//! | `resp.status()`, `resp.url()`, `resp.text().await?`  | the same names; plus `resp.history()`, `resp.cookies()`     |
//! | `resp.error_for_status()?`                           | `resp.error_for_status()?`                                  |
//! | `e.is_timeout()`, `e.is_connect()`, `e.is_status()`  | the same, plus `e.is_retry_exhausted()`                     |
//! | `reqwest::blocking::Client` (panics inside a runtime) | `blocking::Session` (feature `blocking`; an error inside a runtime) |
//! | `.resolve(domain, addr)` / `.local_address(ip)`      | the same names, the same port rule                          |
//!
//! ## Assemble your own
//!
//! The layers are [`tower_requests::layers`](crate::layers) (the `tower-requests-layers` crate,
//! re-exported); stacking them takes `tower`'s `ServiceBuilder` (`cargo add tower`).
//!
//! ```no_run
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//! use tower_requests::layers::{CookieLayer, FollowRedirectLayer};
//! use tower_requests::layers::retry::RetryLayer;
//! use tower_requests::{CookieJar, HttpClient, Retry, Session};
//!
//! # async fn run() -> Result<(), tower_requests::Error> {
//! let jar = CookieJar::new();
//! let stack = ServiceBuilder::new()
//!     .layer(FollowRedirectLayer::new())
//!     .layer(CookieLayer::new(jar.clone()))
//!     .layer(RetryLayer::new(Retry::new().total(3).backoff_factor(0.5)))
//!     .service(HttpClient::new());
//! let session = Session::from_service(stack);
//! let resp = session.get("http://127.0.0.1:8080/").send().await?;
//! println!("{} {:?}", resp.status(), jar.get_dict());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "blocking")]
pub mod blocking;
mod boxed;
mod build_error;
mod client;
mod connect;
mod delivery;
mod error;
mod forward;
mod hooks;
mod layer_errors;
mod limit;
pub mod mock;
#[cfg(feature = "multipart")]
pub mod multipart;
mod proxy;
mod request;
mod resolve;
mod response;
mod session;
mod stack;
#[cfg(feature = "rustls")]
mod tls;
#[cfg(feature = "tracing")]
pub mod trace;
mod url_cache;

pub use tower_requests_layers as layers;

pub use boxed::{box_service, BoxService, BoxServiceFuture};
pub use build_error::BuildError;
pub use client::{HttpClient, HttpClientBuilder, ResponseFuture, DEFAULT_POOL_MAX_IDLE};
pub use connect::ProxyError;
pub use error::{Error, Result};
pub use layers::retry::Retry;
pub use layers::{Body, BoxError};
pub use proxy::Proxy;
pub use request::{IntoUrl, Pending, RequestBuilder};
pub use response::{Response, DEFAULT_MAX_BODY_SIZE};
pub use session::{Session, SessionBuilder, SessionFuture};
#[cfg(feature = "rustls")]
pub use tls::{Certificate, Identity, TlsVersion};

#[cfg(feature = "cookies")]
pub use layers::cookie::Cookie;
/// The cookie jar (from [`layers::cookie`]), shared by handle: cloning it gives another handle to
/// the same cookies, and [`SessionBuilder::cookie_jar`] hands one to a session.
///
/// Against a small server (hidden lines) where `/login` sets `sid` and `/whoami` echoes the
/// `Cookie` header it received:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{http::{header, HeaderMap}, routing::get, Router};
/// # let app = Router::new()
/// #     .route("/login", get(|| async { ([(header::SET_COOKIE, "sid=abc; Path=/; HttpOnly")], "hi") }))
/// #     .route("/whoami", get(|h: HeaderMap| async move {
/// #         h.get(header::COOKIE).map_or("-", |v| v.to_str().unwrap()).to_string()
/// #     }));
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let base = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, app).await });
/// use tower_requests::{CookieJar, Session, Url};
///
/// let jar = CookieJar::new();
/// // `base` is the test server's address, `http://127.0.0.1:<port>`.
/// let site = Url::parse(&base)?;
/// jar.set("theme", "dark", &site)?; // requests' jar.set(name, value)
///
/// let session = Session::builder().cookie_jar(jar.clone()).build()?;
/// session.get(format!("{base}/login")).send().await?;
/// assert_eq!(jar.get("sid").as_deref(), Some("abc")); // the server's cookie, in our handle
///
/// let sent = session.get(format!("{base}/whoami")).send().await?.text().await?;
/// assert_eq!(sent, "theme=dark; sid=abc"); // both cookies, oldest first
///
/// assert_eq!(jar.get_dict().len(), 2);
/// jar.remove("theme");
/// assert_eq!(jar.cookie_header(&site).unwrap(), "sid=abc");
/// # Ok(()) }
/// ```
#[cfg(feature = "cookies")]
pub use layers::cookie::CookieJar;

pub use http;
pub use url::Url;

// Every Rust code block of the README compiles (and runs, unless `no_run`) as a doctest.
#[cfg(all(doctest, feature = "cookies", feature = "json"))]
#[doc = include_str!("../README.md")]
mod readme {}
