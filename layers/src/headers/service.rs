//! [`DefaultHeaders`] service.

use std::task::{Context, Poll};

use http::Request;
use tower_service::Service;

use super::future::ResponseFuture;
use super::shared::{SharedHeaders, WithoutHeaders};
use crate::BoxError;

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

impl<S, B> Service<Request<B>> for DefaultHeaders<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let defaults = self.headers.load();
        let req = if defaults.is_empty() {
            req
        } else {
            let (mut parts, body) = req.into_parts();
            let without = parts.extensions.get::<WithoutHeaders>();
            // One allocation for the request's headers, not one per growth step.
            parts.headers.reserve(defaults.len());
            for name in defaults.keys() {
                if parts.headers.contains_key(name) || without.is_some_and(|w| w.contains(name)) {
                    continue;
                }
                for value in defaults.get_all(name) {
                    parts.headers.append(name.clone(), value.clone());
                }
            }
            Request::from_parts(parts, body)
        };
        ResponseFuture {
            inner: self.inner.call(req),
        }
    }
}
