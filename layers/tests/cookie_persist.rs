//! Saving and loading jars (feature `persist`).
#![cfg(feature = "persist")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_requests_layers::cookie::{CookieError, CookieJar, SameSite};
use url::Url;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn sample() -> CookieJar {
    let jar = CookieJar::new();
    let u = url("https://www.example.com/app/page");
    jar.insert_raw(
        "sid=abc; Path=/; HttpOnly; Max-Age=3600; SameSite=Lax; Secure",
        &u,
    )
    .unwrap();
    jar.insert_raw("dom=1; Domain=example.com; Max-Age=7200", &u)
        .unwrap();
    jar.insert_raw("session=s", &u).unwrap();
    jar.insert_raw("ip=1; Max-Age=60", &url("http://127.0.0.1:8080/"))
        .unwrap();
    jar
}

#[test]
fn json_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cookies.json");
    let jar = sample();
    jar.save_json(&path, true).unwrap();
    let loaded = CookieJar::load_json(&path).unwrap();
    let a: Vec<_> = jar.iter().collect();
    let b: Vec<_> = loaded.iter().collect();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (
                x.name(),
                x.value(),
                x.domain(),
                x.path(),
                x.secure(),
                x.http_only(),
                x.host_only(),
                x.same_site()
            ),
            (
                y.name(),
                y.value(),
                y.domain(),
                y.path(),
                y.secure(),
                y.http_only(),
                y.host_only(),
                y.same_site()
            )
        );
        // Whole seconds in the file.
        match (x.expires(), y.expires()) {
            (Some(p), Some(q)) => {
                assert!(p.duration_since(q).unwrap_or_default() < Duration::from_secs(1))
            }
            (None, None) => {}
            other => panic!("expiry mismatch {other:?}"),
        }
    }
    assert_eq!(b[0].same_site(), Some(SameSite::Lax));
    let u = url("https://sub.example.com/app");
    assert_eq!(loaded.cookie_header(&u).unwrap(), "dom=1");
    assert_eq!(
        loaded
            .cookie_header(&url("https://www.example.com/app/x"))
            .unwrap(),
        jar.cookie_header(&url("https://www.example.com/app/x"))
            .unwrap()
    );
}

#[test]
fn json_without_session_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    sample().save_json(&path, false).unwrap();
    let loaded = CookieJar::load_json(&path).unwrap();
    assert_eq!(loaded.get("session"), None);
    assert_eq!(loaded.len(), 3);
}

#[test]
fn corrupt_or_truncated_json_is_an_error_and_jar_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    sample().save_json(&path, true).unwrap();
    let full = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();

    let jar = CookieJar::new();
    jar.set("keep", "me", &url("http://example.com/")).unwrap();
    let err = jar.load_json_into(&path).unwrap_err();
    assert!(matches!(err, CookieError::Json(_)), "{err}");
    assert!(err.to_string().contains("malformed JSON cookie file"));
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(jar.get_dict().len(), 1);

    std::fs::write(&path, "not json at all").unwrap();
    assert!(CookieJar::load_json(&path).is_err());
    let missing = CookieJar::load_json(dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(missing, CookieError::Io(_)));
}

#[test]
fn expired_and_invalid_cookies_dropped_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let text = format!(
        r#"{{"version":1,"cookies":[
        {{"name":"old","value":"1","domain":"example.com","path":"/","expires":{past},"host_only":true}},
        {{"name":"psl","value":"1","domain":"co.uk","path":"/","host_only":false}},
        {{"name":"__Host-x","value":"1","domain":"example.com","path":"/","host_only":false,"secure":true}},
        {{"name":"ctl","value":"a\u0000b","domain":"example.com","path":"/","host_only":true}},
        {{"name":"ok","value":"1","domain":".Example.com","path":"/","expires":{future}}}
        ]}}"#,
        past = now - 10,
        future = now + 1000
    );
    std::fs::write(&path, text).unwrap();
    let jar = CookieJar::load_json(&path).unwrap();
    let names: Vec<_> = jar.iter().map(|c| c.name().to_string()).collect();
    assert_eq!(names, ["ok"]);
    assert_eq!(jar.iter().next().unwrap().domain(), "example.com");
}

fn names_and_domains(jar: &CookieJar) -> Vec<(String, String)> {
    jar.iter()
        .map(|c| (c.name().to_string(), c.domain().to_string()))
        .collect()
}

