//! Every resource has a bound: connections through a forward proxy, idle connections, open
//! connections per host.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower_requests::{Proxy, Session};

use crate::hostile::{Conn, Hostile};

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// A forward proxy that answers every request on a connection itself (keep-alive), with the
/// request target and Host header it saw as the body.
async fn echo_proxy() -> Hostile {
    Hostile::start(|mut c: Conn| async move {
        while let Some(req) = c.read_request().await {
            let body = format!("{} {}", req.path, req.header("host").unwrap_or("-"));
            c.ok(&body).await;
        }
    })
    .await
}

#[tokio::test]
async fn plain_http_through_a_forward_proxy_shares_its_connections_across_hosts() {
    let proxy = echo_proxy().await;
    let session = Session::builder()
        .trust_env(false)
        .proxy(Proxy::http(proxy.url("")).unwrap())
        .build()
        .unwrap();
    let before = open_fds();
    for i in 0..300 {
        let url = format!("http://host{i}.example:8{:03}/page?i={i}", i % 7);
        let resp = session.get(&url).send().await.unwrap();
        let seen = resp.text().await.unwrap();
        // Absolute form, and the target's Host header (the default port left out).
        let host = format!("host{i}.example:8{:03}", i % 7);
        assert_eq!(seen, format!("{url} {host}"));
    }
    let after = open_fds();
    assert_eq!(
        proxy.accepts(),
        1,
        "one connection to the proxy for 300 hosts"
    );
    // Other tests of this binary run alongside and open a few descriptors of their own; one
    // connection per host would add 600 here (both ends are in this process).
    assert!(after <= before + 64, "fds {before} -> {after}");

    // Concurrent calls open more connections to the proxy, which are then reused too.
    let calls = (0..16).map(|i| {
        let session = session.clone();
        async move {
            let url = format!("http://c{i}.example/");
            session
                .get(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    futures_util::future::join_all(calls).await;
    let opened = proxy.accepts();
    assert!(opened <= 17, "{opened}");
    for i in 0..50 {
        let url = format!("http://again{i}.example/");
        session
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    assert_eq!(proxy.accepts(), opened, "idle proxy connections reused");
}

/// Counts the connections open at once (and the most ever) on the server side.
#[derive(Default)]
struct Open {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// A keep-alive server answering each request after `delay`, counting open connections.
async fn counting_server(open: Arc<Open>, delay: Duration) -> Hostile {
    Hostile::start(move |mut c: Conn| {
        let open = open.clone();
        async move {
            let n = open.now.fetch_add(1, Ordering::SeqCst) + 1;
            open.max.fetch_max(n, Ordering::SeqCst);
            while let Some(req) = c.read_request().await {
                tokio::time::sleep(delay).await;
                c.ok(&req.path).await;
            }
            open.now.fetch_sub(1, Ordering::SeqCst);
        }
    })
    .await
}

#[tokio::test]
async fn pool_max_per_host_bounds_open_connections_and_queues_the_rest() {
    let open = Arc::new(Open::default());
    let server = counting_server(open.clone(), Duration::from_millis(20)).await;
    let session = Session::builder()
        .trust_env(false)
        .pool_max_per_host(2)
        .build()
        .unwrap();
    let calls = (0..24).map(|i| {
        let session = session.clone();
        let url = server.url(&format!("/{i}"));
        async move { session.get(&url).send().await?.text().await }
    });
    let answers = futures_util::future::join_all(calls).await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(
            answer.unwrap(),
            format!("/{i}"),
            "every queued call is answered"
        );
    }
    assert_eq!(
        open.max.load(Ordering::SeqCst),
        2,
        "never more than 2 open at once"
    );
    assert_eq!(server.accepts(), 2);

    // Without the cap the same burst opens more.
    let open = Arc::new(Open::default());
    let server = counting_server(open.clone(), Duration::from_millis(20)).await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let calls = (0..8).map(|i| {
        let session = session.clone();
        let url = server.url(&format!("/{i}"));
        async move { session.get(&url).send().await?.text().await }
    });
    futures_util::future::join_all(calls).await;
    assert!(open.max.load(Ordering::SeqCst) > 2);
}

#[tokio::test]
async fn pool_max_per_host_applies_to_a_forward_proxy() {
    let open = Arc::new(Open::default());
    let proxy = counting_server(open.clone(), Duration::from_millis(20)).await;
    let session = Session::builder()
        .trust_env(false)
        .proxy(Proxy::http(proxy.url("")).unwrap())
        .pool_max_per_host(3)
        .build()
        .unwrap();
    let calls = (0..24).map(|i| {
        let session = session.clone();
        async move {
            let url = format!("http://h{i}.example/{i}");
            let text = session.get(&url).send().await?.text().await?;
            Ok::<_, tower_requests::Error>((url, text))
        }
    });
    for answer in futures_util::future::join_all(calls).await {
        let (url, text) = answer.unwrap();
        assert_eq!(text, url);
    }
    assert_eq!(open.max.load(Ordering::SeqCst), 3);
    assert_eq!(proxy.accepts(), 3);
}

#[tokio::test]
async fn pool_max_idle_bounds_idle_connections_over_all_hosts() {
    // 12 hosts (one server each, so one pool key each), one call to each: with pool_max_idle(4)
    // only the 4 most recently used connections stay open; the others are closed.
    let open = Arc::new(Open::default());
    let mut servers = Vec::new();
    for _ in 0..12 {
        servers.push(counting_server(open.clone(), Duration::ZERO).await);
    }
    let session = Session::builder()
        .trust_env(false)
        .pool_max_idle(4)
        .build()
        .unwrap();
    for server in &servers {
        let text = session.get(server.url("/x")).send().await.unwrap();
        assert_eq!(text.text().await.unwrap(), "/x");
    }
    // The evicted connections close on their own (the client closes, the server sees EOF).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while open.now.load(Ordering::SeqCst) > 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        open.now.load(Ordering::SeqCst),
        4,
        "4 idle connections kept"
    );

    // The newest are the ones kept: the last 4 hosts reuse their connection, and every call
    // (evicted or not) still succeeds, many times over.
    for round in 0..3 {
        for server in &servers {
            let text = session.get(server.url("/y")).send().await.unwrap();
            assert_eq!(text.text().await.unwrap(), "/y", "round {round}");
        }
    }
    let accepted: usize = servers.iter().map(|s| s.accepts()).sum();
    assert!(accepted >= 12 + 8, "evicted hosts reconnect: {accepted}");
    let kept: usize = servers[8..].iter().map(|s| s.accepts()).sum();
    assert!(kept >= 4, "{kept}");

    // The default keeps all 12 (under 100).
    let open = Arc::new(Open::default());
    let mut servers = Vec::new();
    for _ in 0..12 {
        servers.push(counting_server(open.clone(), Duration::ZERO).await);
    }
    let session = Session::builder().trust_env(false).build().unwrap();
    for server in &servers {
        session
            .get(server.url("/x"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(open.now.load(Ordering::SeqCst), 12);
}

#[tokio::test]
async fn posts_racing_the_idle_limit_are_never_lost_or_doubled() {
    // Two hosts, pool_max_idle(1): every call evicts the other host's idle connection, often
    // just as it is picked for the next request. Every POST is answered, and each server
    // processes exactly the POSTs sent to it.
    let open = Arc::new(Open::default());
    let a = counting_server(open.clone(), Duration::ZERO).await;
    let b = counting_server(open.clone(), Duration::ZERO).await;
    let session = Session::builder()
        .trust_env(false)
        .pool_max_idle(1)
        .build()
        .unwrap();
    let calls = (0..200).map(|i| {
        let session = session.clone();
        let url = if i % 2 == 0 {
            a.url(&format!("/{i}"))
        } else {
            b.url(&format!("/{i}"))
        };
        async move { session.post(&url).body("x").send().await?.text().await }
    });
    for (i, answer) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(answer.unwrap(), format!("/{i}"));
    }
    assert_eq!(a.requests(), 100);
    assert_eq!(b.requests(), 100);

    // One at a time, alternating: each call finds its host's connection just evicted.
    for i in 0..200 {
        let url = if i % 2 == 0 { a.url("/s") } else { b.url("/s") };
        let text = session.post(&url).body("x").send().await.unwrap();
        assert_eq!(text.text().await.unwrap(), "/s");
    }
    assert_eq!(a.requests(), 200);
    assert_eq!(b.requests(), 200);
}
