//! The two layers: [`TimeoutLayer`] (per attempt) and [`TotalTimeoutLayer`] (whole call).

use std::time::Duration;

use tower_layer::Layer;

use super::service::{Timeout, TotalTimeout};

/// Limits one attempt: until the response head, then every silence between body frames (the read
/// timeout). Put it under [`RetryLayer`](crate::retry::RetryLayer) so each attempt gets its own
/// limit and an attempt that times out can be retried.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    timeout: Duration,
}

impl TimeoutLayer {
    /// A per-attempt (and read) timeout of `timeout`.
    pub fn new(timeout: Duration) -> Self {
        TimeoutLayer { timeout }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout::new(inner, self.timeout)
    }
}

/// Limits the whole call, from `call()` until the last byte of the response body: redirects,
/// retries and backoff sleeps included. A request may carry a
/// [`RequestTimeout`](super::RequestTimeout) extension that replaces the layer's limit for that
/// call (also when the layer has none).
#[derive(Debug, Clone, Copy, Default)]
pub struct TotalTimeoutLayer {
    timeout: Option<Duration>,
}

impl TotalTimeoutLayer {
    /// A total deadline of `timeout` per call (`None`: only requests with a
    /// [`RequestTimeout`](super::RequestTimeout) are limited).
    pub fn new(timeout: impl Into<Option<Duration>>) -> Self {
        TotalTimeoutLayer {
            timeout: timeout.into(),
        }
    }
}

impl<S> Layer<S> for TotalTimeoutLayer {
    type Service = TotalTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TotalTimeout::new(inner, self.timeout)
    }
}
