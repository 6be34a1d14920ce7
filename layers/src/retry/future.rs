//! Futures of the retry layer: the backoff sleep and the response future.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower_service::Service;

use super::policy::RetryPolicy;
use super::service::BoxErrors;
use crate::body::Drain;
use crate::{BoxError, ReplayBody};

pin_project! {
    /// The wait before a retry ([`RetryPolicy`]'s `Policy::Future`): a tokio sleep, or nothing
    /// for a zero backoff. Meanwhile the body of the response being retried (a 503, say) is
    /// read to its end, as urllib3 does (`response.drain_conn()`), so that its connection can
    /// go back to the pool (at most [`MAX_DRAIN`](crate::body::MAX_DRAIN) bytes; a longer body
    /// is dropped unread).
    pub struct BackoffFuture<ResB> {
        #[pin]
        sleep: Option<Sleep>,
        drain: Drain<ResB>,
    }
}

impl<ResB: http_body::Body> BackoffFuture<ResB> {
    pub(crate) fn new(duration: Duration, retried: Option<ResB>) -> Self {
        let mut drain = Drain::default();
        if let Some(body) = retried {
            drain.start(body);
        }
        BackoffFuture {
            sleep: (!duration.is_zero()).then(|| tokio::time::sleep(duration)),
            drain,
        }
    }
}

impl<ResB: http_body::Body> Future for BackoffFuture<ResB> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        ready!(this.drain.poll(cx));
        match this.sleep.as_pin_mut() {
            Some(sleep) => sleep.poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl<ResB> std::fmt::Debug for BackoffFuture<ResB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackoffFuture")
            .field("deadline", &self.sleep.as_ref().map(|s| s.deadline()))
            .finish()
    }
}

pin_project! {
    /// Response future of [`RetryService`](super::RetryService): tower's retry future over the
    /// inner service.
    pub struct ResponseFuture<S, B, ResB>
    where
        S: Service<Request<B>, Response = Response<ResB>>,
        S::Error: Into<BoxError>,
        B: ReplayBody,
        ResB: http_body::Body,
    {
        // Boxed: tower's retry future carries a copy of the request and of the service for the
        // next attempt (several hundred bytes); in a box, the futures of every layer above stay
        // small and are cheaper to move than that is to allocate.
        inner: Pin<Box<tower::retry::future::ResponseFuture<RetryPolicy, BoxErrors<S>, Request<B>>>>,
        _body: PhantomData<fn() -> ResB>,
    }
}

impl<S, B, ResB> ResponseFuture<S, B, ResB>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    pub(crate) fn new(
        inner: tower::retry::future::ResponseFuture<RetryPolicy, BoxErrors<S>, Request<B>>,
    ) -> Self {
        ResponseFuture {
            inner: Box::pin(inner),
            _body: PhantomData,
        }
    }
}

impl<S, B, ResB> Future for ResponseFuture<S, B, ResB>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.as_mut().poll(cx)
    }
}

impl<S, B, ResB> std::fmt::Debug for ResponseFuture<S, B, ResB>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
