//! [`RetryService`], built by [`RetryLayer`](super::RetryLayer).

use std::task::{Context, Poll};

use futures_util::future::{MapErr, TryFutureExt};
use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::policy::RetryPolicy;
use crate::{BoxError, ReplayBody};

/// The inner service with its errors boxed, so the policy can replace an error (or a response)
/// with a [`RetryError`](super::RetryError).
#[derive(Debug, Clone)]
pub(crate) struct BoxErrors<S>(S);

impl<S, R> Service<R> for BoxErrors<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = MapErr<S::Future, fn(S::Error) -> BoxError>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.0
            .call(req)
            .map_err(Into::into as fn(S::Error) -> BoxError)
    }
}

/// Retries requests with urllib3's `Retry` semantics: [`tower::retry::Retry`] driven by a
/// [`RetryPolicy`]. Built by [`RetryLayer`](super::RetryLayer); clones share the
/// configuration and the retry budget.
#[derive(Debug, Clone)]
pub struct RetryService<S> {
    inner: tower::retry::Retry<RetryPolicy, BoxErrors<S>>,
}

impl<S> RetryService<S> {
    /// Wrap `inner` with `policy`.
    pub fn new(inner: S, policy: RetryPolicy) -> Self {
        RetryService {
            inner: tower::retry::Retry::new(policy, BoxErrors(inner)),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner.get_ref().0
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner.get_mut().0
    }

    /// The wrapped service, consuming `self`.
    pub fn into_inner(self) -> S {
        self.inner.into_inner().0
    }
}

impl<S, B, ResB> Service<Request<B>> for RetryService<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ResponseFuture::new(self.inner.call(req))
    }
}
