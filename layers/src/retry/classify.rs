//! Which kind of failure an error is, found by walking its `source()` chain.

use std::error::Error as StdError;

use crate::classify::{classify_one, ErrorClass as Class};

/// What the retry layer does with a failure: the urllib3 counter it counts against, plus what
/// the client reported of the request's [`Delivery`](crate::Delivery) (the resend rule in the
/// [module docs](super)). Built from the shared [`classify`](crate::classify).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// No connection was made (refused, DNS, connect timeout): retried for any method.
    Connect,
    /// A connection was made but no byte of the request was written on it: resent once
    /// silently, any method; after that counted as a connect error.
    NotSent,
    /// The request may have reached the server (a per-attempt or read timeout included):
    /// retried for the allowed methods. `stale`: a reused keep-alive connection that failed
    /// before any byte of the response.
    Read { stale: bool },
    /// Unknown errors: urllib3's `other`, retried for the allowed methods.
    Other,
    /// Never retried (our own errors, a total timeout, errors of the request itself).
    Fatal,
}

/// A caller's own rules, consulted for each error of the chain before the shared ones.
pub(crate) type Classifier =
    dyn Fn(&(dyn StdError + 'static)) -> Option<Class> + Send + Sync + 'static;

pub(crate) fn classify(err: &(dyn StdError + 'static), custom: Option<&Classifier>) -> ErrorClass {
    for e in crate::classify::chain(err) {
        if e.is::<super::RetryError>() {
            return ErrorClass::Fatal;
        }
        let class = match custom {
            Some(custom) => custom(e).or_else(|| classify_one(e)),
            None => classify_one(e),
        };
        if let Some(class) = class {
            return match class {
                Class::Connect => ErrorClass::Connect,
                Class::NotSent => ErrorClass::NotSent,
                Class::Read { stale } => ErrorClass::Read { stale },
                Class::Timeout { total: false } => ErrorClass::Read { stale: false },
                _ => ErrorClass::Fatal,
            };
        }
    }
    ErrorClass::Other
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

    use std::io::ErrorKind;

    fn class(e: BoxError) -> ErrorClass {
        classify(&*e, None)
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

    #[test]
    fn timeouts() {
        use crate::classify::{Elapsed, TimeoutKind};
        use std::time::Duration;
        let attempt = Elapsed::new(TimeoutKind::Attempt, Duration::from_secs(1));
        assert_eq!(class(Box::new(attempt)), ErrorClass::Read { stale: false });
        let total = Elapsed::new(TimeoutKind::Total, Duration::from_secs(1));
        assert_eq!(class(Box::new(Wrap(Box::new(total)))), ErrorClass::Fatal);
    }
}
