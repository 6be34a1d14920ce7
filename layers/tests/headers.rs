//! DefaultHeadersLayer: defaults added where missing, runtime changes, per-request removal.

use std::convert::Infallible;

use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower::util::BoxCloneSyncService;
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_requests_layers::headers::{
    default_headers, DefaultHeadersLayer, SharedHeaders, WithoutHeaders,
};
use tower_requests_layers::{Body, BoxError};

#[path = "auth_support/mod.rs"]
mod support;
use support::{client, respond, seen, serve};

fn echo() -> impl Service<
    Request<Body>,
    Response = Response<HeaderMap>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + Sync {
    service_fn(|req: Request<Body>| async move {
        Ok::<_, Infallible>(Response::new(req.headers().clone()))
    })
}

async fn headers_seen<S>(svc: &mut S, req: Request<Body>) -> HeaderMap
where
    S: Service<Request<Body>, Response = Response<HeaderMap>>,
    S::Error: std::fmt::Debug,
{
    svc.ready()
        .await
        .unwrap()
        .call(req)
        .await
        .unwrap()
        .into_body()
}

#[tokio::test]
async fn defaults_are_added_without_overriding_against_a_server() {
    let (addr, log) = serve(|_| respond(200, &[], "ok")).await;
    let mut defaults = default_headers();
    defaults.insert("x-session", HeaderValue::from_static("s"));
    let mut svc = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::new(defaults))
        .service(client());
    let req = Request::get(format!("http://{addr}/"))
        .header(USER_AGENT, "mine/2")
        .body(Body::empty())
        .unwrap();
    let res = svc.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let got = seen(&log);
    assert_eq!(got.len(), 1);
    let h = &got[0].headers;
    assert_eq!(h[USER_AGENT], "mine/2");
    assert_eq!(h.get_all(USER_AGENT).iter().count(), 1);
    assert_eq!(h[ACCEPT], "*/*");
    assert_eq!(h["x-session"], "s");
}

#[tokio::test]
async fn multiple_default_values_are_all_added() {
    let mut defaults = HeaderMap::new();
    defaults.append("x-multi", HeaderValue::from_static("a"));
    defaults.append("x-multi", HeaderValue::from_static("b"));
    let mut svc = DefaultHeadersLayer::new(defaults).layer(echo());
    use tower::Layer;
    let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
    let values: Vec<_> = h.get_all("x-multi").iter().collect();
    assert_eq!(values, ["a", "b"]);

    // The request's own value replaces all of them.
    let mut req = Request::new(Body::empty());
    req.headers_mut()
        .insert("x-multi", HeaderValue::from_static("own"));
    let h = headers_seen(&mut svc, req).await;
    let values: Vec<_> = h.get_all("x-multi").iter().collect();
    assert_eq!(values, ["own"]);
}

#[tokio::test]
async fn runtime_changes_reach_an_already_built_service() {
    let shared = SharedHeaders::new(default_headers());
    let mut svc = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::shared(shared.clone()))
        .service(echo());
    let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
    assert!(h[USER_AGENT]
        .to_str()
        .unwrap()
        .starts_with("tower-requests/"));

    let x = HeaderName::from_static("x-token");
    assert!(shared
        .insert(x.clone(), HeaderValue::from_static("t1"))
        .is_none());
    shared.insert(USER_AGENT, HeaderValue::from_static("MyApp/1.0"));
    let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
    assert_eq!(h[&x], "t1");
    assert_eq!(h[USER_AGENT], "MyApp/1.0");

    assert_eq!(shared.remove(&x).unwrap(), "t1");
    assert_eq!(shared.get(&USER_AGENT).unwrap(), "MyApp/1.0");
    let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
    assert!(h.get(&x).is_none());

    // A clone of the service shares the same defaults.
    let mut clone = svc.clone();
    shared.remove(&ACCEPT);
    let h = headers_seen(&mut clone, Request::new(Body::empty())).await;
    assert!(h.get(ACCEPT).is_none());
    assert_eq!(shared.snapshot().len(), 1);
}

#[tokio::test]
async fn a_request_can_remove_a_default() {
    let mut svc = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::new(default_headers()))
        .service(echo());
    let mut without = WithoutHeaders::new();
    without.insert(USER_AGENT);
    let req = Request::builder()
        .extension(without)
        .body(Body::empty())
        .unwrap();
    let h = headers_seen(&mut svc, req).await;
    assert!(h.get(USER_AGENT).is_none());
    assert_eq!(h[ACCEPT], "*/*");

    // Removing a default does not remove the request's own value.
    let req = Request::builder()
        .header(USER_AGENT, "explicit")
        .extension([USER_AGENT].into_iter().collect::<WithoutHeaders>())
        .body(Body::empty())
        .unwrap();
    let h = headers_seen(&mut svc, req).await;
    assert_eq!(h[USER_AGENT], "explicit");

    // The next request gets the default again.
    let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
    assert!(h.contains_key(USER_AGENT));
}

#[tokio::test]
async fn concurrent_writers_and_readers() {
    let shared = SharedHeaders::new(HeaderMap::new());
    let svc = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::shared(shared.clone()))
        .service(echo());
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let shared = shared.clone();
        let mut svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let name = HeaderName::try_from(format!("x-{i}")).unwrap();
            shared.insert(name.clone(), HeaderValue::from(i));
            let h = headers_seen(&mut svc, Request::new(Body::empty())).await;
            assert_eq!(h[&name], i.to_string().as_str());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(shared.snapshot().len(), 32);
}

#[tokio::test]
async fn boxes_into_box_clone_sync_service() {
    let svc = ServiceBuilder::new()
        .layer(DefaultHeadersLayer::new(default_headers()))
        .map_err(BoxError::from)
        .service(echo());
    let mut boxed: BoxCloneSyncService<Request<Body>, Response<HeaderMap>, BoxError> =
        BoxCloneSyncService::new(svc);
    let h = headers_seen(&mut boxed, Request::new(Body::empty())).await;
    assert_eq!(h[ACCEPT], "*/*");
}
