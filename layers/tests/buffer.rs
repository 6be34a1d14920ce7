//! BufferBodyLayer: bodies of any type become replayable up to the limit; longer ones (and
//! ones with trailers) pass as streams with nothing lost.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_requests_layers::buffer::BufferBodyLayer;
use tower_requests_layers::{Body, BoxError};

/// What the inner service saw: whether the body was buffered, its bytes, its trailers.
#[derive(Debug, PartialEq)]
struct Seen {
    buffered: bool,
    bytes: Bytes,
    trailers: Option<HeaderMap>,
}

async fn send(limit: usize, frames: Vec<Frame<Bytes>>) -> Seen {
    let svc = ServiceBuilder::new()
        .layer(BufferBodyLayer::new(limit))
        .service(service_fn(|req: Request<Body>| async move {
            let buffered = req.body().as_bytes().is_some();
            let collected = req.into_body().collect().await?;
            let trailers = collected.trailers().cloned();
            let seen = Seen {
                buffered,
                bytes: collected.to_bytes(),
                trailers,
            };
            Ok::<_, BoxError>(Response::new(seen))
        }));
    let stream = futures_util::stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>));
    let req = Request::new(StreamBody::new(stream));
    svc.oneshot(req).await.unwrap().into_body()
}

fn data(s: &'static str) -> Frame<Bytes> {
    Frame::data(Bytes::from_static(s.as_bytes()))
}

#[tokio::test]
async fn a_body_within_the_limit_is_buffered() {
    let seen = send(11, vec![data("hello "), data("world")]).await;
    assert!(seen.buffered);
    assert_eq!(seen.bytes, "hello world");
    // Empty bodies too.
    let seen = send(0, vec![]).await;
    assert!(seen.buffered);
    assert!(seen.bytes.is_empty());
}

#[tokio::test]
async fn a_longer_body_passes_as_a_stream_with_nothing_lost() {
    let seen = send(4, vec![data("hel"), data("lo "), data("world")]).await;
    assert!(!seen.buffered, "over the limit: a stream");
    assert_eq!(seen.bytes, "hello world");
}

#[tokio::test]
async fn trailers_are_kept_by_passing_the_body_as_a_stream() {
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    let seen = send(1024, vec![data("chunk"), Frame::trailers(trailers.clone())]).await;
    assert!(!seen.buffered);
    assert_eq!(seen.bytes, "chunk");
    assert_eq!(seen.trailers, Some(trailers));
}
