//! [`BuildError`]: what client, TLS, proxy and multipart settings say when they cannot be used.
//!
//! It is their own error, so that the client side of the crate and the multipart encoder do not
//! depend on the session's [`Error`](crate::Error); `?` turns it into one
//! ([`Error::is_builder`](crate::Error::is_builder), same message, same source).

use std::fmt;

use crate::BoxError;

/// A setting that cannot be used: an invalid proxy URL (or proxy environment variable), a
/// certificate or identity that does not parse, TLS settings rustls rejects, a multipart
/// part's content type that is not a MIME type.
///
/// ```
/// use tower_requests::{BuildError, Proxy};
///
/// let err: BuildError = Proxy::http("ftp://proxy.test").unwrap_err();
/// assert!(err.to_string().contains("unsupported proxy scheme"));
/// // In a function returning the session's error, `?` converts it.
/// fn f() -> Result<Proxy, tower_requests::Error> {
///     Ok(Proxy::http("http://user:secret@[bad")?)
/// }
/// let err = f().unwrap_err();
/// assert!(err.is_builder());
/// assert!(!err.to_string().contains("secret"));
/// ```
pub struct BuildError {
    message: Option<String>,
    source: Option<BoxError>,
}

impl BuildError {
    pub(crate) fn msg(message: impl Into<String>) -> BuildError {
        BuildError {
            message: Some(message.into()),
            source: None,
        }
    }

    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    pub(crate) fn from_source(source: impl Into<BoxError>) -> BuildError {
        BuildError {
            message: None,
            source: Some(source.into()),
        }
    }

    /// What is wrong, when it is said in words (else the cause says it).
    pub(crate) fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The message and the cause, for the session's error.
    pub(crate) fn into_parts(self) -> (Option<String>, Option<BoxError>) {
        (self.message, self.source)
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BuildError");
        if let Some(message) = &self.message {
            d.field("message", message);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid client configuration")?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if f.alternate() {
            if let Some(source) = &self.source {
                write!(f, ": {source}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
