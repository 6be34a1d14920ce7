//! TimeoutLayer (per attempt + read timeout) and TotalTimeoutLayer (whole call), with mocks in
//! paused time and a slow-drip hyper server on 127.0.0.1 in real (short) time.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body as _, Frame};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::retry::{Retry, RetryLayer};
use tower_requests_layers::timeout::{
    Elapsed, ReadTimeoutBody, RequestTimeout, TimeoutKind, TimeoutLayer, TotalBody,
    TotalTimeoutLayer,
};
use tower_requests_layers::{Body, BoxError};

fn elapsed(err: &BoxError) -> &Elapsed {
    err.downcast_ref::<Elapsed>()
        .unwrap_or_else(|| panic!("expected Elapsed, got {err:?}"))
}

/// A body yielding `chunks` frames, one every `every`, then (if `stall`) never ending.
fn drip(chunks: usize, every: Duration, stall: bool) -> Body {
    let stream = futures_util::stream::unfold(0usize, move |i| async move {
        if i < chunks {
            tokio::time::sleep(every).await;
            Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"x"))),
                i + 1,
            ))
        } else if stall {
            std::future::pending::<()>().await;
            None
        } else {
            None
        }
    });
    Body::wrap(StreamBody::new(stream))
}

/// A mock answering after `head_delay` with a body from `body()`.
fn mock(
    head_delay: Duration,
    body: impl Fn() -> Body + Clone + Send + Sync + 'static,
) -> (
    BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>,
    Arc<AtomicUsize>,
) {
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    let svc = tower::service_fn(move |_req: Request<Body>| {
        count.fetch_add(1, Ordering::SeqCst);
        let body = body.clone();
        async move {
            tokio::time::sleep(head_delay).await;
            Ok::<_, BoxError>(Response::new(body()))
        }
    });
    (BoxCloneSyncService::new(svc), hits)
}

fn get() -> Request<Body> {
    Request::new(Body::empty())
}

#[tokio::test(start_paused = true)]
async fn attempt_timeout_limits_the_response_head() {
    let (inner, _) = mock(Duration::from_secs(10), Body::empty);
    let mut svc = TimeoutLayer::new(Duration::from_secs(3)).layer(inner);
    let start = Instant::now();
    let err = svc.ready().await.unwrap().call(get()).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    let e = elapsed(&err);
    assert_eq!(
        (e.kind(), e.duration()),
        (TimeoutKind::Attempt, Duration::from_secs(3))
    );
    assert!(err.to_string().contains("3s"), "{err}");

    // In time: a response, not an error.
    let (inner, _) = mock(Duration::from_secs(2), Body::empty);
    let mut svc = TimeoutLayer::new(Duration::from_secs(3)).layer(inner);
    let resp = svc.ready().await.unwrap().call(get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn read_timeout_is_the_longest_silence_not_the_whole_body() {
    // 10 frames, one per second (10 s in all) with a 2 s read timeout: fine.
    let (inner, _) = mock(Duration::ZERO, || drip(10, Duration::from_secs(1), false));
    let mut svc = TimeoutLayer::new(Duration::from_secs(2)).layer(inner);
    let resp = svc.ready().await.unwrap().call(get()).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), 10);

    // Then a stall: a read timeout error from the body, typed.
    let (inner, _) = mock(Duration::ZERO, || drip(3, Duration::from_secs(1), true));
    let mut svc = TimeoutLayer::new(Duration::from_secs(2)).layer(inner);
    let resp = svc.ready().await.unwrap().call(get()).await.unwrap();
    let start = Instant::now();
    let err = resp.into_body().collect().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(elapsed(&err).kind(), TimeoutKind::Read);
}

#[tokio::test(start_paused = true)]
async fn total_timeout_covers_the_body() {
    // Same 10 s drip; a total limit of 5 s stops it although no single read is slow.
    let (inner, _) = mock(Duration::from_secs(1), || {
        drip(10, Duration::from_secs(1), false)
    });
    let mut svc = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(5)))
        .layer(TimeoutLayer::new(Duration::from_secs(2)))
        .service(inner);
    let start = Instant::now();
    let resp = svc.ready().await.unwrap().call(get()).await.unwrap();
    let err = resp.into_body().collect().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    let e = elapsed(&err);
    assert_eq!(
        (e.kind(), e.duration()),
        (TimeoutKind::Total, Duration::from_secs(5))
    );
}

