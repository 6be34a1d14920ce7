//! [`RetryLayer`].

use std::sync::Arc;

use tower::retry::budget::TpsBudget;
use tower_layer::Layer;

use super::config::Retry;
use super::policy::RetryPolicy;
use super::service::RetryService;

/// Applies urllib3's [`Retry`] semantics to the services it wraps.
///
/// The layer creates the retry budget once: every service it builds, every clone of those
/// services and every clone of the layer share it (one budget per session).
#[derive(Debug, Clone)]
pub struct RetryLayer {
    config: Arc<Retry>,
    budget: Option<Arc<TpsBudget>>,
}

impl RetryLayer {
    /// A layer retrying as `retry` says.
    pub fn new(retry: Retry) -> Self {
        let budget = retry.budget.map(|b| Arc::new(b.build()));
        RetryLayer {
            config: Arc::new(retry),
            budget,
        }
    }

    /// The configuration.
    pub fn retry(&self) -> &Retry {
        &self.config
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService::new(
            inner,
            RetryPolicy::with_budget(Arc::clone(&self.config), self.budget.clone()),
        )
    }
}
