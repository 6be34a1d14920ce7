//! Set-Cookie parsing and the storage rules of RFC 6265 / 6265bis section 5.7.
//!
//! The line is parsed here, step by step as RFC 6265bis 5.6 says, rather than by the `cookie`
//! crate: that crate rejects the name-less cookies 6265bis defines (`Set-Cookie: token` = name
//! "", value "token"), keeps the first of two attributes of one name where the last must win
//! (`Path=/foo; Path` must end with the default path), reads an empty `Max-Age` as a value, and
//! takes dates in four fixed formats only (see [`super::date`]). Each of these was a wrong
//! answer on the public http-state parser cases or a unit test here.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use super::date::parse_cookie_date;
use super::error::CookieError;
use super::model::{Cookie, SameSite};

/// RFC 6265bis: Expires and Max-Age are capped at 400 days.
pub(crate) const MAX_AGE_CAP: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// RFC 6265bis: attribute values longer than this are ignored.
const MAX_ATTRIBUTE_VALUE: usize = 1024;

/// The request side of a cookie decision, borrowed from a URL without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// Canonical host: lowercase domain, dotted IPv4, IPv6 without brackets.
    pub host: &'a str,
    pub is_ip: bool,
    /// https/wss, or a potentially trustworthy host (localhost, loopback) as browsers treat it.
    pub secure: bool,
    pub path: &'a str,
}

impl<'a> Origin<'a> {
    pub(crate) fn from_url(url: &'a Url) -> Result<Origin<'a>, CookieError> {
        let host_str = url.host_str().ok_or(CookieError::NoHost)?;
        if host_str.is_empty() {
            return Err(CookieError::NoHost);
        }
        let (host, is_ip, loopback) = match url.host() {
            Some(url::Host::Domain(_)) => {
                let h = host_str.strip_suffix('.').unwrap_or(host_str);
                let loopback = h == "localhost" || h.ends_with(".localhost");
                (h, false, loopback)
            }
            Some(url::Host::Ipv4(ip)) => (host_str, true, ip.is_loopback()),
            Some(url::Host::Ipv6(ip)) => {
                let h = host_str
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host_str);
                (h, true, ip.is_loopback())
            }
            None => return Err(CookieError::NoHost),
        };
        if host.is_empty() {
            return Err(CookieError::NoHost);
        }
        let secure = matches!(url.scheme(), "https" | "wss") || loopback;
        Ok(Origin {
            host,
            is_ip,
            secure,
            path: url.path(),
        })
    }
}

