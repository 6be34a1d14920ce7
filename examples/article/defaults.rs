//! "Session-Level Parameter Persistence": session auth, default headers, proxies.
//!
//! ```python
//! session.auth = ('username', 'password')
//! session.headers.update({'User-Agent': 'MyApp/1.0', 'Accept': 'application/json'})
//! session.proxies = {'http': 'http://proxy.example.com:8080', 'https': 'https://proxy.example.com:8080'}
//! ```
//!
//! The proxy part runs when `TOWER_REQUESTS_DEMO_PROXY` names a local forward proxy (for
//! example `http://user:pass@127.0.0.1:8888` for a tinyproxy you started); otherwise it prints
//! how to try it.

use serde_json::Value;
use tower_requests::{Proxy, Session};

use super::BoxError;
use crate::demo_server::Demo;

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    let mut builder = Session::builder()
        .add_root_certificate(demo.root_certificate())
        // Set session-level authentication
        .basic_auth("username", "password")
        // Set default headers
        .default_header("user-agent", "MyApp/1.0")
        .default_header("accept", "application/json");

    // Set proxies
    match std::env::var("TOWER_REQUESTS_DEMO_PROXY") {
        Ok(proxy) if !proxy.is_empty() => {
            println!("Using proxy {}", proxy.split('@').next_back().unwrap_or(""));
            builder = builder
                .proxy(Proxy::http(&proxy)?)
                .proxy(Proxy::https(&proxy)?);
        }
        _ => println!(
            "(No proxy: set TOWER_REQUESTS_DEMO_PROXY=http://user:pass@127.0.0.1:8888 to send \
             this section through a local forward proxy such as tinyproxy.)"
        ),
    }
    let session = builder.build()?;

    // All requests using this session automatically inherit these configurations
    let response1: Value = session
        .get(demo.https_url("/user/data"))
        .send()
        .await?
        .json()
        .await?;
    let response2 = session.get(demo.https_url("/headers")).send().await?;
    let seen: Value = response2.json().await?;
    println!("data1: {response1}");
    println!("the server received: {}", seen["headers"]);
    assert_eq!(response1["user"], "username", "session auth was sent");
    assert_eq!(seen["headers"]["user-agent"], "MyApp/1.0");
    assert_eq!(seen["headers"]["accept"], "application/json");
    assert!(seen["headers"]["authorization"]
        .as_str()
        .unwrap_or("")
        .starts_with("Basic "));

    // Defaults change at runtime, like session.headers.update(...)
    session
        .headers()
        .insert("x-requested-with".parse()?, "XMLHttpRequest".parse()?);
    let seen: Value = session
        .get(demo.https_url("/headers"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(seen["headers"]["x-requested-with"], "XMLHttpRequest");

    // A request can drop a default (requests' headers={'User-Agent': None})
    let seen: Value = session
        .get(demo.https_url("/headers"))
        .without_header("user-agent")
        .send()
        .await?
        .json()
        .await?;
    println!("without User-Agent: {}", seen["headers"]);
    assert!(seen["headers"].get("user-agent").is_none());
    Ok(())
}
