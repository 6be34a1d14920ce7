//! The response future of [`DefaultHeaders`](super::DefaultHeaders).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// The inner service's future, unchanged: the layer adds no error of its own, so its
    /// service keeps the inner service's error type (and mounts on an `axum::Router`).
    pub struct ResponseFuture<F> {
        #[pin]
        pub(crate) inner: F,
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}
