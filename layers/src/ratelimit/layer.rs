//! [`RateLimitLayer`]: its quota, backend, key and what a call over the limit does.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use super::gcra::{Local, Quota};
use super::service::RateLimit;

/// The key function: which limit a request counts against (`None`: no limit for it).
pub(crate) type KeyFn = Arc<dyn Fn(&http::request::Parts) -> Option<String> + Send + Sync>;

/// Where the limiter's state lives.
pub(crate) enum Backend {
    Local(Local),
    #[cfg(feature = "redis")]
    Redis(Arc<super::redis::Shared>),
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Local(l) => l.fmt(f),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.fmt(f),
        }
    }
}

/// Limits how fast calls go out, per host (the request's authority) or per key of your own, with
/// GCRA: a [`Quota`] of a rate and a burst. A call over the limit waits for its turn (the
/// default), or fails fast with [`RateLimited`](super::RateLimited) (see
/// [`fail_fast`](Self::fail_fast), [`max_wait`](Self::max_wait)).
///
/// The state is in this process ([`new`](Self::new)) or in Redis, shared by a fleet
/// ([`redis`](Self::redis), feature `redis`). Clones of the layer, and every service it builds,
/// share one limiter.
#[derive(Clone)]
pub struct RateLimitLayer {
    pub(crate) backend: Arc<Backend>,
    pub(crate) key: Option<KeyFn>,
    pub(crate) max_wait: Option<Duration>,
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("backend", &self.backend)
            .field("key_fn", &self.key.is_some())
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

impl RateLimitLayer {
    /// An in-process limit of `quota` per host.
    pub fn new(quota: Quota) -> Self {
        RateLimitLayer {
            backend: Arc::new(Backend::Local(Local::new(quota, false))),
            key: None,
            max_wait: None,
        }
    }

    /// A limit of `quota` per host, shared through Redis by every process using the same
    /// [`RedisLimiter`](super::RedisLimiter) name (and the same quota: the quota is not stored
    /// in Redis; members with different quotas each apply their own to the shared state).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(quota: Quota, limiter: super::RedisLimiter) -> Self {
        RateLimitLayer {
            backend: Arc::new(Backend::Redis(Arc::new(super::redis::Shared::new(
                limiter, quota,
            )))),
            key: None,
            max_wait: None,
        }
    }

    /// Counts each request against the limit named by `key` instead of its host; a request for
    /// which it returns `None` is not limited.
    pub fn key_fn<F>(mut self, key: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.key = Some(Arc::new(key));
        self
    }

    /// A call over the limit fails at once with [`RateLimited`](super::RateLimited) (and its
    /// retry-after) instead of waiting. Same as `max_wait(Duration::ZERO)`.
    pub fn fail_fast(self) -> Self {
        self.max_wait(Duration::ZERO)
    }

    /// A call that would wait longer than `max_wait` fails at once with
    /// [`RateLimited`](super::RateLimited); shorter waits are waited. Default: any wait.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit::new(inner, self.clone())
    }
}
