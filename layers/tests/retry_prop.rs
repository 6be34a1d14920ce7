//! Property tests: arbitrary Retry-After values, statuses, methods and configurations never
//! panic, never make more attempts than allowed and never sleep longer than `backoff_max` (for
//! the backoff) or `retry_after_max` (for a Retry-After).

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::{HeaderValue, Method, Request, Response};
use proptest::prelude::*;
use tokio::time::Instant;
use tower::{Layer, ServiceExt};
use tower_requests_layers::retry::{Retry, RetryError, RetryLayer};
use tower_requests_layers::{Body, BoxError};

#[derive(Debug, Clone)]
enum Answer {
    Status(u16, Option<String>),
    Reset,
    Refused,
}

fn retry_after() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        (0u64..100_000).prop_map(|s| Some(s.to_string())),
        "[0-9]{15,40}".prop_map(Some),
        "[ \t]{0,2}[0-9]{1,4}[ \t]{0,2}".prop_map(Some),
        (0u64..200_000).prop_map(|s| Some(httpdate::fmt_http_date(
            SystemTime::now() + Duration::from_secs(s)
        ))),
        (0u64..200_000).prop_map(|s| Some(httpdate::fmt_http_date(
            SystemTime::now() - Duration::from_secs(s)
        ))),
        "[ -~]{0,30}".prop_map(Some),
        Just(Some("-5".to_string())),
        Just(Some("1e3".to_string())),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => (prop::sample::select(vec![200u16, 201, 301, 400, 404, 413, 429, 500, 502, 503, 504]), retry_after())
            .prop_map(|(s, ra)| Answer::Status(s, ra)),
        1 => Just(Answer::Reset),
        1 => Just(Answer::Refused),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ])
}

prop_compose! {
    fn config()(
        total in 0u32..6,
        connect in proptest::option::of(0u32..4),
        status in proptest::option::of(0u32..4),
        factor in 0.0f64..50.0,
        backoff_max in 0u64..40,
        jitter_ms in 0u64..5_000,
        retry_after_max in 0u64..120,
        forcelist in proptest::collection::vec(prop::sample::select(vec![413u16, 429, 500, 502, 503, 504]), 0..4),
        any in any::<bool>(),
        raise in any::<bool>(),
        respect in any::<bool>(),
    ) -> Retry {
        let mut r = Retry::new()
            .total(total)
            .backoff_factor(factor)
            .backoff_max(Duration::from_secs(backoff_max))
            .backoff_jitter(Duration::from_millis(jitter_ms))
            .retry_after_max(Duration::from_secs(retry_after_max))
            .status_forcelist(forcelist)
            .raise_on_status(raise)
            .respect_retry_after_header(respect);
        if let Some(c) = connect { r = r.connect(c); }
        if let Some(s) = status { r = r.status(s); }
        if any { r = r.any_method(); }
        r
    }
}

fn run(retry: Retry, method: Method, script: Vec<Answer>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async move {
        let hits: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let seen = hits.clone();
        let script = Arc::new(script);
        let inner = tower::service_fn(move |_req: Request<Body>| {
            let i = {
                let mut h = seen.lock().unwrap();
                h.push(Instant::now());
                h.len() - 1
            };
            let answer = script[i.min(script.len() - 1)].clone();
            async move {
                match answer {
                    Answer::Status(s, ra) => {
                        let mut resp = Response::builder().status(s);
                        if let Some(v) = ra.and_then(|v| HeaderValue::from_str(&v).ok()) {
                            resp = resp.header("retry-after", v);
                        }
                        Ok(resp.body(Body::empty()).unwrap())
                    }
                    Answer::Reset => Err::<Response<Body>, BoxError>(
                        io::Error::from(io::ErrorKind::ConnectionReset).into(),
                    ),
                    Answer::Refused => {
                        Err(io::Error::from(io::ErrorKind::ConnectionRefused).into())
                    }
                }
            }
        });
        let max_sleep = retry.get_backoff_max().max(retry.get_retry_after_max());
        let total = retry.clone();
        let svc = RetryLayer::new(retry).layer(inner);
        let mut req = Request::new(Body::from("body"));
        *req.method_mut() = method;
        let result = svc.oneshot(req).await;
        let hits = hits.lock().unwrap().clone();
        // 1 attempt + the retries `total` allows + at most one silent stale-connection retry.
        let limit = 1 + total.get_total().map_or(usize::MAX / 4, |t| t as usize) + 1;
        prop_assert!(
            hits.len() <= limit,
            "{} attempts, limit {}",
            hits.len(),
            limit
        );
        for pair in hits.windows(2) {
            let gap = pair[1] - pair[0];
            prop_assert!(gap <= max_sleep, "slept {:?} > {:?}", gap, max_sleep);
        }
        if let Err(err) = &result {
            // Either our typed error or the backend's own io error, never anything else.
            prop_assert!(
                err.downcast_ref::<RetryError>().is_some()
                    || err.downcast_ref::<io::Error>().is_some(),
                "unexpected error {err:?}"
            );
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_never_oversleeps(
        retry in config(),
        method in method(),
        script in proptest::collection::vec(answer(), 1..8),
    ) {
        run(retry, method, script)?;
    }

    #[test]
    fn retry_after_parsing_is_total_and_capped(value in retry_after(), cap in 0u64..100_000) {
        let retry = Retry::new().retry_after_max(Duration::from_secs(cap));
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            if let Some(d) = retry.retry_after(&v, SystemTime::now()) {
                prop_assert!(d <= Duration::from_secs(cap));
            }
        }
    }

    #[test]
    fn backoff_for_is_monotonic_and_capped(factor in 0.0f64..1e6, max in 0u64..1_000, n in 0u32..200) {
        let retry = Retry::new().backoff_factor(factor).backoff_max(Duration::from_secs(max));
        let a = retry.backoff_for(n);
        let b = retry.backoff_for(n + 1);
        prop_assert!(a <= b);
        prop_assert!(b <= Duration::from_secs(max));
    }
}
