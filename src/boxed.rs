//! [`BoxService`]: the one type every stack is boxed into (the session's own stack, a mounted
//! transport, a user's layer), and [`box_service`] to make one.
//!
//! Its own module so that the session (which holds boxed stacks) and the stack assembly (which
//! boxes them) both depend on it and not on each other.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use tower::{Service, ServiceExt};

use crate::{Body, BoxError};

/// The type every stack is boxed into: what
/// [`Session::from_service`](crate::Session::from_service) and
/// [`SessionBuilder::mount`](crate::SessionBuilder::mount) accept once boxed, and what
/// [`SessionBuilder::layer`](crate::SessionBuilder::layer) wraps.
///
/// Unlike `tower::util::BoxCloneSyncService`, cloning it is a reference-count increment, not an
/// allocation plus a clone of the whole stack: the session clones its stack for every call (and
/// the redirect and retry layers keep a clone for their next attempt), so each boxed level used
/// to cost an allocation per clone. The service is shared behind an `Arc`; each call clones it
/// there and drives the clone with `oneshot` (readiness first, then the call), so
/// [`poll_ready`](Service::poll_ready) is always ready and a layer's back-pressure (a
/// concurrency limit, say) is waited for inside the returned future, as `tower::buffer` does.
#[derive(Clone)]
pub struct BoxService {
    inner: Arc<dyn ErasedService>,
}

/// The future of a [`BoxService`] call.
pub type BoxServiceFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

trait ErasedService: Send + Sync {
    fn call(&self, req: Request<Body>) -> BoxServiceFuture;
}

struct Erased<S>(S);

impl<S, ResB> ErasedService for Erased<S>
where
    S: Service<Request<Body>, Response = http::Response<ResB>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    fn call(&self, req: Request<Body>) -> BoxServiceFuture {
        let mut svc = self.0.clone();
        // Most stacks are ready at once (every layer here is): ask with a no-op waker, and if
        // so call now and box only the call's future, not a `Oneshot` that carries a copy of
        // the whole stack and moves the (large) nested future into place when first polled.
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        match svc.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => Box::pin(IntoBody {
                inner: svc.call(req),
            }),
            Poll::Ready(Err(e)) => Box::pin(std::future::ready(Err(e.into()))),
            // Not ready: wait for readiness inside the future, with the task's waker.
            Poll::Pending => Box::pin(IntoBody {
                inner: svc.oneshot(req),
            }),
        }
    }
}

pin_project_lite::pin_project! {
    /// A call's future with the response body turned into [`Body`] and the error boxed.
    struct IntoBody<F> {
        #[pin]
        inner: F,
    }
}

impl<F, ResB, E> Future for IntoBody<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
    E: Into<BoxError>,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.poll(cx) {
            Poll::Ready(Ok(resp)) => Poll::Ready(Ok(resp.map(Body::new))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The pooled client needs no `&mut self` to send and is always ready: called in place, with no
/// clone per call.
struct SharedClient(crate::HttpClient);

impl ErasedService for SharedClient {
    fn call(&self, req: Request<Body>) -> BoxServiceFuture {
        Box::pin(self.0.send(req))
    }
}

impl BoxService {
    /// The session's own client, boxed without the per-call clone a generic service needs.
    pub(crate) fn client(client: crate::HttpClient) -> BoxService {
        BoxService {
            inner: Arc::new(SharedClient(client)),
        }
    }

    /// Box `service` (response bodies turned into [`Body`]); the same as [`box_service`].
    pub fn new<S, ResB>(service: S) -> BoxService
    where
        S: Service<Request<Body>, Response = http::Response<ResB>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        ResB: http_body::Body<Data = Bytes> + Send + 'static,
        ResB::Error: Into<BoxError>,
    {
        BoxService {
            inner: Arc::new(Erased(service)),
        }
    }

    /// Call without needing `&mut self` (the service is always ready).
    pub(crate) fn call_shared(&self, req: Request<Body>) -> BoxServiceFuture {
        self.inner.call(req)
    }
}

impl Service<Request<Body>> for BoxService {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxServiceFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.inner.call(req)
    }
}

impl fmt::Debug for BoxService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxService").finish_non_exhaustive()
    }
}

/// Box any HTTP service into a [`BoxService`] (response bodies turned into [`Body`]).
pub fn box_service<S, ResB>(service: S) -> BoxService
where
    S: Service<Request<Body>, Response = http::Response<ResB>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    BoxService::new(service)
}
