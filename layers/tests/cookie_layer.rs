//! CookieLayer against an in-process hyper server on 127.0.0.1.
#![cfg(feature = "cookies")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::util::BoxCloneSyncService;
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::cookie::{
    Cookie, CookieJar, CookieLayer, CookieLimits, CookieStore, DefaultCookieStore, UserCookie,
};
use tower_requests_layers::{Body, BoxError};
use url::Url;

/// What the server saw: (path, Cookie header).
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn handle(
    req: Request<hyper::body::Incoming>,
    seen: Seen,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let cookie = req
        .headers()
        .get(COOKIE)
        .map(|v| v.to_str().unwrap_or("<non-ascii>").to_string());
    seen.lock().unwrap().push((path.clone(), cookie.clone()));
    let mut res = Response::new(Full::new(Bytes::from(cookie.clone().unwrap_or_default())));
    let h = res.headers_mut();
    if let Some(c) = &cookie {
        h.insert("x-seen", c.parse().unwrap());
    }
    match path.as_str() {
        "/login" => {
            h.append(SET_COOKIE, "sid=abc; Path=/; HttpOnly".parse().unwrap());
            // Rejected: not a domain of 127.0.0.1.
            h.append(SET_COOKIE, "evil=1; Domain=example.com".parse().unwrap());
        }
        "/redirect" => {
            h.insert(LOCATION, "/landing".parse().unwrap());
            h.append(SET_COOKIE, "hop=1; Path=/".parse().unwrap());
        }
        "/logout" => {
            h.append(SET_COOKIE, "sid=; Max-Age=0; Path=/".parse().unwrap());
        }
        p if p.starts_with("/set/") => {
            let name = &p["/set/".len()..];
            h.append(SET_COOKIE, format!("{name}=1; Path=/").parse().unwrap());
        }
        _ => {}
    }
    if path == "/redirect" {
        *res.status_mut() = StatusCode::FOUND;
    }
    Ok(res)
}

async fn server() -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen2.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(req, seen.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Headers and extension the inner service saw.
type Recorded = (http::HeaderMap, Option<UserCookie>);

/// Where [`recording`] keeps the last [`Recorded`].
type Recording = Arc<Mutex<Option<Recorded>>>;

type HttpClient = Client<HttpConnector, Body>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get(addr: SocketAddr, path: &str) -> Request<Body> {
    Request::get(format!("http://{addr}{path}"))
        .body(Body::empty())
        .unwrap()
}

/// A cookie layer over the real client that records the headers and `UserCookie` each request
/// reached the client with (to replay them as a redirect layer would).
fn recording(
    jar: &CookieJar,
) -> (
    impl Service<
        Request<Body>,
        Response = http::Response<hyper::body::Incoming>,
        Error = hyper_util::client::legacy::Error,
    >,
    Recording,
) {
    let recorded: Recording = Arc::default();
    let rec = recorded.clone();
    let http = client();
    let inner = service_fn(move |req: Request<Body>| {
        *rec.lock().unwrap() = Some((
            req.headers().clone(),
            req.extensions().get::<UserCookie>().cloned(),
        ));
        http.request(req)
    });
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(inner);
    (svc, recorded)
}

fn last_seen(seen: &Seen) -> Option<String> {
    seen.lock().unwrap().last().unwrap().1.clone()
}

#[tokio::test]
async fn server_cookies_come_back() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    let mut svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());

    let res = svc
        .ready()
        .await
        .unwrap()
        .call(get(addr, "/login"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(last_seen(&seen), None);
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    assert_eq!(jar.get("evil"), None);

    svc.ready()
        .await
        .unwrap()
        .call(get(addr, "/profile"))
        .await
        .unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc"));

    svc.ready()
        .await
        .unwrap()
        .call(get(addr, "/logout"))
        .await
        .unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc"));
    assert!(jar.is_empty());
    svc.ready()
        .await
        .unwrap()
        .call(get(addr, "/profile"))
        .await
        .unwrap();
    assert_eq!(last_seen(&seen), None);
}

#[tokio::test]
async fn cookie_from_302_is_stored_and_sent_next() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    let mut svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(get(addr, "/redirect"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(jar.get("hop").as_deref(), Some("1"));
    svc.ready()
        .await
        .unwrap()
        .call(get(addr, "/landing"))
        .await
        .unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("hop=1"));
}

#[tokio::test]
async fn cookies_of_other_hosts_not_sent() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    jar.insert_raw("foreign=1", &Url::parse("http://other.test/").unwrap())
        .unwrap();
    jar.insert_raw("other_ip=1", &Url::parse("http://127.0.0.2/").unwrap())
        .unwrap();
    jar.insert_raw("mine=1", &Url::parse(&format!("http://{addr}/")).unwrap())
        .unwrap();
    let mut svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());
    svc.ready()
        .await
        .unwrap()
        .call(get(addr, "/echo"))
        .await
        .unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("mine=1"));
}

