//! [`Retry`]: urllib3's `Retry` configuration, and [`RetryBudget`].

use std::time::{Duration, SystemTime};

use http::{HeaderValue, Method};

/// Statuses for which a `Retry-After` header alone makes a response retryable (urllib3's
/// `Retry.RETRY_AFTER_STATUS_CODES`).
pub const RETRY_AFTER_STATUS_CODES: [u16; 3] = [413, 429, 503];

/// urllib3's `Retry.DEFAULT_BACKOFF_MAX`: 120 s.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(120);

/// urllib3's `Retry.DEFAULT_RETRY_AFTER_MAX`: a `Retry-After` longer than 6 hours is cut to 6 hours.
pub const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(21_600);

/// How many retries to allow and how to wait between them: urllib3's `Retry`, field for field.
///
/// | urllib3                        | here                                      | default |
/// |--------------------------------|-------------------------------------------|---------|
/// | `total`                        | [`total`](Retry::total) / [`no_total`](Retry::no_total) | 10 |
/// | `connect`, `read`, `status`, `other` | [`connect`](Retry::connect), [`read`](Retry::read), [`status`](Retry::status), [`other`](Retry::other) | no own limit |
/// | `redirect`                     | [`redirect`](Retry::redirect) (kept for parity; the redirect layer counts hops) | no own limit |
/// | `backoff_factor`               | [`backoff_factor`](Retry::backoff_factor) | 0 |
/// | `backoff_max`                  | [`backoff_max`](Retry::backoff_max)       | 120 s |
/// | `backoff_jitter`               | [`backoff_jitter`](Retry::backoff_jitter) | 0 |
/// | `status_forcelist`             | [`status_forcelist`](Retry::status_forcelist) | empty |
/// | `allowed_methods`              | [`allowed_methods`](Retry::allowed_methods) / [`any_method`](Retry::any_method) | HEAD GET PUT DELETE OPTIONS TRACE |
/// | `raise_on_status`              | [`raise_on_status`](Retry::raise_on_status) | true |
/// | `respect_retry_after_header`   | [`respect_retry_after_header`](Retry::respect_retry_after_header) | true |
/// | `retry_after_max`              | [`retry_after_max`](Retry::retry_after_max) | 6 h |
/// | —                              | [`budget`](Retry::budget) / [`no_budget`](Retry::no_budget) | [`RetryBudget::default()`] |
///
/// As in urllib3, `total` takes precedence: a call makes at most `1 + total` attempts, and any
/// counter going below zero ends the retries. A counter that is not set does not limit.
///
/// ```
/// use std::time::Duration;
/// use http::Method;
/// use tower_requests_layers::retry::Retry;
///
/// // The article's `Retry(total=3, backoff_factor=0.5, status_forcelist=[...], allowed_methods=[...])`.
/// let retry = Retry::new()
///     .total(3)
///     .backoff_factor(0.5)
///     .status_forcelist([429, 500, 502, 503, 504])
///     .allowed_methods([Method::GET, Method::POST]);
/// // Sleep before retry n: 0 for n <= 1, then backoff_factor * 2^(n-1), at most backoff_max.
/// assert_eq!(retry.backoff_for(1), Duration::ZERO);
/// assert_eq!(retry.backoff_for(2), Duration::from_secs(1));
/// assert_eq!(retry.backoff_for(3), Duration::from_secs(2));
/// assert_eq!(retry.backoff_for(20), Duration::from_secs(120));
/// ```
#[derive(Debug, Clone)]
pub struct Retry {
    pub(crate) total: Option<u32>,
    pub(crate) connect: Option<u32>,
    pub(crate) read: Option<u32>,
    pub(crate) status: Option<u32>,
    pub(crate) redirect: Option<u32>,
    pub(crate) other: Option<u32>,
    backoff_factor: f64,
    backoff_max: Duration,
    backoff_jitter: Duration,
    status_forcelist: Vec<u16>,
    allowed_methods: Option<Vec<Method>>,
    pub(crate) raise_on_status: bool,
    pub(crate) respect_retry_after_header: bool,
    retry_after_max: Duration,
    pub(crate) budget: Option<RetryBudget>,
    strategy: Option<BackoffStrategy>,
}

