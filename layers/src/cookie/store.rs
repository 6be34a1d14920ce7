//! The indexed cookie store behind [`CookieJar`](super::CookieJar).
//!
//! Cookies live in buckets keyed by their domain. Building a Cookie header for a host looks up
//! the host and each parent domain (one hash lookup per label), so its cost depends on the
//! cookies of that site only, never on the size of the jar. Two ordered indexes make the rules
//! cheap too: `by_seq` (creation order: oldest-first eviction, listings) and `by_expiry` (expired
//! cookies are removed at the start of every operation by popping the front).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderValue, Uri};

use super::error::CookieError;
use super::model::{Cookie, CookieLimits};
use super::parse::{default_path, domain_match, path_match, with_uri_origin, Origin};

#[derive(Debug)]
pub(crate) struct Stored {
    pub cookie: Cookie,
    /// Creation order (unique; kept when a cookie is replaced, like its creation time).
    pub seq: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    /// foldhash rather than std's SipHash: a Cookie header looks up the host and each parent
    /// domain, and SipHash costs more than the rest of the lookup. Its seed is random per
    /// process, so servers cannot pick domains that collide (and the jar's caps bound the
    /// number of keys anyway).
    buckets: HashMap<Arc<str>, Vec<Stored>, foldhash::fast::RandomState>,
    by_seq: BTreeMap<u64, Arc<str>>,
    by_expiry: BTreeSet<(SystemTime, u64)>,
    next_seq: u64,
    /// How many Secure cookies each name has: a plain-http Set-Cookie of a name with none (the
    /// usual case) skips the shadowing check, which has to look at every domain.
    secure_names: HashMap<String, usize, foldhash::fast::RandomState>,
    pub limits: CookieLimits,
    last: LastHeader,
    /// Counts the changes to the stored cookies (an insert that changes something, a removal,
    /// an expiry, a clear).
    generation: u64,
    last_set: Option<LastSet>,
}

/// The last Set-Cookie line stored, and where it came from: a logged-in site answers every
/// response with the same line (`Set-Cookie: sid=abc; Path=/`), and storing it again changes
/// nothing while the store is as that line left it. So the line is compared, byte for byte,
/// and neither parsed nor stored again; the Cookie header kept for the next request stays
/// valid too. Only lines without `Max-Age` are kept: a relative expiry moves with every
/// response, and goes through the parser (then [`Store::insert`] moves only the expiry).
struct LastSet {
    line: Vec<u8>,
    /// The request URI the line answered, when it came through one (without userinfo): the
    /// same line for the same URI needs no origin at all to be recognised.
    uri: Option<Uri>,
    host: String,
    /// The default path of the request the line answered (what a line without `Path` gets).
    dir: String,
    secure: bool,
    /// [`Store::generation`] after the line was stored.
    generation: u64,
}

/// Whether two URIs are written with the same bytes. Stricter than `Uri`'s `==`, which
/// compares the authority ignoring case, character by character (about 350 instructions for a
/// short URL, against a few dozen here): a URI that differs only that way is not taken for the
/// same request, so its line goes the slower way through the parser, with the same result.
fn same_uri_bytes(a: &Uri, b: &Uri) -> bool {
    use http::uri::{Authority, PathAndQuery};
    a.scheme_str() == b.scheme_str()
        && a.authority().map(Authority::as_str) == b.authority().map(Authority::as_str)
        && a.path_and_query().map(PathAndQuery::as_str)
            == b.path_and_query().map(PathAndQuery::as_str)
}

impl fmt::Debug for LastSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The line holds a cookie value.
        f.debug_struct("LastSet").finish_non_exhaustive()
    }
}

