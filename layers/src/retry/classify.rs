//! Which kind of failure an error is, found by walking its `source()` chain.

use std::error::Error as StdError;
use std::io::ErrorKind;

/// The urllib3 counter an error counts against, plus what the client reported of the request's
/// [`Delivery`](crate::Delivery) (the resend rule in the [module docs](super)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// No connection was made (refused, DNS, connect timeout): retried for any method.
    Connect,
    /// A connection was made but no byte of the request was written on it (hyper's "canceled",
    /// [`Delivery::NotSent`](crate::Delivery::NotSent)): resent once silently, any method; after
    /// that counted as a connect error.
    NotSent,
    /// The request may have reached the server: retried for the allowed methods. `stale`: the
    /// client reported a reused keep-alive connection that failed before any byte of the
    /// response ([`Delivery::Stale`](crate::Delivery::Stale)).
    Read { stale: bool },
    /// Unknown errors: urllib3's `other`, retried for the allowed methods.
    Other,
    /// Never retried (our own errors, a total timeout, user errors).
    Fatal,
}

pub(crate) fn classify(err: &(dyn StdError + 'static)) -> ErrorClass {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(class) = classify_one(e) {
            return class;
        }
        current = e.source();
    }
    ErrorClass::Other
}

fn classify_one(e: &(dyn StdError + 'static)) -> Option<ErrorClass> {
    if e.is::<super::RetryError>() {
        return Some(ErrorClass::Fatal);
    }
    if let Some(d) = e.downcast_ref::<crate::DeliveryError>() {
        return Some(match d.delivery() {
            crate::Delivery::NotSent => ErrorClass::NotSent,
            crate::Delivery::Stale => ErrorClass::Read { stale: true },
            _ => ErrorClass::Read { stale: false },
        });
    }
    #[cfg(feature = "timeout")]
    if let Some(elapsed) = e.downcast_ref::<crate::timeout::Elapsed>() {
        return Some(if elapsed.is_total() {
            ErrorClass::Fatal
        } else {
            ErrorClass::Read { stale: false }
        });
    }
    if let Some(client) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
        if client.is_connect() {
            return Some(ErrorClass::Connect);
        }
        // Otherwise its source (a hyper::Error) says more.
        return None;
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_canceled() {
            // hyper handed the request back unsent.
            return Some(ErrorClass::NotSent);
        }
        if h.is_incomplete_message() || h.is_closed() {
            // Closed before a complete response: whether the connection was a reused one (the
            // stale case) only the client knows, and it says so with a `DeliveryError`.
            return Some(ErrorClass::Read { stale: false });
        }
        if h.is_user() {
            return Some(ErrorClass::Fatal);
        }
        if h.is_parse() || h.is_timeout() || h.is_body_write_aborted() {
            return Some(ErrorClass::Read { stale: false });
        }
        // An I/O error: its source says which.
        return None;
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return Some(match io.kind() {
            ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable => ErrorClass::Connect,
            // A reset, broken pipe or early EOF: the request may have been read.
            _ => ErrorClass::Read { stale: false },
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxError;

    #[derive(Debug)]
    struct Wrap(BoxError);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapper")
        }
    }
    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }

    fn class(e: BoxError) -> ErrorClass {
        classify(&*e)
    }

    #[test]
    fn io_kinds() {
        let io = |k| -> BoxError { Box::new(std::io::Error::from(k)) };
        assert_eq!(class(io(ErrorKind::ConnectionRefused)), ErrorClass::Connect);
        // A reset alone says nothing of a reused connection: not stale.
        assert_eq!(
            class(io(ErrorKind::ConnectionReset)),
            ErrorClass::Read { stale: false }
        );
        assert_eq!(
            class(io(ErrorKind::TimedOut)),
            ErrorClass::Read { stale: false }
        );
        // Found through a wrapper's source().
        assert_eq!(
            class(Box::new(Wrap(io(ErrorKind::ConnectionRefused)))),
            ErrorClass::Connect
        );
    }

    #[test]
    fn delivery_reported_by_the_client() {
        use crate::{Delivery, DeliveryError};
        let tagged = |d| -> BoxError {
            Box::new(Wrap(Box::new(DeliveryError::new(
                d,
                std::io::Error::from(ErrorKind::ConnectionReset),
            ))))
        };
        assert_eq!(class(tagged(Delivery::NotSent)), ErrorClass::NotSent);
        assert_eq!(
            class(tagged(Delivery::Stale)),
            ErrorClass::Read { stale: true }
        );
        assert_eq!(
            class(tagged(Delivery::MaybeProcessed)),
            ErrorClass::Read { stale: false }
        );
    }

    #[test]
    fn unknown_and_own_errors() {
        assert_eq!(class("something".into()), ErrorClass::Other);
        let own = super::super::RetryError::body_not_replayable(None, None, 1);
        assert_eq!(class(Box::new(own)), ErrorClass::Fatal);
    }

    #[cfg(feature = "timeout")]
    #[test]
    fn timeouts() {
        use crate::timeout::{Elapsed, TimeoutKind};
        use std::time::Duration;
        let attempt = Elapsed::new(TimeoutKind::Attempt, Duration::from_secs(1));
        assert_eq!(class(Box::new(attempt)), ErrorClass::Read { stale: false });
        let total = Elapsed::new(TimeoutKind::Total, Duration::from_secs(1));
        assert_eq!(class(Box::new(Wrap(Box::new(total)))), ErrorClass::Fatal);
    }
}
