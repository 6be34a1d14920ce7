//! Errors of the redirect layer.

use std::fmt;

use http::{StatusCode, Uri};

/// More redirects than allowed ([`FollowRedirectLayer::max`](super::FollowRedirectLayer::max)).
#[derive(Debug, Clone)]
pub struct TooManyRedirects {
    /// The limit that was reached.
    pub max: usize,
    /// The URI of the last request sent (it answered with yet another redirect), without userinfo.
    pub last_uri: Uri,
    /// The status of that last redirect response (requests' `e.response.status_code`).
    pub status: StatusCode,
    /// The headers of that last redirect response (its `Location` among them).
    pub headers: http::HeaderMap,
}

impl fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exceeded {} redirects (last request: {})",
            self.max, self.last_uri
        )
    }
}

impl std::error::Error for TooManyRedirects {}

/// A redirect that cannot be followed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedirectError {
    /// The `Location` header is not a usable URI reference (or the request URI is not absolute,
    /// so there is nothing to resolve it against).
    InvalidLocation {
        /// The `Location` value (lossily decoded, userinfo removed).
        location: String,
        /// The URI of the request that got the redirect (userinfo removed).
        uri: Uri,
        /// What is wrong with it.
        reason: String,
    },
    /// The `Location` points to a scheme other than `http` or `https`.
    UnsupportedScheme {
        /// The resolved location (userinfo removed).
        location: String,
    },
    /// A 307/308 asks to resend the body, and the body is a stream that cannot be replayed.
    BodyNotReplayable {
        /// The redirect status.
        status: StatusCode,
        /// The URI of the request that got the redirect (userinfo removed).
        uri: Uri,
    },
    /// The layer's [`Policy`](super::policy::Policy) refused the redirect with an error (its
    /// [`source`](std::error::Error::source)).
    Rejected {
        /// The URI the redirect pointed to (userinfo removed).
        location: Uri,
        /// The policy's error.
        source: crate::BoxError,
    },
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectError::InvalidLocation {
                location,
                uri,
                reason,
            } => write!(
                f,
                "invalid redirect Location {location:?} from {uri}: {reason}"
            ),
            RedirectError::UnsupportedScheme { location } => {
                write!(f, "redirect to unsupported scheme: {location:?}")
            }
            RedirectError::BodyNotReplayable { status, uri } => write!(
                f,
                "{uri} answered {status}, which requires resending the request body, \
                 but the body is a stream that cannot be replayed (buffer it to allow this)"
            ),
            RedirectError::Rejected { location, source } => {
                write!(f, "redirect to {location} refused by the policy: {source}")
            }
        }
    }
}

impl std::error::Error for RedirectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RedirectError::Rejected { source, .. } => Some(&**source),
            _ => None,
        }
    }
}