/// Runs `f` with the [`Origin`] of an absolute request URI (`None` for a relative one or one
/// without a usable host).
///
/// Most request URIs are already in the form the URL standard would give them (lowercase host,
/// dotted-quad IPv4, no dot segments: the facade builds them from a parsed `Url`), and then the
/// origin is borrowed straight from the URI. Anything else (uppercase, IDNA `xn--` labels, IPv6,
/// other IPv4 spellings, characters the URL parser would encode, dot segments) is parsed with
/// `url` first, so both paths give the same origin; a test compares them. Parsing a URL with
/// IDNA is the most expensive step of a cookie lookup, which is why this is not simply
/// `Url::parse(uri)`.
pub(crate) fn with_uri_origin<R>(uri: &http::Uri, f: impl FnOnce(&Origin<'_>) -> R) -> Option<R> {
    let scheme = uri.scheme_str()?;
    let host = crate::origin::split_host(uri.authority()?.as_str()).0;
    if let Some(origin) = canonical_origin(scheme, host, uri.path()) {
        return Some(f(&origin));
    }
    let url = crate::origin::to_url(uri)?;
    let origin = Origin::from_url(&url).ok()?;
    Some(f(&origin))
}

/// The origin borrowed from URI parts that a URL parser would leave unchanged, else `None`.
/// One pass over the host and one over the path (this runs for every request).
fn canonical_origin<'a>(scheme: &str, host: &'a str, path: &'a str) -> Option<Origin<'a>> {
    if !matches!(scheme, "http" | "https" | "ws" | "wss") {
        return None;
    }
    let bare = host.strip_suffix('.').unwrap_or(host);
    let b = bare.as_bytes();
    // Labels: non-empty, [a-z0-9-] only (no uppercase, '%', '_' ...), none an `xn--` label
    // (IDNA validates those). The same pass notes whether the host is a canonical dotted quad
    // (four decimal numbers of at most 255 without leading zeros) and its first number:
    // `Ipv4Addr::from_str` cost more than all the rest of this check.
    let mut start = 0;
    let mut labels = 0;
    let mut decimal = true;
    let mut number = 0u32;
    let mut first = 0;
    let mut last_start = 0;
    for i in 0..=b.len() {
        let c = b.get(i).copied().unwrap_or(b'.');
        if c == b'.' {
            let label = &b[start..i];
            if label.is_empty() || label.starts_with(b"xn--") {
                return None;
            }
            decimal &= number <= 255 && (label.len() == 1 || label[0] != b'0');
            if labels == 0 {
                first = number;
            }
            labels += 1;
            number = 0;
            last_start = start;
            start = i + 1;
        } else if c.is_ascii_digit() {
            number = (number * 10 + u32::from(c - b'0')).min(256);
        } else if c.is_ascii_lowercase() || c == b'-' {
            decimal = false;
        } else {
            return None;
        }
    }
    // The URL standard reads a host whose last label is a number as IPv4 (in any of its
    // spellings); only the canonical dotted quad, with no trailing dot, is kept as it is.
    let last = &b[last_start..];
    let (is_ip, loopback) = if last.iter().all(u8::is_ascii_digit) || last.starts_with(b"0x") {
        if bare.len() != host.len() || !decimal || labels != 4 {
            return None;
        }
        (true, first == 127)
    } else {
        (false, bare == "localhost" || bare.ends_with(".localhost"))
    };
    // The path: absolute, no byte the URL parser would percent-encode or turn into '/', no
    // "." or ".." segment, and no short segment with a '%' that could spell one ("%2e").
    let p = path.as_bytes();
    if p.first() != Some(&b'/') {
        return None;
    }
    let mut seg_start = 1;
    let mut seg_has_pct = false;
    for i in 1..=p.len() {
        if i == p.len() || p[i] == b'/' {
            let seg = &p[seg_start..i];
            if seg == b"." || seg == b".." || (seg_has_pct && seg.len() <= 6) {
                return None;
            }
            seg_start = i + 1;
            seg_has_pct = false;
        } else {
            let c = p[i];
            if !c.is_ascii_graphic() || matches!(c, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'\\')
            {
                return None;
            }
            seg_has_pct |= c == b'%';
        }
    }
    Some(Origin {
        host: bare,
        is_ip,
        secure: matches!(scheme, "https" | "wss") || loopback,
        path,
    })
}

/// `true` for the control characters RFC 6265bis forbids anywhere in a Set-Cookie line
/// (%x00-08 / %x0A-1F / %x7F; HTAB is allowed).
pub(crate) fn has_forbidden_ctl(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, 0x00..=0x08 | 0x0A..=0x1F | 0x7F))
}

