//! The service of [`RateLimitLayer`](super::RateLimitLayer).

use std::borrow::Cow;
use std::task::{Context, Poll};

use http::Request;
use tower_service::Service;

use super::error::RateLimited;
use super::future::ResponseFuture;
use super::gcra::Decision;
use super::layer::{Backend, RateLimitLayer};
use crate::BoxError;

/// A service that waits (or fails) when its calls go faster than the limit. Built by
/// [`RateLimitLayer`](super::RateLimitLayer).
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    inner: S,
    config: RateLimitLayer,
}

impl<S> RateLimit<S> {
    /// Wraps `inner` with the limit of `layer`.
    pub fn new(inner: S, layer: RateLimitLayer) -> Self {
        RateLimit {
            inner,
            config: layer,
        }
    }

    crate::inner_accessors!();
}

/// The key of a request without a key function: its authority (ASCII-lowercased), or its `Host`
/// header for a relative URI, or `""`.
fn host_key<B>(req: &Request<B>) -> Cow<'_, str> {
    let host = match req.uri().authority() {
        Some(a) => a.as_str(),
        None => req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or(""),
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

impl<S, B> Service<Request<B>> for RateLimit<S>
where
    S: Service<Request<B>> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Request<B>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (req, key) = match &self.config.key {
            None => {
                let key = host_key(&req).into_owned();
                (req, key)
            }
            Some(f) => {
                let (parts, body) = req.into_parts();
                let key = f(&parts);
                let req = Request::from_parts(parts, body);
                match key {
                    Some(key) => (req, key),
                    None => return ResponseFuture::called(self.inner.call(req)),
                }
            }
        };
        let max_wait = self.config.max_wait;
        let decision = match &*self.config.backend {
            Backend::Local(local) => local.acquire(&key, max_wait),
            #[cfg(feature = "redis")]
            Backend::Redis(shared) if shared.is_down() => {
                match shared.when_down(&key, max_wait, || "Redis is down".into()) {
                    Ok(d) => d,
                    Err(e) => return ResponseFuture::failed(e),
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis(shared) => {
                let acquire = shared.clone().acquire(key.clone(), max_wait);
                let wait = async move {
                    match acquire.await? {
                        Decision::Go => Ok(()),
                        Decision::Wait(d) => {
                            tokio::time::sleep(d).await;
                            Ok(())
                        }
                        Decision::Reject(after) => {
                            Err(Box::new(RateLimited::new(&key, after)) as BoxError)
                        }
                    }
                };
                return ResponseFuture::waiting(Box::pin(wait), self.take_inner(), req);
            }
        };
        match decision {
            Decision::Go => ResponseFuture::called(self.inner.call(req)),
            Decision::Wait(d) => {
                let wait = async move {
                    tokio::time::sleep(d).await;
                    Ok(())
                };
                ResponseFuture::waiting(Box::pin(wait), self.take_inner(), req)
            }
            Decision::Reject(after) => {
                ResponseFuture::failed(Box::new(RateLimited::new(&key, after)))
            }
        }
    }
}

impl<S: Clone> RateLimit<S> {
    /// The service that was driven to readiness, for a call made later; a clone stays here.
    fn take_inner(&mut self) -> S {
        let clone = self.inner.clone();
        std::mem::replace(&mut self.inner, clone)
    }
}
