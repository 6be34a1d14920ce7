//! The response future of [`BufferBody`](super::BufferBody): read the body (up to the limit),
//! then call the inner service.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::request::Parts;
use http::Request;
use http_body::{Body as _, Frame};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::{Body, BoxError};

pin_project! {
    /// Reads the request body (up to the limit), then calls the inner service.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<Body>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<Body>>,
    {
        Reading {
            inner: Option<S>,
            parts: Option<Parts>,
            body: Option<Pin<Box<B>>>,
            read: BytesMut,
            limit: usize,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<Body>>,
{
    pub(crate) fn new(inner: S, req: Request<B>, limit: usize) -> Self {
        let (parts, body) = req.into_parts();
        ResponseFuture {
            state: State::Reading {
                inner: Some(inner),
                parts: Some(parts),
                body: Some(Box::pin(body)),
                read: BytesMut::new(),
                limit,
            },
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<Body>>,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Buf + Send,
    B::Error: Into<BoxError>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Reading {
                    inner,
                    parts,
                    body,
                    read,
                    limit,
                } => {
                    let body = match ready!(read_up_to(cx, body, read, *limit))? {
                        Read::All(bytes) if bytes.is_empty() => Body::empty(),
                        Read::All(bytes) => Body::from(bytes),
                        Read::Prefix(prefix) => {
                            // Too long (or with trailers): what was read first, then the rest.
                            let rest = body.take().expect("the body is taken once");
                            Body::wrap(Prefixed { prefix, rest })
                        }
                    };
                    let parts = parts.take().expect("the request is sent once");
                    let mut service = inner.take().expect("the service is called once");
                    let future = service.call(Request::from_parts(parts, body));
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => {
                    return future.poll(cx).map_err(Into::into);
                }
            }
        }
    }
}

enum Read {
    /// The whole body.
    All(Bytes),
    /// The frames read before the body proved too long (or had trailers); the rest is still in
    /// the body.
    Prefix(VecDeque<Frame<Bytes>>),
}

/// Read `body` into `read` until it ends, or until it is longer than `limit` or has trailers.
fn read_up_to<B>(
    cx: &mut Context<'_>,
    body: &mut Option<Pin<Box<B>>>,
    read: &mut BytesMut,
    limit: usize,
) -> Poll<Result<Read, BoxError>>
where
    B: http_body::Body,
    B::Data: Buf,
    B::Error: Into<BoxError>,
{
    let Some(b) = body.as_mut() else {
        return Poll::Ready(Ok(Read::All(Bytes::new())));
    };
    loop {
        if b.is_end_stream() {
            *body = None;
            return Poll::Ready(Ok(Read::All(read.split().freeze())));
        }
        match ready!(b.as_mut().poll_frame(cx)) {
            None => {
                *body = None;
                return Poll::Ready(Ok(Read::All(read.split().freeze())));
            }
            Some(Err(e)) => return Poll::Ready(Err(e.into())),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(mut data) => {
                    let n = data.remaining();
                    read.extend_from_slice(&data.copy_to_bytes(n));
                    if read.len() > limit {
                        let prefix = VecDeque::from([Frame::data(read.split().freeze())]);
                        return Poll::Ready(Ok(Read::Prefix(prefix)));
                    }
                }
                Err(frame) => {
                    // Trailers cannot be kept in a buffered `Body`: send it all as a stream.
                    let trailers = frame.into_trailers().ok().map(Frame::trailers);
                    let data = Frame::data(read.split().freeze());
                    let prefix = std::iter::once(data).chain(trailers).collect();
                    return Poll::Ready(Ok(Read::Prefix(prefix)));
                }
            },
        }
    }
}

pin_project! {
    /// The frames read already, then the rest of the body.
    struct Prefixed<B> {
        prefix: VecDeque<Frame<Bytes>>,
        rest: Pin<Box<B>>,
    }
}

impl<B> http_body::Body for Prefixed<B>
where
    B: http_body::Body,
    B::Data: Buf,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if let Some(frame) = this.prefix.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        this.rest.as_mut().poll_frame(cx).map(|frame| {
            frame.map(|r| {
                r.map(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))
                    .map_err(Into::into)
            })
        })
    }
}