fn trim_wsp(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Whether `domain` (canonical, lowercase) is a public suffix per the bundled list, including
/// the implicit `*` rule (an unknown TLD is a public suffix too).
pub(crate) fn is_public_suffix(domain: &str) -> bool {
    psl::suffix_str(domain) == Some(domain)
}

/// RFC 6265 5.1.4 default-path of a request path.
pub(crate) fn default_path(path: &str) -> &str {
    if !path.starts_with('/') {
        return "/";
    }
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// RFC 6265 5.1.4 path-match.
pub(crate) fn path_match(cookie_path: &str, request_path: &str) -> bool {
    let request_path = if request_path.is_empty() {
        "/"
    } else {
        request_path
    };
    match request_path.strip_prefix(cookie_path) {
        Some(rest) => rest.is_empty() || cookie_path.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// RFC 6265 5.1.3 domain-match of a request host against a cookie's domain (non-host-only).
pub(crate) fn domain_match(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Canonicalizes a `Domain` attribute value (leading dot already removed): IDNA to ASCII,
/// lowercase; IP literals with or without brackets. A domain with an empty label
/// (`.example.com` left by a second leading dot, `a..b`, a trailing dot) is invalid. Cookie
/// files are loaded with the same rules (after dropping one trailing dot).
pub(crate) fn canonical_domain_attr(d: &str) -> Result<(String, bool), CookieError> {
    let bare = d
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .unwrap_or(d);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok((ip.to_string(), true));
    }
    match url::Host::parse(d) {
        Ok(url::Host::Domain(s)) if !s.split('.').any(str::is_empty) => Ok((s, false)),
        Ok(url::Host::Ipv4(ip)) => Ok((ip.to_string(), true)),
        Ok(url::Host::Ipv6(ip)) => Ok((ip.to_string(), true)),
        _ => Err(CookieError::InvalidDomain(d.to_string())),
    }
}

/// The attributes of a Set-Cookie line that the storage model uses, after RFC 6265bis 5.6:
/// for each attribute name the last one in the line wins; an attribute whose value is invalid
/// is ignored (an earlier one of the same name then stands), except `Path`, whose empty or
/// relative value stands for the default path.
#[derive(Debug, Default)]
struct Attributes<'a> {
    /// The last valid `Max-Age`: `Some(None)` for delta-seconds <= 0 (delete), else the seconds.
    max_age: Option<Option<u64>>,
    /// The last valid `Expires`.
    expires: Option<SystemTime>,
    /// The last non-empty `Domain`, leading dot removed (not yet canonical).
    domain: Option<&'a str>,
    /// The last `Path`: `Some(None)` for an empty or relative value (the default path).
    path: Option<Option<&'a str>>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

/// RFC 6265bis 5.6.2: `Max-Age` is an optional `-` and digits; anything else is ignored.
/// `Some(None)` for a value <= 0, `Some(Some(secs))` otherwise (saturating on overflow).
fn parse_max_age(v: &str) -> Option<Option<u64>> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = digits.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Some(if negative || secs == 0 {
        None
    } else {
        Some(secs)
    })
}

/// RFC 6265bis 5.6: splits the attributes (the part of the line from its first `;` on) and
/// interprets each one.
fn parse_attributes(unparsed: &str) -> Attributes<'_> {
    let mut a = Attributes::default();
    for av in unparsed.split(';').skip(1) {
        let (name, value) = match av.find('=') {
            Some(i) => (trim_wsp(&av[..i]), trim_wsp(&av[i + 1..])),
            None => (trim_wsp(av), ""),
        };
        if value.len() > MAX_ATTRIBUTE_VALUE {
            continue;
        }
        if name.eq_ignore_ascii_case("expires") {
            if let Some(t) = parse_cookie_date(value) {
                a.expires = Some(t);
            }
        } else if name.eq_ignore_ascii_case("max-age") {
            if let Some(m) = parse_max_age(value) {
                a.max_age = Some(m);
            }
        } else if name.eq_ignore_ascii_case("domain") {
            // An empty Domain is ignored (5.6.3: "SHOULD ignore the cookie-av entirely").
            if !value.is_empty() {
                a.domain = Some(value.strip_prefix('.').unwrap_or(value));
            }
        } else if name.eq_ignore_ascii_case("path") {
            a.path = Some(value.starts_with('/').then_some(value));
        } else if name.eq_ignore_ascii_case("secure") {
            a.secure = true;
        } else if name.eq_ignore_ascii_case("httponly") {
            a.http_only = true;
        } else if name.eq_ignore_ascii_case("samesite") {
            // An unknown value is "Default" (no enforcement), which the jar keeps as none.
            a.same_site = SameSite::parse(value);
        }
    }
    a
}

/// Parses one Set-Cookie line received from `origin` at `now`, applying every storage rule that
/// does not depend on the jar's content. A deletion (Max-Age<=0, past Expires) comes back as a
/// cookie whose `expires` is at or before `now`.
pub(crate) fn parse_line(
    line: &str,
    origin: &Origin<'_>,
    now: SystemTime,
    max_size: usize,
) -> Result<Cookie, CookieError> {
    parse_line_at(line, origin, now, max_size).map(|(cookie, _)| cookie)
}

/// [`parse_line`], and whether the cookie's expiry was computed from `now` (a valid `Max-Age`,
/// or an `Expires` past the 400-day cap): the same line read later gives a later expiry.
pub(crate) fn parse_line_at(
    line: &str,
    origin: &Origin<'_>,
    now: SystemTime,
    max_size: usize,
) -> Result<(Cookie, bool), CookieError> {
    if has_forbidden_ctl(line) {
        return Err(CookieError::ControlCharacter);
    }
    let (pair, attrs) = match line.find(';') {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let (name, value) = match pair.find('=') {
        Some(i) => (trim_wsp(&pair[..i]), trim_wsp(&pair[i + 1..])),
        None => ("", trim_wsp(pair)),
    };
    if name.is_empty() && value.is_empty() {
        return Err(CookieError::Empty);
    }
    let size = name.len() + value.len();
    if size > max_size {
        return Err(CookieError::TooLarge {
            size,
            limit: max_size,
        });
    }
    let parsed = parse_attributes(attrs);

    // 5.7: the last Max-Age wins over any Expires; both capped at 400 days.
    let (expires, relative) = match (parsed.max_age, parsed.expires) {
        (Some(None), _) => (Some(UNIX_EPOCH), false),
        (Some(Some(secs)), _) => (Some(now + Duration::from_secs(secs).min(MAX_AGE_CAP)), true),
        (None, Some(t)) => (Some(t.min(now + MAX_AGE_CAP)), t > now + MAX_AGE_CAP),
        (None, None) => (None, false),
    };

    // `Domain=.` leaves an empty domain: a host-only cookie (5.7), overriding an earlier Domain.
    let domain_attr = parsed.domain.filter(|d| !d.is_empty());
    let (domain, host_only) = match domain_attr {
        None => (origin.host.to_string(), true),
        // 5.1.3: `example.com.` does not domain-match `example.com` (nor anything else).
        Some(d) if d.ends_with('.') => {
            return Err(CookieError::DomainMismatch {
                domain: d.to_ascii_lowercase(),
                host: origin.host.to_string(),
            })
        }
        Some(d) => {
            let (d, d_is_ip) = canonical_domain_attr(d)?;
            if origin.is_ip || d_is_ip {
                // IP hosts only get host-only cookies; a Domain must be that very address.
                if origin.is_ip && d_is_ip && d == origin.host {
                    (d, true)
                } else {
                    return Err(CookieError::DomainMismatch {
                        domain: d,
                        host: origin.host.to_string(),
                    });
                }
            } else if is_public_suffix(&d) {
                if d == origin.host {
                    (d, true)
                } else {
                    return Err(CookieError::PublicSuffix(d));
                }
            } else if domain_match(origin.host, &d) {
                (d, false)
            } else {
                return Err(CookieError::DomainMismatch {
                    domain: d,
                    host: origin.host.to_string(),
                });
            }
        }
    };

    let path_attr = parsed.path.flatten();
    let path = path_attr
        .unwrap_or_else(|| default_path(origin.path))
        .to_string();

    let secure = parsed.secure;
    if secure && !origin.secure {
        return Err(CookieError::InsecureOrigin);
    }

    if starts_with_ignore_case(name, "__Secure-") && !secure {
        return Err(CookieError::Prefix {
            prefix: "__Secure-",
            reason: "the Secure attribute",
        });
    }
    if starts_with_ignore_case(name, "__Host-") {
        if !secure {
            return Err(CookieError::Prefix {
                prefix: "__Host-",
                reason: "the Secure attribute",
            });
        }
        if domain_attr.is_some() {
            return Err(CookieError::Prefix {
                prefix: "__Host-",
                reason: "no Domain attribute",
            });
        }
        if path_attr != Some("/") {
            return Err(CookieError::Prefix {
                prefix: "__Host-",
                reason: "Path=/",
            });
        }
    }
    if name.is_empty()
        && (starts_with_ignore_case(value, "__Secure-")
            || starts_with_ignore_case(value, "__Host-"))
    {
        return Err(CookieError::Prefix {
            prefix: if starts_with_ignore_case(value, "__Host-") {
                "__Host-"
            } else {
                "__Secure-"
            },
            reason: "a name (a name-less cookie may not look prefixed)",
        });
    }

    let cookie = Cookie {
        name: name.to_string(),
        value: value.to_string(),
        domain,
        path,
        expires,
        secure,
        http_only: parsed.http_only,
        same_site: parsed.same_site,
        host_only,
        created: now,
    };
    Ok((cookie, relative))
}

/// Validation for cookies that do not come from a Set-Cookie line ([`CookieJar::set`], files).
pub(crate) fn check_name(name: &str) -> Result<(), CookieError> {
    if name.is_empty()
        || has_forbidden_ctl(name)
        || name.contains(['=', ';'])
        || trim_wsp(name) != name
    {
        return Err(CookieError::InvalidName(name.to_string()));
    }
    Ok(())
}

pub(crate) fn check_value(value: &str) -> Result<(), CookieError> {
    if has_forbidden_ctl(value) || value.contains(';') || trim_wsp(value) != value {
        return Err(CookieError::InvalidValue);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &Url) -> Origin<'_> {
        Origin::from_url(url).unwrap()
    }

    /// The URI fast path and the `Url` path agree on every URI, canonical or not.
    #[test]
    fn uri_origin_matches_url_origin() {
        let hosts = [
            "example.com",
            "example.com.",
            "EXAMPLE.com",
            "a.b.example",
            "localhost",
            "api.localhost",
            "127.0.0.1",
            "127.1",
            "127.0.0.01",
            "0x7f.0.0.1",
            "10.0.0.256",
            "1.2.3.4.",
            "192.168.0.1",
            "[::1]",
            "[2001:db8::1]",
            "xn--bcher-kva.example",
            "a..b",
            "foo_bar.example",
            "%61.example",
            "1.2.3.example",
            "example.123",
            "0xg.example",
            "128.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "00.1.2.3",
            "1.2.3.4.5",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.0",
            "256.1.1.1",
            "1.2.3.256",
            "1000.1.1.1",
            "99999999999.1.1.1",
            "1.2.3.-4",
            "1.2.a.4",
            "127.0.0.1.",
            "u:p@127.0.0.1:8080",
            "user@example.com",
            "example.com:8080",
        ];
        let paths = [
            "",
            "/",
            "/a/b",
            "/a/./b",
            "/a/../b",
            "/a/%2e/b",
            "/a/.%2E/b",
            "/%2e",
            "/a/",
            "/.x",
            "/a%20b",
            "/a%",
            "/a|b",
            "/~u/x;p",
            "/a/b?q=1",
            "/a/..",
            "/a/.",
            "/{x}",
            "/a\"%22",
        ];
        for scheme in ["http", "https", "ws"] {
            for host in hosts {
                for path in paths {
                    let text = format!("{scheme}://{host}{path}");
                    let Ok(uri) = text.parse::<http::Uri>() else {
                        continue;
                    };
                    let fast = with_uri_origin(&uri, |o| {
                        (o.host.to_string(), o.is_ip, o.secure, o.path.to_string())
                    });
                    let slow = Url::parse(&uri.to_string()).ok().and_then(|u| {
                        Origin::from_url(&u)
                            .ok()
                            .map(|o| (o.host.to_string(), o.is_ip, o.secure, o.path.to_string()))
                    });
                    assert_eq!(fast, slow, "{text}");
                }
            }
        }
        let uri: http::Uri = "http://example.com/a".parse().unwrap();
        assert!(canonical_origin("http", uri.host().unwrap(), uri.path()).is_some());
        let uri: http::Uri = "/relative".parse().unwrap();
        assert_eq!(with_uri_origin(&uri, |_| ()), None);
    }

    #[test]
    fn default_path_rules() {
        assert_eq!(default_path(""), "/");
        assert_eq!(default_path("/"), "/");
        assert_eq!(default_path("/a"), "/");
        assert_eq!(default_path("/a/b"), "/a");
        assert_eq!(default_path("/a/b/"), "/a/b");
        assert_eq!(default_path("x"), "/");
    }

    #[test]
    fn path_match_rules() {
        assert!(path_match("/", "/anything"));
        assert!(path_match("/a", "/a"));
        assert!(path_match("/a", "/a/b"));
        assert!(!path_match("/a", "/ab"));
        assert!(path_match("/a/", "/a/b"));
        assert!(!path_match("/a/", "/a"));
        assert!(!path_match("/a", "/"));
    }

    #[test]
    fn domain_match_rules() {
        assert!(domain_match("a.example.com", "example.com"));
        assert!(domain_match("example.com", "example.com"));
        assert!(!domain_match("badexample.com", "example.com"));
        assert!(!domain_match("example.com", "a.example.com"));
    }

    #[test]
    fn public_suffixes() {
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(is_public_suffix("github.io"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("example.co.uk"));
    }

    #[test]
    fn origins() {
        let u = Url::parse("http://[::1]:8080/x").unwrap();
        let o = origin(&u);
        assert_eq!(o.host, "::1");
        assert!(o.is_ip && o.secure);
        let u = Url::parse("http://127.0.0.1/").unwrap();
        assert!(origin(&u).secure);
        let u = Url::parse("http://app.localhost/").unwrap();
        assert!(origin(&u).secure);
        let u = Url::parse("http://example.com/").unwrap();
        assert!(!origin(&u).secure);
        let u = Url::parse("https://EXAMPLE.com/").unwrap();
        assert_eq!(origin(&u).host, "example.com");
        assert!(origin(&u).secure);
        assert!(matches!(
            Origin::from_url(&Url::parse("data:text/plain,x").unwrap()),
            Err(CookieError::NoHost)
        ));
    }

    #[test]
    fn nameless() {
        let u = Url::parse("https://example.com/").unwrap();
        let now = SystemTime::now();
        let c = parse_line("token", &origin(&u), now, 4096).unwrap();
        assert_eq!((c.name(), c.value()), ("", "token"));
        let c = parse_line("=v; Path=/", &origin(&u), now, 4096).unwrap();
        assert_eq!((c.name(), c.value()), ("", "v"));
        assert!(matches!(
            parse_line("=", &origin(&u), now, 4096),
            Err(CookieError::Empty)
        ));
        assert!(matches!(
            parse_line("; Path=/", &origin(&u), now, 4096),
            Err(CookieError::Empty)
        ));
        assert!(matches!(
            parse_line("__Host-x; Secure; Path=/", &origin(&u), now, 4096),
            Err(CookieError::Prefix { .. })
        ));
    }

    #[test]
    fn max_age_beats_expires_and_caps() {
        let u = Url::parse("https://example.com/").unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let c = parse_line(
            "a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60",
            &origin(&u),
            now,
            4096,
        )
        .unwrap();
        assert_eq!(c.expires(), Some(now + Duration::from_secs(60)));
        let c = parse_line(
            "a=b; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            &origin(&u),
            now,
            4096,
        )
        .unwrap();
        assert_eq!(c.expires(), Some(now + Duration::from_secs(60)));
        let c = parse_line("a=b; Max-Age=999999999999", &origin(&u), now, 4096).unwrap();
        assert_eq!(c.expires(), Some(now + MAX_AGE_CAP));
        let c = parse_line("a=b; Max-Age=-5", &origin(&u), now, 4096).unwrap();
        assert!(c.is_expired_at(now));
        let c = parse_line(
            "a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            &origin(&u),
            now,
            4096,
        )
        .unwrap();
        assert!(c.is_expired_at(now));
        let c = parse_line("a=b; Max-Age=abc", &origin(&u), now, 4096).unwrap();
        assert!(c.is_session());
    }

    #[test]
    fn same_site_and_flags() {
        let u = Url::parse("https://example.com/a/b").unwrap();
        let c = parse_line(
            "a=b; SameSite=lax; HttpOnly; Secure",
            &origin(&u),
            SystemTime::now(),
            4096,
        )
        .unwrap();
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        assert!(c.http_only() && c.secure() && c.host_only());
        assert_eq!(c.path(), "/a");
        let c = parse_line("a=b; SameSite=weird", &origin(&u), SystemTime::now(), 4096).unwrap();
        assert_eq!(c.same_site(), None);
    }

    #[test]
    fn ip_hosts() {
        let u = Url::parse("http://127.0.0.1/").unwrap();
        let now = SystemTime::now();
        let c = parse_line("a=b; Domain=127.0.0.1", &origin(&u), now, 4096).unwrap();
        assert!(c.host_only());
        assert!(matches!(
            parse_line("a=b; Domain=0.0.1", &origin(&u), now, 4096),
            Err(CookieError::DomainMismatch { .. })
        ));
        let u = Url::parse("http://[::1]/").unwrap();
        let c = parse_line("a=b; Domain=[::1]", &origin(&u), now, 4096).unwrap();
        assert!(c.host_only());
        assert_eq!(c.domain(), "::1");
        let u = Url::parse("http://example.com/").unwrap();
        assert!(parse_line("a=b; Domain=127.0.0.1", &origin(&u), now, 4096).is_err());
    }
}
