//! Proxies through real proxy servers (tinyproxy, microsocks, in-process SOCKS5 / TLS front)
//! and TLS settings (custom roots, danger mode, mTLS, minimum version).

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use support::{echo, echo_router, ring, Seen, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_requests::{Certificate, Identity, Proxy, Session, TlsVersion};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

#[path = "../layers/tests/programs/mod.rs"]
mod programs;
use programs::find_binary;

/// A tinyproxy instance on a free port with BasicAuth `user:pass`, killed on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tinyproxy {
    /// `None` (the test is skipped) when tinyproxy is not installed.
    async fn start() -> Option<Tinyproxy> {
        let bin = find_binary("tinyproxy")?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\n\
                 BasicAuth user pass\nLogLevel Critical\n"
            ),
        )
        .unwrap();
        let child = Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        wait_listening(port).await;
        Some(Tinyproxy {
            child,
            port,
            _dir: dir,
        })
    }

    fn url(&self, creds: &str) -> String {
        format!("http://{creds}@127.0.0.1:{}", self.port)
    }
}

/// microsocks on a free port, optionally with user/password, killed on drop.
struct Microsocks {
    child: Child,
    port: u16,
}

impl Drop for Microsocks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Microsocks {
    /// `None` (the test is skipped) when microsocks is not installed.
    async fn start(auth: Option<(&str, &str)>) -> Option<Microsocks> {
        let bin = find_binary("microsocks")?;
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((u, p)) = auth {
            cmd.args(["-u", u, "-P", p]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start microsocks");
        wait_listening(port).await;
        Some(Microsocks { child, port })
    }
}

fn recording_target() -> (Arc<Mutex<Vec<Seen>>>, Router) {
    let log = Arc::new(Mutex::new(Vec::new()));
    (log.clone(), echo_router(log))
}

fn session_with(proxy: Proxy) -> tower_requests::SessionBuilder {
    Session::builder().proxy(proxy).trust_env(false)
}

fn root_of(server: &TestServer) -> Certificate {
    Certificate::from_pem(server.cert_pem.as_ref().unwrap().as_bytes()).unwrap()
}

#[tokio::test]
async fn http_target_through_tinyproxy_with_credentials() {
    let Some(proxy) = Tinyproxy::start().await else {
        return;
    };
    let (log, router) = recording_target();
    let target = TestServer::http(router).await;
    let session = session_with(Proxy::http(proxy.url("user:pass")).unwrap())
        .build()
        .unwrap();
    for _ in 0..3 {
        let seen = echo(session.get(target.url("/via-proxy"))).await;
        assert!(
            seen.header("via").unwrap_or_default().contains("tinyproxy"),
            "request did not go through the proxy: {seen:?}"
        );
        assert_eq!(seen.header("proxy-authorization"), None);
    }
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn refused_proxy_credentials_are_connect_errors_with_the_proxys_status() {
    let Some(proxy) = Tinyproxy::start().await else {
        return;
    };
    let (_log, router) = recording_target();
    let http_target = TestServer::http(router.clone()).await;
    let https_target = TestServer::https(router).await;

    // No credentials: 407 from the proxy, for forwarded requests and for CONNECT alike.
    let no_creds = session_with(Proxy::all(format!("http://127.0.0.1:{}", proxy.port)).unwrap())
        .add_root_certificate(root_of(&https_target))
        .build()
        .unwrap();
    for url in [http_target.url("/"), https_target.url("/")] {
        let err = no_creds.get(&url).send().await.unwrap_err();
        assert!(err.is_connect(), "{url}: {err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(407), "{url}: {err}");
    }

    // Wrong credentials: tinyproxy answers 401 (not 407). The CONNECT refusal is a connect
    // error carrying that status; a forwarded plain-http request gets the proxy's 401 back as a
    // response, as requests does (a 401 there cannot be told apart from the target's).
    for creds in ["user:wrong", "nobody:pass"] {
        let session = session_with(Proxy::all(proxy.url(creds)).unwrap())
            .add_root_certificate(root_of(&https_target))
            .build()
            .unwrap();
        let err = session.get(https_target.url("/")).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
        let secret = creds.split(':').nth(1).unwrap();
        assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret));

        let resp = session.get(http_target.url("/")).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        // The proxy answered, not the target (any tinyproxy version).
        assert!(
            resp.headers()["server"]
                .to_str()
                .unwrap()
                .starts_with("tinyproxy"),
            "{:?}",
            resp.headers()
        );
    }
}

#[tokio::test]
async fn https_target_through_connect_tunnel_reuses_the_tunnel() {
    let Some(proxy) = Tinyproxy::start().await else {
        return;
    };
    let (log, router) = recording_target();
    let target = TestServer::https(router).await;
    let session = session_with(Proxy::https(proxy.url("user:pass")).unwrap())
        .add_root_certificate(root_of(&target))
        .build()
        .unwrap();
    for _ in 0..5 {
        let resp = session.get(target.url("/secure")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let seen: Seen = resp.json().await.unwrap();
        assert_eq!(seen.header("proxy-authorization"), None);
    }
    assert_eq!(target.accepts(), 1, "the tunnel is pooled and reused");
    assert_eq!(log.lock().unwrap().len(), 5);
    // A hand-set Proxy-Authorization header is not carried into the tunnel either.
    let seen = echo(
        session
            .get(target.url("/secure"))
            .header("proxy-authorization", "Basic bGVhazpsZWFr"),
    )
    .await;
    assert_eq!(seen.header("proxy-authorization"), None);
}

#[tokio::test]
async fn no_proxy_and_environment() {
    let Some(proxy) = Tinyproxy::start().await else {
        return;
    };
    let (_log, router) = recording_target();
    let target = TestServer::http(router).await;
    let via = |session: Session| {
        let url = target.url("/x");
        async move {
            let seen = echo(session.get(url)).await;
            seen.header("via").is_some()
        }
    };
    let bypass = session_with(
        Proxy::all(proxy.url("user:pass"))
            .unwrap()
            .no_proxy("localhost, 127.0.0.1"),
    )
    .build()
    .unwrap();
    assert!(!via(bypass).await, "no_proxy host must go direct");

    let env = Session::builder()
        .proxy_env_from([("http_proxy", proxy.url("user:pass"))])
        .build()
        .unwrap();
    assert!(
        via(env).await,
        "http_proxy from the (given) environment is used"
    );

    let env_no = Session::builder()
        .proxy_env_from([
            ("HTTP_PROXY", proxy.url("user:pass")),
            ("NO_PROXY", format!("127.0.0.1:{}", target.addr.port())),
        ])
        .build()
        .unwrap();
    assert!(!via(env_no).await, "NO_PROXY host:port entry bypasses");

    let untrusted = Session::builder()
        .trust_env(false)
        .proxy_env_from([("HTTP_PROXY", proxy.url("user:pass"))])
        .build()
        .unwrap();
    assert!(
        !via(untrusted).await,
        "trust_env(false) ignores the environment"
    );

    let explicit_wins = Session::builder()
        .proxy(Proxy::all(proxy.url("user:pass")).unwrap())
        .proxy_env_from([("NO_PROXY", "*")])
        .build()
        .unwrap();
    assert!(
        via(explicit_wins).await,
        "explicit proxies beat NO_PROXY from the environment"
    );
}

#[tokio::test]
async fn unreachable_proxy_is_connect_error_and_bad_proxy_url_is_builder_error() {
    let port = free_port();
    let session = session_with(Proxy::all(format!("http://127.0.0.1:{port}")).unwrap())
        .build()
        .unwrap();
    let err = session.get("http://127.0.0.1:9/").send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    for bad in ["ftp://127.0.0.1:21", "http://", "http://a b:1"] {
        assert!(
            tower_requests::Error::from(Proxy::all(bad).unwrap_err()).is_builder(),
            "{bad}"
        );
    }
}

/// A TLS front for tinyproxy: an `https://` proxy.
async fn tls_front(backend_port: u16) -> (SocketAddr, String) {
    let (config, pem) = support::self_signed_config();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let Ok(mut back) = TcpStream::connect(("127.0.0.1", backend_port)).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut back).await;
            });
        }
    });
    (addr, pem)
}

