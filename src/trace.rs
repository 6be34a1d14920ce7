//! Tracing (feature `tracing`): one span per call, made by the [`Session`](crate::Session), and
//! one per attempt, made by [`TraceAttemptLayer`] just above the client (under the retry and
//! redirect layers, so it sees every retry and every redirect hop).
//!
//! Fields: `method`, `url` (never with user name or password; the query is kept), `status`;
//! attempts also carry `hop` (0 for the first URL, 1 after the first redirect, ...) and
//! `attempt` (1 for the first try at that URL, 2 for the first retry, ...). Header values are
//! never recorded, so credentials cannot reach a log.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Request, Response, Uri};
use tower::{Layer, Service};
use tracing::Span;

/// Request extension shared by every attempt of one call: counts hops and attempts.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallTrace(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    last: Option<Uri>,
    hop: u32,
    attempt: u32,
}

impl CallTrace {
    /// (hop, attempt) for an attempt at `uri`.
    fn next(&self, uri: &Uri) -> (u32, u32) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &c.last {
            Some(last) if last == uri => c.attempt += 1,
            Some(_) => {
                c.hop += 1;
                c.attempt = 1;
            }
            None => c.attempt = 1,
        }
        c.last = Some(uri.clone());
        (c.hop, c.attempt)
    }
}

/// A URI as text without any user information.
pub(crate) fn safe_uri(uri: &Uri) -> String {
    crate::layers::redact::uri(uri).to_string()
}

/// The span of a whole call (`status` recorded when the response head arrives).
pub(crate) fn call_span<B>(req: &mut Request<B>) -> Span {
    req.extensions_mut().insert(CallTrace::default());
    tracing::info_span!(
        "http.request",
        method = %req.method(),
        url = %safe_uri(req.uri()),
        status = tracing::field::Empty,
    )
}

/// Adds a span per attempt; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceAttemptLayer;

impl<S> Layer<S> for TraceAttemptLayer {
    type Service = TraceAttempt<S>;
    fn layer(&self, inner: S) -> TraceAttempt<S> {
        TraceAttempt { inner }
    }
}

/// The service of [`TraceAttemptLayer`].
#[derive(Clone, Debug)]
pub struct TraceAttempt<S> {
    inner: S,
}

impl<S, B, ResB> Service<Request<B>> for TraceAttempt<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = AttemptFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (hop, attempt) = match req.extensions().get::<CallTrace>() {
            Some(trace) => trace.next(req.uri()),
            None => (0, 1),
        };
        let span = tracing::debug_span!(
            "http.attempt",
            method = %req.method(),
            url = %safe_uri(req.uri()),
            hop,
            attempt,
            status = tracing::field::Empty,
        );
        let inner = span.in_scope(|| self.inner.call(req));
        AttemptFuture { inner, span }
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`TraceAttempt`].
    pub struct AttemptFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F, ResB, E> Future for AttemptFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _enter = this.span.enter();
        let out = std::task::ready!(this.inner.poll(cx));
        match &out {
            Ok(resp) => {
                this.span.record("status", resp.status().as_u16());
            }
            Err(_) => {
                this.span.record("status", "error");
            }
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_never_in_urls() {
        let uri: Uri = "http://alice:s3cret@example.com:8080/p?q=1"
            .parse()
            .unwrap();
        assert_eq!(safe_uri(&uri), "http://example.com:8080/p?q=1");
        let plain: Uri = "https://example.com/x".parse().unwrap();
        assert_eq!(safe_uri(&plain), "https://example.com/x");
    }

    #[test]
    fn hops_and_attempts_are_counted() {
        let trace = CallTrace::default();
        let a: Uri = "http://a/1".parse().unwrap();
        let b: Uri = "http://a/2".parse().unwrap();
        assert_eq!(trace.next(&a), (0, 1));
        assert_eq!(trace.next(&a), (0, 2));
        assert_eq!(trace.next(&b), (1, 1));
        assert_eq!(trace.next(&b), (1, 2));
    }
}
