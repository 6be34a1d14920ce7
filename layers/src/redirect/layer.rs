//! [`FollowRedirectLayer`].

use tower_layer::Layer;

use super::service::FollowRedirect;

/// Follows redirects with requests' policy (see the [module docs](super)).
#[derive(Clone, Copy, Debug)]
pub struct FollowRedirectLayer {
    pub(crate) max: usize,
    pub(crate) follow: bool,
}

impl FollowRedirectLayer {
    /// The default requests policy: at most 30 redirects.
    pub const DEFAULT_MAX: usize = 30;

    /// Follows up to 30 redirects.
    pub fn new() -> Self {
        FollowRedirectLayer {
            max: Self::DEFAULT_MAX,
            follow: true,
        }
    }

    /// Follows up to `max` redirects; one more is a [`TooManyRedirects`](super::TooManyRedirects)
    /// error (`max(0)` makes any redirect an error).
    pub fn max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Follows no redirects: 3xx responses are returned as they are (with no
    /// [`History`](super::History) or [`EffectiveUri`](super::EffectiveUri): nothing was followed).
    pub fn disabled(mut self) -> Self {
        self.follow = false;
        self
    }

    /// A layer that follows no redirects (same as `FollowRedirectLayer::new().disabled()`).
    pub fn none() -> Self {
        Self::new().disabled()
    }
}

impl Default for FollowRedirectLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for FollowRedirectLayer {
    type Service = FollowRedirect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FollowRedirect {
            inner,
            max: self.max,
            follow: self.follow,
        }
    }
}
