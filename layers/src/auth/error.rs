//! Errors of the auth layer.

use std::fmt;

use crate::BoxError;

/// An error of the auth layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthError {
    /// The credentials cannot be put in a header (e.g. a control character in a token).
    InvalidCredentials {
        /// What is wrong.
        reason: &'static str,
    },
    /// The request URI had `user:pass@` that could not be removed from it.
    InvalidUrlCredentials,
    /// A custom [`Auth`](super::Auth) failed.
    Provider {
        /// The provider's error.
        source: BoxError,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::InvalidCredentials { reason } => write!(f, "invalid credentials: {reason}"),
            AuthError::InvalidUrlCredentials => {
                f.write_str("could not remove the credentials from the request URL")
            }
            AuthError::Provider { .. } => f.write_str("the authentication provider failed"),
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::Provider { source } => Some(&**source),
            _ => None,
        }
    }
}
