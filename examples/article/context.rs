//! "Best Practices with Context Managers": configure, log in with JSON, fetch data, handle any
//! error; the session's connections are released when it goes out of scope.
//!
//! ```python
//! with requests.Session() as session:
//!     session.headers.update({'X-Requested-With': 'XMLHttpRequest'})
//!     try:
//!         login_response = session.post(url + '/login', json={'username': 'user', 'password': 'pass'})
//!         if login_response.status_code == 200:
//!             data_response = session.get(url + '/user/data')
//!     except requests.RequestException as e:
//!         print(f"Request failed: {e}")
//! ```

use serde_json::{json, Value};
use tower_requests::Session;

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    let before = demo.open_connections();
    let while_open;
    let data = {
        // Rust's scope is the `with` block: dropping the session closes its connections,
        // even when an error returns early.
        let session = Session::builder()
            .add_root_certificate(demo.root_certificate())
            .build()?;
        // Configure session
        session
            .headers()
            .insert("x-requested-with".parse()?, "XMLHttpRequest".parse()?);
        let attempt = async {
            // Execute a series of requests
            let login_response = session
                .post(demo.https_url("/login"))
                .json(&json!({"username": "user", "password": "pass"}))
                .send()
                .await?;
            let mut data = Value::Null;
            if login_response.status() == 200 {
                let data_response = session.get(demo.https_url("/user/data")).send().await?;
                data = data_response.error_for_status()?.json().await?;
            }
            Ok::<_, tower_requests::Error>(data)
        };
        let result = attempt.await;
        while_open = demo.open_connections();
        match result {
            Ok(data) => data,
            Err(e) => {
                println!("Request failed: {e}");
                return Err(e.into());
            }
        }
    };
    // The session is gone: its pooled connections close (the server sees them go).
    let after = demo
        .wait_open_at_most(before, std::time::Duration::from_secs(5))
        .await;
    println!("User data: {data}");
    println!(
        "connections open at the server: {before} before the session, {while_open} while it \
         lived, {after} after it was dropped"
    );
    assert!(while_open > before, "the session kept a pooled connection");
    assert!(
        after <= before,
        "dropping the session closed its connections"
    );
    assert_eq!(data["user"], "user");
    let seen = demo.last_headers("/user/data");
    assert_eq!(
        seen.get("x-requested-with").map(String::as_str),
        Some("XMLHttpRequest")
    );
    assert!(seen
        .get("cookie")
        .is_some_and(|c| c.contains("session_id=")));
    Ok(())
}
