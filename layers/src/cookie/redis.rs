//! [`RedisCookieStore`]: one cookie jar shared by a fleet of processes through Redis, read from a
//! local replica.
//!
//! See [`RedisCookieStore`] for the design.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client};
use futures_util::StreamExt;
use http::HeaderValue;
use tokio::sync::{mpsc, watch};
use url::Url;

use super::backend::{CookieStore, DefaultCookieStore};
use super::error::CookieError;
use super::jar::parse_set_cookie;
use super::model::{Cookie, SameSite};
use crate::BoxError;

/// Runs writes. KEYS: cookies, exp, ver. ARGV[1]: channel, ARGV[2]: member, ARGV[3]: now
/// (ms), then 5 per write: kind (P put, D delete, C clear), field, value, expiry (ms), version.
/// Publishes `member\n` + `kind\nfield\nvalue\nversion\n` per write applied.
const WRITE: &str = r"
local now = tonumber(ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, f in ipairs(gone) do redis.call('HDEL', KEYS[1], f) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local cleared = tonumber(redis.call('HGET', KEYS[3], '') or '0')
local out = {ARGV[2]}
for i = 4, #ARGV, 5 do
  local kind, field, value, exp, ver = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local v = tonumber(ver)
  if kind == 'C' then
    if v >= cleared then
      redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
      redis.call('HSET', KEYS[3], '', ver)
      cleared = v
      table.insert(out, 'C\n\n\n' .. ver)
    end
  else
    local cur = tonumber(redis.call('HGET', KEYS[3], field) or '0')
    if v >= cur and v >= cleared then
      redis.call('HSET', KEYS[3], field, ver)
      if kind == 'P' then
        redis.call('HSET', KEYS[1], field, value)
        redis.call('ZADD', KEYS[2], exp, field)
      else
        redis.call('HDEL', KEYS[1], field)
        redis.call('ZREM', KEYS[2], field)
      end
      table.insert(out, kind .. '\n' .. field .. '\n' .. value .. '\n' .. ver)
    end
  end
end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIREAT', KEYS[1], last[2])
  redis.call('PEXPIREAT', KEYS[2], last[2])
  redis.call('PEXPIREAT', KEYS[3], last[2])
else
  redis.call('PEXPIRE', KEYS[3], 86400000)
end
if #out > 1 then
  redis.call('PUBLISH', ARGV[1], table.concat(out, '\n'))
end
return #out - 1
";

/// Drops expired cookies, then returns every cookie and every version: {fields/values...},
/// {fields/versions...}.
const READ: &str = r"
local now = tonumber(ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, f in ipairs(gone) do redis.call('HDEL', KEYS[1], f) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[3])}
";

/// Field/value pairs of a hash, as `HGETALL` returns them.
type Pairs = Vec<(String, String)>;

static WRITE_SCRIPT: LazyLock<::redis::Script> = LazyLock::new(|| ::redis::Script::new(WRITE));
static READ_SCRIPT: LazyLock<::redis::Script> = LazyLock::new(|| ::redis::Script::new(READ));

/// One write, as queued and sent.
#[derive(Debug, Clone)]
struct Op {
    kind: char,
    field: String,
    value: String,
    expires_ms: i64,
    version: i64,
}

/// What the store's state is, from [`RedisCookieStore::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisStoreStatus {
    /// Subscribed and synced with Redis now.
    pub connected: bool,
    /// How many times the replica was rebuilt from Redis (each (re)connect).
    pub syncs: u64,
    /// Writes made here and not yet in Redis.
    pub queued: usize,
}

struct Shared {
    replica: DefaultCookieStore,
    /// The version of the last write applied to the replica, per field ("" for a clear).
    versions: Mutex<HashMap<String, i64>>,
    connected: AtomicBool,
    queued: AtomicUsize,
    syncs: watch::Sender<u64>,
    member: String,
    session_lifetime: Duration,
    keys: [String; 3],
    channel: String,
}

