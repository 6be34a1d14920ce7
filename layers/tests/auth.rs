//! AuthLayer: Basic, Bearer, Digest (MD5, SHA-256, stale nonces) and custom providers against
//! in-process servers that check them; precedence; isolation under concurrency.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{request, response, HeaderValue, Method, Request, Response, StatusCode, Uri};
use md5::Md5;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use tower::util::BoxCloneSyncService;
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::auth::{Auth, AuthError, AuthOrigin};
use tower_requests_layers::{AuthLayer, Body, BoxError};

#[path = "auth_support/mod.rs"]
mod support;
use support::{client, respond, seen, serve, Seen, Tracked};

async fn call<S, R>(svc: &mut S, req: Request<Body>) -> Result<Response<R>, BoxError>
where
    S: Service<Request<Body>, Response = Response<R>, Error = BoxError>,
{
    svc.ready().await?.call(req).await
}

fn get(uri: String) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn expect_header(
    expected: &'static str,
) -> impl Fn(&Seen) -> Response<http_body_util::Full<Bytes>> {
    move |s: &Seen| {
        if s.headers.get(AUTHORIZATION).is_some_and(|v| v == expected) {
            respond(200, &[], "ok")
        } else {
            respond(401, &[("www-authenticate", "Basic realm=\"t\"")], "no")
        }
    }
}

#[tokio::test]
async fn basic_against_a_server() {
    let (addr, log) = serve(expect_header("Basic dXNlcjpwYXNz")).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::basic("user", "pass"))
        .service(client());
    let res = call(&mut svc, get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(seen(&log).len(), 1);

    let mut wrong = ServiceBuilder::new()
        .layer(AuthLayer::basic("user", "nope"))
        .service(client());
    let res = call(&mut wrong, get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Basic never resends.
    assert_eq!(seen(&log).len(), 2);
}

#[tokio::test]
async fn bearer_against_a_server() {
    let (addr, log) = serve(expect_header("Bearer t0k3n")).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::bearer("t0k3n"))
        .service(client());
    let res = call(&mut svc, get(format!("http://{addr}/x")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(seen(&log).len(), 1);

    let bad = AuthLayer::bearer("a\nb");
    let mut bad = tower::Layer::layer(&bad, client());
    let err = call(&mut bad, get(format!("http://{addr}/x")))
        .await
        .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<AuthError>(),
        Some(AuthError::InvalidCredentials { .. })
    ));
    assert_eq!(seen(&log).len(), 1);
}

#[tokio::test]
async fn request_authorization_beats_the_layer_and_url_credentials_are_used() {
    let (addr, log) = serve(|_| respond(200, &[], "")).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::basic("session", "pw"))
        .service(client());
    let req = Request::get(format!("http://{addr}/"))
        .header(AUTHORIZATION, "Basic cmVxOnB3")
        .body(Body::empty())
        .unwrap();
    call(&mut svc, req).await.unwrap();
    call(&mut svc, get(format!("http://us%65r:p%40ss@{addr}/u")))
        .await
        .unwrap();
    let log = seen(&log);
    assert_eq!(log[0].headers[AUTHORIZATION], "Basic cmVxOnB3");
    // user:p@ss
    assert_eq!(log[1].headers[AUTHORIZATION], "Basic dXNlcjpwQHNz");
    assert_eq!(log[1].headers["host"], addr.to_string());
}

#[tokio::test]
async fn url_credentials_are_stripped_from_the_uri() {
    let uris = Arc::new(Mutex::new(Vec::<Uri>::new()));
    let uris2 = uris.clone();
    let inner = service_fn(move |req: Request<Body>| {
        uris2.lock().unwrap().push(req.uri().clone());
        async { Ok::<_, Infallible>(Response::new(Body::empty())) }
    });
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::bearer("t"))
        .service(inner);
    call(&mut svc, get("http://u:p@h.test:81/p?q".into()))
        .await
        .unwrap();
    assert_eq!(uris.lock().unwrap()[0], "http://h.test:81/p?q");
}

