//! The default stack, assembled from the layers crate in DESIGN.md's order (top to bottom):
//! total timeout, decompression, default headers, redirects, auth, cookies, retry, attempt
//! timeout, then the user's layers and the client.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower::util::Either;
use tower::{Layer, Service, ServiceExt};

use crate::boxed::{box_service, BoxService};
use crate::layers::headers::{DefaultHeadersLayer, SharedHeaders};
use crate::layers::redirect::policy::{Action, Attempt, Policy, Standard};
use crate::layers::redirect::FollowRedirectLayer;
use crate::layers::retry::RetryLayer;
use crate::layers::timeout::{TimeoutLayer, TotalTimeoutLayer};
use crate::Body;

/// The bottom of the stack: the client, or a router over the client and the mounted transports.
pub(crate) fn mount_router(
    client: BoxService,
    mut mounts: Vec<(String, BoxService)>,
) -> BoxService {
    if mounts.is_empty() {
        return client;
    }
    mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    box_service(MountRouter {
        mounts: mounts.into(),
        default: client,
    })
}

/// requests' adapter table: longest prefix first, compared case-insensitively.
#[derive(Clone)]
struct MountRouter {
    mounts: Arc<[(String, BoxService)]>,
    default: BoxService,
}

impl Service<Request<Body>> for MountRouter {
    type Response = http::Response<Body>;
    type Error = crate::BoxError;
    type Future = crate::BoxServiceFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let svc = self
            .mounts
            .iter()
            .find(|(prefix, _)| uri_starts_with(req.uri(), prefix))
            .map(|(_, svc)| svc)
            .unwrap_or(&self.default);
        svc.call_shared(req)
    }
}

/// Whether the URI, as `Display` writes it (`scheme://authority/path?query`), starts with
/// `prefix`, compared case-insensitively, without writing the URI into a string.
fn uri_starts_with(uri: &http::Uri, prefix: &str) -> bool {
    let mut rest = prefix.as_bytes();
    let pieces = [
        uri.scheme_str().unwrap_or(""),
        if uri.scheme().is_some() { "://" } else { "" },
        uri.authority().map_or("", |a| a.as_str()),
        uri.path_and_query().map_or("", |p| p.as_str()),
    ];
    for piece in pieces {
        let piece = piece.as_bytes();
        let n = rest.len().min(piece.len());
        if !rest[..n].eq_ignore_ascii_case(&piece[..n]) {
            return false;
        }
        rest = &rest[n..];
        if rest.is_empty() {
            return true;
        }
    }
    false
}

pub(crate) struct Stack {
    pub(crate) headers: SharedHeaders,
    pub(crate) auth: Option<crate::layers::auth::AuthLayer>,
    pub(crate) retry: crate::Retry,
    pub(crate) timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_redirects: usize,
    pub(crate) follow_redirects: bool,
    pub(crate) redirect_policy: Option<DynPolicy>,
    #[cfg(feature = "cookies")]
    pub(crate) jar: Option<crate::CookieJar>,
    pub(crate) hooks: crate::hooks::Hooks,
}

/// A session's redirect policy, set with
/// [`SessionBuilder::redirect_policy`](crate::SessionBuilder::redirect_policy).
pub(crate) type DynPolicy = Arc<dyn Policy + Send + Sync>;

/// The policy the redirect layer asks: the session's, or requests' own (the usual case, with
/// nothing to clone or call through a pointer).
#[derive(Clone)]
struct SessionPolicy(Option<DynPolicy>);

impl Policy for SessionPolicy {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, crate::BoxError> {
        match &self.0 {
            Some(policy) => policy.redirect(attempt),
            None => Standard.redirect(attempt),
        }
    }

    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        match &self.0 {
            Some(policy) => policy.keep_credentials(attempt),
            None => Standard.keep_credentials(attempt),
        }
    }
}

type RespFn<B> = fn(http::Response<B>) -> http::Response<Body>;

/// `resp.map(Body::new)` as a function pointer, so a layer that changes the response body type
/// can sit in one arm of an `Either` without naming a closure type.
fn rebody<B>(resp: http::Response<B>) -> http::Response<Body>
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    resp.map(Body::new)
}

/// Without a session-wide attempt timeout, a request's own
/// ([`RequestBuilder::attempt_timeout`](crate::RequestBuilder::attempt_timeout),
/// [`read_timeout`](crate::RequestBuilder::read_timeout)) is applied here, under the retry
/// layer so that each attempt gets it: only such requests pay for the timer.
#[derive(Clone)]
struct RequestAttemptTimeout(BoxService);

type TimedFuture = futures_util::future::MapOk<
    crate::layers::timeout::ResponseFuture<crate::BoxServiceFuture>,
    RespFn<crate::layers::timeout::ReadTimeoutBody<Body>>,
>;

