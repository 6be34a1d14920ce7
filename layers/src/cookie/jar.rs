//! [`CookieJar`]: a shared, thread-safe cookie store.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use http::HeaderValue;
use url::Url;

use super::error::CookieError;
use super::model::{Cookie, CookieLimits};
use super::parse::{check_name, check_value, parse_line, with_uri_origin, Origin};
use super::store::Store;

/// A cookie jar shared by handle: clones are the same jar (one `Arc` inside), so a jar can serve
/// several layers, sessions and tasks at once. Every method takes `&self`.
///
/// ```
/// use tower_requests_layers::cookie::CookieJar;
/// use url::Url;
///
/// let jar = CookieJar::new();
/// let url = Url::parse("https://example.com/account/login").unwrap();
/// jar.insert_raw("sid=abc; Path=/; HttpOnly", &url).unwrap();
/// jar.set("lang", "en", &url).unwrap();
/// assert_eq!(jar.get("sid").as_deref(), Some("abc"));
/// let header = jar.cookie_header(&url).unwrap();
/// assert_eq!(header, "sid=abc; lang=en");
/// // Rejected, with the reason:
/// let err = jar.insert_raw("x=1; Domain=com", &url).unwrap_err();
/// assert!(err.to_string().contains("public suffix"));
/// ```
#[derive(Clone)]
pub struct CookieJar {
    inner: Arc<Mutex<Store>>,
}

impl Default for CookieJar {
    fn default() -> Self {
        CookieJar::new()
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar")
            .field("len", &self.lock().len())
            .finish()
    }
}

/// Parses one Set-Cookie header value as if `url` had sent it, applying every rule that does not
/// depend on a jar (PSL, Domain, Secure origin, prefixes, control characters, size). A deletion
/// (`Max-Age=0`, past `Expires`) is returned as a cookie whose [`Cookie::is_expired`] is `true`.
/// This is what `Response::cookies()` shows.
pub fn parse_set_cookie(value: &HeaderValue, url: &Url) -> Result<Cookie, CookieError> {
    let line = std::str::from_utf8(value.as_bytes()).map_err(|_| CookieError::NotUtf8)?;
    let origin = Origin::from_url(url)?;
    parse_line(
        line,
        &origin,
        SystemTime::now(),
        CookieLimits::default().max_cookie_size,
    )
}

impl CookieJar {
    /// An empty jar with the default [`CookieLimits`].
    pub fn new() -> CookieJar {
        CookieJar::with_limits(CookieLimits::default())
    }

    /// An empty jar with other size limits (e.g. a bigger `max_total` for a crawler).
    pub fn with_limits(limits: CookieLimits) -> CookieJar {
        CookieJar {
            inner: Arc::new(Mutex::new(Store::new(limits))),
        }
    }

    /// The jar's limits.
    pub fn limits(&self) -> CookieLimits {
        self.lock().limits
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        // The store is consistent after every method (no panics mid-update), so a poisoned lock
        // (a panic elsewhere while holding it) is safe to reuse.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `true` when both handles are the same jar.
    pub fn same_jar(&self, other: &CookieJar) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Sets a session cookie for `url`'s host (host-only), path `/`, like requests'
    /// `session.cookies.set(name, value)`. The name must be non-empty without `=`, `;` or control
    /// characters; the value without `;` or control characters.
    pub fn set(&self, name: &str, value: &str, url: &Url) -> Result<(), CookieError> {
        check_name(name)?;
        check_value(value)?;
        let origin = Origin::from_url(url)?;
        let line = format!("{name}={value}; Path=/");
        let cookie = parse_line(
            &line,
            &origin,
            SystemTime::now(),
            self.limits().max_cookie_size,
        )?;
        self.lock().insert(cookie, origin.secure, SystemTime::now())
    }

    /// Stores one Set-Cookie line as if `url` had sent it; the error says why a cookie was
    /// rejected. A deletion (`Max-Age=0`, past `Expires`) removes the matching cookie.
    pub fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        let origin = Origin::from_url(url)?;
        let now = SystemTime::now();
        let mut store = self.lock();
        let cookie = parse_line(set_cookie, &origin, now, store.limits.max_cookie_size)?;
        store.insert(cookie, origin.secure, now)
    }

    #[cfg(test)]
    pub(crate) fn insert_at(
        &self,
        set_cookie: &str,
        url: &Url,
        now: SystemTime,
    ) -> Result<(), CookieError> {
        let origin = Origin::from_url(url)?;
        let mut store = self.lock();
        let cookie = parse_line(set_cookie, &origin, now, store.limits.max_cookie_size)?;
        store.insert(cookie, origin.secure, now)
    }