#[tokio::test]
async fn caller_cookie_merged_first_and_never_duplicated() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    jar.insert_raw("sid=abc", &Url::parse(&format!("http://{addr}/")).unwrap())
        .unwrap();
    // Record what the inner service got, to replay it as a redirect layer would.
    let (mut svc, recorded) = recording(&jar);

    let mut req = get(addr, "/echo");
    req.headers_mut().append(COOKIE, "mine=1".parse().unwrap());
    req.headers_mut().append(COOKIE, "also=2".parse().unwrap());
    svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("mine=1; also=2; sid=abc"));

    let (headers, ext) = recorded.lock().unwrap().take().unwrap();
    assert_eq!(ext, None, "the layer inserts no extension");

    // The same request again, as the inner service saw it, after the jar got a cookie: only
    // the pair the header lacks is added.
    jar.insert_raw("new=3", &Url::parse(&format!("http://{addr}/")).unwrap())
        .unwrap();
    let mut again = get(addr, "/next");
    *again.headers_mut() = headers.clone();
    svc.ready().await.unwrap().call(again).await.unwrap();
    assert_eq!(
        last_seen(&seen).as_deref(),
        Some("mine=1; also=2; sid=abc; new=3")
    );

    // A caller that writes a jar cookie by hand does not get it twice.
    let mut req = get(addr, "/echo");
    req.headers_mut()
        .insert(COOKIE, "new=3;mine=1 ; sid=abc".parse().unwrap());
    svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("new=3;mine=1 ; sid=abc"));
    // The caller set `sid` itself: the jar's `sid` is left out.
    let mut req = get(addr, "/echo");
    req.headers_mut()
        .insert(COOKIE, "sid=mine".parse().unwrap());
    svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=mine; new=3"));

    // With `UserCookie` the header is rebuilt: the caller's part + the jar's cookies now (a
    // changed value replaces the old one instead of following it).
    jar.insert_raw("sid=xyz", &Url::parse(&format!("http://{addr}/")).unwrap())
        .unwrap();
    let ext = UserCookie(Some("mine=1; also=2".parse().unwrap()));
    let mut again = get(addr, "/next");
    *again.headers_mut() = headers;
    again.extensions_mut().insert(ext.clone());
    svc.ready().await.unwrap().call(again).await.unwrap();
    assert_eq!(
        last_seen(&seen).as_deref(),
        Some("mine=1; also=2; sid=xyz; new=3")
    );

    // A hop whose Cookie header the redirect layer removed: the caller's part stays out.
    let mut hop = get(addr, "/cross");
    hop.extensions_mut().insert(ext);
    svc.ready().await.unwrap().call(hop).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=xyz; new=3"));
}

#[tokio::test]
async fn relative_uri_passes_untouched() {
    let jar = CookieJar::new();
    jar.insert_raw("sid=abc", &Url::parse("http://example.com/").unwrap())
        .unwrap();
    let seen: Arc<Mutex<Option<Option<String>>>> = Arc::default();
    let s = seen.clone();
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(service_fn(move |req: Request<Body>| {
            *s.lock().unwrap() = Some(
                req.headers()
                    .get(COOKIE)
                    .map(|v| v.to_str().unwrap().to_string()),
            );
            assert!(req.extensions().get::<UserCookie>().is_none());
            let mut res = Response::new(Body::empty());
            res.headers_mut().insert(SET_COOKIE, "x=1".parse().unwrap());
            async move { Ok::<_, BoxError>(res) }
        }));
    let req = Request::get("/relative")
        .header(COOKIE, "a=1")
        .body(Body::empty())
        .unwrap();
    svc.oneshot(req).await.unwrap();
    assert_eq!(seen.lock().unwrap().take().unwrap().as_deref(), Some("a=1"));
    assert_eq!(jar.len(), 1);
}

/// The layer adds no error of its own: the inner service's error comes back as it is, with
/// its own type.
#[tokio::test]
async fn inner_errors_pass_through_unchanged() {
    let jar = CookieJar::new();
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar))
        .service(service_fn(|_req: Request<Body>| async {
            Err::<Response<Body>, _>(std::io::Error::other("boom"))
        }));
    let err: std::io::Error = svc
        .oneshot(
            Request::get("http://example.com/")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "boom");
}

