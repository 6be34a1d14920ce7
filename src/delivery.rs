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
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
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
        if self.0.refused.load(Ordering::Acquire) {
            // The idle limit closed the connection before this request's first byte.
            Delivery::NotSent
        } else if self.0.exchanges.load(Ordering::Acquire) > 1
            && !self.0.answered.load(Ordering::Acquire)
        {
            Delivery::Stale
        } else {
            Delivery::MaybeProcessed
        }
    }

    /// The response on this connection was read to its end: it goes back to the pool idle,
    /// where the idle limit may close it.
    pub(crate) fn finished(&self) {
        let state = &self.0;
        let Some(cap) = &state.cap else { return };
        if state
            .state
            .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let turn = state
                .idle_turn
                .fetch_add(1, Ordering::AcqRel)
                .wrapping_add(1);
            cap.idle(Arc::downgrade(state), turn);
        }
    }
}

const BUSY: u8 = 0;
const IDLE: u8 = 1;
const EVICTED: u8 = 2;

/// `pool_max_idle`: the most idle connections kept over all hosts; past it the connection idle
/// the longest is closed.
///
/// hyper-util's pool only limits idle connections per host. Its idle connections are not
/// reachable from outside, so the limit works through the connections themselves: a response
/// read to its end marks its connection idle (queued oldest first), a new request's first write
/// marks it busy, and an evicted idle connection reads as closed by the server (hyper then drops
/// it from the pool). A request that picks an evicted connection in the instant before hyper
/// noticed has its first write refused, so it is reported unsent and resent on another one.
#[derive(Debug)]
pub(crate) struct IdleCap {
    max: usize,
    idle: std::sync::Mutex<IdleQueue>,
}

#[derive(Debug, Default)]
struct IdleQueue {
    /// Connections marked idle, oldest first, each with the turn of idleness it was queued for:
    /// an entry whose connection is busy again, idle for a later turn (queued again further
    /// back) or gone is stale and skipped.
    queue: std::collections::VecDeque<(std::sync::Weak<ProbeState>, u32)>,
    /// How many connections are idle now.
    count: usize,
}

