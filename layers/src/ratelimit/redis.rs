//! The Redis backend: [`RedisLimiter`], GCRA in one Lua script shared by every process that
//! names the same limiter.
//!
//! How the fleet keeps to the limit across an outage, and why, is in
//! [`RedisLimiter`]'s docs.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::error::LimiterUnavailable;
use super::gcra::{Decision, Local, Quota};
use crate::redis_name::{check_name, InvalidName};
use crate::BoxError;

/// How long a key outlives its TAT in Redis (ms), and so how long a member keeps its own slots
/// after they end: a key gone sooner was lost, not expired.
const LINGER_MS: i64 = 1000;

/// GCRA over one key, a hash: `t` the TAT (µs), `i` its incarnation (when it was created, µs);
/// `h`, `o`, `b`: what members reported of the key's previous incarnation (the latest TAT one
/// saw, the sum of their own slots, and how much of that is in `t`).
///
/// ARGV: interval (µs), burst, longest wait allowed (µs, -1: any), expected members; then what
/// this member knows: the incarnation it last saw (0: none), the area (µs) of its own slots on
/// it still to come, and the latest TAT it saw there (counted if the key was created again
/// since: the old slots still to come are at least the larger of what the latest TAT reported
/// shows and the sum of what each member reported of its own); the end of its fallback's
/// schedule (Redis µs, 0: no report) and when it fell back (counted from the later of that and
/// the key's creation, divided by the members: each fallback is a `1/members` share). Debts
/// are added even when the call itself is refused. Returns
/// {allowed, wait µs, now µs, tat µs, incarnation}. Redis's own clock (`TIME`) is the one
/// clock of the fleet.
const GCRA: &str = r"
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local members = tonumber(ARGV[4])
local known = tonumber(ARGV[5])
local own = tonumber(ARGV[6])
local hint = tonumber(ARGV[7])
local lane_tat = tonumber(ARGV[8])
local lane_from = tonumber(ARGV[9])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local st = redis.call('HMGET', KEYS[1], 't', 'i', 'h', 'o', 'b')
local inc = tonumber(st[2])
local tat = 0
if inc then tat = tonumber(st[1]) or 0 else inc = now end
local oh = tonumber(st[3]) or 0
local oo = tonumber(st[4]) or 0
local ob = tonumber(st[5]) or 0
if tat < now then tat = now end
if known ~= 0 and known ~= inc then
  if hint > oh then oh = hint end
  oo = oo + own
  local old = math.max(oh - now, oo)
  if old > ob then
    tat = tat + old - ob
    ob = old
  end
end
if lane_tat > 0 then
  local from = math.max(inc, lane_from)
  if lane_tat > from then tat = tat + math.ceil((lane_tat - from) / members) end
end
local new_tat = tat + T
local wait = new_tat - now - burst * T
if wait < 0 then wait = 0 end
local allowed = 1
if max_wait >= 0 and wait > max_wait then
  allowed = 0
  new_tat = tat
