//! [`SharedHeaders`], [`WithoutHeaders`] and [`default_headers`].

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use http::header::{HeaderName, HeaderValue, ACCEPT, USER_AGENT};
use http::HeaderMap;

/// The `User-Agent` and `Accept` a session sends unless told otherwise:
/// `User-Agent: tower-requests/<version>` and `Accept: */*`.
pub fn default_headers() -> HeaderMap {
    // Room for the two below and the `Accept-Encoding` a session adds.
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("tower-requests/", env!("CARGO_PKG_VERSION"))),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers
}

/// A handle to a set of default headers, shared by every clone (one `Arc` inside).
///
/// Writers copy the map on write (only when a reader still holds the previous snapshot);
/// readers ([`DefaultHeaders`](super::DefaultHeaders) on every request) only clone an `Arc`.
#[derive(Clone, Default)]
pub struct SharedHeaders {
    inner: Arc<RwLock<Arc<HeaderMap>>>,
}

impl SharedHeaders {
    /// A handle holding `headers`.
    pub fn new(headers: HeaderMap) -> Self {
        SharedHeaders {
            inner: Arc::new(RwLock::new(Arc::new(headers))),
        }
    }

    /// The current defaults, as a cheap snapshot (an `Arc` clone).
    pub(crate) fn load(&self) -> Arc<HeaderMap> {
        // A poisoned lock only means a writer panicked between two complete states of the map
        // (every mutation below is a single HeaderMap call): the data is still consistent.
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update<R>(&self, f: impl FnOnce(&mut HeaderMap) -> R) -> R {
        let mut guard = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let map = Arc::make_mut(&mut guard);
        f(map)
    }

    /// Sets `name` to `value` (replacing every previous value), returning the previous first value.
    pub fn insert(&self, name: HeaderName, value: HeaderValue) -> Option<HeaderValue> {
        self.update(|h| h.insert(name, value))
    }

    /// Adds `value` to the values of `name`; returns whether `name` already had a value.
    pub fn append(&self, name: HeaderName, value: HeaderValue) -> bool {
        self.update(|h| h.append(name, value))
    }

    /// Removes every value of `name`, returning the first one.
    pub fn remove(&self, name: &HeaderName) -> Option<HeaderValue> {
        self.update(|h| h.remove(name))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<HeaderValue> {
        self.load().get(name).cloned()
    }

    /// Whether `name` has a value.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.load().contains_key(name)
    }

    /// A copy of all the defaults.
    pub fn snapshot(&self) -> HeaderMap {
        HeaderMap::clone(&self.load())
    }

    /// Merges `headers` in, like `session.headers.update(...)`: each name present in `headers`
    /// replaces that name's previous values.
    pub fn extend(&self, headers: HeaderMap) {
        self.update(|h| {
            let mut last: Option<HeaderName> = None;
            for (name, value) in headers {
                match name {
                    Some(name) => {
                        h.insert(name.clone(), value);
                        last = Some(name);
                    }
                    // Further values of the previous name.
                    None => {
                        if let Some(name) = &last {
                            h.append(name.clone(), value);
                        }
                    }
                }
            }
        })
    }

    /// Replaces all the defaults with `headers`.
    pub fn replace(&self, headers: HeaderMap) {
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(headers);
    }

    /// Removes all the defaults.
    pub fn clear(&self) {
        self.replace(HeaderMap::new());
    }
}

impl From<HeaderMap> for SharedHeaders {
    fn from(headers: HeaderMap) -> Self {
        SharedHeaders::new(headers)
    }
}

impl fmt::Debug for SharedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedHeaders").field(&self.load()).finish()
    }
}

/// Request extension: header names this request must not get from the defaults
/// (requests' `headers={'User-Agent': None}`).
///
/// It only stops defaults from being added; a value the request sets itself is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WithoutHeaders {
    names: HashSet<HeaderName>,
}

impl WithoutHeaders {
    /// An empty set.
    pub fn new() -> Self {
        WithoutHeaders::default()
    }

    /// Adds `name`; returns whether it was not in the set yet.
    pub fn insert(&mut self, name: HeaderName) -> bool {
        self.names.insert(name)
    }

    /// Removes `name`; returns whether it was in the set.
    pub fn remove(&mut self, name: &HeaderName) -> bool {
        self.names.remove(name)
    }

    /// Whether `name` is in the set.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.names.contains(name)
    }

    /// The names in the set, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &HeaderName> {
        self.names.iter()
    }

    /// How many names are in the set.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl FromIterator<HeaderName> for WithoutHeaders {
    fn from_iter<I: IntoIterator<Item = HeaderName>>(iter: I) -> Self {
        WithoutHeaders {
            names: iter.into_iter().collect(),
        }
    }
}

impl Extend<HeaderName> for WithoutHeaders {
    fn extend<I: IntoIterator<Item = HeaderName>>(&mut self, iter: I) {
        self.names.extend(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_headers_have_user_agent_and_accept() {
        let h = default_headers();
        assert_eq!(
            h[USER_AGENT],
            format!("tower-requests/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(h[ACCEPT], "*/*");
    }

    #[test]
    fn snapshot_is_not_affected_by_later_writes() {
        let shared = SharedHeaders::new(default_headers());
        let before = shared.load();
        shared.remove(&USER_AGENT);
        assert!(before.contains_key(USER_AGENT));
        assert!(!shared.contains(&USER_AGENT));
        assert!(shared.clone().get(&ACCEPT).is_some());
    }

    #[test]
    fn extend_replaces_names_and_keeps_multiple_values() {
        let shared = SharedHeaders::new(default_headers());
        let mut more = HeaderMap::new();
        more.insert(ACCEPT, HeaderValue::from_static("text/html"));
        more.append("x-a", HeaderValue::from_static("1"));
        more.append("x-a", HeaderValue::from_static("2"));
        shared.extend(more);
        let snap = shared.snapshot();
        assert_eq!(snap[ACCEPT], "text/html");
        assert_eq!(snap.get_all("x-a").iter().count(), 2);
        assert!(snap.contains_key(USER_AGENT));
        assert!(shared.append(
            HeaderName::from_static("x-a"),
            HeaderValue::from_static("3")
        ));
        assert_eq!(shared.snapshot().get_all("x-a").iter().count(), 3);
        shared.clear();
        assert!(shared.snapshot().is_empty());
    }

    #[test]
    fn without_headers_set() {
        let mut w: WithoutHeaders = [USER_AGENT].into_iter().collect();
        assert!(w.contains(&USER_AGENT));
        assert!(w.insert(ACCEPT));
        assert!(!w.insert(ACCEPT));
        assert_eq!(w.len(), 2);
        assert!(w.remove(&ACCEPT));
        assert!(!w.is_empty());
    }
}
