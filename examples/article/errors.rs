//! "Error Handling and Debugging": `make_robust_request` with requests' exception classes as
//! `Error` predicates.
//!
//! ```python
//! except requests.exceptions.Timeout: ...
//! except requests.exceptions.ConnectionError: ...
//! except requests.exceptions.HTTPError as e:
//!     if e.response.status_code == 401: print("Re-login required"); break
//! except requests.exceptions.RequestException as e: ...
//! ```

use std::time::Duration;

use tower_requests::{Error, Response, Session};

use super::BoxError;
use crate::demo_server::Demo;

/// What each attempt ran into (for the assertions below).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Timeout,
    Connection,
    Http(u16),
    Other,
}

/// Where, what and why: the URL (without credentials), the kind, and the chain of causes.
fn details(e: &Error, kind: &str) {
    let url = e.url().map_or("-".to_string(), |u| u.to_string());
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    println!("    url:   {url}");
    println!("    kind:  {kind}");
    if causes.is_empty() {
        println!("    cause: none below it (the server answered)");
    } else {
        println!("    cause: {}", causes.join(" <- "));
    }
}

/// Enhanced request function with comprehensive error handling
pub async fn make_robust_request(
    session: &Session,
    url: &str,
    max_retries: usize,
    timeout: Duration,
) -> (Option<Response>, Vec<Outcome>) {
    let mut seen = Vec::new();
    for attempt in 0..max_retries {
        let result = session.get(url).timeout(timeout).send().await;
        // Raise an error for 4xx/5xx, like raise_for_status()
        match result.and_then(Response::error_for_status) {
            Ok(response) => {
                seen.push(Outcome::Ok);
                return (Some(response), seen);
            }
            Err(e) if e.is_timeout() => {
                println!("Request timeout, retry {}...", attempt + 1);
                details(&e, "timeout (is_timeout)");
                seen.push(Outcome::Timeout);
            }
            Err(e) if e.is_connect() => {
                println!("Connection error, retry {}...", attempt + 1);
                details(&e, "connection (is_connect)");
                seen.push(Outcome::Connection);
            }
            Err(e) if e.is_status() => {
                println!("HTTP error: {e}");
                details(&e, "HTTP status (is_status)");
                let code = e.status().map(|s| s.as_u16()).unwrap_or(0);
                seen.push(Outcome::Http(code));
                if code == 401 {
                    // Handle authentication error
                    println!("Re-login required");
                    break;
                }
            }
            Err(e) => {
                println!("Request exception: {e}");
                details(&e, "other");
                seen.push(Outcome::Other);
            }
        }
    }
    (None, seen)
}

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    let session = Session::builder()
        .add_root_certificate(demo.root_certificate())
        .build()?;
    let quick = Duration::from_millis(300);

    let (resp, seen) = make_robust_request(&session, &demo.https_url("/get"), 3, quick).await;
    println!(
        "Request successful: {}",
        resp.expect("succeeds").json::<serde_json::Value>().await?["url"]
    );
    assert_eq!(seen, [Outcome::Ok]);

    let (resp, seen) = make_robust_request(&session, &demo.https_url("/delay/2"), 3, quick).await;
    assert!(resp.is_none());
    assert_eq!(seen, [Outcome::Timeout, Outcome::Timeout, Outcome::Timeout]);

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let (_, seen) = make_robust_request(&session, &format!("http://{closed}/"), 2, quick).await;
    assert_eq!(seen, [Outcome::Connection, Outcome::Connection]);

    let (_, seen) = make_robust_request(&session, &demo.https_url("/user/data"), 3, quick).await;
    assert_eq!(seen, [Outcome::Http(401)], "401 stops retrying");

    let (_, seen) = make_robust_request(&session, &demo.https_url("/status/500"), 2, quick).await;
    assert_eq!(seen, [Outcome::Http(500), Outcome::Http(500)]);
    Ok(())
}
