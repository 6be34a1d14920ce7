//! Bad input and hostile bodies: malformed proxies from the environment, credentials in error
//! messages, body size limits, slow 3xx bodies, empty `Location`, header injection through a
//! token, empty request bodies, lying lengths and resets mid-body.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use proptest::prelude::*;
use tower_requests::{HttpClient, Proxy, Session};

use crate::hostile::{Conn, Hostile, Seen};

/// Every way an error can be printed: Display, the whole chain, Debug, each cause.
fn printed(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{err}\n{err:#}\n{err:?}\n");
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(&format!("{c}\n{c:?}\n"));
        cause = c.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Proxies from the environment

const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

#[test]
fn a_malformed_proxy_variable_fails_the_build_naming_it() {
    for name in PROXY_VARS {
        for value in [
            "u:s3cretpw@[bad",
            "http://u:s3cretpw@",
            "ftp://u:s3cretpw@p:21",
        ] {
            let env = [(name, value)];
            let err = Session::builder()
                .proxy_env_from(env)
                .build()
                .expect_err("a proxy that cannot be used must not be skipped");
            assert!(err.is_builder(), "{name}={value}: {err:?}");
            let text = printed(&err);
            assert!(err.to_string().contains(name), "names {name}: {text}");
            assert!(!text.contains("s3cretpw"), "{text}");

            let err = HttpClient::builder()
                .proxy_env_from(env)
                .build()
                .expect_err("the client checks it too");
            assert!(err.to_string().contains(name), "{err}");
        }
    }
    // Set but not trusted: not read, so not checked.
    assert!(Session::builder()
        .trust_env(false)
        .proxy_env_from([("HTTP_PROXY", "u:pw@[bad")])
        .build()
        .is_ok());
}

// ---------------------------------------------------------------------------------------------
// No password in any error

/// A URL-ish text with userinfo `user:password` in one of several shapes, malformed ones
/// included (no scheme, bad host, bad port, unsupported scheme, leading space).
fn with_userinfo(shape: usize, user: &str, password: &str) -> String {
    let ui = format!("{user}:{password}");
    match shape {
        0 => format!("{ui}@[bad"),
        1 => format!("{ui}@proxy.test:3128"),
        2 => format!("http://{ui}@[bad"),
        3 => format!("http://{ui}@proxy.test:3128"),
        4 => format!("https://{ui}@h.test:99999/p"),
        5 => format!("socks5h://{ui}@h.test:1080"),
        6 => format!("ftp://{ui}@h.test/"),
        7 => format!("http:{ui}@h.test/"),
        8 => format!(" http://{ui}@exa mple.test/"),
        9 => format!("http://{ui}@"),
        10 => format!("{ui}@"),
        _ => format!("http://{ui}@127.0.0.1:1/x?q=a@b"),
    }
}

/// Whether `text` shows `password` or a telling part of it. Passwords start with `s3cr` and
/// end with 6+ random characters: neither may appear.
fn shows(text: &str, password: &str) -> bool {
    text.contains(password)
        || text.contains("s3cr")
        || (password.len() >= 10 && text.contains(&password[4..]))
}

fn userinfo() -> impl Strategy<Value = (usize, String, String)> {
    (
        0usize..12,
        "[a-zA-Z0-9._~%-]{0,8}",
        // Any printable ASCII (raw `@`, `#`, `/`, `?`, `:` and spaces included) and some
        // non-ASCII: what users paste into proxy settings.
        "[ -~éß€]{6,14}",
    )
        .prop_map(|(shape, user, tail)| (shape, user, format!("s3cr{tail}")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_password_in_proxy_errors((shape, user, password) in userinfo()) {
        let text = with_userinfo(shape, &user, &password);
        for result in [Proxy::http(&text), Proxy::https(&text), Proxy::all(&text)] {
            let shown = match result {
                Ok(proxy) => format!("{proxy:?}"),
                // As the proxy gives it, and as a session's error.
                Err(err) => printed(&err) + &printed(&tower_requests::Error::from(err)),
            };
            prop_assert!(!shows(&shown, &password), "{text:?} -> {shown}");
        }
    }

    #[test]
    fn no_password_in_proxy_variable_errors((shape, user, password) in userinfo()) {
        let text = with_userinfo(shape, &user, &password);
        let built = Session::builder().proxy_env_from([("ALL_PROXY", &text)]).build();
        // The environment accepts what `Proxy::all` accepts, and nothing else.
        prop_assert_eq!(built.is_ok(), Proxy::all(&text).is_ok(), "{:?}", text);
        if let Err(err) = built {
            let shown = printed(&err);
            prop_assert!(shown.contains("ALL_PROXY"), "{shown}");
            prop_assert!(!shows(&shown, &password), "{text:?} -> {shown}");
        }
    }
}

proptest! {
    // Each case sends (most fail before connecting; the others are refused by port 1).
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_password_in_request_url_errors((shape, user, password) in userinfo()) {
        let url = with_userinfo(shape, &user, &password);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let session = Session::builder().trust_env(false).build().unwrap();
        let result = rt.block_on(session.get(&url).send());
        if let Err(err) = result {
            let shown = printed(&err);
            prop_assert!(!shows(&shown, &password), "{url:?} -> {shown}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors print each cause once

/// No error of the chain repeats its cause in its own Display (the Rust API guidelines: a
/// cause is the `source()` or part of the message, never both).
fn assert_causes_printed_once(err: &tower_requests::Error) {
    let mut current: &(dyn std::error::Error + 'static) = err;
    while let Some(cause) = current.source() {
        let (outer, inner) = (current.to_string(), cause.to_string());
        assert!(
            inner.is_empty() || !outer.contains(&inner),
            "{outer:?} repeats its cause {inner:?}\n{err:#}"
        );
        current = cause;
    }
}

#[tokio::test]
async fn causes_are_printed_once() {
    // The server resets every connection as soon as it has read the request.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.read_request().await.is_some() {
            c.reset();
        }
    })
    .await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let url = server.url("/reset");
    let err = session.get(&url).send().await.unwrap_err();
    assert!(err.source().is_some(), "{err:?}");
    assert_causes_printed_once(&err);
    let shown = err.to_string();
    assert!(shown.contains(&url), "says which URL: {shown}");
    // The whole story is still there, once, in `{:#}`.
    let chain = format!("{err:#}");
    assert!(
        chain.starts_with(&shown) && chain.len() > shown.len(),
        "{chain}"
    );

    // Refused (nothing listens on port 1), an invalid URL, a stream that a retry needed.
    let refused = session.get("http://127.0.0.1:1/").send().await.unwrap_err();
    assert_causes_printed_once(&refused);
    let invalid = session.get("http://u:pw@[bad/").send().await.unwrap_err();
    let shown = invalid.to_string();
    assert!(
        shown.contains("invalid URL") && shown.contains("[bad/"),
        "{shown}"
    );
    assert_causes_printed_once(&invalid);

    let retrying = Session::builder()
        .trust_env(false)
        .retry(tower_requests::Retry::new().total(2).backoff_factor(0.0))
        .build()
        .unwrap();
    let stream = tower_requests::Body::wrap_stream(futures_util::stream::iter([Ok::<
        _,
        std::io::Error,
    >("x")]));
    let err = retrying.put(&url).body(stream).send().await.unwrap_err();
    assert_causes_printed_once(&err);
}

// ---------------------------------------------------------------------------------------------
// A session-wide bearer token is checked when the session is built

#[test]
fn a_bearer_token_with_cr_or_lf_fails_the_build() {
    for token in ["t0ken\r\nX-Injected: 1", "t0ken\nx", "t0ken\rx", "t0ken\0x"] {
        let err = Session::builder()
            .trust_env(false)
            .bearer_auth(token)
            .build()
            .expect_err("a token that cannot be a header is a configuration error");
        assert!(err.is_builder(), "{err:?}");
        assert!(err.to_string().contains("bearer"), "{err}");
        assert!(
            !printed(&err).contains("t0ken"),
            "the token stays secret: {err:?}"
        );
    }
    assert!(Session::builder()
        .trust_env(false)
        .bearer_auth("a.b-c_d~e+f/g=")
        .build()
        .is_ok());
}

// ---------------------------------------------------------------------------------------------
// An empty Location is no redirect

#[tokio::test]
async fn an_empty_location_returns_the_redirect_as_it_is() {
    for location in ["", "   "] {
        let server = Hostile::start(move |mut c: Conn| async move {
            while c.read_request().await.is_some() {
                let head = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 4\r\n\r\nmove"
                );
                c.write(head.as_bytes()).await;
            }
        })
        .await;
        let session = Session::builder().trust_env(false).build().unwrap();
        let resp = session.get(server.url("/here")).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        assert!(resp.history().is_empty());
        assert_eq!(resp.text().await.unwrap(), "move");
        assert_eq!(
            server.requests(),
            1,
            "Location {location:?} is not followed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Content-Length: 0 on empty bodies of methods that expect one

/// A server that records every request and answers 200.
async fn recording() -> (Hostile, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Hostile::start(move |mut c: Conn| {
        let log = log.clone();
        async move {
            while let Some(req) = c.read_request().await {
                log.lock().unwrap().push(req);
                c.ok("ok").await;
            }
        }
    })
    .await;
    (server, seen)
}

#[tokio::test]
async fn empty_post_put_and_patch_send_content_length_zero() {
    let (server, seen) = recording().await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let url = server.url("/empty");
    for method in [Method::POST, Method::PUT, Method::PATCH] {
        let resp = session.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let resp = session
            .request(method.clone(), &url)
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // A prebuilt request through `execute`.
        let req = http::Request::builder()
            .method(method)
            .uri(&url)
            .body(tower_requests::Body::empty())
            .unwrap();
        assert_eq!(session.execute(req).await.unwrap().status(), 200);
    }
    // GET and HEAD carry no body: no length (neither does requests send one).
    session.get(&url).send().await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 10);
    for req in &seen[..9] {
        assert_eq!(req.header("content-length"), Some("0"), "{req:?}");
        assert_eq!(req.header("transfer-encoding"), None, "{req:?}");
    }
    assert_eq!(seen[9].method, "GET");
    assert_eq!(seen[9].header("content-length"), None);
}

// ---------------------------------------------------------------------------------------------
// Bounded memory for bodies

/// A gzip member whose deflate stream is `1 + 258 * matches` zero bytes: one literal, then
/// back-references of 258 bytes at distance 1, in a fixed-Huffman block (13 bits each). Made by
/// hand because compressing hundreds of MB in a debug build takes seconds; 256 MiB is 1.7 MB.
fn gzip_of_zeros(matches: usize) -> (Vec<u8>, u64) {
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        /// `len` bits of `value`, least significant first (deflate's order for header fields).
        fn lsb(&mut self, value: u32, len: u32) {
            for i in 0..len {
                self.acc |= ((value >> i) & 1) << self.n;
                self.n += 1;
                if self.n == 8 {
                    self.out.push(self.acc as u8);
                    self.acc = 0;
                    self.n = 0;
                }
            }
        }
        /// A Huffman code: most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.lsb((code >> i) & 1, 1);
            }
        }
    }
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.lsb(1, 1); // BFINAL
    bits.lsb(1, 2); // BTYPE = fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..matches {
        bits.code(0xc5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1 (code 0)
    }
    bits.code(0, 7); // end of block (symbol 256)
    if bits.n > 0 {
        bits.out.push(bits.acc as u8);
    }
    let len = 1 + 258 * matches as u64;
    let mut out = bits.out;
    out.extend_from_slice(&crc32_of_zeros(len).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    (out, len)
}

/// CRC-32 (IEEE) of `len` zero bytes: the register update for a zero byte is linear, so it is
/// applied `len` times by squaring its matrix (zlib's `crc32_combine` idea).
fn crc32_of_zeros(len: u64) -> u32 {
    fn zero_byte(mut c: u32) -> u32 {
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
        c
    }
    fn apply(m: &[u32; 32], v: u32) -> u32 {
        (0..32)
            .filter(|i| v >> i & 1 == 1)
            .fold(0, |acc, i| acc ^ m[i])
    }
    let mut op: [u32; 32] = std::array::from_fn(|i| zero_byte(1 << i));
    let (mut reg, mut n) = (0xffff_ffffu32, len);
    while n > 0 {
        if n & 1 == 1 {
            reg = apply(&op, reg);
        }
        op = std::array::from_fn(|i| apply(&op, op[i]));
        n >>= 1;
    }
    !reg
}

/// Serves `body` with these extra header lines to every request.
async fn serving(body: Vec<u8>, extra: &'static str) -> Hostile {
    let body = Arc::new(body);
    Hostile::start(move |mut c: Conn| {
        let body = body.clone();
        async move {
            while c.read_request().await.is_some() {
                let head = format!(
                    "HTTP/1.1 200 OK\r\n{extra}content-length: {}\r\n\r\n",
                    body.len()
                );
                c.write(head.as_bytes()).await;
                c.write(&body).await;
            }
        }
    })
    .await
}

fn max_rss_bytes() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as u64 * 1024 // kilobytes on Linux
}

#[test]
fn the_zero_bomb_is_valid_gzip() {
    assert_eq!(crc32_of_zeros(1), 0xd202_ef8d);
    assert_eq!(crc32_of_zeros(4), 0x2144_df1c);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (gz, len) = gzip_of_zeros(4_000);
        let server = serving(gz, "content-encoding: gzip\r\n").await;
        let session = Session::builder().trust_env(false).build().unwrap();
        let body = session
            .get(server.url("/small-bomb"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len() as u64, len);
        assert!(body.iter().all(|&b| b == 0));
    });
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_default_limit_with_memory_bounded() {
    // 1.7 MB on the wire, 256 MiB inflated.
    let (gz, len) = gzip_of_zeros(1_040_447);
    assert!(len > 256 * 1000 * 1000);
    let server = serving(gz, "content-encoding: gzip\r\n").await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let before = max_rss_bytes();
    let err = session
        .get(server.url("/bomb"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|body| body.len())
        .expect_err("256 MiB is over the default limit");
    let grew = max_rss_bytes().saturating_sub(before);
    eprintln!(
        "gzip bomb: peak RSS {} KiB before, grew by {} KiB",
        before / 1024,
        grew / 1024
    );
    assert!(err.is_body(), "{err:?}");
    let limit = tower_requests::DEFAULT_MAX_BODY_SIZE.to_string();
    assert!(err.to_string().contains(&limit), "names the limit: {err}");
    assert!(
        grew < 96 * 1024 * 1024,
        "peak RSS grew by {} MiB",
        grew / (1024 * 1024)
    );
}

#[tokio::test]
async fn the_body_limit_applies_to_bytes_text_and_json_and_can_be_set_per_request() {
    let (gz, _) = gzip_of_zeros(40); // 10 321 bytes inflated, 80 compressed
    let server = serving(gz, "content-encoding: gzip\r\n").await;
    let url = server.url("/small");
    let session = Session::builder()
        .trust_env(false)
        .max_body_size(10_000)
        .build()
        .unwrap();
    let err = session
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap_err();
    assert!(err.is_body() && err.to_string().contains("10000"), "{err}");
    let err = session
        .get(&url)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        err.is_body() && !err.is_decode(),
        "the limit, not the JSON: {err}"
    );
    // The request's own limit replaces the session's.
    let body = session
        .get(&url)
        .max_body_size(20_000)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 10_321);
    let err = session
        .get(&url)
        .max_body_size(10_320)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("10320"), "{err}");
    assert!(session
        .get(&url)
        .max_body_size(None)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .is_ok());
}

#[tokio::test]
async fn bytes_stream_is_unlimited_unless_a_limit_is_set() {
    use futures_util::StreamExt;
    let big = tower_requests::DEFAULT_MAX_BODY_SIZE + 1;
    let server = serving(vec![b'x'; big], "").await;
    let url = server.url("/big");
    let default = Session::builder().trust_env(false).build().unwrap();
    let mut stream = std::pin::pin!(default.get(&url).send().await.unwrap().bytes_stream());
    let mut read = 0;
    while let Some(chunk) = stream.next().await {
        read += chunk.unwrap().len();
    }
    assert_eq!(
        read, big,
        "the default limit is for the readers that buffer"
    );

    let limited = Session::builder()
        .trust_env(false)
        .max_body_size(1024 * 1024)
        .build()
        .unwrap();
    let mut stream = std::pin::pin!(limited.get(&url).send().await.unwrap().bytes_stream());
    let mut last = None;
    while let Some(chunk) = stream.next().await {
        if let Err(e) = chunk {
            last = Some(e);
            break;
        }
    }
    let err = last.expect("an explicit limit bounds the stream");
    assert!(
        err.is_body() && err.to_string().contains("1048576"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Draining the body of a followed redirect or a retried response takes no longer than an attempt

/// The first connection answers `head` and then a 100-byte body at a byte every 100 ms (10 s
/// in all, each byte well within the read timeout); later connections answer 200 `done`.
async fn drip_first(head: &'static str) -> Hostile {
    Hostile::start(move |mut c: Conn| async move {
        if c.index > 0 {
            while c.read_request().await.is_some() {
                c.ok("done").await;
            }
            return;
        }
        if c.read_request().await.is_some() {
            c.write(head.as_bytes()).await;
            for _ in 0..100 {
                c.write(b"x").await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_dripping_redirect_body_is_dropped_after_the_attempt_timeout() {
    let server =
        drip_first("HTTP/1.1 302 Found\r\nlocation: /next\r\ncontent-length: 100\r\n\r\n").await;
    let session = Session::builder()
        .trust_env(false)
        .attempt_timeout(Duration::from_millis(300))
        // Far less than the 10 s the drip takes, far more than the attempt timeout.
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = session
        .get(server.url("/drip"))
        .send()
        .await
        .expect("the drain gives up; the next hop is sent");
    assert_eq!(resp.history().len(), 1);
    assert_eq!(resp.url().path(), "/next");
    assert_eq!(resp.text().await.unwrap(), "done");
}

#[tokio::test]
async fn a_dripping_body_of_a_retried_503_does_not_hold_the_retry() {
    let server =
        drip_first("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 100\r\n\r\n").await;
    let session = Session::builder()
        .trust_env(false)
        .retry(
            tower_requests::Retry::new()
                .total(1)
                .status_forcelist([503])
                .backoff_factor(0.0),
        )
        .attempt_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = session
        .get(server.url("/drip"))
        .send()
        .await
        .expect("the drain gives up; the retry is sent");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "done");
}

// ---------------------------------------------------------------------------------------------
// Regressions: what already works, kept working

#[tokio::test]
async fn a_reset_or_close_mid_body_is_a_body_error_not_a_short_body() {
    for (how, head) in [
        ("reset", "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"),
        ("close", "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"),
        (
            "reset",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n64\r\n",
        ),
        (
            "close",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n64\r\n",
        ),
    ] {
        let server = Hostile::start(move |mut c: Conn| async move {
            if c.read_request().await.is_some() {
                c.write(head.as_bytes()).await;
                c.write(&[b'x'; 100]).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                if how == "reset" {
                    c.reset();
                } else {
                    c.close();
                }
            }
        })
        .await;
        let session = Session::builder().trust_env(false).build().unwrap();
        let resp = session.get(server.url("/cut")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let err = resp
            .bytes()
            .await
            .map(|b| b.len())
            .expect_err("a body cut short is an error");
        assert!(err.is_body(), "{how} {head:?}: {err:?}");
    }
}

#[tokio::test]
async fn a_slow_drip_body_is_cut_by_the_total_timeout() {
    // A byte every 50 ms: never silent long enough for the read timeout, 50 s in all.
    let server = Hostile::start(|mut c: Conn| async move {
        if c.read_request().await.is_some() {
            c.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
                .await;
            for _ in 0..1000 {
                c.write(b"x").await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await;
    let session = Session::builder()
        .trust_env(false)
        .attempt_timeout(Duration::from_millis(400))
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let resp = session.get(server.url("/drip")).send().await.unwrap();
    let err = resp
        .bytes()
        .await
        .map(|b| b.len())
        .expect_err("the whole call has 800 ms");
    assert!(err.is_timeout(), "{err:?}");
    let elapsed = err
        .source()
        .and_then(|s| s.downcast_ref::<tower_requests::layers::timeout::Elapsed>())
        .expect("the total timeout's own error");
    assert!(elapsed.is_total(), "{elapsed:?}");
}

#[tokio::test]
async fn a_content_length_longer_than_the_body_is_an_error() {
    let server = Hostile::start(|mut c: Conn| async move {
        if c.read_request().await.is_some() {
            c.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello")
                .await;
            c.close();
        }
    })
    .await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let resp = session.get(server.url("/long")).send().await.unwrap();
    assert_eq!(resp.content_length(), Some(10));
    let err = resp.text().await.expect_err("5 of 10 bytes is not a body");
    assert!(err.is_body(), "{err:?}");
}

#[tokio::test]
async fn a_content_length_shorter_than_the_body_reads_that_length_and_nothing_leaks_into_the_next_response(
) {
    // The first connection answers "hello" with 5 more bytes than announced, then serves on.
    let server = Hostile::start(|mut c: Conn| async move {
        let mut n = 0;
        while c.read_request().await.is_some() {
            n += 1;
            if n == 1 && c.index == 0 {
                c.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/")
                    .await;
            } else {
                c.ok("second").await;
            }
        }
    })
    .await;
    let session = Session::builder().trust_env(false).build().unwrap();
    let first = session.get(server.url("/short")).send().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "hello");
    let second = session.get(server.url("/next")).send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.text().await.unwrap(), "second");
}
