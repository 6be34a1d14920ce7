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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tower::ServiceBuilder;
use tower_requests::http::Method;
use tower_requests::layers::RetryLayer;
use tower_requests::{BoxError as StackError, HttpClient, Response, Retry, Session};

use super::BoxError;
use crate::demo_server::Demo;

/// Every attempt that reached the client under the retry layer: when it was sent, when its
/// answer came, and what the answer was.
#[derive(Clone, Default)]
pub struct Attempts(Arc<Mutex<Vec<(Instant, Instant, String)>>>);

impl Attempts {
    fn record<B>(
        &self,
        sent: Instant,
        result: &Result<tower_requests::http::Response<B>, StackError>,
    ) {
        let outcome = match result {
            Ok(resp) => resp.status().to_string(),
            Err(e) => format!("error: {e}"),
        };
        self.0.lock().unwrap().push((sent, Instant::now(), outcome));
    }

    /// Print the attempts since the last call (the wait before each retry included) and
    /// return the waits.
    fn report(&self, what: &str, resp: &Result<Response, tower_requests::Error>) -> Vec<Duration> {
        let attempts: Vec<_> = self.0.lock().unwrap().drain(..).collect();
        match resp {
            Ok(r) => println!("{what}: {} after {} attempt(s)", r.status(), attempts.len()),
            Err(e) => println!("{what}: error after {} attempt(s): {e}", attempts.len()),
        }
        let mut waits = Vec::new();
        let start = attempts.first().map(|a| a.0);
        for (i, (sent, _, outcome)) in attempts.iter().enumerate() {
            let at = sent.duration_since(start.unwrap()).as_millis();
            if i == 0 {
                println!("  attempt 1 at +{at} ms: {outcome}");
            } else {
                let wait = sent.duration_since(attempts[i - 1].1);
                println!(
                    "  attempt {} at +{at} ms, after waiting {} ms: {outcome}",
                    i + 1,
                    wait.as_millis()
                );
                waits.push(wait);
            }
        }
        waits
    }
}

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    // Configure retry strategy
    let retry_strategy = Retry::new()
        .total(3)
        .backoff_factor(0.5)
        .status_forcelist([429, 500, 502, 503, 504])
        .allowed_methods([Method::GET, Method::POST]);

    // Create custom adapter: the retry layer over a pooled client (with a note of each attempt
    // between them, to show what the retry layer did)
    let attempts = Attempts::default();
    let log = attempts.clone();
    let adapter = ServiceBuilder::new()
        .layer(RetryLayer::new(retry_strategy))
        .map_future(move |call| {
            let log = log.clone();
            let sent = Instant::now();
            async move {
                let result = call.await;
                log.record(sent, &result);
                result
            }
        })
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
    println!("retry: total=3, backoff_factor=0.5, status_forcelist=[429, 500, 502, 503, 504]");
    let response = session
        .get(demo.https_url("/unstable-endpoint"))
        .send()
        .await;
    let waits = attempts.report("GET /unstable-endpoint", &response);
    assert_eq!(response?.status(), 200, "the 503 was retried");
    assert_eq!(waits.len(), 1, "one retry");

    // An endpoint that fails twice: two retries; urllib3's backoff sleeps 0 s before the first
    // retry, then backoff_factor * 2^(n-1) = 1 s before the second
    let response = session
        .post(demo.http_url("/flaky/article?fail=2"))
        .send()
        .await;
    let waits = attempts.report("POST /flaky (fails twice)", &response);
    let body: Value = response?.json().await?;
    println!("  body: {body}");
    assert_eq!(body["attempt"], 3);
    assert_eq!(waits.len(), 2);
    assert!(
        waits[1] >= Duration::from_millis(900),
        "slept before the second retry"
    );

    // Retries run out: an error that says so, with the last status (waits 0 s, 1 s, 2 s)
    let response = session.get(demo.http_url("/status/503")).send().await;
    let waits = attempts.report("GET /status/503 (always fails)", &response);
    let err = response.expect_err("503 four times");
    assert_eq!(waits.len(), 3, "total=3: three retries");
    assert!(err.is_retry_exhausted());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    Ok(())
}
