//! Request and response extensions that layers read and write: the contract between layers
//! (and between them and the `tower-requests` facade).
//!
//! Layers never import each other. When one needs what another one set, say the auth layer
//! scoping credentials to the call's first URI that the redirect layer records on every hop, the
//! type lives here, and each layer documents which of these it reads and which it writes:
//!
//! | extension | on | written by | read by |
//! |---|---|---|---|
//! | [`OriginalUri`] | request | redirect layer (every hop after the first) | auth layer |
//! | [`Fragment`] | request, response | the caller; redirect layer | redirect layer; the caller |
//! | [`RequestTimeout`] | request | the caller | total-timeout layer |
//! | [`Redirects`] | request | the caller | redirect layer |
//! | [`AttemptTimeout`], [`ReadTimeout`] | request | the caller | per-attempt timeout layer |
//! | [`EffectiveUri`] | response | redirect layer | the caller |
//! | [`History`] | response | redirect layer | the caller |
//!
//! The other shared pieces: [`delivery`](crate::delivery) (how far a failed request got, from
//! the client to the retry layer) and [`body`](crate::body) (replaying and draining bodies).

use std::ops::Deref;
use std::time::Duration;

use http::{HeaderMap, StatusCode, Uri};

/// Request extension set by the redirect layer on every redirect hop it sends: the URI of the
/// call's first request. The first request itself carries none (its own URI is the original;
/// read `extensions().get::<OriginalUri>()` with `req.uri()` as the fallback), unless the
/// caller set one, which is then kept on every hop. The auth layer scopes credentials with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginalUri(pub Uri);

/// Response extension: the URI of the request that produced this response (the final URL), on
/// responses reached through at least one redirect (otherwise it is the request's URI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveUri(pub Uri);

/// URL fragment (without `#`). `http::Uri` cannot hold fragments, so:
/// as a request extension, the fragment of the URL the caller asked for (carried over redirects
/// whose `Location` has none); as a response extension, the fragment of the final URL of a
/// redirected response, when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment(pub String);

/// One followed redirect.
#[derive(Clone, Debug)]
pub struct Hop {
    /// The 3xx status.
    pub status: StatusCode,
    /// The URI of the request that got the 3xx (userinfo removed).
    pub uri: Uri,
    /// The headers of the 3xx response.
    pub headers: HeaderMap,
}

/// Response extension: the redirects followed to get this response, in order (requests'
/// `Response.history`). Present on responses reached through at least one redirect; absent
/// means none was followed.
#[derive(Clone, Debug, Default)]
pub struct History(pub Vec<Hop>);

impl Deref for History {
    type Target = [Hop];

    fn deref(&self) -> &[Hop] {
        &self.0
    }
}

impl IntoIterator for History {
    type Item = Hop;
    type IntoIter = std::vec::IntoIter<Hop>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Request extension: the total limit for this one call, replacing the
/// [`TotalTimeoutLayer`](crate::timeout::TotalTimeoutLayer)'s own (the session's per-request `.timeout(d)` inserts it).
///
/// ```
/// use std::time::Duration;
/// use tower_requests_layers::timeout::RequestTimeout;
/// let req = http::Request::builder()
///     .extension(RequestTimeout(Duration::from_secs(5)))
///     .body(())
///     .unwrap();
/// assert_eq!(req.extensions().get::<RequestTimeout>(), Some(&RequestTimeout(Duration::from_secs(5))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestTimeout(pub Duration);

/// Request extension: whether this call follows redirects, replacing the redirect layer's own
/// setting for it.
///
/// ```
/// use tower_requests_layers::ext::Redirects;
/// let req = http::Request::builder()
///     .extension(Redirects::Off)
///     .body(())
///     .unwrap();
/// assert_eq!(req.extensions().get::<Redirects>(), Some(&Redirects::Off));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Redirects {
    /// Return a 3xx response as it is (requests' `allow_redirects=False`).
    Off,
    /// Follow, up to the layer's limit (also when the layer itself follows none).
    Follow,
    /// Follow up to this many; one more is a `TooManyRedirects` error.
    Max(usize),
}

/// Request extension: this call's per-attempt limit, replacing the
/// [`TimeoutLayer`](crate::timeout::TimeoutLayer)'s own: each attempt must get its response head
/// within it, and then no read of the body may wait longer (unless a [`ReadTimeout`] says
/// otherwise). requests' `timeout=5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptTimeout(pub Duration);

/// Request extension: this call's limit on making a connection (name lookup, TCP, TLS, a
/// proxy's tunnel), when one has to be made; a pooled connection needs none. The connect part
/// of requests' `timeout=(connect, read)`. Honoured by tower-requests' `HttpClient`, together
/// with its own `connect_timeout` when it has one (the shorter ends the wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectTimeout(pub Duration);

/// Request extension: this call's read limit, the longest silence while waiting for the
/// response head (unless an [`AttemptTimeout`] is set) and between reads of the body, replacing
/// the [`TimeoutLayer`](crate::timeout::TimeoutLayer)'s own. The read part of requests'
/// `timeout=(connect, read)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadTimeout(pub Duration);
