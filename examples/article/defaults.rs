//! "Session-Level Parameter Persistence": session auth, default headers, proxies.
//!
//! ```python
//! session.auth = ('username', 'password')
//! session.headers.update({'User-Agent': 'MyApp/1.0', 'Accept': 'application/json'})
//! session.proxies = {'http': 'http://proxy.example.com:8080', 'https': 'https://proxy.example.com:8080'}
//! ```
//!
//! The proxy part runs whenever `tinyproxy` is installed: the example writes its own config
//! (a free port, `BasicAuth user pass`, `ConnectPort` for the demo's HTTPS port), starts it and
//! stops it afterwards. `TOWER_REQUESTS_DEMO_PROXY=http://user:pass@host:port` uses a proxy of
//! yours instead. Without either it says how to try it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tower_requests::{Proxy, Session};

use super::BoxError;
use crate::demo_server::Demo;

/// A tinyproxy started for this section with a config written here; stopped on drop.
struct LocalProxy {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for LocalProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(Into::into))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Start tinyproxy on a free port, allowing `CONNECT` to the demo's HTTPS port (its default
/// config allows only 443 and 563). `None` when it is not installed or does not come up.
async fn start_tinyproxy(demo: &Demo) -> Option<LocalProxy> {
    let program = find_program("tinyproxy")?;
    let dir = tempfile::tempdir().ok()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let conf = dir.path().join("tinyproxy.conf");
    let config = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nAllow 127.0.0.1\n\
         BasicAuth user pass\nConnectPort {}\nLogLevel Critical\n",
        demo.https.port()
    );
    std::fs::write(&conf, config).ok()?;
    let child = Command::new(program)
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let proxy = LocalProxy {
        child,
        url: format!("http://user:pass@127.0.0.1:{port}"),
        _dir: dir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(proxy);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    println!("(tinyproxy did not start listening; running without a proxy)");
    None
}

pub async fn run(demo: &Demo) -> Result<(), BoxError> {
    let mut builder = Session::builder()
        .add_root_certificate(demo.root_certificate())
        // Set session-level authentication
        .basic_auth("username", "password")
        // Set default headers
        .default_header("user-agent", "MyApp/1.0")
        .default_header("accept", "application/json");

    // Set proxies
    let mut local = None;
    let proxy = match std::env::var("TOWER_REQUESTS_DEMO_PROXY") {
        Ok(proxy) if !proxy.is_empty() => Some(proxy),
        _ => {
            local = start_tinyproxy(demo).await;
            local.as_ref().map(|p| p.url.clone())
        }
    };
    match &proxy {
        Some(proxy) => {
            let shown = proxy.split('@').next_back().unwrap_or("");
            match local {
                Some(_) => println!("Using proxy http://{shown} (a tinyproxy started for this)"),
                None => println!("Using proxy http://{shown}"),
            }
            builder = builder
                .proxy(Proxy::http(proxy)?)
                .proxy(Proxy::https(proxy)?);
        }
        None => println!(
            "(No proxy: install tinyproxy, or set TOWER_REQUESTS_DEMO_PROXY=http://user:pass@host:port, \
             to send this section through a forward proxy.)"
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

    if proxy.is_some() {
        // https went through a CONNECT tunnel (the proxy sees no content); plain http is
        // forwarded by the proxy, which says so in a Via header.
        let seen: Value = session
            .get(demo.http_url("/headers"))
            .send()
            .await?
            .json()
            .await?;
        let via = seen["headers"]["via"].as_str().unwrap_or("-").to_string();
        println!("over plain http, Via: {via}");
        if local.is_some() {
            assert!(
                via.contains("tinyproxy"),
                "the request went through the proxy"
            );
        }
    }
    Ok(())
}