/// The Cookie header last built for a request URI, reused while the store is unchanged: a
/// session calling the same endpoint again (polling, an RPC or GraphQL URL) then pays a compare
/// and a reference count instead of an origin parse, a lookup and a string. When every cookie
/// the origin could be sent has `Path=/` (the usual login cookie), the header is the same for
/// every path, and it is reused for any path of that origin (scheme and authority): a session
/// calling `/items/1`, `/items/2`... builds it once too. Any change to the store (an insert, a
/// removal, an expiry) forgets it. The header is kept from the second call for a URI (or, path
/// aside, for its origin) on; the first only records the URI, so a session that never repeats
/// one does not pay for keeping headers it will not reuse.
#[derive(Default)]
struct LastHeader {
    /// The URI last asked for with the store as it is (its scheme, authority and path are the
    /// key; a clone shares the URI's bytes, and the facade's requests to one URL share them
    /// too, so the compare is often a pointer compare).
    uri: Option<Uri>,
    /// `Some` once the same URI came twice in a row (or the same origin, with `any_path`), the
    /// store unchanged in between.
    value: Option<Option<HeaderValue>>,
    /// `value` holds for every path of `uri`'s scheme and authority, not just `uri`'s path.
    any_path: bool,
}

impl fmt::Debug for LastHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The header holds cookie values: say only whether one is kept.
        f.debug_struct("LastHeader")
            .field("kept", &self.value.is_some())
            .finish_non_exhaustive()
    }
}

/// A built Cookie header as a header value, without copying it.
pub(crate) fn header_value(s: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(bytes::Bytes::from(s)).ok()
}

/// Equal strings, by address and length first.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.as_ptr() == b.as_ptr() || a == b)
}

/// How a request URI compares with the last one.
#[derive(Clone, Copy, PartialEq)]
enum Seen {
    /// Another scheme or authority, or no last URI.
    No,
    /// The same scheme and authority, another path.
    SameOrigin,
    /// The same scheme, authority and path.
    SameUri,
}

impl LastHeader {
    fn compare(&self, uri: &Uri) -> Seen {
        let Some(last) = &self.uri else {
            return Seen::No;
        };
        let (Some(a), Some(b)) = (last.authority(), uri.authority()) else {
            return Seen::No;
        };
        if !same(a.as_str(), b.as_str()) || last.scheme_str() != uri.scheme_str() {
            Seen::No
        } else if same(last.path(), uri.path()) {
            Seen::SameUri
        } else {
            Seen::SameOrigin
        }
    }

    /// The kept header, if it answers for a URI seen as `seen`.
    fn kept(&self, seen: Seen) -> Option<&Option<HeaderValue>> {
        match seen {
            Seen::SameUri => self.value.as_ref(),
            Seen::SameOrigin if self.any_path => self.value.as_ref(),
            _ => None,
        }
    }

    fn forget(&mut self) {
        self.uri = None;
        self.value = None;
        self.any_path = false;
    }
}

/// Iterates `host` and its parent domains (`a.b.c`, `b.c`, `c`); IP hosts have no parents.
fn host_and_parents<'a>(host: &'a str, is_ip: bool) -> impl Iterator<Item = &'a str> + 'a {
    let mut next = Some(host);
    std::iter::from_fn(move || {
        let cur = next?;
        next = if is_ip {
            None
        } else {
            cur.find('.')
                .map(|i| &cur[i + 1..])
                .filter(|s| !s.is_empty())
        };
        Some(cur)
    })
}

/// `name=value; name=value` for the cookies in order, in a string allocated once.
fn cookie_header<'a>(found: impl Iterator<Item = &'a Stored> + Clone) -> String {
    // The exact length: a `String` whose capacity is its length becomes `Bytes` (and so a
    // `HeaderValue`) without a second allocation.
    let len: usize = found.clone().map(|s| s.cookie.pair_len() + 2).sum();
    let mut out = String::with_capacity(len.saturating_sub(2));
    for (i, s) in found.enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        s.cookie.write_pair(&mut out);
    }
    debug_assert_eq!(out.len(), out.capacity());
    out
}

