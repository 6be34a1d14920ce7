//! [`Quota`] and the in-process GCRA limiter.
//!
//! GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival time
//! (TAT) of the next call. A call at `now` reserves `max(tat, now) + T` (`T` the interval between
//! calls at the limit's rate); it may go at once when that is at most `burst * T` ahead of `now`,
//! otherwise it waits the difference. So: token-bucket behaviour (a full bucket of `burst` calls
//! at once, then one per `T`), with one number to store and compare. Hand-written (a dozen lines)
//! because the same arithmetic has to run in the Redis script too, where no crate can help.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A rate and a burst: `rate` calls per second on average, up to `burst` at once after a quiet
/// spell. The limit is "at most `burst + rate * t` calls in any `t` seconds".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Interval between calls at the rate, in nanoseconds (at least 1).
    pub(crate) interval_ns: u64,
    pub(crate) burst: u32,
}

/// A quota that allows nothing (`0` calls, or a zero period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidQuota(pub(crate) &'static str);

impl fmt::Display for InvalidQuota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid rate limit quota: {}", self.0)
    }
}

impl std::error::Error for InvalidQuota {}

impl Quota {
    /// `n` calls per second, burst 1 (change it with [`burst`](Self::burst)).
    pub fn per_second(n: u32) -> Result<Quota, InvalidQuota> {
        Quota::per_period(n, Duration::from_secs(1))
    }

    /// `n` calls per `period`, burst 1.
    pub fn per_period(n: u32, period: Duration) -> Result<Quota, InvalidQuota> {
        if n == 0 {
            return Err(InvalidQuota("zero calls per period"));
        }
        let ns = period.as_nanos() / u128::from(n);
        if ns == 0 {
            return Err(InvalidQuota("more than one call per nanosecond"));
        }
        let interval_ns = u64::try_from(ns).map_err(|_| InvalidQuota("period too long"))?;
        Ok(Quota {
            interval_ns,
            burst: 1,
        })
    }

    /// How many calls may go at once after a quiet spell (at least 1; 0 counts as 1).
    pub fn burst(mut self, burst: u32) -> Quota {
        self.burst = burst.max(1);
        self
    }

    /// The interval between two calls at the rate.
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns)
    }

    /// The burst.
    pub fn burst_size(&self) -> u32 {
        self.burst
    }

    /// The same limit shared by `members` processes: each gets `rate / members` and
    /// `burst / members` (at least 1).
    pub fn divided(self, members: u32) -> Quota {
        let members = members.max(1);
        Quota {
            interval_ns: self.interval_ns.saturating_mul(u64::from(members)),
            burst: (self.burst / members).max(1),
        }
    }

    pub(crate) fn tolerance_ns(&self) -> u64 {
        self.interval_ns.saturating_mul(u64::from(self.burst))
    }
}

/// What the limiter says about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Go now.
    Go,
    /// A slot is reserved this far in the future: sleep, then go.
    Wait(Duration),
    /// Over the limit and not allowed to wait that long: retry after this.
    Reject(Duration),
}

impl Decision {
    /// Both decisions: the longer wait; a refusal if either refuses.
    #[cfg(feature = "redis")]
    pub(crate) fn and(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::Reject(a), Decision::Reject(b)) => Decision::Reject(a.max(b)),
            (Decision::Reject(a), _) | (_, Decision::Reject(a)) => Decision::Reject(a),
            (Decision::Wait(a), Decision::Wait(b)) => Decision::Wait(a.max(b)),
            (Decision::Wait(a), Decision::Go) | (Decision::Go, Decision::Wait(a)) => {
                Decision::Wait(a)
            }
            (Decision::Go, Decision::Go) => Decision::Go,
        }
    }
}

/// Entries beyond this many are pruned (those whose bucket is full again) on the next call.
const PRUNE_AT: usize = 4096;

