//! "Advanced Configuration and Customization": urllib3's Retry on a transport mounted for
//! `http://` and `https://`, and a session-level timeout (no lambda hack needed).
//!
//! ```python
//! retry_strategy = Retry(total=3, backoff_factor=0.5,
//!                        status_forcelist=[429, 500, 502, 503, 504], allowed_methods=["GET", "POST"])
//! adapter = HTTPAdapter(max_retries=retry_strategy)
//! session.mount('https://', adapter)
//! session.mount('http://', adapter)
//! response = session.get('https://api.example.com/unstable-endpoint')
//! ```

use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;
use tower::ServiceBuilder;
use tower_requests::layers::RetryLayer;
use tower_requests::{HttpClient, Retry, Session};

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    // Configure retry strategy
    let retry_strategy = Retry::new()
        .total(3)
        .backoff_factor(0.5)
        .status_forcelist([429, 500, 502, 503, 504])
        .allowed_methods([Method::GET, Method::POST]);

    // Create custom adapter: the retry layer over a pooled client
    let adapter = ServiceBuilder::new()
        .layer(RetryLayer::new(retry_strategy))
        .service(
            HttpClient::builder()
                .add_root_certificate(demo.root_certificate())
                .build()?,
        );

    // Mount adapter, and configure timeout settings (session level)
    let session = Session::builder()
        .mount("https://", adapter.clone())
        .mount("http://", adapter)
        .timeout(Duration::from_secs(30))
        .build()?;

    // Use the configured session: every other hit of the endpoint fails with 503
    let start = Instant::now();
    let response = session
        .get(demo.https_url("/unstable-endpoint"))
        .send()
        .await?;
    println!(
        "unstable-endpoint: {} after {:?}",
        response.status(),
        start.elapsed()
    );
    assert_eq!(response.status(), 200, "the 503 was retried");

    // An endpoint that fails twice: two retries, backoff 0 s then 1 s (urllib3's formula)
    let start = Instant::now();
    let body: Value = session
        .post(demo.http_url("/flaky/article?fail=2"))
        .send()
        .await?
        .json()
        .await?;
    println!("flaky endpoint: {body} after {:?}", start.elapsed());
    assert_eq!(body["attempt"], 3);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "slept before the second retry"
    );

    // Retries run out: an error that says so, with the last status
    let err = session
        .get(demo.http_url("/status/503"))
        .send()
        .await
        .expect_err("503 four times");
    println!("always 503: {err}");
    assert!(err.is_retry_exhausted());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    Ok(())
}
