//! Decompression in the default stack (feature `decompression`): gzip, deflate, br and zstd
//! bodies are decoded, `Accept-Encoding` is offered unless the user set one, the decoded response
//! has no stale `Content-Length` / `Content-Encoding`, and a corrupt body is an error.

mod support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use support::TestServer;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_requests::Session;

const ENCODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

/// About 4 KiB of text.
fn original() -> String {
    (0..80)
        .map(|i| format!("line {i:02}: the quick brown fox jumps over the lazy dog\n"))
        .collect()
}

/// A compression layer that only knows `enc`.
fn only(enc: &str) -> CompressionLayer {
    let l = CompressionLayer::new()
        .no_gzip()
        .no_deflate()
        .no_br()
        .no_zstd();
    match enc {
        "gzip" => l.gzip(true),
        "deflate" => l.deflate(true),
        "br" => l.br(true),
        "zstd" => l.zstd(true),
        other => panic!("unknown encoding {other}"),
    }
}

/// `original()` encoded with `enc`, by tower-http's own encoder (in process, no server).
async fn encode(enc: &str) -> Bytes {
    let svc =
        ServiceBuilder::new()
            .layer(only(enc))
            .service_fn(|_req: http::Request<String>| async {
                Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(
                    original(),
                ))))
            });
    let req = http::Request::builder()
        .header(header::ACCEPT_ENCODING, enc)
        .body(String::new())
        .unwrap();
    let resp = svc.oneshot(req).await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_ENCODING], enc);
    resp.into_body().collect().await.unwrap().to_bytes()
}

/// What the server saw and sent, per request: `accept-encoding` received, `content-encoding`
/// and `content-length` sent.
#[derive(Debug, Clone)]
struct Seen {
    accept: String,
    encoding: String,
    length: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// `/negotiated/{enc}`: compressed by tower-http if the request offers `enc`.
/// `/static/{enc}`: the pre-encoded bytes with `Content-Encoding` and `Content-Length`.
/// `/corrupt/{enc}`: `Content-Encoding: enc` over bytes that are not in that format.
/// `/truncated/{enc}`: the first half of the encoded bytes.
fn app(log: Log, encoded: HashMap<String, Bytes>) -> Router {
    let body = || async { ([(header::CONTENT_TYPE, "text/plain")], original()) };
    let mut router = Router::new();
    for enc in ENCODINGS {
        router = router.route(&format!("/negotiated/{enc}"), get(body).layer(only(enc)));
    }
    let encoded = Arc::new(encoded);
    router
        .route(
            "/static/{enc}",
            get(
                |State(e): State<Arc<HashMap<String, Bytes>>>, Path(enc): Path<String>| async move {
                    let bytes = e[&enc].clone();
                    precompressed(&enc, bytes)
                },
            ),
        )
        .route(
            "/truncated/{enc}",
            get(
                |State(e): State<Arc<HashMap<String, Bytes>>>, Path(enc): Path<String>| async move {
                    let bytes = e[&enc].clone();
                    let half = bytes.slice(..bytes.len() / 2);
                    precompressed(&enc, half)
                },
            ),
        )
        .route(
            "/corrupt/{enc}",
            get(|Path(enc): Path<String>| async move {
                // gzip's magic number, then garbage; garbage for the others
                let junk = Bytes::from_static(b"\x1f\x8b\x08\x00 definitely not compressed data");
                precompressed(&enc, junk)
            }),
        )
        .with_state(encoded)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let log = log.clone();
            async move {
                let accept = header_str(req.headers(), header::ACCEPT_ENCODING);
                let resp: Response = next.run(req).await;
                log.lock().unwrap().push(Seen {
                    accept,
                    encoding: header_str(resp.headers(), header::CONTENT_ENCODING),
                    length: header_str(resp.headers(), header::CONTENT_LENGTH),
                });
                resp
            }
        }))
}

