//! "Cookie Management Mechanism": set a cookie by hand, see it sent, list, remove, clear.
//!
//! ```python
//! s.cookies.set('custom_cookie', 'custom_value')
//! response = s.get('https://httpbin.org/cookies')
//! print("Session cookies:", s.cookies.get_dict())
//! s.cookies.clear('custom_cookie')
//! s.cookies.clear()
//! ```

use serde_json::Value;
use tower_requests::{Session, Url};

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    // Create a session
    let s = Session::new();
    let site = Url::parse(&demo.http_url("/"))?;

    // Manually add a cookie (for the demo server's host, path "/")
    s.cookies().set("custom_cookie", "custom_value", &site)?;

    // Send request with automatic cookie management
    let response = s.get(demo.http_url("/cookies")).send().await?;
    let received: Value = response.json().await?;
    println!("Cookies received by server: {received}");
    assert_eq!(received["cookies"]["custom_cookie"], "custom_value");

    // A cookie the server sets is kept too
    s.post(demo.http_url("/login"))
        .json(&serde_json::json!({"username": "user", "password": "pass"}))
        .send()
        .await?
        .error_for_status()?;

    // View all cookies in the session
    let all = s.cookies().get_dict();
    println!("Session cookies: {all:?}");
    assert!(all.contains_key("custom_cookie") && all.contains_key("session_id"));

    // Remove a specific cookie
    s.cookies().remove("custom_cookie");
    println!("After clear('custom_cookie'): {:?}", s.cookies().get_dict());
    assert!(s.cookies().get("custom_cookie").is_none());
    let received: Value = s
        .get(demo.http_url("/cookies"))
        .send()
        .await?
        .json()
        .await?;
    assert!(received["cookies"].get("custom_cookie").is_none());

    // Clear all cookies
    s.cookies().clear();
    println!("After clear(): {:?}", s.cookies().get_dict());
    assert!(s.cookies().get_dict().is_empty());
    let received: Value = s
        .get(demo.http_url("/cookies"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(received["cookies"], serde_json::json!({}));
    Ok(())
}