#[tokio::test(start_paused = true)]
async fn total_timeout_covers_retries_and_backoff() {
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    let always_503 = tower::service_fn(move |_req: Request<Body>| {
        count.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, BoxError>(Response::builder().status(503).body(Body::empty()).unwrap()) }
    });
    let mut svc = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(3)))
        .layer(RetryLayer::new(
            Retry::new()
                .total(5)
                .backoff_factor(1.0)
                .status_forcelist([503]),
        ))
        .service(always_503);
    let start = Instant::now();
    let err = svc.ready().await.unwrap().call(get()).await.unwrap_err();
    // Sleeps 0 s, then 2 s, then 4 s: the deadline falls in the third sleep.
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert!(elapsed(&err).is_total());
}

#[tokio::test(start_paused = true)]
async fn per_attempt_timeouts_are_retried_under_a_total_limit() {
    let (inner, hits) = mock(Duration::from_secs(60), Body::empty);
    let mut svc = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(30)))
        .layer(RetryLayer::new(Retry::new().total(10)))
        .layer(TimeoutLayer::new(Duration::from_secs(7)))
        .service(inner);
    let err = svc.ready().await.unwrap().call(get()).await.unwrap_err();
    // Attempts at 0, 7, 14, 21, 28 s; the total limit ends the fifth.
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    assert!(elapsed(&err).is_total());
}

#[tokio::test(start_paused = true)]
async fn request_timeout_extension_overrides_the_layer() {
    let (inner, _) = mock(Duration::from_secs(15), Body::empty);
    let mut svc = TotalTimeoutLayer::new(Duration::from_secs(10)).layer(inner.clone());

    // Shorter than the layer's.
    let req = Request::builder()
        .extension(RequestTimeout(Duration::from_secs(1)))
        .body(Body::empty())
        .unwrap();
    let start = Instant::now();
    let err = svc.ready().await.unwrap().call(req).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(elapsed(&err).duration(), Duration::from_secs(1));

    // Longer than the layer's: the 15 s answer arrives.
    let req = Request::builder()
        .extension(RequestTimeout(Duration::from_secs(20)))
        .body(Body::empty())
        .unwrap();
    let resp = svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // The layer's own limit without the extension.
    let err = svc.ready().await.unwrap().call(get()).await.unwrap_err();
    assert_eq!(elapsed(&err).duration(), Duration::from_secs(10));

    // A layer without a limit: only the extension limits.
    let mut unlimited = TotalTimeoutLayer::new(None).layer(inner);
    let resp = unlimited.ready().await.unwrap().call(get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let req = Request::builder()
        .extension(RequestTimeout(Duration::from_secs(2)))
        .body(Body::empty())
        .unwrap();
    let err = unlimited
        .ready()
        .await
        .unwrap()
        .call(req)
        .await
        .unwrap_err();
    assert!(elapsed(&err).is_total());
}

#[tokio::test]
async fn bodies_keep_size_hint_and_end_of_stream() {
    let body = ReadTimeoutBody::new(Duration::from_secs(1), Full::new(Bytes::from("hello")));
    assert_eq!(body.size_hint().exact(), Some(5));
    assert!(!body.is_end_stream());
    let mut body = std::pin::pin!(body);
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "hello");
    assert_eq!(body.size_hint().exact(), Some(0));
    assert!(body.is_end_stream());

    let total = TotalBody::deadline(
        Duration::from_secs(1),
        Duration::from_secs(1),
        Full::new(Bytes::from("abc")),
    );
    assert_eq!(total.size_hint().exact(), Some(3));
    assert_eq!(total.collect().await.unwrap().to_bytes(), "abc");
    let empty = TotalBody::unlimited(http_body_util::Empty::<Bytes>::new());
    assert!(empty.is_end_stream());
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through_untouched() {
    let failing = tower::service_fn(|_req: Request<Body>| async {
        Err::<Response<Body>, _>(std::io::Error::other("boom"))
    });
    let mut svc = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(1)))
        .layer(TimeoutLayer::new(Duration::from_secs(1)))
        .service(failing);
    let err = svc.ready().await.unwrap().call(get()).await.unwrap_err();
    assert!(err.downcast_ref::<std::io::Error>().is_some());
    assert!(err.downcast_ref::<Elapsed>().is_none());
}

