//! How the facade recognises the errors of the layers crate while walking `source()`.
//! One place, so a new layer error type is classified by adding one line here. Timeouts and
//! connect errors are the layers' shared classification
//! ([`tower_requests::layers::classify`](crate::layers::classify)), used as is.

use std::error::Error as StdError;

use http::StatusCode;

use crate::layers::{redirect, retry};

pub(crate) fn is_connect(e: &(dyn StdError + 'static)) -> bool {
    e.is::<crate::ProxyError>()
}

pub(crate) fn is_redirect(e: &(dyn StdError + 'static)) -> bool {
    e.is::<redirect::TooManyRedirects>() || e.is::<redirect::RedirectError>()
}

pub(crate) fn is_retry_exhausted(e: &(dyn StdError + 'static)) -> bool {
    e.downcast_ref::<retry::RetryError>()
        .is_some_and(|r| r.kind() == retry::RetryErrorKind::StatusExhausted)
}

/// A request body that had to be replayed (retry, 307/308) but was a stream, or a multipart
/// part that could not be sent.
pub(crate) fn is_body(e: &(dyn StdError + 'static)) -> bool {
    #[cfg(feature = "multipart")]
    if e.is::<crate::multipart::PartError>() {
        return true;
    }
    e.downcast_ref::<retry::RetryError>()
        .is_some_and(|r| r.kind() == retry::RetryErrorKind::BodyNotReplayable)
        || matches!(
            e.downcast_ref::<redirect::RedirectError>(),
            Some(redirect::RedirectError::BodyNotReplayable { .. })
        )
}

pub(crate) fn status(e: &(dyn StdError + 'static)) -> Option<StatusCode> {
    if let Some(proxy) = e.downcast_ref::<crate::ProxyError>() {
        return proxy.proxy_status();
    }
    if let Some(too_many) = e.downcast_ref::<redirect::TooManyRedirects>() {
        return Some(too_many.status);
    }
    e.downcast_ref::<retry::RetryError>()
        .and_then(|r| r.status())
}

#[cfg(feature = "ratelimit")]
pub(crate) fn is_rate_limited(e: &(dyn StdError + 'static)) -> bool {
    use crate::layers::ratelimit::{LimiterUnavailable, RateLimited};
    e.is::<RateLimited>() || e.is::<LimiterUnavailable>()
}
