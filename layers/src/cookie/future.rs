//! The response future of [`CookieService`](super::CookieService).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::header::SET_COOKIE;
use pin_project_lite::pin_project;

use super::jar::CookieJar;

pin_project! {
    /// Resolves to the inner response after storing its Set-Cookie headers in the jar.
    pub struct ResponseFuture<F> {
        #[pin]
        pub(crate) inner: F,
        pub(crate) jar: CookieJar,
        // `None` for requests with a relative URI: nothing to store against.
        pub(crate) uri: Option<http::Uri>,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
{
    type Output = Result<http::Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        if let Some(uri) = this.uri.as_ref() {
            if response.headers().contains_key(SET_COOKIE) {
                this.jar.store_response_cookies_for_uri(
                    uri,
                    response.headers().get_all(SET_COOKIE).iter(),
                );
            }
        }
        Poll::Ready(Ok(response))
    }
}
