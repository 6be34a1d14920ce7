//! RetryLayer over a real hyper-util pooled client and servers on 127.0.0.1: refused
//! connections, dropped keep-alive connections, statuses and bodies over the wire.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};
use tower_requests_layers::retry::{Retry, RetryLayer};
use tower_requests_layers::{Body, BoxError};

fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The client, counting the attempts that go through it.
fn counting(
    client: Client<HttpConnector, Body>,
) -> (
    impl Service<
            Request<Body>,
            Response = Response<Incoming>,
            Error = hyper_util::client::legacy::Error,
            Future = impl Send,
        > + Clone
        + Send
        + Sync,
    Arc<AtomicUsize>,
) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let svc = tower::service_fn(move |req: Request<Body>| {
        counter.fetch_add(1, Ordering::SeqCst);
        client.request(req)
    });
    (svc, attempts)
}

/// A hyper server answering `statuses[i]` to the i-th request (the last repeats); records the
/// request bodies and the (tokio) instant of each hit.
async fn status_server(
    statuses: &'static [(u16, Option<&'static str>)],
) -> (SocketAddr, Arc<Mutex<Vec<(Instant, Bytes)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<(Instant, Bytes)>>> = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        let i = {
                            let mut log = seen.lock().unwrap();
                            log.push((Instant::now(), body));
                            log.len() - 1
                        };
                        let (status, retry_after) = statuses[i.min(statuses.len() - 1)];
                        let mut resp = Response::builder().status(status);
                        if let Some(v) = retry_after {
                            resp = resp.header("retry-after", v);
                        }
                        Ok::<_, hyper::Error>(resp.body(Full::new(Bytes::from("body"))).unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, log)
}

#[tokio::test]
async fn connection_refused_is_retried_connect_times() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let (inner, attempts) = counting(client());
    let mut svc = RetryLayer::new(Retry::new().connect(2)).layer(inner);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}/"))
        .body(Body::from("x"))
        .unwrap();
    let err = svc.ready().await.unwrap().call(req).await.unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    let client_err = err
        .downcast_ref::<hyper_util::client::legacy::Error>()
        .expect("the client's own error, unwrapped");
    assert!(client_err.is_connect());
}

#[tokio::test]
async fn statuses_and_body_over_the_wire() {
    static SCRIPT: [(u16, Option<&str>); 3] = [(503, None), (502, None), (200, None)];
    let (addr, log) = status_server(&SCRIPT).await;
    let retry = Retry::new()
        .total(3)
        .status_forcelist([502, 503])
        .allowed_methods([Method::POST]);
    let mut svc = RetryLayer::new(retry).layer(client());
    let payload = Bytes::from((0..50_000u32).map(|i| (i % 253) as u8).collect::<Vec<u8>>());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}/upload"))
        .body(Body::from(payload.clone()))
        .unwrap();
    let resp = svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "body");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|(_, body)| *body == payload));
}

#[tokio::test(start_paused = true)]
async fn retry_after_over_the_wire_with_paused_time() {
    static SCRIPT: [(u16, Option<&str>); 2] = [(429, Some("2")), (200, None)];
    let (addr, log) = status_server(&SCRIPT).await;
    let mut svc = RetryLayer::new(Retry::new().total(2)).layer(client());
    let req = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .unwrap();
    let resp = svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    let gap = log[1].0 - log[0].0;
    assert!(
        gap >= Duration::from_secs(2) && gap < Duration::from_millis(2100),
        "{gap:?}"
    );
}

/// Read one request (head + content-length body) from `stream`; false on EOF.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// A server that answers the first request of a connection, keeps it open, and when the next
/// request arrives on it closes the socket without answering: every reuse of a pooled
/// connection hits a connection closed before any response byte (deterministically).
async fn close_on_reuse_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if read_request(&mut stream).await && stream.write_all(OK).await.is_ok() {
                    let _ = read_request(&mut stream).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn over_a_bare_client_a_dropped_pooled_connection_is_not_resent() {
    // A bare hyper-util client does not say whether the connection was a reused one that failed
    // before any response byte, so nothing but hyper's "canceled" is resent silently: the POST
    // the server read and dropped is an error, sent once.
    let addr = close_on_reuse_server().await;
    let (inner, attempts) = counting(client());
    let svc = RetryLayer::new(Retry::disabled()).layer(inner);
    let post = |i: usize| {
        Request::post(format!("http://{addr}/{i}"))
            .body(Body::from("payload"))
            .unwrap()
    };
    let resp = svc.clone().oneshot(post(0)).await.unwrap();
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "ok");
    svc.clone().oneshot(post(1)).await.unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_the_layer_the_stale_connection_is_an_error() {
    // The control for the test above: the server really does break pooled connections.
    let addr = close_on_reuse_server().await;
    let client = client();
    let first = Request::post(format!("http://{addr}/1"))
        .body(Body::from("p"))
        .unwrap();
    let resp = client.request(first).await.unwrap();
    resp.into_body().collect().await.unwrap();
    let second = Request::post(format!("http://{addr}/2"))
        .body(Body::from("p"))
        .unwrap();
    let err: BoxError = client.request(second).await.unwrap_err().into();
    assert!(!err.to_string().is_empty());
}

/// A listener whose accept queue is full (nobody accepts): further connects hang in SYN-SENT,
/// so the connector's connect timeout fires. 127.0.0.1 only.
async fn full_backlog_listener() -> (tokio::net::TcpListener, Vec<TcpStream>, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    // Fill the queue: connects complete until it is full, then they hang.
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(50), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    (listener, held, addr)
}

#[tokio::test]
async fn connect_timeout_is_a_connect_error_retried_for_post() {
    let (_listener, _held, addr) = full_backlog_listener().await;
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(Duration::from_millis(100)));
    let client = Client::builder(TokioExecutor::new()).build::<_, Body>(http);
    let (inner, attempts) = counting(client);
    let mut svc = RetryLayer::new(Retry::new().connect(1)).layer(inner);
    let req = Request::post(format!("http://{addr}/"))
        .body(Body::from("x"))
        .unwrap();
    let start = std::time::Instant::now();
    let err = svc.ready().await.unwrap().call(req).await.unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert!(start.elapsed() >= Duration::from_millis(200));
    let client_err = err
        .downcast_ref::<hyper_util::client::legacy::Error>()
        .expect("the client's own error");
    assert!(client_err.is_connect(), "{client_err:?}");
}
