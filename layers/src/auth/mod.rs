//! `AuthLayer`: Basic, Bearer, Digest (RFC 7616) and custom async credentials, scoped to an origin.
//!
//! # Which requests get credentials
//!
//! 1. A request that already has an `Authorization` header is left alone (a per-request
//!    `basic_auth` beats the session's).
//! 2. Credentials in the URL (`http://user:pass@host/`, percent-decoded) are sent as Basic for
//!    that request, and always removed from the URI before it goes further.
//! 3. Otherwise the layer's credentials go only to the origin (scheme, host, port) they are for:
//!    by default the origin of the call's first request. Below a
//!    [`FollowRedirectLayer`](crate::redirect::FollowRedirectLayer), every hop carries the
//!    call's first URI ([`OriginalUri`](crate::ext::OriginalUri)), so a redirect to another
//!    origin gets no credentials, whatever it says. An `http` → `https` upgrade of the same host on
//!    the default ports counts as the same origin (as in requests). [`AuthLayer::for_origin`]
//!    and [`AuthLayer::any_origin`] change the scope; an [`AuthOrigin`] request extension pins a
//!    call's origin explicitly.
//!
//!    Under a redirect layer that does not copy request extensions onto hops (or drops them
//!    cross-origin, like tower-http's standard policy), each hop looks like a first request:
//!    set [`AuthLayer::for_origin`] there.
//!
//! # Challenges and resends
//!
//! Digest and custom schemes may resend a request once after a 401 (never more: no loops). The
//! body is replayed with [`ReplayBody`](crate::ReplayBody); a body that cannot be replayed (a
//! stream) means the 401 is returned as it is. The answered 401's body is read to its end
//! before the resend, as requests does, so its connection can be reused (up to
//! [`MAX_DRAIN`](crate::body::MAX_DRAIN) bytes; a longer one is dropped unread).
//!
//! # Digest
//!
//! RFC 7616 with `qop=auth` (or the RFC 2069 form when the server offers no qop): MD5, MD5-sess,
//! SHA-256 and SHA-256-sess, the strongest offered one chosen; `nc` counted per nonce, a random
//! `cnonce`, `opaque` echoed, `uri` = the request's path and query. Not supported (the 401 is
//! returned): `qop=auth-int` only, SHA-512-256, `userhash=true` (the plain username is sent).
//!
//! # Example
//!
//! Needs `tower` (feature `util`) and `http` next to this crate; through `tower-requests`,
//! write `tower_requests::layers::AuthLayer` and `tower_requests::http`.
//!
//! ```
//! use http::{header, Request, Response};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::AuthLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! // A server that answers with the Authorization header it got.
//! let server = service_fn(|req: Request<String>| async move {
//!     let auth = req.headers().get(header::AUTHORIZATION);
//!     let auth = auth.and_then(|v| v.to_str().ok()).unwrap_or_default();
//!     Ok::<_, std::convert::Infallible>(Response::new(auth.to_string()))
//! });
//! let mut svc = ServiceBuilder::new()
//!     .layer(AuthLayer::basic("user", "pass"))
//!     .service(server);
//!
//! let req = Request::get("http://api.test/").body(String::new())?;
//! let seen = svc.ready().await?.call(req).await?.into_body();
//! assert_eq!(seen, "Basic dXNlcjpwYXNz");
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
//! use http::{header, Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::AuthLayer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // Answers with the Authorization header it got.
//! #     let auth = req.headers().get(header::AUTHORIZATION).cloned();
//! #     Response::new(Full::from(auth.map_or(Bytes::new(), |v| Bytes::copy_from_slice(v.as_bytes()))))
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
//!     .layer(AuthLayer::basic("user", "pass"))
//!     .service(client);
//!
//! let resp = svc.oneshot(Request::get(format!("{base}/")).body(Full::default())?).await?;
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "Basic dXNlcjpwYXNz");
//! # Ok(())
//! # }
//! ```

mod digest;
mod error;
mod future;
mod layer;
mod origin;
mod scheme;
mod service;

pub use error::AuthError;
pub use future::ResponseFuture;
pub use layer::AuthLayer;
pub use origin::{AuthOrigin, Origin};
pub use scheme::Auth;
pub use service::AuthService;
