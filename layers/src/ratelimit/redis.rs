//! The Redis backend: [`RedisLimiter`], GCRA in one Lua script shared by every process that
//! names the same limiter.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::error::LimiterUnavailable;
use super::gcra::{Decision, Local, Quota};
use crate::redis_name::{check_name, InvalidName};
use crate::BoxError;

/// GCRA over one key. ARGV: interval (µs), burst, longest wait allowed (µs, -1: any), and the
/// freshest TAT this member knows (µs, 0: none): the key's TAT is at least that. It matters
/// when the key is missing (Redis restarted or evicted it) or behind a member that was falling
/// back: the schedule goes on from where the members last saw it (slots reserved before, or by
/// their fallback meanwhile), so a restart hands out no second burst. Otherwise the stored TAT
/// is already later. Returns {allowed, wait µs, now µs, tat µs}. Redis's own clock
/// (`TIME`) is the one clock of the fleet.
const GCRA: &str = r"
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local hint = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
if tat < hint then tat = hint end
if tat < now then tat = now end
local new_tat = tat + T
local wait = new_tat - now - burst * T
if wait < 0 then wait = 0 end
if max_wait >= 0 and wait > max_wait then
  return {0, wait, now, tat}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
return {1, wait, now, new_tat}
";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(GCRA));

/// What a [`RedisLimiter`] does while Redis cannot be asked (down, unreachable, too slow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenDown {
    /// Every call goes, unlimited.
    FailOpen,
    /// Every call fails with [`LimiterUnavailable`](super::LimiterUnavailable); nothing is sent.
    FailClosed,
    /// The default: each process limits itself in-process, at `rate / expected_members` and
    /// `burst / expected_members` (see [`RedisLimiter::expected_members`]), starting with an
    /// empty bucket (the first call waits one interval of that share): the fleet may have been
    /// using the whole limit.
    #[default]
    Fallback,
}

/// A limit shared by every process that uses the same Redis and limiter `name`: GCRA runs in one
/// Lua script (`EVALSHA`), so N processes together stay within the quota. Give it to
/// [`RateLimitLayer::redis`](super::RateLimitLayer::redis).
///
/// Keys are `{name}:rl:<key>`: the hash tag `{name}` puts all of one limiter's keys in one slot
/// of a Redis Cluster. Each key expires once its bucket is full again.
///
/// Redis is asked with a timeout ([`timeout`](Self::timeout), default 250 ms). A failed call
/// makes the limiter skip Redis for [`retry_after_failure`](Self::retry_after_failure)
/// (default 1 s) and apply [`WhenDown`] meanwhile; the connection is re-established in the
/// background.
#[derive(Clone)]
pub struct RedisLimiter {
    conn: ConnectionManager,
    name: String,
    when_down: WhenDown,
    expected_members: u32,
    timeout: Duration,
    retry_after_failure: Duration,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("name", &self.name)
            .field("when_down", &self.when_down)
            .field("expected_members", &self.expected_members)
            .finish_non_exhaustive()
    }
}

/// The connection settings both Redis backends use: quick to fail, reconnecting in the
/// background.
pub(crate) fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500))
}

impl RedisLimiter {
    /// A limiter named `name` over `client` (`redis::Client::open("redis://127.0.0.1/")`). The
    /// connection is made lazily, in the background: Redis may be down now. Must be called
    /// within a tokio runtime.
    pub fn new(client: redis::Client, name: &str) -> Result<Self, BoxError> {
        check_name(name)?;
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config())?;
        Ok(Self::with_manager(conn, name)?)
    }

    /// A limiter over a connection you made (and configured) yourself.
    pub fn with_manager(conn: ConnectionManager, name: &str) -> Result<Self, InvalidName> {
        check_name(name)?;
        Ok(RedisLimiter {
            conn,
            name: name.to_owned(),
            when_down: WhenDown::default(),
            expected_members: 1,
            timeout: Duration::from_millis(250),
            retry_after_failure: Duration::from_secs(1),
        })
    }

    /// What to do while Redis cannot be asked (default [`WhenDown::Fallback`]).
    pub fn when_down(mut self, when_down: WhenDown) -> Self {
        self.when_down = when_down;
        self
    }

    /// How many processes share the limit, for the fallback's share (default 1).
    pub fn expected_members(mut self, members: u32) -> Self {
        self.expected_members = members.max(1);
        self
    }

    /// How long one call to Redis may take before it counts as down (default 250 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long Redis is skipped after a failed call (default 1 s).
    pub fn retry_after_failure(mut self, pause: Duration) -> Self {
        self.retry_after_failure = pause;
        self
    }
}

