//! A request/response body that is cheap to copy when it is buffered.
//!
//! [`Body`] is either empty, a buffered [`Bytes`] (cloning it is a reference-count bump, so
//! retries, redirects and auth challenges can replay it byte for byte), a stream (which can be
//! sent once and never replayed) or a replayable stream (made again from its source for each
//! replay, see [`Body::replayable`]). [`ReplayBody`] is the small trait the replaying layers ask
//! of a body type.

use std::fmt;
#[cfg(any(feature = "redirect", feature = "auth", feature = "retry"))]
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};

use crate::BoxError;

/// An HTTP body: empty, buffered (replayable), streaming (sent once) or a replayable stream.
///
/// ```
/// use tower_requests_layers::Body;
/// let body = Body::from("hello");
/// let copy = body.try_clone().expect("buffered bodies can be cloned");
/// assert_eq!(copy.as_bytes(), Some(&b"hello"[..]));
/// ```
pub struct Body {
    inner: Inner,
}

enum Inner {
    Empty,
    Full(Bytes),
    Streaming(UnsyncBoxBody<Bytes, BoxError>),
    /// A stream, and how to make it again for a replay.
    Replayable(UnsyncBoxBody<Bytes, BoxError>, MakeBody),
}

/// Makes a fresh copy of a replayable stream.
type MakeBody = std::sync::Arc<dyn Fn() -> UnsyncBoxBody<Bytes, BoxError> + Send + Sync>;

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Body {
            inner: Inner::Empty,
        }
    }

    /// A buffered body that can be replayed.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Body::empty();
        }
        Body {
            inner: Inner::Full(bytes),
        }
    }

    /// Any body with `Bytes` frames as a [`Body`]: a `Body` is returned as it is (no extra box),
    /// anything else becomes a stream (see [`Body::wrap`]).
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(body) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Body>>() {
            return body.take().unwrap_or_default();
        }
        match slot {
            Some(body) => Body::wrap(body),
            None => Body::empty(),
        }
    }

    /// A streaming body around any [`http_body::Body`] with `Bytes` frames. It is sent once:
    /// layers that would need to replay it (retry, 307/308 redirects) fail with a clear error.
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            inner: Inner::Streaming(body.map_err(Into::into).boxed_unsync()),
        }
    }

    /// A streaming body that can be replayed: `make` is called once now and again for each
    /// copy ([`try_clone`](Body::try_clone)), when a retry or a 307/308 redirect sends the body
    /// again, and each call must give a body with the same bytes (for example a file opened
    /// again, or an encoder over buffered parts). Nothing is buffered: a copy that is never
    /// polled costs only the call to `make`, so a body that opens a resource should open it on
    /// its first poll.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tower_requests_layers::Body;
    /// let body = Body::replayable(|| {
    ///     let chunks = [Ok::<_, std::io::Error>(Bytes::from_static(b"he")), Ok(Bytes::from_static(b"llo"))];
    ///     Body::wrap_stream(futures_util::stream::iter(chunks))
    /// });
    /// assert!(body.try_clone().is_some());
    /// assert!(!body.is_streaming());
    /// ```
    pub fn replayable<F, B>(make: F) -> Self
    where
        F: Fn() -> B + Send + Sync + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let make: MakeBody = std::sync::Arc::new(move || make().map_err(Into::into).boxed_unsync());
        Body {
            inner: Inner::Replayable(make(), make),
        }
    }

    /// A streaming body from a stream of byte chunks.
    pub fn wrap_stream<S, T, E>(stream: S) -> Self
    where
        S: futures_util::Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes>,
        E: Into<BoxError>,
    {
        use futures_util::StreamExt;
        let frames = stream.map(|chunk| chunk.map(|c| Frame::data(c.into())).map_err(Into::into));
        Body::wrap(http_body_util::StreamBody::new(frames))
    }

    /// A copy of this body: `Some` for empty, buffered and [replayable](Body::replayable)
    /// bodies (a fresh stream from the start), `None` for other streams.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.inner {
            Inner::Empty => Some(Body::empty()),
            Inner::Full(bytes) => Some(Body {
                inner: Inner::Full(bytes.clone()),
            }),
            Inner::Streaming(_) => None,
            Inner::Replayable(_, make) => Some(Body {
                inner: Inner::Replayable(make(), make.clone()),
            }),
        }
    }

    /// The bytes of a buffered body (`Some(b"")` when empty), `None` for a stream.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.inner {
            Inner::Empty => Some(&[]),
            Inner::Full(bytes) => Some(bytes),
            Inner::Streaming(_) | Inner::Replayable(..) => None,
        }
    }

    /// Whether this body is a stream that is sent once (and so cannot be replayed); `false` for
    /// a [replayable](Body::replayable) stream.
    pub fn is_streaming(&self) -> bool {
        matches!(self.inner, Inner::Streaming(_))
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Empty => f.write_str("Body::Empty"),
            Inner::Full(b) => write!(f, "Body::Full({} bytes)", b.len()),
            Inner::Streaming(_) => f.write_str("Body::Streaming"),
            Inner::Replayable(..) => f.write_str("Body::Replayable"),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Empty => Poll::Ready(None),
            Inner::Full(_) => match std::mem::replace(&mut this.inner, Inner::Empty) {
                Inner::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                _ => unreachable!("matched Full above"),
            },
            Inner::Streaming(body) | Inner::Replayable(body, _) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Full(_) => false,
            Inner::Streaming(body) | Inner::Replayable(body, _) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Empty => SizeHint::with_exact(0),
            Inner::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Inner::Streaming(body) | Inner::Replayable(body, _) => body.size_hint(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::full(b)
    }
}
impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::full(b)
    }
}
impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::full(s)
    }
}
impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::full(Bytes::from_static(s.as_bytes()))
    }
}
impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::full(Bytes::from_static(s))
    }
}
impl From<Full<Bytes>> for Body {
    fn from(b: Full<Bytes>) -> Self {
        Body::wrap(b)
    }
}
impl From<Empty<Bytes>> for Body {
    fn from(_: Empty<Bytes>) -> Self {
        Body::empty()
    }
}
impl From<()> for Body {
    fn from(_: ()) -> Self {
        Body::empty()
    }
}

