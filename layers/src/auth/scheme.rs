//! The [`Auth`] trait and the built-in schemes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::header::HeaderValue;
use http::{request, response};

use super::digest::Digest;
use crate::BoxError;

/// A custom authentication scheme (token providers, signatures, ...).
///
/// `authorize` sets headers on each request the layer lets credentials go to (same origin, no
/// `Authorization` header yet). `on_unauthorized` sees the first 401 of a request, at most once
/// per request: it may refresh a token and return `true` to resend the request, which then goes
/// through `authorize` again. The body is replayed with [`ReplayBody`](crate::ReplayBody); when it
/// cannot be (a stream), the hook still runs (so a token can be refreshed) but the 401 is returned
/// as it is.
///
/// ```
/// use http::{header, request, response, HeaderValue, StatusCode};
/// use std::sync::{Arc, Mutex};
/// use tower_requests_layers::{auth::Auth, BoxError};
///
/// struct Token(Arc<Mutex<String>>);
///
/// impl Auth for Token {
///     async fn authorize(&self, req: &mut request::Parts) -> Result<(), BoxError> {
///         let value = format!("Bearer {}", self.0.lock().unwrap());
///         req.headers.insert(header::AUTHORIZATION, HeaderValue::try_from(value)?);
///         Ok(())
///     }
///
///     async fn on_unauthorized(
///         &self,
///         _sent: &request::Parts,
///         res: &response::Parts,
///     ) -> Result<bool, BoxError> {
///         *self.0.lock().unwrap() = "fresh-token".into(); // e.g. call the token endpoint
///         Ok(res.status == StatusCode::UNAUTHORIZED)
///     }
/// }
/// let layer = tower_requests_layers::AuthLayer::custom(Token(Arc::default()));
/// # let _ = layer;
/// ```
pub trait Auth: Send + Sync + 'static {
    /// Adds credentials to `request` (the request head; its URI has no userinfo).
    fn authorize(
        &self,
        request: &mut request::Parts,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// Sees the head of the first 401 answered to `sent` (the request head as it was sent);
    /// returns whether to resend the request. The default returns `false`.
    fn on_unauthorized(
        &self,
        sent: &request::Parts,
        response: &response::Parts,
    ) -> impl Future<Output = Result<bool, BoxError>> + Send {
        let _ = (sent, response);
        async { Ok(false) }
    }
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// [`Auth`] made object safe: the futures own what they use.
pub(crate) trait DynAuth: Send + Sync {
    fn authorize_boxed(
        self: Arc<Self>,
        parts: request::Parts,
    ) -> BoxFuture<Result<request::Parts, BoxError>>;

    fn unauthorized_boxed(
        self: Arc<Self>,
        sent: request::Parts,
        response: response::Parts,
    ) -> BoxFuture<Result<(response::Parts, bool), BoxError>>;
}

impl<A: Auth> DynAuth for A {
    fn authorize_boxed(
        self: Arc<Self>,
        mut parts: request::Parts,
    ) -> BoxFuture<Result<request::Parts, BoxError>> {
        Box::pin(async move {
            self.authorize(&mut parts).await?;
            Ok(parts)
        })
    }

    fn unauthorized_boxed(
        self: Arc<Self>,
        sent: request::Parts,
        response: response::Parts,
    ) -> BoxFuture<Result<(response::Parts, bool), BoxError>> {
        Box::pin(async move {
            let resend = self.on_unauthorized(&sent, &response).await?;
            Ok((response, resend))
        })
    }
}

/// What the layer does to a request it may authorize.
#[derive(Clone)]
pub(crate) enum Scheme {
    /// A fixed `Authorization` value (Basic, Bearer).
    Static(HeaderValue),
    /// Credentials that cannot be sent: every request fails with this reason.
    Invalid(&'static str),
    Digest(Arc<Digest>),
    Custom(Arc<dyn DynAuth>),
}

impl std::fmt::Debug for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials.
        f.write_str(match self {
            Scheme::Static(_) => "Static(..)",
            Scheme::Invalid(_) => "Invalid",
            Scheme::Digest(_) => "Digest(..)",
            Scheme::Custom(_) => "Custom(..)",
        })
    }
}

pub(crate) fn bearer_scheme(token: &str) -> Scheme {
    match HeaderValue::try_from(format!("Bearer {token}")) {
        Ok(mut value) => {
            value.set_sensitive(true);
            Scheme::Static(value)
        }
        Err(_) => Scheme::Invalid("the bearer token contains characters not allowed in a header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_encoding() {
        assert_eq!(crate::origin::basic("user", "pass"), "Basic dXNlcjpwYXNz");
        assert!(crate::origin::basic("ü", "\n").is_sensitive());
        assert!(matches!(bearer_scheme("a\nb"), Scheme::Invalid(_)));
        assert!(matches!(bearer_scheme("abc"), Scheme::Static(v) if v == "Bearer abc"));
    }
}
