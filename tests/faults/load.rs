//! Retries under load: random 503s lose nothing, and a full outage is not amplified.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use tower_requests::{Retry, Session};

use crate::hostile::{Conn, Hostile};

/// A keep-alive server answering 503 to a pseudo-random `per_mille` of the requests.
async fn flaky_server(per_mille: u64) -> Hostile {
    let counter = Arc::new(AtomicU64::new(0));
    Hostile::start(move |mut c: Conn| {
        let counter = counter.clone();
        async move {
            while c.read_request().await.is_some() {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                // splitmix64: spread the failures over the run.
                let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                if (z ^ (z >> 31)) % 1000 < per_mille {
                    c.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                        .await;
                } else {
                    c.ok("ok").await;
                }
            }
        }
    })
    .await
}

fn retrying() -> Session {
    Session::builder()
        .trust_env(false)
        .retry(
            Retry::new()
                .total(3)
                .backoff_factor(0.0)
                .status_forcelist([503]),
        )
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_percent_503s_at_c64_lose_no_call() {
    let server = flaky_server(10).await;
    let session = retrying();
    let url = server.url("/");
    let failed = stream::iter(0..5_000)
        .map(|_| {
            let session = session.clone();
            let url = url.clone();
            async move {
                match session.get(&url).send().await {
                    Ok(resp) => resp.text().await.map(|t| t != "ok").unwrap_or(true),
                    Err(_) => true,
                }
            }
        })
        .buffer_unordered(64)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    assert_eq!(failed, 0);
    let attempts = server.requests();
    assert!((5_000..5_200).contains(&attempts), "{attempts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outage_costs_at_most_a_quarter_more_attempts() {
    let server = flaky_server(1000).await;
    let session = retrying();
    let url = server.url("/");
    let errors = stream::iter(0..1_000)
        .map(|_| {
            let session = session.clone();
            let url = url.clone();
            async move { session.get(&url).send().await.is_err() }
        })
        .buffer_unordered(64)
        .filter(|e| std::future::ready(*e))
        .count()
        .await;
    assert_eq!(errors, 1_000, "every call reports the outage");
    let attempts = server.requests();
    // Without the retry budget this would be 4 000 (1 + total=3 per call).
    assert!(attempts <= 1_250, "{attempts} attempts for 1 000 calls");
}