/// A backoff given as an iterator of sleeps: made afresh for every call.
#[derive(Clone)]
struct BackoffStrategy(
    std::sync::Arc<dyn Fn() -> Box<dyn Iterator<Item = Duration> + Send> + Send + Sync>,
);

impl std::fmt::Debug for BackoffStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackoffStrategy(..)")
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry::new()
    }
}

impl Retry {
    /// The shared retry budget this configuration asks for, built. None with `total=0`: no
    /// counted retry can happen, so the budget would never be asked.
    pub(crate) fn build_budget(&self) -> Option<std::sync::Arc<tower::retry::budget::TpsBudget>> {
        self.budget
            .filter(|_| self.total != Some(0))
            .map(|b| std::sync::Arc::new(b.build()))
    }

    /// urllib3's `Retry()`: `total=10`, no backoff, no status retries, idempotent methods only,
    /// `Retry-After` respected, plus the default [`RetryBudget`].
    pub fn new() -> Self {
        Retry {
            total: Some(10),
            connect: None,
            read: None,
            status: None,
            redirect: None,
            other: None,
            backoff_factor: 0.0,
            backoff_max: DEFAULT_BACKOFF_MAX,
            backoff_jitter: Duration::ZERO,
            status_forcelist: Vec::new(),
            allowed_methods: Some(vec![
                Method::HEAD,
                Method::GET,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
                Method::TRACE,
            ]),
            raise_on_status: true,
            respect_retry_after_header: true,
            retry_after_max: DEFAULT_RETRY_AFTER_MAX,
            budget: Some(RetryBudget::default()),
            strategy: None,
        }
    }

    /// No retries (`total=0`, empty `status_forcelist`). The one silent resend of a request that
    /// never reached the server, or of an idempotent request that hit a stale keep-alive
    /// connection, still happens (the resend rule in the [module docs](super)).
    pub fn disabled() -> Self {
        Retry::new().total(0)
    }

    /// Total number of retries allowed (urllib3 `total`); `0` means no retries.
    pub fn total(mut self, total: u32) -> Self {
        self.total = Some(total);
        self
    }

    /// No total limit (urllib3 `total=None`): only the per-kind counters limit the retries. As
    /// in urllib3, a `Retry-After` header alone no longer makes a response retryable then.
    pub fn no_total(mut self) -> Self {
        self.total = None;
        self
    }

    /// How many connection errors (the request was not sent) to retry, for any method.
    pub fn connect(mut self, connect: u32) -> Self {
        self.connect = Some(connect);
        self
    }

    /// How many errors after the request was sent (read errors, per-attempt timeouts) to retry,
    /// for the allowed methods only.
    pub fn read(mut self, read: u32) -> Self {
        self.read = Some(read);
        self
    }

    /// How many retries on a status of [`status_forcelist`](Retry::status_forcelist) (or a
    /// `Retry-After` status) to allow.
    pub fn status(mut self, status: u32) -> Self {
        self.status = Some(status);
        self
    }

    /// urllib3's `redirect` counter, kept for parity. Redirects are followed by the redirect
    /// layer above this one, which has its own limit, so this layer never counts redirects.
    pub fn redirect(mut self, redirect: u32) -> Self {
        self.redirect = Some(redirect);
        self
    }

    /// How many other errors (neither connect nor read errors) to retry, for the allowed methods.
    pub fn other(mut self, other: u32) -> Self {
        self.other = Some(other);
        self
    }

