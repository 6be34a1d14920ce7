//! FollowRedirectLayer: requests' method/body matrix, limits, history, URL resolution, and
//! credential stripping across origins (with real servers on 127.0.0.1 and with mocks).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION,
};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::util::BoxCloneSyncService;
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::auth::Origin;
use tower_requests_layers::redirect::{
    EffectiveUri, FollowRedirectLayer, Fragment, History, OriginalUri, RedirectError,
    TooManyRedirects,
};
use tower_requests_layers::{AuthLayer, Body, BoxError};

#[path = "auth_support/mod.rs"]
mod support;
use support::{client, respond, seen, serve};

#[derive(Clone, Debug)]
struct Sent {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    marker: Option<Marker>,
    original: Option<Uri>,
}

#[derive(Clone, Debug, PartialEq)]
struct Marker(u32);

type Sents = Arc<Mutex<Vec<Sent>>>;

/// A mock server: `route(uri) -> (status, location)`.
fn mock<F>(
    route: F,
) -> (
    impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send>
        + Clone
        + Send
        + Sync,
    Sents,
)
where
    F: Fn(&Uri) -> (u16, Option<String>) + Clone + Send + Sync + 'static,
{
    let log: Sents = Arc::default();
    let log2 = log.clone();
    let svc = service_fn(move |req: Request<Body>| {
        let route = route.clone();
        let log = log2.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let (status, location) = route(&parts.uri);
            log.lock().unwrap().push(Sent {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
                marker: parts.extensions.get::<Marker>().cloned(),
                original: parts.extensions.get::<OriginalUri>().map(|o| o.0.clone()),
            });
            let mut res = Response::builder().status(status);
            if let Some(location) = location {
                res = res.header(LOCATION, location);
            }
            Ok::<_, Infallible>(res.body(Body::from("redirect body")).unwrap())
        }
    });
    (svc, log)
}

fn sent(log: &Sents) -> Vec<Sent> {
    log.lock().unwrap().clone()
}

async fn call<S, R>(svc: &mut S, req: Request<Body>) -> Result<Response<R>, BoxError>
where
    S: Service<Request<Body>, Response = Response<R>, Error = BoxError>,
{
    svc.ready().await?.call(req).await
}

#[tokio::test]
async fn method_and_body_matrix() {
    for status in [301u16, 302, 303, 307, 308] {
        for method in ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"] {
            let (inner, log) = mock(move |uri| {
                if uri.path() == "/start" {
                    (status, Some("/end".into()))
                } else {
                    (200, None)
                }
            });
            let mut svc = FollowRedirectLayer::new().layer_over(inner);
            let req = Request::builder()
                .method(method)
                .uri("http://h.test/start")
                .header(CONTENT_TYPE, "text/plain")
                .header(CONTENT_LENGTH, "4")
                .body(Body::from("data"))
                .unwrap();
            let res = call(&mut svc, req).await.unwrap();
            assert_eq!(res.status(), 200);
            let log = sent(&log);
            assert_eq!(log.len(), 2, "{status} {method}");
            let hop = &log[1];
            let expected_method = match (status, method) {
                (302 | 303, m) if m != "HEAD" => "GET",
                (301, "POST") => "GET",
                (_, m) => m,
            };
            assert_eq!(hop.method.as_str(), expected_method, "{status} {method}");
            assert_eq!(hop.uri, "http://h.test/end");
            if status == 307 || status == 308 {
                assert_eq!(&hop.body[..], b"data", "{status} {method}");
                assert_eq!(hop.headers[CONTENT_TYPE], "text/plain");
                assert_eq!(hop.headers[CONTENT_LENGTH], "4");
            } else {
                assert!(hop.body.is_empty(), "{status} {method}");
                assert!(hop.headers.get(CONTENT_TYPE).is_none(), "{status} {method}");
                assert!(
                    hop.headers.get(CONTENT_LENGTH).is_none(),
                    "{status} {method}"
                );
            }
        }
    }
}

