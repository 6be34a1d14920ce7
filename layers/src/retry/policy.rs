//! [`RetryPolicy`]: urllib3's `Retry` as a [`tower::retry::Policy`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{Request, Response, StatusCode};
use tower::retry::budget::{Budget, TpsBudget};
use tower::retry::Policy;

use super::classify::{classify, Classifier, ErrorClass};
use super::config::{Retry, RETRY_AFTER_STATUS_CODES};
use super::error::RetryError;
use super::future::BackoffFuture;
use crate::{BoxError, ReplayBody};

/// Marks the stored copy of a request whose body could not be copied (a stream): it is never
/// sent; a retry that would need it fails with [`RetryError`] instead.
#[derive(Debug, Clone, Copy)]
struct NotReplayable;

/// The remaining counters of one call (urllib3 decrements a copy of its `Retry` per attempt).
#[derive(Debug, Clone, Default)]
struct Counters {
    total: Option<i64>,
    connect: Option<i64>,
    read: Option<i64>,
    status: Option<i64>,
    other: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
enum Counter {
    Connect,
    Read,
    Status,
    Other,
}

impl Counters {
    fn from_config(retry: &Retry) -> Self {
        let c = |v: Option<u32>| v.map(i64::from);
        Counters {
            total: c(retry.total),
            connect: c(retry.connect),
            read: c(retry.read),
            status: c(retry.status),
            other: c(retry.other),
        }
    }

    /// urllib3's `increment` + `is_exhausted`: true when any counter went below zero.
    fn increment(&mut self, counter: Counter) -> bool {
        let dec = |c: &mut Option<i64>| {
            if let Some(v) = c {
                *v -= 1;
            }
        };
        dec(&mut self.total);
        dec(match counter {
            Counter::Connect => &mut self.connect,
            Counter::Read => &mut self.read,
            Counter::Status => &mut self.status,
            Counter::Other => &mut self.other,
        });
        [self.total, self.connect, self.read, self.status, self.other]
            .iter()
            .any(|c| c.is_some_and(|v| v < 0))
    }
}

/// urllib3's `Retry` as a [`tower::retry::Policy`] over `http::Request<B>` /
/// `http::Response<ResB>` with [`BoxError`] errors. [`RetryLayer`](super::RetryLayer) is the
/// usual way to use it; it also works with [`tower::retry::Retry`] directly (the service's
/// errors must already be [`BoxError`]).
///
/// A policy holds the state of one call (tower clones it per call): the remaining counters, the
/// number of consecutive failures (for the backoff) and whether the silent resend was used. Calls share the configuration and the budget (`Arc`s).
#[derive(Clone)]
pub struct RetryPolicy {
    config: Arc<Retry>,
    budget: Option<Arc<TpsBudget>>,
    classifier: Option<Arc<Classifier>>,
    counters: Counters,
    /// Attempts made so far in this call.
    attempts: u32,
    /// Counted failures so far (urllib3's history length); the silent resend is not counted.
    failures: u32,
    silent_used: bool,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("config", &self.config)
            .field("counters", &self.counters)
            .field("attempts", &self.attempts)
            .field("failures", &self.failures)
            .field("silent_used", &self.silent_used)
            .finish_non_exhaustive()
    }
}

enum Decision {
    Done,
    Retry(Duration),
    Fail(RetryError),
    NotReplayable(Option<StatusCode>),
}

impl RetryPolicy {
    /// A policy for `retry`, with a fresh budget when `retry` has one.
    pub fn new(retry: Retry) -> Self {
        let budget = retry.build_budget();
        RetryPolicy::with_budget(Arc::new(retry), budget)
    }

    pub(crate) fn with_budget(config: Arc<Retry>, budget: Option<Arc<TpsBudget>>) -> Self {
        RetryPolicy {
            counters: Counters::from_config(&config),
            config,
            budget,
            classifier: None,
            attempts: 0,
            failures: 0,
            silent_used: false,
        }
    }

    pub(crate) fn with_classifier(mut self, classifier: Option<Arc<Classifier>>) -> Self {
        self.classifier = classifier;
        self
    }

    /// The configuration.
    pub fn retry(&self) -> &Retry {
        &self.config
    }

    fn budget_allows(&self) -> bool {
        self.budget.as_ref().is_none_or(|b| b.withdraw())
    }