#[tokio::test]
async fn scoping_without_a_redirect_layer() {
    let origins = Arc::new(Mutex::new(Vec::<(Uri, bool)>::new()));
    let o2 = origins.clone();
    let inner = service_fn(move |req: Request<Body>| {
        o2.lock()
            .unwrap()
            .push((req.uri().clone(), req.headers().contains_key(AUTHORIZATION)));
        async { Ok::<_, Infallible>(Response::new(Body::empty())) }
    });
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::basic("u", "p").for_origin(&"https://api.test/".parse().unwrap()))
        .service(inner.clone());
    call(&mut svc, get("https://api.test/x".into()))
        .await
        .unwrap();
    call(&mut svc, get("https://api.test:443/y".into()))
        .await
        .unwrap();
    call(&mut svc, get("https://evil.test/x".into()))
        .await
        .unwrap();
    call(&mut svc, get("http://api.test/x".into()))
        .await
        .unwrap();
    // An explicit AuthOrigin that does not match the target: no credentials.
    let mut scoped = ServiceBuilder::new()
        .layer(AuthLayer::basic("u", "p"))
        .service(inner);
    let origin =
        tower_requests_layers::auth::Origin::from_uri(&"http://a.test".parse().unwrap()).unwrap();
    let req = Request::get("http://b.test/")
        .extension(AuthOrigin(origin))
        .body(Body::empty())
        .unwrap();
    call(&mut scoped, req).await.unwrap();
    call(&mut scoped, get("http://b.test/".into()))
        .await
        .unwrap();
    let got: Vec<bool> = origins.lock().unwrap().iter().map(|(_, a)| *a).collect();
    assert_eq!(got, [true, true, false, false, false, true]);
}

// ---------------------------------------------------------------- Digest

