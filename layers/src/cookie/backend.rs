//! [`CookieStore`]: the store behind a [`CookieJar`](super::CookieJar), and
//! [`DefaultCookieStore`], the indexed store every jar uses unless told otherwise.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use http::HeaderValue;
use url::Url;

use super::error::CookieError;
use super::model::{Cookie, CookieLimits};
use super::parse::{parse_line, parse_line_at, with_uri_origin, Origin};
use super::store::{header_value, Store};

/// What [`CookieJar`](super::CookieJar) and [`CookieLayer`](super::CookieLayer) need from a
/// cookie store. Plug one in with [`CookieJar::with_store`](super::CookieJar::with_store).
///
/// [`DefaultCookieStore`] (what [`CookieJar::new`](super::CookieJar::new) uses) implements every
/// rule listed in the [module docs](super); with the `cookie-store` feature, a backend wraps a
/// `cookie_store::CookieStore`. A store
/// is shared by the jar's clones and the layers using them, so it takes `&self` and must be
/// `Send + Sync`; it decides itself which rules it applies.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
/// use http::HeaderValue;
/// use tower_requests_layers::cookie::{Cookie, CookieJar, CookieStore};
/// use url::Url;
///
/// /// Keeps `name=value` per name, for every host (a toy, for the example).
/// #[derive(Default)]
/// struct Flat(Mutex<BTreeMap<String, String>>);
///
/// impl CookieStore for Flat {
///     fn store_response_cookies(&self, _url: &Url, lines: &mut dyn Iterator<Item = &HeaderValue>) {
///         for line in lines.filter_map(|v| v.to_str().ok()) {
///             let pair = line.split(';').next().unwrap_or("");
///             if let Some((n, v)) = pair.split_once('=') {
///                 self.0.lock().unwrap().insert(n.trim().into(), v.trim().into());
///             }
///         }
///     }
///     fn cookie_header(&self, _url: &Url) -> Option<HeaderValue> {
///         let map = self.0.lock().unwrap();
///         let pairs: Vec<String> = map.iter().map(|(n, v)| format!("{n}={v}")).collect();
///         (!pairs.is_empty()).then(|| pairs.join("; ").parse().ok()).flatten()
///     }
///     fn cookies(&self) -> Vec<Cookie> {
///         let map = self.0.lock().unwrap();
///         map.iter().map(|(n, v)| Cookie::new(n, v, "", "/")).collect()
///     }
///     fn remove(&self, _domain: &str, _path: &str, name: &str) -> bool {
///         self.0.lock().unwrap().remove(name).is_some()
///     }
///     fn clear(&self) {
///         self.0.lock().unwrap().clear();
///     }
/// }
///
/// let jar = CookieJar::with_store(Flat::default());
/// let url = Url::parse("https://example.com/").unwrap();
/// jar.insert_raw("sid=abc; Path=/", &url).unwrap();
/// assert_eq!(jar.cookie_header(&url).unwrap(), "sid=abc");
/// assert_eq!(jar.get("sid").as_deref(), Some("abc"));
/// ```
pub trait CookieStore: Send + Sync + 'static {
    /// Stores the Set-Cookie header values of one response from `url`, in order (a later
    /// deletion removes an earlier set). Rejected lines are skipped, as a browser does.
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    );

    /// The Cookie header a request to `url` sends; `None` when no cookie matches.
    fn cookie_header(&self, url: &Url) -> Option<HeaderValue>;

    /// [`cookie_header`](Self::cookie_header) for an absolute request URI (`None` for a
    /// relative one): what the cookie layer asks on every request. The default parses the URI
    /// into a URL; a store with a faster way (the built-in store's, which skips the parse and
    /// keeps the last answer) overrides it.
    fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        self.cookie_header(&crate::origin::to_url(uri)?)
    }

    /// Every unexpired cookie, oldest first.
    fn cookies(&self) -> Vec<Cookie>;

    /// Removes the cookie with this domain (canonical: lowercase, no leading dot, IPv6 without
    /// brackets), path and name; whether there was one.
    fn remove(&self, domain: &str, path: &str, name: &str) -> bool;

    /// Removes every cookie.
    fn clear(&self);

    /// Stores one Set-Cookie line as if `url` had sent it, saying why it was rejected. The
    /// default hands it to [`store_response_cookies`](Self::store_response_cookies) and cannot
    /// tell a rejection; a store that can should override it.
    fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        let value = HeaderValue::from_str(set_cookie).map_err(|_| CookieError::ControlCharacter)?;
        self.store_response_cookies(url, &mut std::iter::once(&value));
        Ok(())
    }

    /// Adds a cookie read from a file (the jar has checked it against the rules that do not
    /// depend on an origin), replacing one with the same domain, path and name. The default
    /// writes it as a Set-Cookie line from `https://` its domain and path.
    fn insert(&self, cookie: Cookie) -> Result<(), CookieError> {
        let host = if cookie.domain.contains(':') {
            format!("[{}]", cookie.domain)
        } else {
            cookie.domain.clone()
        };
        let url = Url::parse(&format!("https://{host}{}", cookie.path))
            .map_err(|_| CookieError::InvalidDomain(cookie.domain.clone()))?;
        let mut line = format!("{}={}; Path={}", cookie.name, cookie.value, cookie.path);
        if !cookie.host_only {
            line.push_str("; Domain=");
            line.push_str(&cookie.domain);
        }
        if let Some(t) = cookie.expires {
            let secs = t
                .duration_since(SystemTime::now())
                .map_or(0, |d| d.as_secs().max(1));
            line.push_str(&format!("; Max-Age={secs}"));
        }
        if cookie.secure {
            line.push_str("; Secure");
        }
        if cookie.http_only {
            line.push_str("; HttpOnly");
        }
        if let Some(s) = cookie.same_site {
            line.push_str("; SameSite=");
            line.push_str(s.as_str());
        }
        self.insert_raw(&line, &url)
    }
}

