//! Overhead of each layer, and of the whole default stack, over a mock inner service that
//! answers at once (`tower::service_fn`): request built, response body read. Targets:
//! each layer ≤ 300 ns over the bare mock, the full default stack ≤ 2 µs.
//! `cargo bench --bench layers`.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use http::{Request, Response};
use http_body_util::BodyExt;
use tower::{Layer, Service, ServiceExt};
use tower_http::decompression::DecompressionLayer;
use tower_requests::layers::auth::AuthLayer;
use tower_requests::layers::cookie::{CookieJar, CookieLayer};
use tower_requests::layers::headers::{default_headers, DefaultHeadersLayer};
use tower_requests::layers::redirect::FollowRedirectLayer;
use tower_requests::layers::retry::RetryLayer;
use tower_requests::layers::timeout::{TimeoutLayer, TotalTimeoutLayer};
use tower_requests::{Body, BoxService, Retry, Session, Url};

const URL: &str = "http://127.0.0.1/x";
/// Another path on the same host: alternating with [`URL`], every call is for another URI
/// than the last (the jar's cookies all have `Path=/`, so the header kept for the host serves
/// both paths).
const URL2: &str = "http://127.0.0.1/y";
/// Another host: alternating with [`URL`], every call misses the header the jar keeps and
/// looks its cookies up.
const URL3: &str = "http://127.0.0.2/x";

fn mock(
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send>
       + Clone
       + Send
       + Sync
       + 'static {
    tower::service_fn(|_req: Request<Body>| async { Ok(Response::new(Body::from("ok"))) })
}

async fn once<S, B>(svc: &S)
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    once_at(svc, URL).await
}

async fn once_at<S, B>(svc: &S, url: &str)
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let req = Request::get(url).body(Body::empty()).unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
}

/// A group with the settings every mock group uses (calls take about a µs).
fn mock_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(15)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

