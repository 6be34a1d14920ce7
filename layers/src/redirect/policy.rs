//! Redirect policies: which redirects are followed, and which keep the request's credentials.
//!
//! A [`Policy`] is asked once per redirect, after `Location` has been resolved and before the
//! next request is built. It sees the [`Attempt`] (the 3xx, the method, the URI that answered
//! it and the URI it points to) and answers [`Action::Follow`], [`Action::Stop`] (the 3xx is
//! the answer, as with redirects off) or an error (the call fails with
//! [`RedirectError::Rejected`](super::RedirectError::Rejected), which carries it as its
//! source). It also says whether `Authorization`, `Proxy-Authorization`, `Cookie` and an
//! explicit `Host` go along ([`Policy::keep_credentials`], by default requests' rule).
//!
//! What a followed redirect does to the method and body (requests' rules, see the
//! [module docs](super)) and the limit on the number of redirects
//! ([`FollowRedirectLayer::max`](super::FollowRedirectLayer::max), an error when passed, as
//! requests raises `TooManyRedirects`) are not a policy's business: they hold whatever the
//! policy is.
//!
//! The policies compose as tower-http's do:
//!
//! | policy | follows | keeps credentials |
//! |---|---|---|
//! | [`Standard`] (the default) | every redirect | same origin, or `http` → `https` on one host |
//! | [`SameOrigin`] | same scheme, host and port only; stops at any other | as `Standard` |
//! | [`Limited`] | the first `n` redirects, then stops (returns the 3xx) | as `Standard` |
//! | [`FilterCredentials`] | every redirect | as configured: requests' rule, never, or always |
//! | [`redirect_fn`] | what the closure says | as `Standard` |
//! | `a.and(b)` ([`PolicyExt`]) | when both follow | when both keep them |
//! | `a.or(b)` | when either follows | when both keep them |
//!
//! Credentials follow a hop only when every policy in a combination allows it: combining
//! policies can make a stack stricter about credentials, never looser.
//!
//! ```
//! use http::{header, Request, Response, StatusCode};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//! use tower_requests_layers::redirect::policy::{self, Action, PolicyExt, SameOrigin};
//! use tower_requests_layers::redirect::FollowRedirectLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_requests_layers::BoxError> {
//! let server = service_fn(|req: Request<String>| async move {
//!     let to = match req.uri().path() {
//!         "/a" => "/b",
//!         "/b" => "http://elsewhere.test/c",
//!         _ => return Ok::<_, http::Error>(Response::new("done".to_string())),
//!     };
//!     Response::builder().status(StatusCode::FOUND).header(header::LOCATION, to).body(String::new())
//! });
//! // Stay on this origin, and never follow to a path under /admin.
//! let no_admin = policy::redirect_fn(|attempt: &policy::Attempt<'_>| {
//!     Ok(if attempt.location().path().starts_with("/admin") { Action::Stop } else { Action::Follow })
//! });
//! let mut svc = ServiceBuilder::new()
//!     .layer(FollowRedirectLayer::new().policy(SameOrigin.and(no_admin)))
//!     .service(server);
//! let res = svc.ready().await?.call(Request::get("http://example.test/a").body(String::new())?).await?;
//! // /a → /b was followed; /b → elsewhere.test was not: its 302 is the answer.
//! assert_eq!(res.status(), StatusCode::FOUND);
//! assert_eq!(res.headers()[header::LOCATION], "http://elsewhere.test/c");
//! # Ok(())
//! # }
//! ```

use http::{HeaderMap, Method, StatusCode, Uri};

use crate::origin::OriginRef;
use crate::BoxError;

/// One redirect, as a [`Policy`] sees it.
#[derive(Debug)]
pub struct Attempt<'a> {
    pub(crate) status: StatusCode,
    pub(crate) method: &'a Method,
    pub(crate) previous: &'a Uri,
    pub(crate) location: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) followed: usize,
}