#[tokio::test(start_paused = true)]
async fn usable_as_box_clone_sync_service() {
    let (inner, hits) = mock(Duration::ZERO, || Body::from("ok"));
    let stack = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(5)))
        .layer(TimeoutLayer::new(Duration::from_secs(1)))
        .service(inner)
        .map_response(|r: Response<TotalBody<ReadTimeoutBody<Body>>>| r.map(Body::new));
    let boxed: BoxCloneSyncService<Request<Body>, Response<Body>, BoxError> =
        BoxCloneSyncService::new(stack);
    let resp = boxed.clone().oneshot(get()).await.unwrap();
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "ok");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A hyper server sending the head at once, then `chunks` body chunks `every` apart, then
/// (if `stall`) nothing more, keeping the connection open.
async fn drip_server(chunks: usize, every: Duration, stall: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req: Request<Incoming>| async move {
                    Ok::<_, Infallible>(Response::new(drip(chunks, every, stall)))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn slow_drip_server_read_timeout() {
    let addr = drip_server(2, Duration::from_millis(20), true).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let mut svc = TimeoutLayer::new(Duration::from_millis(150)).layer(client);
    let req = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .unwrap();
    let start = std::time::Instant::now();
    let resp = svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = std::pin::pin!(resp.into_body());
    let mut got = 0;
    let err = loop {
        match body.frame().await {
            Some(Ok(frame)) => got += frame.into_data().map(|d| d.len()).unwrap_or(0),
            Some(Err(e)) => break e,
            None => panic!("the body should stall"),
        }
    };
    assert_eq!(got, 2);
    assert_eq!(elapsed(&err).kind(), TimeoutKind::Read);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn slow_drip_server_total_vs_per_attempt() {
    // 8 chunks 40 ms apart (~320 ms): within a 150 ms read timeout, beyond a 200 ms total limit.
    let addr = drip_server(8, Duration::from_millis(40), false).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let url = format!("http://{addr}/");

    let mut per_attempt = TimeoutLayer::new(Duration::from_millis(150)).layer(client.clone());
    let req = Request::get(&url).body(Body::empty()).unwrap();
    let resp = per_attempt.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(
        resp.into_body().collect().await.unwrap().to_bytes().len(),
        8
    );

    let mut total = ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_millis(200)))
        .layer(TimeoutLayer::new(Duration::from_millis(150)))
        .service(client);
    let req = Request::get(&url).body(Body::empty()).unwrap();
    let resp = total.ready().await.unwrap().call(req).await.unwrap();
    let err = resp.into_body().collect().await.unwrap_err();
    assert_eq!(elapsed(&err).kind(), TimeoutKind::Total);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_waits_still_stops_at_the_total_deadline() {
    // Every frame is ready at once (the body never returns Pending, so no timer is ever
    // armed); the deadline is still checked against the clock before each frame.
    let endless = || {
        Body::wrap(StreamBody::new(futures_util::stream::repeat_with(|| {
            Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"x")))
        })))
    };
    let (inner, _) = mock(Duration::ZERO, endless);
    let mut svc = TotalTimeoutLayer::new(Duration::from_secs(5)).layer(inner);
    let resp = svc.ready().await.unwrap().call(get()).await.unwrap();
    let mut body = resp.into_body();
    for _ in 0..3 {
        assert!(body.frame().await.unwrap().unwrap().is_data());
    }
    tokio::time::advance(Duration::from_secs(6)).await;
    let err = body.frame().await.unwrap().unwrap_err();
    assert_eq!(elapsed(&err).kind(), TimeoutKind::Total);
    assert!(body.frame().await.is_none(), "done after the error");
}
