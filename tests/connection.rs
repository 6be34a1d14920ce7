//! Connection control: DNS overrides per host (`resolve`), the local address connections leave
//! from (`local_address`), through a proxy and over TLS.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use support::{echo, echo_router, TestServer};
use tower_requests::{Certificate, Proxy, Session};

fn builder() -> tower_requests::SessionBuilder {
    Session::builder().trust_env(false)
}

#[tokio::test]
async fn resolve_sends_a_host_name_to_the_given_address() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log)).await;
    let port = server.addr.port();
    let session = builder()
        .resolve("API.Example.test", server.addr)
        .build()
        .unwrap();

    // The URL's port.
    let seen = echo(session.get(format!("http://api.example.test:{port}/a"))).await;
    assert_eq!(seen.uri, "/a");
    assert_eq!(
        seen.header("host"),
        Some(&*format!("api.example.test:{port}"))
    );
    // No port in the URL: the override's port.
    let seen = echo(session.get("http://api.example.test/b")).await;
    assert_eq!(seen.header("host"), Some("api.example.test"));
}

#[tokio::test]
async fn the_urls_port_wins_over_the_overrides() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::http(echo_router(log)).await;
    // Nothing listens on port 1 of 127.0.0.1: only the URL's port can work.
    let session = builder()
        .resolve("api.example.test", SocketAddr::from(([127, 0, 0, 1], 1)))
        .build()
        .unwrap();
    let url = format!("http://api.example.test:{}/", server.addr.port());
    assert_eq!(session.get(&url).send().await.unwrap().status(), 200);
    let err = session
        .get("http://api.example.test/")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn resolve_applies_to_the_proxys_host() {
    // An echo server as a forward proxy: it sees the request in absolute form.
    let log = Arc::new(Mutex::new(Vec::new()));
    let proxy = TestServer::http(echo_router(log)).await;
    let session = builder()
        .proxy(Proxy::http(format!("http://proxy.example.test:{}", proxy.addr.port())).unwrap())
        .resolve("proxy.example.test", proxy.addr)
        .build()
        .unwrap();
    let seen = echo(session.get("http://target.example.test/x")).await;
    assert_eq!(seen.uri, "http://target.example.test/x");
}

#[tokio::test]
async fn https_to_a_resolved_name_checks_the_certificate_for_that_name() {
    use rustls::pki_types::PrivateKeyDer;
    let ck = rcgen::generate_simple_self_signed(vec!["example.test".to_string()]).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(support::ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![ck.cert.der().clone()],
            PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let app = Router::new().route("/", get(|| async { "over tls" }));
    let server = TestServer::https_with(app, config).await;
    let root = Certificate::from_pem(ck.cert.pem().as_bytes()).unwrap();

    let session = builder()
        .add_root_certificate(root.clone())
        .resolve("example.test", server.addr)
        .build()
        .unwrap();
    let url = format!("https://example.test:{}/", server.addr.port());
    let resp = session.get(&url).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "over tls");

    // The same address under a name the certificate does not hold fails verification: the
    // name checked is the URL's, not the address.
    let other = builder()
        .add_root_certificate(root)
        .resolve("other.test", server.addr)
        .build()
        .unwrap();
    let url = format!("https://other.test:{}/", server.addr.port());
    let err = other.get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn local_address_is_the_peer_address_the_server_sees() {
    let app = Router::new().route(
        "/",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let url = format!("http://127.0.0.1:{port}/");

    // 127.0.0.2 is a loopback address too (Linux routes all of 127/8 to lo), and not the one
    // the system would pick.
    let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let session = builder().local_address(local).build().unwrap();
    let seen = session
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(seen, "127.0.0.2");

    let plain = builder().build().unwrap();
    let seen = plain.get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(seen, "127.0.0.1");
}

#[test]
fn bad_overrides_are_builder_errors() {
    let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
    for host in [
        "",
        "127.0.0.1",
        "[::1]",
        "api.example.test:8080",
        "bad host",
    ] {
        let err = builder().resolve(host, addr).build().unwrap_err();
        assert!(err.is_builder(), "{host:?}: {err:?}");
        assert!(err.to_string().contains("resolve("), "{host:?}: {err}");
    }
    let err = builder()
        .resolve_to_addrs("api.example.test", &[])
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    assert!(err.to_string().contains("no address"), "{err}");
}
