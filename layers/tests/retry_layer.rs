//! RetryLayer against scripted `service_fn` backends, with paused tokio time so every sleep is
//! measured exactly in virtual time.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::time::Instant;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tower_requests_layers::retry::{Retry, RetryError, RetryErrorKind, RetryLayer};
use tower_requests_layers::timeout::{Elapsed, TimeoutKind, TimeoutLayer};
use tower_requests_layers::{Body, BoxError};
use tower_requests_layers::{Delivery, DeliveryError};

#[path = "auth_support/mod.rs"]
mod support;

#[derive(Clone, Copy, Debug)]
enum Step {
    Status(u16),
    RetryAfter(u16, &'static str),
    /// Retry-After as an HTTP-date this many seconds from now.
    RetryAfterDate(u16, u64),
    Fail(io::ErrorKind),
    /// A reset the client reports with this delivery.
    Lost(Delivery),
    /// Answer 200 after sleeping this long.
    Slow(u64),
}

#[derive(Debug, Clone)]
struct Hit {
    at: Instant,
    method: Method,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Hit>>>);

impl Log {
    fn hits(&self) -> Vec<Hit> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    /// Virtual time between consecutive hits.
    fn gaps(&self) -> Vec<Duration> {
        let hits = self.hits();
        hits.windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}

type Mock = BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>;

/// A backend answering `script[i]` to the i-th request (the last step repeats).
fn backend(script: &[Step]) -> (Mock, Log) {
    let script: Arc<Vec<Step>> = Arc::new(script.to_vec());
    let log = Log::default();
    let seen = log.clone();
    let svc = tower::service_fn(move |req: Request<Body>| {
        let script = script.clone();
        let seen = seen.clone();
        async move {
            let method = req.method().clone();
            let body = req.into_body().collect().await?.to_bytes();
            let i = {
                let mut hits = seen.0.lock().unwrap();
                hits.push(Hit {
                    at: Instant::now(),
                    method,
                    body,
                });
                hits.len() - 1
            };
            let step = script[i.min(script.len() - 1)];
            let resp = |status: u16| Response::builder().status(status);
            Ok::<_, BoxError>(match step {
                Step::Status(s) => resp(s).body(Body::from("x"))?,
                Step::RetryAfter(s, v) => resp(s).header("retry-after", v).body(Body::empty())?,
                Step::RetryAfterDate(s, secs) => {
                    let date =
                        httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(secs));
                    resp(s).header("retry-after", date).body(Body::empty())?
                }
                Step::Fail(kind) => return Err(io::Error::from(kind).into()),
                Step::Lost(d) => {
                    let reset = io::Error::from(io::ErrorKind::ConnectionReset);
                    return Err(DeliveryError::new(d, reset).into());
                }
                Step::Slow(secs) => {
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                    resp(200).body(Body::empty())?
                }
            })
        }
    });
    (BoxCloneSyncService::new(svc), log)
}

fn get() -> Request<Body> {
    Request::new(Body::empty())
}

fn with(method: Method, body: Body) -> Request<Body> {
    let mut req = Request::new(body);
    *req.method_mut() = method;
    req
}

async fn send<S, ResB>(svc: &mut S, req: Request<Body>) -> Result<Response<ResB>, BoxError>
where
    S: Service<Request<Body>, Response = Response<ResB>, Error = BoxError>,
{
    svc.ready().await?.call(req).await
}

fn secs(v: &[f64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

fn retry_error(err: &BoxError) -> &RetryError {
    err.downcast_ref::<RetryError>()
        .unwrap_or_else(|| panic!("expected a RetryError, got {err:?}"))
}

#[tokio::test(start_paused = true)]
async fn backoff_sequence_factor_half() {
    let (inner, log) = backend(&[Step::Status(503)]);
    let retry = Retry::new()
        .total(5)
        .backoff_factor(0.5)
        .status_forcelist([503]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let err = send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 6);
    assert_eq!(log.gaps(), secs(&[0.0, 1.0, 2.0, 4.0, 8.0]));
    let err = retry_error(&err);
    assert_eq!(err.kind(), RetryErrorKind::StatusExhausted);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.attempts(), 6);
}

#[tokio::test(start_paused = true)]
async fn backoff_sequence_factor_one() {
    let (inner, log) = backend(&[Step::Status(500)]);
    let retry = Retry::new()
        .total(4)
        .backoff_factor(1.0)
        .status_forcelist([500]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.gaps(), secs(&[0.0, 2.0, 4.0, 8.0]));
}

#[tokio::test(start_paused = true)]
async fn backoff_max_caps_the_sleep() {
    let (inner, log) = backend(&[Step::Status(502)]);
    let retry = Retry::new()
        .total(5)
        .backoff_factor(10.0)
        .backoff_max(Duration::from_secs(30))
        .status_forcelist([502]);
    assert_eq!(retry.backoff_for(3), Duration::from_secs(30));
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.gaps(), secs(&[0.0, 20.0, 30.0, 30.0, 30.0]));
}

#[tokio::test(start_paused = true)]
async fn jitter_stays_within_its_range() {
    let (inner, log) = backend(&[Step::Status(503)]);
    let retry = Retry::new()
        .total(3)
        .backoff_factor(1.0)
        .backoff_jitter(Duration::from_millis(500))
        .status_forcelist([503]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    let gaps = log.gaps();
    assert_eq!(gaps[0], Duration::ZERO);
    assert!(
        gaps[1] >= Duration::from_secs(2) && gaps[1] < Duration::from_millis(2500),
        "{gaps:?}"
    );
    assert!(
        gaps[2] >= Duration::from_secs(4) && gaps[2] < Duration::from_millis(4500),
        "{gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn two_503_then_200() {
    let (inner, log) = backend(&[Step::Status(503), Step::Status(503), Step::Status(200)]);
    let retry = Retry::new()
        .total(3)
        .backoff_factor(0.5)
        .status_forcelist([503]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 3);
    assert_eq!(log.gaps(), secs(&[0.0, 1.0]));
}

#[tokio::test(start_paused = true)]
async fn status_exhausted_raises_or_returns_last_response() {
    let (inner, log) = backend(&[Step::Status(503)]);
    let retry = Retry::new().total(3).status_forcelist([503]);
    let mut svc = RetryLayer::new(retry.clone()).layer(inner);
    let err = send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 4);
    assert_eq!(
        retry_error(&err).status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(err.to_string().contains("503"), "{err}");

    let (inner, log) = backend(&[Step::Status(503)]);
    let mut svc = RetryLayer::new(retry.raise_on_status(false)).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(log.count(), 4);
    // The last response's body is intact.
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "x");
}

#[tokio::test(start_paused = true)]
async fn status_counter_limits_status_retries() {
    let (inner, log) = backend(&[Step::Status(503)]);
    let retry = Retry::new().total(10).status(1).status_forcelist([503]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn post_is_not_retried_unless_allowed() {
    let script = [Step::Status(503), Step::Status(503), Step::Status(200)];
    let retry = Retry::new().total(3).status_forcelist([503]);

    let (inner, log) = backend(&script);
    let mut svc = RetryLayer::new(retry.clone()).layer(inner);
    let resp = send(&mut svc, with(Method::POST, Body::from("a=1")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(log.count(), 1);

    let (inner, log) = backend(&script);
    let retry = retry.allowed_methods([Method::GET, Method::POST]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let resp = send(&mut svc, with(Method::POST, Body::from("a=1")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 3);
    assert!(log.hits().iter().all(|h| h.method == Method::POST));
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_slept() {
    // Not in the forcelist: 429 + Retry-After is retried on its own (urllib3).
    let (inner, log) = backend(&[Step::RetryAfter(429, "2"), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new().total(3)).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.gaps(), secs(&[2.0]));
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_slept() {
    let (inner, log) = backend(&[Step::RetryAfterDate(503, 3), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new().total(3)).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // HTTP-dates have whole seconds: the wait is in (2 s, 3 s].
    let gap = log.gaps()[0];
    assert!(
        gap > Duration::from_secs(2) && gap <= Duration::from_secs(3),
        "{gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_beats_backoff_and_is_capped() {
    let (inner, log) = backend(&[Step::RetryAfter(503, "100000")]);
    let retry = Retry::new()
        .total(2)
        .backoff_factor(10.0)
        .status_forcelist([503])
        .retry_after_max(Duration::from_secs(5));
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.gaps(), secs(&[5.0, 5.0]));
}

#[tokio::test(start_paused = true)]
async fn retry_after_ignored_when_not_respected_or_invalid() {
    // Not respected and not in the forcelist: not retried at all.
    let (inner, log) = backend(&[Step::RetryAfter(429, "2"), Step::Status(200)]);
    let retry = Retry::new().total(3).respect_retry_after_header(false);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(log.count(), 1);

    // Invalid value: retried with the backoff instead (urllib3 would raise InvalidHeader).
    let (inner, log) = backend(&[
        Step::RetryAfter(503, "soon"),
        Step::RetryAfter(503, "soon"),
        Step::Status(200),
    ]);
    let retry = Retry::new().total(3).backoff_factor(1.0);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.gaps(), secs(&[0.0, 2.0]));
}

#[tokio::test(start_paused = true)]
async fn connect_errors_are_retried_for_any_method_connect_times() {
    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::ConnectionRefused)]);
    let retry = Retry::new().connect(2);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let err = send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 3);
    // The last underlying error itself, not wrapped.
    let io = err
        .downcast_ref::<io::Error>()
        .expect("the io error itself");
    assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test(start_paused = true)]
async fn read_errors_only_for_allowed_methods() {
    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::TimedOut)]);
    let mut svc = RetryLayer::new(Retry::new().total(2)).layer(inner);
    send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 1);

    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::TimedOut), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new().total(2).read(1)).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn attempt_timeout_is_a_read_error_and_stays_a_timeout() {
    let (inner, log) = backend(&[Step::Slow(60), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new().total(2))
        .layer(TimeoutLayer::new(Duration::from_secs(1)).layer(inner));
    let start = Instant::now();
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    // Exhausted: the error is still the timeout.
    let (inner, log) = backend(&[Step::Slow(60)]);
    let mut svc = RetryLayer::new(Retry::new().total(2))
        .layer(TimeoutLayer::new(Duration::from_secs(1)).layer(inner));
    let err = send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 3);
    let elapsed = err.downcast_ref::<Elapsed>().expect("still a timeout");
    assert_eq!(elapsed.kind(), TimeoutKind::Attempt);
}

#[tokio::test(start_paused = true)]
async fn unsent_request_resent_once_for_any_method_even_when_disabled() {
    // The client reports the request never left: resent once, at once, for POST too.
    let (inner, log) = backend(&[Step::Lost(Delivery::NotSent), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    let resp = send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 2);
    assert_eq!(log.gaps(), secs(&[0.0]));

    // Only once.
    let (inner, log) = backend(&[Step::Lost(Delivery::NotSent)]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    let err = send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 2);
    assert!(err.downcast_ref::<DeliveryError>().is_some());
}

#[tokio::test(start_paused = true)]
async fn stale_connection_resent_once_for_idempotent_methods_only() {
    // A reused connection that failed before any response byte: GET is resent silently.
    let (inner, log) = backend(&[Step::Lost(Delivery::Stale), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 2);

    // POST is not: the server may have read it.
    let (inner, log) = backend(&[Step::Lost(Delivery::Stale), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 1);

    // Unless the configuration allows POST.
    let (inner, log) = backend(&[Step::Lost(Delivery::Stale), Step::Status(200)]);
    let retry = Retry::disabled().allowed_methods([Method::POST]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    send(&mut svc, with(Method::POST, Body::from("x")))
        .await
        .unwrap();
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_is_never_resent_silently() {
    // Reset after the request was sent, or an untagged reset (a bare client): not resent with
    // retries disabled, whatever the method.
    for step in [
        Step::Lost(Delivery::MaybeProcessed),
        Step::Fail(io::ErrorKind::ConnectionReset),
        Step::Fail(io::ErrorKind::BrokenPipe),
    ] {
        for method in [Method::GET, Method::POST] {
            let (inner, log) = backend(&[step, Step::Status(200)]);
            let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
            send(&mut svc, with(method.clone(), Body::from("x")))
                .await
                .unwrap_err();
            assert_eq!(log.count(), 1, "{step:?} {method}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn silent_resend_does_not_consume_the_counters() {
    let (inner, log) = backend(&[
        Step::Lost(Delivery::Stale),
        Step::Status(503),
        Step::Status(200),
    ]);
    let mut svc = RetryLayer::new(Retry::new().total(1).status_forcelist([503])).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn buffered_body_is_replayed_byte_identical() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (inner, log) = backend(&[
        Step::Status(503),
        Step::Fail(io::ErrorKind::TimedOut),
        Step::Status(200),
    ]);
    let retry = Retry::new()
        .total(3)
        .status_forcelist([503])
        .allowed_methods([Method::PUT]);
    let mut svc = RetryLayer::new(retry).layer(inner);
    let resp = send(&mut svc, with(Method::PUT, Body::from(payload.clone())))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let hits = log.hits();
    assert_eq!(hits.len(), 3);
    for hit in hits {
        assert_eq!(&hit.body[..], &payload[..]);
    }
}

#[tokio::test(start_paused = true)]
async fn other_replayable_body_types_work() {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let inner = tower::service_fn(move |req: Request<String>| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        assert_eq!(req.body(), "hello");
        async move {
            let status = if n == 0 { 503 } else { 200 };
            Ok::<_, io::Error>(
                Response::builder()
                    .status(status)
                    .body(String::new())
                    .unwrap(),
            )
        }
    });
    let mut svc = RetryLayer::new(Retry::new().status_forcelist([503])).layer(inner);
    let resp = svc
        .ready()
        .await
        .unwrap()
        .call(Request::new("hello".to_string()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

fn stream_body() -> Body {
    let chunks: Vec<Result<&'static str, io::Error>> = vec![Ok("ab"), Ok("cd")];
    Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test(start_paused = true)]
async fn streaming_body_is_sent_once_and_not_retried() {
    // After a status.
    let (inner, log) = backend(&[Step::Status(503), Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new().status_forcelist([503])).layer(inner);
    let err = send(&mut svc, with(Method::PUT, stream_body()))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 1);
    assert_eq!(&log.hits()[0].body[..], b"abcd");
    let e = retry_error(&err);
    assert_eq!(e.kind(), RetryErrorKind::BodyNotReplayable);
    assert_eq!(e.status(), None);
    assert_eq!(e.response_status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(err.to_string().contains("could not be replayed"), "{err}");

    // After an error (even the stale-connection one): the cause is the source.
    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::ConnectionReset)]);
    let mut svc = RetryLayer::new(Retry::new()).layer(inner);
    let err = send(&mut svc, with(Method::PUT, stream_body()))
        .await
        .unwrap_err();
    assert_eq!(log.count(), 1);
    let e = retry_error(&err);
    assert!(e.is_body_not_replayable());
    let source = std::error::Error::source(e).expect("the attempt's error");
    assert!(source.downcast_ref::<io::Error>().is_some());

    // No retry needed: the stream goes through untouched.
    let (inner, log) = backend(&[Step::Status(200)]);
    let mut svc = RetryLayer::new(Retry::new()).layer(inner);
    let resp = send(&mut svc, with(Method::PUT, stream_body()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&log.hits()[0].body[..], b"abcd");
}

#[tokio::test(start_paused = true)]
async fn disabled_does_not_retry_statuses_or_errors() {
    let (inner, log) = backend(&[Step::RetryAfter(503, "1")]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(log.count(), 1);

    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::ConnectionRefused)]);
    let mut svc = RetryLayer::new(Retry::disabled()).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 1);
}

async fn outage_attempts(layer: &RetryLayer, calls: usize, log: &Log, inner: &Mock) -> usize {
    let before = log.count();
    for _ in 0..calls {
        // A fresh service (clone) per call: the budget is the layer's, not the service's.
        let mut svc = layer.layer(inner.clone());
        send(&mut svc, get()).await.unwrap_err();
    }
    log.count() - before
}

#[tokio::test(start_paused = true)]
async fn budget_caps_amplification_in_a_full_outage() {
    let n = 1000;
    let (inner, log) = backend(&[Step::Status(503)]);
    let retry = Retry::new().total(3).status_forcelist([503]);
    let layer = RetryLayer::new(retry.clone());
    let first = outage_attempts(&layer, n, &log, &inner).await;
    // 20% of the calls plus the reserve (1 retry/s over the 10 s window).
    assert!(first <= n + n / 5 + 10, "{first} attempts for {n} calls");
    assert!(first >= n + n / 5, "{first}");
    // Once the reserve is spent, at most 1.2 x N.
    let second = outage_attempts(&layer, n, &log, &inner).await;
    assert!(second <= n * 6 / 5, "{second} attempts for {n} calls");

    // Without a budget: 4 x N.
    let (inner, log) = backend(&[Step::Status(503)]);
    let layer = RetryLayer::new(retry.no_budget());
    assert_eq!(outage_attempts(&layer, 100, &log, &inner).await, 400);
}

#[tokio::test(start_paused = true)]
async fn budget_refills_with_time() {
    let (inner, log) = backend(&[Step::Status(503)]);
    let layer = RetryLayer::new(Retry::new().total(3).status_forcelist([503]));
    // Spend the reserve.
    outage_attempts(&layer, 50, &log, &inner).await;
    let starved = outage_attempts(&layer, 1, &log, &inner).await;
    tokio::time::advance(Duration::from_secs(11)).await;
    let refilled = outage_attempts(&layer, 1, &log, &inner).await;
    assert_eq!(starved, 1);
    assert_eq!(refilled, 4);
}

#[tokio::test(start_paused = true)]
async fn usable_as_box_clone_sync_service() {
    let (inner, log) = backend(&[Step::Status(503), Step::Status(200)]);
    let svc = RetryLayer::new(Retry::new().status_forcelist([503])).layer(inner);
    let mut boxed: BoxCloneSyncService<Request<Body>, Response<Body>, BoxError> =
        BoxCloneSyncService::new(svc);
    let resp = send(&mut boxed, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.count(), 2);
    fn assert_send<T: Send>(_: &T) {}
    let fut = boxed.clone().oneshot(get());
    assert_send(&fut);
    drop(fut);
}

/// The body of a retried response is read to its end during the backoff (urllib3's
/// `drain_conn()`), so its connection can be reused; one longer than `MAX_DRAIN` is dropped
/// unread. Either way the retry happens and its response is returned.
#[tokio::test(start_paused = true)]
async fn a_retried_responses_body_is_read_during_the_backoff() {
    let max = tower_requests_layers::body::MAX_DRAIN as usize;
    for (size, n, read) in [(100, 3, true), (1024, max / 1024 + 1, false)] {
        let (first, ended) = support::Tracked::new(n, size);
        let first = Arc::new(Mutex::new(Some(first)));
        let inner = tower::service_fn(move |_req: Request<Body>| {
            let body = first.lock().unwrap().take();
            async move {
                Ok::<_, io::Error>(match body {
                    Some(body) => Response::builder().status(503).body(body).unwrap(),
                    None => Response::new(support::Tracked::new(1, 2).0),
                })
            }
        });
        let mut svc = RetryLayer::new(
            Retry::new()
                .total(1)
                .status_forcelist([503])
                .backoff_factor(0.5),
        )
        .layer(inner);
        let resp = svc
            .ready()
            .await
            .unwrap()
            .call(Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            ended.load(Ordering::SeqCst),
            read,
            "{n}x{size} bytes read to the end"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_backoff_strategy_sets_the_sleeps_and_ends_the_retries() {
    // Any iterator of durations, made afresh per call: 0.1 s, 0.2 s, then it runs out.
    let retry = || {
        Retry::new()
            .total(10)
            .status_forcelist([503])
            .backoff_strategy(|| (0..2).map(|i| Duration::from_millis(100 << i)))
    };
    let (inner, log) = backend(&[Step::Status(503), Step::Status(503), Step::Status(200)]);
    let mut svc = RetryLayer::new(retry()).layer(inner);
    let resp = send(&mut svc, get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(log.gaps(), secs(&[0.1, 0.2]));

    // A second call starts the strategy over; when it runs out, the status error is returned.
    let (inner, log) = backend(&[Step::Status(503)]);
    let mut svc = RetryLayer::new(retry()).layer(inner);
    let err = send(&mut svc, get()).await.unwrap_err();
    assert_eq!(
        retry_error(&err).status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(log.gaps(), secs(&[0.1, 0.2]));

    // Errors too: after the strategy's last sleep the error itself comes back.
    let (inner, log) = backend(&[Step::Fail(io::ErrorKind::TimedOut)]);
    let mut svc = RetryLayer::new(retry()).layer(inner);
    send(&mut svc, get()).await.unwrap_err();
    assert_eq!(log.count(), 3);
}