fn hash(alg: &str, s: &str) -> String {
    let bytes: Vec<u8> = if alg.starts_with("SHA-256") {
        Sha256::digest(s.as_bytes()).to_vec()
    } else {
        Md5::digest(s.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Minimal Digest parameter parser for the test server (values without commas).
fn params(header: &str) -> HashMap<String, String> {
    header
        .trim_start_matches("Digest ")
        .split(", ")
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

struct DigestServer {
    alg: &'static str,
    nonce: String,
    generation: u32,
    old: Vec<String>,
    last_nc: HashMap<String, u32>,
    ok_count: u32,
    /// Rotate the nonce (making the old one stale) after this many successes.
    rotate_after: u32,
}

impl DigestServer {
    fn challenge(&self, stale: bool) -> Response<http_body_util::Full<Bytes>> {
        let value = format!(
            "Digest realm=\"test@realm\", qop=\"auth, auth-int\", algorithm={}, nonce=\"{}\", opaque=\"op4que\"{}",
            self.alg,
            self.nonce,
            if stale { ", stale=true" } else { "" }
        );
        respond(401, &[("www-authenticate", &value)], "challenge")
    }

    fn handle(&mut self, s: &Seen) -> Response<http_body_util::Full<Bytes>> {
        let Some(h) = s.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return self.challenge(false);
        };
        let p = params(h);
        let g = |k: &str| p.get(k).cloned().unwrap_or_default();
        let nonce = g("nonce");
        if self.old.contains(&nonce) {
            return self.challenge(true);
        }
        let nc = u32::from_str_radix(&g("nc"), 16).unwrap_or(0);
        let uri = s.uri.path_and_query().unwrap().as_str();
        let mut ha1 = hash(
            self.alg,
            &format!("{}:test@realm:{}", g("username"), "s3cret"),
        );
        if self.alg.ends_with("-sess") {
            ha1 = hash(self.alg, &format!("{ha1}:{nonce}:{}", g("cnonce")));
        }
        let ha2 = hash(self.alg, &format!("{}:{uri}", s.method));
        let expected = hash(
            self.alg,
            &format!("{ha1}:{nonce}:{}:{}:auth:{ha2}", g("nc"), g("cnonce")),
        );
        let last = self.last_nc.get(&nonce).copied().unwrap_or(0);
        let valid = nonce == self.nonce
            && g("username") == "mufasa"
            && g("realm") == "test@realm"
            && g("uri") == uri
            && g("qop") == "auth"
            && g("opaque") == "op4que"
            && g("algorithm") == self.alg
            && g("cnonce").len() >= 16
            && nc == last + 1
            && g("response") == expected;
        if !valid {
            return self.challenge(false);
        }
        self.last_nc.insert(nonce.clone(), nc);
        self.ok_count += 1;
        if self.ok_count == self.rotate_after {
            self.old.push(self.nonce.clone());
            self.generation += 1;
            self.nonce = format!("nonce{}x{}", self.generation, self.alg.len());
        }
        respond(
            200,
            &[],
            &format!("ok {}", String::from_utf8_lossy(&s.body)),
        )
    }
}

async fn digest_flow(alg: &'static str) {
    let server = Arc::new(Mutex::new(DigestServer {
        alg,
        nonce: "firstnonce".into(),
        generation: 0,
        old: Vec::new(),
        last_nc: HashMap::new(),
        ok_count: 0,
        rotate_after: 2,
    }));
    let (addr, log) = serve(move |s| server.lock().unwrap().handle(s)).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::digest("mufasa", "s3cret"))
        .service(client());

    // 1: no credentials → challenge → answered (nc=1), body replayed.
    let req = Request::post(format!("http://{addr}/dir/index.html?x=1"))
        .body(Body::from("payload"))
        .unwrap();
    let res = call(&mut svc, req).await.unwrap();
    assert_eq!(res.status(), 200, "{alg}");
    assert_eq!(support::text(res).await, "ok payload");
    // 2: preemptive answer, nc=2. The server then rotates its nonce.
    let res = call(&mut svc, get(format!("http://{addr}/two")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{alg}");
    // 3: preemptive with the old nonce → stale=true → re-answered with the new nonce (nc=1).
    let res = call(&mut svc, get(format!("http://{addr}/three")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{alg}");

    let log = seen(&log);
    let ncs: Vec<Option<String>> = log
        .iter()
        .map(|s| {
            s.headers
                .get(AUTHORIZATION)
                .map(|v| params(v.to_str().unwrap())["nc"].clone())
        })
        .collect();
    assert_eq!(
        ncs,
        [
            None,
            Some("00000001".into()),
            Some("00000002".into()),
            Some("00000003".into()),
            Some("00000001".into())
        ],
        "{alg}"
    );
    assert_eq!(&log[1].body[..], b"payload");
}

#[tokio::test]
async fn digest_md5() {
    digest_flow("MD5").await;
}

#[tokio::test]
async fn digest_sha256() {
    digest_flow("SHA-256").await;
}

#[tokio::test]
async fn digest_md5_sess() {
    digest_flow("MD5-sess").await;
}

#[tokio::test]
async fn digest_sha256_sess() {
    digest_flow("SHA-256-sess").await;
}

#[tokio::test]
async fn digest_wrong_password_is_answered_once() {
    let server = Arc::new(Mutex::new(DigestServer {
        alg: "MD5",
        nonce: "n".into(),
        generation: 0,
        old: Vec::new(),
        last_nc: HashMap::new(),
        ok_count: 0,
        rotate_after: 0,
    }));
    let (addr, log) = serve(move |s| server.lock().unwrap().handle(s)).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::digest("mufasa", "wrong"))
        .service(client());
    let res = call(&mut svc, get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(seen(&log).len(), 2);
    // Next request: one preemptive answer, one re-answer, then the 401.
    let res = call(&mut svc, get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(seen(&log).len(), 4);
}

#[tokio::test]
async fn digest_with_a_streaming_body_returns_the_401() {
    let server = Arc::new(Mutex::new(DigestServer {
        alg: "MD5",
        nonce: "n".into(),
        generation: 0,
        old: Vec::new(),
        last_nc: HashMap::new(),
        ok_count: 0,
        rotate_after: 0,
    }));
    let (addr, log) = serve(move |s| server.lock().unwrap().handle(s)).await;
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::digest("mufasa", "s3cret"))
        .service(client());
    let body = Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, Infallible>(
        Bytes::from_static(b"stream"),
    )]));
    let req = Request::post(format!("http://{addr}/")).body(body).unwrap();
    let res = call(&mut svc, req).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(seen(&log).len(), 1);
}

// ---------------------------------------------------------------- custom

struct Refreshing {
    token: Mutex<String>,
    refreshes: AtomicUsize,
}

impl Auth for Refreshing {
    async fn authorize(&self, req: &mut request::Parts) -> Result<(), BoxError> {
        // An await point, as a real provider would have.
        tokio::task::yield_now().await;
        let value = format!("Bearer {}", self.token.lock().unwrap());
        req.headers
            .insert(AUTHORIZATION, HeaderValue::try_from(value)?);
        Ok(())
    }

    async fn on_unauthorized(
        &self,
        sent: &request::Parts,
        res: &response::Parts,
    ) -> Result<bool, BoxError> {
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(sent.headers.contains_key(AUTHORIZATION));
        tokio::task::yield_now().await;
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        *self.token.lock().unwrap() = "fresh".into();
        Ok(true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_auth_refreshes_once_and_replays_the_body() {
    let (addr, log) = serve(|s| {
        if s.headers
            .get(AUTHORIZATION)
            .is_some_and(|v| v == "Bearer fresh")
        {
            respond(
                200,
                &[],
                &format!("ok {}", String::from_utf8_lossy(&s.body)),
            )
        } else {
            respond(401, &[], "expired")
        }
    })
    .await;
    let auth = Arc::new(Refreshing {
        token: Mutex::new("old".into()),
        refreshes: AtomicUsize::new(0),
    });
    struct Shared(Arc<Refreshing>);
    impl Auth for Shared {
        fn authorize(
            &self,
            req: &mut request::Parts,
        ) -> impl std::future::Future<Output = Result<(), BoxError>> + Send {
            self.0.authorize(req)
        }
        fn on_unauthorized(
            &self,
            sent: &request::Parts,
            res: &response::Parts,
        ) -> impl std::future::Future<Output = Result<bool, BoxError>> + Send {
            self.0.on_unauthorized(sent, res)
        }
    }
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::custom(Shared(auth.clone())))
        .service(client());
    let mut svc = svc.clone();
    let req = Request::put(format!("http://{addr}/res"))
        .body(Body::from("the body"))
        .unwrap();
    let res = tokio::spawn(async move { call(&mut svc, req).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(support::text(res).await, "ok the body");
    let log = seen(&log);
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].headers[AUTHORIZATION], "Bearer old");
    assert_eq!(log[1].headers[AUTHORIZATION], "Bearer fresh");
    assert_eq!(&log[0].body[..], b"the body");
    assert_eq!(&log[1].body[..], b"the body");
    assert_eq!(auth.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn custom_auth_hook_runs_at_most_once_per_request() {
    let (addr, log) = serve(|_| respond(401, &[], "never")).await;
    let auth = Refreshing {
        token: Mutex::new("old".into()),
        refreshes: AtomicUsize::new(0),
    };
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::custom(auth))
        .service(client());
    let res = call(&mut svc, get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(support::text(res).await, "never");
    assert_eq!(seen(&log).len(), 2);

    // A streaming body: the hook runs, but the 401 is returned as it is.
    let body = Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, Infallible>(
        Bytes::from_static(b"s"),
    )]));
    let res = call(
        &mut svc,
        Request::post(format!("http://{addr}/")).body(body).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(seen(&log).len(), 3);
}

struct Failing;
impl Auth for Failing {
    async fn authorize(&self, _: &mut request::Parts) -> Result<(), BoxError> {
        Err("token endpoint down".into())
    }
}

#[tokio::test]
async fn custom_auth_errors_are_typed() {
    let inner =
        service_fn(|_: Request<Body>| async { Ok::<_, Infallible>(Response::new(Body::empty())) });
    let mut svc = ServiceBuilder::new()
        .layer(AuthLayer::custom(Failing))
        .service(inner);
    let err = call(&mut svc, get("http://h.test/".into()))
        .await
        .unwrap_err();
    let auth = err.downcast_ref::<AuthError>().unwrap();
    assert!(matches!(auth, AuthError::Provider { .. }));
    assert_eq!(
        std::error::Error::source(auth).unwrap().to_string(),
        "token endpoint down"
    );
}

// ---------------------------------------------------------------- isolation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_layers_in_64_concurrent_tasks_never_mix() {
    let (addr, log) = serve(|s| {
        let expected = match s.uri.path() {
            "/alice" => "Basic YWxpY2U6YQ==",
            "/bob" => "Bearer bob-token",
            _ => "",
        };
        if s.headers.get(AUTHORIZATION).is_some_and(|v| v == expected) {
            respond(200, &[], "ok")
        } else {
            respond(403, &[], "mixed")
        }
    })
    .await;
    let alice = ServiceBuilder::new()
        .layer(AuthLayer::basic("alice", "a"))
        .service(client());
    let bob = ServiceBuilder::new()
        .layer(AuthLayer::bearer("bob-token"))
        .service(client());
    let mut tasks = Vec::new();
    for i in 0..64u32 {
        let (mut svc, path) = if i.is_multiple_of(2) {
            (BoxCloneSyncService::new(alice.clone()), "alice")
        } else {
            (BoxCloneSyncService::new(bob.clone()), "bob")
        };
        tasks.push(tokio::spawn(async move {
            call(&mut svc, get(format!("http://{addr}/{path}")))
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(seen(&log).len(), 64);
}

#[tokio::test]
async fn boxes_into_box_clone_sync_service() {
    let inner = service_fn(|req: Request<Body>| async move {
        let seen = req
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| "none".into());
        Ok::<_, Infallible>(Response::new(Body::from(seen)))
    });
    for (layer, expected) in [
        (AuthLayer::basic("u", "p"), "Basic dTpw"),
        (AuthLayer::digest("u", "p"), "none"),
        (
            AuthLayer::custom(Refreshing {
                token: Mutex::new("t".into()),
                refreshes: AtomicUsize::new(0),
            }),
            "Bearer t",
        ),
    ] {
        let svc = ServiceBuilder::new().layer(layer).service(inner);
        let mut boxed: BoxCloneSyncService<Request<Body>, Response<Body>, BoxError> =
            BoxCloneSyncService::new(svc);
        let res = call(&mut boxed, get("http://h.test/".into()))
            .await
            .unwrap();
        assert_eq!(support::text(res).await, expected);
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_challenges_never_panic(
        raw in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..96),
            "(Digest|Basic|digest|Bearer)?( ?[a-z]{1,6}=(\"[^\"]{0,12}\"?|[A-Za-z0-9-]{0,8}),?){0,8}"
                .prop_map(String::into_bytes),
        ],
    ) {
        let Ok(value) = HeaderValue::from_bytes(&raw) else { return Ok(()) };
        let value = Arc::new(value);
        let count = Arc::new(AtomicUsize::new(0));
        let count2 = count.clone();
        let inner = service_fn(move |_: Request<Body>| {
            count2.fetch_add(1, Ordering::SeqCst);
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            res.headers_mut().insert(WWW_AUTHENTICATE, (*value).clone());
            async { Ok::<_, Infallible>(res) }
        });
        let mut svc = ServiceBuilder::new().layer(AuthLayer::digest("u", "p")).service(inner);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let res = rt.block_on(call(&mut svc, Request::builder().method(Method::POST).uri("http://h.test/p").body(Body::from("b")).unwrap())).unwrap();
        prop_assert_eq!(res.status(), 401);
        // Answered at most once.
        prop_assert!(count.load(Ordering::SeqCst) <= 2);
    }
}

// ---------------------------------------------------------------- 401 bodies

/// The answered 401's body is read to its end before the resend (so that its connection can go
/// back to the pool, as requests does), unless it is longer than `MAX_DRAIN`; either way the
/// resend's response is returned.
#[tokio::test]
async fn an_answered_401_body_is_read_before_the_resend() {
    let max = tower_requests_layers::body::MAX_DRAIN as usize;
    for (scheme, chunk, n, read) in [
        ("digest", 100, 3, true),
        ("custom", 100, 3, true),
        ("digest", 1024, max / 1024 + 1, false),
        ("custom", 1024, max / 1024 + 1, false),
    ] {
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ended2 = ended.clone();
        let inner = service_fn(move |req: Request<Body>| {
            let authorized = req.headers().contains_key(AUTHORIZATION)
                && req.headers()[AUTHORIZATION] != "Bearer old";
            let (status, chunks, ended) = if authorized {
                (200, vec![Bytes::from("ok")], Default::default())
            } else {
                (401, vec![Bytes::from(vec![b'x'; chunk]); n], ended2.clone())
            };
            let mut res = Response::new(Tracked {
                chunks: chunks.into(),
                ended,
            });
            *res.status_mut() = StatusCode::from_u16(status).unwrap();
            res.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Digest realm=\"r\", qop=\"auth\", nonce=\"n\""),
            );
            async { Ok::<_, Infallible>(res) }
        });
        let layer = match scheme {
            "digest" => AuthLayer::digest("u", "p"),
            _ => AuthLayer::custom(Refreshing {
                token: Mutex::new("old".into()),
                refreshes: AtomicUsize::new(0),
            }),
        };
        let mut svc = ServiceBuilder::new().layer(layer).service(inner);
        let res = call(&mut svc, get("http://h.test/".into())).await.unwrap();
        assert_eq!(res.status(), 200, "{scheme} {n}x{chunk}");
        assert_eq!(
            ended.load(Ordering::SeqCst),
            read,
            "{scheme}: a 401 body of {n}x{chunk} bytes read to its end"
        );
    }
}
