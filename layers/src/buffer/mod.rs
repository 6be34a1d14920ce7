//! `BufferBodyLayer`: request bodies of any type, buffered so that they can be replayed.
//!
//! The layers that send a request more than once (retries, 307/308 redirects, auth challenges)
//! need a body they can copy: [`ReplayBody`](crate::ReplayBody). Put this layer above them and
//! any request body (an `axum::body::Body`, a hyper `Incoming`, a stream of your own) becomes
//! this crate's [`Body`](crate::Body):
//! - a body of at most `limit` bytes is read into memory first, and can then be replayed byte for
//!   byte;
//! - a longer one (or one with trailers) is passed on as a stream, the bytes already read first,
//!   so nothing is lost: it is sent once, and a layer that would have to send it again fails with
//!   its typed "not replayable" error instead.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body::Frame;
//! use http_body_util::StreamBody;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::buffer::BufferBodyLayer;
//! use tower_requests_layers::retry::{Retry, RetryLayer};
//! use tower_requests_layers::{Body, BoxError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! // A client under a retry layer, which needs a body it can replay...
//! let client = service_fn(|req: Request<Body>| async move {
//!     let len = req.body().as_bytes().map_or(0, <[u8]>::len);
//!     Ok::<_, BoxError>(Response::new(Body::from(format!("{len} bytes, buffered"))))
//! });
//! let svc = ServiceBuilder::new()
//!     .layer(BufferBodyLayer::new(1 << 20))
//!     .layer(RetryLayer::new(Retry::new().total(2)))
//!     .service(client);
//! // ...takes a streaming body of another type once it is buffered (up to 1 MiB) above it.
//! let chunks = futures_util::stream::iter(["hel", "lo"].map(|c| {
//!     Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(c.as_bytes())))
//! }));
//! let resp = svc.oneshot(Request::new(StreamBody::new(chunks))).await?;
//! assert_eq!(resp.into_body().as_bytes(), Some(&b"5 bytes, buffered"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! Needs `http`, `http-body`, `http-body-util`, `bytes` and `tower` besides this crate.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::BufferBodyLayer;
pub use service::BufferBody;