impl Store {
    pub(crate) fn new(limits: CookieLimits) -> Store {
        Store {
            limits,
            ..Store::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_seq.len()
    }

    /// Removes every cookie that has expired at `now`.
    pub(crate) fn purge_expired(&mut self, now: SystemTime) {
        while let Some(&(t, seq)) = self.by_expiry.first() {
            if t > now {
                break;
            }
            self.by_expiry.pop_first();
            if let Some(domain) = self.by_seq.remove(&seq) {
                self.remove_from_bucket(&domain, seq);
            }
        }
    }

    /// The stored cookies change: what was kept about them (the last Cookie header, the last
    /// Set-Cookie line) no longer holds.
    fn changed(&mut self) {
        self.last.forget();
        self.generation += 1;
    }

    /// Whether `line`, from `origin`, is the last Set-Cookie line stored, from the same host,
    /// security and default path, with nothing changed since: storing it again would change
    /// nothing. Expired cookies are removed first (which is a change).
    pub(crate) fn repeats_last_set(
        &mut self,
        line: &[u8],
        origin: &Origin<'_>,
        now: SystemTime,
    ) -> bool {
        self.repeats(line, now, |last| {
            last.secure == origin.secure
                && *last.host == *origin.host
                && *last.dir == *default_path(origin.path)
        })
    }

    /// [`repeats_last_set`](Self::repeats_last_set) for a line that answered the same request
    /// URI as the last one stored: no origin needed (the same URI has the same origin).
    pub(crate) fn repeats_last_set_for_uri(
        &mut self,
        line: &[u8],
        uri: &Uri,
        now: SystemTime,
    ) -> bool {
        self.repeats(line, now, |last| {
            last.uri
                .as_ref()
                .is_some_and(|last| same_uri_bytes(last, uri))
        })
    }

    /// Whether `line` is the last line stored, nothing changed since, and `same_request` says
    /// it answered the same request.
    fn repeats(
        &mut self,
        line: &[u8],
        now: SystemTime,
        same_request: impl FnOnce(&LastSet) -> bool,
    ) -> bool {
        self.purge_expired(now);
        self.last_set.as_ref().is_some_and(|last| {
            last.generation == self.generation && *last.line == *line && same_request(last)
        })
    }

    /// Notes `line` (just stored, from `origin`, answering `uri` when it came through one) as
    /// the last Set-Cookie line, unless its expiry is `relative` (computed from the time it was
    /// read: a `Max-Age`, or an `Expires` past the 400-day cap).
    pub(crate) fn note_set(
        &mut self,
        line: &str,
        origin: &Origin<'_>,
        relative: bool,
        uri: Option<&Uri>,
    ) {
        if relative {
            self.last_set = None;
            return;
        }
        let generation = self.generation;
        let dir = default_path(origin.path);
        // The previous line's buffers are reused: no allocation once they are large enough.
        let last = self.last_set.get_or_insert_with(|| LastSet {
            line: Vec::new(),
            uri: None,
            host: String::new(),
            dir: String::new(),
            secure: false,
            generation,
        });
        last.line.clear();
        last.line.extend_from_slice(line.as_bytes());
        last.uri = uri
            .filter(|u| u.authority().is_some_and(|a| !a.as_str().contains('@')))
            .cloned();
        last.host.clear();
        last.host.push_str(origin.host);
        last.dir.clear();
        last.dir.push_str(dir);
        last.secure = origin.secure;
        last.generation = generation;
    }

    fn remove_from_bucket(&mut self, domain: &str, seq: u64) -> Option<Stored> {
        self.changed();
        let bucket = self.buckets.get_mut(domain)?;
        let i = bucket.iter().position(|s| s.seq == seq)?;
        let stored = bucket.swap_remove(i);
        if bucket.is_empty() {
            self.buckets.remove(domain);
        }
        self.forget_secure(&stored.cookie);
        Some(stored)
    }

    /// Removes one cookie by its creation number, from every index.
    fn remove_seq(&mut self, seq: u64) -> Option<Stored> {
        let domain = self.by_seq.remove(&seq)?;
        let stored = self.remove_from_bucket(&domain, seq)?;
        if let Some(t) = stored.cookie.expires {
            self.by_expiry.remove(&(t, seq));
        }
        Some(stored)
    }

    /// Counts a stored cookie out of `secure_names`.
    fn forget_secure(&mut self, c: &Cookie) {
        if !c.secure {
            return;
        }
        if let Some(n) = self.secure_names.get_mut(c.name.as_str()) {
            *n -= 1;
            if *n == 0 {
                self.secure_names.remove(c.name.as_str());
            }
        }
    }

    /// RFC 6265bis 5.7: a non-secure origin may not set a cookie that would shadow a Secure one
    /// of the same name: its domain domain-matches the new cookie's domain *or the other way
    /// round* (a Secure cookie of `sub.example.com` is shadowed by `example.com` too), and the
    /// new cookie's path path-matches its path. Only names that have a Secure cookie get here;
    /// for them every domain of the store is looked at, since the subdomains of a domain are
    /// not one lookup away.
    fn shadows_secure(&self, c: &Cookie) -> bool {
        if !self.secure_names.contains_key(c.name.as_str()) {
            return false;
        }
        self.buckets.iter().any(|(d, bucket)| {
            (domain_match(d, &c.domain) || domain_match(&c.domain, d))
                && bucket.iter().any(|s| {
                    s.cookie.secure
                        && s.cookie.name == c.name
                        && path_match(&s.cookie.path, &c.path)
                })
        })
    }

    /// Stores (or, when it has expired, deletes) a parsed cookie.
    pub(crate) fn insert(
        &mut self,
        mut c: Cookie,
        origin_secure: bool,
        now: SystemTime,
    ) -> Result<(), CookieError> {
        self.purge_expired(now);
        if !origin_secure && !c.secure && self.shadows_secure(&c) {
            return Err(CookieError::ShadowsSecureCookie);
        }
        if self.refresh(&c, now) {
            return Ok(());
        }
        self.changed();
        // An existing cookie with the same (domain, path, name) is replaced and keeps its
        // creation time and place in the creation order.
        let existing = self.buckets.get(c.domain.as_str()).and_then(|b| {
            b.iter()
                .find(|s| s.cookie.name == c.name && s.cookie.path == c.path)
                .map(|s| (s.seq, s.cookie.created))
        });
        let seq = match existing {
            Some((seq, created)) => {
                self.remove_seq(seq);
                c.created = created;
                seq
            }
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                seq
            }
        };
        if c.is_expired_at(now) {
            return Ok(());
        }
        let key: Arc<str> = match self.buckets.get_key_value(c.domain.as_str()) {
            Some((k, _)) => k.clone(),
            None => Arc::from(c.domain.as_str()),
        };
        if let Some(t) = c.expires {
            self.by_expiry.insert((t, seq));
        }
        self.by_seq.insert(seq, key.clone());
        if c.secure {
            *self.secure_names.entry(c.name.clone()).or_default() += 1;
        }
        let bucket = self.buckets.entry(key.clone()).or_default();
        bucket.push(Stored { cookie: c, seq });

        // Per-domain cap: evict the oldest of this domain.
        while bucket.len() > self.limits.max_per_domain.max(1) {
            let Some(oldest) = bucket.iter().map(|s| s.seq).min() else {
                break;
            };
            let Some(i) = bucket.iter().position(|s| s.seq == oldest) else {
                break;
            };
            let gone = bucket.swap_remove(i);
            self.by_seq.remove(&gone.seq);
            if let Some(t) = gone.cookie.expires {
                self.by_expiry.remove(&(t, gone.seq));
            }
            if gone.cookie.secure {
                if let Some(n) = self.secure_names.get_mut(gone.cookie.name.as_str()) {
                    *n -= 1;
                    if *n == 0 {
                        self.secure_names.remove(gone.cookie.name.as_str());
                    }
                }
            }
        }
        // Total cap: evict the oldest of the jar.
        while self.by_seq.len() > self.limits.max_total.max(1) {
            let Some((&oldest, _)) = self.by_seq.first_key_value() else {
                break;
            };
            self.remove_seq(oldest);
        }
        Ok(())
    }

