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
