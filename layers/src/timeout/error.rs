//! The error every timer of this module returns.

use std::fmt;
use std::time::Duration;

/// Which limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// [`TimeoutLayer`](super::TimeoutLayer): no response head within the per-attempt limit.
    Attempt,
    /// [`TimeoutLayer`](super::TimeoutLayer): the response body stayed silent (no frame) for
    /// longer than the limit: requests' *read* timeout.
    Read,
    /// [`TotalTimeoutLayer`](super::TotalTimeoutLayer): the whole call (redirects, retries and
    /// reading the body included) did not finish in time.
    Total,
}

/// A timeout elapsed. Returned (boxed into [`BoxError`](crate::BoxError)) by the response futures
/// and the response bodies of [`TimeoutLayer`](super::TimeoutLayer) and
/// [`TotalTimeoutLayer`](super::TotalTimeoutLayer); never turned into a fake `408` response.
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
