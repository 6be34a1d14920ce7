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

use super::error::{redact_uri, RedirectError, TooManyRedirects};
use super::policy::{self, EffectiveUri, Fragment, History, Hop};
use crate::{BoxError, ReplayBody};

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
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        pub(crate) future: Either<S::Future, Oneshot<S, Request<B>>>,
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
        pub(crate) follow: bool,
    }
}

impl<S, B, ResB> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let mut res = ready!(this.future.as_mut().poll(cx)).map_err(Into::into)?;
            let status = res.status();
            let location = match res.headers().get(LOCATION) {
                Some(location) if *this.follow && policy::is_redirect(status) => location,
                _ => {
                    let ext = res.extensions_mut();
                    ext.insert(History(mem::take(this.history)));
                    ext.insert(EffectiveUri(redact_uri(this.uri)));
                    if let Some(fragment) = this.fragment.take() {
                        ext.insert(Fragment(fragment));
                    }
                    return Poll::Ready(Ok(res));
                }
            };
            if this.history.len() >= *this.max {
                return Poll::Ready(Err(TooManyRedirects {
                    max: *this.max,
                    last_uri: redact_uri(this.uri),
                }
                .into()));
            }
            let mut next =
                policy::resolve(location.as_bytes(), this.uri).map_err(|e| e as BoxError)?;
            match next.fragment() {
                Some(fragment) => *this.fragment = Some(fragment.to_string()),
                None => {
                    if let Some(fragment) = this.fragment.as_deref() {
                        next.set_fragment(Some(fragment));
                    }
                }
            }
            let next_uri =
                policy::url_to_uri(&next).map_err(|reason| RedirectError::InvalidLocation {
                    location: super::error::redact_str(next.as_str()),
                    uri: redact_uri(this.uri),
                    reason,
                })?;

            *this.method = policy::next_method(status, this.method);
            let body = if policy::drops_body(status) {
                policy::drop_body_headers(this.headers);
                *this.body = BodyState::Empty;
                B::empty_body()
            } else {
                match &*this.body {
                    BodyState::Replay(body) => match body.try_clone_body() {
                        Some(copy) => copy,
                        None => {
                            return Poll::Ready(Err(RedirectError::BodyNotReplayable {
                                status,
                                uri: redact_uri(this.uri),
                            }
                            .into()))
                        }
                    },
                    BodyState::Empty => B::empty_body(),
                    BodyState::NotReplayable => {
                        return Poll::Ready(Err(RedirectError::BodyNotReplayable {
                            status,
                            uri: redact_uri(this.uri),
                        }
                        .into()))
                    }
                }
            };
            // `uri` was absolute (resolve() checked), so it parses as a URL.
            if policy::uri_to_url(this.uri).is_none_or(|prev| policy::should_strip(&prev, &next)) {
                policy::strip_credentials(this.headers);
            }

            this.history.push(Hop {
                status,
                uri: redact_uri(this.uri),
                headers: mem::take(res.headers_mut()),
            });
            // The 3xx body is dropped unread.
            drop(res);

            *this.uri = next_uri;
            let mut req = Request::new(body);
            *req.method_mut() = this.method.clone();
            *req.uri_mut() = this.uri.clone();
            *req.version_mut() = *this.version;
            *req.headers_mut() = this.headers.clone();
            *req.extensions_mut() = this.extensions.clone();
            this.future
                .set(Either::Right(Oneshot::new(this.service.clone(), req)));
        }
    }
}