/// An infallible inner service keeps the layer infallible (what an axum `Router::layer` needs),
/// and the cookies still flow.
#[tokio::test]
async fn infallible_inner_service_stays_infallible() {
    fn infallible<S: Service<Request<Body>, Error = Infallible>>(s: S) -> S {
        s
    }
    let jar = CookieJar::new();
    let svc = infallible(CookieLayer::new(jar.clone()).layer(service_fn(
        |req: Request<Body>| async move {
            let mut res = Response::new(Body::empty());
            res.headers_mut().insert(SET_COOKIE, "a=1".parse().unwrap());
            if let Some(c) = req.headers().get(COOKIE) {
                res.headers_mut().insert("x-seen", c.clone());
            }
            Ok::<_, Infallible>(res)
        },
    )));
    let req = || {
        Request::get("http://example.com/")
            .body(Body::empty())
            .unwrap()
    };
    svc.clone().oneshot(req()).await.unwrap();
    let res = svc.oneshot(req()).await.unwrap();
    assert_eq!(res.headers()["x-seen"], "a=1");
}

#[tokio::test]
async fn works_inside_box_clone_sync_service() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client())
        .map_err(Into::<BoxError>::into);
    let boxed: BoxCloneSyncService<Request<Body>, Response<hyper::body::Incoming>, BoxError> =
        BoxCloneSyncService::new(svc);
    boxed.clone().oneshot(get(addr, "/login")).await.unwrap();
    boxed.oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc"));
}

#[tokio::test]
async fn two_jars_are_isolated() {
    let (addr, seen) = server().await;
    let (jar_a, jar_b) = (CookieJar::new(), CookieJar::new());
    let svc_a = ServiceBuilder::new()
        .layer(CookieLayer::new(jar_a.clone()))
        .service(client());
    let svc_b = ServiceBuilder::new()
        .layer(CookieLayer::new(jar_b.clone()))
        .service(client());
    svc_a.clone().oneshot(get(addr, "/login")).await.unwrap();
    svc_b.clone().oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen), None);
    svc_a.oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc"));
    assert!(jar_b.is_empty());
    assert_eq!(jar_a.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tasks_through_the_layer() {
    let (addr, seen) = server().await;
    // All 64 cookies belong to 127.0.0.1: lift the per-domain cap of 50.
    let jar = CookieJar::with_limits(CookieLimits::default().max_per_domain(100));
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());
    let mut tasks = Vec::new();
    for i in 0..64 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            svc.clone()
                .oneshot(get(addr, &format!("/set/t{i}")))
                .await
                .unwrap();
            let res = svc.oneshot(get(addr, "/echo")).await.unwrap();
            let seen = res.headers()["x-seen"].to_str().unwrap().to_string();
            assert!(
                seen.split("; ").any(|c| c == format!("t{i}=1")),
                "task {i} did not get its cookie back: {seen}"
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(jar.len(), 64);
    assert_eq!(seen.lock().unwrap().len(), 128);
}

#[tokio::test]
async fn empty_jar_joins_caller_lines_and_a_later_pass_adds_new_cookies_once() {
    let (addr, seen) = server().await;
    let jar = CookieJar::new();
    let (mut svc, recorded) = recording(&jar);

    let mut req = get(addr, "/echo");
    req.headers_mut().append(COOKIE, "mine=1".parse().unwrap());
    req.headers_mut().append(COOKIE, "also=2".parse().unwrap());
    svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("mine=1; also=2"));
    let (headers, ext) = recorded.lock().unwrap().take().unwrap();
    assert_eq!(headers.get_all(COOKIE).iter().count(), 1, "one Cookie line");
    assert_eq!(ext, None, "the layer inserts no extension");

    // A later pass of that request after the jar got a cookie: the header is the caller's,
    // the jar's cookie is added once.
    jar.insert_raw("sid=abc", &Url::parse(&format!("http://{addr}/")).unwrap())
        .unwrap();
    let mut again = get(addr, "/next");
    *again.headers_mut() = headers;
    svc.ready().await.unwrap().call(again).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("mine=1; also=2; sid=abc"));
}

/// A store of the caller's own: cookies per host, in a map, with a log of what the layer asked.
#[derive(Default)]
struct MapStore {
    cookies: Mutex<Vec<(String, String, String)>>,
    log: Mutex<Vec<String>>,
}

impl CookieStore for MapStore {
    fn store_response_cookies(
        &self,
        url: &Url,
        set_cookies: &mut dyn Iterator<Item = &http::HeaderValue>,
    ) {
        let host = url.host_str().unwrap_or_default().to_string();
        for line in set_cookies.filter_map(|v| v.to_str().ok()) {
            self.log.lock().unwrap().push(format!("store {url} {line}"));
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let mut cookies = self.cookies.lock().unwrap();
            cookies.retain(|(h, n, _)| !(h == &host && n == name));
            if !line.contains("Max-Age=0") {
                cookies.push((host.clone(), name.to_string(), value.to_string()));
            }
        }
    }

