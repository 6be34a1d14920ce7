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
//! use http::{header, HeaderMap, HeaderValue, Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::headers::DefaultHeadersLayer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // Answers with the User-Agent it got.
//! #     let ua = req.headers().get(header::USER_AGENT).cloned();
//! #     Response::new(Full::from(ua.map_or(Bytes::new(), |v| Bytes::copy_from_slice(v.as_bytes()))))
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
//! let mut defaults = HeaderMap::new();
//! defaults.insert(header::USER_AGENT, HeaderValue::from_static("my-app/1.0"));
//! let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let svc = ServiceBuilder::new()
//!     .layer(DefaultHeadersLayer::new(defaults))
//!     .service(client);
//!
//! let resp = svc.oneshot(Request::get(format!("{base}/")).body(Full::default())?).await?;
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "my-app/1.0");
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
