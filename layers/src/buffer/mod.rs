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
//!
//! # On a hyper-util client
//!
//! The layer mounted on a stack that is not this crate's: a bare `hyper_util` pooled client under a
//! retry layer, sending a streaming body, against a small server started on 127.0.0.1 (hidden
//! lines).
//!
//! ```
//! # use std::convert::Infallible;
//! # use hyper::body::Incoming;
//! # use hyper_util::rt::{TokioExecutor, TokioIo};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body::Frame;
//! use http_body_util::{BodyExt, Full, StreamBody};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::buffer::BufferBodyLayer;
//! use tower_requests_layers::retry::{Retry, RetryLayer};
//! use tower_requests_layers::Body;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // 503 the first time, then the length of the body it got.
//! #     static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
//! #     let len = req.into_body().collect().await.unwrap().to_bytes().len();
//! #     if CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
//! #         let mut resp = Response::new(Full::default());
//! #         *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
//! #         return resp;
//! #     }
//! #     Response::new(Full::from(format!("{len} bytes")))
//! # }
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! # tokio::spawn(async move {
//! #     loop {
//! #         let (io, _) = listener.accept().await.unwrap();
//! #         let svc = hyper::service::service_fn(|req| async move { Ok::<_, Infallible>(handle(req).await) });
//! #         tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), svc));
//! #     }
//! # });
//! let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
//! let svc = ServiceBuilder::new()
//!     .layer(BufferBodyLayer::new(1 << 20))
//!     .layer(RetryLayer::new(Retry::new().total(2).backoff_factor(0.0).status_forcelist([503])))
//!     .service(client);
//!
//! // A stream, buffered (up to 1 MiB) so the retry after the 503 can send it again (PUT is
//! // idempotent: a POST is not retried after it was sent).
//! let chunks = futures_util::stream::iter(["hel", "lo"].map(|c| {
//!     Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(c.as_bytes())))
//! }));
//! let resp = svc.oneshot(Request::put(format!("{base}/")).body(StreamBody::new(chunks))?).await?;
//! assert_eq!(resp.status(), StatusCode::OK);
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "5 bytes");
//! # Ok(())
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::BufferBodyLayer;
pub use service::BufferBody;