#[tokio::test]
async fn https_proxy_speaks_tls_to_the_proxy() {
    let Some(proxy) = Tinyproxy::start().await else {
        return;
    };
    let (front, front_pem) = tls_front(proxy.port).await;
    let (_log, router) = recording_target();
    let http_target = TestServer::http(router.clone()).await;
    let https_target = TestServer::https(router).await;
    let session = session_with(Proxy::all(format!("https://user:pass@{front}")).unwrap())
        .add_root_certificate(Certificate::from_pem(front_pem.as_bytes()).unwrap())
        .add_root_certificate(root_of(&https_target))
        .build()
        .unwrap();
    let seen = echo(session.get(http_target.url("/p"))).await;
    assert!(seen.header("via").unwrap().contains("tinyproxy"));
    let resp = session.get(https_target.url("/p")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[cfg(feature = "socks")]
#[tokio::test]
async fn socks5_through_microsocks_with_and_without_auth() {
    let (_log, router) = recording_target();
    let http_target = TestServer::http(router.clone()).await;
    let https_target = TestServer::https(router).await;
    let Some(open) = Microsocks::start(None).await else {
        return;
    };
    let Some(authed) = Microsocks::start(Some(("sockuser", "sockpass"))).await else {
        return;
    };
    for url in [
        format!("socks5://127.0.0.1:{}", open.port),
        format!("socks5h://127.0.0.1:{}", open.port),
        format!("socks5://sockuser:sockpass@127.0.0.1:{}", authed.port),
    ] {
        let session = session_with(Proxy::all(&url).unwrap())
            .add_root_certificate(root_of(&https_target))
            .build()
            .unwrap();
        for target in [http_target.url("/s"), https_target.url("/s")] {
            let resp = session.get(&target).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url} -> {target}");
        }
    }
    let wrong = session_with(
        Proxy::all(format!("socks5://sockuser:nope@127.0.0.1:{}", authed.port)).unwrap(),
    )
    .build()
    .unwrap();
    let err = wrong.get(http_target.url("/s")).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

/// A minimal SOCKS5 server (no auth) that records the address type of each CONNECT
/// (1 = IPv4, 3 = domain name, 4 = IPv6) and then relays.
#[cfg(feature = "socks")]
async fn recording_socks5() -> (SocketAddr, Arc<Mutex<Vec<(u8, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 2];
                s.read_exact(&mut head).await.ok()?;
                let mut methods = vec![0u8; head[1] as usize];
                s.read_exact(&mut methods).await.ok()?;
                s.write_all(&[5, 0]).await.ok()?;
                let mut req = [0u8; 4];
                s.read_exact(&mut req).await.ok()?;
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        s.read_exact(&mut ip).await.ok()?;
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let len = s.read_u8().await.ok()? as usize;
                        let mut name = vec![0u8; len];
                        s.read_exact(&mut name).await.ok()?;
                        String::from_utf8(name).ok()?
                    }
                    _ => return None,
                };
                let port = s.read_u16().await.ok()?;
                record.lock().unwrap().push((req[3], host.clone()));
                let addr = if host == "localhost" {
                    "127.0.0.1".to_string()
                } else {
                    host
                };
                let mut back = TcpStream::connect((addr.as_str(), port)).await.ok()?;
                s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await.ok()?;
                tokio::io::copy_bidirectional(&mut s, &mut back).await.ok()
            });
        }
    });
    (addr, seen)
}

