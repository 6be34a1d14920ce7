//! What the Redis backends (the rate limit's and the cookie store's) share: the rule for the
//! names that become their keys' hash tags.

use std::fmt;

/// A limiter or jar name that cannot be used: it is empty or holds `{` or `}` (it becomes the keys'
/// hash tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid Redis name {:?}: it must be non-empty, without '{{' or '}}'",
            self.0
        )
    }
}

impl std::error::Error for InvalidName {}

pub(crate) fn check_name(name: &str) -> Result<(), InvalidName> {
    if name.is_empty() || name.contains(['{', '}']) {
        return Err(InvalidName(name.to_owned()));
    }
    Ok(())
}
