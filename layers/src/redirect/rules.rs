//! requests' redirect rules, and the extensions the layer reads and writes.

use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, PROXY_AUTHORIZATION,
    TRANSFER_ENCODING,
};
use http::{HeaderMap, Method, StatusCode, Uri};
use url::Url;

use super::error::RedirectError;
pub use crate::ext::{EffectiveUri, Fragment, History, Hop, OriginalUri};
use crate::redact::uri as redact_uri;

/// Whether `status` is a redirect this layer follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// requests' `rebuild_method`.
pub(crate) fn next_method(status: StatusCode, method: &Method) -> Method {
    match status.as_u16() {
        302 | 303 if method != Method::HEAD => Method::GET,
        301 if method == Method::POST => Method::GET,
        _ => method.clone(),
    }
}

/// Whether the body and its headers go (301, 302, 303) or are replayed (307, 308).
pub(crate) fn drops_body(status: StatusCode) -> bool {
    !matches!(status.as_u16(), 307 | 308)
}

pub(crate) fn drop_body_headers(headers: &mut HeaderMap) {
    headers.remove(CONTENT_LENGTH);
    headers.remove(CONTENT_TYPE);
    headers.remove(TRANSFER_ENCODING);
}

pub(crate) fn strip_credentials(headers: &mut HeaderMap) {
    headers.remove(AUTHORIZATION);
    headers.remove(PROXY_AUTHORIZATION);
    headers.remove(COOKIE);
    headers.remove(HOST);
}

/// Resolves a `Location` value against the current URL.
pub(crate) fn resolve(location: &[u8], uri: &Uri) -> Result<Url, Box<RedirectError>> {
    // requests decodes Location as latin-1 when it is not UTF-8; `url` then percent-encodes it.
    let text = match std::str::from_utf8(location) {
        Ok(s) => s.to_string(),
        Err(_) => location.iter().map(|&b| char::from(b)).collect(),
    };
    let invalid = |reason: String| {
        Box::new(RedirectError::InvalidLocation {
            location: crate::redact::userinfo(&text).into_owned(),
            uri: redact_uri(uri),
            reason,
        })
    };
    let base = crate::origin::to_url(uri)
        .ok_or_else(|| invalid("the request URI is not an absolute http(s) URL".into()))?;
    let next = base.join(&text).map_err(|e| invalid(e.to_string()))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(Box::new(RedirectError::UnsupportedScheme {
            location: crate::redact::userinfo(next.as_str()).into_owned(),
        }));
    }
    if next.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".into()));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_rules_match_requests() {
        let cases = [
            (301, "POST", "GET"),
            (301, "PUT", "PUT"),
            (301, "HEAD", "HEAD"),
            (302, "POST", "GET"),
            (302, "PUT", "GET"),
            (302, "DELETE", "GET"),
            (302, "HEAD", "HEAD"),
            (303, "PUT", "GET"),
            (303, "HEAD", "HEAD"),
            (307, "POST", "POST"),
            (308, "PUT", "PUT"),
        ];
        for (status, from, to) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let from: Method = from.parse().unwrap();
            assert_eq!(next_method(status, &from).as_str(), to, "{status} {from}");
        }
    }

    /// requests' `should_strip_auth`, through the policy's view of a hop.
    fn should_strip(old: &str, new: &str) -> bool {
        let (old, new): (Uri, Uri) = (old.parse().unwrap(), new.parse().unwrap());
        let headers = HeaderMap::new();
        let attempt = super::super::policy::Attempt {
            status: StatusCode::FOUND,
            method: &Method::GET,
            previous: &old,
            location: &new,
            headers: &headers,
            followed: 0,
        };
        !attempt.credentials_allowed()
    }

    #[test]
    fn strip_rules_match_requests() {
        assert!(!should_strip("http://h/a", "http://h/b"));
        assert!(!should_strip("http://h/a", "http://h:80/b"));
        assert!(!should_strip("http://h/a", "https://h/b"));
        assert!(!should_strip("http://h:80/a", "https://h:443/b"));
        assert!(should_strip("https://h/a", "http://h/b"));
        assert!(should_strip("http://h:8080/a", "https://h/b"));
        assert!(should_strip("http://h/a", "https://h:8443/b"));
        assert!(should_strip("http://h:1/a", "http://h:2/b"));
        assert!(should_strip("http://h/a", "http://g/b"));
        assert!(!should_strip("http://H/a", "http://h/b"));
        assert!(should_strip("http://localhost/", "http://127.0.0.1/"));
    }

    #[test]
    fn resolve_relative_and_protocol_relative() {
        let base: Uri = "https://a.test/x/y?q".parse().unwrap();
        assert_eq!(resolve(b"z", &base).unwrap().as_str(), "https://a.test/x/z");
        assert_eq!(resolve(b"/z", &base).unwrap().as_str(), "https://a.test/z");
        assert_eq!(
            resolve(b"//b.test/z", &base).unwrap().as_str(),
            "https://b.test/z"
        );
        assert_eq!(
            resolve(b"?k", &base).unwrap().as_str(),
            "https://a.test/x/y?k"
        );
        assert!(matches!(
            resolve(b"ftp://b.test/", &base).map_err(|e| *e),
            Err(RedirectError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            resolve(b"http://[::1", &base).map_err(|e| *e),
            Err(RedirectError::InvalidLocation { .. })
        ));
        let latin1 = resolve(b"/caf\xe9", &base).unwrap();
        assert_eq!(latin1.as_str(), "https://a.test/caf%C3%A9");
        let rel: Uri = "/only/path".parse().unwrap();
        assert!(resolve(b"/z", &rel).is_err());
    }
}
