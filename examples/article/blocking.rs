//! "Basic Session Usage" with the blocking API: the same login flow as `login.rs`, from plain
//! synchronous code (no `async`, no runtime of the caller's own).
//!
//! ```python
//! s = requests.Session()
//! login_response = s.post('https://localhost/login.py', data=login_data)
//! profile_response = s.get('https://localhost/profile_data.json')
//! ```

use serde_json::Value;
use tower_requests::blocking::Session;

use super::BoxError;
use crate::demo_server::Demo;

pub fn run(demo: &Demo) -> Result<(), BoxError> {
    // Create a session instance (trusting the demo server's self-signed certificate)
    let s = Session::builder()
        .add_root_certificate(demo.root_certificate())
        .build()?;

    // Define login data
    let login_data = [
        ("formPosted", "1"),
        ("login_email", "me@example.com"),
        ("password", "pw"),
    ];

    // Send login request, cookies are automatically saved
    let login_response = s
        .post(demo.https_url("/login.py"))
        .form(&login_data)
        .send()?;

    // Verify login result
    assert_eq!(login_response.status(), 200);
    if login_response.status() == 200 {
        println!("Login successful");
        let returned: Vec<String> = login_response
            .cookies()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        println!("Returned cookies: {returned:?}");
        assert!(returned.iter().any(|c| c.starts_with("session_id=")));
    }

    // Use the same session for subsequent requests, cookies are automatically included
    let profile_response = s.get(demo.https_url("/profile_data.json")).send()?;

    // Process response data
    assert_eq!(
        profile_response.status(),
        200,
        "the session cookie was sent"
    );
    let user_data: Value = profile_response.json()?;
    println!("User profile: {user_data}");
    assert_eq!(user_data["email"], "me@example.com");

    // Without the session's cookie the profile is refused:
    let anonymous = Session::builder()
        .add_root_certificate(demo.root_certificate())
        .build()?;
    let refused = anonymous.get(demo.https_url("/profile_data.json")).send()?;
    println!("Same request from a fresh session: {}", refused.status());
    assert_eq!(refused.status(), 401);
    Ok(())
}