#[cfg(feature = "socks")]
#[tokio::test]
async fn socks5h_resolves_at_the_proxy_socks5_resolves_locally() {
    let (_log, router) = recording_target();
    let target = TestServer::http(router).await;
    let (socks, seen) = recording_socks5().await;
    let url = format!("http://localhost:{}/dns", target.addr.port());

    let remote = session_with(Proxy::all(format!("socks5h://{socks}")).unwrap())
        .build()
        .unwrap();
    assert_eq!(remote.get(&url).send().await.unwrap().status(), 200);
    let local = session_with(Proxy::all(format!("socks5://{socks}")).unwrap())
        .build()
        .unwrap();
    assert_eq!(local.get(&url).send().await.unwrap().status(), 200);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[0],
        (3, "localhost".to_string()),
        "socks5h sends the name"
    );
    assert_eq!(seen[1].0, 1, "socks5 sends an address: {seen:?}");
    assert_eq!(seen[1].1, "127.0.0.1");
}

#[cfg(feature = "socks")]
#[tokio::test]
async fn socks5_resolves_overridden_names_with_the_override() {
    let (_log, router) = recording_target();
    let target = TestServer::http(router).await;
    let (socks, seen) = recording_socks5().await;
    let session = session_with(Proxy::all(format!("socks5://{socks}")).unwrap())
        .resolve("api.example.test", target.addr)
        .build()
        .unwrap();
    // No port in the URL: the override's port, as without a proxy.
    let resp = session
        .get("http://api.example.test/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(1, "127.0.0.1".to_string())],
        "an address, not the name"
    );
}

