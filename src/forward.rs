//! Plain-http requests through a forward proxy share the proxy's connections, whatever their
//! target host (urllib3's `ProxyManager` does the same).
//!
//! hyper-util's pooled client keys its pool by the request's scheme and authority, so through
//! one proxy it would open (and keep idle) one connection per *target* host: a crawl of 2 000
//! hosts held 2 000 connections to the proxy. Absolute-form requests need no per-target
//! connection, so they go through this small pool keyed by the proxy instead: idle HTTP/1.1
//! connections to the proxy are reused for any target, up to the client's idle limit per host
//! and for its idle timeout. `CONNECT` tunnels and SOCKS stay per target in the main pool (the
//! tunnel *is* the target's connection).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use http::header::HOST;
use http::{HeaderValue, Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::{Notify, OwnedSemaphorePermit};

use crate::connect::{self, ProxyError, ProxyTls};
use crate::delivery::{self, Probe};
use crate::layers::{Delivery, DeliveryError};
use crate::limit::HostLimit;
use crate::resolve::TcpConnector;
use crate::{Body, BoxError};

pub(crate) type ForwardFuture =
    Pin<Box<dyn Future<Output = Result<Response<Incoming>, BoxError>> + Send>>;

/// The forward-proxy pools of one client (one per proxy URL).
#[derive(Clone)]
pub(crate) struct Forwarder {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

struct Shared {
    http: TcpConnector,
    tls: ProxyTls,
    max_idle: usize,
    idle_timeout: Option<Duration>,
    idle: Mutex<HashMap<Uri, Vec<Idle>>>,
    /// `pool_max_per_host`, the proxy being the host.
    limit: Option<Arc<HostLimit>>,
    /// Wakes the requests waiting for a connection slot when a connection comes back idle.
    returned: Notify,
}

struct Idle {
    sender: SendRequest<Body>,
    probe: Probe,
    since: Instant,
}

impl Forwarder {
    pub(crate) fn new(
        http: TcpConnector,
        tls: ProxyTls,
        max_idle: usize,
        idle_timeout: Option<Duration>,
        limit: Option<Arc<HostLimit>>,
    ) -> Forwarder {
        Forwarder {
            shared: Arc::new(Shared {
                http,
                tls,
                max_idle,
                idle_timeout,
                idle: Mutex::new(HashMap::new()),
                limit,
                returned: Notify::new(),
            }),
        }
    }

    /// Send `req` (absolute URI) to `proxy` in absolute form, on a pooled connection to the
    /// proxy when one is idle.
    pub(crate) fn send(&self, proxy: Uri, mut req: Request<Body>) -> ForwardFuture {
        let shared = self.shared.clone();
        Box::pin(async move {
            set_host(&mut req);
            loop {
                let (mut sender, probe, reused) = shared.connection(&proxy).await?;
                match sender.try_send_request(req).await {
                    Ok(resp) => {
                        Shared::checkin_when_ready(&shared, proxy, sender, probe);
                        return Ok(resp);
                    }
                    Err(mut err) => {
                        let delivery = match err.take_message() {
                            // Handed back unsent on a reused connection: try another one, as
                            // hyper-util's pool does.
                            Some(back) if reused => {
                                req = back;
                                continue;
                            }
                            Some(_) => Delivery::NotSent,
                            None => probe.delivery_after_failure(),
                        };
                        let err: BoxError =
                            Box::new(DeliveryError::new(delivery, err.into_error()));
                        return Err(err);
                    }
                }
            }
        })
    }
}

impl Shared {
    fn checkout(&self, proxy: &Uri) -> Option<Idle> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(proxy)?;
        let now = Instant::now();
        // Newest first: the most recently used connection is the least likely to be stale.
        while let Some(entry) = list.pop() {
            let expired = self
                .idle_timeout
                .is_some_and(|t| now.saturating_duration_since(entry.since) > t);
            if !expired && entry.sender.is_ready() {
                return Some(entry);
            }
        }
        None
    }

    /// An idle connection to `proxy` (reused: true), or a new one once `pool_max_per_host`
    /// allows it; while neither is to be had, wait for whichever comes first.
    async fn connection(&self, proxy: &Uri) -> Result<(SendRequest<Body>, Probe, bool), BoxError> {
        loop {
            // Created before looking, so a connection returned in between still wakes us.
            let returned = std::pin::pin!(self.returned.notified());
            if let Some(idle) = self.checkout(proxy) {
                return Ok((idle.sender, idle.probe, true));
            }
            let Some(limit) = &self.limit else {
                let (sender, probe) = self.connect(proxy, None).await?;
                return Ok((sender, probe, false));
            };
            let slot = limit.semaphore(proxy);
            let permit = match slot.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    let acquire = std::pin::pin!(slot.acquire_owned());
                    match futures_util::future::select(acquire, returned).await {
                        futures_util::future::Either::Left((Ok(permit), _)) => permit,
                        // A connection came back idle (or the semaphore closed: never).
                        _ => continue,
                    }
                }
            };
            let (sender, probe) = self.connect(proxy, Some(permit)).await?;
            return Ok((sender, probe, false));
        }
    }

    async fn connect(
        &self,
        proxy: &Uri,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<(SendRequest<Body>, Probe), BoxError> {
        let mut http = self.http.clone();
        #[allow(clippy::clone_on_copy, clippy::unit_arg)]
        let stream = connect::within(
            connect::connect_limit(),
            connect::connect_proxy(&mut http, proxy, self.tls.clone()),
        )
        .await?;
        let (io, probe) = delivery::track(hyper_util::rt::TokioIo::new(stream), permit);
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| ProxyError::with_message("HTTP handshake with the proxy failed", e))?;
        tokio::spawn(async move {
            // The connection's errors reach the request that was on it.
            let _ = conn.await;
        });
        Ok((sender, probe))
    }

    /// Put the connection back once its response has been read (at once when it already has).
    fn checkin_when_ready(
        this: &Arc<Shared>,
        proxy: Uri,
        mut sender: SendRequest<Body>,
        probe: Probe,
    ) {
        if this.max_idle == 0 {
            // Not kept: the connection closes, and its slot wakes a waiter.
            return;
        }
        if sender.is_ready() {
            this.checkin(proxy, sender, probe);
            return;
        }
        let weak: Weak<Shared> = Arc::downgrade(this);
        tokio::spawn(async move {
            if std::future::poll_fn(|cx| sender.poll_ready(cx))
                .await
                .is_ok()
            {
                if let Some(shared) = weak.upgrade() {
                    shared.checkin(proxy, sender, probe);
                }
            }
        });
    }

    fn checkin(&self, proxy: Uri, sender: SendRequest<Body>, probe: Probe) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(proxy).or_default();
        if list.len() >= self.max_idle {
            // Over the limit: the oldest idle connection closes.
            list.remove(0);
        }
        list.push(Idle {
            sender,
            probe,
            since: Instant::now(),
        });
        drop(idle);
        self.returned.notify_waiters();
    }
}

/// The `Host` header hyper-util's client would add (hyper's own connection does not).
fn set_host(req: &mut Request<Body>) {
    if req.headers().contains_key(HOST) {
        return;
    }
    let uri = req.uri();
    let Some(host) = uri.host() else { return };
    let default = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let value = match uri.port_u16() {
        Some(port) if port != default => HeaderValue::from_str(&format!("{host}:{port}")),
        _ => HeaderValue::from_str(host),
    };
    if let Ok(value) = value {
        req.headers_mut().insert(HOST, value);
    }
}
