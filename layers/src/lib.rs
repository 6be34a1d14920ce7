//! The tower layers behind [tower-requests](https://docs.rs/tower-requests).
//!
//! Each behaviour of a `requests.Session` is one independent [`tower::Layer`] here, usable on its
//! own over any `Service<http::Request<B>, Response = http::Response<ResB>>`, next to tower-http
//! layers or inside an axum app. The `tower-requests` crate stacks them into a ready `Session`:
//!
//! ```text
//! TotalTimeoutLayer     whole call incl. redirects, retries and body
//! DefaultHeadersLayer   session headers, only where the request has none
//! FollowRedirectLayer   requests' redirect policy; each hop goes through the layers below
//! AuthLayer             Basic / Bearer / Digest / custom; origin-scoped
//! CookieLayer           Cookie header from the jar; every Set-Cookie into the jar
//! RetryLayer            urllib3 Retry semantics
//! TimeoutLayer          per attempt
//! <client>
//! ```
//!
//! One cargo feature per layer: `cookies`, `headers`, `auth`, `retry`, `timeout`, `redirect`;
//! `ratelimit` (not in the default stack: add [`RateLimitLayer`]
//! under the retry layer, just above the client) and `redis` (the rate limit and the cookie
//! store shared by a fleet of processes through Redis).
//!
//! **Paths.** The examples here are written for a user of this crate alone (`tower-requests-layers`,
//! `http`, `tower` in `Cargo.toml`). Through `tower-requests` the same items are
//! `tower_requests::layers::…` (this crate, re-exported) and `tower_requests::http` (the `http`
//! crate); `tower` is needed either way for `ServiceBuilder`, `service_fn` and `ServiceExt`
//! (`cargo add tower --features util`).
//! Layers that replay a request (retry, redirect, auth challenges) need a body they can copy:
//! see [`ReplayBody`], implemented for [`Body`], [`http_body_util::Full`], [`http_body_util::Empty`]
//! and [`String`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `get_ref`, `get_mut` and `into_inner` for a service wrapping its inner service in a field
/// named `inner` (tower-http's trio), written once for every layer's service.
#[allow(unused_macros)] // with no layer feature on, no service uses it
macro_rules! inner_accessors {
    () => {
        /// The wrapped service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The wrapped service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}
#[allow(unused_imports)]
pub(crate) use inner_accessors;

pub mod body;
pub mod classify;
pub mod delivery;
pub mod ext;

#[cfg(any(feature = "auth", feature = "cookies", feature = "redirect"))]
pub mod origin;
#[cfg(any(feature = "redirect", feature = "auth", feature = "cookies"))]
pub mod redact;
#[cfg(feature = "redis")]
mod redis_name;

#[cfg(feature = "auth")]
pub mod auth;
#[cfg(feature = "buffer")]
pub mod buffer;
#[cfg(feature = "cookies")]
pub mod cookie;
#[cfg(feature = "headers")]
pub mod headers;
#[cfg(feature = "ratelimit")]
pub mod ratelimit;
#[cfg(feature = "redirect")]
pub mod redirect;
#[cfg(feature = "retry")]
pub mod retry;
#[cfg(feature = "timeout")]
pub mod timeout;

#[cfg(feature = "auth")]
pub use auth::{Auth, AuthLayer};
pub use body::{Body, ReplayBody};
#[cfg(feature = "buffer")]
pub use buffer::BufferBodyLayer;
#[cfg(feature = "cookies")]
pub use cookie::{CookieJar, CookieLayer};
pub use delivery::{Delivery, DeliveryError};
#[cfg(feature = "headers")]
pub use headers::{DefaultHeadersLayer, SharedHeaders};
#[cfg(feature = "ratelimit")]
pub use ratelimit::RateLimitLayer;
#[cfg(feature = "redirect")]
pub use redirect::FollowRedirectLayer;
#[cfg(feature = "retry")]
pub use retry::{Retry, RetryLayer};
#[cfg(feature = "timeout")]
pub use timeout::{TimeoutLayer, TotalTimeoutLayer};

/// The `redis` crate this crate's Redis backends are built on (feature `redis`), for
/// `redis::Client::open(..)` without a dependency of your own to keep in step.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use ::redis;

/// The error type every layer in this crate returns (and accepts from the service it wraps).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