/// A [`RedisLimiter`] with its quota, fallback and per-key hints.
pub(crate) struct Shared {
    cfg: RedisLimiter,
    quota: Quota,
    fallback: Local,
    /// The shared quota's burst tolerance minus the fallback's (µs, at least 0).
    tolerance_gap_us: i64,
    start: Instant,
    /// Redis is not asked before this many ns after `start` (0: ask).
    down_until: AtomicU64,
    /// Redis's clock minus ours (µs since the epoch), from the last answer.
    offset_us: AtomicI64,
    /// The freshest TAT (Redis µs) known per key.
    hints: Mutex<HashMap<String, i64>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("limiter", &self.cfg)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

fn local_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Shared {
    pub(crate) fn new(cfg: RedisLimiter, quota: Quota) -> Self {
        let share = quota.divided(cfg.expected_members);
        let fallback = Local::new(share, true);
        let gap_ns = quota.tolerance_ns().saturating_sub(share.tolerance_ns());
        Shared {
            cfg,
            quota,
            fallback,
            tolerance_gap_us: i64::try_from(gap_ns / 1000).unwrap_or(i64::MAX),
            start: Instant::now(),
            down_until: AtomicU64::new(0),
            offset_us: AtomicI64::new(0),
            hints: Mutex::new(HashMap::new()),
        }
    }

    fn elapsed_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether Redis is being skipped after a failure.
    pub(crate) fn is_down(&self) -> bool {
        self.elapsed_ns() < self.down_until.load(Ordering::Relaxed)
    }

    /// The decision while Redis is down.
    pub(crate) fn when_down(
        &self,
        key: &str,
        max_wait: Option<Duration>,
        cause: impl FnOnce() -> BoxError,
    ) -> Result<Decision, BoxError> {
        match self.cfg.when_down {
            WhenDown::FailOpen => Ok(Decision::Go),
            WhenDown::FailClosed => Err(Box::new(LimiterUnavailable::new(cause()))),
            WhenDown::Fallback => {
                // The fleet's schedule as last seen (slots reserved through Redis, or by this
                // fallback) is not handed out again; and what the fallback reserves is what
                // the key starts from when Redis comes back without it.
                let est = local_now_us() + self.offset_us.load(Ordering::Relaxed);
                let hint = self.hint(key);
                let floor = hint
                    .saturating_sub(est)
                    .saturating_sub(self.tolerance_gap_us);
                let floor = Duration::from_micros(u64::try_from(floor).unwrap_or(0));
                let (d, ahead) = self.fallback.acquire_after(key, max_wait, floor);
                if !matches!(d, Decision::Reject(_)) {
                    // In the shared limit's terms: the fleet's last reserved call runs `burst`
                    // intervals before its TAT, this share's `burst / members` of its own
                    // (longer) intervals before the share's.
                    let ahead = i64::try_from(ahead.as_micros()).unwrap_or(i64::MAX);
                    self.note_hint(
                        key,
                        est.saturating_add(ahead)
                            .saturating_add(self.tolerance_gap_us),
                    );
                }
                Ok(d)
            }
        }
    }

    fn hint(&self, key: &str) -> i64 {
        self.hints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    fn note_hint(&self, key: &str, tat: i64) {
        let mut hints = self.hints.lock().unwrap_or_else(|e| e.into_inner());
        match hints.get_mut(key) {
            Some(h) => *h = (*h).max(tat),
            None => {
                if hints.len() >= 4096 {
                    let now = local_now_us() + self.offset_us.load(Ordering::Relaxed);
                    hints.retain(|_, h| *h > now);
                }
                hints.insert(key.to_owned(), tat);
            }
        }
    }

    /// Asks Redis (falling back as configured when it cannot answer).
    pub(crate) async fn acquire(
        self: Arc<Self>,
        key: String,
        max_wait: Option<Duration>,
    ) -> Result<Decision, BoxError> {
        match self.ask(&key, max_wait).await {
            Ok(d) => {
                // Just back from the fallback: the other members may still be on theirs (they
                // found Redis down a little later, so they come back a little later), and what
                // they reserve there Redis does not see. For one more pause this member keeps
                // to its fallback share as well, so the fleet stays within the limit.
                let down_until = self.down_until.load(Ordering::Relaxed);
                let pause =
                    u64::try_from(self.cfg.retry_after_failure.as_nanos()).unwrap_or(u64::MAX);
                if down_until != 0 && self.elapsed_ns() < down_until.saturating_add(pause) {
                    let (share, _) = self.fallback.acquire_after(&key, max_wait, Duration::ZERO);
                    return Ok(d.and(share));
                }
                Ok(d)
            }
            Err(e) => {
                let until = self.elapsed_ns().saturating_add(
                    u64::try_from(self.cfg.retry_after_failure.as_nanos()).unwrap_or(u64::MAX),
                );
                self.down_until.store(until, Ordering::Relaxed);
                #[cfg(feature = "tracing")]
                tracing::warn!(error = %e, limiter = %self.cfg.name, "Redis rate limiter unavailable");
                self.when_down(&key, max_wait, || e)
            }
        }
    }

    async fn ask(&self, key: &str, max_wait: Option<Duration>) -> Result<Decision, BoxError> {
        let t_us = (self.quota.interval_ns / 1000).max(1);
        let max_wait_us = max_wait.map_or(-1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let hint = self.hint(key);
        let mut conn = self.cfg.conn.clone();
        let mut invocation = SCRIPT.key(format!("{{{}}}:rl:{key}", self.cfg.name));
        invocation
            .arg(t_us)
            .arg(self.quota.burst)
            .arg(max_wait_us)
            .arg(hint);
        let (allowed, wait, now, tat): (i64, i64, i64, i64) =
            tokio::time::timeout(self.cfg.timeout, invocation.invoke_async(&mut conn))
                .await
                .map_err(|_| "Redis did not answer in time")??;
        self.offset_us
            .store(now - local_now_us(), Ordering::Relaxed);
        self.note_hint(key, tat);
        let wait = Duration::from_micros(u64::try_from(wait).unwrap_or(0));
        Ok(if allowed == 0 {
            Decision::Reject(wait)
        } else if wait.is_zero() {
            Decision::Go
        } else {
            Decision::Wait(wait)
        })
    }
}