impl<'a> Attempt<'a> {
    /// The redirect's status (301, 302, 303, 307 or 308).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The method of the request that got the redirect.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The URI of the request that got the redirect.
    pub fn previous(&self) -> &'a Uri {
        self.previous
    }

    /// Where the redirect points: `Location` resolved against [`previous`](Self::previous),
    /// without its fragment.
    pub fn location(&self) -> &'a Uri {
        self.location
    }

    /// The headers of the redirect response.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// How many redirects this call has followed before this one (0 for the first).
    pub fn followed(&self) -> usize {
        self.followed
    }

    /// Whether [`location`](Self::location) has the same scheme, host and port as
    /// [`previous`](Self::previous) (default ports made explicit, case-insensitive).
    pub fn is_same_origin(&self) -> bool {
        self.origins().is_some_and(|(from, to)| from.is_same(&to))
    }

    /// requests' rule for credentials (`should_strip_auth`): they may go along when the origin
    /// stays the same, or on an `http` → `https` upgrade of the same host on the default ports.
    pub fn credentials_allowed(&self) -> bool {
        self.origins().is_some_and(|(from, to)| from.allows(&to))
    }

    /// The origins of [`previous`](Self::previous) and [`location`](Self::location), when
    /// both have one.
    fn origins(&self) -> Option<(OriginRef<'a>, OriginRef<'a>)> {
        Some((
            OriginRef::from_uri(self.previous)?,
            OriginRef::from_uri(self.location)?,
        ))
    }
}

/// What to do with a redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the next request.
    Follow,
    /// Return the redirect response as the answer.
    Stop,
}

/// Decides, redirect by redirect, what the [`FollowRedirectLayer`](super::FollowRedirectLayer)
/// does (see the [module docs](self)).
///
/// The layer clones its policy for each call, so a policy is stateless across calls; within a
/// call, [`Attempt::followed`] says how far the chain has gone.
pub trait Policy {
    /// Follow, stop, or fail the call with this error.
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError>;

    /// Whether the request's credentials (`Authorization`, `Proxy-Authorization`, `Cookie`,
    /// an explicit `Host`) go along to [`Attempt::location`]. Once removed they stay removed
    /// for the rest of the chain. Default: [`Attempt::credentials_allowed`].
    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        attempt.credentials_allowed()
    }
}

impl<P: Policy + ?Sized> Policy for std::sync::Arc<P> {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        (**self).redirect(attempt)
    }

    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        (**self).keep_credentials(attempt)
    }
}

/// requests' policy: follows every redirect (up to the layer's limit) and keeps credentials by
/// requests' rule. The default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Standard;

impl Policy for Standard {
    fn redirect(&self, _: &Attempt<'_>) -> Result<Action, BoxError> {
        Ok(Action::Follow)
    }
}

/// Follows redirects that stay on the same scheme, host and port; stops at any other.
#[derive(Clone, Copy, Debug, Default)]
pub struct SameOrigin;

impl Policy for SameOrigin {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        Ok(if attempt.is_same_origin() {
            Action::Follow
        } else {
            Action::Stop
        })
    }
}

/// Follows the first `n` redirects of a call, then stops: the next 3xx is the answer. (The
/// layer's [`max`](super::FollowRedirectLayer::max) is different: passing it is an error.)
#[derive(Clone, Copy, Debug)]
pub struct Limited(pub usize);

impl Policy for Limited {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        Ok(if attempt.followed() < self.0 {
            Action::Follow
        } else {
            Action::Stop
        })
    }
}

/// Follows every redirect and decides about credentials alone: requests' rule
/// ([`new`](Self::new)), never ([`block_any`](Self::block_any)), or always
/// ([`block_none`](Self::block_none): credentials go to any host a server redirects to, so
/// use it only towards servers you trust).
#[derive(Clone, Copy, Debug)]
pub struct FilterCredentials {
    keep: Keep,
}

#[derive(Clone, Copy, Debug)]
enum Keep {
    SameOrigin,
    Never,
    Always,
}

impl FilterCredentials {
    /// requests' rule ([`Attempt::credentials_allowed`]).
    pub fn new() -> Self {
        FilterCredentials {
            keep: Keep::SameOrigin,
        }
    }

    /// Credentials are removed at the first redirect, whatever its target.
    pub fn block_any() -> Self {
        FilterCredentials { keep: Keep::Never }
    }

    /// Credentials follow every redirect, to any origin.
    pub fn block_none() -> Self {
        FilterCredentials { keep: Keep::Always }
    }
}

impl Default for FilterCredentials {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy for FilterCredentials {
    fn redirect(&self, _: &Attempt<'_>) -> Result<Action, BoxError> {
        Ok(Action::Follow)
    }

    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        match self.keep {
            Keep::SameOrigin => attempt.credentials_allowed(),
            Keep::Never => false,
            Keep::Always => true,
        }
    }
}

/// A policy from a closure; credentials by requests' rule. Made by [`redirect_fn`].
#[derive(Clone, Copy)]
pub struct RedirectFn<F>(F);

impl<F> std::fmt::Debug for RedirectFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectFn").finish_non_exhaustive()
    }
}

