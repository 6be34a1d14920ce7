//! How far a failed request got: the contract between a client at the bottom of a stack and the
//! layers above it that decide whether sending it again is safe.
//!
//! A client that knows whether a request reached the server reports a transport failure as a
//! [`DeliveryError`] carrying a [`Delivery`]. The retry layer reads it (by walking `source()`) to
//! apply the resend rule, and the `tower-requests` facade reads it to say what happened:
//!
//! | [`Delivery`] | what the client knows | resent silently |
//! |---|---|---|
//! | [`NotSent`](Delivery::NotSent) | no byte of the request was written | once, any method |
//! | [`Stale`](Delivery::Stale) | a *reused* keep-alive connection failed before any byte of the response | once, idempotent methods only |
//! | [`MaybeProcessed`](Delivery::MaybeProcessed) | the request may have been read and acted on | never (only an explicit `Retry` for its allowed methods) |
//!
//! A client that reports nothing (a bare hyper-util client) gets the safe reading: hyper's
//! "canceled" error (the request was handed back unsent) counts as `NotSent`, every other
//! transport failure as `MaybeProcessed`.

use std::error::Error as StdError;
use std::fmt;

use crate::BoxError;

/// How far a failed request got before its connection failed. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The connection failed before any byte of the request was written: the server never saw
    /// it, so it can be sent again whatever its method.
    NotSent,
    /// A reused keep-alive connection failed before any byte of the response arrived: the server
    /// most likely closed it while it sat idle in the pool. Sending an idempotent request again
    /// is safe; anything else may have been processed.
    Stale,
    /// The request was (at least partly) written and no complete response arrived: the server
    /// may have processed it.
    MaybeProcessed,
}

/// A transport failure with what the client knows of its [`Delivery`]; the underlying error is
/// its [`source()`](StdError::source).
#[derive(Debug)]
pub struct DeliveryError {
    delivery: Delivery,
    source: BoxError,
}

impl DeliveryError {
    /// Tag `source` with how far the request got.
    pub fn new(delivery: Delivery, source: impl Into<BoxError>) -> DeliveryError {
        DeliveryError {
            delivery,
            source: source.into(),
        }
    }

    /// How far the request got.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// The first [`DeliveryError`] in `err`'s `source()` chain (itself included).
    pub fn find<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a DeliveryError> {
        crate::classify::chain(err).find_map(|e| e.downcast_ref::<DeliveryError>())
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.delivery {
            Delivery::NotSent => "connection closed before the request was sent",
            Delivery::Stale => {
                "pooled connection closed by the server before any byte of the response"
            }
            Delivery::MaybeProcessed => {
                "connection lost after the request was sent and before a complete response: \
                 the request may have been processed and was not resent"
            }
        })
    }
}

impl StdError for DeliveryError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source as &(dyn StdError + 'static))
    }
}