    /// When `c` is a cookie the store holds already, with the same value and attributes, and
    /// is not a deletion: moves its expiry when that changed (a relative `Max-Age`), and
    /// answers `true`. Nothing else changes, so the Cookie header kept for the next request
    /// stays valid.
    fn refresh(&mut self, c: &Cookie, now: SystemTime) -> bool {
        if c.is_expired_at(now) {
            return false;
        }
        let Some(bucket) = self.buckets.get_mut(c.domain.as_str()) else {
            return false;
        };
        let Some(s) = bucket
            .iter_mut()
            .find(|s| s.cookie.name == c.name && s.cookie.path == c.path)
        else {
            return false;
        };
        let old = &s.cookie;
        if old.value != c.value
            || old.secure != c.secure
            || old.http_only != c.http_only
            || old.same_site != c.same_site
            || old.host_only != c.host_only
        {
            return false;
        }
        if old.expires != c.expires {
            if let Some(t) = old.expires {
                self.by_expiry.remove(&(t, s.seq));
            }
            if let Some(t) = c.expires {
                self.by_expiry.insert((t, s.seq));
            }
            s.cookie.expires = c.expires;
        }
        true
    }

    /// The Cookie header value for a request: matching cookies ordered longest path first,
    /// then earliest creation. Call [`Store::purge_expired`] first: expired cookies are left
    /// out by being gone.
    pub(crate) fn header_for(&self, origin: &Origin<'_>) -> Option<String> {
        self.header_and_scope(origin).0
    }

