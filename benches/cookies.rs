//! Cookie jar speed: 10 000 cookies over 1 000 domains; building the Cookie header
//! for one URL and storing one Set-Cookie must stay in the microseconds (≤ 5 µs median).
//! `cargo bench --bench cookies`; with `--features cookie-store`, the same over the backend on the
//! `cookie_store` crate, for comparison. `COOKIES_PROFILE=<case>:<n>` is a profiling mode (see
//! [`profile`]).

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use http::HeaderValue;
use tower_requests::layers::cookie::{CookieJar, CookieLimits};
use tower_requests::{Body, BoxService, Session, Url};

fn filled_jar() -> CookieJar {
    fill(CookieJar::with_limits(
        CookieLimits::default().max_total(20_000),
    ))
}

fn fill(jar: CookieJar) -> CookieJar {
    for d in 0..1_000 {
        let url = Url::parse(&format!("https://www.site{d}.example.com/app/page")).unwrap();
        for c in 0..10 {
            let line = match c % 3 {
                0 => format!("c{c}=v{c}; Path=/"),
                1 => format!("c{c}=v{c}; Path=/app; Domain=site{d}.example.com"),
                _ => format!("c{c}=v{c}; Path=/app/page; Secure; HttpOnly"),
            };
            jar.insert_raw(&line, &url).unwrap();
        }
    }
    assert_eq!(jar.len(), 10_000);
    jar
}

fn cookies(c: &mut Criterion) {
    let jar = filled_jar();
    let hit = Url::parse("https://www.site500.example.com/app/page?q=1").unwrap();
    let miss = Url::parse("https://nowhere.test/").unwrap();
    c.bench_function("cookie_header_10k_jar_hit", |b| {
        b.iter(|| {
            let h = jar.cookie_header(black_box(&hit)).unwrap();
            black_box(h)
        })
    });
    c.bench_function("cookie_header_10k_jar_miss", |b| {
        b.iter(|| black_box(jar.cookie_header(black_box(&miss))))
    });
    let value =
        HeaderValue::from_static("session=abcdef0123456789; Path=/; HttpOnly; SameSite=Lax");
    c.bench_function("store_one_set_cookie_10k_jar", |b| {
        b.iter(|| jar.store_response_cookies(black_box(&hit), std::iter::once(&value)))
    });
}

/// The same three over the `cookie_store` backend (no caps to lift).
#[cfg(feature = "cookie-store")]
fn cookies_cookie_store(c: &mut Criterion) {
    use tower_requests::layers::cookie::CookieStoreBackend;
    let jar = fill(CookieJar::with_store(CookieStoreBackend::new()));
    let hit = Url::parse("https://www.site500.example.com/app/page?q=1").unwrap();
    let miss = Url::parse("https://nowhere.test/").unwrap();
    c.bench_function("cookie_store_backend/cookie_header_10k_jar_hit", |b| {
        b.iter(|| black_box(jar.cookie_header(black_box(&hit)).unwrap()))
    });
    c.bench_function("cookie_store_backend/cookie_header_10k_jar_miss", |b| {
        b.iter(|| black_box(jar.cookie_header(black_box(&miss))))
    });
    let value =
        HeaderValue::from_static("session=abcdef0123456789; Path=/; HttpOnly; SameSite=Lax");
    c.bench_function("cookie_store_backend/store_one_set_cookie_10k_jar", |b| {
        b.iter(|| jar.store_response_cookies(black_box(&hit), std::iter::once(&value)))
    });
}

/// Profiling mode, outside criterion: `COOKIES_PROFILE=<case>:<n>` fills the 10 000-cookie jar,
/// runs `n` operations and exits, for `valgrind --tool=callgrind`; the difference between two `n`
/// is the cost of one. Cases:
/// - `request`: a default session (full stack, a mock answering `ok` as its transport) with that
///   jar, each request to another of the 1 000 domains than the last (`https://www.site<d>.
///   example.com/app/page`, all 10 of the domain's cookies sent), its Cookie header built;
/// - `header`: the jar's Cookie header alone for the same sequence of URLs;
/// - `store`: one Set-Cookie stored, for one of the domains, its value changed each time;
/// - `store_same`: the same Set-Cookie line stored again each time.
fn profile(spec: &str) {
    let (case, n) = spec.split_once(':').expect("COOKIES_PROFILE=<case>:<n>");
    let n: usize = n.parse().expect("a count");
    let jar = filled_jar();
    // Domain 0, 7, 14, ... (mod 1 000): each URL another domain than the one before.
    let urls: Vec<Url> = (0..n)
        .map(|i| {
            let d = i * 7 % 1_000;
            Url::parse(&format!("https://www.site{d}.example.com/app/page")).unwrap()
        })
        .collect();
    match case {
        "request" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _guard = rt.enter();
            let mock = tower::service_fn(|req: http::Request<Body>| async move {
                assert!(req.headers().contains_key(http::header::COOKIE));
                Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("ok")))
            });
            let session = Session::builder()
                .trust_env(false)
                .cookie_jar(jar)
                .layer(tower::layer::layer_fn(move |_client: BoxService| mock))
                .build()
                .unwrap();
            rt.block_on(async {
                for url in &urls {
                    let resp = session.get(url.as_str()).send().await.unwrap();
                    assert_eq!(&resp.bytes().await.unwrap()[..], b"ok");
                }
            });
        }
        "header" => {
            for url in &urls {
                black_box(jar.cookie_header(black_box(url)).unwrap());
            }
        }
        "store" => {
            let url = &urls[0];
            let values: Vec<HeaderValue> = (0..n)
                .map(|i| {
                    HeaderValue::try_from(format!("session=v{i}; Path=/; HttpOnly; SameSite=Lax"))
                        .unwrap()
                })
                .collect();
            for value in &values {
                jar.store_response_cookies(black_box(url), std::iter::once(value));
            }
        }
        "store_same" => {
            let value = HeaderValue::from_static(
                "session=abcdef0123456789; Path=/; HttpOnly; SameSite=Lax",
            );
            for _ in 0..n {
                jar.store_response_cookies(black_box(&urls[0]), std::iter::once(&value));
            }
        }
        other => panic!("unknown case {other}: request, header, store, store_same"),
    }
}

#[cfg(not(feature = "cookie-store"))]
criterion_group!(benches, cookies);
#[cfg(feature = "cookie-store")]
criterion_group!(benches, cookies, cookies_cookie_store);

fn main() {
    if let Ok(spec) = std::env::var("COOKIES_PROFILE") {
        return profile(&spec);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