fn layers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let mut g = mock_group(c, "layer_over_mock");

    // One benchmark of `once` through a service, in group `$g`.
    macro_rules! bench {
        ($g:expr, $name:expr, $svc:expr) => {{
            let svc = $svc;
            $g.bench_function($name, |b| b.to_async(&rt).iter(|| once(&svc)));
        }};
    }

    bench!(g, "bare_mock", mock());
    bench!(
        g,
        "default_headers",
        DefaultHeadersLayer::new(default_headers()).layer(mock())
    );
    bench!(g, "auth_basic", AuthLayer::basic("u", "p").layer(mock()));
    let jar = CookieJar::new();
    let url = Url::parse(URL).unwrap();
    for name in ["a", "b", "c"] {
        jar.set(name, "value", &url).unwrap();
    }
    bench!(g, "cookies_3", CookieLayer::new(jar.clone()).layer(mock()));
    let svc = CookieLayer::new(jar.clone()).layer(mock());
    for (name, other) in [
        ("cookies_3_alternating_paths", URL2),
        ("cookies_3_alternating_hosts", URL3),
    ] {
        let other_url = Url::parse(other).unwrap();
        for name in ["a", "b", "c"] {
            jar.set(name, "value", &other_url).unwrap();
        }
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                i += 1;
                once_at(&svc, if i.is_multiple_of(2) { URL } else { other })
            })
        });
    }
    bench!(
        g,
        "retry_disabled",
        RetryLayer::new(Retry::disabled()).layer(mock())
    );
    bench!(
        g,
        "retry_total_3",
        RetryLayer::new(Retry::new().total(3)).layer(mock())
    );
    bench!(
        g,
        "timeout_attempt",
        TimeoutLayer::new(Duration::from_secs(30)).layer(mock())
    );
    bench!(
        g,
        "timeout_total",
        TotalTimeoutLayer::new(Some(Duration::from_secs(30))).layer(mock())
    );
    bench!(
        g,
        "follow_redirect",
        FollowRedirectLayer::new().layer(mock())
    );
    bench!(g, "decompression", DecompressionLayer::new().layer(mock()));
    g.finish();

    // The default stack's layers added one at a time, bottom up, in src/stack.rs's order (no
    // auth, no timeouts: the default session has neither): where the full stack's cost goes.
    let mut g = mock_group(c, "cumulative_over_mock");
    let retry = || RetryLayer::new(Retry::disabled()).layer(mock());
    let cookies = || CookieLayer::new(CookieJar::new()).layer(retry());
    let redirect = || FollowRedirectLayer::new().max(30).layer(cookies());
    let headers = || DefaultHeadersLayer::new(default_headers()).layer(redirect());
    bench!(g, "1_bare_mock", mock());
    bench!(g, "2_retry", retry());
    bench!(g, "3_plus_cookies_empty_jar", cookies());
    bench!(g, "4_plus_redirect", redirect());
    bench!(g, "5_plus_default_headers", headers());
    bench!(
        g,
        "6_plus_decompression",
        DecompressionLayer::new().layer(headers())
    );
    g.finish();

    // The facade: a prebuilt request through `Session::from_service` (no layers) and through
    // the whole default stack (the mock mounted under it as the transport).
    let mut g = mock_group(c, "session_over_mock");
    let bare = Session::from_service(mock());
    let full = Session::builder().mount("http://", mock()).build().unwrap();
    // The mock as a user layer that replaces the client: the default stack without the mount
    // router a `mount` adds (a real session with no mounts has none).
    let over = |b: tower_requests::SessionBuilder| {
        b.trust_env(false)
            .layer(tower::layer::layer_fn(|_client: BoxService| mock()))
            .build()
            .unwrap()
    };
    let sessions = [
        ("facade_only", bare),
        ("full_default_stack", full),
        ("full_default_stack_no_mount", over(Session::builder())),
        (
            "default_stack_no_cookies",
            over(Session::builder().cookie_store(false)),
        ),
        (
            "default_stack_no_redirects",
            over(Session::builder().redirects(false)),
        ),
        ("full_default_stack_logged_in", {
            // A logged-in session: three cookies in the jar for the URL's host.
            let session = over(Session::builder());
            let url = Url::parse(URL).unwrap();
            for name in ["a", "b", "c"] {
                session.cookies().set(name, "value", &url).unwrap();
            }
            session
        }),
    ];
    for (name, session) in sessions {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let resp = session.get(URL).send().await.unwrap();
                assert_eq!(&resp.bytes().await.unwrap()[..], b"ok");
            })
        });
    }
    g.finish();

    // What the facade does per call besides the layers: the URL parse, the `http::Uri` made
    // from it, and the `Url::parse(uri.to_string())` that `Session::execute` /
    // `Service::call` pay.
    let mut g = c.benchmark_group("facade_parts");
    g.sample_size(15)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let url = Url::parse(URL).unwrap();
    let uri: http::Uri = URL.parse().unwrap();
    g.bench_function("url_parse", |b| {
        b.iter(|| Url::parse(black_box(URL)).unwrap())
    });
    g.bench_function("url_clone", |b| b.iter(|| black_box(&url).clone()));
    g.bench_function("uri_from_url_str", |b| {
        b.iter(|| http::Uri::try_from(black_box(url.as_str())).unwrap())
    });
    g.bench_function("uri_to_string", |b| b.iter(|| black_box(&uri).to_string()));
    g.bench_function("url_parse_of_uri_to_string", |b| {
        b.iter(|| Url::parse(&black_box(&uri).to_string()).unwrap())
    });
    g.bench_function("request_builder_build", |b| {
        let session = Session::from_service(mock());
        b.iter(|| session.get(black_box(URL)).build().unwrap())
    });
    g.finish();
}

