//! RedisCookieStore: two stores (two members, each its own connections) share a login; the
//! replica serves while redis-server is killed; writes queued meanwhile land after it restarts
//! on the same port, newest wins; expiry becomes Redis TTLs.

mod redis_support;

use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis_support::RedisServer;
use tower_requests_layers::cookie::{CookieJar, RedisCookieStore};
use url::Url;

const LIFETIME: Duration = Duration::from_secs(3600);

fn url() -> Url {
    Url::parse("http://app.example/login").unwrap()
}

/// Polls `f` every 5 ms for up to 10 s; how long it took.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

async fn member(redis: &RedisServer, name: &str) -> (RedisCookieStore, CookieJar) {
    let store =
        RedisCookieStore::new(redis::Client::open(redis.url()).unwrap(), name, LIFETIME).unwrap();
    assert!(store.synced(Duration::from_secs(5)).await);
    (store.clone(), CookieJar::with_store(store))
}

fn header(jar: &CookieJar) -> String {
    let uri: http::Uri = "http://app.example/items/1".parse().unwrap();
    jar.cookie_header_for_uri(&uri)
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_members_share_a_login_and_survive_a_redis_restart() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (a_store, a) = member(&redis, "jar1").await;
    let (b_store, b) = member(&redis, "jar1").await;
    let (_, other) = member(&redis, "jar2").await;

    // A logs in; B sends the cookie without asking Redis.
    a.insert_raw("sid=alpha; Path=/; HttpOnly", &url()).unwrap();
    assert_eq!(header(&a), "sid=alpha");
    let took = eventually("B sees A's login", || header(&b) == "sid=alpha").await;
    eprintln!("B saw A's cookie after {took:?}");
    assert_eq!(header(&other), "", "another jar name is another jar");
    // A late member gets it from the rebuild.
    let (_, c) = member(&redis, "jar1").await;
    assert_eq!(header(&c), "sid=alpha");

    // Redis goes down: the replicas keep serving, writes queue.
    redis.stop();
    eventually("A notices", || !a_store.status().connected).await;
    eventually("B notices", || !b_store.status().connected).await;
    assert_eq!(header(&a), "sid=alpha");
    assert_eq!(header(&b), "sid=alpha");
    b.insert_raw("sid=from-b; Path=/", &url()).unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    a.insert_raw("sid=from-a; Path=/", &url()).unwrap();
    a.insert_raw("lang=en; Path=/; Max-Age=600", &url())
        .unwrap();
    assert!(a_store.status().queued >= 2, "{:?}", a_store.status());
    assert_eq!(header(&a), "sid=from-a; lang=en");
    assert_eq!(header(&b), "sid=from-b");

    // Back on the same port, empty: the queued writes land, the newest write of sid wins
    // everywhere.
    redis.start_again();
    eventually("A replays", || {
        let s = a_store.status();
        s.connected && s.queued == 0
    })
    .await;
    eventually("B replays", || {
        let s = b_store.status();
        s.connected && s.queued == 0
    })
    .await;
    eventually("B converges", || header(&b) == "sid=from-a; lang=en").await;
    eventually("A converges", || header(&a) == "sid=from-a; lang=en").await;
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: Vec<(String, String)> = conn.hgetall("{jar1}:cookies").await.unwrap();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored.iter().any(|(_, v)| v.contains("from-a")),
        "{stored:?}"
    );

    // Deletes and clears travel too.
    a.remove("lang");
    eventually("B sees the removal", || header(&b) == "sid=from-a").await;
    b.clear();
    eventually("A sees the clear", || header(&a).is_empty()).await;
}

#[tokio::test]
async fn a_redis_restarted_empty_is_refilled_from_the_replicas() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (a_store, a) = member(&redis, "refill").await;
    let (b_store, b) = member(&redis, "refill").await;
    a.insert_raw("sid=1; Path=/", &url()).unwrap();
    eventually("B sees it", || header(&b) == "sid=1").await;
    redis.stop();
    redis.start_again();
    for store in [&a_store, &b_store] {
        eventually("resynced", || {
            let s = store.status();
            s.connected && s.syncs >= 2
        })
        .await;
    }
    // A member that joins now finds the login in Redis again.
    let (_, c) = member(&redis, "refill").await;
    assert_eq!(header(&c), "sid=1");
}

#[tokio::test]
async fn expiry_becomes_redis_ttls() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (store, jar) = member(&redis, "ttl").await;
    jar.insert_raw("persistent=1; Path=/; Max-Age=100", &url())
        .unwrap();
    jar.insert_raw("session=1; Path=/", &url()).unwrap();
    eventually("written", || store.status().queued == 0).await;
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let scores: Vec<(String, f64)> = conn.zrange_withscores("{ttl}:exp", 0, -1).await.unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let score = |name: &str| {
        scores
            .iter()
            .find(|(f, _)| f.ends_with(&format!("\t{name}")))
            .map(|(_, s)| (s - now_ms) / 1000.0)
            .unwrap()
    };
    assert!((90.0..=101.0).contains(&score("persistent")), "{scores:?}");
    assert!((3590.0..=3601.0).contains(&score("session")), "{scores:?}");
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["{ttl}:cookies", "{ttl}:exp", "{ttl}:ver"]);
    // The keys expire with the last cookie.
    let pttl: i64 = conn.pttl("{ttl}:cookies").await.unwrap();
    assert!(pttl > 3_500_000 && pttl <= 3_600_000, "{pttl}");
    // A deletion (Max-Age=0) removes it from Redis too.
    jar.insert_raw("session=; Path=/; Max-Age=0", &url())
        .unwrap();
    eventually("deleted", || store.status().queued == 0).await;
    let n: usize = conn.hlen("{ttl}:cookies").await.unwrap();
    assert_eq!(n, 1);
    let pttl: i64 = conn.pttl("{ttl}:cookies").await.unwrap();
    assert!(pttl > 0 && pttl <= 100_000, "{pttl}");
}

#[tokio::test]
async fn a_store_of_a_dead_redis_still_serves_its_own_cookies() {
    // Nothing listens on this port: the store never syncs, requests are not held up.
    let client = redis::Client::open("redis://127.0.0.1:1/").unwrap();
    let store = RedisCookieStore::new(client, "nowhere", LIFETIME).unwrap();
    assert!(!store.synced(Duration::from_millis(100)).await);
    let jar = CookieJar::with_store(store.clone());
    jar.insert_raw("sid=1; Path=/", &url()).unwrap();
    assert_eq!(header(&jar), "sid=1");
    assert_eq!(store.status().queued, 1);
    assert!(!store.status().connected);
}