end
local function f(x) return string.format('%.0f', x) end
redis.call('HSET', KEYS[1], 't', f(new_tat), 'i', f(inc), 'h', f(oh), 'o', f(oo), 'b', f(ob))
redis.call('PEXPIRE', KEYS[1], math.floor((new_tat - now) / 1000) + 1000)
return {allowed, wait, now, new_tat, inc}
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
    /// `burst / expected_members` (see [`RedisLimiter::expected_members`]), starting after what
    /// it had reserved on Redis (`expected_members ×` its own slots still to come), and never
    /// with a full bucket (its first call waits at least one interval of its share). Back on
    /// Redis, it reports what its fallback handed out, and for one more pause keeps to its share
    /// as well. Together the fleet stays within the limit across the outage and a restart of
    /// Redis: see [`RedisLimiter`] for the exact guarantee and its limits.
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
///
/// # Across an outage: the fleet keeps to the limit exactly
///
/// Think of the limit as capacity on a time line: one call per interval `T`, over the whole
/// width. Every call a member lets through holds one `T` of it: on Redis, the whole width for
/// `T` (the script's TAT is where those slots end); on a member's fallback, a `1/members` lane
/// for `members × T`. A call goes at the earliest `burst` intervals before its slot ends (on
/// the fallback: `burst / members` of its own). If no piece of capacity is handed out twice,
/// the calls from the fleet's first one, at `a`, to any later one, at `b`, fit in
/// `[a, b + burst × T]`: at most `rate × (b − a) + burst` of them. Capacity could be handed out
/// twice only where Redis and the fallbacks meet, and each of these places is paid for:
///
/// - **Going down.** Each member keeps the ends of the slots it reserved on Redis (per key,
///   until a second after they end). When it falls back on a key, its lane starts no sooner
///   than `members ×` the area of its slots not ended at its last answer from Redis (nor before
///   the latest TAT it saw there). Over the members' lanes, `1/members` wide each, that is at
///   least everything Redis had handed out, whoever reserved it: no member's stale view of the
///   others' slots is relied on.
/// - **Coming back.** A member's first successful call on a key it fell back on reports its
///   lane: the script adds `(end of the lane − the later of the key's creation and the
///   fallback's start) / members` to the TAT. Each key records when it was created (its
///   *incarnation*): if Redis restarted (or lost the key), the lane's slots before that met no
///   Redis slot and are not counted; if Redis kept the key (the member alone was cut off, or
///   Redis was only slow), they are all counted, since the others may have used Redis
///   meanwhile.
/// - **Redis lost a key under a member that did not fall back.** Its next call, seeing a new
///   incarnation, reports its own slots still to come and the latest TAT it saw; the key adds
///   the larger of what the latest TAT reported shows and the sum of the members' own slots,
///   which is everything once each member holding slots has called again.
///
/// What is added is never taken back, so from the fleet's first call to its last, once every
/// member that fell back has called Redis again, the fleet stays within `rate × time + burst`,
/// as if Redis had never gone (`tests/fleet.rs` checks it for three processes across a restart,
/// and a layer test with members coming back at different times). Over shorter windows the
/// limit also holds while each side keeps to its part; around a member's return it is kept by
/// a grace: for one more [`retry_after_failure`] pause after coming back, a member keeps to its
/// fallback share as well, so it does not spend on Redis room that members still on their
/// fallback are using (their report is still to come).
///
/// What it costs, and where it stops:
/// - The accounting errs on the safe side: a member's own slots and its lane may both count the
///   same calls, a report carried by a call that timed out after Redis ran it counts twice, and
///   after an outage in which Redis kept its keys the fallback calls are charged on return
///   although nobody used Redis meanwhile: the fleet then waits about as long as the fallback
///   ran at full use. Later calls wait longer, never the other way.
/// - A member that stops (or crashes) while on its fallback never reports: its fallback calls
///   stay uncounted.
/// - A member idle during the outage that wakes up once Redis is back, while others are still
///   on their fallback, uses Redis at the full rate until they report; the fleet then waits
///   for what they used (the total holds, a shorter window may not). And a member that had not
///   called Redis for over a second when Redis lost the key does not report those of its slots
///   that ended more than a second before its call (it keeps them no longer).
/// - Members must share one quota and `expected_members`, which must be at least the number of
///   members that may fall back at once.
/// - Within a fallback spell each member keeps to `rate / members` and `burst / members`
///   (rounded down, at least 1) on its own; over short windows their calls can line up, up to
///   one call per member beyond the burst.
///
/// [`retry_after_failure`]: RedisLimiter::retry_after_failure
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

/// What this member knows of one key.
#[derive(Default)]
struct KeyState {
    /// The key's incarnation at the last answer (Redis µs; 0: never asked).
    inc: i64,
    /// Redis's clock at the last answer (µs).
    seen_at: i64,
    /// The latest TAT seen on that incarnation (Redis µs): everything before it was handed out.
    hint: i64,
    /// The ends (Redis µs) of this member's slots on that incarnation, ascending, those that
    /// ended in the last `LINGER_MS` or are still to come.
    own: VecDeque<i64>,
    /// Slots dropped from a full `own`: their area (µs), and the last one's end.
    spilled: (i64, i64),
    /// On the fallback for this key since (Redis µs), until it has reported on Redis.
    fallback_since: Option<i64>,
}

/// Slots kept per key before they are summed up (conservatively) instead.
const OWN_CAP: usize = 1024;

impl KeyState {
    fn prune(&mut self, now: i64) {
        let keep_after = now - LINGER_MS * 1000;
        while self.own.front().is_some_and(|&x| x < keep_after) {
            self.own.pop_front();
        }
        if self.spilled.1 < keep_after {
            self.spilled = (0, 0);
        }
    }