impl Service<Request<Body>> for RequestAttemptTimeout {
    type Response = http::Response<Body>;
    type Error = crate::BoxError;
    type Future = futures_util::future::Either<crate::BoxServiceFuture, TimedFuture>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        use crate::layers::ext::{AttemptTimeout, ReadTimeout};
        use futures_util::TryFutureExt;
        let ext = req.extensions();
        if ext.get::<AttemptTimeout>().is_none() && ext.get::<ReadTimeout>().is_none() {
            return futures_util::future::Either::Left(self.0.call_shared(req));
        }
        // The layer's own limit is none: the request's extensions set both.
        let mut timed = crate::layers::timeout::Timeout::new(self.0.clone(), Duration::MAX);
        futures_util::future::Either::Right(timed.call(req).map_ok(rebody as RespFn<_>))
    }
}

/// Between the default headers and decompression: a request that reaches this point without an
/// `Accept-Encoding` had it removed by the user (`without_header`, or removed from the session's
/// defaults). requests then sends `Accept-Encoding: identity` (http.client adds it), so do the
/// same; otherwise tower-http's decompression would offer every encoding it knows again.
#[cfg(any(
    feature = "gzip",
    feature = "brotli",
    feature = "zstd",
    feature = "deflate"
))]
fn identity_if_removed(mut req: Request<Body>) -> Request<Body> {
    // `contains_key`, not `entry`: `entry` reserves room for an insert first (and may grow).
    if !req.headers().contains_key(http::header::ACCEPT_ENCODING) {
        req.headers_mut().insert(
            http::header::ACCEPT_ENCODING,
            http::HeaderValue::from_static("identity"),
        );
    }
    req
}

/// The session's default `Accept-Encoding`: the encodings the decompression layer was built
/// with (features `gzip`, `deflate`, `brotli`, `zstd`).
#[cfg(any(
    feature = "gzip",
    feature = "brotli",
    feature = "zstd",
    feature = "deflate"
))]
pub(crate) fn accept_encoding() -> http::HeaderValue {
    static VALUE: std::sync::OnceLock<http::HeaderValue> = std::sync::OnceLock::new();
    VALUE
        .get_or_init(|| {
            let enabled = [
                (cfg!(feature = "gzip"), "gzip"),
                (cfg!(feature = "deflate"), "deflate"),
                (cfg!(feature = "brotli"), "br"),
                (cfg!(feature = "zstd"), "zstd"),
            ];
            let names: Vec<&str> = enabled.iter().filter(|e| e.0).map(|e| e.1).collect();
            http::HeaderValue::from_str(&names.join(", ")).expect("encoding names are tokens")
        })
        .clone()
}

impl Stack {
    /// Wrap `base` (the client, mounts and the user's layers) in the session layers.
    ///
    /// The layers are composed as concrete types (optional ones through `Either`), so a call
    /// costs one boxed future at the top and one at `base`, not one per layer.
    pub(crate) fn build(self, base: BoxService) -> Calls {
        #[cfg(feature = "tracing")]
        let base = box_service(crate::trace::TraceAttemptLayer.layer(base));
        let svc = match self.attempt_timeout {
            Some(d) => Either::Left(
                TimeoutLayer::new(d)
                    .layer(base)
                    .map_response(rebody as RespFn<_>),
            ),
            None => Either::Right(RequestAttemptTimeout(base)),
        };
        let svc = RetryLayer::new(self.retry).layer(svc);
        // The hooks: above the retries (they see the request once and the response of its last
        // attempt) and under the redirects, auth and cookies (they see each redirect hop as it
        // goes out, Cookie and Authorization in), as requests' response hook does.
        let svc = if self.hooks.is_empty() {
            Either::Right(svc)
        } else {
            // One pointer in each closure: the stack is copied whole for every call.
            let hooks = Arc::new(self.hooks);
            let (req_hooks, resp_hooks) = (hooks.clone(), hooks);
            Either::Left(
                svc.map_request(move |req: Request<Body>| req_hooks.on_request(req))
                    .map_response(move |resp| resp_hooks.on_response(resp)),
            )
        };
        #[cfg(feature = "cookies")]
        let svc = match self.jar {
            Some(jar) => Either::Left(crate::layers::cookie::CookieLayer::new(jar).layer(svc)),
            None => Either::Right(svc),
        };
        let svc = match self.auth {
            Some(auth) => Either::Left(auth.layer(svc)),
            None => Either::Right(svc),
        };
        let redirect = FollowRedirectLayer::new().max(self.max_redirects);
        let redirect = if self.follow_redirects {
            redirect
        } else {
            redirect.disabled()
        }
        .policy(SessionPolicy(self.redirect_policy));
        // Decompression sits under the default headers, so a session's own Accept-Encoding
        // default (or the one SessionBuilder::new puts there) is what it sees and keeps.
        let svc = redirect.layer(svc);
        #[cfg(any(
            feature = "gzip",
            feature = "brotli",
            feature = "zstd",
            feature = "deflate"
        ))]
        let svc = tower_http::decompression::DecompressionLayer::new()
            .layer(svc.map_response(mark_encoded as fn(_) -> _))
            .map_request(identity_if_removed as fn(Request<Body>) -> Request<Body>);
        let svc = DefaultHeadersLayer::shared(self.headers).layer(svc);
        #[cfg(any(
            feature = "gzip",
            feature = "brotli",
            feature = "zstd",
            feature = "deflate"
        ))]
        let svc = svc.map_response(unwrap_identity as fn(_) -> _);
        // The total-timeout layer only where a deadline can be: on every call when the session
        // has one, else on the calls that bring their own (see `Calls`). Without a deadline it
        // would still wrap each response and its body, and move them once more.
        match self.timeout {
            Some(timeout) => Calls {
                service: box_service(TotalTimeoutLayer::new(Some(timeout)).layer(svc)),
                timed: None,
            },
            None => Calls {
                service: box_service(svc),
                timed: Some(OnceLock::new()),
            },
        }
    }
}

