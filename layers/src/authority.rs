//! Host and port read from a URI's authority in one pass (the auth and cookie layers do this
//! for every request; `Uri::host` and `Uri::port_u16` each parse the authority again, searching
//! it from both ends with string splitters), and the one same-origin rule ([`OriginRef`]).

/// The host of an authority (`user:pass@host:port`), as `Uri::host` gives it (an IPv6
/// literal keeps its brackets), and what follows it (`""` or `":port"`).
#[cfg(any(feature = "auth", feature = "cookies"))]
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
#[cfg(feature = "auth")]
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
    #[cfg(feature = "auth")]
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

    /// The origin of a URL (`None` without a host or a known default port).
    #[cfg(feature = "redirect")]
    pub(crate) fn from_url(url: &'a url::Url) -> Option<OriginRef<'a>> {
        Some(OriginRef {
            scheme: url.scheme(),
            host: url.host_str()?,
            port: url.port_or_known_default()?,
        })
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
            #[cfg(feature = "auth")]
            {
                let (host, port) = host_and_port(authority);
                assert_eq!(Some(host), uri.host(), "{u}");
                assert_eq!(port, uri.port_u16(), "{u}");
            }
        }
    }
}
