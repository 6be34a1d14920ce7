//! [`CookieError`]: why a cookie was rejected or a cookie file could not be read.

use std::fmt;

/// Why a cookie was rejected (Set-Cookie line, [`CookieJar::set`](super::CookieJar::set)) or why
/// a cookie file could not be loaded or saved.
///
/// A rejected cookie leaves the jar as it was. The layer ignores rejected Set-Cookie lines, as a
/// browser does; [`CookieJar::insert_raw`](super::CookieJar::insert_raw) reports them.
#[derive(Debug)]
#[non_exhaustive]
pub enum CookieError {
    /// The URL has no host (e.g. `data:` or `file:` URLs), so no cookie can belong to it.
    NoHost,
    /// The Set-Cookie value is not valid UTF-8.
    NotUtf8,
    /// The line contains a control character (NUL, CR, LF, DEL, ...; only HTAB is allowed).
    ControlCharacter,
    /// Both the name and the value are empty.
    Empty,
    /// Name + value are longer than the jar's per-cookie limit (4096 bytes by default).
    TooLarge {
        /// Bytes of name + value.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The name given to [`CookieJar::set`](super::CookieJar::set) is empty or contains `=`,
    /// `;`, a control character or leading/trailing whitespace.
    InvalidName(String),
    /// The value given to [`CookieJar::set`](super::CookieJar::set) contains `;`, a control
    /// character or leading/trailing whitespace.
    InvalidValue,
    /// The `Domain` attribute is not a valid host name.
    InvalidDomain(String),
    /// The `Domain` attribute is a public suffix (`com`, `co.uk`, `github.io`, ...) other than the
    /// request host itself.
    PublicSuffix(String),
    /// The `Domain` attribute does not cover the request host (including any `Domain` on an
    /// IP-address host other than that very address).
    DomainMismatch {
        /// The `Domain` attribute.
        domain: String,
        /// The request host.
        host: String,
    },
    /// A `Secure` cookie sent by a non-secure origin (plain http other than localhost/loopback).
    InsecureOrigin,
    /// A non-secure origin tried to set a cookie that would shadow an existing `Secure` cookie
    /// (RFC 6265bis "leave secure cookies alone").
    ShadowsSecureCookie,
    /// A `__Secure-` or `__Host-` name prefix whose requirements are not met.
    Prefix {
        /// `"__Secure-"` or `"__Host-"`.
        prefix: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// A [`CookieStore`](super::CookieStore) other than the default one rejected the cookie, for
    /// the reason it gives.
    Store(String),
    /// Reading or writing a cookie file failed.
    Io(std::io::Error),
    /// A JSON cookie file is malformed or truncated.
    #[cfg(feature = "persist")]
    Json(serde_json::Error),
    /// A Netscape/curl cookies.txt file is malformed or truncated.
    Netscape {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CookieError::NoHost => f.write_str("cookie rejected: the URL has no host"),
            CookieError::NotUtf8 => f.write_str("cookie rejected: Set-Cookie is not valid UTF-8"),
            CookieError::ControlCharacter => {
                f.write_str("cookie rejected: it contains a control character")
            }
            CookieError::Empty => f.write_str("cookie rejected: empty name and value"),
            CookieError::TooLarge { size, limit } => write!(
                f,
                "cookie rejected: name and value are {size} bytes, more than the limit of {limit}"
            ),
            CookieError::InvalidName(name) => write!(f, "invalid cookie name {name:?}"),
            CookieError::InvalidValue => f.write_str("invalid cookie value"),
            CookieError::InvalidDomain(d) => {
                write!(f, "cookie rejected: Domain={d:?} is not a valid host name")
            }
            CookieError::PublicSuffix(d) => {
                write!(f, "cookie rejected: Domain={d} is a public suffix")
            }
            CookieError::DomainMismatch { domain, host } => write!(
                f,
                "cookie rejected: Domain={domain} does not match the request host {host}"
            ),
            CookieError::InsecureOrigin => f.write_str(
                "cookie rejected: a Secure cookie cannot be set by a non-secure (plain http) origin",
            ),
            CookieError::ShadowsSecureCookie => f.write_str(
                "cookie rejected: a non-secure origin cannot overwrite or shadow a Secure cookie",
            ),
            CookieError::Prefix { prefix, reason } => {
                write!(f, "cookie rejected: {prefix} prefix requires {reason}")
            }
            CookieError::Store(reason) => write!(f, "cookie rejected by the store: {reason}"),
            // The I/O and JSON errors are the `source()`; printed once, by whoever walks it.
            CookieError::Io(_) => f.write_str("cookie file could not be read or written"),
            #[cfg(feature = "persist")]
            CookieError::Json(_) => f.write_str("malformed JSON cookie file"),
            CookieError::Netscape { line, reason } => {
                write!(f, "malformed cookies.txt file, line {line}: {reason}")
            }
        }
    }
}

impl std::error::Error for CookieError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CookieError::Io(e) => Some(e),
            #[cfg(feature = "persist")]
            CookieError::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for CookieError {
    fn from(e: std::io::Error) -> Self {
        CookieError::Io(e)
    }
}