    fn on_response<B, ResB>(&mut self, req: &Request<B>, resp: &Response<ResB>) -> Decision {
        let config = Arc::clone(&self.config);
        let status = resp.status();
        if !config.method_allowed(req.method()) {
            return Decision::Done;
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .filter(|v| !v.as_bytes().is_empty());
        let forced = config.in_forcelist(status.as_u16());
        // urllib3 `is_retry`: `bool(self.total) and respect and has_retry_after and status in ...`.
        let by_retry_after = self.counters.total.is_some_and(|t| t > 0)
            && config.respect_retry_after_header
            && retry_after.is_some()
            && RETRY_AFTER_STATUS_CODES.contains(&status.as_u16());
        if !forced && !by_retry_after {
            return Decision::Done;
        }
        self.failures += 1;
        if self.counters.increment(Counter::Status) {
            return self.status_exhausted(status, false);
        }
        if req.extensions().get::<NotReplayable>().is_some() {
            return Decision::NotReplayable(Some(status));
        }
        if !self.budget_allows() {
            return self.status_exhausted(status, true);
        }
        // urllib3 `sleep(response)`: a positive Retry-After (any status) replaces the backoff.
        let slept = retry_after
            .filter(|_| config.respect_retry_after_header)
            .and_then(|v| config.retry_after(v, SystemTime::now()))
            .filter(|d| !d.is_zero());
        match (slept, self.backoff()) {
            (Some(slept), _) => Decision::Retry(slept),
            (None, Some(backoff)) => Decision::Retry(backoff),
            // The backoff strategy ran out.
            (None, None) => self.status_exhausted(status, false),
        }
    }

    fn status_exhausted(&self, status: StatusCode, budget: bool) -> Decision {
        if self.config.raise_on_status {
            Decision::Fail(RetryError::status_exhausted(status, self.attempts, budget))
        } else {
            Decision::Done
        }
    }

    fn on_error<B>(&mut self, req: &Request<B>, err: &BoxError) -> Decision {
        let replayable = req.extensions().get::<NotReplayable>().is_none();
        let class = classify(&**err, self.classifier.as_deref());
        // The silent resend (see the module docs): once per call, with no counter, budget or
        // sleep, even with retries disabled; only when the request provably never reached the
        // server, or when a reused keep-alive connection failed before any byte of the response
        // and the method is one the configuration may resend (idempotent by default).
        let silent = match class {
            ErrorClass::NotSent => true,
            ErrorClass::Read { stale: true } => self.config.method_allowed(req.method()),
            _ => false,
        };
        if silent && !self.silent_used {
            self.silent_used = true;
            return if replayable {
                Decision::Retry(Duration::ZERO)
            } else {
                Decision::NotReplayable(None)
            };
        }
        let counter = match class {
            ErrorClass::Fatal => return Decision::Done,
            ErrorClass::Connect | ErrorClass::NotSent => Counter::Connect,
            ErrorClass::Read { .. } | ErrorClass::Other
                if !self.config.method_allowed(req.method()) =>
            {
                return Decision::Done
            }
            ErrorClass::Read { .. } => Counter::Read,
            ErrorClass::Other => Counter::Other,
        };
        self.failures += 1;
        if self.counters.increment(counter) {
            return Decision::Done;
        }
        if !replayable {
            return Decision::NotReplayable(None);
        }
        if !self.budget_allows() {
            return Decision::Done;
        }
        match self.backoff() {
            Some(sleep) => Decision::Retry(sleep),
            None => Decision::Done,
        }
    }

    /// The sleep before the next retry; `None` when a backoff strategy ran out.
    fn backoff(&self) -> Option<Duration> {
        if let Some(sleep) = self.config.strategy_sleep(self.failures) {
            return sleep;
        }
        let unit = if self.config.has_jitter() {
            rand::random::<f64>()
        } else {
            0.0
        };
        Some(self.config.backoff_with(self.failures, unit))
    }
}

impl<B, ResB> Policy<Request<B>, Response<ResB>, BoxError> for RetryPolicy
where
    B: ReplayBody,
    ResB: http_body::Body,
{
    type Future = BackoffFuture<ResB>;

    fn retry(
        &mut self,
        req: &mut Request<B>,
        result: &mut Result<Response<ResB>, BoxError>,
    ) -> Option<BackoffFuture<ResB>> {
        self.attempts += 1;
        let decision = match result {
            Ok(resp) => self.on_response(req, resp),
            Err(err) => self.on_error(req, err),
        };
        match decision {
            Decision::Done => None,
            Decision::Retry(sleep) => {
                #[cfg(feature = "tracing")]
                tracing::debug!(
                    method = %req.method(),
                    host = req.uri().host().unwrap_or(""),
                    path = req.uri().path(),
                    attempt = self.attempts,
                    ?sleep,
                    "retrying request"
                );
                // The retried response is dropped by tower once this returns: its body is
                // taken to be read during the backoff (the placeholder left is never seen).
                let retried = match result {
                    Ok(_) => std::mem::replace(result, Err(BoxError::from("retried")))
                        .ok()
                        .map(Response::into_body),
                    Err(_) => None,
                };
                Some(BackoffFuture::new(sleep, retried))
            }
            Decision::Fail(err) => {
                *result = Err(Box::new(err));
                None
            }
            Decision::NotReplayable(status) => {
                let previous = std::mem::replace(result, Err(BoxError::from("")));
                let err = RetryError::body_not_replayable(status, previous.err(), self.attempts);
                *result = Err(Box::new(err));
                None
            }
        }
    }

    fn clone_request(&mut self, req: &Request<B>) -> Option<Request<B>> {
        // Called once per call on a fresh policy (before the first attempt) and again before
        // each retry: the first call is where the call pays into the budget.
        // With `total=0` no counted retry can happen, so there is nothing to pay for (the
        // silent resend is outside the budget).
        if self.attempts == 0 && self.counters.total.is_none_or(|t| t > 0) {
            if let Some(budget) = &self.budget {
                budget.deposit();
            }
        }
        let (body, replayable) = match req.body().try_clone_body() {
            Some(body) => (body, true),
            None => (B::empty_body(), false),
        };
        let mut copy = Request::new(body);
        *copy.method_mut() = req.method().clone();
        *copy.uri_mut() = req.uri().clone();
        *copy.version_mut() = req.version();
        *copy.headers_mut() = req.headers().clone();
        *copy.extensions_mut() = req.extensions().clone();
        if !replayable {
            copy.extensions_mut().insert(NotReplayable);
        }
        Some(copy)
    }
}