    /// The exponential backoff factor in seconds (default 0: no sleep). Negative or non-finite
    /// values count as 0.
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        self.backoff_factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            0.0
        };
        self
    }

    /// The longest backoff sleep (default 120 s). It also caps the jitter.
    pub fn backoff_max(mut self, max: Duration) -> Self {
        self.backoff_max = max;
        self
    }

    /// Sleep as `strategy` says instead of urllib3's formula: `strategy()` is called once per
    /// call, and its `n`-th item is the sleep before the `n`-th counted retry. When it runs out,
    /// retries stop (the last error or response is returned), as with tokio-retry, whose
    /// strategies (`ExponentialBackoff`, `FibonacciBackoff`, `FixedInterval`, `jitter`) plug in
    /// directly. `Retry-After` still replaces the sleep where urllib3 would honour it, and the
    /// counters still apply. `backoff_factor`, `backoff_max` and `backoff_jitter` are not used.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_requests_layers::retry::Retry;
    ///
    /// // 100 ms, 200 ms, 400 ms, then give up.
    /// let retry = Retry::new().total(10).status_forcelist([503]).backoff_strategy(|| {
    ///     (0..3).map(|i| Duration::from_millis(100 << i))
    /// });
    /// # let _ = retry;
    /// ```
    pub fn backoff_strategy<F, I>(mut self, strategy: F) -> Self
    where
        F: Fn() -> I + Send + Sync + 'static,
        I: IntoIterator<Item = Duration>,
        I::IntoIter: Send + 'static,
    {
        self.strategy = Some(BackoffStrategy(std::sync::Arc::new(move || {
            Box::new(strategy().into_iter()) as Box<dyn Iterator<Item = Duration> + Send>
        })));
        self
    }

    /// The sleep before counted retry `n` (1-based) from the [`backoff_strategy`], if one is
    /// set: `Some(None)` when it ran out.
    ///
    /// [`backoff_strategy`]: Retry::backoff_strategy
    pub(crate) fn strategy_sleep(&self, n: u32) -> Option<Option<Duration>> {
        let strategy = self.strategy.as_ref()?;
        Some((strategy.0)().nth(n.saturating_sub(1) as usize))
    }

    /// A random extra sleep, uniform in `[0, jitter)`, added to every non-zero backoff (as
    /// urllib3, the sum is still capped at `backoff_max`). Default: none.
    pub fn backoff_jitter(mut self, jitter: Duration) -> Self {
        self.backoff_jitter = jitter;
        self
    }

    /// Statuses to retry (for the allowed methods), e.g. `[429, 500, 502, 503, 504]`.
    pub fn status_forcelist(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.status_forcelist = statuses.into_iter().collect();
        self
    }

    /// Methods whose requests may be retried after they were sent (read errors, statuses).
    /// Connection errors are retried for every method. As in urllib3, an empty list allows
    /// every method.
    pub fn allowed_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.allowed_methods = Some(methods.into_iter().collect());
        self
    }

    /// Retry every method (urllib3 `allowed_methods=None`).
    pub fn any_method(mut self) -> Self {
        self.allowed_methods = None;
        self
    }

    /// When status retries run out: `true` (default) fails with a
    /// [`RetryError`](super::RetryError) carrying the last status; `false` returns the last
    /// response.
    pub fn raise_on_status(mut self, raise: bool) -> Self {
        self.raise_on_status = raise;
        self
    }

    /// Whether to sleep for a response's `Retry-After` (delta-seconds or HTTP-date) instead of the
    /// backoff, and retry 413/429/503 responses carrying one even when they are not in the
    /// forcelist (default `true`, as urllib3).
    pub fn respect_retry_after_header(mut self, respect: bool) -> Self {
        self.respect_retry_after_header = respect;
        self
    }

    /// The longest `Retry-After` sleep; longer values are cut to it (default 6 h, urllib3's
    /// `DEFAULT_RETRY_AFTER_MAX`).
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// The retry budget shared by every service built from one layer (see [`RetryBudget`]).
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// No retry budget: only the counters limit retries (urllib3's behaviour).
    pub fn no_budget(mut self) -> Self {
        self.budget = None;
        self
    }

    /// The backoff before retry `n` (`n` = consecutive failed attempts so far, the one just
    /// seen included), without jitter: zero for `n <= 1`, else
    /// `min(backoff_max, backoff_factor * 2^(n-1))` (urllib3's `get_backoff_time`).
    pub fn backoff_for(&self, n: u32) -> Duration {
        self.backoff_with(n, 0.0)
    }

    /// The backoff before retry `n` with the jitter sampled as `unit` in `[0, 1)`.
    pub(crate) fn backoff_with(&self, n: u32, unit: f64) -> Duration {
        if n <= 1 || (self.backoff_factor == 0.0 && self.backoff_jitter.is_zero()) {
            return Duration::ZERO;
        }
        let exp = (n - 1).min(1024) as i32;
        let base = if self.backoff_factor == 0.0 {
            0.0
        } else {
            self.backoff_factor * 2f64.powi(exp)
        };
        let secs = base + unit.clamp(0.0, 1.0) * self.backoff_jitter.as_secs_f64();
        if secs.is_nan() || secs >= self.backoff_max.as_secs_f64() {
            // Also catches an infinite product.
            return self.backoff_max;
        }
        Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(self.backoff_max)
    }

    /// The sleep a `Retry-After` value asks for, cut to `retry_after_max`; `None` when the value
    /// is neither delta-seconds nor an HTTP-date (urllib3 raises there; this layer falls back to
    /// the backoff instead).
    pub fn retry_after(&self, value: &HeaderValue, now: SystemTime) -> Option<Duration> {
        parse_retry_after(value, now).map(|d| d.min(self.retry_after_max))
    }

    /// The total number of retries allowed (`None`: no total limit).
    pub fn get_total(&self) -> Option<u32> {
        self.total
    }

    /// The longest `Retry-After` sleep (see [`retry_after_max`](Retry::retry_after_max)).
    pub fn get_retry_after_max(&self) -> Duration {
        self.retry_after_max
    }

    /// The longest backoff sleep (see [`backoff_max`](Retry::backoff_max)).
    pub fn get_backoff_max(&self) -> Duration {
        self.backoff_max
    }

    pub(crate) fn method_allowed(&self, method: &Method) -> bool {
        match &self.allowed_methods {
            Some(methods) if !methods.is_empty() => methods.contains(method),
            _ => true,
        }
    }

    pub(crate) fn has_jitter(&self) -> bool {
        !self.backoff_jitter.is_zero()
    }

    pub(crate) fn in_forcelist(&self, status: u16) -> bool {
        self.status_forcelist.contains(&status)
    }
}

