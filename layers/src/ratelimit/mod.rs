//! `RateLimitLayer`: a rate limit per host (or per key of your own), with GCRA, in this process
//! or shared by a fleet of processes through Redis.
//!
//! - **The limit.** A [`Quota`]: a rate and a burst ("at most `burst + rate * t` calls in any
//!   `t` seconds"), per key. The key is the request's authority (`host:port` as written,
//!   lowercased), or what [`RateLimitLayer::key_fn`] returns.
//! - **Over the limit.** By default a call waits for its turn: it reserves the next free slot
//!   and sleeps until then (calls are served in the order they asked). Placed under a total
//!   timeout ([`TotalTimeoutLayer`](crate::timeout::TotalTimeoutLayer)), the wait counts
//!   against it; a call whose wait is cut short by a timeout still used its slot. With
//!   [`fail_fast`](RateLimitLayer::fail_fast) (or [`max_wait`](RateLimitLayer::max_wait)) it
//!   fails at once with a typed [`RateLimited`] carrying the retry-after, nothing sent and no
//!   slot used.
//! - **Backends.** In-process ([`RateLimitLayer::new`], the default, no other dependency), or
//!   Redis ([`RateLimitLayer::redis`], feature `redis`): GCRA in one Lua script run with
//!   `EVALSHA`, against Redis's clock, so N processes together stay within the quota. While
//!   Redis cannot be asked, the layer does what its [`WhenDown`] says: fail open, fail closed
//!   ([`LimiterUnavailable`]), or, the default, fall back to an in-process limit at
//!   `rate / expected_members`.
//!
//! Errors are boxed into [`BoxError`](crate::BoxError), as every layer of this crate does: the
//! inner service's errors pass through unchanged.
//!
//! **Where it sits.** Under the retry layer, just above the client, so each attempt (each
//! redirect hop, each retry) is counted: with `tower-requests`, add it with
//! `SessionBuilder::layer`, which puts it there, under the session's total timeout.
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::ratelimit::{Quota, RateLimitLayer, RateLimited};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let quota = Quota::per_second(10)?.burst(2);
//! let client = service_fn(|_req: Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(String::from("ok")))
//! });
//! let mut svc = ServiceBuilder::new()
//!     .layer(RateLimitLayer::new(quota))
//!     .service(client.clone());
//! let get = |uri: &str| Request::get(uri).body(String::new()).unwrap();
//!
//! // The burst goes at once; the third call to the same host waits 100 ms.
//! let start = tokio::time::Instant::now();
//! for _ in 0..3 {
//!     svc.ready().await?.call(get("http://a.example/")).await?;
//! }
//! assert_eq!(start.elapsed(), Duration::from_millis(100));
//!
//! // Failing fast: a typed error with the retry-after, nothing sent.
//! let mut strict = ServiceBuilder::new()
//!     .layer(RateLimitLayer::new(quota).fail_fast())
//!     .service(client);
//! strict.ready().await?.call(get("http://b.example/")).await?;
//! strict.ready().await?.call(get("http://b.example/")).await?;
//! let err = strict.ready().await?.call(get("http://b.example/")).await.unwrap_err();
//! let limited = err.downcast_ref::<RateLimited>().expect("a typed error");
//! assert_eq!((limited.key(), limited.retry_after()), ("b.example", Duration::from_millis(100)));
//! # Ok(())
//! # }
//! ```
//!
//! # Shared by a fleet (Redis)
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> Result<(), tower_requests_layers::BoxError> {
//! use tower_requests_layers::ratelimit::{Quota, RateLimitLayer, RedisLimiter, WhenDown};
//!
//! let client = redis::Client::open("redis://127.0.0.1/")?;
//! // Three workers share 100 calls per second to each host; while Redis is down, each takes a
//! // third of it.
//! let limiter = RedisLimiter::new(client, "crawler")?
//!     .expected_members(3)
//!     .when_down(WhenDown::Fallback);
//! let layer = RateLimitLayer::redis(Quota::per_second(100)?.burst(10), limiter);
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

mod error;
mod future;
mod gcra;
mod layer;
#[cfg(feature = "redis")]
mod redis;
mod service;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis_name::InvalidName;
pub use error::{LimiterUnavailable, RateLimited};
pub use future::ResponseFuture;
pub use gcra::{InvalidQuota, Quota};
pub use layer::RateLimitLayer;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisLimiter, WhenDown};
pub use service::RateLimit;
