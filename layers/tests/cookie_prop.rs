//! Property tests: arbitrary Set-Cookie lines, URLs and cookie files never panic and never store
//! a cookie that breaks the rules.
#![cfg(feature = "cookies")]

use http::HeaderValue;
use proptest::prelude::*;
use tower_requests_layers::cookie::{parse_set_cookie, Cookie, CookieJar};
use url::Url;

const HOSTS: &[&str] = &[
    "example.com",
    "a.example.com",
    "b.a.example.com",
    "example.co.uk",
    "x.example.co.uk",
    "co.uk",
    "com",
    "localhost",
    "app.localhost",
    "127.0.0.1",
    "10.0.0.1",
    "[::1]",
    "[2001:db8::1]",
    "me.github.io",
    "github.io",
    "intranet",
];

const DOMAINS: &[&str] = &[
    "com",
    ".com",
    "co.uk",
    "uk",
    "example.com",
    ".example.com",
    "EXAMPLE.COM",
    "a.example.com",
    "example.co.uk",
    "github.io",
    "me.github.io",
    "localhost",
    "127.0.0.1",
    "0.0.1",
    "[::1]",
    "::1",
    "intranet",
    "",
    ".",
    "..example.com",
    "exa mple.com",
    "bücher.example",
];

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(HOSTS).prop_map(str::to_string),
        1 => "[a-z]{1,4}(\\.[a-z]{1,4}){0,3}",
    ]
}

fn url() -> impl Strategy<Value = Url> {
    (
        prop_oneof![Just("http"), Just("https")],
        host(),
        "(/[a-zA-Z0-9%._-]{0,4}){0,3}",
    )
        .prop_filter_map("valid url", |(scheme, host, path)| {
            Url::parse(&format!("{scheme}://{host}{path}")).ok()
        })
}

fn attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(DOMAINS).prop_map(|d| format!("Domain={d}")),
        "(/[a-z]{0,3}){0,3}|[a-z/]{0,5}".prop_map(|p| format!("Path={p}")),
        Just("Secure".to_string()),
        Just("HttpOnly".to_string()),
        "-?[0-9]{1,12}|abc".prop_map(|m| format!("Max-Age={m}")),
        prop_oneof![
            Just("Wed, 21 Oct 2015 07:28:00 GMT"),
            Just("Fri, 01 Jan 2100 00:00:00 GMT"),
            Just("garbage"),
        ]
        .prop_map(|e| format!("Expires={e}")),
        "[A-Za-z]{0,6}".prop_map(|s| format!("SameSite={s}")),
        "\\PC{0,10}",
        "[\\x00-\\x1f\\x7f]{1,2}",
    ]
}

fn name_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,8}=[A-Za-z0-9 \t]{0,8}",
        "(__Secure-|__Host-|__secure-|__HOST-)[a-z]{0,3}=[a-z]{0,3}",
        "[a-z]{0,6}",
        "=[a-z_-]{0,8}",
        "\\PC{0,16}",
        "[\\x00-\\x7f]{0,12}",
        "[a-z]{1,3}=[a-z]{4090,4100}",
    ]
}

fn set_cookie_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (name_value(), proptest::collection::vec(attribute(), 0..5))
            .prop_map(|(nv, attrs)| {
                let mut s = nv;
                for a in attrs {
                    s.push_str("; ");
                    s.push_str(&a);
                }
                s
            }),
        1 => "\\PC{0,40}",
        1 => "[\\x00-\\x7f]{0,40}",
    ]
}

/// A Set-Cookie line over a few names, paths and domains, so lines replace and shadow each
/// other and path-scoped and `Path=/` cookies mix on one origin.
fn scoped_cookie_line() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&["a", "b", "c"][..]),
        proptest::sample::select(&["", "; Path=/", "; Path=/a", "; Path=/a/", "; Path=/b"][..]),
        proptest::sample::select(&["", "; Domain=h.test", "; Domain=www.h.test"][..]),
        proptest::sample::select(&["", "; Secure"][..]),
        0u8..10,
    )
        .prop_map(|(name, path, domain, secure, value)| {
            format!("{name}={value}{path}{domain}{secure}")
        })
}

