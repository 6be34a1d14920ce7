//! Testing your client code without a server: a `MockTransport` mounted under a `Session`
//! answers by method and path and records what was sent. The session's layers (cookies,
//! redirects, retries) still run, so the code under test behaves as it would over the network.
//! `cargo run --example mock`

use tower_requests::http::Method;
use tower_requests::mock::{MockResponse, MockTransport};
use tower_requests::{Error, Retry, Session};

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The code under test: log in, then read the user's name.
pub async fn current_user(session: &Session, base: &str) -> Result<String, Error> {
    session
        .post(format!("{base}/login"))
        .form(&[("user", "alice"), ("password", "pw")])
        .send()
        .await?
        .error_for_status()?;
    session
        .get(format!("{base}/me"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

/// What the run showed.
#[derive(Debug)]
pub struct Outcome {
    /// What `current_user` returned.
    pub name: String,
    /// The requests the mock saw, as `METHOD URL`.
    pub sent: Vec<String>,
}

/// Run `current_user` against a mock API whose `/me` fails once with a 503.
pub async fn run() -> Result<Outcome, BoxError> {
    let mock = MockTransport::new()
        .route(
            Method::POST,
            "/login",
            MockResponse::new(204).header("set-cookie", "sid=s1; Path=/; HttpOnly"),
        )
        .route_sequence(
            Method::GET,
            "/me",
            [MockResponse::new(503), MockResponse::ok("alice")],
        );
    let session = Session::builder()
        .mount("https://api.example.com/", mock.clone())
        .mount("http://api.example.com/", mock.clone())
        .retry(Retry::new().total(2).status_forcelist([503]))
        .build()?;

    let name = current_user(&session, "http://api.example.com").await?;
    println!("current user: {name}");
    let mut sent = Vec::new();
    for req in mock.requests() {
        println!(
            "  mock saw {} {} cookie={:?}",
            req.method(),
            req.url(),
            req.headers().get("cookie")
        );
        sent.push(format!("{} {}", req.method(), req.url()));
    }
    if mock.requests()[2].headers().get("cookie").is_none() {
        return Err("the retried request lost the login cookie".into());
    }
    Ok(Outcome { name, sent })
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
