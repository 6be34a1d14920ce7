//! Cookie jar speed: 10 000 cookies over 1 000 domains; building the Cookie header
//! for one URL and storing one Set-Cookie must stay in the microseconds (≤ 5 µs median).
//! `cargo bench --bench cookies`; with `--features cookie-store`, the same over the backend on the
//! `cookie_store` crate, for comparison.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderValue;
use tower_requests::layers::cookie::{CookieJar, CookieLimits};
use tower_requests::Url;

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

#[cfg(not(feature = "cookie-store"))]
criterion_group!(benches, cookies);
#[cfg(feature = "cookie-store")]
criterion_group!(benches, cookies, cookies_cookie_store);
criterion_main!(benches);