/// What a session calls: its stack, and for a stack built without a total timeout, the same
/// stack under the total-timeout layer, made when a request first brings its own
/// ([`RequestBuilder::timeout`](crate::RequestBuilder::timeout)).
#[derive(Clone)]
pub(crate) struct Calls {
    pub(crate) service: BoxService,
    /// `None`: `service` applies total timeouts itself (a session timeout, or a stack given
    /// whole by the user).
    pub(crate) timed: Option<OnceLock<BoxService>>,
}

impl Calls {
    /// A stack used as it is.
    pub(crate) fn whole(service: BoxService) -> Calls {
        Calls {
            service,
            timed: None,
        }
    }

    /// The service for `req`.
    pub(crate) fn for_request(&self, req: &Request<Body>) -> &BoxService {
        match &self.timed {
            Some(timed)
                if req
                    .extensions()
                    .get::<crate::layers::ext::RequestTimeout>()
                    .is_some() =>
            {
                timed.get_or_init(|| {
                    box_service(TotalTimeoutLayer::new(None).layer(self.service.clone()))
                })
            }
            _ => &self.service,
        }
    }
}

/// Set under the decompression layer on a response that names a `Content-Encoding`: only such
/// a response can come out of it with a decoder around its body.
#[cfg(any(
    feature = "gzip",
    feature = "brotli",
    feature = "zstd",
    feature = "deflate"
))]
#[derive(Clone, Copy)]
struct Encoded;

#[cfg(any(
    feature = "gzip",
    feature = "brotli",
    feature = "zstd",
    feature = "deflate"
))]
fn mark_encoded(mut resp: http::Response<Body>) -> http::Response<Body> {
    if resp.headers().contains_key(http::header::CONTENT_ENCODING) {
        resp.extensions_mut().insert(Encoded);
    }
    resp
}

/// At the top of the stack: a response the decompression layer left as it was (no
/// `Content-Encoding`, the usual case) gets its own body back, so the session's `Body` reaches
/// the caller as it is. tower-http's `DecompressionBody` keeps room for every decoder in line
/// (368 bytes around a 40-byte body): boxed at the top of every call, and read through one
/// wrapper more, for nothing.
#[cfg(any(
    feature = "gzip",
    feature = "brotli",
    feature = "zstd",
    feature = "deflate"
))]
fn unwrap_identity(
    mut resp: http::Response<tower_http::decompression::DecompressionBody<Body>>,
) -> http::Response<Body> {
    if resp.extensions_mut().remove::<Encoded>().is_some() {
        resp.map(Body::new)
    } else {
        resp.map(tower_http::decompression::DecompressionBody::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::uri_starts_with;

    #[cfg(all(
        feature = "gzip",
        feature = "deflate",
        feature = "brotli",
        feature = "zstd"
    ))]
    #[test]
    fn accept_encoding_lists_the_enabled_encodings() {
        assert_eq!(super::accept_encoding(), "gzip, deflate, br, zstd");
    }

    #[test]
    fn prefix_match_agrees_with_the_written_uri() {
        let uris = [
            "http://example.com/a/b?q=1",
            "HTTPS://Example.COM:8443/",
            "http://127.0.0.1:8080/x",
            "/relative?x",
            "http://h",
        ];
        let prefixes = [
            "",
            "h",
            "http",
            "http://",
            "https://",
            "http:/",
            "http://example.com",
            "http://EXAMPLE.com/a",
            "http://example.com/a/b?q=1",
            "http://example.com/a/b?q=12",
            "https://example.com:8443/",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:80",
            "/rel",
            "http://h/",
        ];
        for u in uris {
            let uri: http::Uri = u.parse().unwrap();
            let written = uri.to_string();
            for p in prefixes {
                let expected = written.len() >= p.len()
                    && written.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
                assert_eq!(
                    uri_starts_with(&uri, p),
                    expected,
                    "{u:?} / {p:?} ({written:?})"
                );
            }
        }
    }
}