fn precompressed(enc: &str, bytes: Bytes) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain".to_string()),
            (header::CONTENT_ENCODING, enc.to_string()),
            (header::CONTENT_LENGTH, bytes.len().to_string()),
        ],
        bytes,
    )
        .into_response()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn server() -> (TestServer, Log) {
    let mut encoded = HashMap::new();
    for enc in ENCODINGS {
        encoded.insert(enc.to_string(), encode(enc).await);
    }
    let log = Log::default();
    (TestServer::http(app(log.clone(), encoded)).await, log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

fn offers_all(accept: &str) -> bool {
    ENCODINGS.iter().all(|enc| {
        accept
            .split(',')
            .any(|offered| offered.split(';').next().unwrap_or("").trim() == *enc)
    })
}

#[tokio::test]
async fn each_encoding_is_offered_negotiated_and_decoded() {
    let (server, log) = server().await;
    let session = Session::new();
    for enc in ENCODINGS {
        let resp = session
            .get(server.url(&format!("/negotiated/{enc}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let seen = last(&log);
        assert!(offers_all(&seen.accept), "{enc}: {seen:?}");
        assert_eq!(seen.encoding, enc, "the server really compressed: {seen:?}");
        assert!(
            resp.headers().get(header::CONTENT_ENCODING).is_none(),
            "{enc}"
        );
        assert!(
            resp.headers().get(header::CONTENT_LENGTH).is_none(),
            "{enc}"
        );
        assert_eq!(resp.text().await.unwrap(), original(), "{enc}");
    }
}

#[tokio::test]
async fn a_decoded_response_has_no_stale_length_or_encoding() {
    let (server, log) = server().await;
    let session = Session::new();
    for enc in ENCODINGS {
        let resp = session
            .get(server.url(&format!("/static/{enc}")))
            .send()
            .await
            .unwrap();
        let seen = last(&log);
        assert_eq!(seen.encoding, enc);
        let wire_len: usize = seen.length.parse().unwrap();
        assert!(wire_len < original().len() / 2, "{enc}: {seen:?}");
        assert!(
            resp.headers().get(header::CONTENT_ENCODING).is_none(),
            "{enc}"
        );
        assert!(
            resp.headers().get(header::CONTENT_LENGTH).is_none(),
            "{enc}: stale Content-Length {:?}",
            resp.headers().get(header::CONTENT_LENGTH)
        );
        assert_eq!(resp.content_length(), None, "{enc}");
        assert_eq!(resp.bytes().await.unwrap(), original().as_bytes(), "{enc}");
    }
}

#[tokio::test]
async fn a_users_accept_encoding_is_kept() {
    let (server, log) = server().await;
    let session = Session::new();

    // identity: nothing compressed, body as it is
    let resp = session
        .get(server.url("/negotiated/gzip"))
        .header(header::ACCEPT_ENCODING, "identity")
        .send()
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(seen.accept, "identity");
    assert_eq!(seen.encoding, "", "not compressed");
    assert_eq!(resp.text().await.unwrap(), original());

    // one encoding of the user's choice: sent as is, and still decoded
    let resp = session
        .get(server.url("/negotiated/br"))
        .header(header::ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!((seen.accept.as_str(), seen.encoding.as_str()), ("br", "br"));
    assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(resp.text().await.unwrap(), original());
}

#[tokio::test]
async fn a_session_default_accept_encoding_is_kept() {
    let (server, log) = server().await;
    let session = Session::builder()
        .default_header(header::ACCEPT_ENCODING, "zstd")
        .build()
        .unwrap();
    let resp = session
        .get(server.url("/negotiated/zstd"))
        .send()
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(
        (seen.accept.as_str(), seen.encoding.as_str()),
        ("zstd", "zstd")
    );
    assert_eq!(resp.text().await.unwrap(), original());
}

#[tokio::test]
async fn without_header_accept_encoding_sends_identity() {
    // requests: s.get(url, headers={'Accept-Encoding': None}) sends `Accept-Encoding: identity`
    // (http.client adds it when the header is absent; checked with requests 2.34 against a raw
    // socket), so the server does not compress.
    let (server, log) = server().await;
    let resp = Session::new()
        .get(server.url("/negotiated/gzip"))
        .without_header(header::ACCEPT_ENCODING)
        .send()
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(
        (seen.accept.as_str(), seen.encoding.as_str()),
        ("identity", "")
    );
    assert_eq!(resp.text().await.unwrap(), original());
}

#[tokio::test]
async fn removed_from_session_defaults_sends_identity_and_still_decodes() {
    // requests: s.headers.pop('Accept-Encoding') also sends `identity`; a server that
    // compresses anyway is still decoded (urllib3 decodes by Content-Encoding).
    let (server, log) = server().await;
    let session = Session::new();
    session.headers().remove(&header::ACCEPT_ENCODING);
    let resp = session
        .get(server.url("/negotiated/gzip"))
        .send()
        .await
        .unwrap();
    assert_eq!(last(&log).accept, "identity");
    assert_eq!(resp.text().await.unwrap(), original());
    let resp = session
        .get(server.url("/static/gzip"))
        .send()
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(
        (seen.accept.as_str(), seen.encoding.as_str()),
        ("identity", "gzip")
    );
    assert_eq!(resp.text().await.unwrap(), original());
}

#[tokio::test]
async fn a_corrupt_or_truncated_body_is_an_error_not_a_panic() {
    let (server, _log) = server().await;
    let session = Session::new();
    for enc in ENCODINGS {
        for kind in ["corrupt", "truncated"] {
            let resp = session
                .get(server.url(&format!("/{kind}/{enc}")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{kind} {enc}: the head is fine");
            let err = resp.bytes().await.unwrap_err();
            assert!(err.is_body(), "{kind} {enc}: {err:?}");
            assert!(!err.is_decode(), "{kind} {enc}: {err:?}");
            assert!(!err.is_timeout() && !err.is_connect(), "{kind} {enc}");
        }
    }
}

#[tokio::test]
async fn a_head_response_with_content_encoding_is_empty_not_an_error() {
    let (server, log) = server().await;
    let resp = Session::new()
        .head(server.url("/static/gzip"))
        .send()
        .await
        .unwrap();
    assert_eq!(last(&log).encoding, "gzip");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().is_empty());
}
