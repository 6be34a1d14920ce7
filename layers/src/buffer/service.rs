//! [`BufferBody`] service.

use std::task::{Context, Poll};

use bytes::Buf;
use http::Request;
use tower_service::Service;

use super::future::ResponseFuture;
use crate::{Body, BoxError};

/// The service made by [`BufferBodyLayer`](super::BufferBodyLayer).
#[derive(Debug, Clone)]
pub struct BufferBody<S> {
    inner: S,
    limit: usize,
}

impl<S> BufferBody<S> {
    /// Wrap `inner`, buffering request bodies of at most `limit` bytes.
    pub fn new(inner: S, limit: usize) -> Self {
        BufferBody { inner, limit }
    }

    crate::inner_accessors!();
}

impl<S, B> Service<Request<B>> for BufferBody<S>
where
    S: Service<Request<Body>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Buf + Send,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The service that was polled ready goes with this call; a clone stays for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(inner, req, self.limit)
    }
}
