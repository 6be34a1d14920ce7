//! The public http-state parser suite (abarth/http-state, `tests/data/parser`, vendored in
//! `tests/data/http-state/`, see its SOURCE file) run through [`CookieJar`], as the suite's
//! README describes a user agent running it: the case's Set-Cookie lines arrive on a response
//! to `http://home.example.org:8888/cookie-parser?NAME`; the Cookie header of a request to its
//! `Location` (default `/cookie-parser-result?NAME`) must equal the expected file byte for byte.
//!
//! The files were written for RFC 6265 in 2011. [`OVERRIDES`] lists the cases where RFC 6265bis,
//! or the passing of an Expires date, changes the right answer, each with its reason. No
//! network: the files are read from disk and the jar is called directly.
#![cfg(feature = "cookies")]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;
use tower_requests_layers::cookie::CookieJar;
use url::Url;

/// How a case's expected answer differs from its file.
enum Override {
    /// RFC 6265bis changed the answer: the Cookie header value it gives (`None`: no header).
    Rfc6265bis(Option<&'static str>),
    /// An Expires date in the case (as Unix seconds: some of the suite's dates have a weekday
    /// that does not match, which the cookie-date algorithm ignores): up to `unix` the file's
    /// answer holds, from then on `after`.
    ExpiresAt {
        unix: u64,
        after: Option<&'static str>,
    },
}

use Override::{ExpiresAt, Rfc6265bis};

// Name-less cookies. RFC 6265bis 5.6 step 3: "If the name-value-pair string lacks a %x3D ("=")
// character, then the name string is empty, and the value string is the value of
// name-value-pair"; an empty name before a "=" is allowed too. RFC 6265 ignored both (so the
// files expect no cookie); 6265bis keeps them, as browsers do. They are sent as the value alone
// (5.8.3), and two name-less cookies of one domain and path replace each other (same empty
// name). A line whose name and value are both empty is still ignored (5.6 step 6).
/// The cases whose right answer is not the file's, each with its reason.
const OVERRIDES: &[(&str, Override, &str)] = &[
    ("0004", Rfc6265bis(Some("foo")), "`foo` is a name-less cookie with value `foo`"),
    ("0021", Rfc6265bis(Some("a=b; x; c=d")), "`=x` is a name-less cookie with value `x`, in creation order"),
    ("0023", Rfc6265bis(Some("foo")), "`foo` is name-less; the empty line is ignored"),
    ("0024", Rfc6265bis(Some("foo")), "`foo` is name-less; `=` (empty name and value) is ignored"),
    ("0025", Rfc6265bis(Some("foo")), "`foo` is name-less; `; bar` (an empty pair) is ignored"),
    ("0026", Rfc6265bis(Some("foo")), "`foo` is name-less; the blank line is ignored"),
    ("0027", Rfc6265bis(Some("bar")), "`foo` then `bar`: both name-less, the second replaces the first"),
    ("0028", Rfc6265bis(Some("foo")), "`foo` is name-less; the tab-only line is ignored (the upstream expected file holds the test's Set-Cookie lines by mistake)"),
    ("chromium0009", Rfc6265bis(Some("BLAHHH")), "`BLAHHH` is a name-less cookie"),
    ("chromium0010", Rfc6265bis(Some(r#""BLA\"HHH""#)), "the quoted string is a name-less cookie's value"),
    ("chromium0012", Rfc6265bis(Some("ABC")), "`=ABC`: empty name, value `ABC`"),
    ("mozilla0012", Rfc6265bis(Some(r#"test="fubar! = foo; five"#)), "`five` is a name-less cookie; `max-age=2.63,` is not digits, so it is ignored (5.6.2): a session cookie"),
    ("mozilla0014", Rfc6265bis(Some("six")), "`six` is a name-less cookie"),
    ("mozilla0015", Rfc6265bis(Some("seven")), "`six` then `seven`: both name-less, the second replaces the first"),
    ("mozilla0016", Rfc6265bis(Some("eight")), "`six`, `seven`, `=eight`: all name-less, the last replaces the others"),
    ("mozilla0017", Rfc6265bis(Some("eight; test=six")), "the name-less `eight` (last of three) and `test=six`, in creation order"),
    ("name0017", Rfc6265bis(Some("a=bar")), "`=a=bar`: empty name, value `a=bar` (split at the first `=`), sent as the value alone"),
    ("name0023", Rfc6265bis(Some("foo")), "`foo;bar=baz`: the pair is `foo`, name-less; `bar=baz` is an unknown attribute"),
    ("name0025", Rfc6265bis(Some("==a=bar")), "`===a=bar`: empty name, value `==a=bar`"),
    ("name0028", Rfc6265bis(Some("a")), "`=a`: empty name, value `a`"),
    ("name0031", Rfc6265bis(Some(r#""foo"#)), "the pair ends at the first `;`: a name-less `\"foo`"),
    ("name0032", Rfc6265bis(Some(r#""foo\"bar"#)), "the pair ends at the first `;`: a name-less `\"foo\\\"bar`"),
    ("name0033", Rfc6265bis(Some("aaa")), "`=foo=bar` and `aaa` are both name-less; the second replaces the first"),
    (
        "0002",
        ExpiresAt {
            unix: 1_565_165_059, /* 2019-08-07T08:04:19Z */
            after: None,
        },
        "its Expires date has passed: the cookie is expired on arrival",
    ),
    (
        "comma0006",
        ExpiresAt {
            unix: 1_565_165_059, /* 2019-08-07T08:04:19Z */
            after: None,
        },
        "its Expires date has passed: the cookie is expired on arrival",
    ),
    (
        "comma0007",
        ExpiresAt {
            unix: 1_565_165_059, /* 2019-08-07T08:04:19Z */
            after: None,
        },
        "its Expires date (no comma after the weekday, which RFC 6265 5.1.1 reads fine) has \
      passed: the cookie is expired on arrival",
    ),
    (
        "0003",
        ExpiresAt {
            unix: 1_817_625_859, /* 2027-08-07T08:04:19Z */
            after: None,
        },
        "foo2 expires at this date; after it nothing is sent",
    ),
    (
        "chromium0016",
        ExpiresAt {
            unix: 1_808_082_389, /* 2027-04-18T21:06:29Z */
            after: None,
        },
        "the cookie expires at this date; after it nothing is sent",
    ),
    (
        "chromium0017",
        ExpiresAt {
            unix: 1_808_082_389, /* 2027-04-18T21:06:29Z */
            after: None,
        },
        "the cookie expires at this date; after it nothing is sent",
    ),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/http-state/parser")
}

/// One case: its Set-Cookie values, its Location and the Cookie header the file expects.
struct Case {
    name: String,
    set_cookies: Vec<Vec<u8>>,
    location: Option<String>,
    expected: Option<String>,
}

/// Header lines `Name: value` of a case file; the value without surrounding whitespace, as an
/// HTTP parser hands it over.
fn header_lines(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect()
}

fn load_cases() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .expect("the vendored http-state data")
        .filter_map(|e| {
            let file = e.ok()?.file_name().into_string().ok()?;
            let name = file.strip_suffix("-test")?;
            (!name.starts_with("disabled-")).then(|| name.to_string())
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let test = std::fs::read(data_dir().join(format!("{name}-test"))).unwrap();
            let expected = std::fs::read(data_dir().join(format!("{name}-expected"))).unwrap();
            let mut set_cookies = Vec::new();
            let mut location = None;
            for (header, value) in header_lines(&test) {
                match header.as_str() {
                    "set-cookie" => set_cookies.push(value),
                    "location" => location = Some(String::from_utf8(value).unwrap()),
                    other => panic!("{name}: unexpected header {other:?}"),
                }
            }
            // The expected file holds at most one `Cookie:` line (0028's holds Set-Cookie
            // lines by mistake upstream; its override says what is right).
            let expected = header_lines(&expected)
                .into_iter()
                .find(|(h, _)| h == "cookie")
                .map(|(_, v)| String::from_utf8(v).unwrap());
            Case {
                name,
                set_cookies,
                location,
                expected,
            }
        })
        .collect()
}

/// The answer that counts today for `case`: the file's, or its override's (the file's only
/// when `verbatim`).
fn expected_now(case: &Case, now: SystemTime, verbatim: bool) -> Option<String> {
    if verbatim {
        return case.expected.clone();
    }
    match OVERRIDES.iter().find(|(n, _, _)| *n == case.name) {
        None => case.expected.clone(),
        Some((_, Rfc6265bis(v), _)) => v.map(str::to_string),
        Some((_, ExpiresAt { unix, after }, _)) => {
            if now >= UNIX_EPOCH + Duration::from_secs(*unix) {
                after.map(str::to_string)
            } else {
                case.expected.clone()
            }
        }
    }
}

/// Runs one case through a jar: the Cookie header its result URL gets.
fn run(case: &Case, jar: &CookieJar) -> Option<String> {
    let set_url = Url::parse(&format!(
        "http://home.example.org:8888/cookie-parser?{}",
        case.name
    ))
    .unwrap();
    let values: Vec<HeaderValue> = case
        .set_cookies
        .iter()
        .filter_map(|v| HeaderValue::from_bytes(v).ok())
        .collect();
    assert_eq!(values.len(), case.set_cookies.len(), "{}", case.name);
    jar.store_response_cookies(&set_url, values.iter());
    let default_location = format!("/cookie-parser-result?{}", case.name);
    let result_url = set_url
        .join(case.location.as_deref().unwrap_or(&default_location))
        .unwrap();
    jar.cookie_header(&result_url)
        .map(|h| String::from_utf8(h.as_bytes().to_vec()).unwrap())
}

/// Scores a backend (a function making an empty jar) on every case, under RFC 6265bis and
/// today's clock (the override table); prints each failure.
fn score(backend: &str, new_jar: impl Fn() -> CookieJar) -> (usize, usize) {
    score_with(backend, new_jar, false)
}

/// [`score`], or with the files' answers as they are (`verbatim`).
fn score_with(backend: &str, new_jar: impl Fn() -> CookieJar, verbatim: bool) -> (usize, usize) {
    let now = SystemTime::now();
    let cases = load_cases();
    let mut passed = 0;
    for case in &cases {
        let got = run(case, &new_jar());
        let want = expected_now(case, now, verbatim);
        if got == want {
            passed += 1;
        } else if !verbatim {
            println!(
                "[{backend}] {} FAILED\n  set-cookie: {:?}\n  location: {:?}\n  expected: {:?}\n  got:      {:?}",
                case.name,
                case.set_cookies
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>(),
                case.location,
                want,
                got
            );
        }
    }
    println!(
        "[{backend}] http-state parser cases: {passed}/{}",
        cases.len()
    );
    (passed, cases.len())
}

#[test]
fn http_state_parser_suite_default_store() {
    let (passed, total) = score("default store", CookieJar::new);
    assert_eq!(
        total, 218,
        "the vendored suite has 218 cases besides disabled-*"
    );
    assert_eq!(passed, total);
}

/// Every override names a case of the suite and says why.
#[test]
fn overrides_name_real_cases() {
    let cases = load_cases();
    for (name, _, reason) in OVERRIDES {
        assert!(cases.iter().any(|c| c.name == *name), "{name}");
        assert!(!reason.is_empty(), "{name}");
    }
}

/// The same suite against the backend over `cookie_store` 0.22, for comparison: both scores are
/// printed, under RFC 6265bis and with the files verbatim. Only the default store must pass every
/// case. `cookie_store` keeps no name-less cookies (23 cases), and sends a host's cookies in its
/// hash maps' order rather than longest path first, so its score moves by a few cases between
/// runs (measured: 181-185 under 6265bis, 202-207 verbatim, where the default store scores 192:
/// the name-less cases and the expired dates).
#[cfg(feature = "cookie-store")]
#[test]
fn http_state_parser_suite_both_backends() {
    use tower_requests_layers::cookie::CookieStoreBackend;
    let (default_passed, total) = score("default store", CookieJar::new);
    let (cs_passed, _) = score("cookie_store 0.22", || {
        CookieJar::with_store(CookieStoreBackend::new())
    });
    let (default_verbatim, _) = score_with("default store", CookieJar::new, true);
    let (cs_verbatim, _) = score_with(
        "cookie_store 0.22",
        || CookieJar::with_store(CookieStoreBackend::new()),
        true,
    );
    println!(
        "http-state parser cases under RFC 6265bis: default store {default_passed}/{total}, \
         cookie_store 0.22 {cs_passed}/{total}; files verbatim: {default_verbatim}/{total}, \
         {cs_verbatim}/{total}"
    );
    assert_eq!(default_passed, total);
    assert!(
        cs_passed >= 170,
        "cookie_store backend: {cs_passed}/{total}"
    );
    assert!(
        cs_passed < total,
        "cookie_store has no name-less cookies: it cannot pass all"
    );
}