/// Domains with an empty label are not domains, in either format (found by the property
/// test: `..example.com` was stored as `.example.com`).
#[test]
fn domains_with_empty_labels_dropped_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.txt");
    std::fs::write(
        &path,
        "..example.com\tTRUE\t/\tTRUE\t4102444800\ta\t1\n\
         a..example.com\tFALSE\t/\tFALSE\t0\tb\t2\n\
         .\tTRUE\t/\tFALSE\t0\tc\t3\n\
         example.com.\tFALSE\t/\tFALSE\t0\tok\t4\n",
    )
    .unwrap();
    let jar = CookieJar::load_netscape(&path).unwrap();
    assert_eq!(
        names_and_domains(&jar),
        [("ok".into(), "example.com".into())]
    );

    let path = dir.path().join("c.json");
    std::fs::write(
        &path,
        r#"{"version":1,"cookies":[
        {"name":"a","value":"1","domain":"..example.com","path":"/","host_only":false},
        {"name":"ok","value":"1","domain":"example.com.","path":"/","host_only":true}
        ]}"#,
    )
    .unwrap();
    let jar = CookieJar::load_json(&path).unwrap();
    assert_eq!(
        names_and_domains(&jar),
        [("ok".into(), "example.com".into())]
    );
}

#[test]
fn netscape_round_trip_and_curl_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cookies.txt");
    let jar = sample();
    jar.save_netscape(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# Netscape HTTP Cookie File"));
    assert!(text.contains("#HttpOnly_www.example.com\tFALSE\t/\tTRUE\t"));
    assert!(text.contains("\n.example.com\tTRUE\t/app\tFALSE\t"));
    assert!(text.contains("www.example.com\tFALSE\t/app\tFALSE\t0\tsession\ts\n"));
    let loaded = CookieJar::load_netscape(&path).unwrap();
    assert_eq!(loaded.len(), jar.len());
    let sid = loaded.iter().find(|c| c.name() == "sid").unwrap();
    assert!(sid.http_only() && sid.secure() && sid.host_only());
    let session = loaded.iter().find(|c| c.name() == "session").unwrap();
    assert!(session.is_session());
    assert_eq!(
        loaded
            .cookie_header(&url("https://www.example.com/app/x"))
            .unwrap(),
        jar.cookie_header(&url("https://www.example.com/app/x"))
            .unwrap()
    );
}

#[test]
fn netscape_written_by_curl_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cookies.txt");
    let future = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    // As `curl -c` writes it (plus an expired line, a comment and CRLF line ends).
    let text = format!(
        "# Netscape HTTP Cookie File\r\n# https://curl.se/docs/http-cookies.html\r\n\r\n\
         #HttpOnly_localhost\tFALSE\t/\tFALSE\t0\tsid\tabc\r\n\
         .example.org\tTRUE\t/docs\tTRUE\t{future}\ttheme\tdark\r\n\
         example.org\tFALSE\t/\tFALSE\t1\told\tgone\r\n\
         example.org\tFALSE\t/\tFALSE\t0\tempty\r\n"
    );
    std::fs::write(&path, text).unwrap();
    let jar = CookieJar::load_netscape(&path).unwrap();
    assert_eq!(jar.len(), 3);
    assert_eq!(
        jar.cookie_header(&url("http://localhost:1234/")).unwrap(),
        "sid=abc"
    );
    assert_eq!(
        jar.cookie_header(&url("https://a.example.org/docs/x"))
            .unwrap(),
        "theme=dark"
    );
    assert_eq!(jar.get("empty").as_deref(), Some(""));
}

#[test]
fn netscape_malformed_is_an_error_and_jar_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cookies.txt");
    let jar = CookieJar::new();
    jar.set("keep", "me", &url("http://example.com/")).unwrap();
    for (bad, line) in [
        (
            "example.com\tFALSE\t/\tFALSE\t0\ta\t1\nexample.com\tFALSE\t/",
            2,
        ),
        ("example.com\tMAYBE\t/\tFALSE\t0\ta\t1\n", 1),
        ("example.com\tFALSE\t/\tFALSE\tsoon\ta\t1\n", 1),
    ] {
        std::fs::write(&path, bad).unwrap();
        match jar.load_netscape_into(&path) {
            Err(CookieError::Netscape { line: l, .. }) => assert_eq!(l, line, "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
        assert_eq!(jar.get_dict().len(), 1);
    }
}

#[test]
fn writes_are_atomic_replacements() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, "old content").unwrap();
    sample().save_json(&path, true).unwrap();
    assert!(CookieJar::load_json(&path).is_ok());
    // Only the target remains: the temporary file was renamed over it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("c.json")]);
    // A target in a missing directory fails without creating anything.
    assert!(sample()
        .save_netscape(dir.path().join("missing/c.txt"))
        .is_err());
}

/// Import and export of `cookie_store`'s JSON files (features `persist` + `cookie-store`).
#[cfg(feature = "cookie-store")]
mod cookie_store_files {
    use super::*;