    /// Stores all Set-Cookie values of one response from `url`, in order (a later deletion
    /// removes an earlier set). Rejected cookies are skipped, as a browser does.
    pub fn store_response_cookies<'a>(
        &self,
        url: &Url,
        set_cookies: impl Iterator<Item = &'a HeaderValue>,
    ) {
        if let Ok(origin) = Origin::from_url(url) {
            self.store_from(&origin, set_cookies);
        }
    }

    /// [`store_response_cookies`](Self::store_response_cookies) for a response to an absolute
    /// request URI (nothing is stored for a relative one). A URI already in canonical form (as
    /// the tower-requests facade builds them) is used without parsing a URL.
    pub fn store_response_cookies_for_uri<'a>(
        &self,
        uri: &http::Uri,
        set_cookies: impl Iterator<Item = &'a HeaderValue>,
    ) {
        with_uri_origin(uri, |origin| self.store_from(origin, set_cookies));
    }

    fn store_from<'a>(
        &self,
        origin: &Origin<'_>,
        set_cookies: impl Iterator<Item = &'a HeaderValue>,
    ) {
        let now = SystemTime::now();
        let mut store = self.lock();
        for value in set_cookies {
            let Ok(line) = std::str::from_utf8(value.as_bytes()) else {
                continue;
            };
            if let Ok(cookie) = parse_line(line, origin, now, store.limits.max_cookie_size) {
                let _rejected = store.insert(cookie, origin.secure, now);
                #[cfg(feature = "tracing")]
                if let Err(e) = _rejected {
                    tracing::debug!(host = origin.host, path = origin.path, error = %e, "Set-Cookie ignored");
                }
            }
        }
    }

    /// The Cookie header a request to `url` sends: matching, unexpired cookies, longest path
    /// first, then earliest creation; `None` when there are none. Secure cookies only go to
    /// https (or localhost/loopback). Costs a hash lookup per label of the host, independent of
    /// the jar's size.
    pub fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        self.cookie_header_at(url, SystemTime::now())
    }

    /// [`cookie_header`](Self::cookie_header) for an absolute request URI (`None` for a
    /// relative one). A URI already in canonical form (lowercase host, dotted-quad IPv4, no dot
    /// segments: what the tower-requests facade sends) is used without parsing a URL. The
    /// answer for the URI asked for last is kept from its second call on, until the jar
    /// changes in any way: a session calling one endpoint over and over builds its header
    /// once. When every cookie the URI's origin could be sent has `Path=/` (the usual login
    /// cookie), the kept answer serves every path of that origin (same scheme and authority),
    /// so calls to `/items/1`, `/items/2`... build it once too.
    pub fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        let mut store = self.lock();
        // An empty jar (a fresh session, a cookie-less API) needs no origin at all.
        if store.len() == 0 {
            return None;
        }
        store.header_for_uri(uri, SystemTime::now())
    }

    pub(crate) fn cookie_header_at(&self, url: &Url, now: SystemTime) -> Option<HeaderValue> {
        let origin = Origin::from_url(url).ok()?;
        let mut store = self.lock();
        store.purge_expired(now);
        super::store::header_value(store.header_for(&origin)?)
    }

    /// The value of a cookie named `name` (any domain and path). When several cookies share the
    /// name, the most recently created one wins, as in [`get_dict`](Self::get_dict).
    pub fn get(&self, name: &str) -> Option<String> {
        let mut best: Option<(u64, String)> = None;
        self.lock().for_each(SystemTime::now(), |c, seq| {
            if c.name == name && best.as_ref().is_none_or(|(b, _)| seq > *b) {
                best = Some((seq, c.value.clone()));
            }
        });
        best.map(|(_, v)| v)
    }

    /// Every cookie as name → value (requests' `get_dict`); for duplicate names the most
    /// recently created wins.
    pub fn get_dict(&self) -> BTreeMap<String, String> {
        self.lock()
            .snapshot(SystemTime::now())
            .into_iter()
            .map(|c| (c.name, c.value))
            .collect()
    }

    /// A snapshot of every unexpired cookie, in creation order.
    pub fn iter(&self) -> impl Iterator<Item = Cookie> {
        self.lock().snapshot(SystemTime::now()).into_iter()
    }

    #[cfg(test)]
    pub(crate) fn snapshot_at(&self, now: SystemTime) -> Vec<Cookie> {
        self.lock().snapshot(now)
    }

    /// Removes every cookie named `name`, whatever its domain and path (requests'
    /// `cookies.clear(name)` / `del cookies[name]`). Returns how many were removed.
    pub fn remove(&self, name: &str) -> usize {
        self.lock().remove_where(|c| c.name == name)
    }

    /// Removes the one cookie with this domain, path and name. The domain is compared in
    /// canonical form (case-insensitive, a leading dot and IPv6 brackets ignored). Returns
    /// whether one was removed.
    pub fn remove_exact(&self, domain: &str, path: &str, name: &str) -> bool {
        let d = domain.strip_prefix('.').unwrap_or(domain);
        let d = d
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix(']'))
            .unwrap_or(d)
            .to_ascii_lowercase();
        self.lock().remove_exact(&d, path, name)
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Number of unexpired cookies.
    pub fn len(&self) -> usize {
        let mut store = self.lock();
        store.purge_expired(SystemTime::now());
        store.len()
    }

    /// `true` when the jar holds no unexpired cookie.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts already-validated cookies (from a file) in one critical section.
    #[cfg(feature = "persist")]
    pub(crate) fn insert_cookies(&self, cookies: Vec<Cookie>) {
        let now = SystemTime::now();
        let mut store = self.lock();
        for c in cookies {
            // Loaded cookies come from the user's own file: no origin check applies.
            let _ = store.insert(c, true, now);
        }
    }
}
