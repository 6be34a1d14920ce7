//! The errors of the rate-limit layer: [`RateLimited`] (over the limit, not waiting) and
//! [`LimiterUnavailable`] (the shared backend is down and the layer fails closed).

use std::fmt;
use std::time::Duration;

use crate::BoxError;

/// A call over the limit that was not allowed to wait (the layer fails fast, or the wait would
/// be longer than its [`max_wait`](super::RateLimitLayer::max_wait)). Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    key: String,
    retry_after: Duration,
}

impl RateLimited {
    pub(crate) fn new(key: &str, retry_after: Duration) -> Self {
        RateLimited {
            key: key.to_owned(),
            retry_after,
        }
    }

    /// The limit's key (the request's authority, or what the key function returned).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How long until a call with this key would pass (if no other call takes the slot first).
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rate limit reached for {}; retry after {} ms",
            self.key,
            self.retry_after.as_millis()
        )
    }
}

impl std::error::Error for RateLimited {}

/// The shared limiter (Redis) could not be asked and the layer was told to fail closed
/// ([`WhenDown::FailClosed`](super::WhenDown::FailClosed)). Nothing was sent. The cause is its
/// `source()`.
#[derive(Debug)]
pub struct LimiterUnavailable {
    source: BoxError,
}

impl LimiterUnavailable {
    #[allow(dead_code)] // only the Redis backend fails this way
    pub(crate) fn new(source: BoxError) -> Self {
        LimiterUnavailable { source }
    }
}

impl fmt::Display for LimiterUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the shared rate limiter is unavailable (failing closed)")
    }
}

impl std::error::Error for LimiterUnavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
