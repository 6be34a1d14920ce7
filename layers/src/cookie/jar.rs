//! [`CookieJar`]: a shared, thread-safe cookie store.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderValue;
use url::Url;

use super::backend::{CookieStore, DefaultCookieStore};
use super::error::CookieError;
use super::model::{Cookie, CookieLimits};
use super::parse::{check_name, check_value, parse_line, Origin};

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
    inner: Arc<Backend>,
}

/// The store of a jar: the built-in one (matched here to use its fast paths) or any other.
// One per jar, behind the jar's `Arc`: boxing the built-in store would cost every lookup an
// indirection to save a few hundred bytes per jar.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Builtin(DefaultCookieStore),
    Custom(Box<dyn CookieStore>),
}

impl Default for CookieJar {
    fn default() -> Self {
        CookieJar::new()
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Backend::Builtin(s) => f
                .debug_struct("CookieJar")
                .field("len", &s.lock().len())
                .finish(),
            Backend::Custom(_) => f
                .debug_struct("CookieJar")
                .field("store", &"custom")
                .finish(),
        }
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
            inner: Arc::new(Backend::Builtin(DefaultCookieStore::with_limits(limits))),
        }
    }

    /// A jar over another [`CookieStore`] (a store of your own, or with the `cookie-store`
    /// feature the backend over the `cookie_store` crate). A [`DefaultCookieStore`] passed
    /// here is used as [`new`](Self::new) would, fast paths included.
    pub fn with_store<S: CookieStore>(store: S) -> CookieJar {
        let mut slot = Some(store);
        let backend = match (&mut slot as &mut dyn Any).downcast_mut::<Option<DefaultCookieStore>>()
        {
            Some(builtin) => builtin.take().map(Backend::Builtin),
            None => None,
        };
        let backend = backend.unwrap_or_else(|| match slot {
            Some(store) => Backend::Custom(Box::new(store)),
            None => unreachable!("taken only when it was the default store"),
        });
        CookieJar {
            inner: Arc::new(backend),
        }
    }

    /// The jar's limits (for a custom store: the default limits, which [`set`](Self::set) and
    /// file loading use; the store applies its own).
    pub fn limits(&self) -> CookieLimits {
        match &*self.inner {
            Backend::Builtin(s) => s.limits(),
            Backend::Custom(_) => CookieLimits::default(),
        }
    }

    /// The store, as a trait object.
    fn store(&self) -> &dyn CookieStore {
        match &*self.inner {
            Backend::Builtin(s) => s,
            Backend::Custom(s) => s.as_ref(),
        }
    }

    /// The built-in store's lock (tests).
    #[cfg(test)]
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, super::store::Store> {
        match &*self.inner {
            Backend::Builtin(s) => s.lock(),
            Backend::Custom(_) => panic!("not the built-in store"),
        }
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
        self.insert_raw(&format!("{name}={value}; Path=/"), url)
    }

    /// Stores one Set-Cookie line as if `url` had sent it; the error says why a cookie was
    /// rejected. A deletion (`Max-Age=0`, past `Expires`) removes the matching cookie.
    pub fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        self.store().insert_raw(set_cookie, url)
    }

    #[cfg(test)]
    pub(crate) fn insert_at(
        &self,
        set_cookie: &str,
        url: &Url,
        now: SystemTime,
    ) -> Result<(), CookieError> {
        match &*self.inner {
            Backend::Builtin(s) => s.insert_raw_at(set_cookie, url, now),
            Backend::Custom(_) => panic!("not the built-in store"),
        }
    }

    /// Stores all Set-Cookie values of one response from `url`, in order (a later deletion
    /// removes an earlier set). Rejected cookies are skipped, as a browser does.
    pub fn store_response_cookies<'a>(
        &self,
        url: &Url,
        set_cookies: impl Iterator<Item = &'a HeaderValue>,
    ) {
        let mut set_cookies = set_cookies;
        match &*self.inner {
            Backend::Builtin(s) => {
                if let Ok(origin) = Origin::from_url(url) {
                    s.store_from(&origin, &mut set_cookies);
                }
            }
            Backend::Custom(s) => s.store_response_cookies(url, &mut set_cookies),
        }
    }

    /// [`store_response_cookies`](Self::store_response_cookies) for a response to an absolute
    /// request URI (nothing is stored for a relative one). A URI already in canonical form (as
    /// the tower-requests facade builds them) is used without parsing a URL by the default
    /// store.
    pub fn store_response_cookies_for_uri<'a>(
        &self,
        uri: &http::Uri,
        set_cookies: impl Iterator<Item = &'a HeaderValue>,
    ) {
        let mut set_cookies = set_cookies;
        match &*self.inner {
            Backend::Builtin(s) => {
                s.store_from_uri(uri, &mut set_cookies);
            }
            Backend::Custom(s) => {
                if let Some(url) = crate::origin::to_url(uri) {
                    s.store_response_cookies(&url, &mut set_cookies);
                }
            }
        }
    }

    /// The Cookie header a request to `url` sends: matching, unexpired cookies, longest path
    /// first, then earliest creation; `None` when there are none. Secure cookies only go to
    /// https (or localhost/loopback). Costs a hash lookup per label of the host, independent of
    /// the jar's size (with the default store).
    pub fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        match &*self.inner {
            Backend::Builtin(s) => s.cookie_header_at(url, SystemTime::now()),
            Backend::Custom(s) => s.cookie_header(url),
        }
    }

    /// [`cookie_header`](Self::cookie_header) for an absolute request URI (`None` for a
    /// relative one). With the default store, a URI already in canonical form (lowercase host,
    /// dotted-quad IPv4, no dot segments: what the tower-requests facade sends) is used without
    /// parsing a URL, and the answer for the URI asked for last is kept from its second call on,
    /// until the jar changes in any way: a session calling one endpoint over and over builds its
    /// header once. When every cookie the URI's origin could be sent has `Path=/` (the usual
    /// login cookie), the kept answer serves every path of that origin (same scheme and
    /// authority), so calls to `/items/1`, `/items/2`... build it once too.
    pub fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        match &*self.inner {
            Backend::Builtin(s) => s.cookie_header_for_uri(uri),
            Backend::Custom(s) => s.cookie_header_for_uri(uri),
        }
    }

    #[cfg(test)]
    pub(crate) fn cookie_header_at(&self, url: &Url, now: SystemTime) -> Option<HeaderValue> {
        match &*self.inner {
            Backend::Builtin(s) => s.cookie_header_at(url, now),
            Backend::Custom(_) => panic!("not the built-in store"),
        }
    }

    /// The value of a cookie named `name` (any domain and path). When several cookies share the
    /// name, the most recently created one wins, as in [`get_dict`](Self::get_dict).
    pub fn get(&self, name: &str) -> Option<String> {
        match &*self.inner {
            Backend::Builtin(s) => {
                let mut best: Option<(u64, String)> = None;
                s.lock().for_each(SystemTime::now(), |c, seq| {
                    if c.name == name && best.as_ref().is_none_or(|(b, _)| seq > *b) {
                        best = Some((seq, c.value.clone()));
                    }
                });
                best.map(|(_, v)| v)
            }
            // `cookies()` lists oldest first: the last match is the newest.
            Backend::Custom(s) => s
                .cookies()
                .into_iter()
                .rfind(|c| c.name == name)
                .map(|c| c.value),
        }
    }

    /// Every cookie as name → value (requests' `get_dict`); for duplicate names the most
    /// recently created wins.
    pub fn get_dict(&self) -> BTreeMap<String, String> {
        self.store()
            .cookies()
            .into_iter()
            .map(|c| (c.name, c.value))
            .collect()
    }

    /// A snapshot of every unexpired cookie, in creation order.
    pub fn iter(&self) -> impl Iterator<Item = Cookie> {
        self.store().cookies().into_iter()
    }

    #[cfg(test)]
    pub(crate) fn snapshot_at(&self, now: SystemTime) -> Vec<Cookie> {
        self.lock().snapshot(now)
    }

    /// Removes every cookie named `name`, whatever its domain and path (requests'
    /// `cookies.clear(name)` / `del cookies[name]`). Returns how many were removed.
    pub fn remove(&self, name: &str) -> usize {
        match &*self.inner {
            Backend::Builtin(s) => s.lock().remove_where(|c| c.name == name),
            Backend::Custom(s) => s
                .cookies()
                .iter()
                .filter(|c| c.name == name && s.remove(&c.domain, &c.path, &c.name))
                .count(),
        }
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
        self.store().remove(&d, path, name)
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        self.store().clear();
    }

    /// Number of unexpired cookies.
    pub fn len(&self) -> usize {
        match &*self.inner {
            Backend::Builtin(s) => {
                let mut store = s.lock();
                store.purge_expired(SystemTime::now());
                store.len()
            }
            Backend::Custom(s) => s.cookies().len(),
        }
    }

    /// `true` when the jar holds no unexpired cookie.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts already-validated cookies (from a file) in one critical section (default store).
    #[cfg(feature = "persist")]
    pub(crate) fn insert_cookies(&self, cookies: Vec<Cookie>) {
        match &*self.inner {
            Backend::Builtin(s) => {
                let now = SystemTime::now();
                let mut store = s.lock();
                for c in cookies {
                    // Loaded cookies come from the user's own file: no origin check applies.
                    let _ = store.insert(c, true, now);
                }
            }
            Backend::Custom(s) => {
                for c in cookies {
                    let _ = s.insert(c);
                }
            }
        }
    }
}