    /// A `cookie_store` store as a reqwest_cookie_store user would have filled it.
    fn their_store() -> cookie_store::CookieStore {
        let mut store = cookie_store::CookieStore::default();
        let u = url("https://www.example.com/app/page");
        for line in [
            "sid=abc; Path=/; HttpOnly; Max-Age=3600; SameSite=Lax; Secure",
            "dom=1; Domain=example.com; Max-Age=7200",
            "deep=2; Path=/app; Max-Age=60",
            "session=s; Path=/",
            // cookie_store has no public suffix list unless given one: it keeps this one.
            "psl=1; Domain=com; Max-Age=60",
        ] {
            store.parse(line, &u).unwrap();
        }
        store
    }

    #[test]
    fn import_their_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cookies.json");
        let mut file = std::fs::File::create(&path).unwrap();
        cookie_store::serde::json::save_incl_expired_and_nonpersistent(&their_store(), &mut file)
            .unwrap();
        drop(file);

        let jar = CookieJar::load_cookie_store_json(&path).unwrap();
        let dict = jar.get_dict();
        assert_eq!(
            dict.keys().map(String::as_str).collect::<Vec<_>>(),
            ["deep", "dom", "session", "sid"],
            "the Domain=com cookie breaks the jar's public suffix rule and is skipped"
        );
        let sid = jar.iter().find(|c| c.name() == "sid").unwrap();
        assert!(sid.secure() && sid.http_only() && sid.host_only());
        assert_eq!(sid.same_site(), Some(SameSite::Lax));
        assert_eq!(sid.domain(), "www.example.com");
        let left = sid
            .expires()
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600));
        let dom = jar.iter().find(|c| c.name() == "dom").unwrap();
        assert!(!dom.host_only());
        assert_eq!(dom.domain(), "example.com");
        // Longest path first (`deep` and `dom` have /app, the others /); cookie_store keeps no
        // creation order, so cookies of one path length come in any order.
        let header = jar
            .cookie_header(&url("https://www.example.com/app/x"))
            .unwrap();
        let mut pairs: Vec<&str> = header.to_str().unwrap().split("; ").collect();
        assert_eq!(pairs.len(), 4, "{header:?}");
        pairs[..2].sort_unstable();
        pairs[2..].sort_unstable();
        assert_eq!(pairs, ["deep=2", "dom=1", "session=s", "sid=abc"]);
        assert_eq!(
            jar.cookie_header(&url("http://example.com/app")).unwrap(),
            "dom=1"
        );
    }

    #[test]
    fn import_their_older_line_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cookies.json");
        let mut file = std::fs::File::create(&path).unwrap();
        #[allow(deprecated)]
        their_store().save_json(&mut file).unwrap();
        drop(file);
        let jar = CookieJar::new();
        jar.import_cookie_store_json(&path).unwrap();
        // `save_json` leaves session cookies out.
        assert_eq!(
            jar.get_dict()
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["deep", "dom", "sid"]
        );
    }

    #[test]
    fn export_loads_in_cookie_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let jar = sample();
        jar.insert_raw("nameless", &url("https://www.example.com/"))
            .unwrap();
        jar.export_cookie_store_json(&path, true).unwrap();
        let theirs = cookie_store::serde::json::load(std::io::BufReader::new(
            std::fs::File::open(&path).unwrap(),
        ))
        .unwrap();
        let mut names: Vec<String> = theirs
            .iter_unexpired()
            .map(|c| c.name().to_string())
            .collect();
        names.sort();
        // The name-less cookie cannot be held by cookie_store.
        assert_eq!(names, ["dom", "ip", "session", "sid"]);
        let u = url("https://www.example.com/app/page");
        let mut sent: Vec<(String, String)> = theirs
            .get_request_values(&u)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        sent.sort();
        assert_eq!(
            sent,
            [
                ("dom".to_string(), "1".to_string()),
                ("session".to_string(), "s".to_string()),
                ("sid".to_string(), "abc".to_string()),
            ]
        );
        let sid = theirs.get("www.example.com", "/", "sid").unwrap();
        assert_eq!(sid.secure(), Some(true));
        assert_eq!(sid.http_only(), Some(true));
        assert!(theirs.get("example.com", "/app", "dom").is_some());

        // Without session cookies; and back into a jar, the same cookies.
        jar.export_cookie_store_json(&path, false).unwrap();
        let again = CookieJar::load_cookie_store_json(&path).unwrap();
        assert_eq!(
            again
                .get_dict()
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["dom", "ip", "sid"]
        );
    }

    #[test]
    fn malformed_file_is_an_error_and_jar_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "[{\"raw_cookie\": 1").unwrap();
        let jar = sample();
        let before = jar.get_dict();
        let err = jar.import_cookie_store_json(&path).unwrap_err();
        assert!(matches!(err, CookieError::Io(_)), "{err}");
        // What was wrong is the cause (printed once, by whoever walks `source()`).
        let cause = std::error::Error::source(&err).expect("the I/O error is the source");
        assert!(cause.to_string().contains("cookie_store JSON"), "{cause}");
        assert_eq!(jar.get_dict(), before);
    }
}
