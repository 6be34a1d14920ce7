//! Which kind of failure an error is: one classification, used by the retry layer (which
//! counter a failure counts against, whether it may be retried) and by the `tower-requests`
//! facade (`Error::is_timeout`, `Error::is_connect`).
//!
//! An error is classified by walking its `source()` chain; the first error that says something
//! decides:
//! - [`DeliveryError`](crate::DeliveryError): what the client knows of how far the request got;
//! - [`Elapsed`]: a timeout of this crate's timeout layers (a total one ends the call);
//! - `std::io::Error`: refused / unreachable are connect errors, a timed-out read is a timeout,
//!   anything else (reset, broken pipe, early EOF) a failure after the request may have been
//!   read;
//! - with the `hyper` feature, `hyper::Error` (canceled: the request was handed back unsent;
//!   closed or incomplete; parse; timeout) and hyper-util's legacy client error (connect).
//!
//! A retry layer can put its own rules in front of these with
//! [`RetryLayer::classify_with`](crate::retry::RetryLayer::classify_with).

use std::error::Error as StdError;
use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// No connection was made (refused, unreachable, DNS, connect timeout): the request was
    /// not sent.
    Connect,
    /// A connection was made but no byte of the request was written on it
    /// ([`Delivery::NotSent`](crate::Delivery::NotSent), hyper's "canceled").
    NotSent,
    /// The request may have reached the server. `stale`: the client reported a reused
    /// keep-alive connection that failed before any byte of the response
    /// ([`Delivery::Stale`](crate::Delivery::Stale)).
    Read {
        /// The stale keep-alive case.
        stale: bool,
    },
    /// A timeout ran out. `total`: the whole call's deadline (never retried), otherwise one
    /// attempt's or one read's.
    Timeout {
        /// The whole call's deadline.
        total: bool,
    },
    /// The request itself was refused before it could be sent (hyper rejected a header, the
    /// request body failed): not a transport failure, never retried.
    Request,
}

/// The class of the first error in `err`'s `source()` chain (itself included) that has one.
pub fn classify(err: &(dyn StdError + 'static)) -> Option<ErrorClass> {
    chain(err).find_map(classify_one)
}

/// `err` and its sources, outermost first.
pub fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn StdError + 'static)| (*e).source())
}

/// The class of this one error (not its sources), if it has one.
pub fn classify_one(e: &(dyn StdError + 'static)) -> Option<ErrorClass> {
    if let Some(d) = e.downcast_ref::<crate::DeliveryError>() {
        return Some(match d.delivery() {
            crate::Delivery::NotSent => ErrorClass::NotSent,
            crate::Delivery::Stale => ErrorClass::Read { stale: true },
            _ => ErrorClass::Read { stale: false },
        });
    }
    if let Some(elapsed) = e.downcast_ref::<Elapsed>() {
        return Some(ErrorClass::Timeout {
            total: elapsed.is_total(),
        });
    }
    #[cfg(feature = "hyper")]
    if let Some(class) = hyper_class(e) {
        return class;
    }
    let io = e.downcast_ref::<std::io::Error>()?;
    Some(match io.kind() {
        ErrorKind::ConnectionRefused
        | ErrorKind::AddrNotAvailable
        | ErrorKind::HostUnreachable
        | ErrorKind::NetworkUnreachable => ErrorClass::Connect,
        ErrorKind::TimedOut => ErrorClass::Timeout { total: false },
        // A reset, broken pipe or early EOF: the request may have been read.
        _ => ErrorClass::Read { stale: false },
    })
}

/// hyper's and hyper-util's errors: `Some(None)` when the type is theirs but its source says
/// more.
#[cfg(feature = "hyper")]
fn hyper_class(e: &(dyn StdError + 'static)) -> Option<Option<ErrorClass>> {
    if let Some(client) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
        return Some(client.is_connect().then_some(ErrorClass::Connect));
    }
    let h = e.downcast_ref::<hyper::Error>()?;
    Some(if h.is_canceled() {
        // hyper handed the request back unsent.
        Some(ErrorClass::NotSent)
    } else if h.is_timeout() {
        Some(ErrorClass::Timeout { total: false })
    } else if h.is_incomplete_message()
        || h.is_closed()
        || h.is_parse()
        || h.is_body_write_aborted()
    {
        // Closed or garbled before a complete response: whether the connection was a reused
        // one (the stale case) only the client knows, and it says so with a `DeliveryError`.
        Some(ErrorClass::Read { stale: false })
    } else if h.is_user() {
        Some(ErrorClass::Request)
    } else {
        // An I/O error: its source says which.
        return Some(h.source().and_then(|s| chain(s).find_map(classify_one)));
    })
}

/// Which limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// [`TimeoutLayer`](crate::timeout::TimeoutLayer): no response head within the per-attempt limit.
    Attempt,
    /// [`TimeoutLayer`](crate::timeout::TimeoutLayer): the response body stayed silent (no frame) for
    /// longer than the limit: requests' *read* timeout.
    Read,
    /// [`TotalTimeoutLayer`](crate::timeout::TotalTimeoutLayer): the whole call (redirects, retries and
    /// reading the body included) did not finish in time.
    Total,
}

/// A timeout elapsed. Returned (boxed into [`BoxError`](crate::BoxError)) by the response futures
/// and the response bodies of [`TimeoutLayer`](crate::timeout::TimeoutLayer) and
/// [`TotalTimeoutLayer`](crate::timeout::TotalTimeoutLayer); never turned into a fake `408` response.
///
/// ```
/// use std::time::Duration;
/// use tower_requests_layers::timeout::{Elapsed, TimeoutKind};
/// let e = Elapsed::new(TimeoutKind::Read, Duration::from_millis(1500));
/// assert_eq!(e.to_string(), "read timeout: no data received for 1.5s while reading the response body");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed {
    kind: TimeoutKind,
    duration: Duration,
}

impl Elapsed {
    /// An elapsed timeout of `kind`, whose limit was `duration`.
    pub fn new(kind: TimeoutKind, duration: Duration) -> Self {
        Elapsed { kind, duration }
    }

    /// Which limit ran out.
    pub fn kind(&self) -> TimeoutKind {
        self.kind
    }

    /// The configured limit that ran out.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Whether the whole-call deadline ran out (as opposed to one attempt or one read).
    pub fn is_total(&self) -> bool {
        self.kind == TimeoutKind::Total
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TimeoutKind::Attempt => {
                write!(f, "attempt timeout: no response within {:?}", self.duration)
            }
            TimeoutKind::Read => write!(
                f,
                "read timeout: no data received for {:?} while reading the response body",
                self.duration
            ),
            TimeoutKind::Total => write!(
                f,
                "total timeout: the request did not complete within {:?}",
                self.duration
            ),
        }
    }
}

impl std::error::Error for Elapsed {}
