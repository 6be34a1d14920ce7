//! [`MockTransport`]: a transport that answers from routes you give it and records every
//! request it sees, so code that uses a [`Session`](crate::Session) can be tested with no server
//! and no network (httpx's `MockTransport`; requests users reach for `requests-mock` or
//! `responses`).
//!
//! Mount it under a session with [`SessionBuilder::mount`](crate::SessionBuilder::mount): it
//! replaces only the transport (the pooled client), so the session's layers (default headers,
//! redirects, auth, cookies, retries, timeouts, hooks) run over it exactly as over the network.
//! The prefix `""` sends every URL to it. [`Session::from_service`](crate::Session::from_service)
//! also takes it, as a bare transport without the session's layers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests::Error> {
//! use tower_requests::http::Method;
//! use tower_requests::mock::{MockResponse, MockTransport};
//! use tower_requests::{Retry, Session};
//!
//! let mock = MockTransport::new()
//!     .route(Method::POST, "/login", MockResponse::new(200).header("set-cookie", "sid=abc; Path=/"))
//!     .route(Method::GET, "/me", MockResponse::new(200).body("alice"))
//!     // 503 first, then 200 for every later call:
//!     .route_sequence(Method::GET, "/flaky", [MockResponse::new(503), MockResponse::new(200)]);
//! let session = Session::builder()
//!     .mount("", mock.clone())
//!     .retry(Retry::new().total(2).status_forcelist([503]))
//!     .build()?;
//!
//! session.post("http://api.test/login").form(&[("user", "alice")]).send().await?;
//! let me = session.get("http://api.test/me").send().await?.text().await?;
//! assert_eq!(me, "alice");
//! assert_eq!(session.get("http://api.test/flaky").send().await?.status(), 200);
//!
//! let seen = mock.requests();
//! assert_eq!(seen.len(), 4); // login, me, and two attempts at /flaky
//! assert_eq!(seen[0].body(), &b"user=alice"[..]);
//! assert_eq!(seen[1].headers()["cookie"], "sid=abc"); // the cookie layer ran over the mock
//! # Ok(()) }
//! ```
//!
//! A request no route matches gets a `404` whose body says so (or goes to the closure given to
//! [`MockTransport::fallback`]). Request bodies are read whole into memory to be recorded.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use url::Url;

use crate::{Body, BoxError};

/// A tower `Service<http::Request<Body>>` that answers by method and path, or with a closure,
/// and records every request; see the [module docs](self).
///
/// Cloning it gives another handle to the same routes and the same record: keep a clone to
/// read [`requests()`](MockTransport::requests) after mounting one in a session.
#[derive(Clone, Default)]
pub struct MockTransport {
    inner: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<Vec<Route>>,
    fallback: Mutex<Option<Handler>>,
    seen: Mutex<Vec<RecordedRequest>>,
}

type Handler = Arc<dyn Fn(&RecordedRequest) -> MockResponse + Send + Sync>;

struct Route {
    method: Option<Method>,
    path: String,
    answer: Answer,
}

enum Answer {
    /// Answered in turn; the last one again once the others are used.
    Sequence(VecDeque<MockResponse>),
    Handler(Handler),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler poisons nothing worth refusing: the data stays consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MockTransport {
    /// A mock with no routes (every request gets a 404).
    pub fn new() -> MockTransport {
        MockTransport::default()
    }

    /// Answer requests with this method and exactly this path (no query; `/` for the root)
    /// with `response`, every time ([`route_any`](Self::route_any) for any method). Routes are
    /// tried in the order they were added.
    pub fn route(self, method: Method, path: impl Into<String>, response: MockResponse) -> Self {
        self.add(
            Some(method),
            path.into(),
            Answer::Sequence([response].into()),
        )
    }

    /// Answer requests with any method and this path with `response`, every time.
    pub fn route_any(self, path: impl Into<String>, response: MockResponse) -> Self {
        self.add(None, path.into(), Answer::Sequence([response].into()))
    }

    /// Answer with each response in turn, then the last one for every later request: a `503`
    /// then a `200`, say, to see a retry happen.
    pub fn route_sequence<I>(self, method: Method, path: impl Into<String>, responses: I) -> Self
    where
        I: IntoIterator<Item = MockResponse>,
    {
        let responses: VecDeque<MockResponse> = responses.into_iter().collect();
        let responses = if responses.is_empty() {
            [MockResponse::new(StatusCode::NOT_FOUND)].into()
        } else {
            responses
        };
        self.add(Some(method), path.into(), Answer::Sequence(responses))
    }

    /// Answer requests with this method and path with what `handler` makes of the request.
    pub fn route_fn<F>(self, method: Method, path: impl Into<String>, handler: F) -> Self
    where
        F: Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    {
        self.add(
            Some(method),
            path.into(),
            Answer::Handler(Arc::new(handler)),
        )
    }

    /// Answer every request no route matches with what `handler` makes of it (instead of a
    /// `404`).
    pub fn fallback<F>(self, handler: F) -> Self
    where
        F: Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    {
        *lock(&self.inner.fallback) = Some(Arc::new(handler));
        self
    }

    /// A mock that answers every request with the closure (httpx's `MockTransport(handler)`).
    pub fn from_fn<F>(handler: F) -> MockTransport
    where
        F: Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    {
        MockTransport::new().fallback(handler)
    }

    fn add(self, method: Option<Method>, path: String, answer: Answer) -> Self {
        lock(&self.inner.routes).push(Route {
            method,
            path,
            answer,
        });
        self
    }

    /// Every request seen so far, oldest first (a copy).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.seen).clone()
    }

