//! Response bodies with a read timeout ([`ReadTimeoutBody`]) or a deadline ([`TotalBody`]).
//!
//! The timers are tower-http's [`TimeoutBody`] (reset at every frame) and [`DeadlineBody`]
//! (absolute). These wrappers only turn tower-http's opaque `TimeoutError` into a typed
//! [`Elapsed`](super::Elapsed) and keep the wrapped body's `size_hint`/`is_end_stream`, which tower-http's
//! `TimeoutBody` does not forward.

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_http::timeout::{DeadlineBody, TimeoutBody};

use super::error::{map_body_error, TimeoutKind};
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
        inner: TimeoutBody<B>,
        timeout: Duration,
        progress: Progress,
    }
}

impl<B: Body> ReadTimeoutBody<B> {
    /// Wrap `body`; the timer starts at the first poll and restarts after every frame.
    pub fn new(timeout: Duration, body: B) -> Self {
        ReadTimeoutBody {
            progress: Progress::new(&body),
            inner: TimeoutBody::new(timeout, body),
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
        let frame = ready!(this.inner.poll_frame(cx));
        this.progress.observe(&frame);
        let timeout = *this.timeout;
        Poll::Ready(frame.map(|r| r.map_err(|e| map_body_error(e, TimeoutKind::Read, timeout))))
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
            body: DeadlineBody<B>,
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
                body: DeadlineBody::new(remaining, body),
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
                timeout,
                progress,
            } => {
                if progress.done {
                    return Poll::Ready(None);
                }
                let frame = ready!(body.poll_frame(cx));
                progress.observe(&frame);
                let timeout = *timeout;
                Poll::Ready(
                    frame.map(|r| r.map_err(|e| map_body_error(e, TimeoutKind::Total, timeout))),
                )
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
