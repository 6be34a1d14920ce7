//! `TimeoutLayer` (per attempt) and `TotalTimeoutLayer` (whole call, body included).
//!
//! requests' `timeout` is a connect timeout plus a *read* timeout (the longest silence between
//! bytes), and it has no limit for the whole call. Here:
//!
//! - [`TimeoutLayer::new(d)`](TimeoutLayer::new) limits one attempt until the response head, then
//!   wraps the response body so that a silence longer than `d` between body frames fails (the
//!   read timeout). Under [`RetryLayer`](crate::retry::RetryLayer), each attempt gets its own
//!   limit and a timed-out attempt counts as a read error (retried for the allowed methods).
//!   The response carries a [`DrainTimeout`](crate::body::DrainTimeout) of `d`: a layer above
//!   that reads the body only to throw it away (a redirect, an auth challenge) waits no longer.
//! - [`TotalTimeoutLayer::new(Some(d))`](TotalTimeoutLayer::new) limits the whole call, from
//!   `call()` to the last body byte: redirects, retries and backoff sleeps included. A request
//!   carrying a [`RequestTimeout`] extension uses that limit instead (the session's per-request
//!   `.timeout(d)`).
//! - The connect timeout belongs to the connector (the client), not to this module.
//!
//! Every timer fails with a typed [`Elapsed`] (boxed into [`BoxError`](crate::BoxError)), both
//! from the response future and from the response body; it says which limit ran out and its
//! duration. A timeout is never turned into a fake `408` response.
//!
//! A timer is armed only when the response or the body has to wait: the inner future or body is
//! polled first. (That is why the body timers are written here rather than tower-http's
//! `TimeoutBody` / `DeadlineBody`, which poll their timer first and so register and remove a
//! tokio timer for every frame, even one that is already there.) The total deadline is also
//! checked against the clock before every body frame, so a body that never waits still stops.
//!
//! Needs `tower` (feature `util`) and `http`, `http-body-util` and `bytes` next to this crate; through `tower-requests`,
//! write `tower_requests::layers::timeout` and `tower_requests::http`.
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use bytes::Bytes;
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::timeout::{
//!     Elapsed, RequestTimeout, TimeoutKind, TimeoutLayer, TotalTimeoutLayer,
//! };
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let mut svc = ServiceBuilder::new()
//!     .layer(TotalTimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(TimeoutLayer::new(Duration::from_secs(10)))
//!     .service(service_fn(|req: Request<String>| async move {
//!         if req.uri().path() == "/slow" {
//!             tokio::time::sleep(Duration::from_secs(60)).await;
//!         }
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("ok"))))
//!     }));
//!
//! let resp = svc.ready().await?.call(Request::new(String::new())).await?;
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "ok");
//!
//! // The attempt limit (10 s) runs out first.
//! let slow = Request::builder().uri("/slow").body(String::new())?;
//! let err = svc.ready().await?.call(slow).await.unwrap_err();
//! let elapsed = err.downcast_ref::<Elapsed>().expect("a typed timeout");
//! assert_eq!(elapsed.kind(), TimeoutKind::Attempt);
//!
//! // A per-request total limit of 2 s beats both.
//! let slow = Request::builder()
//!     .uri("/slow")
//!     .extension(RequestTimeout(Duration::from_secs(2)))
//!     .body(String::new())?;
//! let err = svc.ready().await?.call(slow).await.unwrap_err();
//! let elapsed = err.downcast_ref::<Elapsed>().expect("a typed timeout");
//! assert_eq!((elapsed.kind(), elapsed.duration()), (TimeoutKind::Total, Duration::from_secs(2)));
//! # Ok(())
//! # }
//! ```
//!
//! # On a hyper-util client
//!
//! The layer mounted on a stack that is not this crate's: a bare `hyper_util` pooled client,
//! against a small server started on 127.0.0.1 (hidden lines).
//!
//! ```
//! # use std::convert::Infallible;
//! # use hyper::body::Incoming;
//! # use hyper_util::rt::{TokioExecutor, TokioIo};
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::timeout::{Elapsed, TimeoutKind, TimeoutLayer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // `/slow` takes 30 s to answer.
//! #     if req.uri().path() == "/slow" {
//! #         tokio::time::sleep(Duration::from_secs(30)).await;
//! #     }
//! #     Response::new(Full::from("ok"))
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
//! let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let svc = ServiceBuilder::new()
//!     .layer(TimeoutLayer::new(Duration::from_millis(200)))
//!     .service(client);
//!
//! let resp = svc.clone().oneshot(Request::get(format!("{base}/")).body(Full::default())?).await?;
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "ok");
//! let err = svc.oneshot(Request::get(format!("{base}/slow")).body(Full::default())?).await.unwrap_err();
//! let elapsed = err.downcast_ref::<Elapsed>().expect("a typed timeout");
//! assert_eq!(elapsed.kind(), TimeoutKind::Attempt);
//! # Ok(())
//! # }
//! ```

mod body;
mod error;
mod future;
mod layer;
mod service;

pub use body::{ReadTimeoutBody, TotalBody};
pub use error::{Elapsed, TimeoutKind};
pub use future::{ResponseFuture, TotalResponseFuture};
pub use layer::{TimeoutLayer, TotalTimeoutLayer};
pub use service::{Timeout, TotalTimeout};

pub use crate::ext::RequestTimeout;