/// `Retry-After` as delta-seconds (whitespace around allowed, as urllib3) or an HTTP-date
/// (IMF-fixdate, RFC 850 or asctime, via `httpdate`). A date in the past is zero.
fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is "very long": the cap applies.
        return Some(Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A retry budget: tower's [`TpsBudget`](tower::retry::budget::TpsBudget). Every call deposits,
/// every retry withdraws; when the budget is empty, failures are returned without retrying.
/// (With `total=0` a call can make no counted retry and deposits nothing; the silent
/// resend is outside the budget.)
///
/// Retries within any `ttl` window are at most `retry_percent` of the calls plus
/// `min_per_sec × ttl` (the reserve that lets a quiet client retry at all). The default (10 s,
/// 1 retry/s, 20%) keeps a backend that is fully down at about 1.2× the offered calls (exactly:
/// `1.2 × calls + 10` attempts per 10 s window) instead of `1 + total` times.
///
/// One budget is created per [`RetryLayer`](super::RetryLayer) and shared by every service (and
/// clone) it builds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    pub(crate) ttl: Duration,
    pub(crate) min_per_sec: u32,
    pub(crate) retry_percent: f32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            ttl: Duration::from_secs(10),
            min_per_sec: 1,
            retry_percent: 0.2,
        }
    }
}

impl RetryBudget {
    /// A budget remembering deposits for `ttl` (clamped to 1..=60 s), allowing `min_per_sec`
    /// retries per second regardless of traffic plus `retry_percent` (clamped to 0..=1000; 0.2 =
    /// 20%) of the calls.
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Self {
        let retry_percent = if retry_percent.is_finite() {
            retry_percent.clamp(0.0, 1000.0)
        } else {
            0.0
        };
        RetryBudget {
            ttl: ttl.clamp(Duration::from_secs(1), Duration::from_secs(60)),
            min_per_sec: min_per_sec.min(i32::MAX as u32 - 1),
            retry_percent,
        }
    }

