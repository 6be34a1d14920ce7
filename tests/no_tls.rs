//! Without the `rustls` feature, `https://` targets and proxies are refused with an error that
//! names the feature, and plain http still works. `scripts/feature-matrix.sh` runs this with
//! `cargo test -p tower-requests --no-default-features --test no_tls`; with `rustls` on (as in
//! `--all-features`) there is nothing to test here.
#![cfg(not(feature = "rustls"))]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower_requests::{Error, Proxy, Session};

/// A server that answers every connection with `200 ok` and counts them.
async fn plain_server() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = tx.send(());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (addr, rx)
}

fn chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(" <- ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn https_target_is_refused_before_connecting_and_http_works() {
    let (addr, mut connections) = plain_server().await;
    let session = Session::builder().trust_env(false).build().unwrap();

    let err = session
        .get(format!("https://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(chain(&err).contains("`rustls` feature"), "{}", chain(&err));
    assert!(
        connections.try_recv().is_err(),
        "no connection was opened for https"
    );

    let resp = session.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn https_proxy_is_refused_with_the_feature_named() {
    let (addr, _connections) = plain_server().await;
    let session = Session::builder()
        .proxy(Proxy::all(format!("https://{addr}")).unwrap())
        .trust_env(false)
        .build()
        .unwrap();
    let err = session
        .get("http://example.invalid/")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(chain(&err).contains("`rustls` feature"), "{}", chain(&err));
}