/// A policy that asks `f` about each redirect.
pub fn redirect_fn<F>(f: F) -> RedirectFn<F>
where
    F: Fn(&Attempt<'_>) -> Result<Action, BoxError>,
{
    RedirectFn(f)
}

impl<F> Policy for RedirectFn<F>
where
    F: Fn(&Attempt<'_>) -> Result<Action, BoxError>,
{
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        (self.0)(attempt)
    }
}

/// Both policies: follows when both follow, keeps credentials when both keep them. Made by
/// [`PolicyExt::and`].
#[derive(Clone, Copy, Debug)]
pub struct And<A, B>(A, B);

impl<A: Policy, B: Policy> Policy for And<A, B> {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        match self.0.redirect(attempt)? {
            Action::Follow => self.1.redirect(attempt),
            Action::Stop => Ok(Action::Stop),
        }
    }

    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        self.0.keep_credentials(attempt) && self.1.keep_credentials(attempt)
    }
}

/// Either policy: follows when either follows, keeps credentials when both keep them. Made by
/// [`PolicyExt::or`].
#[derive(Clone, Copy, Debug)]
pub struct Or<A, B>(A, B);

impl<A: Policy, B: Policy> Policy for Or<A, B> {
    fn redirect(&self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        match self.0.redirect(attempt)? {
            Action::Follow => Ok(Action::Follow),
            Action::Stop => self.1.redirect(attempt),
        }
    }

    fn keep_credentials(&self, attempt: &Attempt<'_>) -> bool {
        self.0.keep_credentials(attempt) && self.1.keep_credentials(attempt)
    }
}

/// Combinators for every [`Policy`].
pub trait PolicyExt: Policy + Sized {
    /// Follows when both `self` and `other` follow (`other` is asked only then).
    fn and<P: Policy>(self, other: P) -> And<Self, P> {
        And(self, other)
    }

    /// Follows when `self` or `other` follows (`other` is asked only when `self` stops).
    fn or<P: Policy>(self, other: P) -> Or<Self, P> {
        Or(self, other)
    }
}

impl<P: Policy> PolicyExt for P {}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt<'a>(prev: &'a Uri, next: &'a Uri, followed: usize, h: &'a HeaderMap) -> Attempt<'a> {
        Attempt {
            status: StatusCode::FOUND,
            method: &Method::GET,
            previous: prev,
            location: next,
            headers: h,
            followed,
        }
    }

    #[test]
    fn combinators_follow_and_keep_as_documented() {
        let h = HeaderMap::new();
        let a: Uri = "http://a.test/x".parse().unwrap();
        let a2: Uri = "HTTP://A.test:80/y".parse().unwrap();
        let a_tls: Uri = "https://a.test/y".parse().unwrap();
        let b: Uri = "http://b.test/".parse().unwrap();
        let same = attempt(&a, &a2, 0, &h);
        let upgrade = attempt(&a, &a_tls, 0, &h);
        let cross = attempt(&a, &b, 3, &h);
        assert!(same.is_same_origin() && !upgrade.is_same_origin());
        assert!(upgrade.credentials_allowed() && !cross.credentials_allowed());

        let follow = |p: &dyn Policy, at: &Attempt<'_>| p.redirect(at).unwrap() == Action::Follow;
        assert!(follow(&Standard, &cross));
        assert!(follow(&SameOrigin, &same) && !follow(&SameOrigin, &upgrade));
        assert!(follow(&Limited(4), &cross) && !follow(&Limited(3), &cross));
        assert!(!follow(&SameOrigin.and(Standard), &cross));
        assert!(follow(&SameOrigin.or(Limited(5)), &cross));
        assert!(!follow(&SameOrigin.or(Limited(3)), &cross));

        assert!(Standard.keep_credentials(&upgrade) && !Standard.keep_credentials(&cross));
        assert!(!FilterCredentials::block_any().keep_credentials(&same));
        assert!(FilterCredentials::block_none().keep_credentials(&cross));
        // A combination is never looser than its parts.
        let loose = FilterCredentials::block_none();
        assert!(!loose.and(Standard).keep_credentials(&cross));
        assert!(!loose.or(Standard).keep_credentials(&cross));

        let err = redirect_fn(|_| Err("no".into())).and(Standard);
        assert_eq!(err.redirect(&same).unwrap_err().to_string(), "no");
        // `and` does not ask the second policy once the first stops.
        let stop_first = SameOrigin.and(redirect_fn(|_| Err("asked".into())));
        assert_eq!(stop_first.redirect(&cross).unwrap(), Action::Stop);
    }
}
