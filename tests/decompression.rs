//! Decompression in the default stack (feature `decompression`): gzip, deflate, br and zstd
//! bodies are decoded, `Accept-Encoding` is offered unless the user set one, and the decoded
//! response has no stale `Content-Length` / `Content-Encoding`.

mod support;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{header, HeaderMap};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use support::TestServer;
use tower_http::compression::CompressionLayer;
use tower_requests::Session;

fn original() -> String {
    (0..400)
        .map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n"))
        .collect()
}

/// What the server saw (`accept-encoding`) and sent (`content-encoding`), per request.
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn app(log: Log) -> Router {
    let body = || async { ([(header::CONTENT_TYPE, "text/plain")], original()) };
    let only = |enc: &str| {
        let l = CompressionLayer::new()
            .no_gzip()
            .no_deflate()
            .no_br()
            .no_zstd();
        match enc {
            "gzip" => l.gzip(true),
            "deflate" => l.deflate(true),
            "br" => l.br(true),
            _ => l.zstd(true),
        }
    };
    Router::new()
        .route("/gzip", get(body).layer(only("gzip")))
        .route("/deflate", get(body).layer(only("deflate")))
        .route("/br", get(body).layer(only("br")))
        .route("/zstd", get(body).layer(only("zstd")))
        .route(
            "/corrupt",
            get(|| async {
                (
                    [(header::CONTENT_ENCODING, "gzip")],
                    b"\x1f\x8b\x08\x00 definitely not a gzip stream".to_vec(),
                )
            }),
        )
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let log = log.clone();
            async move {
                let accept = header_str(req.headers(), header::ACCEPT_ENCODING);
                let resp: Response = next.run(req).await;
                let sent = header_str(resp.headers(), header::CONTENT_ENCODING);
                log.lock().unwrap().push((accept, sent));
                resp
            }
        }))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_encoding_is_decoded_and_offered() {
    let log = Log::default();
    let server = TestServer::http(app(log.clone())).await;
    let session = Session::new();
    for enc in ["gzip", "deflate", "br", "zstd"] {
        let resp = session
            .get(server.url(&format!("/{enc}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let (accept, sent) = log.lock().unwrap().last().cloned().unwrap();
        assert_eq!(sent, enc, "the server really compressed with {enc}");
        for offered in ["gzip", "deflate", "br", "zstd"] {
            assert!(accept.contains(offered), "{offered} not offered: {accept}");
        }
        assert!(
            resp.headers().get(header::CONTENT_ENCODING).is_none(),
            "{enc}"
        );
        assert!(
            resp.headers().get(header::CONTENT_LENGTH).is_none(),
            "{enc}"
        );
        assert_eq!(resp.content_length(), None, "{enc}");
        assert_eq!(resp.text().await.unwrap(), original(), "{enc}");
    }
}

#[tokio::test]
async fn a_users_accept_encoding_is_kept() {
    let log = Log::default();
    let server = TestServer::http(app(log.clone())).await;
    let resp = Session::new()
        .get(server.url("/gzip"))
        .header(header::ACCEPT_ENCODING, "identity")
        .send()
        .await
        .unwrap();
    let (accept, sent) = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(accept, "identity");
    assert_eq!(sent, "", "not compressed");
    assert_eq!(resp.text().await.unwrap(), original());
}

#[tokio::test]
async fn a_corrupt_compressed_body_is_a_body_error() {
    let server = TestServer::http(app(Log::default())).await;
    let resp = Session::new()
        .get(server.url("/corrupt"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert!(!err.is_timeout() && !err.is_connect());
}
