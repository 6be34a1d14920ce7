//! The default stack, assembled from the layers crate in DESIGN.md's order (top to bottom):
//! total timeout, decompression, default headers, redirects, auth, cookies, retry, attempt
//! timeout, then the user's layers and the client.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower::util::Oneshot;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

use crate::layers::headers::{DefaultHeadersLayer, SharedHeaders};
use crate::layers::redirect::FollowRedirectLayer;
use crate::layers::retry::RetryLayer;
use crate::layers::timeout::{TimeoutLayer, TotalTimeoutLayer};
use crate::session::{box_service, BoxService};
use crate::Body;

/// The bottom of the stack: the client, or a router over the client and the mounted transports.
pub(crate) fn mount_router(
    client: BoxService,
    mut mounts: Vec<(String, BoxService)>,
) -> BoxService {
    if mounts.is_empty() {
        return client;
    }
    mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    BoxService::new(MountRouter {
        mounts: mounts.into(),
        default: client,
    })
}

/// requests' adapter table: longest prefix first, compared case-insensitively.
#[derive(Clone)]
struct MountRouter {
    mounts: Arc<[(String, BoxService)]>,
    default: BoxService,
}

impl Service<Request<Body>> for MountRouter {
    type Response = http::Response<Body>;
    type Error = crate::BoxError;
    type Future = Oneshot<BoxService, Request<Body>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let url = req.uri().to_string();
        let svc = self
            .mounts
            .iter()
            .find(|(prefix, _)| {
                url.len() >= prefix.len()
                    && url.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
            })
            .map(|(_, svc)| svc)
            .unwrap_or(&self.default);
        svc.clone().oneshot(req)
    }
}

pub(crate) struct Stack {
    pub(crate) headers: SharedHeaders,
    pub(crate) auth: Option<crate::layers::auth::AuthLayer>,
    pub(crate) retry: crate::Retry,
    pub(crate) timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_redirects: Option<usize>,
    #[cfg(feature = "cookies")]
    pub(crate) jar: Option<crate::CookieJar>,
}

impl Stack {
    /// Wrap `base` (the client plus the user's layers) in the session layers.
    pub(crate) fn build(self, base: BoxService) -> BoxService {
        let mut svc = base;
        #[cfg(feature = "tracing")]
        {
            svc = box_service(crate::trace::TraceAttemptLayer.layer(svc));
        }
        if let Some(d) = self.attempt_timeout {
            svc = box_service(TimeoutLayer::new(d).layer(svc));
        }
        svc = box_service(RetryLayer::new(self.retry).layer(svc));
        #[cfg(feature = "cookies")]
        if let Some(jar) = self.jar {
            svc = box_service(crate::layers::cookie::CookieLayer::new(jar).layer(svc));
        }
        if let Some(auth) = self.auth {
            svc = box_service(auth.layer(svc));
        }
        let redirect = match self.max_redirects {
            Some(max) => FollowRedirectLayer::new().max(max),
            None => FollowRedirectLayer::none(),
        };
        let builder = ServiceBuilder::new().layer(TotalTimeoutLayer::new(self.timeout));
        #[cfg(feature = "decompression")]
        let builder = builder.layer(tower_http::decompression::DecompressionLayer::new());
        box_service(
            builder
                .layer(DefaultHeadersLayer::shared(self.headers))
                .layer(redirect)
                .service(svc),
        )
    }
}
