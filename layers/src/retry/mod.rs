//! `RetryLayer`: urllib3's `Retry` semantics on [`tower::retry`].
//!
//! [`Retry`] is urllib3's configuration, field for field (see its table); [`RetryLayer`] applies
//! it through a [`tower::retry::Policy`] ([`RetryPolicy`]), sleeping with tokio's timer (so tests
//! can run with paused time).
//!
//! What is retried, as urllib3:
//! - **Connection errors** (the request was not sent: refused, DNS, connect timeout) for every
//!   method, counted against `connect`.
//! - **Errors after sending** (reset, incomplete response, a per-attempt
//!   [`Elapsed`](crate::timeout::Elapsed)) for the allowed methods only, counted against `read`;
//!   unknown errors likewise against `other`.
//! - **Statuses** in `status_forcelist`, and 413/429/503 carrying a `Retry-After`, for the allowed
//!   methods, counted against `status`. A positive `Retry-After` (delta-seconds or HTTP-date) is
//!   slept instead of the backoff, cut to `retry_after_max` (6 h by default, urllib3's cap); an
//!   unparsable one falls back to the backoff (urllib3 raises `InvalidHeader` there).
//!
//! Errors are classified by walking `source()`: a [`DeliveryError`](crate::DeliveryError) from
//! the client, hyper-util's legacy client error (`is_connect()`), `hyper::Error` (canceled,
//! incomplete message, closed, parse, timeout), `std::io::Error` kinds, and this crate's timeout
//! [`Elapsed`](crate::timeout::Elapsed) (a total-timeout `Elapsed` is never retried).
//!
//! The sleep before retry `n` (`n` = counted failures so far) is 0 for `n <= 1`, else
//! `min(backoff_max, backoff_factor * 2^(n-1) + jitter)` ([`Retry::backoff_for`] gives the
//! jitter-free part). The jitter is added before the cap, as urllib3 does, so no backoff sleep
//! ever exceeds `backoff_max`.
//!
//! When retries run out:
//! - on a status: with `raise_on_status` (default) a [`RetryError`] of kind
//!   [`StatusExhausted`](RetryErrorKind::StatusExhausted) carrying the last status
//!   ([`RetryError::status`]); without it, the last response;
//! - on an error: **the last underlying error itself**, unwrapped, so a timeout is still an
//!   `Elapsed` and a connect error still a connect error.
//!
//! **The resend rule: no request is processed twice by our doing.** Besides the retries the
//! [`Retry`] configuration asks for, a failed attempt is sent again *silently* (once per call,
//! at once, without touching the counters or the budget, even with [`Retry::disabled`]) in
//! exactly two cases, read from the [`Delivery`](crate::Delivery) the client reports:
//! - **any method**, when the request provably never reached the server: the connection closed
//!   before any byte of the request was written ([`Delivery::NotSent`](crate::Delivery::NotSent),
//!   or hyper's "canceled" error: the request handed back unsent);
//! - **idempotent methods only** (urllib3's `DEFAULT_ALLOWED_METHODS`: HEAD, GET, PUT, DELETE,
//!   OPTIONS, TRACE; or the configured [`allowed_methods`](Retry::allowed_methods)), when a
//!   *reused* keep-alive connection failed before any byte of the response arrived
//!   ([`Delivery::Stale`](crate::Delivery::Stale)): the server closed it while it sat idle in the
//!   pool. A fresh connection is never stale.
//!
//! Anything else, say a POST whose connection was closed or reset after the request was written,
//! or after part of the status line came back, is returned as the error it is: the request may
//! have been processed, and it was not resent. urllib3 does the same: requests' default
//! `Retry(0, read=False)` never resends a request once it was sent. Explicit retries still follow
//! urllib3 exactly: such read errors are retried only for the allowed methods, counted against
//! `read`.
//!
//! **Bodies.** A request is replayed through [`ReplayBody::try_clone_body`](crate::ReplayBody):
//! buffered bodies are sent byte-identical on every attempt, and a
//! [`Body::replayable`](crate::Body::replayable) stream is made again from its source. Any other
//! streaming body is sent once; if a
//! retry is then needed, the call fails with a [`RetryError`] of kind
//! [`BodyNotReplayable`](RetryErrorKind::BodyNotReplayable) whose `source()` is the attempt's
//! error (an empty body is never sent in its place). The body of a *response* that is retried
//! (a 503, say) is read to its end during the backoff, as urllib3's `drain_conn()` does, so its
//! connection can be reused (at most [`MAX_DRAIN`](crate::body::MAX_DRAIN) bytes, waited for
//! no longer than [`MAX_DRAIN_WAIT`](crate::body::MAX_DRAIN_WAIT); a longer or slower one is
//! dropped with its connection, so a dripping body never holds the retry); the response body
//! type must therefore be an [`http_body::Body`].
//!
//! **Budget.** A [`RetryBudget`] (tower's `TpsBudget`, on by default) caps the retries to 20% of
//! the calls plus 1 per second, shared by every service built from one layer: a backend that is
//! fully down sees about 1.2× the offered calls instead of `1 + total` times.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::retry::{Retry, RetryLayer};
//! use tower_requests_layers::Body;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let hits = Arc::new(AtomicUsize::new(0));
//! let counter = hits.clone();
//! let mut svc = ServiceBuilder::new()
//!     .layer(RetryLayer::new(
//!         Retry::new().total(3).backoff_factor(0.5).status_forcelist([503]),
//!     ))
//!     .service(service_fn(move |_req: Request<Body>| {
//!         // 503, 503, then 200.
//!         let n = counter.fetch_add(1, Ordering::SeqCst);
//!         let status = if n < 2 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
//!         async move {
//!             Ok::<_, std::convert::Infallible>(
//!                 Response::builder().status(status).body(Body::empty()).unwrap(),
//!             )
//!         }
//!     }));
//!
//! let resp = svc.ready().await?.call(Request::new(Body::from("payload"))).await?;
//! assert_eq!(resp.status(), StatusCode::OK);
//! assert_eq!(hits.load(Ordering::SeqCst), 3);
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
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::retry::{Retry, RetryLayer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // 503 twice, then which call this was.
//! #     static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
//! #     let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
//! #     let mut resp = Response::new(Full::from(format!("call {n}")));
//! #     if n < 3 {
//! #         *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
//! #     }
//! #     resp
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
//! let retry = Retry::new().total(3).backoff_factor(0.01).status_forcelist([503]);
//! let svc = ServiceBuilder::new()
//!     .layer(RetryLayer::new(retry))
//!     .service(client);
//!
//! let resp = svc.oneshot(Request::get(format!("{base}/")).body(Full::default())?).await?;
//! assert_eq!(resp.status(), StatusCode::OK);
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "call 3");
//! # Ok(())
//! # }
//! ```

mod classify;
mod config;
mod error;
mod future;
mod layer;
mod policy;
mod service;

pub use config::{
    Retry, RetryBudget, DEFAULT_BACKOFF_MAX, DEFAULT_RETRY_AFTER_MAX, RETRY_AFTER_STATUS_CODES,
};
pub use error::{RetryError, RetryErrorKind};
pub use future::{BackoffFuture, ResponseFuture};
pub use layer::RetryLayer;
pub use policy::RetryPolicy;
pub use service::RetryService;
