//! [`BufferBodyLayer`].

use tower_layer::Layer;

use super::service::BufferBody;

/// Buffers request bodies of up to `limit` bytes into a replayable [`Body`](crate::Body); see
/// the [module docs](super).
#[derive(Debug, Clone, Copy)]
pub struct BufferBodyLayer {
    limit: usize,
}

impl BufferBodyLayer {
    /// Buffer bodies of at most `limit` bytes; longer ones pass as streams.
    pub fn new(limit: usize) -> Self {
        BufferBodyLayer { limit }
    }
}

impl<S> Layer<S> for BufferBodyLayer {
    type Service = BufferBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BufferBody::new(inner, self.limit)
    }
}
