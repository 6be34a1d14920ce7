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

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tower::Service;

use crate::layers::{Delivery, DeliveryError};
use crate::limit::HostLimit;
use crate::BoxError;

/// What one connection saw, shared between its stream and the errors of requests sent on it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Probe(Arc<ProbeState>);

impl Probe {
    /// How far a request got whose exchange on this (HTTP/1.1) connection failed after hyper
    /// took it: the stale case when the connection had served an earlier exchange and nothing of
    /// this one's response came back.
    pub(crate) fn delivery_after_failure(&self) -> Delivery {
        if self.0.exchanges.load(Ordering::Acquire) > 1 && !self.0.answered.load(Ordering::Acquire)
        {
            Delivery::Stale
        } else {
            Delivery::MaybeProcessed
        }
    }
}

/// Wrap a connection made outside the pooled client (the forward-proxy pool) so that it is
/// tracked too.
pub(crate) fn track<T>(
    io: T,
    permit: Option<OwnedSemaphorePermit>,
) -> (TokioIo<Tracked<T>>, Probe) {
    let tracked = Tracked::wrap(io, permit);
    let probe = tracked.inner().probe.clone();
    (tracked, probe)
}

#[derive(Debug, Default)]
struct ProbeState {
    exchanges: AtomicU32,
    answered: AtomicBool,
}

/// Wraps a connector so that each connection it makes is [`Tracked`], and holds a slot of its
/// host's [`HostLimit`] while it is open.
#[derive(Clone, Debug)]
pub(crate) struct TrackedConnector<C> {
    inner: C,
    limit: Option<Arc<HostLimit>>,
}

impl<C> TrackedConnector<C> {
    pub(crate) fn new(inner: C, limit: Option<Arc<HostLimit>>) -> Self {
        TrackedConnector { inner, limit }
    }
}

type TrackedFuture<T> = Pin<Box<dyn Future<Output = Result<TokioIo<Tracked<T>>, BoxError>> + Send>>;

impl<C> Service<Uri> for TrackedConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send,
    C::Error: Into<BoxError>,
    C::Future: Send,
{
    type Response = TokioIo<Tracked<C::Response>>;
    type Error = BoxError;
    type Future = TrackedFuture<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(limit) = self.limit.clone() else {
            let connecting = self.inner.call(dst);
            return Box::pin(async move {
                let io = connecting.await.map_err(Into::into)?;
                Ok(Tracked::wrap(io, None))
            });
        };
        let mut inner = self.inner.clone();
        Box::pin(async move {
            let permit = limit.acquire(&dst).await;
            let io = inner.call(dst).await.map_err(Into::into)?;
            Ok(Tracked::wrap(io, Some(permit)))
        })
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
    /// This connection's slot under `pool_max_per_host`, given back when it closes.
    _permit: Option<OwnedSemaphorePermit>,
}

impl<T> Tracked<T> {
    fn wrap(io: T, permit: Option<OwnedSemaphorePermit>) -> TokioIo<Tracked<T>> {
        TokioIo::new(Tracked {
            io: TokioIo::new(io),
            probe: Probe::default(),
            reading: true,
            _permit: permit,
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
                extensions
                    .get::<Probe>()
                    .map_or(Delivery::MaybeProcessed, Probe::delivery_after_failure)
            }
            _ => Delivery::MaybeProcessed,
        },
    };
    Box::new(DeliveryError::new(delivery, err))
}
