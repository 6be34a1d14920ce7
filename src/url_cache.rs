//! URLs as a request takes them: [`IntoUrl`], the session's cache of its last parsed URL, and
//! what every request URL must be.

use std::sync::Arc;

use url::Url;

use crate::error::Error;

/// Something that can be turned into a URL: `&str`, `String`, [`Url`].
pub trait IntoUrl: sealed::Sealed {
    /// Parse (or pass on) the URL.
    fn into_url(self) -> Result<Url, Error>;

    /// The text to parse, for a URL given as text (lets a session reuse its last parse of the
    /// same `scheme://authority`).
    #[doc(hidden)]
    fn url_text(&self) -> Option<&str> {
        None
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for url::Url {}
    impl Sealed for &url::Url {}
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, Error> {
        Url::parse(self).map_err(|e| {
            // The message says it all (the parser's error adds nothing as a cause); the text is
            // shown without its credentials.
            let shown = crate::layers::redact::userinfo(self);
            Error::builder_msg(format!("invalid URL {shown:?}: {e}"))
        })
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}
impl IntoUrl for String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}
impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
    fn url_text(&self) -> Option<&str> {
        Some(self)
    }
}

/// A session's last parsed URL, to parse the next one on the same origin without parsing (and
/// IDNA-processing) its host again: a session usually talks to one API, often to one endpoint
/// again and again (the same text then costs a clone of the URL and of its `http::Uri`).
///
/// On an origin hit the URL is `last.join(rest)`, where `rest` is the text after the authority: the
/// URL parser copies scheme, credentials, host and port from the base and parses path, query
/// and fragment exactly as a full parse would, and the request-target URI is the last one's
/// scheme and authority with the new path and query. Only plain cases hit (`http://` or `https://`
/// lowercase, `rest` starting with a single '/', no tab or newline anywhere in `rest`, which
/// the parser removes and which could otherwise turn "/\t/x" into "//x"); a test compares
/// hits with `Url::parse` on many inputs. Anything else is parsed in full. Every plain text
/// becomes the new last one.
#[derive(Default)]
pub(crate) struct UrlCache {
    /// Updated in place, so a miss allocates only what the new URL needs.
    last: std::sync::Mutex<Option<Parsed>>,
}

/// The last plain URL text given, the URL it parsed to and its request-target URI.
#[derive(Clone)]
struct Parsed {
    text: String,
    /// `text[..origin_len]` is its `scheme://authority`.
    origin_len: usize,
    url: Arc<Url>,
    /// `None` when the URL has credentials (the facade strips them first).
    uri: Option<http::Uri>,
}

impl UrlCache {
    /// The URL of `text`, and its request-target URI when that is known already. The same text
    /// as last time costs a clone of an `Arc`; another path on the same origin a `join`.
    pub(crate) fn parse(&self, text: &str) -> Result<(Arc<Url>, Option<http::Uri>), Error> {
        // The same text as last time (only plain texts are kept) needs no look at all; the
        // same origin gives the base to join and the scheme and authority of the URI.
        let (split, base) = {
            let last = self.lock();
            if let Some(last) = last.as_ref().filter(|last| *last.text == *text) {
                return Ok((last.url.clone(), last.uri.clone()));
            }
            let split = split_origin(text);
            let base = match (&*last, split) {
                (Some(last), Some((origin, _))) if last.text[..last.origin_len] == *origin => {
                    Some((last.url.clone(), last.uri.clone()))
                }
                _ => None,
            };
            (split, base)
        };
        let Some((origin, rest)) = split else {
            return text.into_url().map(|url| (Arc::new(url), None));
        };
        let joined = base.as_ref().and_then(|(base, _)| base.join(rest).ok());
        let (url, base_uri) = match joined {
            Some(url) => (url, base.and_then(|(_, uri)| uri)),
            None => (text.into_url()?, None),
        };
        let plain = url.username().is_empty() && url.password().is_none();
        let uri = match (plain, base_uri) {
            (false, _) => None,
            (true, Some(base)) => uri_on_origin(&base, &url),
            (true, None) => uri_of(&url).ok(),
        };
        let url = Arc::new(url);
        let mut last = self.lock();
        match &mut *last {
            Some(last) => {
                last.text.clear();
                // One very long URL does not leave its buffer behind for good.
                if last.text.capacity() > 4096 {
                    last.text.shrink_to(text.len());
                }
                last.text.push_str(text);
                last.origin_len = origin.len();
                last.url = url.clone();
                last.uri = uri.clone();
            }
            None => {
                *last = Some(Parsed {
                    text: text.into(),
                    origin_len: origin.len(),
                    url: url.clone(),
                    uri: uri.clone(),
                })
            }
        }
        Ok((url, uri))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Parsed>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The request-target URI of `url`, a URL joined onto the one whose URI is `base`: the same
/// scheme and authority (shared, not parsed again) and `url`'s path and query.
fn uri_on_origin(base: &http::Uri, url: &Url) -> Option<http::Uri> {
    let mut parts = http::uri::Parts::default();
    parts.scheme = base.scheme().cloned();
    parts.authority = base.authority().cloned();
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    parts.path_and_query = Some(http::uri::PathAndQuery::try_from(path).ok()?);
    http::Uri::from_parts(parts).ok()
}

/// `("http(s)://authority", "/rest")` when `text` is in the plain form [`UrlCache`] reuses.
fn split_origin(text: &str) -> Option<(&str, &str)> {
    let after = if text.starts_with("http://") {
        7
    } else if text.starts_with("https://") {
        8
    } else {
        return None;
    };
    // By bytes: the delimiters are ASCII, so a match is always at a char boundary.
    let end = after
        + text.as_bytes()[after..]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#' | b'\\'))?;
    let (origin, rest) = text.split_at(end);
    let r = rest.as_bytes();
    let plain = r[0] == b'/'
        && !matches!(r.get(1), Some(b'/' | b'\\'))
        && !r.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'));
    plain.then_some((origin, rest))
}
impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, Error> {
        Ok(self)
    }
}
impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, Error> {
        Ok(self.clone())
    }
}

