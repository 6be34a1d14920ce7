//! Response bodies with a read timeout ([`ReadTimeoutBody`]) or a deadline ([`TotalBody`]).
//!
//! Written here rather than wrapping tower-http's `TimeoutBody` / `DeadlineBody`, which poll their
//! timer *before* the body: every frame then registers a timer in tokio's timer wheel (a lock)
//! and removes it again, even when the data is already there, and `DeadlineBody` boxes its
//! timer up front. Here the body is polled first and a timer is armed only when the body has to
//! wait; a read timer re-armed for a later deadline is an atomic update in tokio, not a
//! re-registration. The total deadline is also checked against the clock before each frame, so a
//! body that never waits still stops at its deadline. Errors are a typed
//! [`Elapsed`](super::Elapsed), and the wrapped body's `size_hint` / `is_end_stream` are kept.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{sleep_until, Instant, Sleep};

use super::error::{Elapsed, TimeoutKind};
use crate::BoxError;

/// What is left of the wrapped body, tracked from its initial `size_hint` and the frames read.
#[derive(Debug, Clone)]
struct Progress {
    hint: SizeHint,
    done: bool,
}

impl Progress {
    fn new<B: Body>(body: &B) -> Self {
        Progress {
            hint: body.size_hint(),
            done: body.is_end_stream(),
        }
    }

    fn observe<D: Buf, E>(&mut self, frame: &Option<Result<Frame<D>, E>>) {
        match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.remaining() as u64;
                    let mut hint = SizeHint::new();
                    hint.set_lower(self.hint.lower().saturating_sub(n));
                    if let Some(upper) = self.hint.upper() {
                        hint.set_upper(upper.saturating_sub(n).max(hint.lower()));
                    }
                    self.hint = hint;
                }
            }
            Some(Err(_)) | None => self.done = true,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.hint.upper() == Some(0)
    }
}

pin_project! {
    /// The response body of [`Timeout`](super::Timeout): fails with an [`Elapsed`](super::Elapsed) of kind
    /// [`TimeoutKind::Read`] when no frame arrives for longer than the timeout (requests' read
    /// timeout: the longest silence, not the whole transfer).
    pub struct ReadTimeoutBody<B> {
        #[pin]
        inner: B,
        // Boxed (only once the body first has to wait) so the body stays `Unpin` when `B` is.
        sleep: Option<Pin<Box<Sleep>>>,
        // Whether `sleep` counts from the current wait (false after every frame).
        armed: bool,
        timeout: Duration,
        progress: Progress,
    }
}

impl<B: Body> ReadTimeoutBody<B> {
    /// Wrap `body`; the timer starts at the first poll and restarts after every frame.
    pub fn new(timeout: Duration, body: B) -> Self {
        ReadTimeoutBody {
            progress: Progress::new(&body),
            inner: body,
            sleep: None,
            armed: false,
            timeout,
        }
    }
}

impl<B> Body for ReadTimeoutBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        if this.progress.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            *this.armed = false;
            this.progress.observe(&frame);
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let timeout = *this.timeout;
        if !*this.armed {
            *this.armed = true;
            let deadline = super::future::deadline_after(timeout);
            match this.sleep.as_mut() {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => *this.sleep = Some(Box::pin(sleep_until(deadline))),
            }
        }
        match this.sleep.as_mut().map(|s| s.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => {
                this.progress.done = true;
                Poll::Ready(Some(Err(Box::new(Elapsed::new(
                    TimeoutKind::Read,
                    timeout,
                )))))
            }
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.progress.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.progress.hint
    }
}

impl<B> std::fmt::Debug for ReadTimeoutBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTimeoutBody")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The response body of [`TotalTimeout`](super::TotalTimeout): the wrapped body as it is when
    /// no total timeout applies, otherwise bounded by the call's deadline (an [`Elapsed`](super::Elapsed) of kind
    /// [`TimeoutKind::Total`] once it passes).
    pub struct TotalBody<B> {
        #[pin]
        inner: TotalInner<B>,
    }
}

pin_project! {
    #[project = TotalInnerProj]
    enum TotalInner<B> {
        Unlimited {
            #[pin]
            body: B,
        },
        Deadline {
            #[pin]
            body: B,
            // Boxed (only once the body first has to wait) so the body stays `Unpin`.
            sleep: Option<Pin<Box<Sleep>>>,
            at: Instant,
            timeout: Duration,
            progress: Progress,
        },
    }
}

impl<B: Body> TotalBody<B> {
    /// `body` without a deadline.
    pub fn unlimited(body: B) -> Self {
        TotalBody {
            inner: TotalInner::Unlimited { body },
        }
    }

    /// `body` failing once `remaining` has passed (counted from now); `timeout` is the whole
    /// call's limit, reported in the [`Elapsed`](super::Elapsed).
    pub fn deadline(remaining: Duration, timeout: Duration, body: B) -> Self {
        TotalBody {
            inner: TotalInner::Deadline {
                progress: Progress::new(&body),
                body,
                sleep: None,
                at: super::future::deadline_after(remaining),
                timeout,
            },
        }
    }
}

impl<B> Body for TotalBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        match self.project().inner.project() {
            TotalInnerProj::Unlimited { body } => body.poll_frame(cx).map_err(Into::into),
            TotalInnerProj::Deadline {
                body,
                sleep,
                at,
                timeout,
                progress,
            } => {
                if progress.done {
                    return Poll::Ready(None);
                }
                let elapsed = |progress: &mut Progress| {
                    progress.done = true;
                    let err: BoxError = Box::new(Elapsed::new(TimeoutKind::Total, *timeout));
                    Poll::Ready(Some(Err(err)))
                };
                // A body that never has to wait still stops at the deadline.
                if Instant::now() >= *at {
                    return elapsed(progress);
                }
                if let Poll::Ready(frame) = body.poll_frame(cx) {
                    progress.observe(&frame);
                    return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
                }
                let sleep = sleep.get_or_insert_with(|| Box::pin(sleep_until(*at)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => elapsed(progress),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            TotalInner::Unlimited { body } => body.is_end_stream(),
            TotalInner::Deadline { progress, .. } => progress.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            TotalInner::Unlimited { body } => body.size_hint(),
            TotalInner::Deadline { progress, .. } => progress.hint,
        }
    }
}

impl<B> std::fmt::Debug for TotalBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            TotalInner::Unlimited { .. } => f.write_str("TotalBody::Unlimited"),
            TotalInner::Deadline { timeout, .. } => f
                .debug_struct("TotalBody::Deadline")
                .field("timeout", timeout)
                .finish_non_exhaustive(),
        }
    }
}
