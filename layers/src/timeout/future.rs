//! Response futures of the timeout services.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Response;
use pin_project_lite::pin_project;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::body::DrainTimeout;

use super::body::{ReadTimeoutBody, TotalBody};
use super::error::{Elapsed, TimeoutKind};
use crate::BoxError;

pin_project! {
    /// Response future of [`Timeout`](super::Timeout): the inner response (its body wrapped in a
    /// [`ReadTimeoutBody`]) or an [`Elapsed`] of kind [`TimeoutKind::Attempt`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // Armed at the first poll that has to wait, for `deadline`.
        #[pin]
        sleep: Option<Sleep>,
        deadline: Instant,
        // The limit until the head, and for each body read.
        timeout: Duration,
        read: Duration,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, timeout: Duration, read: Duration) -> Self {
        ResponseFuture {
            inner,
            sleep: None,
            deadline: deadline_after(timeout),
            timeout,
            read,
        }
    }
}

/// `now + timeout`, or about 30 years from now when that cannot be represented (no limit in
/// practice).
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Into<BoxError>,
    ResB: http_body::Body,
{
    type Output = Result<Response<ReadTimeoutBody<ResB>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let timeout = *this.read;
            return Poll::Ready(
                result
                    .map(|mut resp| {
                        // A layer above that drains this body unused waits no longer.
                        resp.extensions_mut().insert(DrainTimeout(timeout));
                        resp.map(|body| ReadTimeoutBody::new(timeout, body))
                    })
                    .map_err(Into::into),
            );
        }
        if this.sleep.is_none() {
            this.sleep.set(Some(sleep_until(*this.deadline)));
        }
        match this.sleep.as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(Box::new(Elapsed::new(
                TimeoutKind::Attempt,
                *this.timeout,
            )))),
            _ => Poll::Pending,
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// Response future of [`TotalTimeout`](super::TotalTimeout): the inner response (its body
    /// bounded by the same deadline) or an [`Elapsed`] of kind [`TimeoutKind::Total`].
    pub struct TotalResponseFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        deadline: Option<(Instant, Duration)>,
    }
}

impl<F> TotalResponseFuture<F> {
    pub(crate) fn new(inner: F, deadline: Option<(Instant, Duration)>) -> Self {
        TotalResponseFuture {
            inner,
            sleep: None,
            deadline,
        }
    }
}

impl<F, ResB, E> Future for TotalResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Into<BoxError>,
    ResB: http_body::Body,
{
    type Output = Result<Response<TotalBody<ResB>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let deadline = *this.deadline;
            return Poll::Ready(
                result
                    .map(|resp| {
                        resp.map(|body| match deadline {
                            Some((at, timeout)) => TotalBody::deadline(
                                at.saturating_duration_since(Instant::now()),
                                timeout,
                                body,
                            ),
                            None => TotalBody::unlimited(body),
                        })
                    })
                    .map_err(Into::into),
            );
        }
        let Some((at, timeout)) = *this.deadline else {
            return Poll::Pending;
        };
        if this.sleep.is_none() {
            this.sleep.set(Some(sleep_until(at)));
        }
        match this.sleep.as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => {
                Poll::Ready(Err(Box::new(Elapsed::new(TimeoutKind::Total, timeout))))
            }
            _ => Poll::Pending,
        }
    }
}

impl<F> std::fmt::Debug for TotalResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotalResponseFuture")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
