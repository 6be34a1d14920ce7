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
//! The jar follows RFC 6265 with the RFC 6265bis updates browsers apply:
//! - `Domain` must cover the request host and may not be a public suffix (`com`, `co.uk`,
//!   `github.io`: the list of the [`psl`] crate, compiled in, no network); a `Domain` equal to the
//!   host is allowed and gives a host-only cookie. IP-address hosts get host-only cookies only.
//! - default path and path matching as in RFC 6265 5.1.4.
//! - `Max-Age` beats `Expires`; both are capped at 400 days; `Max-Age<=0` or a past `Expires`
//!   deletes. Expired cookies are removed from the jar, not only left out of headers.
//! - `Secure` cookies are neither accepted from nor sent to plain http, except to potentially
//!   trustworthy hosts (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`) as browsers do; a
//!   non-secure origin cannot shadow an existing Secure cookie.
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
//! # Why not `cookie_store`
//! The store (and its Set-Cookie parser, see `parse.rs` for why not the `cookie` crate's) is
//! built here instead of on `cookie_store` 0.22 because `cookie_store::CookieStore::matches` walks every domain of the
//! store for each request (a 10k-cookie jar costs a full scan per request), its Public Suffix
//! support needs a `publicsuffix::List` parsed from text at runtime, and it has no size caps,
//! no `__Secure-`/`__Host-` rules, no name-less cookies, no Cookie header ordering and no
//! "secure cookies from localhost" rule. Here cookies are indexed by domain: building a header
//! costs one hash lookup per label of the host, whatever the jar's size.
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
#![cfg_attr(
    feature = "persist",
    doc = "\n# Persistence\nWith the `persist` feature: [`CookieJar::save_json`], [`CookieJar::load_json`], \
[`CookieJar::save_netscape`], [`CookieJar::load_netscape`] (curl's cookies.txt). Writes go to a \
temporary file in the same directory, renamed over the target (atomic); a malformed file is an \
error that leaves the jar untouched; expired cookies are dropped on load."
)]

mod backend;
mod date;
mod error;
mod future;
mod jar;
mod layer;
mod model;
mod parse;
#[cfg(feature = "persist")]
mod persist;
mod service;
mod store;

pub use backend::{CookieStore, DefaultCookieStore};
pub use error::CookieError;
pub use future::ResponseFuture;
pub use jar::{parse_set_cookie, CookieJar};
pub use layer::CookieLayer;
pub use model::{Cookie, CookieLimits, SameSite};
pub use service::{CookieService, UserCookie};

#[cfg(test)]
mod tests;