    fn add_own(&mut self, end: i64, t_us: i64) {
        if self.own.len() >= OWN_CAP {
            if let Some(x) = self.own.pop_front() {
                self.spilled = (self.spilled.0 + t_us, self.spilled.1.max(x));
            }
        }
        self.own.push_back(end);
    }

    /// The area (µs) of this member's slots after `t`.
    fn own_after(&self, t: i64, t_us: i64) -> i64 {
        let listed: i64 = self.own.iter().map(|&x| (x - t).clamp(0, t_us)).sum();
        let spilled = if t < self.spilled.1 {
            self.spilled.0
        } else {
            0
        };
        listed + spilled
    }

    /// The area (µs) of this member's slots that might still overlap another incarnation of
    /// the key: after its last answer, or after `LINGER_MS` ago (a key lost sooner was not
    /// expired).
    fn own_to_come(&self, now: i64, t_us: i64) -> i64 {
        self.own_after(self.seen_at.max(now - LINGER_MS * 1000), t_us)
    }

    fn idle(&self) -> bool {
        self.own.is_empty() && self.spilled.0 == 0 && self.fallback_since.is_none()
    }
}

/// A [`RedisLimiter`] with its quota, fallback and what it knows of each key.
pub(crate) struct Shared {
    cfg: RedisLimiter,
    quota: Quota,
    fallback: Local,
    start: Instant,
    /// Redis is not asked before this many ns after `start` (0: ask).
    down_until: AtomicU64,
    /// Redis's clock minus ours (µs since the epoch), from the last answer.
    offset_us: AtomicI64,
    keys: Mutex<HashMap<String, KeyState>>,
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

/// The state of `key`, made if missing (pruning idle ones when there are many).
fn key_state<'a>(keys: &'a mut HashMap<String, KeyState>, key: &str, now: i64) -> &'a mut KeyState {
    if !keys.contains_key(key) && keys.len() >= 4096 {
        keys.retain(|_, s| {
            s.prune(now);
            !s.idle()
        });
    }
    keys.entry(key.to_owned()).or_default()
}

/// What one call to Redis carries besides the call itself (all 0 / none: nothing known).
#[derive(Default)]
struct Report {
    known_inc: i64,
    own: i64,
    hint: i64,
    lane_tat: i64,
    lane_from: i64,
    /// The report's spell, to put back if the call fails.
    since: Option<i64>,
}

