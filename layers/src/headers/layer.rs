//! [`DefaultHeadersLayer`].

use http::HeaderMap;
use tower_layer::Layer;

use super::service::DefaultHeaders;
use super::shared::SharedHeaders;

/// Adds default headers to every request that has no value for them.
///
/// See the [module docs](super).
#[derive(Clone, Debug)]
pub struct DefaultHeadersLayer {
    headers: SharedHeaders,
}

impl DefaultHeadersLayer {
    /// A layer with its own copy of `headers` (reach it later through [`Self::headers`]).
    pub fn new(headers: HeaderMap) -> Self {
        DefaultHeadersLayer {
            headers: SharedHeaders::new(headers),
        }
    }

    /// A layer reading its defaults from the shared handle `headers`: changes made through any
    /// clone of the handle apply to the next request.
    pub fn shared(headers: SharedHeaders) -> Self {
        DefaultHeadersLayer { headers }
    }

    /// The handle to this layer's defaults.
    pub fn headers(&self) -> &SharedHeaders {
        &self.headers
    }
}

impl<S> Layer<S> for DefaultHeadersLayer {
    type Service = DefaultHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DefaultHeaders::new(inner, self.headers.clone())
    }
}