fn has_ctl(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, 0x00..=0x08 | 0x0A..=0x1F | 0x7F))
}

fn canonical_host(u: &Url) -> String {
    let h = u.host_str().unwrap_or("");
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.strip_suffix('.').unwrap_or(h).to_string()
}

fn trustworthy(u: &Url) -> bool {
    let h = canonical_host(u);
    u.scheme() == "https"
        || h == "localhost"
        || h.ends_with(".localhost")
        || h.starts_with("127.")
        || h == "::1"
}

fn domain_match(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// Every rule a stored cookie must satisfy, whatever it came from.
fn check_rules(c: &Cookie) -> Result<(), TestCaseError> {
    for (what, s) in [
        ("name", c.name()),
        ("value", c.value()),
        ("path", c.path()),
        ("domain", c.domain()),
    ] {
        prop_assert!(!has_ctl(s), "{} has a control character: {:?}", what, c);
    }
    prop_assert!(
        !c.name().contains(';') && !c.value().contains(';'),
        "{:?}",
        c
    );
    prop_assert!(!c.name().contains('='), "{:?}", c);
    prop_assert!(!(c.name().is_empty() && c.value().is_empty()));
    prop_assert!(c.name().len() + c.value().len() <= 4096);
    prop_assert!(c.path().starts_with('/'), "{:?}", c);
    prop_assert!(
        !c.domain().is_empty() && !c.domain().starts_with('.'),
        "{:?}",
        c
    );
    prop_assert_eq!(c.domain(), c.domain().to_ascii_lowercase());
    if !c.host_only() {
        prop_assert!(
            psl::suffix_str(c.domain()) != Some(c.domain()),
            "domain cookie on a public suffix: {:?}",
            c
        );
        prop_assert!(c.domain().parse::<std::net::IpAddr>().is_err(), "{:?}", c);
    }
    let lower = c.name().to_ascii_lowercase();
    if lower.starts_with("__secure-") {
        prop_assert!(c.secure(), "{:?}", c);
    }
    if lower.starts_with("__host-") {
        prop_assert!(c.secure() && c.host_only() && c.path() == "/", "{:?}", c);
    }
    if c.name().is_empty() {
        let v = c.value().to_ascii_lowercase();
        prop_assert!(
            !v.starts_with("__secure-") && !v.starts_with("__host-"),
            "{:?}",
            c
        );
    }
    prop_assert!(!c.is_expired(), "{:?}", c);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn set_cookie_lines_never_break_rules(
        inputs in proptest::collection::vec((set_cookie_line(), url()), 1..8),
        probe in url(),
    ) {
        let jar = CookieJar::new();
        for (line, u) in &inputs {
            let _ = jar.insert_raw(line, u);
            if let Ok(v) = HeaderValue::from_str(line) {
                let _ = parse_set_cookie(&v, u);
                jar.store_response_cookies(u, std::iter::once(&v));
            }
        }
        for c in jar.iter() {
            check_rules(&c)?;
            // It came from one of the URLs it is scoped to.
            let origin = inputs.iter().map(|(_, u)| u).find(|u| {
                let h = canonical_host(u);
                if c.host_only() { h == c.domain() } else { domain_match(&h, c.domain()) }
            });
            prop_assert!(origin.is_some(), "no origin for {:?}", c);
            if c.secure() {
                prop_assert!(
                    inputs.iter().any(|(_, u)| trustworthy(u)),
                    "Secure cookie from a non-secure origin: {:?}", c
                );
            }
        }
        for u in inputs.iter().map(|(_, u)| u).chain(std::iter::once(&probe)) {
            if let Some(h) = jar.cookie_header(u) {
                let h = h.to_str().map(str::to_string).unwrap_or_default();
                prop_assert!(!has_ctl(&h));
                if !trustworthy(u) {
                    // Only cookies that may go to plain http are in the header.
                    let plain: Vec<_> = jar.iter().filter(|c| !c.secure()).collect();
                    for part in h.split("; ") {
                        prop_assert!(
                            plain.iter().any(|c| {
                                let pair = if c.name().is_empty() {
                                    c.value().to_string()
                                } else {
                                    format!("{}={}", c.name(), c.value())
                                };
                                pair == part || part.is_empty()
                            }),
                            "{:?} sent to {}", part, u
                        );
                    }
                }
            }
        }
    }

    /// The header the jar keeps for the last URI always equals a fresh lookup, whatever
    /// happened to the jar in between (inserts, deletions, removals, other URIs).
    #[test]
    fn kept_header_equals_a_fresh_lookup(
        urls in proptest::collection::vec(url(), 1..4),
        ops in proptest::collection::vec((0u8..4, 0usize..4, set_cookie_line()), 1..24),
    ) {
        let jar = CookieJar::new();
        for (op, i, line) in ops {
            let u = &urls[i % urls.len()];
            match op {
                0 => { let _ = jar.insert_raw(&line, u); }
                1 => { let _ = jar.insert_raw(&format!("{line}; Max-Age=0"), u); }
                2 => { jar.remove(line.split('=').next().unwrap_or("")); }
                _ => {}
            }
            let uri: http::Uri = match u.as_str().parse() { Ok(uri) => uri, Err(_) => continue };
            for _ in 0..2 {
                prop_assert_eq!(jar.cookie_header_for_uri(&uri), jar.cookie_header(u), "{}", u);
            }
        }
    }

    /// The same over a few origins and several paths of each, with cookies whose paths, domains
    /// and Secure flags overlap those: the header kept for one path and served to the other
    /// paths of its origin (when no cookie the origin could be sent is path-scoped) equals a
    /// fresh lookup too.
    #[test]
    fn kept_header_equals_a_fresh_lookup_across_paths(
        ops in proptest::collection::vec((0u8..5, 0usize..16, scoped_cookie_line()), 1..40),
    ) {
        const ORIGINS: &[&str] =
            &["http://www.h.test", "https://www.h.test", "http://h.test", "http://www.h.test:81"];
        const PATHS: &[&str] = &["/", "/a", "/a/b", "/b", "/a/"];
        let jar = CookieJar::new();
        for (op, i, line) in ops {
            let u = Url::parse(&format!("{}{}", ORIGINS[i % 4], PATHS[(i / 4) % PATHS.len()])).unwrap();
            match op {
                0 => { let _ = jar.insert_raw(&line, &u); }
                1 => { let _ = jar.insert_raw(&format!("{line}; Max-Age=0"), &u); }
                2 => { jar.remove(line.split('=').next().unwrap_or("")); }
                _ => {}
            }
            let uri: http::Uri = u.as_str().parse().unwrap();
            prop_assert_eq!(jar.cookie_header_for_uri(&uri), jar.cookie_header(&u), "{}", u);
        }
    }

    #[test]
    fn arbitrary_header_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), u in url()) {
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            let _ = parse_set_cookie(&v, &u);
            let jar = CookieJar::new();
            jar.store_response_cookies(&u, std::iter::once(&v));
            for c in jar.iter() {
                check_rules(&c)?;
            }
        }
    }
}

