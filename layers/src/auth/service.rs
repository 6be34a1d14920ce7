//! [`AuthService`].

use std::mem;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::uri::{Authority, Uri};
use http::{HeaderValue, Request, Response};
use tower_service::Service;

use super::error::AuthError;
use super::future::{ResponseFuture, State};
use super::layer::Scope;
use super::origin::{AuthOrigin, Origin, OriginRef};
use super::scheme::Scheme;
use crate::{BoxError, ReplayBody};

/// The service made by [`AuthLayer`](super::AuthLayer).
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    pub(crate) inner: S,
    pub(crate) scheme: Scheme,
    pub(crate) scope: Scope,
}

impl<S> AuthService<S> {
    crate::inner_accessors!();
}

/// Removes `user:pass@` from `uri`, returning the Basic value of the percent-decoded user and
/// password ([`crate::origin::basic_from_userinfo`]).
pub(crate) fn take_url_credentials(uri: &mut Uri) -> Result<Option<HeaderValue>, AuthError> {
    let Some(authority) = uri.authority() else {
        return Ok(None);
    };
    let Some((userinfo, host)) = authority.as_str().rsplit_once('@') else {
        return Ok(None);
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let value = (!user.is_empty() || !pass.is_empty())
        .then(|| crate::origin::basic_from_userinfo(user, Some(pass)));
    let host: Authority = host.parse().map_err(|_| AuthError::InvalidUrlCredentials)?;
    let mut parts = mem::take(uri).into_parts();
    parts.authority = Some(host);
    *uri = Uri::from_parts(parts).map_err(|_| AuthError::InvalidUrlCredentials)?;
    Ok(value)
}

impl<S, B, ResB> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();

        let url_credentials = match take_url_credentials(&mut parts.uri) {
            Ok(c) => c,
            Err(e) => return ResponseFuture::failed(e.into()),
        };

        if parts.headers.contains_key(AUTHORIZATION) {
            // The request's own credentials win.
            return ResponseFuture::plain(self.inner.call(Request::from_parts(parts, body)));
        }
        if let Some(value) = url_credentials {
            parts.headers.insert(AUTHORIZATION, value);
            return ResponseFuture::plain(self.inner.call(Request::from_parts(parts, body)));
        }
        let target = OriginRef::from_uri(&parts.uri);
        let allows = |given: Option<OriginRef<'_>>| match (given, target) {
            (Some(given), Some(target)) => given.allows(&target),
            _ => false,
        };
        let allowed = match &self.scope {
            Scope::Any => true,
            Scope::Origin(given) => allows(given.as_ref().map(Origin::as_ref)),
            Scope::FirstRequest => match parts.extensions.get::<AuthOrigin>() {
                Some(AuthOrigin(origin)) => allows(Some(origin.as_ref())),
                None => match first_request_origin(&parts) {
                    Some(first) => allows(Some(first)),
                    // The call's first request: its origin is its own (when it has one).
                    None => target.is_some(),
                },
            },
        };
        if !allowed {
            return ResponseFuture::plain(self.inner.call(Request::from_parts(parts, body)));
        }
        match &self.scheme {
            Scheme::Static(value) => {
                parts.headers.insert(AUTHORIZATION, value.clone());
                ResponseFuture::plain(self.inner.call(Request::from_parts(parts, body)))
            }
            Scheme::Invalid(reason) => {
                ResponseFuture::failed(AuthError::InvalidCredentials { reason }.into())
            }
            Scheme::Digest(digest) => {
                let clone = self.inner.clone();
                let mut service = mem::replace(&mut self.inner, clone);
                let replay = body.try_clone_body();
                let pre = replay.is_some().then(|| parts.clone());
                let target = Origin::from_uri(&parts.uri);
                digest.authorize(&target, &mut parts);
                let fut = service.call(Request::from_parts(parts, body));
                ResponseFuture::new(
                    State::Calling { fut },
                    service,
                    self.scheme.clone(),
                    target,
                    pre,
                    replay,
                )
            }
            Scheme::Custom(auth) => {
                let clone = self.inner.clone();
                let service = mem::replace(&mut self.inner, clone);
                let replay = body.try_clone_body();
                let pre = parts.clone();
                let target = Origin::from_uri(&parts.uri);
                let fut = auth.clone().authorize_boxed(parts);
                ResponseFuture::new(
                    State::Authorizing {
                        fut,
                        body: Some(body),
                    },
                    service,
                    self.scheme.clone(),
                    target,
                    Some(pre),
                    replay,
                )
            }
        }
    }
}

/// The origin of the call's first request, as recorded by a redirect layer above (the
/// [`OriginalUri`](crate::ext::OriginalUri) contract).
fn first_request_origin(parts: &http::request::Parts) -> Option<OriginRef<'_>> {
    parts
        .extensions
        .get::<crate::ext::OriginalUri>()
        .and_then(|original| OriginRef::from_uri(&original.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_decoded_and_stripped() {
        let mut uri: Uri = "http://us%40er:p%3Ass@h.test:8080/p?q".parse().unwrap();
        let creds = take_url_credentials(&mut uri).unwrap().unwrap();
        assert_eq!(creds, crate::origin::basic("us@er", "p:ss"));
        assert_eq!(uri, "http://h.test:8080/p?q");
        let mut uri: Uri = "http://h.test/".parse().unwrap();
        assert!(take_url_credentials(&mut uri).unwrap().is_none());
        let mut uri: Uri = "/relative".parse().unwrap();
        assert!(take_url_credentials(&mut uri).unwrap().is_none());
    }
}
