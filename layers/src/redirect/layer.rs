//! [`FollowRedirectLayer`].

use tower_layer::Layer;

use super::policy::Standard;
use super::service::FollowRedirect;

/// Follows redirects with requests' rules (see the [module docs](super)), asking its
/// [`Policy`](super::policy::Policy) (by default [`Standard`]) about each one.
#[derive(Clone, Copy, Debug)]
pub struct FollowRedirectLayer<P = Standard> {
    pub(crate) max: usize,
    pub(crate) follow: bool,
    pub(crate) policy: P,
}

impl FollowRedirectLayer {
    /// The default requests policy: at most 30 redirects.
    pub const DEFAULT_MAX: usize = 30;

    /// Follows up to 30 redirects.
    pub fn new() -> Self {
        FollowRedirectLayer {
            max: Self::DEFAULT_MAX,
            follow: true,
            policy: Standard,
        }
    }

    /// A layer that follows no redirects (same as `FollowRedirectLayer::new().disabled()`).
    pub fn none() -> Self {
        Self::new().disabled()
    }
}

impl<P> FollowRedirectLayer<P> {
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

    /// Asks `policy` which redirects to follow and which keep credentials (see
    /// [`policy`](super::policy)).
    pub fn policy<Q>(self, policy: Q) -> FollowRedirectLayer<Q> {
        FollowRedirectLayer {
            max: self.max,
            follow: self.follow,
            policy,
        }
    }
}

impl Default for FollowRedirectLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, P: Clone> Layer<S> for FollowRedirectLayer<P> {
    type Service = FollowRedirect<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        FollowRedirect {
            inner,
            max: self.max,
            follow: self.follow,
            policy: self.policy.clone(),
        }
    }
}
