//! [`CookieStoreBackend`]: a [`CookieStore`] over the `cookie_store` crate (feature
//! `cookie-store`).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;
use url::Url;

use super::backend::CookieStore;
use super::error::CookieError;
use super::model::{Cookie, SameSite};

/// A [`CookieStore`] over a [`cookie_store::CookieStore`], for code that already keeps its
/// cookies there (reqwest_cookie_store users, files in its JSON format):
/// `CookieJar::with_store(CookieStoreBackend::from_store(store))`.
///
/// The rules are `cookie_store`'s, not those of the [module docs](super): see there for what
/// differs. Name-less cookies are rejected (its parser, the `cookie` crate's, requires a name).
///
/// ```
/// use tower_requests_layers::cookie::{CookieJar, CookieStoreBackend};
/// use url::Url;
///
/// let jar = CookieJar::with_store(CookieStoreBackend::new());
/// let url = Url::parse("https://example.com/").unwrap();
/// jar.insert_raw("sid=abc; Path=/", &url).unwrap();
/// assert_eq!(jar.cookie_header(&url).unwrap(), "sid=abc");
/// ```
#[derive(Debug, Default)]
pub struct CookieStoreBackend {
    store: Mutex<cookie_store::CookieStore>,
}

impl CookieStoreBackend {
    /// An empty `cookie_store::CookieStore` (no public suffix list).
    pub fn new() -> Self {
        CookieStoreBackend::default()
    }

    /// Over an existing store (loaded from its JSON, with a public suffix list, ...).
    pub fn from_store(store: cookie_store::CookieStore) -> Self {
        CookieStoreBackend {
            store: Mutex::new(store),
        }
    }

    /// Runs `f` on the `cookie_store::CookieStore` (to save it, inspect it, ...).
    pub fn with_inner<R>(&self, f: impl FnOnce(&mut cookie_store::CookieStore) -> R) -> R {
        f(&mut self.lock())
    }

    /// The wrapped store.
    pub fn into_inner(self) -> cookie_store::CookieStore {
        self.store.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, cookie_store::CookieStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A `cookie_store` cookie as this crate's [`Cookie`].
pub(crate) fn from_cookie_store(c: &cookie_store::Cookie<'_>) -> Cookie {
    let expires = match c.expires {
        cookie_store::CookieExpiration::AtUtc(t) => {
            let secs = t.unix_timestamp();
            Some(if secs <= 0 {
                UNIX_EPOCH
            } else {
                UNIX_EPOCH + Duration::from_secs(secs as u64)
            })
        }
        cookie_store::CookieExpiration::SessionEnd => None,
    };
    Cookie::new(
        c.name(),
        c.value(),
        String::from(&c.domain),
        String::from(&c.path),
    )
    .with_host_only(!matches!(c.domain, cookie_store::CookieDomain::Suffix(_)))
    .with_expires(expires)
    .with_secure(c.secure() == Some(true))
    .with_http_only(c.http_only() == Some(true))
    // `cookie::SameSite` displays as "Strict", "Lax" or "None".
    .with_same_site(c.same_site().and_then(|s| SameSite::parse(&s.to_string())))
}

/// `cookie_store`'s reason as a [`CookieError`].
fn map_error(
    e: cookie_store::CookieError,
    raw: &cookie_store::RawCookie<'_>,
    url: &Url,
) -> CookieError {
    match e {
        cookie_store::CookieError::DomainMismatch => CookieError::DomainMismatch {
            domain: raw.domain().unwrap_or_default().to_ascii_lowercase(),
            host: url.host_str().unwrap_or_default().to_string(),
        },
        other => CookieError::Store(other.to_string()),
    }
}

impl CookieStore for CookieStoreBackend {
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        let mut store = self.lock();
        for value in set_cookies {
            let Ok(line) = std::str::from_utf8(value.as_bytes()) else {
                continue;
            };
            if let Ok(raw) = cookie_store::RawCookie::parse(line.to_string()) {
                let _ = store.insert_raw(&raw, url);
            }
        }
    }

    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.lock();
        let mut out = String::new();
        for (name, value) in store.get_request_values(url) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        if out.is_empty() {
            return None;
        }
        // UTF-8 names and values are kept as the server sent them.
        HeaderValue::from_maybe_shared(bytes::Bytes::from(out)).ok()
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.lock()
            .iter_unexpired()
            .map(from_cookie_store)
            .collect()
    }

    fn remove(&self, domain: &str, path: &str, name: &str) -> bool {
        self.lock().remove(domain, path, name).is_some()
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        let raw = cookie_store::RawCookie::parse(set_cookie.to_string())
            .map_err(|e| CookieError::Store(e.to_string()))?;
        match self.lock().insert_raw(&raw, url) {
            Ok(_) | Err(cookie_store::CookieError::Expired) => Ok(()),
            Err(e) => Err(map_error(e, &raw, url)),
        }
    }
}
