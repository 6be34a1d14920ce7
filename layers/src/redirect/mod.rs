//! `FollowRedirectLayer`: redirects the way Python requests follows them, without leaking credentials.
//!
//! # Policy (requests' `SessionRedirectMixin`)
//!
//! * At most 30 redirects by default ([`FollowRedirectLayer::max`]); one more 3xx is a
//!   [`TooManyRedirects`] error (not the last 3xx). [`FollowRedirectLayer::none`] returns 3xx
//!   responses as they are.
//! * 302 and 303 turn any method but `HEAD` into `GET`; 301 turns only `POST` into `GET`. All three
//!   drop the body and the `Content-Length`, `Content-Type` and `Transfer-Encoding` headers, even
//!   when the method stays.
//! * 307 and 308 keep the method and replay the body through [`ReplayBody`](crate::ReplayBody); a
//!   body that cannot be replayed (a stream) is a [`RedirectError::BodyNotReplayable`] error rather
//!   than a silently empty body.
//! * `Location` is resolved against the current URL with the `url` crate (relative and
//!   protocol-relative references work); the fragment of the previous URL is carried over when the
//!   `Location` has none. A `Location` that does not parse, or whose scheme is not `http`/`https`,
//!   is a [`RedirectError`]. An empty (or blank) `Location` is no redirect: the 3xx is returned
//!   as it is, as requests does.
//! * When the scheme, host or port changes, `Authorization`, `Proxy-Authorization`, `Cookie` and an
//!   explicit `Host` are removed, and stay removed for the rest of the chain (an `http` → `https`
//!   upgrade on the default ports of the same host keeps them, like requests' `should_strip_auth`).
//!   Layers below (auth, cookies) decide again on every hop.
//! * Every hop carries the original request's extensions, plus [`OriginalUri`] (the URI of the
//!   call's first request), which the auth layer uses to keep credentials on their origin.
//! * A response reached through redirects carries a [`History`] (one [`Hop`] per 3xx followed)
//!   and the [`EffectiveUri`] (final URI), plus [`Fragment`] when the final URL has one. A
//!   response that followed no redirect carries none of them: its URI is the request's own
//!   (read them with that fallback, as for [`OriginalUri`]). The body of a followed 3xx is
//!   read to its end before the next hop, as requests does, so its connection can be reused
//!   (up to [`MAX_DRAIN`](crate::body::MAX_DRAIN) bytes, waited for no longer than the
//!   per-attempt timeout or [`MAX_DRAIN_WAIT`](crate::body::MAX_DRAIN_WAIT); a longer or
//!   slower one is dropped, with its connection). Error messages and [`Hop`]s never show the
//!   userinfo of a URL ([`crate::redact`]).
//!
//! # Choosing which redirects to follow
//!
//! Each redirect is put to the layer's [`Policy`] ([`FollowRedirectLayer::policy`]): follow it,
//! stop (the 3xx is the answer), or fail the call; and whether the credentials above go along.
//! The default, [`policy::Standard`], is requests'. [`policy`] has tower-http's set
//! (same-origin only, limited, filter-credentials, a closure) and `and`/`or` to combine them.
//!
//! # Why not tower-http's `FollowRedirect`
//!
//! tower-http 0.7's `Policy` trait cannot express this policy: the method/body rewriting is hard
//! coded there (a 302 turns only `POST` into `GET`, and 301/302 keep the body and `Content-*`
//! headers for other methods), an unreplayable 307/308 body or an unusable `Location` ends the
//! chain by returning the 3xx instead of an error, the policy never sees the responses, so it
//! cannot build a history, fragments are not carried over, and its standard policy drops all
//! extensions cross-origin (our auth layer needs them to know the call's origin).
//!
//! # Example
//!
//! ```
//! use http::{header, Request, Response, StatusCode};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::redirect::{EffectiveUri, FollowRedirectLayer, History};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let server = service_fn(|req: Request<String>| async move {
//!     let res = if req.uri().path() == "/old" {
//!         Response::builder()
//!             .status(StatusCode::FOUND)
//!             .header(header::LOCATION, "/new")
//!             .body(String::new())
//!     } else {
//!         Response::builder().body(format!("{} {}", req.method(), req.uri()))
//!     };
//!     Ok::<_, http::Error>(res?)
//! });
//! let mut svc = ServiceBuilder::new().layer(FollowRedirectLayer::new()).service(server);
//!
//! let req = Request::post("http://example.test/old").body("payload".to_string())?;
//! let res = svc.ready().await?.call(req).await?;
//! assert_eq!(res.body(), "GET http://example.test/new");
//! assert_eq!(res.extensions().get::<EffectiveUri>().unwrap().0, "http://example.test/new");
//! let history = res.extensions().get::<History>().unwrap();
//! assert_eq!(history.len(), 1);
//! assert_eq!(history[0].status, StatusCode::FOUND);
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
//! use http::{header, Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_requests_layers::redirect::{FollowRedirectLayer, History};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! # async fn handle(req: Request<Incoming>) -> Response<Full<Bytes>> {
//! #     // `/old` redirects to `/new`, which answers with its method.
//! #     if req.uri().path() == "/old" {
//! #         let mut resp = Response::new(Full::default());
//! #         *resp.status_mut() = StatusCode::SEE_OTHER;
//! #         resp.headers_mut().insert(header::LOCATION, "/new".parse().unwrap());
//! #         return resp;
//! #     }
//! #     Response::new(Full::from(format!("{} {}", req.method(), req.uri().path())))
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
//!     .layer(FollowRedirectLayer::new())
//!     .service(client);
//!
//! let req = Request::post(format!("{base}/old")).body(Full::from("form"))?;
//! let resp = svc.oneshot(req).await?;
//! assert_eq!(resp.extensions().get::<History>().map(|h| h.len()), Some(1));
//! assert_eq!(resp.into_body().collect().await?.to_bytes(), "GET /new");
//! # Ok(())
//! # }
//! ```

mod error;
mod future;
mod layer;
pub mod policy;
mod rules;
mod service;

pub use error::{RedirectError, TooManyRedirects};
pub use future::{ResponseBody, ResponseFuture};
pub use layer::FollowRedirectLayer;
pub use policy::{Action, Attempt, Policy, PolicyExt};
pub use rules::{EffectiveUri, Fragment, History, Hop, OriginalUri};
pub use service::FollowRedirect;