/// A fragment of a Set-Cookie line, biased towards what header injection is made of.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9=;/. _-]{0,8}",
        1 => proptest::sample::select(
            &["\r", "\n", "\0", "\r\n", "\r\nX-Injected: 1", "\u{0}", "%0d%0a", "\t", "\x7f", "\u{85}", "\u{2028}"][..]
        ).prop_map(str::to_string),
        1 => proptest::sample::select(
            &["; Path=/", "; Domain=example.com", "; Secure", "; Max-Age=60", "; Expires=Fri, 01 Jan 2100 00:00:00 GMT", "; Path=", "; Max-Age="][..]
        ).prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ]
}

fn no_cr_lf_nul(bytes: &[u8]) -> bool {
    !bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Parse -> store -> header, from every way into the jar (a Set-Cookie line as text, a
    /// response header value, `set`): nothing panics, and no Cookie header or stored cookie ever
    /// carries CR, LF or NUL (a header-injection path).
    #[test]
    fn parse_store_header_never_emits_cr_lf_nul(
        lines in proptest::collection::vec(
            (proptest::collection::vec(fragment(), 1..6), url()), 1..6),
        names in proptest::collection::vec((fragment(), fragment()), 0..3),
        probe in url(),
    ) {
        let jar = CookieJar::new();
        let mut urls = vec![probe];
        for (parts, u) in &lines {
            let line = parts.concat();
            let _ = jar.insert_raw(&line, u);
            if let Ok(v) = HeaderValue::from_bytes(line.as_bytes()) {
                if let Ok(c) = parse_set_cookie(&v, u) {
                    prop_assert!(no_cr_lf_nul(c.name().as_bytes()) && no_cr_lf_nul(c.value().as_bytes()));
                }
                jar.store_response_cookies(u, std::iter::once(&v));
            }
            urls.push(u.clone());
        }
        for (name, value) in &names {
            let _ = jar.set(name, value, &urls[0]);
        }
        for c in jar.iter() {
            for field in [c.name(), c.value(), c.domain(), c.path()] {
                prop_assert!(no_cr_lf_nul(field.as_bytes()), "{:?}", c);
            }
        }
        for u in &urls {
            if let Some(h) = jar.cookie_header(u) {
                prop_assert!(no_cr_lf_nul(h.as_bytes()), "{:?}", h);
            }
            if let Ok(uri) = u.as_str().parse::<http::Uri>() {
                if let Some(h) = jar.cookie_header_for_uri(&uri) {
                    prop_assert!(no_cr_lf_nul(h.as_bytes()), "{:?}", h);
                }
            }
        }
    }
}

#[cfg(feature = "persist")]
mod files {
    use super::*;

    fn netscape_line() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("#HttpOnly_"), Just("# "), Just("#")],
            prop_oneof![
                proptest::sample::select(DOMAINS).prop_map(str::to_string),
                "\\PC{0,8}"
            ],
            prop_oneof![Just("TRUE"), Just("FALSE"), Just("true"), Just("x")],
            "/[a-z]{0,3}|[a-z]{0,2}",
            prop_oneof![Just("TRUE"), Just("FALSE")],
            prop_oneof![
                Just("0".to_string()),
                Just("1".to_string()),
                Just("4102444800".to_string()),
                "-?[0-9]{0,20}"
            ],
            name_value(),
            0usize..8,
        )
            .prop_map(|(prefix, d, sub, path, secure, exp, nv, cut)| {
                let (n, v) = nv.split_once('=').unwrap_or(("", nv.as_str()));
                let fields = [d.as_str(), sub, path.as_str(), secure, exp.as_str(), n, v];
                format!("{prefix}{}", fields[..cut.min(7)].join("\t"))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn cookie_files_never_break_rules(
            lines in proptest::collection::vec(netscape_line(), 0..6),
            junk in "\\PC{0,60}",
            use_junk in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let txt = dir.path().join("c.txt");
            let json = dir.path().join("c.json");
            let text = if use_junk { junk.clone() } else { lines.join("\n") };
            std::fs::write(&txt, &text).unwrap();
            std::fs::write(&json, &junk).unwrap();
            let jar = CookieJar::new();
            let url = Url::parse("http://example.com/").unwrap();
            jar.set("keep", "1", &url).unwrap();
            let before = jar.get_dict();
            if jar.load_netscape_into(&txt).is_err() {
                prop_assert_eq!(jar.get_dict(), before.clone());
            }
            if jar.load_json_into(&json).is_err() {
                prop_assert_eq!(jar.get_dict().len(), jar.len());
            }
            for c in jar.iter() {
                check_rules(&c)?;
            }
            // What we save loads back identically.
            jar.save_netscape(&txt).unwrap();
            let again = CookieJar::load_netscape(&txt).unwrap();
            prop_assert_eq!(again.get_dict(), jar.get_dict());
            jar.save_json(&json, true).unwrap();
            let again = CookieJar::load_json(&json).unwrap();
            prop_assert_eq!(again.get_dict(), jar.get_dict());
        }
    }
}
