//! `CookieLayer` and `CookieJar`: RFC 6265 / 6265bis cookies with a bundled Public Suffix List.
//!
//! [`CookieLayer`] adds the Cookie header for each request's URL from a [`CookieJar`] and stores
//! every response's Set-Cookie headers (3xx included) in the jar before the response goes up.
//! Requests with a relative URI pass through untouched.
//!
//! ```
//! use http::{header, Request, Response};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::cookie::{CookieJar, CookieLayer};
//! use tower_requests_layers::{Body, BoxError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let jar = CookieJar::new();
//! let svc = ServiceBuilder::new()
//!     .layer(CookieLayer::new(jar.clone()))
//!     .service(service_fn(|req: Request<Body>| async move {
//!         let seen = req.headers().get(header::COOKIE).cloned();
//!         let mut res = Response::new(Body::empty());
//!         res.headers_mut()
//!             .insert(header::SET_COOKIE, "sid=abc; Path=/; HttpOnly".parse().unwrap());
//!         if let Some(seen) = seen {
//!             res.headers_mut().insert("x-seen", seen);
//!         }
//!         Ok::<_, BoxError>(res)
//!     }));
//!
//! let first = Request::get("http://example.com/login").body(Body::empty())?;
//! svc.clone().oneshot(first).await?;
//! assert_eq!(jar.get("sid").as_deref(), Some("abc"));
//!
//! let second = Request::get("http://example.com/profile")
//!     .header(header::COOKIE, "mine=1")
//!     .body(Body::empty())?;
//! let res = svc.oneshot(second).await?;
//! assert_eq!(res.headers()["x-seen"], "mine=1; sid=abc"); // the caller's own cookies first
//! # Ok(())
//! # }
//! ```
//!
//! # Rules
//! The jar's default store, [`DefaultCookieStore`], follows RFC 6265 with the RFC 6265bis
//! updates browsers apply, and passes all 218 cases of the public http-state parser suite
//! (scored under 6265bis, see `tests/cookie_http_state.rs`):
//! - Set-Cookie lines are parsed step by step as 6265bis 5.6 says: the last attribute of a name
//!   wins, an empty `Path` resets to the default path, an empty or non-numeric `Max-Age` is
//!   ignored, dates are read with the RFC 6265 5.1.1 algorithm (any delimiters, 2-digit years,
//!   `UTC` as well as `GMT`), not in fixed formats.
//! - `Domain` must cover the request host and may not be a public suffix (`com`, `co.uk`,
//!   `github.io`: the list of the [`psl`] crate, compiled in, no network); a `Domain` equal to the
//!   host is allowed and gives a host-only cookie; a trailing-dot `Domain` (`example.com.`)
//!   matches nothing. IP-address hosts get host-only cookies only.
//! - default path and path matching as in RFC 6265 5.1.4.
//! - `Max-Age` beats `Expires`; both are capped at 400 days; `Max-Age<=0` or a past `Expires`
//!   deletes. Expired cookies are removed from the jar, not only left out of headers.
//! - `Secure` cookies are neither accepted from nor sent to plain http, except to potentially
//!   trustworthy hosts (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`) as browsers do; a
//!   non-secure origin cannot set a cookie that shadows a Secure one of the same name whose
//!   domain matches its domain either way (a parent domain shadows too).
//! - `__Secure-` needs `Secure`; `__Host-` needs `Secure`, no `Domain` and `Path=/` (prefixes
//!   matched case-insensitively); a name-less cookie may not have a value that looks prefixed.
//! - a line with a control character (other than HTAB) is rejected; name-less cookies
//!   (`Set-Cookie: token`) are kept and sent as the bare value.
//! - the Cookie header lists longest paths first, then earliest creation.
//! - [`CookieLimits`]: 4096 bytes per cookie (name + value), 50 per domain, 3000 in all; the
//!   oldest cookie is evicted when a limit is reached.
//! - `SameSite` is parsed and kept but not enforced (an HTTP client has no "site for cookies";
//!   requests does not enforce it either).
//!
//! # The store is pluggable
//! [`CookieJar::with_store`] puts any [`CookieStore`] behind the jar (and so behind
//! [`CookieLayer`]). With the `cookie-store` feature, `CookieStoreBackend` runs the jar on a
//! `cookie_store::CookieStore` (for code that already keeps one, e.g. with
//! reqwest_cookie_store); with `persist` too, `CookieJar::import_cookie_store_json` and
//! `export_cookie_store_json` move its JSON files into and out of the default store.
//!
//! # Why a default store of our own rather than `cookie_store` 0.22
//! Measured here (`cargo bench --bench cookies --features cookie-store`, and
//! `cookie_store_backend_differences` in `tests/cookie_jar.rs` for the rules):
//! - it scans every domain of the store per request: with 10 000 cookies over 1 000 domains a
//!   Cookie header costs about 0.5-0.6 ms with `cookie_store`, against about 0.4 µs here, where
//!   cookies are indexed by domain (one hash lookup per label of the host, whatever the jar's
//!   size);
//! - it bundles no Public Suffix List (it takes a `publicsuffix::List` parsed at runtime, or
//!   none: then `Domain=com` is accepted and sent to every `.com` site);
//! - it has no `__Secure-`/`__Host-` rules and no caps (60 cookies for one domain are all kept),
//!   and accepts `Secure` cookies from plain http;
//! - it keeps expired cookies: a deletion leaves the cookie in the store, expired;
//! - it keeps no name-less cookies and sends cookies in its hash maps' order, not longest path
//!   first: 181-185 of the 218 http-state cases under 6265bis.
//!
//! Like this store, `cookie_store` 0.22 treats `localhost` and loopback addresses (`127.0.0.0/8`,
//! `::1`) as secure when sending, so Secure cookies go to them over plain http (it does not
//! extend that to `*.localhost`).
//!
//! # Redirects and retries
//! A redirect layer above this one (this crate's, or tower-http's) builds each hop from the
//! request as it was before this layer, so every hop comes through here without jar cookies:
//! it gets the jar's cookies for its own URL, including cookies a 3xx just set. A retry layer
//! below replays the header as this layer built it. The caller's own Cookie header comes first
//! and the jar adds only the cookies whose name it does not already carry (a caller's
//! `Cookie: s=hand` with `s=2` in the jar sends `s=hand`, never `s=hand; s=2`): a request that
//! passes the layer again (a second layer sharing the jar, a request re-sent as it was seen
//! below) gets no cookie twice. A caller that needs the header rebuilt instead (the caller's part + the
//! jar's cookies now) marks its part with [`UserCookie`].
//!
//! # On a hyper-util client
//!
//! The layer mounted on a stack that is not this crate's: a bare `hyper_util` pooled client,
//! against a small server started on 127.0.0.1 (hidden lines).
//!
//! ```
//! # use std::convert::Infallible;
//! # use hyper::body::Incoming;
//! # use hyper_util::rt::{TokioExecutor, TokioIo};
//! use bytes::Bytes;
//! use http::{header, Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::cookie::{CookieJar, CookieLayer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // `/login` sets a cookie; every path answers with the Cookie header it got.
//! #     let cookie = req.headers().get(header::COOKIE).cloned();
//! #     let mut resp = Response::new(Full::from(cookie.map_or(Bytes::new(), |v| Bytes::copy_from_slice(v.as_bytes()))));
//! #     if req.uri().path() == "/login" {
//! #         resp.headers_mut().insert(header::SET_COOKIE, "sid=abc; Path=/; HttpOnly".parse().unwrap());
//! #     }
//! #     resp
//! # }
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! # tokio::spawn(async move {
//! #     loop {
//! #         let (io, _) = listener.accept().await.unwrap();
//! #         let svc = hyper::service::service_fn(|req| async move { Ok::<_, Infallible>(handle(req).await) });
//! #         tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), svc));
//! #     }
//! # });
//! let jar = CookieJar::new();
//! let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let svc = ServiceBuilder::new()
//!     .layer(CookieLayer::new(jar.clone()))
//!     .service(client);
//!
//! svc.clone().oneshot(Request::get(format!("{base}/login")).body(Full::default())?).await?;
//! let resp = svc.oneshot(Request::get(format!("{base}/me")).body(Full::default())?).await?;
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "sid=abc");
//! assert_eq!(jar.get("sid").as_deref(), Some("abc"));
//! # Ok(())
//! # }
//! ```
#![cfg_attr(
    feature = "persist",
    doc = "\n# Persistence\nWith the `persist` feature: [`CookieJar::save_json`], [`CookieJar::load_json`], \
[`CookieJar::save_netscape`], [`CookieJar::load_netscape`] (curl's cookies.txt). Writes go to a \
temporary file in the same directory, renamed over the target (atomic); a malformed file is an \
error that leaves the jar untouched; expired cookies are dropped on load."
)]

mod backend;
#[cfg(feature = "cookie-store")]
mod cookie_store_backend;
mod date;
mod error;
mod future;
mod jar;
mod layer;
mod model;
mod parse;
#[cfg(feature = "persist")]
mod persist;
#[cfg(feature = "redis")]
mod redis;
mod service;
mod store;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis_name::InvalidName;
pub use backend::{CookieStore, DefaultCookieStore};
#[cfg(feature = "cookie-store")]
pub use cookie_store_backend::CookieStoreBackend;
pub use error::CookieError;
pub use future::ResponseFuture;
pub use jar::{parse_set_cookie, CookieJar};
pub use layer::CookieLayer;
pub use model::{Cookie, CookieLimits, SameSite};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisCookieStore, RedisStoreStatus};
pub use service::{CookieService, UserCookie};

#[cfg(test)]
mod tests;
