//! Origins (scheme, host, port) and credential scoping.

use std::fmt;

use http::Uri;

pub(crate) use crate::origin::OriginRef;

/// The origin of a URL: scheme, host and port (the port made explicit), lowercased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URI (`None` for relative URIs, other schemes
    /// without an explicit port, or URIs without a host).
    pub fn from_uri(uri: &Uri) -> Option<Origin> {
        OriginRef::from_uri(uri).map(|o| Origin {
            scheme: o.scheme.to_ascii_lowercase(),
            host: o.host.to_ascii_lowercase(),
            port: o.port,
        })
    }

    /// The scheme, lowercase.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lowercase (IPv6 addresses in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (explicit, or the scheme's default).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether credentials given for `self` may be sent to `target`: same origin, or the
    /// `http` → `https` upgrade of the same host on the default ports (like requests).
    pub fn allows(&self, target: &Origin) -> bool {
        self.as_ref().allows(&target.as_ref())
    }
}

impl Origin {
    pub(crate) fn as_ref(&self) -> OriginRef<'_> {
        OriginRef {
            scheme: &self.scheme,
            host: &self.host,
            port: self.port,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Request extension: the origin the call's credentials belong to.
///
/// Set it yourself (above a redirect layer, so it is copied onto every hop) to pin a call's
/// credentials to an origin; without it the call's origin is its first request's (the redirect
/// layer's [`OriginalUri`](crate::ext::OriginalUri)), or the request's own. The layer's own
/// [`for_origin`](super::AuthLayer::for_origin) / [`any_origin`](super::AuthLayer::any_origin)
/// settings win over it. (The layer does not insert it: nothing below reads it, and an owned
/// origin per request cost allocations.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOrigin(pub Origin);

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Origin {
        Origin::from_uri(&s.parse().unwrap()).unwrap()
    }

    #[test]
    fn borrowed_origins_agree_with_owned() {
        let uris = [
            "http://H/x",
            "http://h:80/y",
            "https://h/",
            "https://h:443/",
            "http://h:8080/",
            "http://g/",
            "HTTPS://H:443/",
            "https://[::1]:8443/",
            "ftp://h/x",
            "/x",
            "ftp://h:21/",
        ];
        for a in uris {
            for b in uris {
                let (ua, ub): (Uri, Uri) = (a.parse().unwrap(), b.parse().unwrap());
                let owned = match (Origin::from_uri(&ua), Origin::from_uri(&ub)) {
                    (Some(x), Some(y)) => Some(x.allows(&y)),
                    _ => None,
                };
                let borrowed = match (OriginRef::from_uri(&ua), OriginRef::from_uri(&ub)) {
                    (Some(x), Some(y)) => Some(x.allows(&y)),
                    _ => None,
                };
                assert_eq!(owned, borrowed, "{a} -> {b}");
                if let Some(x) = Origin::from_uri(&ua) {
                    let y = OriginRef::from_uri(&ub);
                    assert_eq!(y.map(|y| x.as_ref().allows(&y)), owned, "{a} -> {b}");
                }
            }
        }
    }

    #[test]
    fn origins() {
        assert_eq!(o("http://H/x"), o("http://h:80/y"));
        assert!(o("http://h/").allows(&o("https://h/")));
        assert!(!o("https://h/").allows(&o("http://h/")));
        assert!(!o("http://h:8080/").allows(&o("https://h/")));
        assert!(!o("http://h/").allows(&o("http://g/")));
        assert!(!o("http://h:1/").allows(&o("http://h:2/")));
        assert!(Origin::from_uri(&"/x".parse().unwrap()).is_none());
        assert!(Origin::from_uri(&"ftp://h/x".parse().unwrap()).is_none());
        assert_eq!(o("https://[::1]:8443/").to_string(), "https://[::1]:8443");
    }
}