    fn cookie_header(&self, url: &Url) -> Option<http::HeaderValue> {
        self.log.lock().unwrap().push(format!("header {url}"));
        let host = url.host_str().unwrap_or_default();
        let pairs: Vec<String> = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _, _)| h == host)
            .map(|(_, n, v)| format!("{n}={v}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; ").parse().unwrap())
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(h, n, v)| Cookie::new(n, v, h, "/"))
            .collect()
    }

    fn remove(&self, domain: &str, _path: &str, name: &str) -> bool {
        let mut cookies = self.cookies.lock().unwrap();
        let before = cookies.len();
        cookies.retain(|(h, n, _)| !(h == domain && n == name));
        cookies.len() != before
    }

    fn clear(&self) {
        self.cookies.lock().unwrap().clear();
    }
}

#[tokio::test]
async fn layer_over_a_custom_store() {
    let (addr, seen) = server().await;
    let store = Arc::new(MapStore::default());
    let jar = CookieJar::with_store(store.clone());
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());

    svc.clone().oneshot(get(addr, "/login")).await.unwrap();
    // The store got both lines (it applies no Domain rule, so it keeps `evil` too).
    assert_eq!(jar.get("sid").as_deref(), Some("abc"));
    assert_eq!(jar.len(), 2);
    svc.clone().oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc; evil=1"));
    // The caller's own Cookie header is merged with the store's as with the default store.
    let mut req = get(addr, "/echo");
    req.headers_mut()
        .insert(COOKIE, "sid=mine".parse().unwrap());
    svc.clone().oneshot(req).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=mine; evil=1"));
    svc.clone().oneshot(get(addr, "/logout")).await.unwrap();
    assert_eq!(jar.get("sid"), None);
    assert_eq!(jar.remove("evil"), 1);
    assert!(jar.is_empty());
    svc.oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen), None);

    let log = store.log.lock().unwrap().clone();
    let base = format!("http://{addr}");
    assert_eq!(
        log,
        [
            format!("header {base}/login"),
            format!("store {base}/login sid=abc; Path=/; HttpOnly"),
            format!("store {base}/login evil=1; Domain=example.com"),
            format!("header {base}/echo"),
            format!("header {base}/echo"),
            format!("header {base}/logout"),
            format!("store {base}/logout sid=; Max-Age=0; Path=/"),
            format!("header {base}/echo"),
        ]
    );
}

/// A default store handed to `with_store` is the built-in one, fast paths included.
#[tokio::test]
async fn with_store_of_the_default_store() {
    let (addr, seen) = server().await;
    let jar = CookieJar::with_store(DefaultCookieStore::with_limits(
        CookieLimits::default().max_per_domain(1),
    ));
    assert_eq!(jar.limits().max_per_domain, 1);
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());
    svc.clone().oneshot(get(addr, "/login")).await.unwrap();
    svc.clone().oneshot(get(addr, "/set/x")).await.unwrap();
    // The cap of one cookie per domain evicted `sid`.
    assert_eq!(
        jar.get_dict().into_iter().collect::<Vec<_>>(),
        [("x".to_string(), "1".to_string())]
    );
    svc.oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("x=1"));
}

/// The backend over `cookie_store` behind the layer: set, send, reject, delete, list, clear.
#[cfg(feature = "cookie-store")]
#[tokio::test]
async fn layer_over_the_cookie_store_backend() {
    use tower_requests_layers::cookie::{CookieError, CookieStoreBackend};
    let (addr, seen) = server().await;
    let jar = CookieJar::with_store(CookieStoreBackend::new());
    let svc = ServiceBuilder::new()
        .layer(CookieLayer::new(jar.clone()))
        .service(client());
    svc.clone().oneshot(get(addr, "/login")).await.unwrap();
    // `evil=1; Domain=example.com` does not domain-match 127.0.0.1: cookie_store rejects it too.
    assert_eq!(
        jar.get_dict().into_iter().collect::<Vec<_>>(),
        [("sid".to_string(), "abc".to_string())]
    );
    let sid = jar.iter().next().unwrap();
    assert!(sid.http_only() && sid.host_only());
    assert_eq!((sid.domain(), sid.path()), ("127.0.0.1", "/"));
    svc.clone().oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen).as_deref(), Some("sid=abc"));
    let u = Url::parse(&format!("http://{addr}/")).unwrap();
    let e = jar.insert_raw("x=1; Domain=example.com", &u).unwrap_err();
    assert!(matches!(e, CookieError::DomainMismatch { .. }), "{e}");
    svc.clone().oneshot(get(addr, "/logout")).await.unwrap();
    assert!(jar.is_empty());
    jar.insert_raw("a=1", &u).unwrap();
    jar.insert_raw("b=2", &u).unwrap();
    assert!(jar.remove_exact("127.0.0.1", "/", "a"));
    assert_eq!(jar.len(), 1);
    jar.clear();
    svc.oneshot(get(addr, "/echo")).await.unwrap();
    assert_eq!(last_seen(&seen), None);
}
