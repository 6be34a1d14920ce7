//! The response future of [`AuthService`](super::AuthService).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::{request, response, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower_service::Service;

use super::error::AuthError;
use super::origin::Origin;
use super::scheme::{BoxFuture, Scheme};
use crate::body::Drain;
use crate::{BoxError, ReplayBody};

pin_project! {
    #[project = StateProj]
    pub(crate) enum State<F, O, B, ResB> {
        // Custom: waiting for `Auth::authorize` before the first send.
        Authorizing {
            fut: BoxFuture<Result<request::Parts, BoxError>>,
            body: Option<B>,
        },
        Calling {
            #[pin]
            fut: F,
        },
        // Custom: waiting for `Auth::on_unauthorized`.
        Hook {
            fut: BoxFuture<Result<(response::Parts, bool), BoxError>>,
            body: Option<ResB>,
        },
        // Custom: `Auth::authorize` again before the resend.
        Reauthorizing {
            fut: BoxFuture<Result<request::Parts, BoxError>>,
        },
        Resending {
            #[pin]
            fut: O,
        },
        Failed {
            error: Option<BoxError>,
        },
    }
}

pin_project! {
    /// Resolves to the response (after at most one authenticated resend).
    ///
    /// A call that cannot resend (no credentials for this origin, the request's own, Basic,
    /// Bearer) is just the inner future; the state a digest or custom scheme needs to resend
    /// lives in one box, so those schemes do not make every call's future (and every future
    /// above it) several hundred bytes larger.
    pub struct ResponseFuture<S, B, ResB>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        kind: Kind<S, B, ResB>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, B, ResB>
    where
        S: Service<Request<B>>,
    {
        Plain {
            #[pin]
            fut: S::Future,
        },
        Failed {
            error: Option<BoxError>,
        },
        Resending {
            fut: Pin<Box<Challenge<S, B, ResB>>>,
        },
    }
}

pin_project! {
    /// The state of a call whose scheme may resend after a 401.
    struct Challenge<S, B, ResB>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S::Future, Oneshot<S, Request<B>>, B, ResB>,
        // Only for schemes that may resend (Digest, custom).
        service: Option<S>,
        scheme: Option<Scheme>,
        // The origin of this request (Digest keeps one challenge per origin).
        target: Option<Origin>,
        // The request head before credentials were added, and a copy of its body.
        pre: Option<request::Parts>,
        replay: Option<B>,
        // Custom: the head as sent, for `on_unauthorized`.
        sent: Option<request::Parts>,
        // The body of the answered 401, read to its end before the resend is sent.
        drain: Drain<ResB>,
    }
}

impl<S, B, ResB> ResponseFuture<S, B, ResB>
where
    S: Service<Request<B>>,
{
    pub(crate) fn plain(fut: S::Future) -> Self {
        ResponseFuture {
            kind: Kind::Plain { fut },
        }
    }

    pub(crate) fn failed(error: BoxError) -> Self {
        ResponseFuture {
            kind: Kind::Failed { error: Some(error) },
        }
    }

    pub(crate) fn new(
        state: State<S::Future, Oneshot<S, Request<B>>, B, ResB>,
        service: S,
        scheme: Scheme,
        target: Option<Origin>,
        pre: Option<request::Parts>,
        replay: Option<B>,
    ) -> Self {
        ResponseFuture {
            kind: Kind::Resending {
                fut: Box::pin(Challenge {
                    state,
                    service: Some(service),
                    scheme: Some(scheme),
                    target,
                    pre,
                    replay,
                    sent: None,
                    drain: Drain::default(),
                }),
            },
        }
    }
}

fn provider(source: BoxError) -> BoxError {
    AuthError::Provider { source }.into()
}

fn gone() -> BoxError {
    // Unreachable by construction; an error rather than a panic all the same.
    "auth future polled in an invalid state".into()
}

impl<S, B, ResB> Future for ResponseFuture<S, B, ResB>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Plain { fut } => fut.poll(cx).map_err(Into::into),
            KindProj::Failed { error } => Poll::Ready(Err(error.take().unwrap_or_else(gone))),
            KindProj::Resending { fut } => fut.as_mut().poll(cx),
        }
    }
}

impl<S, B, ResB> Future for Challenge<S, B, ResB>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Failed { error } => {
                    return Poll::Ready(Err(error.take().unwrap_or_else(gone)));
                }
                StateProj::Resending { fut } => {
                    ready!(this.drain.poll(cx));
                    return fut.poll(cx).map_err(Into::into);
                }
                StateProj::Authorizing { fut, body } => {
                    let parts = ready!(fut.as_mut().poll(cx)).map_err(provider)?;
                    let body = body.take().ok_or_else(gone)?;
                    *this.sent = Some(parts.clone());
                    let service = this.service.as_mut().ok_or_else(gone)?;
                    State::Calling {
                        fut: service.call(Request::from_parts(parts, body)),
                    }
                }
                StateProj::Calling { fut } => {
                    let res = ready!(fut.poll(cx)).map_err(Into::into)?;
                    if res.status() != StatusCode::UNAUTHORIZED {
                        return Poll::Ready(Ok(res));
                    }
                    match this.scheme.as_ref() {
                        Some(Scheme::Digest(digest)) => {
                            if !digest.on_unauthorized(this.target, res.headers()) {
                                return Poll::Ready(Ok(res));
                            }
                            let (Some(mut parts), Some(body), Some(service)) =
                                (this.pre.take(), this.replay.take(), this.service.take())
                            else {
                                return Poll::Ready(Ok(res));
                            };
                            if !digest.authorize(this.target, &mut parts) {
                                return Poll::Ready(Ok(res));
                            }
                            // The 401's body is read to its end before the resend when it
                            // is short (`crate::body::MAX_DRAIN`), else dropped unread.
                            this.drain.start_response(res);
                            State::Resending {
                                fut: Oneshot::new(service, Request::from_parts(parts, body)),
                            }
                        }
                        Some(Scheme::Custom(auth)) => {
                            let Some(sent) = this.sent.take() else {
                                return Poll::Ready(Ok(res));
                            };
                            let (head, body) = res.into_parts();
                            State::Hook {
                                fut: auth.clone().unauthorized_boxed(sent, head),
                                body: Some(body),
                            }
                        }
                        _ => return Poll::Ready(Ok(res)),
                    }
                }
                StateProj::Hook { fut, body } => {
                    let (head, resend) = ready!(fut.as_mut().poll(cx)).map_err(provider)?;
                    let body = body.take().ok_or_else(gone)?;
                    match (
                        resend,
                        this.replay.is_some(),
                        this.pre.take(),
                        this.scheme.as_ref(),
                    ) {
                        (true, true, Some(pre), Some(Scheme::Custom(auth))) => {
                            this.drain.start(body);
                            State::Reauthorizing {
                                fut: auth.clone().authorize_boxed(pre),
                            }
                        }
                        _ => return Poll::Ready(Ok(Response::from_parts(head, body))),
                    }
                }
                StateProj::Reauthorizing { fut } => {
                    let parts = ready!(fut.as_mut().poll(cx)).map_err(provider)?;
                    let body = this.replay.take().ok_or_else(gone)?;
                    let service = this.service.take().ok_or_else(gone)?;
                    State::Resending {
                        fut: Oneshot::new(service, Request::from_parts(parts, body)),
                    }
                }
            };
            this.state.set(next);
        }
    }
}
