//! [`RetryLayer`].

use std::sync::Arc;

use tower::retry::budget::TpsBudget;
use tower_layer::Layer;

use super::classify::Classifier;
use super::config::Retry;
use super::policy::RetryPolicy;
use super::service::RetryService;
use crate::classify::ErrorClass;

/// Applies urllib3's [`Retry`] semantics to the services it wraps.
///
/// The layer creates the retry budget once: every service it builds, every clone of those
/// services and every clone of the layer share it (one budget per session).
#[derive(Clone)]
pub struct RetryLayer {
    config: Arc<Retry>,
    budget: Option<Arc<TpsBudget>>,
    classifier: Option<Arc<Classifier>>,
}

impl std::fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryLayer")
            .field("config", &self.config)
            .field("budget", &self.budget.is_some())
            .field("classifier", &self.classifier.is_some())
            .finish()
    }
}

impl RetryLayer {
    /// A layer retrying as `retry` says.
    pub fn new(retry: Retry) -> Self {
        let budget = retry.build_budget();
        RetryLayer {
            config: Arc::new(retry),
            budget,
            classifier: None,
        }
    }

    /// Classify errors with `rules` first: for each error of a failure's `source()` chain,
    /// `rules` is asked before the [shared classification](crate::classify) (which knows this
    /// crate's errors, `std::io::Error` and, with the `hyper` feature, hyper's and hyper-util's).
    /// Use it for a client whose errors those rules do not know.
    ///
    /// ```
    /// use tower_requests_layers::classify::ErrorClass;
    /// use tower_requests_layers::retry::{Retry, RetryLayer};
    ///
    /// #[derive(Debug)]
    /// struct Unreachable;
    /// impl std::fmt::Display for Unreachable {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("backend unreachable")
    ///     }
    /// }
    /// impl std::error::Error for Unreachable {}
    ///
    /// let layer = RetryLayer::new(Retry::new().total(3)).classify_with(|e| {
    ///     e.is::<Unreachable>().then_some(ErrorClass::Connect)
    /// });
    /// # let _ = layer;
    /// ```
    pub fn classify_with<F>(mut self, rules: F) -> Self
    where
        F: Fn(&(dyn std::error::Error + 'static)) -> Option<ErrorClass> + Send + Sync + 'static,
    {
        self.classifier = Some(Arc::new(rules));
        self
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
            RetryPolicy::with_budget(Arc::clone(&self.config), self.budget.clone())
                .with_classifier(self.classifier.clone()),
        )
    }
}
