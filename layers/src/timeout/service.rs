//! The services of [`TimeoutLayer`](super::TimeoutLayer) and
//! [`TotalTimeoutLayer`](super::TotalTimeoutLayer).

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tower_service::Service;

use super::body::{ReadTimeoutBody, TotalBody};
use super::future::{deadline_after, ResponseFuture, TotalResponseFuture};
use super::RequestTimeout;
use crate::ext::{AttemptTimeout, ReadTimeout};
use crate::BoxError;

/// A service with a per-attempt timeout (response head) and a read timeout (response body).
/// Built by [`TimeoutLayer`](super::TimeoutLayer).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Timeout<S> {
    /// Wrap `inner` with a `timeout` per attempt and per body read.
    pub fn new(inner: S, timeout: Duration) -> Self {
        Timeout { inner, timeout }
    }

    crate::inner_accessors!();
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Timeout<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    ResB: http_body::Body,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<ReadTimeoutBody<ResB>>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // A request's own limits replace the layer's: the attempt limit bounds the wait for the
        // head (the read limit does when only it is set), the read limit each body read.
        let ext = req.extensions();
        let attempt = ext.get::<AttemptTimeout>().map(|t| t.0);
        let read = ext.get::<ReadTimeout>().map(|t| t.0);
        let head = attempt.or(read).unwrap_or(self.timeout);
        let body = read.or(attempt).unwrap_or(self.timeout);
        ResponseFuture::new(self.inner.call(req), head, body)
    }
}

/// A service with a deadline for the whole call, response body included. Built by
/// [`TotalTimeoutLayer`](super::TotalTimeoutLayer).
#[derive(Debug, Clone)]
pub struct TotalTimeout<S> {
    inner: S,
    timeout: Option<Duration>,
}

impl<S> TotalTimeout<S> {
    /// Wrap `inner` with a total `timeout` per call (`None`: only per-request limits apply).
    pub fn new(inner: S, timeout: Option<Duration>) -> Self {
        TotalTimeout { inner, timeout }
    }

    crate::inner_accessors!();
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for TotalTimeout<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    ResB: http_body::Body,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<TotalBody<ResB>>;
    type Error = BoxError;
    type Future = TotalResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let timeout = req
            .extensions()
            .get::<RequestTimeout>()
            .map(|t| t.0)
            .or(self.timeout);
        let deadline = timeout.map(|t| (deadline_after(t), t));
        TotalResponseFuture::new(self.inner.call(req), deadline)
    }
}