/// Profiling mode, outside criterion: `LAYERS_PROFILE=<variant>:<n>` runs `n` calls through
/// one variant and exits, so an instruction counter (`valgrind --tool=callgrind`) sees only
/// that path; the difference between two `n` gives instructions per call.
fn profile(spec: &str) {
    let (variant, n) = spec.split_once(':').expect("LAYERS_PROFILE=<variant>:<n>");
    let n: usize = n.parse().expect("a count");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let session = match variant {
        "facade" => Session::from_service(mock()),
        "full" => Session::builder().mount("http://", mock()).build().unwrap(),
        "full_no_mount" => Session::builder()
            .trust_env(false)
            .layer(tower::layer::layer_fn(|_client: BoxService| mock()))
            .build()
            .unwrap(),
        // A logged-in session: three cookies in the jar for the URL's host; with `_paths`, the
        // calls go to two paths of that host in turn; with `_new_path`, each call to a path of
        // that host not requested before (`/p<i>`, the cookies sent each time); with
        // `_new_host`, each call to a host not seen before (`h<i>.example`, no cookies for it).
        "full_cookies_3"
        | "full_cookies_3_paths"
        | "full_cookies_3_new_path"
        | "full_cookies_3_new_host" => {
            let session = Session::builder()
                .trust_env(false)
                .layer(tower::layer::layer_fn(|_client: BoxService| mock()))
                .build()
                .unwrap();
            let url = Url::parse(URL).unwrap();
            for name in ["a", "b", "c"] {
                session.cookies().set(name, "value", &url).unwrap();
            }
            if variant.ends_with("new_path") || variant.ends_with("new_host") {
                let urls: Vec<String> = (0..n)
                    .map(|i| {
                        if variant.ends_with("new_path") {
                            format!("http://127.0.0.1/p{i}")
                        } else {
                            format!("http://h{i}.example/x")
                        }
                    })
                    .collect();
                rt.block_on(async {
                    for url in &urls {
                        let resp = session.get(url).send().await.unwrap();
                        assert_eq!(&resp.bytes().await.unwrap()[..], b"ok");
                    }
                });
                return;
            }
            if variant.ends_with("paths") {
                rt.block_on(async {
                    for i in 0..n {
                        let url = if i.is_multiple_of(2) { URL } else { URL2 };
                        let resp = session.get(url).send().await.unwrap();
                        assert_eq!(&resp.bytes().await.unwrap()[..], b"ok");
                    }
                });
                return;
            }
            session
        }
        layer => {
            macro_rules! run {
                ($svc:expr) => {{
                    let svc = $svc;
                    rt.block_on(async {
                        for _ in 0..n {
                            once(&svc).await;
                        }
                    });
                    return;
                }};
            }
            match layer {
                "bare" => run!(mock()),
                "default_headers" => {
                    run!(DefaultHeadersLayer::new(default_headers()).layer(mock()))
                }
                "auth_basic" => run!(AuthLayer::basic("u", "p").layer(mock())),
                "cookies_3" => {
                    let jar = CookieJar::new();
                    let url = Url::parse(URL).unwrap();
                    for name in ["a", "b", "c"] {
                        jar.set(name, "value", &url).unwrap();
                    }
                    run!(CookieLayer::new(jar).layer(mock()))
                }
                "cookies_3_alternating_paths" | "cookies_3_alternating_hosts" => {
                    let other = if layer.ends_with("paths") { URL2 } else { URL3 };
                    let jar = CookieJar::new();
                    for url in [URL, other] {
                        let url = Url::parse(url).unwrap();
                        for name in ["a", "b", "c"] {
                            jar.set(name, "value", &url).unwrap();
                        }
                    }
                    let svc = CookieLayer::new(jar).layer(mock());
                    rt.block_on(async {
                        for i in 0..n {
                            once_at(&svc, if i.is_multiple_of(2) { URL } else { other }).await;
                        }
                    });
                    return;
                }
                "retry_disabled" => run!(RetryLayer::new(Retry::disabled()).layer(mock())),
                "retry_total_3" => run!(RetryLayer::new(Retry::new().total(3)).layer(mock())),
                "timeout_attempt" => run!(TimeoutLayer::new(Duration::from_secs(30)).layer(mock())),
                "timeout_total" => {
                    run!(TotalTimeoutLayer::new(Some(Duration::from_secs(30))).layer(mock()))
                }
                "follow_redirect" => run!(FollowRedirectLayer::new().layer(mock())),
                "decompression" => run!(DecompressionLayer::new().layer(mock())),
                other => panic!(
                    "unknown variant {other}: facade, full, full_no_mount, full_cookies_3, full_cookies_3_paths, \
                     full_cookies_3_new_path, full_cookies_3_new_host, bare, default_headers, \
                     auth_basic, cookies_3, cookies_3_alternating_paths, cookies_3_alternating_hosts, retry_disabled, retry_total_3, timeout_attempt, \
                     timeout_total, follow_redirect, decompression"
                ),
            }
        }
    };
    rt.block_on(async {
        for _ in 0..n {
            let resp = session.get(URL).send().await.unwrap();
            assert_eq!(&resp.bytes().await.unwrap()[..], b"ok");
        }
    });
}

criterion_group!(benches, layers);

fn main() {
    if let Ok(spec) = std::env::var("LAYERS_PROFILE") {
        return profile(&spec);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
