//! [`FollowRedirect`] service.

use std::mem;
use std::task::{Context, Poll};

use futures_util::future::Either;
use http::{Request, Response};
use tower_service::Service;

use super::future::{BodyState, Hops, ResponseFuture};
use super::policy::{Policy, Standard};
use super::rules::Fragment;
use crate::ext::Redirects;
use crate::{BoxError, ReplayBody};

/// The service made by [`FollowRedirectLayer`](super::FollowRedirectLayer).
#[derive(Clone, Debug)]
pub struct FollowRedirect<S, P = Standard> {
    pub(crate) inner: S,
    pub(crate) max: usize,
    pub(crate) follow: bool,
    pub(crate) policy: P,
}

impl<S, P> FollowRedirect<S, P> {
    crate::inner_accessors!();
}

impl<S, P, B, ResB> Service<Request<B>> for FollowRedirect<S, P>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    P: Policy + Clone,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B, P>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (follow, max) = match req.extensions().get::<Redirects>() {
            Some(Redirects::Max(max)) => (true, *max),
            Some(Redirects::Follow) => (true, self.max),
            Some(Redirects::Off) => (false, self.max),
            None => (self.follow, self.max),
        };
        if !follow {
            // Nothing to follow: no copy of the request, of the service or of any state.
            return ResponseFuture {
                future: Either::Left(self.inner.call(req)),
                drain: Default::default(),
                state: None,
            };
        }
        // The readied service takes this request; a fresh clone stays for the next call.
        let clone = self.inner.clone();
        let mut service = mem::replace(&mut self.inner, clone);
        let fragment = req.extensions().get::<Fragment>().map(|f| f.0.clone());
        let body = match req.body().try_clone_body() {
            Some(body) => BodyState::Replay(body),
            None => BodyState::NotReplayable,
        };
        let (headers, extensions) = (req.headers().clone(), req.extensions().clone());
        let (method, uri, version) = (req.method().clone(), req.uri().clone(), req.version());
        ResponseFuture {
            future: Either::Left(service.call(req)),
            drain: Default::default(),
            state: Some(Box::new(Hops {
                method,
                uri,
                version,
                service,
                headers,
                extensions,
                body,
                fragment,
                history: Vec::new(),
                max,
                policy: self.policy.clone(),
            })),
        }
    }
}