/// Check what every request URL must be: http(s), with a host.
pub(crate) fn validate_url(url: &Url) -> Result<(), Error> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::builder_msg(format!(
                "unsupported URL scheme {other:?} (only http and https)"
            ))
            .with_url(url))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::builder_msg("URL has no host").with_url(url));
    }
    Ok(())
}

/// The request-target URI of a URL (the fragment is never sent).
pub(crate) fn uri_of(url: &Url) -> Result<http::Uri, Error> {
    crate::layers::origin::to_uri(url).map_err(|e| Error::builder(e).with_url(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every URL parsed through the cache (after priming it with another URL on the same
    /// origin) is exactly what `Url::parse` gives, or fails as it does.
    #[test]
    fn cached_parse_equals_full_parse() {
        let origins = [
            "http://example.com",
            "https://EXAMPLE.com:443",
            "http://u:p%40x@host:8080",
            "http://127.1",
            "http://[::1]:80",
            "https://bücher.example",
            "http://xn--bcher-kva.example",
            "http://host:99999",
            "http://ho\tst",
            "http://a.b.",
        ];
        let rests = [
            "/",
            "/a/b",
            "/a/../b",
            "/%2e%2e/x",
            "/a/./b/.",
            "/ a b",
            "/a?b c#d e",
            "/é?ü#ö",
            "/a\\b",
            "/a//b",
            "/a?x=/\\y",
            "/#frag",
            "/?",
            "/.",
            "/..",
            "/a\u{0}b",
            "/a  ",
            "/x\u{1}",
            "/\t/evil",
            "/a\n/b",
            "/a\"<>`{}|^",
            "/%zz%",
            "/a?'",
            "/a#'",
            "/./../.%2E/x",
            "/\u{3000}",
        ];
        for origin in origins {
            for rest in rests {
                let cache = UrlCache::default();
                // Prime with another URL on the same origin, then parse the one under test.
                let _ = cache.parse(&format!("{origin}/first/path?q=1#f"));
                let text = format!("{origin}{rest}");
                let full = Url::parse(&text).map(|u| u.to_string());
                // Twice: an origin hit (join), then the same text again (the stored parse).
                for _ in 0..2 {
                    let parsed = cache.parse(&text);
                    if let Ok((url, Some(uri))) = &parsed {
                        assert_eq!(uri, &uri_of(url).unwrap(), "{text:?}");
                        assert!(url.username().is_empty() && url.password().is_none());
                    }
                    let cached = parsed.map(|(u, _)| u.to_string());
                    match (&cached, &full) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                        (Err(_), Err(_)) => {}
                        _ => panic!("{text:?}: cached {cached:?}, full {full:?}"),
                    }
                }
            }
        }
    }

    /// The kept text is reused in place, but a very long URL's buffer is not kept for good.
    #[test]
    fn a_long_url_is_not_kept_for_good() {
        let cache = UrlCache::default();
        let long = format!("http://example.com/{}", "a".repeat(100_000));
        cache.parse(&long).unwrap();
        assert!(cache.last.lock().unwrap().as_ref().unwrap().text.capacity() >= 100_000);
        let (url, uri) = cache.parse("http://example.com/short").unwrap();
        assert_eq!(url.as_str(), "http://example.com/short");
        assert_eq!(uri.unwrap(), "http://example.com/short");
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(last.text, "http://example.com/short");
        let capacity = cache.last.lock().unwrap().as_ref().unwrap().text.capacity();
        assert!(capacity <= 4096, "kept {capacity} bytes for a 24-byte URL");
    }

    #[test]
    fn only_plain_same_origin_text_is_reused() {
        assert_eq!(split_origin("http://h:1/a?b"), Some(("http://h:1", "/a?b")));
        assert_eq!(split_origin("https://h/"), Some(("https://h", "/")));
        for text in [
            "http://h",
            "http://h?x",
            "http://h//evil/x",
            "http://h/\\evil",
            "http://h/\t/evil",
            "HTTP://h/x",
            " http://h/x",
            "ftp://h/x",
            "http://h\\x",
        ] {
            assert_eq!(split_origin(text), None, "{text:?}");
        }
        // What is kept: the last plain text, its origin, URL and request-target.
        let cache = UrlCache::default();
        cache.parse("http://example.com/a").unwrap();
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(&last.text[..last.origin_len], "http://example.com");
        let (url, uri) = cache.parse("http://example.com/b?c#f").unwrap();
        assert_eq!(url.as_str(), "http://example.com/b?c#f");
        assert_eq!(uri.unwrap(), "http://example.com/b?c");
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(last.text, "http://example.com/b?c#f");
        cache.parse("http://other.example/").unwrap();
        let last = cache.last.lock().unwrap().clone().unwrap();
        assert_eq!(&last.text[..last.origin_len], "http://other.example");
        // Credentials: no request-target kept (the facade strips them first).
        let (_, uri) = cache.parse("http://u:p@other.example/x").unwrap();
        assert!(uri.is_none());
        let (_, uri) = cache.parse("http://u:p@other.example/x").unwrap();
        assert!(uri.is_none());
    }
}
