//! [`AuthLayer`].

use std::sync::Arc;

use http::Uri;
use tower_layer::Layer;

use super::digest::Digest;
use super::origin::Origin;
use super::scheme::{bearer_scheme, Auth, Scheme};
use super::service::AuthService;
use crate::origin::basic;

/// Where the layer's credentials may go.
#[derive(Clone, Debug)]
pub(crate) enum Scope {
    /// The origin of the call's first request (see [`AuthOrigin`](super::AuthOrigin)).
    FirstRequest,
    /// Everywhere.
    Any,
    /// One origin (`None`: the URI given had no usable origin, so nowhere).
    Origin(Option<Origin>),
}

/// Adds credentials to requests: Basic, Bearer, Digest (RFC 7616) or a custom [`Auth`].
///
/// See the [module docs](super) for origin scoping and precedence.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    pub(crate) scheme: Scheme,
    pub(crate) scope: Scope,
}

impl AuthLayer {
    fn with(scheme: Scheme) -> Self {
        AuthLayer {
            scheme,
            scope: Scope::FirstRequest,
        }
    }

    /// HTTP Basic (RFC 7617; user and password UTF-8 encoded), sent preemptively.
    pub fn basic(username: impl AsRef<str>, password: impl AsRef<str>) -> Self {
        Self::with(Scheme::Static(basic(username.as_ref(), password.as_ref())))
    }

    /// `Authorization: Bearer <token>`. A token that cannot be put in a header makes every
    /// request fail with [`AuthError::InvalidCredentials`](super::AuthError::InvalidCredentials).
    pub fn bearer(token: impl AsRef<str>) -> Self {
        Self::with(bearer_scheme(token.as_ref()))
    }

    /// HTTP Digest (RFC 7616: MD5, MD5-sess, SHA-256, SHA-256-sess; `qop=auth`). The first
    /// request to an origin goes without credentials; its 401 challenge is answered once, and
    /// later requests answer the last challenge preemptively (counting `nc`), re-answering once
    /// when the server says the nonce is `stale`.
    pub fn digest(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::with(Scheme::Digest(Arc::new(Digest::new(
            username.into(),
            password.into(),
        ))))
    }

    /// A custom scheme.
    pub fn custom(auth: impl Auth) -> Self {
        Self::with(Scheme::Custom(Arc::new(auth)))
    }

    /// Sends the credentials to any origin, also after cross-origin redirects. Only for
    /// credentials meant to be sent everywhere.
    pub fn any_origin(mut self) -> Self {
        self.scope = Scope::Any;
        self
    }

    /// Sends the credentials only to the origin of `uri` (and its `http` → `https` upgrade on the
    /// default ports). A `uri` without an origin (relative) means the credentials go nowhere.
    pub fn for_origin(mut self, uri: &Uri) -> Self {
        self.scope = Scope::Origin(Origin::from_uri(uri));
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            scheme: self.scheme.clone(),
            scope: self.scope.clone(),
        }
    }
}