impl IdleCap {
    pub(crate) fn new(max: usize) -> IdleCap {
        IdleCap {
            max,
            idle: std::sync::Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IdleQueue> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn idle(&self, conn: std::sync::Weak<ProbeState>, turn: u32) {
        let mut idle = self.lock();
        idle.count += 1;
        idle.queue.push_back((conn, turn));
        while idle.count > self.max {
            let Some((oldest, turn)) = idle.queue.pop_front() else {
                break;
            };
            let Some(oldest) = oldest.upgrade() else {
                continue;
            };
            if oldest.idle_turn.load(Ordering::Acquire) == turn
                && oldest
                    .state
                    .compare_exchange(IDLE, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                idle.count -= 1;
                oldest.reader.wake();
            }
        }
        if idle.queue.len() > 2 * idle.count + 64 {
            // Stale entries pile up (a connection reused many times leaves one per turn): keep
            // the live ones, at most one per idle connection, so this runs rarely.
            idle.queue.retain(|(conn, turn)| {
                conn.upgrade().is_some_and(|c| {
                    c.state.load(Ordering::Acquire) == IDLE
                        && c.idle_turn.load(Ordering::Acquire) == *turn
                })
            });
        }
    }

    /// An idle connection left the idle set (reused, or closed).
    fn left(&self) {
        let mut idle = self.lock();
        idle.count = idle.count.saturating_sub(1);
    }
}

/// Wrap a connection made outside the pooled client (the forward-proxy pool) so that it is
/// tracked too.
pub(crate) fn track<T>(
    io: T,
    permit: Option<OwnedSemaphorePermit>,
) -> (TokioIo<Tracked<T>>, Probe) {
    // The forward pool keeps its own idle list, bounded per proxy.
    let tracked = Tracked::wrap(io, permit, None);
    let probe = tracked.inner().probe.clone();
    (tracked, probe)
}

#[derive(Debug, Default)]
struct ProbeState {
    exchanges: AtomicU32,
    answered: AtomicBool,
    /// BUSY, IDLE or EVICTED (under the idle limit).
    state: AtomicU8,
    /// How many times the connection went idle (its entry in the idle queue is for this turn).
    idle_turn: AtomicU32,
    /// A write was refused because the idle limit had closed the connection.
    refused: AtomicBool,
    /// Wakes the connection's reader when it is evicted.
    reader: futures_util::task::AtomicWaker,
    cap: Option<Arc<IdleCap>>,
}

/// Wraps a connector so that each connection it makes is [`Tracked`], and holds a slot of its
/// host's [`HostLimit`] while it is open.
///
/// Everything sits behind one `Arc`: hyper-util's client clones its connector for every
/// request (into the lazy connect it races against a pooled checkout) and drops it unused
/// when the pool answers, which is nearly always. A clone is then one reference count, not a
/// copy of the connector (resolver, proxy rules, TLS configuration: several references and
/// about a hundred bytes moved with the checkout); the connector itself is cloned only when a
/// connection is really made.
#[derive(Debug)]
pub(crate) struct TrackedConnector<C> {
    shared: Arc<ConnectorParts<C>>,
}

#[derive(Debug)]
struct ConnectorParts<C> {
    inner: C,
    limit: Option<Arc<HostLimit>>,
    idle_cap: Option<Arc<IdleCap>>,
}

impl<C> Clone for TrackedConnector<C> {
    fn clone(&self) -> Self {
        TrackedConnector {
            shared: self.shared.clone(),
        }
    }
}

impl<C> TrackedConnector<C> {
    pub(crate) fn new(
        inner: C,
        limit: Option<Arc<HostLimit>>,
        idle_cap: Option<Arc<IdleCap>>,
    ) -> Self {
        TrackedConnector {
            shared: Arc::new(ConnectorParts {
                inner,
                limit,
                idle_cap,
            }),
        }
    }
}

type TrackedFuture<T> = Pin<Box<dyn Future<Output = Result<TokioIo<Tracked<T>>, BoxError>> + Send>>;

impl<C> Service<Uri> for TrackedConnector<C>
where
    C: Service<Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send,
    C::Error: Into<BoxError>,
    C::Future: Send,
{
    type Response = TokioIo<Tracked<C::Response>>;
    type Error = BoxError;
    type Future = TrackedFuture<C::Response>;

    /// Always ready: the connector used for a connection is a clone of the shared one, asked
    /// for readiness when the connection is made.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let parts = &*self.shared;
        let cap = parts.idle_cap.clone();
        let within = crate::connect::connect_limit();
        let mut connector = parts.inner.clone();
        let limit = parts.limit.clone();
        // The connectors here are ready at once (a resolver that is always ready): with no
        // per-host slot to wait for, the connection starts now and the future holds only its
        // connect future (a smaller box than one holding the connector as well).
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        if limit.is_none() && matches!(connector.poll_ready(&mut cx), Poll::Ready(Ok(()))) {
            let connecting = connector.call(dst);
            return Box::pin(async move {
                let io = crate::connect::within(within, connecting).await?;
                Ok(Tracked::wrap(io, None, cap))
            });
        }
        Box::pin(async move {
            // Waiting for a slot under `pool_max_per_host` is not connecting.
            let permit = match limit {
                Some(limit) => Some(limit.acquire(&dst).await),
                None => None,
            };
            let connecting = tower::ServiceExt::oneshot(connector, dst);
            let io = crate::connect::within(within, connecting).await?;
            Ok(Tracked::wrap(io, permit, cap))
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
    fn wrap(
        io: T,
        permit: Option<OwnedSemaphorePermit>,
        cap: Option<Arc<IdleCap>>,
    ) -> TokioIo<Tracked<T>> {
        TokioIo::new(Tracked {
            io: TokioIo::new(io),
            probe: Probe(Arc::new(ProbeState {
                cap,
                ..ProbeState::default()
            })),
            reading: true,
            _permit: permit,
        })
    }

    /// Before a write: a write that starts an exchange takes the connection out of the idle
    /// set, or is refused if the idle limit closed it.
    fn before_write(&mut self) -> io::Result<()> {
        if !self.reading {
            return Ok(());
        }
        let state = &self.probe.0;
        let Some(cap) = &state.cap else { return Ok(()) };
        match state
            .state
            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                cap.left();
                Ok(())
            }
            Err(EVICTED) => {
                state.refused.store(true, Ordering::Release);
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "connection closed by the pool's idle limit",
                ))
            }
            Err(_) => Ok(()),
        }
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 && self.reading {
            self.reading = false;
            let state = &self.probe.0;
            state.answered.store(false, Ordering::Relaxed);
            state.exchanges.fetch_add(1, Ordering::Release);
        }
    }