/// The most of an unused response body (the 3xx of a followed redirect, the 401 of an answered
/// challenge, a response that is retried) that is read and thrown away before the next request,
/// so that its connection can go back to the pool, as requests and urllib3 do (`resp.content`
/// before each hop or resend, `drain_conn()` before a retry). hyper keeps
/// the connection of a dropped body only when all of it had already arrived; a chunked or
/// slower body closed it. A longer body, or one that fails, is dropped instead (its connection
/// is closed). So is a body that is not over within [`MAX_DRAIN_WAIT`], or within the
/// response's [`DrainTimeout`] when that is shorter: a body that drips (a byte a second, say)
/// would otherwise hold the whole call for as long as its bytes keep coming.
pub const MAX_DRAIN: u64 = 64 * 1024;

/// The longest an unused body is waited for (see [`MAX_DRAIN`]) when its response carries no
/// shorter [`DrainTimeout`]. Reading it is only worth a saved connection: a new connection
/// costs a round trip or two, far less than this.
pub const MAX_DRAIN_WAIT: Duration = Duration::from_secs(1);

/// Response extension: the longest a layer above may wait for this response's body when it
/// drains it unused (see [`MAX_DRAIN`]). The per-attempt
/// [`TimeoutLayer`](crate::timeout::TimeoutLayer) sets it to its timeout, so that draining the
/// body of a redirect or an auth challenge takes no longer than an attempt may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainTimeout(pub Duration);

#[cfg(any(feature = "redirect", feature = "auth", feature = "retry"))]
pin_project_lite::pin_project! {
    struct Draining<B> {
        read: u64,
        // How long the body may take, from when the drain started.
        wait: Duration,
        started: std::time::Instant,
        // Armed the first time the body is not ready.
        deadline: Option<Pin<Box<tokio::time::Sleep>>>,
        #[pin]
        body: B,
    }
}

/// An unused response body being read to its end (see [`MAX_DRAIN`]), or none. One box, only
/// while a body is being read: the futures that hold one grow by a pointer.
#[cfg(any(feature = "redirect", feature = "auth", feature = "retry"))]
pub(crate) struct Drain<B>(Option<Pin<Box<Draining<B>>>>);

#[cfg(any(feature = "redirect", feature = "auth", feature = "retry"))]
impl<B> Default for Drain<B> {
    fn default() -> Self {
        Drain(None)
    }
}

#[cfg(any(feature = "redirect", feature = "auth", feature = "retry"))]
impl<B: http_body::Body> Drain<B> {
    /// Starts reading `body` when it is worth it; else it is dropped here (its connection is
    /// closed unless all of it had already arrived). It is waited for [`MAX_DRAIN_WAIT`] at
    /// most.
    #[cfg(any(feature = "auth", feature = "retry"))]
    pub(crate) fn start(&mut self, body: B) {
        self.start_within(body, None);
    }

    /// [`Drain::start`] for the body of `res`, waited for no longer than its [`DrainTimeout`].
    #[cfg(any(feature = "redirect", feature = "auth"))]
    pub(crate) fn start_response(&mut self, res: http::Response<B>) {
        let wait = res.extensions().get::<DrainTimeout>().map(|t| t.0);
        self.start_within(res.into_body(), wait);
    }