/// A [`CookieStore`] shared by every process that uses the same Redis and jar name (feature
/// `redis`): a login made by one is sent by the others' next requests.
///
/// # Design
///
/// - **Reads are local.** Each store keeps a replica (a [`DefaultCookieStore`]) and answers
///   every Cookie header from it: a request never waits on Redis.
/// - **Writes** (a Set-Cookie, `insert`, `remove`, `clear`) change the replica at once, then go
///   to a background task that runs them in Redis with one Lua script (atomic) which also
///   `PUBLISH`es them on the jar's channel; every other member applies them to its replica.
///   Each write carries the writer's clock (µs); for one cookie the newest write wins, in Redis
///   and in every replica (a delete leaves a version behind, so an older write that comes late
///   cannot bring the cookie back).
/// - **(Re)connect.** The task subscribes, replays the writes it queued, then rebuilds the
///   replica from Redis; cookies Redis lacks but the replica has with a newer write (Redis
///   restarted empty) are written back, with their versions.
/// - **Redis down.** The replica keeps serving; writes queue (one per cookie: newest wins) and
///   are replayed on reconnect. No request fails because Redis is down.
/// - **Layout.** For a jar named `N`: hash `{N}:cookies` (field `domain\tpath\tname`, value the
///   cookie), sorted set `{N}:exp` (field → expiry, ms since the epoch), hash `{N}:ver` (field →
///   version of its last write) and channel `{N}:events`. Every key carries the hash tag `{N}`,
///   so the scripts run on a Redis Cluster. Expiry: a persistent cookie's own; a session cookie
///   lives for the store's session lifetime from its last write. Each script first drops the
///   expired fields, and the three keys expire (`PEXPIREAT`) with the last cookie. (A hash and
///   a sorted set rather than one key per cookie: a rebuild is one `HGETALL`, not a `SCAN`.)
/// - A replica drops a persistent cookie at its expiry itself; a session cookie past the
///   session lifetime leaves it at its next rebuild.
///
/// # Use
/// Put it in a jar with [`CookieJar::with_store`](super::CookieJar::with_store) and give the
/// jar to a session (or a [`CookieLayer`](super::CookieLayer)):
///
/// ```no_run
/// # async fn run() -> Result<(), tower_requests_layers::BoxError> {
/// use std::time::Duration;
/// use tower_requests_layers::cookie::{CookieJar, RedisCookieStore};
///
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let store = RedisCookieStore::new(client, "crawler", Duration::from_secs(24 * 3600))?;
/// // Optional: wait (briefly) for the first sync, so the shared login is there at once.
/// store.synced(Duration::from_secs(2)).await;
/// let jar = CookieJar::with_store(store);
/// # let _ = jar;
/// # Ok(())
/// # }
/// ```
///
/// Clones share one replica and one background task, which ends when the last clone is
/// dropped.
#[derive(Clone)]
pub struct RedisCookieStore {
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Op>,
}

