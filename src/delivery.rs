//! How far a failed request got, for the resend rule (see
//! [`tower_requests::layers::delivery`](crate::layers::delivery)).
//!
//! hyper-util's pooled client does not say whether the connection under a failed request was a
//! reused keep-alive one, nor whether any byte of the response had arrived. Both are needed to
//! tell the stale keep-alive case (safe to resend an idempotent request) from a server that read
//! the request and then dropped it (not safe). So every connection is wrapped in a [`Tracked`]
//! stream that watches the plaintext bytes (above TLS) and shares what it saw with the client's
//! errors through hyper-util's `Connected::extra`:
//! - an *exchange* starts with the first byte written after a read (HTTP/1.1 writes a request,
//!   then reads its response): the second exchange on a connection is a request on a reused one;
//! - *answered*: a byte was read since the current exchange started.
//!
//! HTTP/2 interleaves streams on one connection, so only hyper's own "canceled" counts there.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::Service;

use crate::layers::{Delivery, DeliveryError};
use crate::BoxError;

/// What one connection saw, shared between its stream and the errors of requests sent on it.
#[derive(Clone, Debug, Default)]
struct Probe(Arc<ProbeState>);

#[derive(Debug, Default)]
struct ProbeState {
    exchanges: AtomicU32,
    answered: AtomicBool,
}

/// Wraps a connector so that each connection it makes is [`Tracked`].
#[derive(Clone, Debug)]
pub(crate) struct TrackedConnector<C> {
    inner: C,
}

impl<C> TrackedConnector<C> {
    pub(crate) fn new(inner: C) -> Self {
        TrackedConnector { inner }
    }
}

impl<C> Service<Uri> for TrackedConnector<C>
where
    C: Service<Uri>,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin,
{
    type Response = TokioIo<Tracked<C::Response>>;
    type Error = C::Error;
    type Future = futures_util::future::MapOk<C::Future, fn(C::Response) -> Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        use futures_util::TryFutureExt;
        self.inner.call(dst).map_ok(Tracked::wrap)
    }
}

/// A connection whose plaintext reads and writes are watched (see the module docs).
#[derive(Debug)]
pub(crate) struct Tracked<T> {
    io: TokioIo<T>,
    probe: Probe,
    /// The last data seen on this connection was read (or nothing was seen yet): the next write
    /// starts an exchange.
    reading: bool,
}

impl<T> Tracked<T> {
    fn wrap(io: T) -> TokioIo<Tracked<T>> {
        TokioIo::new(Tracked {
            io: TokioIo::new(io),
            probe: Probe::default(),
            reading: true,
        })
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 && self.reading {
            self.reading = false;
            let state = &self.probe.0;
            state.answered.store(false, Ordering::Relaxed);
            state.exchanges.fetch_add(1, Ordering::Release);
        }
    }
}

impl<T: Connection + hyper::rt::Read + hyper::rt::Write> Connection for Tracked<T> {
    fn connected(&self) -> Connected {
        self.io.inner().connected().extra(self.probe.clone())
    }
}

impl<T: hyper::rt::Read + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.reading = true;
            self.probe.0.answered.store(true, Ordering::Release);
        }
        poll
    }
}

impl<T: hyper::rt::Write + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.wrote(n);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            self.wrote(n);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Tag a client error with how far its request got. Errors that are not transport failures
/// (connect errors, our own request errors) are returned unchanged.
pub(crate) fn tag(err: hyper_util::client::legacy::Error) -> BoxError {
    if err.is_connect() {
        return Box::new(err);
    }
    let hyper = std::iter::successors(
        std::error::Error::source(&err),
        |e: &&(dyn std::error::Error + 'static)| e.source(),
    )
    .find_map(|e| e.downcast_ref::<hyper::Error>());
    let delivery = match hyper {
        // hyper's own errors about the request we gave it (a bad header, a body error).
        Some(h) if h.is_user() => return Box::new(err),
        // The request was handed back unsent.
        Some(h) if h.is_canceled() => Delivery::NotSent,
        _ => match err.connect_info() {
            Some(info) if !info.is_negotiated_h2() => {
                let mut extensions = http::Extensions::new();
                info.get_extras(&mut extensions);
                match extensions.get::<Probe>() {
                    Some(probe)
                        if probe.0.exchanges.load(Ordering::Acquire) > 1
                            && !probe.0.answered.load(Ordering::Acquire) =>
                    {
                        Delivery::Stale
                    }
                    _ => Delivery::MaybeProcessed,
                }
            }
            _ => Delivery::MaybeProcessed,
        },
    };
    Box::new(DeliveryError::new(delivery, err))
}