/// The built-in store: cookies indexed by domain, every rule of the [module docs](super),
/// [`CookieLimits`]. A [`CookieJar`](super::CookieJar) made with
/// [`new`](super::CookieJar::new) or [`with_limits`](super::CookieJar::with_limits) uses one,
/// and so does `CookieJar::with_store(DefaultCookieStore::..)`, with the same fast paths (the
/// kept Cookie header, requests without a URL parse).
pub struct DefaultCookieStore {
    store: Mutex<Store>,
}

impl fmt::Debug for DefaultCookieStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultCookieStore")
            .field("len", &self.lock().len())
            .finish()
    }
}

impl Default for DefaultCookieStore {
    fn default() -> Self {
        DefaultCookieStore::new()
    }
}

impl DefaultCookieStore {
    /// An empty store with the default [`CookieLimits`].
    pub fn new() -> Self {
        DefaultCookieStore::with_limits(CookieLimits::default())
    }

    /// An empty store with other limits.
    pub fn with_limits(limits: CookieLimits) -> Self {
        DefaultCookieStore {
            store: Mutex::new(Store::new(limits)),
        }
    }

    /// The store's limits.
    pub fn limits(&self) -> CookieLimits {
        self.lock().limits
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        // The store is consistent after every method (no panics mid-update), so a poisoned lock
        // (a panic elsewhere while holding it) is safe to reuse.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores the lines of one response to the request URI `uri`. A response that repeats
    /// the last line stored, for the same URI (a logged-in site answering the same endpoint
    /// again), is recognised by comparing bytes, without working out the URI's origin.
    pub(crate) fn store_from_uri(
        &self,
        uri: &http::Uri,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        let now = SystemTime::now();
        let Some(first) = set_cookies.next() else {
            return;
        };
        let repeated = self
            .lock()
            .repeats_last_set_for_uri(first.as_bytes(), uri, now);
        let mut rest = set_cookies.peekable();
        if repeated && rest.peek().is_none() {
            return;
        }
        let mut lines = (!repeated).then_some(first).into_iter().chain(rest);
        with_uri_origin(uri, |origin| {
            self.store_from_at(origin, &mut lines, now, Some(uri))
        });
    }

    /// Stores the lines of one response from `origin`.
    pub(crate) fn store_from(
        &self,
        origin: &Origin<'_>,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        self.store_from_at(origin, set_cookies, SystemTime::now(), None);
    }

    fn store_from_at(
        &self,
        origin: &Origin<'_>,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
        now: SystemTime,
        uri: Option<&http::Uri>,
    ) {
        let mut store = self.lock();
        for value in set_cookies {
            if store.repeats_last_set(value.as_bytes(), origin, now) {
                continue;
            }
            let Ok(line) = std::str::from_utf8(value.as_bytes()) else {
                continue;
            };
            if let Ok((cookie, relative)) =
                parse_line_at(line, origin, now, store.limits.max_cookie_size)
            {
                let stored = !cookie.is_expired_at(now);
                match store.insert(cookie, origin.secure, now) {
                    Ok(()) if stored => store.note_set(line, origin, relative, uri),
                    Ok(()) => {}
                    Err(_e) => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(host = origin.host, path = origin.path, error = %_e, "Set-Cookie ignored");
                    }
                }
            }
        }
    }

    pub(crate) fn insert_raw_at(
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

    #[inline]
    pub(crate) fn cookie_header_at(&self, url: &Url, now: SystemTime) -> Option<HeaderValue> {
        let origin = Origin::from_url(url).ok()?;
        let mut store = self.lock();
        store.purge_expired(now);
        header_value(store.header_for(&origin)?)
    }
}

impl CookieStore for DefaultCookieStore {
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        if let Ok(origin) = Origin::from_url(url) {
            self.store_from(&origin, set_cookies);
        }
    }

    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        self.cookie_header_at(url, SystemTime::now())
    }

    fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        let mut store = self.lock();
        // An empty jar (a fresh session, a cookie-less API) needs no origin at all.
        if store.len() == 0 {
            return None;
        }
        store.header_for_uri(uri, SystemTime::now())
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.lock().snapshot(SystemTime::now())
    }

    fn remove(&self, domain: &str, path: &str, name: &str) -> bool {
        self.lock().remove_exact(domain, path, name)
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        self.insert_raw_at(set_cookie, url, SystemTime::now())
    }

    fn insert(&self, cookie: Cookie) -> Result<(), CookieError> {
        // Loaded cookies come from the user's own file: no origin check applies.
        self.lock().insert(cookie, true, SystemTime::now())
    }
}

/// A shared store: the jar uses it while the caller keeps a handle (to save it, inspect it).
impl<S: CookieStore + ?Sized> CookieStore for std::sync::Arc<S> {
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        (**self).store_response_cookies(url, set_cookies)
    }
    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        (**self).cookie_header(url)
    }
    fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        (**self).cookie_header_for_uri(uri)
    }
    fn cookies(&self) -> Vec<Cookie> {
        (**self).cookies()
    }
    fn remove(&self, domain: &str, path: &str, name: &str) -> bool {
        (**self).remove(domain, path, name)
    }
    fn clear(&self) {
        (**self).clear()
    }
    fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        (**self).insert_raw(set_cookie, url)
    }
    fn insert(&self, cookie: Cookie) -> Result<(), CookieError> {
        (**self).insert(cookie)
    }
}