    fn start_within(&mut self, body: B, wait: Option<Duration>) {
        if !body.is_end_stream() && body.size_hint().lower() <= MAX_DRAIN {
            let wait = wait.map_or(MAX_DRAIN_WAIT, |w| w.min(MAX_DRAIN_WAIT));
            self.0 = Some(Box::pin(Draining {
                read: 0,
                wait,
                started: std::time::Instant::now(),
                deadline: None,
                body,
            }));
        }
    }

    /// Ready once no body is being read: it ended, failed, passed [`MAX_DRAIN`] or took too
    /// long (and was dropped), or there was none.
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Most calls have nothing to read: that check stays in the caller's code.
        if self.0.is_none() {
            return Poll::Ready(());
        }
        self.poll_body(cx)
    }

    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(draining) = &mut self.0 {
            let mut this = draining.as_mut().project();
            loop {
                let frame = match this.body.as_mut().poll_frame(cx) {
                    Poll::Ready(frame) => frame,
                    Poll::Pending => {
                        // The timer only for a body that makes us wait (most have arrived).
                        let (wait, started) = (*this.wait, *this.started);
                        let deadline = this.deadline.get_or_insert_with(|| {
                            Box::pin(tokio::time::sleep(wait.saturating_sub(started.elapsed())))
                        });
                        if deadline.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        break; // too slow: dropped below, with its connection
                    }
                };
                let Some(Ok(frame)) = frame else {
                    break;
                };
                if let Some(data) = frame.data_ref() {
                    *this.read += bytes::Buf::remaining(data) as u64;
                    if *this.read > MAX_DRAIN {
                        break;
                    }
                }
            }
            self.0 = None;
        }
        Poll::Ready(())
    }
}

/// A body type the replaying layers (retry, redirect, auth challenges) can copy.
///
/// Implemented for [`Body`] (empty and buffered bodies replay, streams do not),
/// [`Full<Bytes>`], [`Empty<Bytes>`] and [`String`]. A layer that needs a copy and gets `None`
/// fails with an error saying the body could not be replayed; it never sends an empty body in
/// its place.
pub trait ReplayBody: Sized {
    /// A copy that yields the same bytes, or `None` when the body cannot be replayed.
    fn try_clone_body(&self) -> Option<Self>;
    /// An empty body of this type (used when a redirect turns a request into a body-less GET).
    fn empty_body() -> Self;
}

impl ReplayBody for Body {
    fn try_clone_body(&self) -> Option<Self> {
        self.try_clone()
    }
    fn empty_body() -> Self {
        Body::empty()
    }
}

impl ReplayBody for Full<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
    fn empty_body() -> Self {
        Full::new(Bytes::new())
    }
}

impl ReplayBody for Empty<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(Empty::new())
    }
    fn empty_body() -> Self {
        Empty::new()
    }
}

impl ReplayBody for String {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
    fn empty_body() -> Self {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn buffered_body_replays_identical_bytes() {
        let body = Body::from(vec![1u8, 2, 3]);
        let copy = body.try_clone().unwrap();
        assert_eq!(body.size_hint().exact(), Some(3));
        let a = body.collect().await.unwrap().to_bytes();
        let b = copy.collect().await.unwrap().to_bytes();
        assert_eq!(a, b);
        assert_eq!(&a[..], &[1, 2, 3]);
    }

    #[tokio::test]
    async fn streaming_body_is_not_cloneable_but_streams() {
        let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("ab"), Ok("cd")];
        let body = Body::wrap_stream(futures_util::stream::iter(chunks));
        assert!(body.is_streaming());
        assert!(body.try_clone().is_none());
        assert!(body.as_bytes().is_none());
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"abcd");
    }

    #[tokio::test]
    async fn replayable_stream_replays_from_its_source() {
        let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = made.clone();
        let body = Body::replayable(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("ab"), Ok("cd")];
            Body::wrap_stream(futures_util::stream::iter(chunks))
        });
        assert!(!body.is_streaming());
        assert!(body.as_bytes().is_none());
        let copy = body.try_clone().unwrap();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"abcd");
        assert_eq!(&copy.collect().await.unwrap().to_bytes()[..], b"abcd");
    }

    #[test]
    fn new_keeps_a_body_unboxed() {
        let body = Body::new(Body::from("abc"));
        assert_eq!(body.as_bytes(), Some(&b"abc"[..]));
        let other = Body::new(http_body_util::Full::new(Bytes::from_static(b"abc")));
        assert!(other.is_streaming());
    }

    #[test]
    fn empty_body_is_end_of_stream() {
        let body = Body::from("");
        assert!(http_body::Body::is_end_stream(&body));
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(!Body::from("x").is_end_stream());
    }
}
