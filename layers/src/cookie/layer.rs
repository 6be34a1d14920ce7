//! [`CookieLayer`].

use tower_layer::Layer;

use super::jar::CookieJar;
use super::service::CookieService;

/// Adds the jar's cookies to every request and stores every response's Set-Cookie in the jar.
///
/// See the [module docs](super) for how it cooperates with a redirect layer above it.
#[derive(Clone, Debug)]
pub struct CookieLayer {
    jar: CookieJar,
}

impl CookieLayer {
    /// A layer over `jar` (a handle: the caller may keep a clone to read or change the jar).
    pub fn new(jar: CookieJar) -> Self {
        CookieLayer { jar }
    }

    /// The jar this layer uses.
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }
}

impl<S> Layer<S> for CookieLayer {
    type Service = CookieService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieService::new(inner, self.jar.clone())
    }
}