impl Shared {
    pub(crate) fn new(cfg: RedisLimiter, quota: Quota) -> Self {
        let share = quota.divided(cfg.expected_members);
        Shared {
            cfg,
            quota,
            fallback: Local::new(share, true),
            start: Instant::now(),
            down_until: AtomicU64::new(0),
            offset_us: AtomicI64::new(0),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn elapsed_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn t_us(&self) -> i64 {
        i64::try_from(self.quota.interval_ns / 1000)
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// Redis's clock, as last seen (µs).
    fn redis_now_us(&self) -> i64 {
        local_now_us().saturating_add(self.offset_us.load(Ordering::Relaxed))
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyState>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
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
                let now = self.redis_now_us();
                let mut keys = self.keys();
                let (starting, floor_us) = match keys.get_mut(key) {
                    Some(s) if s.fallback_since.is_some() => (false, 0),
                    // Starting a spell: this lane comes after the slots this member holds on
                    // Redis (its share of what Redis had handed out), at `members ×` their
                    // area, and not before the latest TAT it saw there.
                    Some(s) if s.inc != 0 => {
                        s.prune(now);
                        let own = s.own_to_come(now, self.t_us());
                        let floor = own
                            .saturating_mul(i64::from(self.cfg.expected_members))
                            .max(s.hint.saturating_sub(now));
                        (true, floor)
                    }
                    _ => (true, 0),
                };
                let floor = Duration::from_micros(u64::try_from(floor_us).unwrap_or(0));
                let (d, _) = self.fallback.acquire_after(key, max_wait, floor);
                if starting && !matches!(d, Decision::Reject(_)) {
                    let s = key_state(&mut keys, key, now);
                    s.fallback_since = Some(now);
                    // Folded into the lane: reported with it.
                    s.own.clear();
                    s.spilled = (0, 0);
                }
                Ok(d)
            }
        }
    }

    /// What the next call to Redis for `key` reports (and the lane's report is taken: one
    /// call carries it at a time).
    fn report(&self, key: &str) -> Report {
        let now = self.redis_now_us();
        let mut keys = self.keys();
        let Some(s) = keys.get_mut(key) else {
            return Report::default();
        };
        s.prune(now);
        let own = if s.inc != 0 {
            s.own_to_come(now, self.t_us())
        } else {
            0
        };
        let since = s.fallback_since.take();
        let (lane_tat, lane_from) = match since {
            Some(since) => {
                let ahead = self.fallback.tat_from_now_us(key).unwrap_or(0);
                // Never 0 (0 means no report).
                (now.saturating_add(ahead).max(1), since)
            }
            None => (0, 0),
        };
        Report {
            known_inc: s.inc,
            own,
            hint: s.hint,
            lane_tat,
            lane_from,
            since,
        }
    }

    /// Asks Redis (falling back as configured when it cannot answer).
    pub(crate) async fn acquire(
        self: Arc<Self>,
        key: String,
        max_wait: Option<Duration>,
    ) -> Result<Decision, BoxError> {
        let report = self.report(&key);
        let since = report.since;
        match self.ask(&key, max_wait, report).await {
            Ok(d) => {
                // Just back from the fallback: the other members may still be on theirs (they
                // found Redis down a little later, so they come back a little later), and what
                // they use there Redis learns only from their report. For one more pause this
                // member keeps to its fallback share as well, so it does not spend their part.
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
                if let Some(since) = since {
                    // Not reported (or not known to be): the spell goes on.
                    let mut keys = self.keys();
                    if let Some(s) = keys.get_mut(&key) {
                        s.fallback_since = Some(s.fallback_since.map_or(since, |x| x.min(since)));
                    }
                }
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

    async fn ask(
        &self,
        key: &str,
        max_wait: Option<Duration>,
        report: Report,
    ) -> Result<Decision, BoxError> {
        let t_us = self.t_us();
        let max_wait_us = max_wait.map_or(-1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let mut conn = self.cfg.conn.clone();
        let mut invocation = SCRIPT.key(format!("{{{}}}:rl:{key}", self.cfg.name));
        invocation
            .arg(t_us)
            .arg(self.quota.burst)
            .arg(max_wait_us)
            .arg(self.cfg.expected_members)
            .arg(report.known_inc)
            .arg(report.own)
            .arg(report.hint)
            .arg(report.lane_tat)
            .arg(report.lane_from);
        let (allowed, wait, now, tat, inc): (i64, i64, i64, i64, i64) =
            tokio::time::timeout(self.cfg.timeout, invocation.invoke_async(&mut conn))
                .await
                .map_err(|_| "Redis did not answer in time")??;
        self.offset_us
            .store(now - local_now_us(), Ordering::Relaxed);
        {
            let mut keys = self.keys();
            let s = key_state(&mut keys, key, now);
            if s.inc != inc {
                // A new incarnation: the slots on the old one were reported with this call.
                s.own.clear();
                s.spilled = (0, 0);
                s.inc = inc;
                s.hint = 0;
            }
            s.hint = s.hint.max(tat);
            s.seen_at = s.seen_at.max(now);
            s.prune(now);
            if allowed != 0 {
                s.add_own(tat, t_us);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_slots_count_their_part_after_a_time_and_spill_conservatively() {
        let mut s = KeyState::default();
        // Slots of 10 µs ending at 100, 110, 120.
        for end in [100, 110, 120] {
            s.add_own(end, 10);
        }
        assert_eq!(s.own_after(0, 10), 30);
        assert_eq!(s.own_after(105, 10), 5 + 10);
        assert_eq!(s.own_after(120, 10), 0);
        // Past OWN_CAP, the oldest are summed up, and counted whole while any could remain.
        let mut s = KeyState::default();
        for i in 0..(OWN_CAP as i64 + 2) {
            s.add_own(1000 + i * 10, 10);
        }
        assert_eq!(s.own.len(), OWN_CAP);
        assert_eq!(s.spilled, (20, 1010));
        assert_eq!(s.own_after(0, 10), (OWN_CAP as i64 + 2) * 10);
        assert_eq!(s.own_after(1010, 10), OWN_CAP as i64 * 10);
        // Pruned a LINGER after they end.
        s.prune(1010 + LINGER_MS * 1000 + 1);
        assert_eq!(s.spilled, (0, 0));
        assert!(s.own.front().is_some_and(|&x| x >= 1011));
        assert!(!s.idle());
    }
}
