//! [`CookieService`] and the [`UserCookie`] request extension.

use std::task::{Context, Poll};

use http::header::COOKIE;
use http::{HeaderValue, Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::jar::CookieJar;
use crate::BoxError;

/// Request extension holding the Cookie header the *caller* set, recorded the first time a
/// request passes a [`CookieService`] that adds cookies from its jar (`None`: the caller set
/// none). When the jar adds nothing the extension is not inserted: the header is then all the
/// caller's, which is what a later pass reads it as.
///
/// A redirect layer above copies the original request's extensions onto each hop, so on later
/// hops the service knows which part of the Cookie header is the caller's and which came from
/// the jar: it rebuilds the header as caller part + current jar cookies instead of appending jar
/// cookies again. When the redirect layer removed the Cookie header (cross-origin hop), the
/// caller's part is not restored.
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

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
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

fn merge(user: Option<&HeaderValue>, jar: Option<HeaderValue>) -> Option<HeaderValue> {
    match (user, jar) {
        (None, jar) => jar,
        (Some(u), None) => Some(u.clone()),
        (Some(u), Some(j)) => {
            let mut buf = Vec::with_capacity(u.len() + 2 + j.len());
            buf.extend_from_slice(u.as_bytes());
            buf.extend_from_slice(b"; ");
            buf.extend_from_slice(j.as_bytes());
            HeaderValue::from_bytes(&buf).ok()
        }
    }
}

impl<S, B, ResB> Service<Request<B>> for CookieService<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let uri = req.uri();
        // Only absolute URIs name a host to match cookies against.
        let absolute = uri.scheme().is_some() && uri.authority().is_some();
        if absolute {
            let jar_part = self.jar.cookie_header_for_uri(req.uri());
            match req.extensions().get::<UserCookie>() {
                // A later pass (redirect hop, replay) of a request whose header this layer
                // already filled: rebuild it as the caller's part + the jar's cookies now. The
                // caller's part survives only while the request still carries a Cookie header.
                Some(UserCookie(stored)) => {
                    let user = if req.headers().contains_key(COOKIE) {
                        stored.clone()
                    } else {
                        None
                    };
                    set_cookie_header(req.headers_mut(), merge(user.as_ref(), jar_part));
                }
                // First pass. Only when the jar adds something is the caller's part recorded:
                // a header the jar added nothing to is all the caller's on any later pass too.
                None => match jar_part {
                    Some(jar_part) => {
                        let user = joined_cookie_header(req.headers());
                        let header = merge(user.as_ref(), Some(jar_part));
                        req.extensions_mut().insert(UserCookie(user));
                        set_cookie_header(req.headers_mut(), header);
                    }
                    // Several Cookie lines from the caller still become one (RFC 6265 5.4).
                    None => {
                        if req.headers().get_all(COOKIE).iter().nth(1).is_some() {
                            let user = joined_cookie_header(req.headers());
                            set_cookie_header(req.headers_mut(), user);
                        }
                    }
                },
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