/// The in-process limiter: one TAT per key, on tokio's clock (which it sleeps on).
pub(crate) struct Local {
    quota: Quota,
    start: Instant,
    /// TAT per key, in nanoseconds since `start`.
    tats: Mutex<HashMap<String, u64>>,
    /// A key seen for the first time starts with an empty bucket (its first call waits one
    /// interval): for the fallback of a shared limiter, whose members may have been using the
    /// limit up.
    start_empty: bool,
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl Local {
    pub(crate) fn new(quota: Quota, start_empty: bool) -> Self {
        Local {
            quota,
            start: Instant::now(),
            tats: Mutex::new(HashMap::new()),
            start_empty,
        }
    }

    /// Decides one call with `key` now; `max_wait`: the longest wait allowed (`None`: any).
    pub(crate) fn acquire(&self, key: &str, max_wait: Option<Duration>) -> Decision {
        self.acquire_after(key, max_wait, Duration::ZERO).0
    }

    /// How far the key's schedule (its TAT) is from now, in µs: negative when it is in the past,
    /// `None` for a key never seen.
    #[cfg(feature = "redis")]
    pub(crate) fn tat_from_now_us(&self, key: &str) -> Option<i64> {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let tat = *self
            .tats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)?;
        let us = |ns: u64| i64::try_from(ns / 1000).unwrap_or(i64::MAX);
        Some(if tat >= now {
            us(tat - now)
        } else {
            -us(now - tat)
        })
    }

    /// [`acquire`](Self::acquire) with the key's schedule at least `floor` ahead of now (what a
    /// shared limiter last said of the fleet's). Also returns how far ahead the key's schedule
    /// is now.
    pub(crate) fn acquire_after(
        &self,
        key: &str,
        max_wait: Option<Duration>,
        floor: Duration,
    ) -> (Decision, Duration) {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let floor = now.saturating_add(u64::try_from(floor.as_nanos()).unwrap_or(u64::MAX));
        let t = self.quota.interval_ns;
        let tolerance = self.quota.tolerance_ns();
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        let known = tats.get(key).copied();
        let tat = match known {
            Some(tat) => tat.max(now),
            None if self.start_empty => now.saturating_add(tolerance),
            None => now,
        };
        let tat = tat.max(floor);
        let new_tat = tat.saturating_add(t);
        let wait = new_tat.saturating_sub(now.saturating_add(tolerance));
        let wait = Duration::from_nanos(wait);
        if max_wait.is_some_and(|max| wait > max) {
            return (Decision::Reject(wait), Duration::from_nanos(tat - now));
        }
        match tats.get_mut(key) {
            Some(v) => *v = new_tat,
            None => {
                if tats.len() >= PRUNE_AT {
                    tats.retain(|_, tat| *tat > now);
                }
                tats.insert(key.to_owned(), new_tat);
            }
        }
        let ahead = Duration::from_nanos(new_tat - now);
        if wait.is_zero() {
            (Decision::Go, ahead)
        } else {
            (Decision::Wait(wait), ahead)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_interval_each() {
        let q = Quota::per_second(10).unwrap().burst(3);
        let l = Local::new(q, false);
        for _ in 0..3 {
            assert_eq!(l.acquire("a", None), Decision::Go);
        }
        // The 4th waits about one interval, the 5th two.
        let Decision::Wait(w4) = l.acquire("a", None) else {
            panic!()
        };
        let Decision::Wait(w5) = l.acquire("a", None) else {
            panic!()
        };
        assert!(
            w4 <= Duration::from_millis(100) && w4 > Duration::from_millis(90),
            "{w4:?}"
        );
        assert!(w5 > Duration::from_millis(190), "{w5:?}");
        // Other keys have their own bucket.
        assert_eq!(l.acquire("b", None), Decision::Go);
        // Failing fast reserves nothing.
        let Decision::Reject(r) = l.acquire("a", Some(Duration::ZERO)) else {
            panic!()
        };
        assert!(r > w5, "{r:?}");
        let Decision::Reject(r2) = l.acquire("a", Some(Duration::ZERO)) else {
            panic!()
        };
        assert!(r2 <= r, "{r2:?} {r:?}");
    }

    #[test]
    fn an_empty_start_has_no_burst() {
        let l = Local::new(Quota::per_second(10).unwrap().burst(5), true);
        assert_eq!(
            l.acquire("a", None),
            Decision::Wait(Duration::from_millis(100))
        );
    }

    #[test]
    fn bad_quotas_are_errors() {
        assert!(Quota::per_second(0).is_err());
        assert!(Quota::per_period(1, Duration::ZERO).is_err());
        assert!(Quota::per_period(u32::MAX, Duration::from_nanos(1)).is_err());
        assert!(Quota::per_period(1, Duration::MAX).is_err());
        let q = Quota::per_second(100).unwrap().burst(0);
        assert_eq!(
            (q.burst_size(), q.interval()),
            (1, Duration::from_millis(10))
        );
        assert_eq!(q.burst(9).divided(3).interval(), Duration::from_millis(30));
        assert_eq!(q.burst(9).divided(3).burst_size(), 3);
    }
}