    fn evicted(&self, cx: &mut Context<'_>) -> bool {
        let state = &self.probe.0;
        if state.cap.is_none() {
            return false;
        }
        state.reader.register(cx.waker());
        state.state.load(Ordering::Acquire) == EVICTED
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        let state = &self.probe.0;
        if let Some(cap) = &state.cap {
            if state.state.swap(EVICTED, Ordering::AcqRel) == IDLE {
                cap.left();
            }
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
        if self.evicted(cx) {
            // Read as closed by the peer: hyper drops the idle connection.
            return Poll::Ready(Ok(()));
        }
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
        self.before_write()?;
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
        self.before_write()?;
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
    let hyper = crate::layers::classify::chain(&err).find_map(|e| e.downcast_ref::<hyper::Error>());
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

pin_project_lite::pin_project! {
    /// A response body that marks its connection idle once read to the end (`pool_max_idle`).
    pub(crate) struct IdleOnEnd {
        #[pin]
        inner: hyper::body::Incoming,
        probe: Option<Probe>,
    }
}

impl IdleOnEnd {
    /// The response with its body watched (HTTP/1.1 only: an HTTP/2 connection serves many
    /// responses at once and is never idle because one ended).
    pub(crate) fn response(
        resp: http::Response<hyper::body::Incoming>,
    ) -> http::Response<crate::Body> {
        use http_body::Body as _;
        let probe = (resp.version() != http::Version::HTTP_2)
            .then(|| resp.extensions().get::<Probe>().cloned())
            .flatten();
        match probe {
            Some(probe) if resp.body().is_end_stream() => {
                probe.finished();
                resp.map(crate::Body::wrap)
            }
            Some(probe) => resp.map(|inner| {
                crate::Body::wrap(IdleOnEnd {
                    inner,
                    probe: Some(probe),
                })
            }),
            None => resp.map(crate::Body::wrap),
        }
    }
}

impl http_body::Body for IdleOnEnd {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let frame = std::task::ready!(this.inner.as_mut().poll_frame(cx));
        let ended = match &frame {
            None => true,
            Some(Ok(_)) => this.inner.is_end_stream(),
            Some(Err(_)) => {
                // The connection is gone, not idle.
                this.probe.take();
                false
            }
        };
        if ended {
            if let Some(probe) = this.probe.take() {
                probe.finished();
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type Io = TokioIo<Tracked<TokioIo<tokio::io::DuplexStream>>>;

    /// A tracked client end and the server end of an in-memory connection.
    fn conn(cap: &Arc<IdleCap>) -> (Io, Probe, tokio::io::DuplexStream) {
        let (client, server) = tokio::io::duplex(1024);
        let io = Tracked::wrap(TokioIo::new(client), None, Some(cap.clone()));
        let probe = io.inner().probe.clone();
        (io, probe, server)
    }

    /// One request/response exchange, the response read to its end.
    async fn exchange(io: &mut Io, probe: &Probe, server: &mut tokio::io::DuplexStream) {
        let tracked = io.inner_mut();
        tracked.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut req = [0u8; 18];
        server.read_exact(&mut req).await.unwrap();
        server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let mut resp = [0u8; 19];
        tracked.read_exact(&mut resp).await.unwrap();
        probe.finished();
    }

    #[tokio::test]
    async fn the_idle_limit_closes_the_oldest_idle_connection_and_refuses_its_next_request() {
        let cap = Arc::new(IdleCap::new(1));
        let (mut a, probe_a, mut server_a) = conn(&cap);
        let (mut b, probe_b, mut server_b) = conn(&cap);
        exchange(&mut a, &probe_a, &mut server_a).await;
        assert_eq!(probe_a.0.state.load(Ordering::Acquire), IDLE);
        // b going idle makes two: a, idle the longest, is evicted.
        exchange(&mut b, &probe_b, &mut server_b).await;
        assert_eq!(probe_a.0.state.load(Ordering::Acquire), EVICTED);
        assert_eq!(probe_b.0.state.load(Ordering::Acquire), IDLE);
        assert_eq!(cap.lock().count, 1);

        // a reads as closed, and a request picked for it before hyper noticed is refused
        // before its first byte: reported unsent.
        let mut byte = [0u8; 1];
        assert_eq!(a.inner_mut().read(&mut byte).await.unwrap(), 0);
        let err = a
            .inner_mut()
            .write_all(b"POST / HTTP/1.1\r\n")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(probe_a.delivery_after_failure(), Delivery::NotSent);
        drop(server_a);

        // b is reused: busy, out of the idle count; then idle again.
        exchange(&mut b, &probe_b, &mut server_b).await;
        assert_eq!(cap.lock().count, 1);
        drop(b);
        assert_eq!(
            cap.lock().count,
            0,
            "a closed idle connection leaves the count"
        );
    }

    #[tokio::test]
    async fn a_connection_reused_many_times_keeps_the_idle_queue_short() {
        // Each turn of idleness queues an entry; stale ones are dropped, so the queue (walked
        // when it is compacted) stays about as long as the idle set, not the number of requests.
        let cap = Arc::new(IdleCap::new(100));
        let (mut a, probe, mut server) = conn(&cap);
        for _ in 0..1000 {
            exchange(&mut a, &probe, &mut server).await;
        }
        let idle = cap.lock();
        assert_eq!(idle.count, 1);
        assert!(
            idle.queue.len() <= 2 * idle.count + 64,
            "{}",
            idle.queue.len()
        );
    }

    #[tokio::test]
    async fn a_reused_connection_failing_before_its_answer_is_stale() {
        let cap = Arc::new(IdleCap::new(10));
        let (mut a, probe, mut server) = conn(&cap);
        assert_eq!(probe.delivery_after_failure(), Delivery::MaybeProcessed);
        exchange(&mut a, &probe, &mut server).await;
        a.inner_mut()
            .write_all(b"GET /2 HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(probe.delivery_after_failure(), Delivery::Stale);
        server.write_all(b"HTTP/1.1 2").await.unwrap();
        let mut byte = [0u8; 1];
        a.inner_mut().read_exact(&mut byte).await.unwrap();
        assert_eq!(probe.delivery_after_failure(), Delivery::MaybeProcessed);
    }
}