    pub(crate) fn build(&self) -> tower::retry::budget::TpsBudget {
        tower::retry::budget::TpsBudget::new(self.ttl, self.min_per_sec, self.retry_percent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urllib3_backoff_sequences() {
        // Measured with urllib3 2.x: Retry(backoff_factor=f).increment(...).get_backoff_time().
        let half = Retry::new().backoff_factor(0.5);
        let got: Vec<f64> = (1..=6).map(|n| half.backoff_for(n).as_secs_f64()).collect();
        assert_eq!(got, [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]);
        let one = Retry::new().backoff_factor(1.0);
        let got: Vec<f64> = (1..=6).map(|n| one.backoff_for(n).as_secs_f64()).collect();
        assert_eq!(got, [0.0, 2.0, 4.0, 8.0, 16.0, 32.0]);
    }

    #[test]
    fn backoff_is_capped() {
        let r = Retry::new().backoff_factor(10.0);
        assert_eq!(r.backoff_for(4), Duration::from_secs(80));
        assert_eq!(r.backoff_for(5), DEFAULT_BACKOFF_MAX);
        assert_eq!(r.backoff_for(u32::MAX), DEFAULT_BACKOFF_MAX);
        let r = r.backoff_max(Duration::from_secs(3));
        assert_eq!(r.backoff_for(2), Duration::from_secs(3));
        assert_eq!(
            Retry::new().backoff_factor(f64::NAN).backoff_for(9),
            Duration::ZERO
        );
        assert_eq!(
            Retry::new().backoff_factor(-1.0).backoff_for(9),
            Duration::ZERO
        );
    }

    #[test]
    fn jitter_is_added_and_capped() {
        let r = Retry::new()
            .backoff_factor(1.0)
            .backoff_jitter(Duration::from_millis(500));
        assert_eq!(r.backoff_with(1, 0.99), Duration::ZERO);
        assert_eq!(r.backoff_with(2, 0.5), Duration::from_millis(2250));
        let r = r.backoff_max(Duration::from_secs(2));
        assert_eq!(r.backoff_with(2, 0.99), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_values() {
        let r = Retry::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(r.retry_after(&v("2"), now), Some(Duration::from_secs(2)));
        assert_eq!(r.retry_after(&v(" 7 "), now), Some(Duration::from_secs(7)));
        assert_eq!(
            r.retry_after(&v("99999999999999999999999"), now),
            Some(DEFAULT_RETRY_AFTER_MAX)
        );
        assert_eq!(r.retry_after(&v("-3"), now), None);
        assert_eq!(r.retry_after(&v("1.5"), now), None);
        assert_eq!(r.retry_after(&v(""), now), None);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(42));
        let value = HeaderValue::from_str(&date).unwrap();
        assert_eq!(r.retry_after(&value, now), Some(Duration::from_secs(42)));
        let past =
            HeaderValue::from_str(&httpdate::fmt_http_date(now - Duration::from_secs(5))).unwrap();
        assert_eq!(r.retry_after(&past, now), Some(Duration::ZERO));
        let capped = r.clone().retry_after_max(Duration::from_secs(10));
        assert_eq!(
            capped.retry_after(&v("3600"), now),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn methods() {
        let r = Retry::new();
        assert!(r.method_allowed(&Method::GET) && r.method_allowed(&Method::TRACE));
        assert!(!r.method_allowed(&Method::POST) && !r.method_allowed(&Method::PATCH));
        assert!(r.clone().any_method().method_allowed(&Method::POST));
        // urllib3: an empty allowed_methods allows every method.
        assert!(r.allowed_methods([]).method_allowed(&Method::POST));
    }

    #[test]
    fn budget_params_are_clamped_not_panicking() {
        let b = RetryBudget::new(Duration::ZERO, u32::MAX, f32::NAN);
        let _ = b.build();
        let b = RetryBudget::new(Duration::from_secs(3600), 0, 1e9);
        let _ = b.build();
    }
}