    /// [`header_for`](Self::header_for), and whether that header is the same for every path of
    /// the origin: true when each cookie the origin's host and scheme could be sent has
    /// `Path=/`, which path-matches every request path.
    fn header_and_scope(&self, origin: &Origin<'_>) -> (Option<String>, bool) {
        // Matches are gathered on the stack (a request rarely matches more than a few cookies);
        // past `INLINE` they spill into a Vec.
        const INLINE: usize = 16;
        let mut inline: [Option<&Stored>; INLINE] = [None; INLINE];
        let mut n = 0;
        let mut spill: Vec<&Stored> = Vec::new();
        let mut any_path = true;
        for (i, domain) in host_and_parents(origin.host, origin.is_ip).enumerate() {
            let Some(bucket) = self.buckets.get(domain) else {
                continue;
            };
            for s in bucket {
                let c = &s.cookie;
                if (c.host_only && i != 0) || (c.secure && !origin.secure) {
                    continue;
                }
                any_path &= c.path == "/";
                if !path_match(&c.path, origin.path) {
                    continue;
                }
                if n < INLINE {
                    inline[n] = Some(s);
                } else {
                    if spill.is_empty() {
                        spill.extend(inline.iter().flatten());
                    }
                    spill.push(s);
                }
                n += 1;
            }
        }
        if n == 0 {
            return (None, any_path);
        }
        let order = |s: &Stored| (Reverse(s.cookie.path.len()), s.seq);
        let header = if spill.is_empty() {
            let found = &mut inline[..n];
            found.sort_unstable_by_key(|s| s.map(order));
            cookie_header(found.iter().flatten().copied())
        } else {
            spill.sort_unstable_by_key(|s| order(s));
            cookie_header(spill.iter().copied())
        };
        (Some(header), any_path)
    }

    /// The Cookie header for an absolute request URI (`None` for a relative one). The answer
    /// for the last URI is kept from its second call on while the store does not change, and
    /// serves every path of its origin when it does not depend on the path.
    pub(crate) fn header_for_uri(&mut self, uri: &Uri, now: SystemTime) -> Option<HeaderValue> {
        // An expired cookie changes the store, which forgets the kept header.
        self.purge_expired(now);
        let seen = self.last.compare(uri);
        if let Some(kept) = self.last.kept(seen) {
            return kept.clone();
        }
        // Stays false when no origin is made (a scheme cookies are not sent to).
        let mut any_path = false;
        let value = with_uri_origin(uri, |origin| {
            let (header, scope) = self.header_and_scope(origin);
            any_path = scope;
            header
        })
        .flatten()
        .and_then(header_value);
        if seen == Seen::SameUri || (seen == Seen::SameOrigin && any_path) {
            // The URI (or, for a header every path gets, its origin) came twice in a row.
            self.last.value = Some(value.clone());
            self.last.any_path = any_path;
        } else if uri.authority().is_some_and(|a| !a.as_str().contains('@')) {
            // The first time only the URI is noted: a session that never repeats a URI pays
            // no copy of headers it will not reuse. A URI with userinfo is not kept at all.
            self.last.uri = Some(uri.clone());
            self.last.value = None;
            self.last.any_path = false;
        } else {
            self.last.forget();
        }
        value
    }