// ---- TLS ----

struct Pki {
    ca_pem: String,
    server: (rustls::pki_types::CertificateDer<'static>, Vec<u8>),
    client_identity_pem: String,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

fn pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server_cert =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["client.test".to_string()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server: (server_cert.der().clone(), server_key.serialize_der()),
        client_identity_pem: format!("{}{}", client_cert.pem(), client_key.serialize_pem()),
    }
}

async fn tls_server(config: rustls::ServerConfig) -> TestServer {
    let app = Router::new().route("/", get(|| async { "secret" }));
    TestServer::https_with(app, config).await
}

#[tokio::test]
async fn mutual_tls_needs_the_client_identity() {
    let pki = pki();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), ring())
            .build()
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![pki.server.0.clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server.1.clone().into()),
        )
        .unwrap();
    let server = tls_server(config).await;
    let url = server.url("/");
    let ca = Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();

    let without = Session::builder()
        .add_root_certificate(ca.clone())
        .build()
        .unwrap();
    assert!(
        without.get(&url).send().await.is_err(),
        "no client certificate: refused"
    );

    let with = Session::builder()
        .add_root_certificate(ca)
        .identity(Identity::from_pem(pki.client_identity_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = with.get(&url).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "secret");
}

#[tokio::test]
async fn server_certificates_custom_roots_bundles_and_min_version() {
    let pki = pki();
    let tls12_only = rustls::ServerConfig::builder_with_provider(ring())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![pki.server.0.clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server.1.clone().into()),
        )
        .unwrap();
    let server = tls_server(tls12_only).await;
    let url = server.url("/");

    let err = Session::new().get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let chain = format!("{err:?}").to_lowercase();
    assert!(
        chain.contains("certificate"),
        "the rustls reason is in the chain: {chain}"
    );

    // A bundle with an unrelated certificate first and the CA second.
    let other = rcgen::generate_simple_self_signed(vec!["other".to_string()]).unwrap();
    let bundle = format!("{}{}", other.cert.pem(), pki.ca_pem);
    let certs = Certificate::from_pem_bundle(bundle.as_bytes()).unwrap();
    assert_eq!(certs.len(), 2);
    let mut builder = Session::builder();
    for c in certs {
        builder = builder.add_root_certificate(c);
    }
    let session = builder.build().unwrap();
    assert_eq!(session.get(&url).send().await.unwrap().status(), 200);

    let tls13 = Session::builder()
        .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .min_tls_version(TlsVersion::Tls13)
        .build()
        .unwrap();
    let err = tls13.get(&url).send().await.unwrap_err();
    assert!(
        err.is_connect(),
        "TLS 1.2-only server refused with min TLS 1.3: {err:?}"
    );

    let only_added_roots = Session::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        only_added_roots.get(&url).send().await.unwrap().status(),
        200
    );
}
