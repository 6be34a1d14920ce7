//! URLs, origins and URL credentials: the rules the layers and tower-requests share, each
//! written once.
//!
//! * [`to_url`] and [`to_uri`]: the one conversion between `http::Uri` (what travels through
//!   the layers) and `url::Url` (what resolves `Location` references, parses cookie origins
//!   and what users read).
//! * [`basic_from_userinfo`]: credentials written in a URL (`http://user:pa%40ss@host/`),
//!   percent-decoded, as the `Authorization: Basic` value requests sends for them.
//! * The same-origin rule (requests' `should_strip_auth`: same scheme, host and port, or the
//!   `http` → `https` upgrade of one host on the default ports), which the auth layer scopes
//!   credentials with and the redirect layer strips them with; and host/port read from an
//!   authority in one pass (the auth and cookie layers do this for every request;
//!   `Uri::host` and `Uri::port_u16` each parse the authority again).
//! * Removing credentials from any text that may hold a URL is [`crate::redact`]'s.
//!
//! ```
//! use tower_requests_layers::origin;
//!
//! let uri: http::Uri = "http://example.test:8080/a?b=1".parse()?;
//! let url = origin::to_url(&uri).expect("absolute");
//! assert_eq!(url.port(), Some(8080));
//! let mut url = url.join("/next#top")?;
//! assert_eq!(origin::to_uri(&url)?, "http://example.test:8080/next"); // no fragment
//! url.set_fragment(None);
//! assert_eq!(origin::to_url(&origin::to_uri(&url)?), Some(url));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use http::uri::InvalidUri;
use http::Uri;
use url::Url;

/// The URL of an absolute URI (`None` for a relative one, or one the URL parser rejects).
pub fn to_url(uri: &Uri) -> Option<Url> {
    uri.scheme()?;
    uri.authority()?;
    Url::parse(&uri.to_string()).ok()
}

/// The URI of `url` as a request target: everything but the fragment, which is never sent.
pub fn to_uri(url: &Url) -> Result<Uri, InvalidUri> {
    url[..url::Position::AfterQuery].parse()
}

/// The `Authorization: Basic` value for credentials written in a URL's userinfo: each part is
/// percent-decoded (lossily as UTF-8), a missing password is empty, and the value is marked
/// sensitive. The auth layer uses it for credentials in a request URI, tower-requests for
/// credentials in a request URL.
#[cfg(feature = "auth")]
pub fn basic_from_userinfo(username: &str, password: Option<&str>) -> http::HeaderValue {
    use percent_encoding::percent_decode_str as decode;
    basic(
        &decode(username).decode_utf8_lossy(),
        &decode(password.unwrap_or("")).decode_utf8_lossy(),
    )
}

/// `Basic base64(user:pass)` (RFC 7617, UTF-8), marked sensitive.
#[cfg(feature = "auth")]
pub fn basic(username: &str, password: &str) -> http::HeaderValue {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    // Base64 output is always a valid header value.
    let mut value = http::HeaderValue::try_from(format!("Basic {encoded}"))
        .unwrap_or_else(|_| http::HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// The host of an authority (`user:pass@host:port`), as `Uri::host` gives it (an IPv6
/// literal keeps its brackets), and what follows it (`""` or `":port"`).
pub(crate) fn split_host(authority: &str) -> (&str, &str) {
    let b = authority.as_bytes();
    let start = b.iter().rposition(|&c| c == b'@').map_or(0, |i| i + 1);
    let hostport = &authority[start..];
    let h = hostport.as_bytes();
    // The port of an IPv6 literal follows `]:`.
    let host_end = if h.first() == Some(&b'[') {
        h.iter().position(|&c| c == b']').map_or(h.len(), |i| i + 1)
    } else {
        h.iter().rposition(|&c| c == b':').unwrap_or(h.len())
    };
    hostport.split_at(host_end)
}

/// `Uri::host` and `Uri::port_u16` in one pass over the authority.
#[cfg(any(feature = "auth", feature = "redirect"))]
pub(crate) fn host_and_port(authority: &str) -> (&str, Option<u16>) {
    let (host, rest) = split_host(authority);
    let port = rest.strip_prefix(':').and_then(|p| p.parse::<u16>().ok());
    (host, port)
}

/// An origin (scheme, host, port) borrowed from a URI or URL, compared case-insensitively: the
/// per-request check needs no allocation. The one place the same-origin rule lives: the auth
/// layer scopes credentials with it, the redirect layer decides with it which credentials a
/// hop keeps; the auth layer's public `Origin` is its owned, lowercased form.
#[cfg(any(feature = "auth", feature = "redirect"))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct OriginRef<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
}

#[cfg(any(feature = "auth", feature = "redirect"))]
impl<'a> OriginRef<'a> {
    /// The origin of an absolute `http`/`https` URI (the default port made explicit).
    pub(crate) fn from_uri(uri: &'a http::Uri) -> Option<OriginRef<'a>> {
        let scheme = uri.scheme_str()?;
        let (host, port) = host_and_port(uri.authority()?.as_str());
        if host.is_empty() {
            return None;
        }
        let port = match port {
            Some(port) => port,
            None if scheme.eq_ignore_ascii_case("http") => 80,
            None if scheme.eq_ignore_ascii_case("https") => 443,
            None => return None,
        };
        Some(OriginRef { scheme, host, port })
    }

    /// Same scheme, host and port.
    #[cfg(feature = "redirect")]
    pub(crate) fn is_same(&self, other: &OriginRef<'_>) -> bool {
        self.host.eq_ignore_ascii_case(other.host)
            && self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.port == other.port
    }

    /// Whether credentials given for `self` may be sent to `target`: same origin, or the
    /// `http` → `https` upgrade of the same host on the default ports (requests'
    /// `should_strip_auth`).
    pub(crate) fn allows(&self, target: &OriginRef<'_>) -> bool {
        self.host.eq_ignore_ascii_case(target.host)
            && (self.scheme.eq_ignore_ascii_case(target.scheme) && self.port == target.port
                || self.scheme.eq_ignore_ascii_case("http")
                    && self.port == 80
                    && target.scheme.eq_ignore_ascii_case("https")
                    && target.port == 443)
    }
}

#[cfg(test)]
mod tests {
    use http::Uri;

    use super::*;

    #[test]
    fn host_and_port_agree_with_http() {
        for u in [
            "http://h/x",
            "http://H.example:8080/",
            "http://u:p@h:81/",
            "http://u@h/",
            "http://[::1]:8443/",
            "http://[::1]/",
            "http://u:p@[fe80::1]:9/",
            "http://127.0.0.1:65535/",
            "http://h:/",
            "http://a:b@c:d@h:1/",
        ] {
            let uri: Uri = u.parse().unwrap();
            let authority = uri.authority().unwrap().as_str();
            assert_eq!(Some(split_host(authority).0), uri.host(), "{u}");
            #[cfg(any(feature = "auth", feature = "redirect"))]
            {
                let (host, port) = host_and_port(authority);
                assert_eq!(Some(host), uri.host(), "{u}");
                assert_eq!(port, uri.port_u16(), "{u}");
            }
        }
    }
}
