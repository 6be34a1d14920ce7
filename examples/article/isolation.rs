//! "Session State and Isolation": two sessions, two users, nothing shared.
//!
//! ```python
//! user1_session.auth = ('user1', 'password1')
//! user2_session.auth = ('user2', 'password2')
//! user1_data = user1_session.get('https://api.example.com/user/data').json()
//! ```

use serde_json::Value;
use tower_requests::Session;

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    // Create multiple independent sessions, with different authentication for different users
    let user1_session = Session::builder()
        .add_root_certificate(demo.root_certificate())
        .basic_auth("user1", "password1")
        .build()?;
    let user2_session = Session::builder()
        .add_root_certificate(demo.root_certificate())
        .basic_auth("user2", "password2")
        .build()?;

    // The two sessions are completely isolated and do not interfere with each other
    let url = demo.https_url("/user/data");
    let user1_data: Value = user1_session.get(&url).send().await?.json().await?;
    let user2_data: Value = user2_session.get(&url).send().await?.json().await?;
    println!("User 1 data: {user1_data}");
    println!("User 2 data: {user2_data}");
    assert_eq!(user1_data["user"], "user1");
    assert_eq!(user2_data["user"], "user2");

    // Cookies are per session too: user1 logs in, user2 stays anonymous.
    user1_session
        .post(demo.https_url("/login"))
        .json(&serde_json::json!({"username": "user1", "password": "password1"}))
        .send()
        .await?
        .error_for_status()?;
    assert!(user1_session.cookies().get("session_id").is_some());
    assert!(user2_session.cookies().get("session_id").is_none());
    println!(
        "user1 cookies: {:?}, user2 cookies: {:?}",
        user1_session.cookies().get_dict(),
        user2_session.cookies().get_dict()
    );
    Ok(())
}
