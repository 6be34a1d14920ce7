//! [`DefaultHeaders`] service.

use std::task::{Context, Poll};

use http::{HeaderMap, HeaderName, Request};
use tower_service::Service;

use super::future::ResponseFuture;
use super::shared::{SharedHeaders, WithoutHeaders};

/// The service made by [`DefaultHeadersLayer`](super::DefaultHeadersLayer).
#[derive(Clone, Debug)]
pub struct DefaultHeaders<S> {
    inner: S,
    headers: SharedHeaders,
}

impl<S> DefaultHeaders<S> {
    /// Wraps `inner`, adding the defaults held by `headers`.
    pub fn new(inner: S, headers: SharedHeaders) -> Self {
        DefaultHeaders { inner, headers }
    }

    /// The handle to the defaults.
    pub fn headers(&self) -> &SharedHeaders {
        &self.headers
    }

    crate::inner_accessors!();
}

impl<S, B> Service<Request<B>> for DefaultHeaders<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let defaults = self.headers.load();
        if !defaults.is_empty() {
            if req.extensions().get::<WithoutHeaders>().is_none() {
                if req.headers().is_empty() {
                    // Every default applies (the common `session.get(url)` with no headers).
                    // Not `HeaderMap::clone`: its copy has no room left, and the next header
                    // added below (Cookie, Authorization, the client's Host) reallocates and
                    // moves every entry, which costs more than inserting the defaults into a
                    // map made with room for them.
                    let mut headers = HeaderMap::with_capacity(defaults.len() + ROOM_BELOW);
                    for (name, value) in defaults.iter() {
                        headers.append(name.clone(), value.clone());
                    }
                    *req.headers_mut() = headers;
                } else {
                    add_defaults(req.headers_mut(), &defaults, None);
                }
            } else {
                let (mut parts, body) = req.into_parts();
                let without = parts.extensions.get::<WithoutHeaders>();
                add_defaults(&mut parts.headers, &defaults, without);
                req = Request::from_parts(parts, body);
            }
        }
        ResponseFuture {
            inner: self.inner.call(req),
        }
    }
}

/// Headers the layers below usually add (Cookie, Authorization, the client's Host): room is
/// made for them with the defaults, so that adding them does not grow the map.
const ROOM_BELOW: usize = 3;

/// Appends every default (all its values) whose name the request does not carry and
/// `without` does not name. One pass over the defaults: `HeaderMap::iter` yields a name's
/// values together, with the same name reference.
fn add_defaults(headers: &mut HeaderMap, defaults: &HeaderMap, without: Option<&WithoutHeaders>) {
    // One allocation for the request's headers, not one per growth step. `HeaderMap::reserve(n)`
    // rounds n up to a power of two and keeps a quarter of it free, so ask for room for the
    // defaults plus `ROOM_BELOW` with that quarter counted in.
    let want = headers.len() + defaults.len() + ROOM_BELOW;
    headers.reserve((want * 4).div_ceil(3) - headers.len());
    let mut current: Option<&HeaderName> = None;
    let mut skip = false;
    for (name, value) in defaults {
        if !current.is_some_and(|c| std::ptr::eq(c, name)) {
            current = Some(name);
            skip = headers.contains_key(name) || without.is_some_and(|w| w.contains(name));
        }
        if !skip {
            headers.append(name.clone(), value.clone());
        }
    }
}