impl fmt::Debug for RedisCookieStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCookieStore")
            .field("jar", &self.shared.channel)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Escapes `\`, tab and newline, the separators of the stored forms.
fn esc(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unesc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(c) => out.push(c),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn field(domain: &str, path: &str, name: &str) -> String {
    let mut f = String::new();
    esc(domain, &mut f);
    f.push('\t');
    esc(path, &mut f);
    f.push('\t');
    esc(name, &mut f);
    f
}

fn encode(c: &Cookie) -> String {
    let mut s = String::new();
    for part in [&c.name, &c.value, &c.domain, &c.path] {
        esc(part, &mut s);
        s.push('\t');
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    s.push_str(&c.expires.map_or("-".to_owned(), |t| to_ms(t).to_string()));
    s.push('\t');
    s.push_str(flag(c.secure));
    s.push('\t');
    s.push_str(flag(c.http_only));
    s.push('\t');
    s.push_str(c.same_site.map_or("-", |s| s.as_str()));
    s.push('\t');
    s.push_str(flag(c.host_only));
    s.push('\t');
    s.push_str(&to_ms(c.created).to_string());
    s
}

fn decode(s: &str) -> Option<Cookie> {
    let p: Vec<&str> = s.split('\t').collect();
    if p.len() != 10 {
        return None;
    }
    let time = |ms: &str| -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms.parse::<i64>().ok()?).ok()?))
    };
    Some(Cookie {
        name: unesc(p[0]),
        value: unesc(p[1]),
        domain: unesc(p[2]),
        path: unesc(p[3]),
        expires: if p[4] == "-" { None } else { Some(time(p[4])?) },
        secure: p[5] == "1",
        http_only: p[6] == "1",
        same_site: SameSite::parse(p[7]),
        host_only: p[8] == "1",
        created: time(p[9])?,
    })
}

impl RedisCookieStore {
    /// A store for the jar named `name` on `client`'s Redis; session cookies live
    /// `session_lifetime` there from their last write. Starts the background task (call it
    /// within a tokio runtime) and returns at once: Redis may be down. The replica is empty
    /// until the first sync ([`synced`](Self::synced)).
    pub fn new(client: Client, name: &str, session_lifetime: Duration) -> Result<Self, BoxError> {
        crate::redis_name::check_name(name)?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "RedisCookieStore::new must be called within a tokio runtime")?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            replica: DefaultCookieStore::new(),
            versions: Mutex::new(HashMap::new()),
            connected: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            syncs: watch::channel(0).0,
            member: format!("{:016x}", rand_u64()),
            session_lifetime,
            keys: [
                format!("{{{name}}}:cookies"),
                format!("{{{name}}}:exp"),
                format!("{{{name}}}:ver"),
            ],
            channel: format!("{{{name}}}:events"),
        });
        handle.spawn(run(shared.clone(), client, rx));
        Ok(RedisCookieStore { shared, tx })
    }

    /// Waits until the replica has been synced with Redis at least once, at most `timeout`;
    /// whether it has.
    pub async fn synced(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.syncs.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Connected or not, syncs so far, writes queued.
    pub fn status(&self) -> RedisStoreStatus {
        RedisStoreStatus {
            connected: self.shared.connected.load(Ordering::SeqCst),
            syncs: *self.shared.syncs.borrow(),
            queued: self.shared.queued.load(Ordering::SeqCst),
        }
    }

    /// Queues the replica's state of one cookie (after a local change) for Redis.
    fn publish(&self, domain: &str, path: &str, name: &str, deleted: bool) {
        let f = field(domain, path, name);
        let version = now_us();
        let op = if deleted {
            Op {
                kind: 'D',
                field: f,
                value: String::new(),
                expires_ms: 0,
                version,
            }
        } else {
            let Some(c) = self.shared.replica.lock().find(domain, path, name) else {
                return;
            };
            let expires = c
                .expires
                .unwrap_or_else(|| SystemTime::now() + self.shared.session_lifetime);
            Op {
                kind: 'P',
                field: f,
                value: encode(&c),
                expires_ms: to_ms(expires),
                version,
            }
        };
        self.send(op);
    }

    fn send(&self, op: Op) {
        self.shared.note_version(&op.field, op.version);
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(op).is_err() {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_us());
    h.write_u32(std::process::id());
    h.finish()
}

impl Shared {
    fn note_version(&self, field: &str, version: i64) {
        let mut v = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        let cur = v.entry(field.to_owned()).or_insert(0);
        *cur = (*cur).max(version);
    }

    /// Applies a write made elsewhere to the replica, unless a newer one was applied.
    fn apply(&self, kind: &str, field: &str, value: &str, version: i64) {
        let mut versions = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        if kind == "C" {
            if versions.get("").is_some_and(|v| *v > version) {
                return;
            }
            versions.retain(|_, v| *v > version);
            versions.insert(String::new(), version);
            // Cookies written here after the clear stay.
            let keep: Vec<Cookie> = self
                .replica
                .cookies()
                .into_iter()
                .filter(|c| versions.get(&field_of(c)).is_some_and(|v| *v > version))
                .collect();
            self.replica.clear();
            for c in keep {
                let _ = self.replica.insert(c);
            }
            return;
        }
        let newest = versions
            .get(field)
            .copied()
            .unwrap_or(0)
            .max(versions.get("").copied().unwrap_or(0));
        if version < newest {
            return;
        }
        versions.insert(field.to_owned(), version);
        match kind {
            "P" => {
                if let Some(c) = decode(value) {
                    let _ = self.replica.insert(c);
                }
            }
            _ => {
                let parts: Vec<String> = field.split('\t').map(unesc).collect();
                if let [domain, path, name] = &parts[..] {
                    self.replica.remove(domain, path, name);
                }
            }
        }
    }

    /// Replaces the replica with Redis's cookies, keeping the cookies whose last write here is
    /// newer than Redis's (a queued write, or Redis restarted empty): those are returned with
    /// their versions, to be written back.
    fn rebuild(
        &self,
        cookies: Vec<(String, String)>,
        remote: Vec<(String, String)>,
    ) -> Vec<(Cookie, i64)> {
        let mut versions = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        let remote: HashMap<String, i64> = remote
            .into_iter()
            .filter_map(|(f, v)| Some((f, v.parse().ok()?)))
            .collect();
        // Local cookies whose last local write is newer than Redis's stay as they are.
        let local_newer = |f: &str, versions: &HashMap<String, i64>| {
            versions.get(f).copied().unwrap_or(0) > remote.get(f).copied().unwrap_or(0)
        };
        let keep: Vec<(Cookie, i64)> = self
            .replica
            .cookies()
            .into_iter()
            .filter(|c| local_newer(&field_of(c), &versions))
            .map(|c| {
                let v = versions.get(&field_of(&c)).copied().unwrap_or(0);
                (c, v)
            })
            .collect();
        self.replica.clear();
        for (c, _) in &keep {
            let _ = self.replica.insert(c.clone());
        }
        for (f, value) in cookies {
            if local_newer(&f, &versions) {
                continue;
            }
            if let Some(c) = decode(&value) {
                let _ = self.replica.insert(c);
            }
        }
        for (f, v) in remote {
            let cur = versions.entry(f).or_insert(0);
            *cur = (*cur).max(v);
        }
        keep
    }
}

fn field_of(c: &Cookie) -> String {
    field(&c.domain, &c.path, &c.name)
}

impl CookieStore for RedisCookieStore {
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &HeaderValue>,
    ) {
        let lines: Vec<&HeaderValue> = set_cookies.collect();
        if lines.is_empty() {
            return;
        }
        // What each line would change, and the replica's state of those cookies before.
        let parsed: Vec<Cookie> = lines
            .iter()
            .filter_map(|v| parse_set_cookie(v, url).ok())
            .collect();
        let before: Vec<Option<Cookie>> = {
            let store = self.shared.replica.lock();
            parsed
                .iter()
                .map(|c| store.find(&c.domain, &c.path, &c.name))
                .collect()
        };
        self.shared
            .replica
            .store_response_cookies(url, &mut lines.into_iter());
        let now = SystemTime::now();
        for (c, before) in parsed.iter().zip(before) {
            let after = self.shared.replica.lock().find(&c.domain, &c.path, &c.name);
            match (before, after) {
                (Some(_), None) => self.publish(&c.domain, &c.path, &c.name, true),
                (None, None) => {}
                (Some(b), Some(a)) if same_but_expiry(&b, &a, now) => {}
                (_, Some(_)) => self.publish(&c.domain, &c.path, &c.name, false),
            }
        }
    }

    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        self.shared.replica.cookie_header(url)
    }

    fn cookie_header_for_uri(&self, uri: &http::Uri) -> Option<HeaderValue> {
        self.shared.replica.cookie_header_for_uri(uri)
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.shared.replica.cookies()
    }

    fn remove(&self, domain: &str, path: &str, name: &str) -> bool {
        let removed = self.shared.replica.remove(domain, path, name);
        if removed {
            self.publish(domain, path, name, true);
        }
        removed
    }

    fn clear(&self) {
        self.shared.replica.clear();
        self.send(Op {
            kind: 'C',
            field: String::new(),
            value: String::new(),
            expires_ms: 0,
            version: now_us(),
        });
    }

    fn insert_raw(&self, set_cookie: &str, url: &Url) -> Result<(), CookieError> {
        let value = HeaderValue::from_str(set_cookie).map_err(|_| CookieError::ControlCharacter)?;
        let c = parse_set_cookie(&value, url)?;
        let existed = self
            .shared
            .replica
            .lock()
            .find(&c.domain, &c.path, &c.name)
            .is_some();
        self.shared.replica.insert_raw(set_cookie, url)?;
        let now_there = self
            .shared
            .replica
            .lock()
            .find(&c.domain, &c.path, &c.name)
            .is_some();
        if now_there || existed {
            self.publish(&c.domain, &c.path, &c.name, !now_there);
        }
        Ok(())
    }

    fn insert(&self, cookie: Cookie) -> Result<(), CookieError> {
        let (d, p, n) = (
            cookie.domain.clone(),
            cookie.path.clone(),
            cookie.name.clone(),
        );
        self.shared.replica.insert(cookie)?;
        let there = self.shared.replica.lock().find(&d, &p, &n).is_some();
        self.publish(&d, &p, &n, !there);
        Ok(())
    }
}

/// The same cookie, only its expiry moved by less than a second (a server re-sending its
/// session cookie with a relative Max-Age on every response): not worth a round trip.
fn same_but_expiry(a: &Cookie, b: &Cookie, _now: SystemTime) -> bool {
    let close = match (a.expires, b.expires) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            let d = x.duration_since(y).or_else(|_| y.duration_since(x));
            d.is_ok_and(|d| d < Duration::from_secs(1))
        }
        _ => false,
    };
    close
        && a.value == b.value
        && a.secure == b.secure
        && a.http_only == b.http_only
        && a.same_site == b.same_site
        && a.host_only == b.host_only
}

/// The background task: connect, subscribe, replay, rebuild, then apply messages and run
/// writes until the connection breaks; again, until the store is dropped.
async fn run(shared: Arc<Shared>, client: Client, mut rx: mpsc::UnboundedReceiver<Op>) {
    // Writes not yet in Redis, newest per field ("" for a clear, which drops the older).
    let mut pending: BTreeMap<String, Op> = BTreeMap::new();
    let mut received = 0usize;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    let mut pause = Duration::from_millis(50);
    loop {
        match session(
            &shared,
            &client,
            &config,
            &mut rx,
            &mut pending,
            &mut received,
        )
        .await
        {
            Ok(()) => return, // the store was dropped
            Err(_e) => {
                #[cfg(feature = "tracing")]
                tracing::debug!(error = %_e, jar = %shared.channel, "Redis cookie store disconnected");
            }
        }
        shared.connected.store(false, Ordering::SeqCst);
        // Keep queueing while waiting to reconnect.
        let sleep = tokio::time::sleep(pause);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                op = rx.recv() => match op {
                    Some(op) => queue(&mut pending, op, &mut received),
                    None => return,
                },
            }
        }
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

fn queue(pending: &mut BTreeMap<String, Op>, op: Op, received: &mut usize) {
    *received += 1;
    if op.kind == 'C' {
        pending.retain(|_, o| o.version > op.version);
    }
    match pending.get(&op.field) {
        Some(cur) if cur.version > op.version => {}
        _ => {
            pending.insert(op.field.clone(), op);
        }
    }
}

async fn flush(
    shared: &Shared,
    conn: &mut MultiplexedConnection,
    pending: &mut BTreeMap<String, Op>,
    received: &mut usize,
) -> Result<(), BoxError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut inv = WRITE_SCRIPT.prepare_invoke();
    for k in &shared.keys {
        inv.key(k);
    }
    inv.arg(&shared.channel)
        .arg(&shared.member)
        .arg(now_us() / 1000);
    // A clear first (it drops what is older), then the rest.
    let mut ops: Vec<&Op> = pending.values().collect();
    ops.sort_by_key(|o| (o.kind != 'C', o.version));
    for op in ops {
        inv.arg(op.kind.to_string())
            .arg(&op.field)
            .arg(&op.value)
            .arg(op.expires_ms)
            .arg(op.version);
    }
    let _: i64 = inv.invoke_async(conn).await?;
    pending.clear();
    shared.queued.fetch_sub(*received, Ordering::SeqCst);
    *received = 0;
    Ok(())
}

async fn session(
    shared: &Shared,
    client: &Client,
    config: &AsyncConnectionConfig,
    rx: &mut mpsc::UnboundedReceiver<Op>,
    pending: &mut BTreeMap<String, Op>,
    received: &mut usize,
) -> Result<(), BoxError> {
    let mut conn = client
        .get_multiplexed_async_connection_with_config(config)
        .await?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&shared.channel).await?;
    let mut messages = pubsub.into_on_message();
    while let Ok(op) = rx.try_recv() {
        queue(pending, op, received);
    }
    flush(shared, &mut conn, pending, received).await?;
    let (cookies, versions): (Pairs, Pairs) = READ_SCRIPT
        .key(&shared.keys[0])
        .key(&shared.keys[1])
        .key(&shared.keys[2])
        .arg(now_us() / 1000)
        .invoke_async(&mut conn)
        .await?;
    // What Redis lacks (it restarted empty, or a write of ours is newer) goes back, with the
    // versions it had: a newer write from another member still wins.
    let heal = shared.rebuild(cookies, versions);
    for (c, version) in heal {
        let f = field_of(&c);
        if pending.contains_key(&f) {
            continue;
        }
        let expires = c
            .expires
            .unwrap_or_else(|| SystemTime::now() + shared.session_lifetime);
        let op = Op {
            kind: 'P',
            value: encode(&c),
            field: f.clone(),
            expires_ms: to_ms(expires),
            version,
        };
        pending.insert(f, op);
    }
    flush(shared, &mut conn, pending, received).await?;
    shared.connected.store(true, Ordering::SeqCst);
    shared.syncs.send_modify(|n| *n += 1);
    loop {
        tokio::select! {
            op = rx.recv() => {
                let Some(op) = op else { return Ok(()) };
                queue(pending, op, received);
                while let Ok(op) = rx.try_recv() {
                    queue(pending, op, received);
                }
                flush(shared, &mut conn, pending, received).await?;
            }
            msg = messages.next() => {
                let Some(msg) = msg else { return Err("Redis subscription ended".into()) };
                let Ok(payload) = msg.get_payload::<String>() else { continue };
                let mut lines = payload.split('\n');
                if lines.next() == Some(shared.member.as_str()) {
                    continue;
                }
                while let (Some(kind), Some(field), Some(value), Some(version)) =
                    (lines.next(), lines.next(), lines.next(), lines.next())
                {
                    if let Ok(version) = version.parse() {
                        shared.apply(kind, field, value, version);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_round_trip_through_the_stored_form() {
        let c = Cookie::new("a\tb", "v\\1\n", "example.com", "/p")
            .with_expires(Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)))
            .with_secure(true)
            .with_same_site(Some(SameSite::Lax))
            .with_created(UNIX_EPOCH + Duration::from_millis(1_600_000_000_000));
        assert_eq!(decode(&encode(&c)), Some(c.clone()));
        let s = c.with_expires(None).with_host_only(false);
        assert_eq!(decode(&encode(&s)), Some(s));
        assert_eq!(decode("too\tfew"), None);
        let f = field("example.com", "/a\tb", "n");
        assert_eq!(
            f.split('\t').map(unesc).collect::<Vec<_>>(),
            ["example.com", "/a\tb", "n"]
        );
    }
}