    /// The request URI the last stored line is kept for (tests).
    #[cfg(test)]
    pub(crate) fn last_set_uri(&self) -> Option<&Uri> {
        self.last_set.as_ref()?.uri.as_ref()
    }

    /// How many changes the store has seen (tests).
    #[cfg(test)]
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The header kept for `uri`, if one would answer it (tests).
    #[cfg(test)]
    pub(crate) fn kept_header(&self, uri: &Uri) -> Option<Option<HeaderValue>> {
        self.last.kept(self.last.compare(uri)).cloned()
    }

    /// All cookies in creation order.
    pub(crate) fn snapshot(&mut self, now: SystemTime) -> Vec<Cookie> {
        self.purge_expired(now);
        let mut all: Vec<&Stored> = self.buckets.values().flatten().collect();
        all.sort_unstable_by_key(|s| s.seq);
        all.into_iter().map(|s| s.cookie.clone()).collect()
    }

    /// Visits every live cookie (unordered).
    pub(crate) fn for_each(&mut self, now: SystemTime, mut f: impl FnMut(&Cookie, u64)) {
        self.purge_expired(now);
        for s in self.buckets.values().flatten() {
            f(&s.cookie, s.seq);
        }
    }

    pub(crate) fn remove_where(&mut self, mut pred: impl FnMut(&Cookie) -> bool) -> usize {
        let seqs: Vec<u64> = self
            .buckets
            .values()
            .flatten()
            .filter(|s| pred(&s.cookie))
            .map(|s| s.seq)
            .collect();
        for &seq in &seqs {
            self.remove_seq(seq);
        }
        seqs.len()
    }

    /// A copy of the cookie with this domain, path and name (expired or not).
    #[allow(dead_code)] // used by the Redis store only
    pub(crate) fn find(&self, domain: &str, path: &str, name: &str) -> Option<Cookie> {
        self.buckets.get(domain).and_then(|b| {
            b.iter()
                .find(|s| s.cookie.path == path && s.cookie.name == name)
                .map(|s| s.cookie.clone())
        })
    }

    pub(crate) fn remove_exact(&mut self, domain: &str, path: &str, name: &str) -> bool {
        let seq = self.buckets.get(domain).and_then(|b| {
            b.iter()
                .find(|s| s.cookie.path == path && s.cookie.name == name)
                .map(|s| s.seq)
        });
        match seq {
            Some(seq) => self.remove_seq(seq).is_some(),
            None => false,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.changed();
        self.buckets.clear();
        self.by_seq.clear();
        self.by_expiry.clear();
        self.secure_names.clear();
    }

    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let n: usize = self.buckets.values().map(Vec::len).sum();
        assert_eq!(n, self.by_seq.len());
        for (d, b) in &self.buckets {
            assert!(!b.is_empty());
            assert!(b.len() <= self.limits.max_per_domain.max(1));
            for s in b {
                assert_eq!(&*s.cookie.domain, &**d);
                assert_eq!(self.by_seq.get(&s.seq).map(|d| &**d), Some(&**d));
                if let Some(t) = s.cookie.expires {
                    assert!(self.by_expiry.contains(&(t, s.seq)));
                }
            }
        }
        assert!(self.by_seq.len() <= self.limits.max_total.max(1));
        let mut secure: HashMap<&str, usize> = HashMap::new();
        for s in self.buckets.values().flatten().filter(|s| s.cookie.secure) {
            *secure.entry(&s.cookie.name).or_default() += 1;
        }
        assert_eq!(secure.len(), self.secure_names.len());
        for (name, n) in secure {
            assert_eq!(self.secure_names.get(name), Some(&n), "{name}");
        }
    }
}
