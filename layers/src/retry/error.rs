//! [`RetryError`]: what the retry layer itself reports.

use std::fmt;

use http::StatusCode;

use crate::BoxError;

/// Why the retry layer failed a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryErrorKind {
    /// Retries on a retryable status ran out (or the budget was empty) and `raise_on_status` is
    /// set: urllib3's `MaxRetryError` from a `ResponseError`, requests' `RetryError`.
    StatusExhausted,
    /// A retry was needed but the request body is a stream, which cannot be sent twice.
    BodyNotReplayable,
}

/// An error of the retry layer, boxed into [`BoxError`].
///
/// When retries on *errors* run out, the layer returns the last underlying error itself (so a
/// timeout stays an [`Elapsed`](crate::timeout::Elapsed), a connect error stays a connect
/// error), not a `RetryError`.
#[derive(Debug)]
pub struct RetryError {
    kind: RetryErrorKind,
    status: Option<StatusCode>,
    attempts: u32,
    budget_exhausted: bool,
    source: Option<BoxError>,
}

impl RetryError {
    pub(crate) fn status_exhausted(status: StatusCode, attempts: u32, budget: bool) -> Self {
        RetryError {
            kind: RetryErrorKind::StatusExhausted,
            status: Some(status),
            attempts,
            budget_exhausted: budget,
            source: None,
        }
    }

    pub(crate) fn body_not_replayable(
        status: Option<StatusCode>,
        source: Option<BoxError>,
        attempts: u32,
    ) -> Self {
        RetryError {
            kind: RetryErrorKind::BodyNotReplayable,
            status,
            attempts,
            budget_exhausted: false,
            source,
        }
    }

    /// Why the call failed.
    pub fn kind(&self) -> RetryErrorKind {
        self.kind
    }

    /// The status of the last response when status retries ran out
    /// ([`RetryErrorKind::StatusExhausted`]); `None` for the other kinds.
    pub fn status(&self) -> Option<StatusCode> {
        match self.kind {
            RetryErrorKind::StatusExhausted => self.status,
            RetryErrorKind::BodyNotReplayable => None,
        }
    }

    /// The status that called for the retry that could not be made
    /// ([`RetryErrorKind::BodyNotReplayable`] after a response), or the last status.
    pub fn response_status(&self) -> Option<StatusCode> {
        self.status
    }

    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the retry budget, not a counter, stopped the retries.
    pub fn is_budget_exhausted(&self) -> bool {
        self.budget_exhausted
    }

    /// Whether status retries ran out.
    pub fn is_status_exhausted(&self) -> bool {
        self.kind == RetryErrorKind::StatusExhausted
    }

    /// Whether a needed retry was impossible because the body is a stream.
    pub fn is_body_not_replayable(&self) -> bool {
        self.kind == RetryErrorKind::BodyNotReplayable
    }
}

impl fmt::Display for RetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RetryErrorKind::StatusExhausted => {
                write!(f, "retries exhausted after {} attempts", self.attempts)?;
                if self.budget_exhausted {
                    f.write_str(" (retry budget exhausted)")?;
                }
                if let Some(status) = self.status {
                    write!(f, ": last response was {status}")?;
                }
                Ok(())
            }
            RetryErrorKind::BodyNotReplayable => {
                f.write_str("request not retried: its body is a stream and could not be replayed")?;
                // An attempt's error is the `source()`: printed once, by whoever walks it.
                match (self.status, &self.source) {
                    (Some(status), _) => write!(f, " (the response was {status})"),
                    (None, Some(_)) => f.write_str(" (the attempt failed)"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for RetryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
