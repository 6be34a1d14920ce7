//! A raw-socket server for fault tests: each accepted connection is handed to a script that reads
//! and writes bytes as it likes (so it can close mid-head, reset, stall or lie).
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running hostile server. Dropping it stops accepting and aborts open connections.
pub struct Hostile {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepts: Arc<AtomicUsize>,
    /// Complete request heads read so far (by [`read_request`]), over all connections.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a script gets for one connection.
pub struct Conn {
    pub stream: TcpStream,
    /// 0 for the first connection accepted, 1 for the second...
    pub index: usize,
    requests: Arc<AtomicUsize>,
    buf: Vec<u8>,
}

impl Hostile {
    /// Serve every accepted connection with `script` (each in its own task).
    pub async fn start<F, Fut>(script: F) -> Hostile
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let (a, r) = (accepts.clone(), requests.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let index = a.fetch_add(1, Ordering::SeqCst);
                let conn = Conn {
                    stream,
                    index,
                    requests: r.clone(),
                    buf: Vec::new(),
                };
                conns.spawn(script(conn));
            }
        });
        Hostile {
            addr,
            accepts,
            requests,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Conn {
    /// Read one whole request (head, then a Content-Length body). `None` when the peer closed
    /// first or sent something unparsable.
    pub async fn read_request(&mut self) -> Option<Seen> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(head_len)) = req.parse(&self.buf) {
                let seen_headers: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let method = req.method.unwrap_or("").to_string();
                let path = req.path.unwrap_or("").to_string();
                let len: usize = seen_headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                while self.buf.len() < head_len + len {
                    if !self.fill().await {
                        return None;
                    }
                }
                let body = self.buf[head_len..head_len + len].to_vec();
                self.buf.drain(..head_len + len);
                self.requests.fetch_add(1, Ordering::SeqCst);
                return Some(Seen {
                    method,
                    path,
                    headers: seen_headers,
                    body,
                });
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Write raw bytes (errors ignored: the peer may be gone, which is the point).
    pub async fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
        let _ = self.stream.flush().await;
    }

    /// A complete `200 OK` with a short body, keeping the connection open.
    pub async fn ok(&mut self, body: &str) {
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.write(resp.as_bytes()).await;
    }

    /// Close with a TCP reset (SO_LINGER 0) instead of a FIN.
    pub fn reset(self) {
        // Linger 0 makes the close send a RST at once; it never blocks (the deprecation is about
        // a non-zero linger blocking the thread on drop).
        #[allow(deprecated)]
        let _ = self.stream.set_linger(Some(Duration::ZERO));
        drop(self.stream);
    }

    /// Close normally (FIN).
    pub fn close(self) {
        drop(self.stream);
    }

    /// Wait until the peer closes (or `max` passes), discarding what it sends.
    pub async fn drain_until_closed(mut self, max: Duration) {
        let _ = tokio::time::timeout(max, async {
            while self.fill().await {
                self.buf.clear();
            }
        })
        .await;
    }
}
