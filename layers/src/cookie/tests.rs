//! Unit tests of the jar rules (with an injected clock where time matters).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;
use url::Url;

use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn header(jar: &CookieJar, u: &str) -> Option<String> {
    jar.cookie_header(&url(u))
        .map(|h| h.to_str().unwrap().to_string())
}

fn check(jar: &CookieJar) {
    jar.lock().check_invariants();
}

#[test]
fn public_suffix_domains_rejected() {
    let jar = CookieJar::new();
    let u = url("https://a.example.com/");
    let e = jar.insert_raw("x=1; Domain=com", &u).unwrap_err();
    assert!(
        matches!(e, CookieError::PublicSuffix(ref d) if d == "com"),
        "{e}"
    );
    let e = jar
        .insert_raw("x=1; Domain=co.uk", &url("https://a.example.co.uk/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::PublicSuffix(_)), "{e}");
    let e = jar
        .insert_raw("x=1; Domain=github.io", &url("https://me.github.io/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::PublicSuffix(_)), "{e}");
    assert!(jar.is_empty());

    jar.insert_raw("x=1; Domain=.Example.COM", &u).unwrap();
    let c = jar.iter().next().unwrap();
    assert_eq!(c.domain(), "example.com");
    assert!(!c.host_only());
    assert_eq!(
        header(&jar, "https://b.example.com/").as_deref(),
        Some("x=1")
    );
    assert_eq!(header(&jar, "https://example.com/").as_deref(), Some("x=1"));
    assert_eq!(header(&jar, "https://notexample.com/"), None);
    check(&jar);
}

#[test]
fn public_suffix_equal_to_host_is_host_only() {
    // A Domain equal to the host that is itself a public suffix becomes host-only.
    let jar = CookieJar::new();
    jar.insert_raw("x=1; Domain=github.io", &url("https://github.io/"))
        .unwrap();
    assert!(jar.iter().next().unwrap().host_only());
    assert_eq!(header(&jar, "https://me.github.io/"), None);
    assert_eq!(header(&jar, "https://github.io/").as_deref(), Some("x=1"));
}

#[test]
fn domain_must_cover_host() {
    let jar = CookieJar::new();
    let e = jar
        .insert_raw("x=1; Domain=other.com", &url("https://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::DomainMismatch { .. }), "{e}");
    let e = jar
        .insert_raw("x=1; Domain=a.example.com", &url("https://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::DomainMismatch { .. }), "{e}");
    assert!(jar.is_empty());
}

#[test]
fn host_only_vs_domain() {
    let jar = CookieJar::new();
    jar.insert_raw("host=1", &url("https://example.com/"))
        .unwrap();
    jar.insert_raw("dom=2; Domain=example.com", &url("https://example.com/"))
        .unwrap();
    assert_eq!(
        header(&jar, "https://example.com/").as_deref(),
        Some("host=1; dom=2")
    );
    assert_eq!(
        header(&jar, "https://sub.example.com/").as_deref(),
        Some("dom=2")
    );
    // Same name/domain/path: the domain cookie replaces the host-only one (RFC 6265 identity).
    jar.insert_raw("host=3; Domain=example.com", &url("https://example.com/"))
        .unwrap();
    assert_eq!(jar.len(), 2);
    assert_eq!(
        header(&jar, "https://sub.example.com/").as_deref(),
        Some("host=3; dom=2")
    );
    check(&jar);
}

#[test]
fn default_path_and_path_matching() {
    let jar = CookieJar::new();
    jar.insert_raw("a=1", &url("https://example.com/docs/page"))
        .unwrap();
    jar.insert_raw("b=2; Path=/docs/", &url("https://example.com/"))
        .unwrap();
    jar.insert_raw("c=3; Path=relative", &url("https://example.com/x/y"))
        .unwrap();
    let paths: Vec<_> = jar.iter().map(|c| c.path().to_string()).collect();
    assert_eq!(paths, ["/docs", "/docs/", "/x"]);
    assert_eq!(
        header(&jar, "https://example.com/docs").as_deref(),
        Some("a=1")
    );
    assert_eq!(
        header(&jar, "https://example.com/docs/x").as_deref(),
        Some("b=2; a=1")
    );
    assert_eq!(header(&jar, "https://example.com/docsx"), None);
    assert_eq!(header(&jar, "https://example.com/"), None);
    assert_eq!(
        header(&jar, "https://example.com/x/z").as_deref(),
        Some("c=3")
    );
}

#[test]
fn header_order_longest_path_then_creation() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    jar.insert_raw("first=1; Path=/", &u).unwrap();
    jar.insert_raw("deep=2; Path=/a/b", &u).unwrap();
    jar.insert_raw("mid=3; Path=/a", &u).unwrap();
    jar.insert_raw("second=4; Path=/", &u).unwrap();
    // Replacing keeps the creation time, so `first` stays first among "/".
    jar.insert_raw("first=5; Path=/", &u).unwrap();
    assert_eq!(
        header(&jar, "https://example.com/a/b/c").as_deref(),
        Some("deep=2; mid=3; first=5; second=4")
    );
}

#[test]
fn max_age_beats_expires_and_deletion() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    jar.insert_raw(
        "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600",
        &u,
    )
    .unwrap();
    assert_eq!(jar.get("a").as_deref(), Some("1"));
    jar.insert_raw("a=1; Max-Age=0", &u).unwrap();
    assert_eq!(jar.get("a"), None);
    jar.insert_raw("b=1; Max-Age=3600", &u).unwrap();
    jar.insert_raw("b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", &u)
        .unwrap();
    assert!(jar.is_empty());
    jar.insert_raw("c=1", &u).unwrap();
    jar.insert_raw("c=1; Max-Age=-1", &u).unwrap();
    assert!(jar.is_empty());
    check(&jar);
}

#[test]
fn expired_cookies_leave_the_jar() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    jar.insert_at("short=1; Max-Age=10", &u, t0).unwrap();
    jar.insert_at("long=2; Max-Age=100", &u, t0).unwrap();
    jar.insert_at("session=3", &u, t0).unwrap();
    assert_eq!(
        jar.cookie_header_at(&u, t0 + Duration::from_secs(5))
            .unwrap(),
        "short=1; long=2; session=3"
    );
    assert_eq!(
        jar.cookie_header_at(&u, t0 + Duration::from_secs(10))
            .unwrap(),
        "long=2; session=3"
    );
    // Gone from the store, not just from headers.
    assert_eq!(jar.lock().len(), 2);
    let names: Vec<_> = jar
        .snapshot_at(t0 + Duration::from_secs(200))
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["session"]);
    check(&jar);
}

#[test]
fn secure_cookies_and_trustworthy_origins() {
    let jar = CookieJar::new();
    let e = jar
        .insert_raw("s=1; Secure", &url("http://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::InsecureOrigin), "{e}");
    jar.insert_raw("s=1; Secure", &url("https://example.com/"))
        .unwrap();
    jar.insert_raw("p=2", &url("https://example.com/")).unwrap();
    assert_eq!(
        header(&jar, "https://example.com/").as_deref(),
        Some("s=1; p=2")
    );
    assert_eq!(header(&jar, "http://example.com/").as_deref(), Some("p=2"));
    // A plain-http origin cannot overwrite or shadow the Secure cookie.
    let e = jar
        .insert_raw("s=evil", &url("http://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::ShadowsSecureCookie), "{e}");
    let e = jar
        .insert_raw("s=evil; Path=/sub", &url("http://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::ShadowsSecureCookie), "{e}");
    assert_eq!(jar.get("s").as_deref(), Some("1"));

    for host in ["localhost", "127.0.0.1", "[::1]", "app.localhost"] {
        let jar = CookieJar::new();
        let u = url(&format!("http://{host}:8080/"));
        jar.insert_raw("s=1; Secure", &u).unwrap();
        assert_eq!(
            header(&jar, &format!("http://{host}:8080/")).as_deref(),
            Some("s=1")
        );
    }
}

#[test]
fn prefixes() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    let e = jar.insert_raw("__Secure-a=1", &u).unwrap_err();
    assert!(
        matches!(
            e,
            CookieError::Prefix {
                prefix: "__Secure-",
                ..
            }
        ),
        "{e}"
    );
    jar.insert_raw("__Secure-a=1; Secure", &u).unwrap();
    assert!(jar.insert_raw("__secure-b=1", &u).is_err());

    assert!(jar.insert_raw("__Host-a=1; Path=/", &u).is_err());
    assert!(jar
        .insert_raw("__Host-a=1; Secure; Path=/; Domain=example.com", &u)
        .is_err());
    assert!(jar.insert_raw("__Host-a=1; Secure; Path=/x", &u).is_err());
    assert!(jar.insert_raw("__Host-a=1; Secure", &u).is_err());
    assert!(jar
        .insert_raw("__HOST-a=1; Secure; Domain=example.com; Path=/", &u)
        .is_err());
    jar.insert_raw("__Host-a=1; Secure; Path=/", &u).unwrap();
    // Secure prefix cookies from plain http are impossible.
    assert!(jar
        .insert_raw("__Secure-c=1; Secure", &url("http://example.com/"))
        .is_err());
    // Name-less cookies may not look prefixed.
    assert!(jar.insert_raw("__Host-x", &u).is_err());
    assert!(jar.insert_raw("=__Secure-x; Secure", &u).is_err());
    assert_eq!(jar.len(), 2);
}

#[test]
fn control_characters_rejected() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    for line in ["a=b\0c", "a\r=b", "a=b\nc", "a=b\x7f", "a=b; Path=/\x01"] {
        let e = jar.insert_raw(line, &u).unwrap_err();
        assert!(matches!(e, CookieError::ControlCharacter), "{line:?}: {e}");
    }
    jar.insert_raw("a=b\tc", &u).unwrap();
    assert_eq!(jar.get("a").as_deref(), Some("b\tc"));
    assert!(jar.set("x\0", "1", &u).is_err());
    assert!(jar.set("x", "1\n", &u).is_err());
    assert!(jar.set("x=y", "1", &u).is_err());
    assert!(jar.set("", "1", &u).is_err());
    assert!(jar.set("x", "a;b", &u).is_err());
}

#[test]
fn nameless_cookies() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    jar.insert_raw("token123", &u).unwrap();
    jar.insert_raw("n=v", &u).unwrap();
    assert_eq!(
        header(&jar, "https://example.com/").as_deref(),
        Some("token123; n=v")
    );
    // Same (empty) name: replaced.
    jar.insert_raw("=other", &u).unwrap();
    assert_eq!(
        header(&jar, "https://example.com/").as_deref(),
        Some("other; n=v")
    );
}

#[test]
fn size_cap() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    let ok = format!("n={}", "v".repeat(4095));
    jar.insert_raw(&ok, &u).unwrap();
    let big = format!("n={}", "v".repeat(4096));
    let e = jar.insert_raw(&big, &u).unwrap_err();
    assert!(
        matches!(
            e,
            CookieError::TooLarge {
                size: 4097,
                limit: 4096
            }
        ),
        "{e}"
    );
    assert_eq!(jar.get("n").map(|v| v.len()), Some(4095));
}

#[test]
fn per_domain_cap_evicts_oldest() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    for i in 0..55 {
        jar.insert_raw(&format!("c{i}={i}"), &u).unwrap();
    }
    assert_eq!(jar.len(), 50);
    assert_eq!(jar.get("c4"), None);
    assert_eq!(jar.get("c5").as_deref(), Some("5"));
    assert_eq!(jar.get("c54").as_deref(), Some("54"));
    // Other domains are not affected.
    jar.insert_raw("o=1", &url("https://other.com/")).unwrap();
    assert_eq!(jar.len(), 51);
    check(&jar);
}

#[test]
fn total_cap_evicts_oldest() {
    let jar = CookieJar::new();
    for d in 0..100 {
        let u = url(&format!("https://d{d}.example/"));
        for i in 0..31 {
            jar.insert_raw(&format!("c{d}_{i}=1"), &u).unwrap();
        }
    }
    assert_eq!(jar.len(), 3000);
    // 3100 stored; the 100 oldest (31 each of d0, d1, d2, then 7 of d3) were evicted.
    assert_eq!(jar.get("c0_0"), None);
    assert_eq!(jar.get("c3_6"), None);
    assert_eq!(jar.get("c3_7").as_deref(), Some("1"));
    assert_eq!(header(&jar, "https://d0.example/"), None);
    check(&jar);

    let small = CookieJar::with_limits(CookieLimits::default().max_total(3));
    for i in 0..5 {
        small
            .insert_raw(&format!("k{i}=1"), &url("https://x.example/"))
            .unwrap();
    }
    let names: Vec<_> = small.iter().map(|c| c.name().to_string()).collect();
    assert_eq!(names, ["k2", "k3", "k4"]);
}

#[test]
fn ip_hosts_are_host_only() {
    let jar = CookieJar::new();
    jar.insert_raw("a=1; Domain=127.0.0.1", &url("http://127.0.0.1:8000/"))
        .unwrap();
    let e = jar
        .insert_raw("b=1; Domain=0.1", &url("http://127.0.0.1/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::DomainMismatch { .. }), "{e}");
    assert!(jar
        .insert_raw("b=1; Domain=1", &url("http://127.0.0.1/"))
        .is_err());
    let c = jar.iter().next().unwrap();
    assert!(c.host_only());
    assert_eq!(c.domain(), "127.0.0.1");
    // Port is not part of cookie scope.
    assert_eq!(
        header(&jar, "http://127.0.0.1:9000/").as_deref(),
        Some("a=1")
    );
    assert_eq!(header(&jar, "http://127.0.0.2/"), None);
    assert_eq!(header(&jar, "http://0.0.1/"), None);
}

#[test]
fn same_site_is_kept() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    jar.insert_raw("a=1; SameSite=Strict", &u).unwrap();
    jar.insert_raw("b=1; samesite=none; Secure", &u).unwrap();
    jar.insert_raw("c=1", &u).unwrap();
    let ss: Vec<_> = jar.iter().map(|c| c.same_site()).collect();
    assert_eq!(ss, [Some(SameSite::Strict), Some(SameSite::None), None]);
}

#[test]
fn response_cookies_in_order() {
    let jar = CookieJar::new();
    let u = url("https://example.com/");
    let values = [
        HeaderValue::from_static("a=1"),
        HeaderValue::from_static("b=1"),
        HeaderValue::from_static("a=; Max-Age=0"),
        HeaderValue::from_static("bad=1; Domain=com"),
        HeaderValue::from_bytes(b"bin=\xff").unwrap(),
        HeaderValue::from_static("b=2"),
    ];
    jar.store_response_cookies(&u, values.iter());
    assert_eq!(
        jar.get_dict().into_iter().collect::<Vec<_>>(),
        [("b".into(), "2".into())]
    );
}

#[test]
fn remove_remove_exact_clear() {
    let jar = CookieJar::new();
    jar.insert_raw("a=1; Path=/x", &url("https://example.com/"))
        .unwrap();
    jar.insert_raw("a=2", &url("https://other.com/")).unwrap();
    jar.insert_raw("b=3", &url("https://other.com/")).unwrap();
    jar.insert_raw("b=4; Domain=example.com", &url("https://example.com/"))
        .unwrap();
    assert!(!jar.remove_exact("example.com", "/", "a"));
    assert!(jar.remove_exact(".EXAMPLE.com", "/", "b"));
    assert_eq!(jar.len(), 3);
    assert_eq!(jar.remove("a"), 2);
    assert_eq!(jar.get_dict().len(), 1);
    jar.clear();
    assert!(jar.is_empty());
    check(&jar);
}

#[test]
fn clones_share_jars_do_not() {
    let a = CookieJar::new();
    let a2 = a.clone();
    let b = CookieJar::new();
    a.set("x", "1", &url("http://example.com/")).unwrap();
    assert!(a.same_jar(&a2) && !a.same_jar(&b));
    assert_eq!(a2.get("x").as_deref(), Some("1"));
    assert!(b.is_empty());
    assert_eq!(header(&b, "http://example.com/"), None);
}

#[test]
fn set_is_host_only_root_path() {
    let jar = CookieJar::new();
    jar.set("k", "v", &url("http://example.com/a/b")).unwrap();
    let c = jar.iter().next().unwrap();
    assert_eq!(
        (c.domain(), c.path(), c.host_only(), c.secure()),
        ("example.com", "/", true, false)
    );
    assert!(c.is_session());
    assert_eq!(
        header(&jar, "http://example.com/zzz").as_deref(),
        Some("k=v")
    );
    assert_eq!(header(&jar, "http://sub.example.com/"), None);
    assert!(matches!(
        jar.set("k", "v", &url("data:text/plain,hi")),
        Err(CookieError::NoHost)
    ));
}

#[test]
fn parse_set_cookie_for_response_cookies() {
    let u = url("https://a.example.com/");
    let c = parse_set_cookie(
        &HeaderValue::from_static("x=1; Domain=example.com; HttpOnly"),
        &u,
    )
    .unwrap();
    assert_eq!((c.name(), c.value(), c.domain()), ("x", "1", "example.com"));
    assert!(c.http_only() && !c.host_only() && !c.is_expired());
    assert!(
        parse_set_cookie(&HeaderValue::from_static("x=1; Max-Age=0"), &u)
            .unwrap()
            .is_expired()
    );
    assert!(parse_set_cookie(&HeaderValue::from_static("x=1; Domain=com"), &u).is_err());
}

#[test]
fn expires_capped_at_400_days() {
    let jar = CookieJar::new();
    jar.insert_raw(
        "a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        &url("https://example.com/"),
    )
    .unwrap();
    let exp = jar.iter().next().unwrap().expires().unwrap();
    assert!(exp <= SystemTime::now() + Duration::from_secs(400 * 86400 + 5));
}

/// More matches than the store gathers on the stack (16): same order rules, same header.
#[test]
fn header_order_holds_past_the_inline_matches() {
    let jar = CookieJar::new();
    let u = url("http://example.com/a/b/c");
    let paths = ["/", "/a", "/a/b", "/a/b/c"];
    let mut expected: Vec<(usize, usize, String)> = Vec::new();
    for i in 0..40 {
        let path = paths[i % paths.len()];
        jar.insert_raw(&format!("k{i}=v{i}; Path={path}"), &u)
            .unwrap();
        expected.push((path.len(), i, format!("k{i}=v{i}")));
    }
    // Longest path first, then earliest creation.
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let want: Vec<String> = expected.into_iter().map(|e| e.2).collect();
    assert_eq!(jar.cookie_header(&u).unwrap(), want.join("; ").as_str());
    // A request that matches fewer than 16 (only the ten Path=/ cookies): the inline path.
    let few = url("http://example.com/x");
    let want: Vec<String> = (0..40).step_by(4).map(|i| format!("k{i}=v{i}")).collect();
    assert_eq!(jar.cookie_header(&few).unwrap(), want.join("; ").as_str());
}

fn uri_header(jar: &CookieJar, u: &str) -> Option<String> {
    let uri: http::Uri = u.parse().unwrap();
    jar.cookie_header_for_uri(&uri)
        .map(|h| h.to_str().unwrap().to_string())
}

/// The header kept for the last URI is never stale: every change to the jar shows at once, and
/// another URI (path, scheme, host) gets its own answer.
#[test]
fn kept_header_follows_every_change() {
    let jar = CookieJar::new();
    let u = url("http://h.test/");
    jar.insert_raw("a=1", &u).unwrap();
    let at = "http://h.test/app/x";
    assert_eq!(uri_header(&jar, at).as_deref(), Some("a=1"));
    assert_eq!(uri_header(&jar, at).as_deref(), Some("a=1"));
    jar.insert_raw("b=2; Path=/app", &u).unwrap();
    assert_eq!(uri_header(&jar, at).as_deref(), Some("b=2; a=1"));
    jar.insert_raw("a=changed", &u).unwrap();
    assert_eq!(uri_header(&jar, at).as_deref(), Some("b=2; a=changed"));
    // Other paths, schemes and hosts are not served the kept header.
    assert_eq!(
        uri_header(&jar, "http://h.test/other").as_deref(),
        Some("a=changed")
    );
    jar.insert_raw("s=1; Secure", &url("https://h.test/"))
        .unwrap();
    assert_eq!(uri_header(&jar, at).as_deref(), Some("b=2; a=changed"));
    assert_eq!(
        uri_header(&jar, "https://h.test/app/x").as_deref(),
        Some("b=2; a=changed; s=1")
    );
    assert_eq!(uri_header(&jar, "http://other.test/app/x"), None);
    assert_eq!(uri_header(&jar, at).as_deref(), Some("b=2; a=changed"));
    // Removals.
    assert_eq!(jar.remove("b"), 1);
    assert_eq!(uri_header(&jar, at).as_deref(), Some("a=changed"));
    assert!(jar.remove_exact("h.test", "/", "a"));
    jar.insert_raw("c=3", &u).unwrap();
    assert_eq!(uri_header(&jar, at).as_deref(), Some("c=3"));
    jar.clear();
    assert_eq!(uri_header(&jar, at), None);
    // A deletion by the server (expired Set-Cookie).
    jar.insert_raw("d=4", &u).unwrap();
    assert_eq!(uri_header(&jar, at).as_deref(), Some("d=4"));
    jar.insert_raw("d=; Max-Age=0", &u).unwrap();
    assert_eq!(uri_header(&jar, at), None);
}

fn kept(jar: &CookieJar, u: &str) -> Option<Option<HeaderValue>> {
    jar.lock().kept_header(&u.parse().unwrap())
}

/// A logged-in site answers every response with the same Set-Cookie line. Storing it again
/// changes nothing (the store is not touched, and the Cookie header kept for the next request
/// stays), unless the store changed since; a relative Max-Age moves only the expiry.
#[test]
fn the_same_set_cookie_again_changes_nothing_but_a_relative_expiry() {
    let jar = CookieJar::new();
    let at = "http://h.test/app/x";
    let u = url(at);
    let store = |line: &'static str, u: &Url| {
        jar.store_response_cookies(u, std::iter::once(&HeaderValue::from_static(line)))
    };
    let line = "sid=abc; Path=/; HttpOnly";
    store(line, &u);
    assert_eq!(uri_header(&jar, at).as_deref(), Some("sid=abc"));
    assert_eq!(uri_header(&jar, at).as_deref(), Some("sid=abc"));
    assert!(kept(&jar, at).is_some());
    let generation = jar.lock().generation();
    store(line, &u);
    store(line, &u);
    assert_eq!(jar.lock().generation(), generation, "nothing stored again");
    assert!(kept(&jar, at).is_some(), "the kept header stays");
    check(&jar);

    // A new value is stored.
    store("sid=new; Path=/; HttpOnly", &u);
    assert_eq!(uri_header(&jar, at).as_deref(), Some("sid=new"));
    store(line, &u);
    assert_eq!(uri_header(&jar, at).as_deref(), Some("sid=abc"));
    // The same line after the cookie was removed by hand: stored again.
    assert_eq!(jar.remove("sid"), 1);
    store(line, &u);
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    // The same attributes from another origin, or another default path, are another cookie.
    store(line, &url("http://other.test/app/x"));
    store("p=1", &url("http://h.test/a/x"));
    store("p=1", &url("http://h.test/b/x"));
    let count = |name: &str| jar.iter().filter(|c| c.name() == name).count();
    assert_eq!((count("sid"), count("p")), (2, 2));
    check(&jar);

    // Max-Age: the line is parsed again and only the expiry moves; the kept header stays.
    store("m=1; Path=/; Max-Age=100", &u);
    let expires = |jar: &CookieJar| jar.iter().find(|c| c.name() == "m").unwrap().expires();
    let first = expires(&jar).unwrap();
    uri_header(&jar, at);
    uri_header(&jar, at);
    assert!(kept(&jar, at).is_some());
    std::thread::sleep(Duration::from_millis(5));
    store("m=1; Path=/; Max-Age=100", &u);
    assert!(expires(&jar).unwrap() > first, "the expiry moved");
    assert!(kept(&jar, at).is_some(), "the kept header stays");
    check(&jar);
    // And the moved expiry is the one that counts.
    let mut store_ = jar.lock();
    store_.purge_expired(first + Duration::from_millis(1));
    drop(store_);
    assert_eq!(count("m"), 1, "not expired at the first expiry");

    // An Expires beyond the 400-day cap is capped from the time the line is read: also moved.
    store("far=1; Path=/; Expires=Fri, 01 Jan 2300 00:00:00 GMT", &u);
    let far = |jar: &CookieJar| jar.iter().find(|c| c.name() == "far").unwrap().expires();
    let first = far(&jar).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    store("far=1; Path=/; Expires=Fri, 01 Jan 2300 00:00:00 GMT", &u);
    assert!(far(&jar).unwrap() > first, "the capped expiry moved");
    // A `Max-Age` that is not a number is ignored: the line's expiry is fixed, not re-read.
    store("fixed=1; Path=/; Max-Age=soon", &u);
    let generation = jar.lock().generation();
    store("fixed=1; Path=/; Max-Age=soon", &u);
    assert_eq!(jar.lock().generation(), generation, "nothing stored again");
}

/// When every cookie an origin could be sent has `Path=/`, the header kept for one path serves
/// every path of that origin (scheme and authority); a cookie with another path, or another
/// scheme, port or host, ends that.
#[test]
fn kept_header_serves_every_path_when_it_does_not_depend_on_it() {
    let jar = CookieJar::new();
    let u = url("http://www.h.test/login");
    // No Path attribute: the default path of "/login" is "/".
    jar.insert_raw("a=1; Domain=h.test", &u).unwrap();
    // Path-scoped cookies that www.h.test over http is never sent: a Secure one, and a
    // host-only one of the parent domain.
    jar.insert_raw(
        "s=1; Secure; Path=/admin; Domain=h.test",
        &url("https://www.h.test/"),
    )
    .unwrap();
    jar.insert_raw("p=1; Path=/parent", &url("http://h.test/"))
        .unwrap();
    assert_eq!(
        uri_header(&jar, "http://www.h.test/x").as_deref(),
        Some("a=1")
    );
    assert_eq!(
        kept(&jar, "http://www.h.test/y"),
        None,
        "first call: noted only"
    );
    assert_eq!(
        uri_header(&jar, "http://www.h.test/y").as_deref(),
        Some("a=1")
    );
    for other in [
        "http://www.h.test/z",
        "http://www.h.test/",
        "http://www.h.test/admin/q",
    ] {
        assert_eq!(
            kept(&jar, other),
            Some(Some(HeaderValue::from_static("a=1"))),
            "{other}"
        );
        assert_eq!(uri_header(&jar, other).as_deref(), Some("a=1"), "{other}");
    }
    // Another scheme, port or host is another origin.
    for other in [
        "https://www.h.test/y",
        "http://www.h.test:8080/y",
        "http://x.h.test/y",
    ] {
        assert_eq!(kept(&jar, other), None, "{other}");
    }
    assert_eq!(
        uri_header(&jar, "https://www.h.test/admin/q").as_deref(),
        Some("s=1; a=1")
    );
    // Over https the Secure cookie's path counts: each path gets its own answer.
    assert_eq!(
        uri_header(&jar, "https://www.h.test/admin/q").as_deref(),
        Some("s=1; a=1")
    );
    assert_eq!(kept(&jar, "https://www.h.test/other"), None);
    assert_eq!(
        uri_header(&jar, "https://www.h.test/other").as_deref(),
        Some("a=1")
    );

    // A path-scoped cookie for the origin: the header depends on the path again.
    jar.insert_raw("b=2; Path=/app", &u).unwrap();
    assert_eq!(
        uri_header(&jar, "http://www.h.test/x").as_deref(),
        Some("a=1")
    );
    assert_eq!(
        uri_header(&jar, "http://www.h.test/app/1").as_deref(),
        Some("b=2; a=1")
    );
    assert_eq!(
        uri_header(&jar, "http://www.h.test/app/1").as_deref(),
        Some("b=2; a=1")
    );
    assert_eq!(kept(&jar, "http://www.h.test/x"), None);
    assert_eq!(
        uri_header(&jar, "http://www.h.test/x").as_deref(),
        Some("a=1")
    );
    // Its removal makes every path alike once more.
    assert!(jar.remove_exact("www.h.test", "/app", "b"));
    assert_eq!(
        uri_header(&jar, "http://www.h.test/app/1").as_deref(),
        Some("a=1")
    );
    assert_eq!(
        uri_header(&jar, "http://www.h.test/app/2").as_deref(),
        Some("a=1")
    );
    assert_eq!(
        kept(&jar, "http://www.h.test/x"),
        Some(Some(HeaderValue::from_static("a=1")))
    );
    // No cookie for the origin at all: "none" holds for every path too.
    assert_eq!(uri_header(&jar, "http://o.test/1"), None);
    assert_eq!(uri_header(&jar, "http://o.test/2"), None);
    assert_eq!(kept(&jar, "http://o.test/3"), Some(None));
    jar.insert_raw("n=1; Path=/3", &url("http://o.test/"))
        .unwrap();
    assert_eq!(uri_header(&jar, "http://o.test/3").as_deref(), Some("n=1"));
    assert_eq!(uri_header(&jar, "http://o.test/1"), None);
}

/// A cookie that expires while its header is kept is not sent from it.
#[test]
fn kept_header_forgets_expired_cookies() {
    let mut store = store::Store::new(CookieLimits::default());
    let now = SystemTime::now();
    let u = url("http://h.test/");
    let origin = parse::Origin::from_url(&u).unwrap();
    let c = parse::parse_line("a=1; Max-Age=10", &origin, now, 4096).unwrap();
    store.insert(c, false, now).unwrap();
    let uri: http::Uri = "http://h.test/".parse().unwrap();
    let value = store.header_for_uri(&uri, now);
    assert_eq!(value.as_ref().unwrap(), "a=1");
    assert_eq!(
        store.kept_header(&uri),
        None,
        "the first time only the URI is noted"
    );
    assert_eq!(store.header_for_uri(&uri, now), value);
    assert_eq!(store.kept_header(&uri), Some(value));
    store.purge_expired(now + Duration::from_secs(11));
    assert_eq!(
        store.kept_header(&uri),
        None,
        "the expiry changed the store"
    );
}

/// A URI with userinfo is answered but not kept (the key would hold the password).
#[test]
fn userinfo_uris_are_not_kept() {
    let jar = CookieJar::new();
    jar.insert_raw("a=1", &url("http://h.test/")).unwrap();
    assert_eq!(
        uri_header(&jar, "http://u:pw@h.test/").as_deref(),
        Some("a=1")
    );
    let uri: http::Uri = "http://u:pw@h.test/".parse().unwrap();
    assert_eq!(jar.lock().kept_header(&uri), None);
    assert_eq!(
        jar.lock().kept_header(&"http://h.test/".parse().unwrap()),
        None
    );
}

/// RFC 6265 5.1.1: dates are read token by token, whatever the delimiters and the zone name.
#[test]
fn expires_by_the_rfc_6265_date_algorithm() {
    let u = url("https://example.com/");
    let jar = CookieJar::new();
    jar.insert_raw("a=1", &u).unwrap();
    // A deletion with a "UTC" zone deletes.
    jar.insert_raw("a=1; Expires=Fri, 07 Aug 2019 08:04:19 UTC", &u)
        .unwrap();
    assert_eq!(jar.get("a"), None);
    // No comma after the weekday: still a date (in the past: a deletion).
    jar.insert_raw("b=1", &u).unwrap();
    jar.insert_raw("b=1; Expires=Fri 07 Aug 2019 08:04:19 GMT", &u)
        .unwrap();
    assert_eq!(jar.get("b"), None);
    // A future date in an odd spelling is an expiry, not a session cookie.
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let origin = super::parse::Origin::from_url(&u).unwrap();
    let c =
        super::parse::parse_line("c=1; expires=15-Nov-23 12:00:00", &origin, now, 4096).unwrap();
    assert_eq!(
        c.expires(),
        Some(UNIX_EPOCH + Duration::from_secs(1_700_049_600))
    );
    check(&jar);
}

/// RFC 6265bis 5.6: the last attribute of a name wins; an empty Path resets to the default
/// path; an empty Max-Age is ignored.
#[test]
fn empty_attributes_per_rfc_6265bis() {
    let jar = CookieJar::new();
    let u = url("https://example.com/dir/page");
    jar.insert_raw("p=1; Path=/foo; Path", &u).unwrap();
    let c = jar.iter().find(|c| c.name() == "p").unwrap();
    assert_eq!(c.path(), "/dir");
    jar.insert_raw("q=1; Path=/foo; Path=", &u).unwrap();
    let c = jar.iter().find(|c| c.name() == "q").unwrap();
    assert_eq!(c.path(), "/dir");
    jar.insert_raw("r=1; Path=/dir", &u).unwrap();
    jar.insert_raw("r=1; Path=/dir; Max-Age=0; Max-Age=", &u)
        .unwrap();
    assert_eq!(jar.get("r"), None, "an empty Max-Age is ignored");
    // The last Max-Age wins.
    jar.insert_raw("s=1; Max-Age=0; Max-Age=60", &u).unwrap();
    assert_eq!(jar.get("s").as_deref(), Some("1"));
    check(&jar);
}

/// RFC 6265 5.1.3: `home.example.org.` does not domain-match `home.example.org`.
#[test]
fn trailing_dot_domain_is_ignored() {
    let jar = CookieJar::new();
    let u = url("http://home.example.org:8888/cookie-parser?domain0014");
    let e = jar
        .insert_raw("foo=bar; domain=home.example.org.", &u)
        .unwrap_err();
    assert!(matches!(e, CookieError::DomainMismatch { .. }), "{e}");
    assert!(jar.is_empty());
}

/// RFC 6265bis 5.7: a plain-http origin may not set a non-Secure cookie whose domain is a
/// parent of a Secure cookie's domain either (domain-match in both directions).
#[test]
fn secure_cookie_not_shadowed_from_a_parent_domain() {
    let jar = CookieJar::new();
    jar.insert_raw(
        "a=1; Secure; Domain=sub.example.com; Path=/",
        &url("https://sub.example.com/"),
    )
    .unwrap();
    let e = jar
        .insert_raw(
            "a=2; Domain=example.com; Path=/",
            &url("http://sub.example.com/"),
        )
        .unwrap_err();
    assert!(matches!(e, CookieError::ShadowsSecureCookie), "{e}");
    let e = jar
        .insert_raw("a=2; Path=/", &url("http://example.com/"))
        .unwrap_err();
    assert!(matches!(e, CookieError::ShadowsSecureCookie), "{e}");
    assert_eq!(
        header(&jar, "https://sub.example.com/").as_deref(),
        Some("a=1")
    );
    // Another name, or a secure origin, is fine.
    jar.insert_raw("b=2; Domain=example.com", &url("http://example.com/"))
        .unwrap();
    jar.insert_raw("a=3; Path=/", &url("https://example.com/"))
        .unwrap();
    check(&jar);
}

/// Through request URIs (what the cookie layer does): the same line for the same URI is known
/// by its bytes; another URI of the same origin and default path goes through the origin, with
/// the same result; a stored line from a URI with userinfo is not kept by URI.
#[test]
fn the_same_set_cookie_for_the_same_uri_is_known_without_an_origin() {
    let jar = CookieJar::new();
    let store = |line: &'static str, u: &str| {
        let uri: http::Uri = u.parse().unwrap();
        jar.store_response_cookies_for_uri(&uri, std::iter::once(&HeaderValue::from_static(line)))
    };
    let at = "http://h.test/app/x";
    let line = "sid=abc; Path=/; HttpOnly";
    store(line, at);
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    let generation = jar.lock().generation();
    store(line, at);
    store(line, "http://h.test/app/y");
    assert_eq!(jar.lock().generation(), generation, "nothing stored again");
    // A change in between: stored again.
    assert_eq!(jar.remove("sid"), 1);
    store(line, at);
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    // Another host with the same line is another cookie.
    store(line, "http://other.test/app/x");
    assert_eq!(jar.iter().filter(|c| c.name() == "sid").count(), 2);
    // Several lines, the first one repeating: the others are stored.
    let uri: http::Uri = at.parse().unwrap();
    let lines = [
        HeaderValue::from_static(line),
        HeaderValue::from_static("n=2"),
    ];
    jar.store_response_cookies_for_uri(&uri, lines.iter());
    jar.store_response_cookies_for_uri(&uri, std::iter::once(&lines[0]));
    assert_eq!(jar.get("n").as_deref(), Some("2"));
    // A request URI with userinfo is not kept (the line still is recognised by its origin).
    store("u=1", "http://user:pw@h.test/app/x");
    assert!(jar.lock().last_set_uri().is_none());
    check(&jar);
}

/// The repeated line is recognised by the request URI's bytes: the same URI written the same
/// way is the same request; a URI that differs in any part (even only in the host's case, which
/// `Uri`'s `==` ignores) is not, and its line goes through the origin instead.
#[test]
fn a_repeated_line_is_known_by_the_request_uri_written_the_same_way() {
    let jar = CookieJar::new();
    let at: http::Uri = "http://h.test/app/x?q=1".parse().unwrap();
    let line = HeaderValue::from_static("sid=abc; Path=/");
    jar.store_response_cookies_for_uri(&at, std::iter::once(&line));
    let now = SystemTime::now();
    let known = |u: &str| {
        let uri: http::Uri = u.parse().unwrap();
        jar.lock()
            .repeats_last_set_for_uri(line.as_bytes(), &uri, now)
    };
    assert!(known("http://h.test/app/x?q=1"));
    for other in [
        "https://h.test/app/x?q=1",
        "http://H.test/app/x?q=1",
        "http://h.test:8080/app/x?q=1",
        "http://h.test/app/y?q=1",
        "http://h.test/app/x?q=2",
        "http://h.test/app/x",
    ] {
        assert!(!known(other), "{other}");
    }
}
