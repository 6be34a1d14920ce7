//! [`CookieService`] and the [`UserCookie`] request extension.

use std::task::{Context, Poll};

use http::header::COOKIE;
use http::{HeaderValue, Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::jar::CookieJar;

/// Request extension naming which part of a request's Cookie header is the *caller's*
/// (`None`: the caller set none), for a request that passes a [`CookieService`] more than once.
///
/// The layer never inserts it (that would cost every request an extension map). Without it, a
/// pass adds only the jar's cookies whose names the header does not already carry, so a request
/// whose header this layer (or one sharing its jar) already filled gets no cookie twice. Set it
/// when a later pass must *rebuild* the header instead, as caller part + the jar's cookies now
/// (a cookie whose value changed in between is then sent with its new value only). The caller
/// part is dropped when the request carries no Cookie header any more (a redirect layer removes
/// it on cross-origin hops).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserCookie(pub Option<HeaderValue>);

/// Adds the jar's cookies to requests and stores responses' Set-Cookie headers. Made by
/// [`CookieLayer`](super::CookieLayer).
#[derive(Clone, Debug)]
pub struct CookieService<S> {
    inner: S,
    jar: CookieJar,
}

impl<S> CookieService<S> {
    /// Wraps `inner` with `jar`.
    pub fn new(inner: S, jar: CookieJar) -> Self {
        CookieService { inner, jar }
    }

    /// The jar.
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }

    crate::inner_accessors!();
}

/// All Cookie header lines of the request joined with "; " (a caller may have set several).
fn joined_cookie_header(headers: &http::HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all(COOKIE).iter();
    let first = values.next()?;
    let mut joined: Option<Vec<u8>> = None;
    for v in values {
        let buf = joined.get_or_insert_with(|| first.as_bytes().to_vec());
        buf.extend_from_slice(b"; ");
        buf.extend_from_slice(v.as_bytes());
    }
    match joined {
        None => Some(first.clone()),
        Some(buf) => HeaderValue::from_bytes(&buf).ok(),
    }
}

/// Replaces every Cookie line with `value` (or removes them all).
fn set_cookie_header(headers: &mut http::HeaderMap, value: Option<HeaderValue>) {
    match value {
        Some(v) => {
            headers.insert(COOKIE, v);
        }
        None => {
            headers.remove(COOKIE);
        }
    }
}

/// A cookie pair without its surrounding whitespace.
fn trim_pair(p: &[u8]) -> &[u8] {
    let start = p.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let p = &p[start..];
    let end = p.len()
        - p.iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    &p[..end]
}

/// What makes two pairs of a Cookie header the same cookie for the merge: the name (trimmed)
/// for `name=value`, the whole pair for a name-less cookie (sent as its value alone).
fn pair_key(pair: &[u8]) -> (bool, &[u8]) {
    match pair.iter().position(|&b| b == b'=') {
        Some(i) => (true, trim_pair(&pair[..i])),
        None => (false, pair),
    }
}

/// The caller's part followed by the jar's pairs whose cookie the caller did not set: a jar
/// cookie whose name the caller's header already has is left out, whatever its value (the
/// caller's choice wins, and a server never sees `s=hand; s=2`), and so is a header this
/// layer filled on an earlier pass.
fn merge(user: Option<&HeaderValue>, jar: Option<HeaderValue>) -> Option<HeaderValue> {
    match (user, jar) {
        (None, jar) => jar,
        (Some(u), None) => Some(u.clone()),
        (Some(u), Some(j)) => {
            let ub = u.as_bytes();
            let has = |key: (bool, &[u8])| {
                ub.split(|&b| b == b';')
                    .map(trim_pair)
                    .any(|p| !p.is_empty() && pair_key(p) == key)
            };
            let mut buf = Vec::with_capacity(ub.len() + 2 + j.len());
            buf.extend_from_slice(ub);
            // The jar's header is `pair; pair; ...` (a pair holds no ';').
            for pair in j.as_bytes().split(|&b| b == b';') {
                let pair = trim_pair(pair);
                if !pair.is_empty() && !has(pair_key(pair)) {
                    buf.extend_from_slice(b"; ");
                    buf.extend_from_slice(pair);
                }
            }
            if buf.len() == ub.len() {
                return Some(u.clone());
            }
            HeaderValue::from_bytes(&buf).ok()
        }
    }
}

// The layer adds no error of its own: the inner service's error type is kept (so the layer
// works where `Infallible` is required, as in an axum `Router`).
impl<S, B, ResB> Service<Request<B>> for CookieService<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let uri = req.uri();
        // Only absolute URIs name a host to match cookies against.
        let absolute = uri.scheme().is_some() && uri.authority().is_some();
        if absolute {
            let jar_part = self.jar.cookie_header_for_uri(req.uri());
            match req.extensions().get::<UserCookie>() {
                // The caller said which part is theirs: rebuild the header as that part + the
                // jar's cookies now. The caller's part survives only while the request still
                // carries a Cookie header.
                Some(UserCookie(stored)) => {
                    let user = if req.headers().contains_key(COOKIE) {
                        stored.clone()
                    } else {
                        None
                    };
                    set_cookie_header(req.headers_mut(), merge(user.as_ref(), jar_part));
                }
                None => {
                    let mut lines = req.headers().get_all(COOKIE).iter();
                    let (has_user, several) = (lines.next().is_some(), lines.next().is_some());
                    match (has_user, jar_part) {
                        // The common case: the jar's header as it is.
                        (false, Some(jar_part)) => {
                            req.headers_mut().insert(COOKIE, jar_part);
                        }
                        (false, None) => {}
                        // Several Cookie lines from the caller become one (RFC 6265 5.4).
                        (true, None) if several => {
                            let user = joined_cookie_header(req.headers());
                            set_cookie_header(req.headers_mut(), user);
                        }
                        (true, None) => {}
                        (true, Some(jar_part)) => {
                            let user = joined_cookie_header(req.headers());
                            let header = merge(user.as_ref(), Some(jar_part));
                            set_cookie_header(req.headers_mut(), header);
                        }
                    }
                }
            }
        }
        let uri = absolute.then(|| req.uri().clone());
        ResponseFuture {
            inner: self.inner.call(req),
            jar: self.jar.clone(),
            uri,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use http::HeaderValue;

    fn m(user: &str, jar: &str) -> String {
        let user = HeaderValue::from_str(user).unwrap();
        let jar = HeaderValue::from_str(jar).unwrap();
        merge(Some(&user), Some(jar))
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The caller's cookies come first; a jar cookie whose name the caller already set is
    /// dropped, whatever its value.
    #[test]
    fn caller_names_win_over_the_jar() {
        assert_eq!(m("s=hand", "s=2"), "s=hand");
        assert_eq!(m("s=hand", "t=1; s=2; u=3"), "s=hand; t=1; u=3");
        assert_eq!(
            m(" s = hand ;x=1", "s=2; s=3; x=9; y=0"),
            " s = hand ;x=1; y=0"
        );
        // Exact pairs (a header this layer filled before) are not repeated either.
        assert_eq!(m("a=1; b=2", "a=1; b=2; c=3"), "a=1; b=2; c=3");
        // Name-less cookies compare by their whole value.
        assert_eq!(m("tok", "tok; other; s=1"), "tok; other; s=1");
        assert_eq!(m("s=1", "s; t=2"), "s=1; s; t=2");
    }
}