trait LayerOver {
    fn layer_over<S>(self, s: S) -> tower_requests_layers::redirect::FollowRedirect<S>;
}
impl LayerOver for FollowRedirectLayer {
    fn layer_over<S>(self, s: S) -> tower_requests_layers::redirect::FollowRedirect<S> {
        tower::Layer::layer(&self, s)
    }
}

#[tokio::test]
async fn redirect_loop_is_an_error_after_30() {
    let (inner, log) = mock(|_| (302, Some("/loop".into())));
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let err = call(
        &mut svc,
        Request::get("http://h.test/loop")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap_err();
    let err = err
        .downcast_ref::<TooManyRedirects>()
        .expect("TooManyRedirects");
    assert_eq!(err.max, 30);
    assert_eq!(err.last_uri, "http://h.test/loop");
    assert_eq!(sent(&log).len(), 31);

    let (inner, log) = mock(|_| (301, Some("/loop".into())));
    let mut svc = FollowRedirectLayer::new().max(3).layer_over(inner);
    let err = call(
        &mut svc,
        Request::get("http://h.test/").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.downcast_ref::<TooManyRedirects>().unwrap().max, 3);
    assert_eq!(sent(&log).len(), 4);
}

#[tokio::test]
async fn history_and_effective_uri() {
    let (inner, log) = mock(|uri| match uri.path() {
        "/a" => (301, Some("/b".into())),
        "/b" => (307, Some("http://other.test/c?x=1".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let res = call(
        &mut svc,
        Request::get("http://h.test/a").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(sent(&log).len(), 3);
    let history = res.extensions().get::<History>().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(history[0].uri, "http://h.test/a");
    assert_eq!(history[0].headers[LOCATION], "/b");
    assert_eq!(history[1].status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(history[1].uri, "http://h.test/b");
    assert_eq!(
        res.extensions().get::<EffectiveUri>().unwrap().0,
        "http://other.test/c?x=1"
    );
    assert_eq!(text(res).await, "redirect body");

    // No redirect: the response says nothing about redirects (its URI is the request's).
    let res = call(
        &mut svc,
        Request::get("http://h.test/z").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert!(res.extensions().get::<History>().is_none());
    assert!(res.extensions().get::<EffectiveUri>().is_none());
}

async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn userinfo_never_shows_in_history_or_effective_uri() {
    let (inner, log) = mock(|uri| match uri.path() {
        "/a" => (302, Some("/b".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let res = call(
        &mut svc,
        Request::get("http://user:pw@h.test/a")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    // Without an auth layer the userinfo is passed down as it is (the auth layer strips it).
    assert_eq!(sent(&log)[1].uri, "http://user:pw@h.test/b");
    assert_eq!(
        res.extensions().get::<EffectiveUri>().unwrap().0,
        "http://h.test/b"
    );
    assert_eq!(
        res.extensions().get::<History>().unwrap()[0].uri,
        "http://h.test/a"
    );
}

#[tokio::test]
async fn disabled_returns_the_3xx() {
    let (inner, log) = mock(|_| (302, Some("/elsewhere".into())));
    let mut svc = FollowRedirectLayer::none().layer_over(inner);
    let res = call(
        &mut svc,
        Request::get("http://h.test/").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 302);
    assert!(res.extensions().get::<History>().is_none());
    assert_eq!(sent(&log).len(), 1);
}

#[tokio::test]
async fn relative_protocol_relative_and_fragments() {
    let (inner, log) = mock(|uri| match (uri.host(), uri.path()) {
        (Some("h.test"), "/dir/a") => (302, Some("b?q=1".into())),
        (Some("h.test"), "/dir/b") => (302, Some("//other.test/c".into())),
        (Some("other.test"), "/c") => (302, Some("/d#newfrag".into())),
        (Some("other.test"), "/d") => (302, Some("../e".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let req = Request::get("https://h.test/dir/a")
        .extension(Fragment("orig".into()))
        .body(Body::empty())
        .unwrap();
    let res = call(&mut svc, req).await.unwrap();
    let uris: Vec<String> = sent(&log).iter().map(|s| s.uri.to_string()).collect();
    assert_eq!(
        uris,
        [
            "https://h.test/dir/a",
            "https://h.test/dir/b?q=1",
            "https://other.test/c",
            "https://other.test/d",
            "https://other.test/e"
        ]
    );
    assert_eq!(res.extensions().get::<Fragment>().unwrap().0, "newfrag");

    // The original fragment is carried over when no Location has one.
    let (inner, _) = mock(|uri| match uri.path() {
        "/a" => (301, Some("/b".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let req = Request::get("http://h.test/a")
        .extension(Fragment("orig".into()))
        .body(Body::empty())
        .unwrap();
    let res = call(&mut svc, req).await.unwrap();
    assert_eq!(res.extensions().get::<Fragment>().unwrap().0, "orig");
}

#[tokio::test]
async fn streaming_body_on_307_is_an_error_but_303_is_fine() {
    let stream = || {
        Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, Infallible>(
            Bytes::from_static(b"chunk"),
        )]))
    };
    let (inner, log) = mock(|uri| match uri.path() {
        "/307" => (307, Some("/end".into())),
        "/303" => (303, Some("/end".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let err = call(
        &mut svc,
        Request::post("http://h.test/307").body(stream()).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<RedirectError>(),
        Some(RedirectError::BodyNotReplayable { status, .. }) if *status == 307
    ));
    assert_eq!(sent(&log).len(), 1);
    assert_eq!(&sent(&log)[0].body[..], b"chunk");

    let res = call(
        &mut svc,
        Request::post("http://h.test/303").body(stream()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let log = sent(&log);
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].method, Method::GET);
}

#[tokio::test]
async fn bad_locations_are_typed_errors() {
    for (location, scheme_error) in [
        ("http://[::1", false),
        ("http://", false),
        ("ftp://h.test/file", true),
        ("javascript:alert(1)", true),
        ("file:///etc/passwd", true),
    ] {
        let loc = location.to_string();
        let (inner, log) = mock(move |_| (302, Some(loc.clone())));
        let mut svc = FollowRedirectLayer::new().layer_over(inner);
        let err = call(
            &mut svc,
            Request::get("http://h.test/").body(Body::empty()).unwrap(),
        )
        .await
        .unwrap_err();
        let err = err.downcast_ref::<RedirectError>().expect(location);
        if scheme_error {
            assert!(
                matches!(err, RedirectError::UnsupportedScheme { .. }),
                "{location}: {err}"
            );
        } else {
            assert!(
                matches!(err, RedirectError::InvalidLocation { .. }),
                "{location}: {err}"
            );
        }
        assert_eq!(sent(&log).len(), 1);
    }

    // A 3xx without Location is returned as it is (requests: not a redirect).
    let (inner, _) = mock(|_| (302, None));
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let res = call(
        &mut svc,
        Request::get("http://h.test/").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 302);
}

#[tokio::test]
async fn extensions_are_copied_onto_every_hop() {
    let (inner, log) = mock(|uri| match uri.path() {
        "/a" => (302, Some("http://other.test/b".into())),
        "/b" => (308, Some("/c".into())),
        _ => (200, None),
    });
    let mut svc = FollowRedirectLayer::new().layer_over(inner);
    let req = Request::get("http://h.test/a")
        .extension(Marker(7))
        .body(Body::empty())
        .unwrap();
    call(&mut svc, req).await.unwrap();
    let log = sent(&log);
    assert_eq!(log.len(), 3);
    for (i, s) in log.iter().enumerate() {
        assert_eq!(s.marker, Some(Marker(7)));
        // The first request is the original; every hop names it.
        if i == 0 {
            assert_eq!(s.original, None);
        } else {
            assert_eq!(s.original.as_ref().unwrap(), "http://h.test/a");
        }
    }
}

fn with_credentials(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(COOKIE, "sid=secret")
        .header(PROXY_AUTHORIZATION, "Basic cHJveHk6cHc=")
        .body(Body::empty())
        .unwrap()
}

fn has_credentials(headers: &HeaderMap) -> [bool; 3] {
    [
        headers.contains_key(AUTHORIZATION),
        headers.contains_key(PROXY_AUTHORIZATION),
        headers.contains_key(COOKIE),
    ]
}

/// Real servers: other port and other host name drop credentials, same origin keeps them.
#[tokio::test]
async fn cross_origin_redirects_drop_credentials_against_servers() {
    let (b_addr, b_log) = serve(|_| respond(200, &[], "b")).await;
    let b_port = b_addr.port();
    let a_port = Arc::new(Mutex::new(0u16));
    let a_port2 = a_port.clone();
    let (a_addr, a_log) = serve(move |s| {
        let a = *a_port2.lock().unwrap();
        match s.uri.path() {
            "/other-port" => respond(
                302,
                &[("location", &format!("http://127.0.0.1:{b_port}/t"))],
                "",
            ),
            "/other-host" => respond(307, &[("location", &format!("http://localhost:{a}/t"))], ""),
            "/same" => respond(301, &[("location", "/t")], ""),
            _ => respond(200, &[], "a"),
        }
    })
    .await;
    *a_port.lock().unwrap() = a_addr.port();
    let mut svc = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(AuthLayer::basic("user", "pw"))
        .service(client());

    let res = call(
        &mut svc,
        with_credentials(&format!("http://127.0.0.1:{}/same", a_addr.port())),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let a = seen(&a_log);
    assert_eq!(a.len(), 2);
    assert_eq!(has_credentials(&a[0].headers), [true; 3]);
    assert_eq!(has_credentials(&a[1].headers), [true; 3]);
    assert_eq!(a[1].headers[AUTHORIZATION], "Basic dXNlcjpwdw==");

    let res = call(
        &mut svc,
        with_credentials(&format!("http://127.0.0.1:{}/other-port", a_addr.port())),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(has_credentials(&seen(&a_log)[2].headers), [true; 3]);
    let b = seen(&b_log);
    assert_eq!(b.len(), 1);
    assert_eq!(has_credentials(&b[0].headers), [false; 3]);

    let res = call(
        &mut svc,
        with_credentials(&format!("http://127.0.0.1:{}/other-host", a_addr.port())),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let a = seen(&a_log);
    assert_eq!(a.len(), 5);
    assert_eq!(a[4].headers["host"], format!("localhost:{}", a_addr.port()));
    assert_eq!(has_credentials(&a[4].headers), [false; 3]);
}

/// Mocks for scheme changes: https→http drops, http→https on default ports keeps.
#[tokio::test]
async fn scheme_changes() {
    let cases = [
        ("https://h.test/a", "http://h.test/b", false),
        ("http://h.test/a", "https://h.test/b", true),
        ("http://h.test:80/a", "https://h.test:443/b", true),
        ("http://h.test:8080/a", "https://h.test/b", false),
        ("http://h.test/a", "https://h.test:8443/b", false),
        ("https://h.test/a", "https://H.TEST:443/b", true),
    ];
    for (from, to, keep) in cases {
        let to2 = to.to_string();
        let (inner, log) = mock(move |uri| {
            if uri.path() == "/a" {
                (302, Some(to2.clone()))
            } else {
                (200, None)
            }
        });
        let mut svc = ServiceBuilder::new()
            .layer(FollowRedirectLayer::new())
            .layer(AuthLayer::bearer("tok"))
            .service(inner);
        call(&mut svc, with_credentials(from)).await.unwrap();
        let log = sent(&log);
        assert_eq!(log.len(), 2);
        assert_eq!(has_credentials(&log[0].headers), [true; 3], "{from}");
        assert_eq!(
            has_credentials(&log[1].headers),
            [keep; 3],
            "{from} -> {to}"
        );
    }
}

#[tokio::test]
async fn boxes_into_box_clone_sync_service() {
    let (inner, _) = mock(|uri| match uri.path() {
        "/a" => (302, Some("/b".into())),
        _ => (200, None),
    });
    let svc = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .service(inner);
    let mut boxed: BoxCloneSyncService<Request<Body>, Response<Body>, BoxError> =
        BoxCloneSyncService::new(svc);
    let res = call(
        &mut boxed,
        Request::get("http://h.test/a").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.extensions().get::<History>().unwrap().len(), 1);
}

const ORIGINS: &[&str] = &[
    "http://a.test",
    "http://a.test:8080",
    "https://a.test",
    "http://b.test",
    "https://b.test:8443",
    "http://A.TEST:80",
    "http://127.0.0.1",
    "http://localhost",
];

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_locations_never_panic(
        location in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..48).prop_map(|v| v),
            "[a-zA-Z0-9:/?#@%.\\[\\]\\\\ _~-]{0,40}".prop_map(String::into_bytes),
        ],
        status in prop::sample::select(vec![301u16, 302, 303, 307, 308]),
    ) {
        let Ok(value) = http::HeaderValue::from_bytes(&location) else { return Ok(()) };
        let value = Arc::new(value);
        block_on(async move {
            let svc = service_fn(move |req: Request<Body>| {
                let value = value.clone();
                async move {
                    let mut res = Response::new(Body::empty());
                    if req.uri().path() == "/start" {
                        *res.status_mut() = StatusCode::from_u16(status).unwrap();
                        res.headers_mut().insert(LOCATION, (*value).clone());
                    }
                    Ok::<_, Infallible>(res)
                }
            });
            let mut svc = FollowRedirectLayer::new().max(3).layer_over(svc);
            let req = Request::post("http://h.test/start").body(Body::from("x")).unwrap();
            let _ = call(&mut svc, req).await;
        });
    }

    #[test]
    fn credentials_never_reach_another_origin(
        hops in proptest::collection::vec(
            (0..ORIGINS.len(), prop::sample::select(vec![301u16, 302, 303, 307, 308]), any::<bool>()),
            0..8,
        ),
        first in 0..ORIGINS.len(),
    ) {
        let first_uri: Uri = format!("{}/hop/0", ORIGINS[first]).parse().unwrap();
        let hops2 = hops.clone();
        let (inner, log) = mock(move |uri| {
            let k: usize = uri.path().trim_start_matches("/hop/").parse().unwrap_or(usize::MAX);
            match hops2.get(k) {
                Some(&(origin, status, relative)) => {
                    let loc = if relative {
                        format!("/hop/{}", k + 1)
                    } else {
                        format!("{}/hop/{}", ORIGINS[origin], k + 1)
                    };
                    (status, Some(loc))
                }
                None => (200, None),
            }
        });
        let mut svc = ServiceBuilder::new()
            .layer(FollowRedirectLayer::new())
            .layer(AuthLayer::basic("u", "secret"))
            .service(inner);
        let res = block_on(call(&mut svc, with_credentials(&first_uri.to_string())));
        prop_assert!(res.is_ok());
        let given = Origin::from_uri(&first_uri).unwrap();
        let log = sent(&log);
        prop_assert_eq!(log.len(), hops.len() + 1);
        prop_assert!(log[0].headers.contains_key(AUTHORIZATION));
        for s in &log {
            let target = Origin::from_uri(&s.uri).unwrap();
            if s.headers.contains_key(AUTHORIZATION)
                || s.headers.contains_key(PROXY_AUTHORIZATION)
                || s.headers.contains_key(COOKIE)
            {
                prop_assert!(given.allows(&target), "{} leaked to {}", given, target);
            }
        }
    }
}
