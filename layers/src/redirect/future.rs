//! The response future of [`FollowRedirect`](super::FollowRedirect).

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_util::future::Either;
use http::header::LOCATION;
use http::{Extensions, HeaderMap, Method, Request, Response, Uri, Version};
use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower_service::Service;

use super::error::{RedirectError, TooManyRedirects};
use super::policy::{Action, Attempt, Policy, Standard};
use super::rules::{self, EffectiveUri, Fragment, History, Hop, OriginalUri};
use crate::body::Drain;
use crate::redact::uri as redact_uri;
use crate::{BoxError, ReplayBody};

/// The body type of a response: names the body a redirect future keeps while draining it.
pub trait ResponseBody: sealed::Sealed {
    /// The body.
    type Body;
}

impl<T> ResponseBody for Response<T> {
    type Body = T;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for http::Response<T> {}
}

pub(crate) enum BodyState<B> {
    /// A copy of the original body, to replay on 307/308.
    Replay(B),
    /// The body was dropped by a 301/302/303 (or never needed).
    Empty,
    /// The original body is a stream: a 307/308 is an error.
    NotReplayable,
}

pin_project! {
    /// Resolves to the final response of the redirect chain.
    pub struct ResponseFuture<S, B, P = Standard>
    where
        S: Service<Request<B>>,
        S::Response: ResponseBody,
    {
        // A hop's call is boxed: most calls never redirect, and the future stays small.
        #[pin]
        pub(crate) future: Either<S::Future, Pin<Box<Oneshot<S, Request<B>>>>>,
        // The body of the 3xx just followed, read to its end before the next hop is sent.
        pub(crate) drain: Drain<<S::Response as ResponseBody>::Body>,
        // What a next hop needs, in one box: it keeps this future (and every future above it)
        // small, which is cheaper than moving several hundred bytes at every level.
        // `None` when the call follows no redirect.
        pub(crate) state: Option<Box<Hops<S, B, P>>>,
    }
}

/// The request as it stands (for the next hop) and the chain so far.
pub(crate) struct Hops<S, B, P> {
    pub(crate) service: S,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) extensions: Extensions,
    pub(crate) body: BodyState<B>,
    pub(crate) fragment: Option<String>,
    pub(crate) history: Vec<Hop>,
    pub(crate) max: usize,
    pub(crate) policy: P,
}

impl<S, B, P> Hops<S, B, P> {
    /// The response is the answer: only a redirected one says where it ended. Without a hop
    /// the final URI is the request's own, and the four allocations of these extensions would
    /// be paid by every call for nothing.
    fn finish<ResB>(&mut self, mut res: Response<ResB>) -> Response<ResB> {
        if !self.history.is_empty() {
            let ext = res.extensions_mut();
            ext.insert(History(mem::take(&mut self.history)));
            ext.insert(EffectiveUri(redact_uri(&self.uri)));
            if let Some(fragment) = self.fragment.take() {
                ext.insert(Fragment(fragment));
            }
        }
        res
    }
}

impl<S, B, P, ResB> Future for ResponseFuture<S, B, P>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    P: Policy,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(st) = this.state.as_deref_mut() else {
            // Redirects off: the response, whatever it is, is the answer.
            return this.future.as_mut().poll(cx).map_err(Into::into);
        };
        loop {
            ready!(this.drain.poll(cx));
            let mut res = ready!(this.future.as_mut().poll(cx)).map_err(Into::into)?;
            let status = res.status();
            let location = match res.headers().get(LOCATION) {
                // An empty Location is no redirect: the 3xx is the answer (as requests does).
                Some(location)
                    if rules::is_redirect(status)
                        && !location.as_bytes().trim_ascii().is_empty() =>
                {
                    location
                }
                _ => return Poll::Ready(Ok(st.finish(res))),
            };
            if st.history.len() >= st.max {
                return Poll::Ready(Err(TooManyRedirects {
                    max: st.max,
                    last_uri: redact_uri(&st.uri),
                    status,
                    headers: res.headers().clone(),
                }
                .into()));
            }
            let mut next =
                rules::resolve(location.as_bytes(), &st.uri).map_err(|e| e as BoxError)?;
            let next_uri =
                crate::origin::to_uri(&next).map_err(|e| RedirectError::InvalidLocation {
                    location: crate::redact::userinfo(next.as_str()).into_owned(),
                    uri: redact_uri(&st.uri),
                    reason: e.to_string(),
                })?;
            let attempt = Attempt {
                status,
                method: &st.method,
                previous: &st.uri,
                location: &next_uri,
                headers: res.headers(),
                followed: st.history.len(),
            };
            match st.policy.redirect(&attempt) {
                Ok(Action::Follow) => {}
                Ok(Action::Stop) => return Poll::Ready(Ok(st.finish(res))),
                Err(source) => {
                    return Poll::Ready(Err(RedirectError::Rejected {
                        location: redact_uri(&next_uri),
                        source,
                    }
                    .into()))
                }
            }
            let keep_credentials = st.policy.keep_credentials(&attempt);
            match next.fragment() {
                Some(fragment) => st.fragment = Some(fragment.to_string()),
                None => {
                    if let Some(fragment) = st.fragment.as_deref() {
                        next.set_fragment(Some(fragment));
                    }
                }
            }

            st.method = rules::next_method(status, &st.method);
            let body = if rules::drops_body(status) {
                rules::drop_body_headers(&mut st.headers);
                st.body = BodyState::Empty;
                B::empty_body()
            } else {
                match &st.body {
                    BodyState::Replay(body) => match body.try_clone_body() {
                        Some(copy) => copy,
                        None => {
                            return Poll::Ready(Err(RedirectError::BodyNotReplayable {
                                status,
                                uri: redact_uri(&st.uri),
                            }
                            .into()))
                        }
                    },
                    BodyState::Empty => B::empty_body(),
                    BodyState::NotReplayable => {
                        return Poll::Ready(Err(RedirectError::BodyNotReplayable {
                            status,
                            uri: redact_uri(&st.uri),
                        }
                        .into()))
                    }
                }
            };
            if !keep_credentials {
                rules::strip_credentials(&mut st.headers);
            }

            st.history.push(Hop {
                status,
                uri: redact_uri(&st.uri),
                headers: mem::take(res.headers_mut()),
            });
            // The 3xx body is read to its end (below, before the next hop is polled) when it
            // is short and comes quickly, so that its connection can be reused
            // (`crate::body::MAX_DRAIN`, `DrainTimeout`); else it is dropped unread.
            this.drain.start_response(res);

            // Hops carry the call's first URI (the first request's own URI is the original, so it
            // needs none: no extension map to allocate and copy on calls that never redirect).
            if st.extensions.get::<OriginalUri>().is_none() {
                st.extensions.insert(OriginalUri(st.uri.clone()));
            }
            st.uri = next_uri;
            let mut req = Request::new(body);
            *req.method_mut() = st.method.clone();
            *req.uri_mut() = st.uri.clone();
            *req.version_mut() = st.version;
            *req.headers_mut() = st.headers.clone();
            *req.extensions_mut() = st.extensions.clone();
            this.future.set(Either::Right(Box::pin(Oneshot::new(
                st.service.clone(),
                req,
            ))));
        }
    }
}
