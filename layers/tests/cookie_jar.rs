//! CookieJar shared across many tasks.
#![cfg(feature = "cookies")]

use tower_requests_layers::cookie::CookieJar;
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_one_jar_no_loss_no_deadlock() {
    let jar = CookieJar::new();
    let mut tasks = Vec::new();
    for t in 0..64 {
        let jar = jar.clone();
        tasks.push(tokio::spawn(async move {
            let url = Url::parse(&format!("https://t{t}.example.com/")).unwrap();
            for i in 0..20 {
                jar.set(&format!("c{i}"), &format!("{t}-{i}"), &url)
                    .unwrap();
                let header = jar.cookie_header(&url).unwrap();
                assert!(header.to_str().unwrap().contains(&format!("c{i}={t}-{i}")));
                // Readers of the whole jar at the same time.
                if i % 5 == 0 {
                    let _ = jar.get_dict();
                    let _ = jar.iter().count();
                }
                tokio::task::yield_now().await;
            }
            let header = jar.cookie_header(&url).unwrap();
            assert_eq!(header.to_str().unwrap().split("; ").count(), 20);
        }));
    }
    let all = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await;
    assert!(all.is_ok(), "deadlock or starvation");
    assert_eq!(jar.len(), 64 * 20);
    assert_eq!(jar.iter().filter(|c| c.name() == "c7").count(), 64);
}

#[test]
fn jar_is_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<CookieJar>();
    assert_traits::<tower_requests_layers::cookie::CookieLayer>();
}

#[test]
fn separate_jars_never_share() {
    let a = CookieJar::new();
    let b = CookieJar::new();
    let url = Url::parse("https://example.com/").unwrap();
    a.insert_raw("a=1; Domain=example.com", &url).unwrap();
    b.insert_raw("b=2", &url).unwrap();
    assert_eq!(a.cookie_header(&url).unwrap(), "a=1");
    assert_eq!(b.cookie_header(&url).unwrap(), "b=2");
    b.clear();
    assert_eq!(a.len(), 1);
}

/// What the module docs say about the backend over `cookie_store` 0.22, next to the default
/// store, each claim checked: no bundled public suffix list, no prefix rules, no caps, expired
/// cookies kept, Secure accepted from plain http, and (when sending) localhost and loopback
/// treated as secure.
#[cfg(feature = "cookie-store")]
#[test]
fn cookie_store_backend_differences() {
    use tower_requests_layers::cookie::{CookieStoreBackend, DefaultCookieStore};

    let ours = CookieJar::with_store(DefaultCookieStore::new());
    let backend = std::sync::Arc::new(CookieStoreBackend::new());
    let theirs = CookieJar::with_store(backend.clone());
    let u = |s: &str| Url::parse(s).unwrap();

    // No bundled public suffix list: a cookie for all of `com`.
    let site = u("https://example.com/");
    assert!(ours.insert_raw("psl=1; Domain=com", &site).is_err());
    theirs.insert_raw("psl=1; Domain=com", &site).unwrap();
    assert_eq!(
        theirs.cookie_header(&u("https://other.com/")).unwrap(),
        "psl=1"
    );
    theirs.clear();

    // No `__Host-` / `__Secure-` rules.
    assert!(ours.insert_raw("__Host-a=1; Path=/", &site).is_err());
    theirs.insert_raw("__Host-a=1; Path=/", &site).unwrap();
    theirs.clear();

    // Secure cookies from plain http.
    let plain = u("http://example.com/");
    assert!(ours.insert_raw("s=1; Secure", &plain).is_err());
    theirs.insert_raw("s=1; Secure", &plain).unwrap();
    theirs.clear();

    // No caps: 60 cookies for one domain (the default store keeps 50).
    for i in 0..60 {
        ours.insert_raw(&format!("c{i}=1"), &site).unwrap();
        theirs.insert_raw(&format!("c{i}=1"), &site).unwrap();
    }
    assert_eq!((ours.len(), theirs.len()), (50, 60));
    ours.clear();
    theirs.clear();

    // A deletion leaves the expired cookie in cookie_store (out of listings, still held).
    theirs.insert_raw("gone=1", &site).unwrap();
    theirs.insert_raw("gone=1; Max-Age=0", &site).unwrap();
    assert!(theirs.is_empty());
    assert_eq!(backend.with_inner(|s| s.iter_any().count()), 1);
    theirs.clear();

    // Sending: both treat localhost and loopback as secure (cookie_store: `localhost` itself,
    // not its subdomains).
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let secure = u(&format!("https://{host}/"));
        let plain = u(&format!("http://{host}/"));
        ours.insert_raw("s=1; Secure", &secure).unwrap();
        theirs.insert_raw("s=1; Secure", &secure).unwrap();
        assert_eq!(ours.cookie_header(&plain).unwrap(), "s=1", "{host}");
        assert_eq!(theirs.cookie_header(&plain).unwrap(), "s=1", "{host}");
    }
    ours.insert_raw("s=1; Secure", &u("https://app.localhost/"))
        .unwrap();
    theirs
        .insert_raw("s=1; Secure", &u("https://app.localhost/"))
        .unwrap();
    assert!(ours.cookie_header(&u("http://app.localhost/")).is_some());
    assert!(theirs.cookie_header(&u("http://app.localhost/")).is_none());
}