    /// Forget the requests seen so far (the routes stay).
    pub fn clear_requests(&self) {
        lock(&self.inner.seen).clear();
    }

    fn answer(&self, req: &RecordedRequest) -> MockResponse {
        let handler = {
            let mut routes = lock(&self.inner.routes);
            let route = routes.iter_mut().find(|r| {
                r.method.as_ref().is_none_or(|m| m == req.method()) && r.path == req.url().path()
            });
            match route {
                Some(route) => match &mut route.answer {
                    Answer::Sequence(queue) => {
                        let next = if queue.len() > 1 {
                            queue.pop_front()
                        } else {
                            queue.front().cloned()
                        };
                        return next.unwrap_or_else(|| MockResponse::new(StatusCode::NOT_FOUND));
                    }
                    Answer::Handler(h) => Some(h.clone()),
                },
                None => lock(&self.inner.fallback).clone(),
            }
        };
        // Called with no lock held: the handler may use this mock's handle.
        match handler {
            Some(handler) => handler(req),
            None => MockResponse::new(StatusCode::NOT_FOUND).body(format!(
                "MockTransport: no route for {} {}",
                req.method(),
                req.url().path()
            )),
        }
    }
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockTransport")
            .field("routes", &lock(&self.inner.routes).len())
            .field("requests", &lock(&self.inner.seen).len())
            .finish()
    }
}

impl tower::Service<Request<Body>> for MockTransport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let mock = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes();
            let text = parts.uri.to_string();
            let url = Url::parse(&text)
                .or_else(|_| Url::parse("http://localhost/").and_then(|base| base.join(&text)))?;
            let recorded = RecordedRequest {
                method: parts.method,
                url,
                headers: parts.headers,
                body,
            };
            let answer = mock.answer(&recorded);
            lock(&mock.inner.seen).push(recorded);
            Ok(answer.into_response())
        })
    }
}

/// A request as [`MockTransport`] saw it: what the session's layers made of it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Bytes,
}

impl RecordedRequest {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The full URL (query included).
    pub fn url(&self) -> &Url {
        &self.url
    }
    /// The headers, as sent (session defaults, cookies and auth included).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The body, read whole.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What a [`MockTransport`] route answers: a status, headers and a body.
#[derive(Clone, Debug)]
pub struct MockResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl MockResponse {
    /// A response with this status (a number that is no valid status gives a `500`) and no
    /// body.
    pub fn new<S>(status: S) -> MockResponse
    where
        StatusCode: TryFrom<S>,
    {
        MockResponse {
            status: StatusCode::try_from(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A `200` with this body.
    pub fn ok(body: impl Into<Bytes>) -> MockResponse {
        MockResponse::new(StatusCode::OK).body(body)
    }

    /// Add a header (appended: `Set-Cookie` may be given several times). A name or value that
    /// is not valid in a header is left out.
    pub fn header<K, V>(mut self, name: K, value: V) -> MockResponse
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(name, value);
        }
        self
    }

    /// The body.
    pub fn body(mut self, body: impl Into<Bytes>) -> MockResponse {
        self.body = body.into();
        self
    }

    fn into_response(self) -> http::Response<Body> {
        let mut resp = http::Response::new(Body::full(self.body));
        *resp.status_mut() = self.status;
        *resp.headers_mut() = self.headers;
        resp
    }
}
