//! Shared helpers for the headers/auth/redirect integration tests: an in-process hyper server on
//! 127.0.0.1 that records what it received, and a hyper-util client as the inner service.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower_requests_layers::Body;

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The port of the server that got it.
    pub port: u16,
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// A response to send back.
pub fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

/// Starts a server on 127.0.0.1 answering with `handler`; returns its address and the log of
/// the requests it got.
pub async fn serve<F>(handler: F) -> (SocketAddr, Log)
where
    F: Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let handler = Arc::new(handler);
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    let log = log.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let seen = Seen {
                            method: parts.method,
                            uri: parts.uri,
                            headers: parts.headers,
                            body,
                            port: addr.port(),
                        };
                        let res = handler(&seen);
                        log.lock().unwrap().push(seen);
                        Ok::<_, Infallible>(res)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, log)
}

/// The pooled hyper-util client, as a tower service over [`Body`].
pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

pub async fn text<B>(res: Response<B>) -> String
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// A response body in `chunks` that notes whether it was read to its end.
pub struct Tracked {
    pub chunks: std::collections::VecDeque<Bytes>,
    pub ended: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Tracked {
    /// `n` chunks of `size` bytes, and the flag that says whether they were all read.
    pub fn new(n: usize, size: usize) -> (Tracked, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body = Tracked {
            chunks: vec![Bytes::from(vec![b'x'; size]); n].into(),
            ended: ended.clone(),
        };
        (body, ended)
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match self.chunks.pop_front() {
            Some(chunk) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(chunk)))),
            None => {
                self.ended.store(true, std::sync::atomic::Ordering::SeqCst);
                std::task::Poll::Ready(None)
            }
        }
    }
}
