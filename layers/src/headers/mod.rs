//! `DefaultHeadersLayer`: session-wide default headers behind a shared, runtime-mutable handle.
//!
//! Each default header is added to a request only when the request has no value for that name
//! (`requests.Session.headers` merged under the request's own headers). The defaults live in a
//! [`SharedHeaders`] handle: changing it (`insert`, `remove`, `extend`) is visible to every service
//! already built from the layer, without rebuilding anything (`session.headers.update(...)`).
//!
//! A request can opt out of some defaults with the [`WithoutHeaders`] request extension (requests'
//! `headers={'User-Agent': None}`).
//!
//! The hot path takes a read lock only long enough to clone one `Arc` (a copy-on-write snapshot of
//! the defaults), never a whole `HeaderMap` per request.
//!
//! Needs `tower` (feature `util`) and `http` next to this crate; through `tower-requests`,
//! write `tower_requests::layers::headers` and `tower_requests::http`.
//!
//! ```
//! use http::{header, HeaderMap, HeaderValue, Request, Response};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::headers::{DefaultHeadersLayer, SharedHeaders, WithoutHeaders};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let defaults = SharedHeaders::new(tower_requests_layers::headers::default_headers());
//! let mut svc = ServiceBuilder::new()
//!     .layer(DefaultHeadersLayer::shared(defaults.clone()))
//!     .service(service_fn(|req: Request<String>| async move {
//!         // Echo what the "server" received.
//!         Ok::<_, std::convert::Infallible>(Response::new(req.headers().clone()))
//!     }));
//!
//! // Changed at runtime, seen by the service built above.
//! defaults.insert(header::USER_AGENT, HeaderValue::from_static("MyApp/1.0"));
//!
//! let seen = svc.ready().await?.call(Request::new(String::new())).await?.into_body();
//! assert_eq!(seen[header::USER_AGENT], "MyApp/1.0");
//! assert_eq!(seen[header::ACCEPT], "*/*");
//!
//! // A request's own value wins; a request can also drop a default.
//! let mut without = WithoutHeaders::new();
//! without.insert(header::USER_AGENT);
//! let req = Request::builder()
//!     .header(header::ACCEPT, "application/json")
//!     .extension(without)
//!     .body(String::new())?;
//! let seen = svc.ready().await?.call(req).await?.into_body();
//! assert_eq!(seen[header::ACCEPT], "application/json");
//! assert!(seen.get(header::USER_AGENT).is_none());
//! # Ok(())
//! # }
//! ```

mod future;
mod layer;
mod service;
mod shared;

pub use future::ResponseFuture;
pub use layer::DefaultHeadersLayer;
pub use service::DefaultHeaders;
pub use shared::{default_headers, SharedHeaders, WithoutHeaders};
