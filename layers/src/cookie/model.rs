//! The public cookie record ([`Cookie`]), [`SameSite`] and the jar's [`CookieLimits`].

use std::fmt;
use std::time::SystemTime;

/// The `SameSite` attribute of a cookie. It is parsed and kept (and saved); an HTTP client has no
/// "site for cookies" to enforce it against, so, like requests, the jar does not filter on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=None`
    None,
}

impl SameSite {
    /// The attribute value: `"Strict"`, `"Lax"` or `"None"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }

    /// Parses an attribute value, ASCII case-insensitively; unknown values give `None`.
    pub fn parse(s: &str) -> Option<SameSite> {
        if s.eq_ignore_ascii_case("strict") {
            Some(SameSite::Strict)
        } else if s.eq_ignore_ascii_case("lax") {
            Some(SameSite::Lax)
        } else if s.eq_ignore_ascii_case("none") {
            Some(SameSite::None)
        } else {
            None
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cookie as the jar keeps it (a copy: changing the jar later does not change it).
///
/// `domain` is the canonical host or domain (lowercase, no leading dot, IPv6 without brackets);
/// `host_only` says whether it is sent to that host only (no `Domain` attribute) or to its
/// subdomains too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) host_only: bool,
    pub(crate) created: SystemTime,
}

impl Cookie {
    /// A host-only session cookie, created now: what a [`CookieStore`](super::CookieStore) of
    /// your own lists. `domain` in canonical form (lowercase, no leading dot, IPv6 without
    /// brackets). The `with_*` methods set the rest.
    pub fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        domain: impl Into<String>,
        path: impl Into<String>,
    ) -> Cookie {
        Cookie {
            name: name.into(),
            value: value.into(),
            domain: domain.into(),
            path: path.into(),
            expires: None,
            secure: false,
            http_only: false,
            same_site: None,
            host_only: true,
            created: SystemTime::now(),
        }
    }
    /// Sets [`expires`](Self::expires).
    pub fn with_expires(mut self, expires: Option<SystemTime>) -> Cookie {
        self.expires = expires;
        self
    }
    /// Sets [`secure`](Self::secure).
    pub fn with_secure(mut self, secure: bool) -> Cookie {
        self.secure = secure;
        self
    }
    /// Sets [`http_only`](Self::http_only).
    pub fn with_http_only(mut self, http_only: bool) -> Cookie {
        self.http_only = http_only;
        self
    }
    /// Sets [`same_site`](Self::same_site).
    pub fn with_same_site(mut self, same_site: Option<SameSite>) -> Cookie {
        self.same_site = same_site;
        self
    }
    /// Sets [`host_only`](Self::host_only).
    pub fn with_host_only(mut self, host_only: bool) -> Cookie {
        self.host_only = host_only;
        self
    }
    /// Sets [`created`](Self::created).
    pub fn with_created(mut self, created: SystemTime) -> Cookie {
        self.created = created;
        self
    }

    /// The name (may be empty for RFC 6265bis name-less cookies, which are sent as the value alone).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The value, exactly as the server sent it (no percent-decoding).
    pub fn value(&self) -> &str {
        &self.value
    }
    /// The host (host-only cookie) or domain (domain cookie) it belongs to.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The path it is sent for (the path and below).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// When it expires; `None` for a session cookie. Max-Age and Expires are capped at 400 days
    /// from reception (RFC 6265bis).
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires
    }
    /// Sent over secure connections only (https, or plain http to localhost/loopback).
    pub fn secure(&self) -> bool {
        self.secure
    }
    /// The `HttpOnly` attribute.
    pub fn http_only(&self) -> bool {
        self.http_only
    }
    /// The `SameSite` attribute, if a known value was given.
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }
    /// `true` when sent only to [`domain`](Self::domain) itself, not its subdomains.
    pub fn host_only(&self) -> bool {
        self.host_only
    }
    /// When it was first stored (kept when a server replaces its value).
    pub fn created(&self) -> SystemTime {
        self.created
    }
    /// `true` when it has expired (or is a deletion: Max-Age<=0, Expires in the past).
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(SystemTime::now())
    }
    /// `true` for a session cookie (no expiry).
    pub fn is_session(&self) -> bool {
        self.expires.is_none()
    }

    pub(crate) fn is_expired_at(&self, now: SystemTime) -> bool {
        matches!(self.expires, Some(t) if t <= now)
    }

    /// `name=value`, or the bare value for a name-less cookie.
    /// The length [`write_pair`](Self::write_pair) writes.
    pub(crate) fn pair_len(&self) -> usize {
        if self.name.is_empty() {
            self.value.len()
        } else {
            self.name.len() + 1 + self.value.len()
        }
    }

    pub(crate) fn write_pair(&self, out: &mut String) {
        if !self.name.is_empty() {
            out.push_str(&self.name);
            out.push('=');
        }
        out.push_str(&self.value);
    }
}

/// Size limits of a jar. The defaults are the browser-like ones from the RFC 6265bis guidance:
/// 4096 bytes per cookie (name + value), 50 cookies per domain, 3000 in all. When a domain or the
/// whole jar is full, the oldest cookie (earliest creation) is evicted; expired cookies are
/// always removed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieLimits {
    /// Maximum bytes of name + value; bigger cookies are rejected.
    pub max_cookie_size: usize,
    /// Maximum cookies stored under one domain (one `Cookie::domain()` value).
    pub max_per_domain: usize,
    /// Maximum cookies in the jar.
    pub max_total: usize,
}

impl CookieLimits {
    /// Sets [`max_cookie_size`](Self::max_cookie_size).
    pub fn max_cookie_size(mut self, bytes: usize) -> Self {
        self.max_cookie_size = bytes;
        self
    }
    /// Sets [`max_per_domain`](Self::max_per_domain).
    pub fn max_per_domain(mut self, n: usize) -> Self {
        self.max_per_domain = n;
        self
    }
    /// Sets [`max_total`](Self::max_total).
    pub fn max_total(mut self, n: usize) -> Self {
        self.max_total = n;
        self
    }
}

impl Default for CookieLimits {
    fn default() -> Self {
        CookieLimits {
            max_cookie_size: 4096,
            max_per_domain: 50,
            max_total: 3000,
        }
    }
}
