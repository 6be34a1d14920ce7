//! [`Response`] of the blocking API.

use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode, Version};
use tokio::sync::mpsc;
use url::Url;

use super::runtime::{self, Runtime};
use crate::error::Error;

/// A response of a blocking [`Session`](super::Session): status, headers, final URL and
/// redirect history at once; the body read whole by [`text`](Self::text),
/// [`bytes`](Self::bytes), [`json`](Self::json), or as it arrives through [`std::io::Read`].
///
/// Body reads are bounded by the session's [`timeout`](super::SessionBuilder::timeout) (or the
/// request's) when one is set: a server that stalls makes them fail, not hang.
pub struct Response {
    /// `None` once [`Read`](io::Read) took the body.
    inner: Option<crate::Response>,
    /// Kept for the `Read` impl and for errors after the body was taken.
    url: Url,
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    reader: Option<Reader>,
    rt: Arc<Runtime>,
}

/// The body as it arrives: chunks pumped by a task on the runtime thread, a few at a time.
struct Reader {
    chunks: mpsc::Receiver<Result<Bytes, Error>>,
    current: Bytes,
}

/// Chunks the pump may get ahead of the reader: memory stays bounded by this many chunks.
const READ_AHEAD: usize = 4;

impl Response {
    pub(crate) fn new(inner: crate::Response, rt: Arc<Runtime>) -> Response {
        Response {
            url: inner.url().clone(),
            status: inner.status(),
            version: inner.version(),
            headers: inner.headers().clone(),
            inner: Some(inner),
            reader: None,
            rt,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the response came over.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The final URL, after any redirects.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirect responses that led here, oldest first (empty once the body was read
    /// through [`Read`](io::Read)).
    pub fn history(&self) -> &[crate::layers::redirect::Hop] {
        self.inner.as_ref().map_or(&[], |r| r.history())
    }

    /// The cookies this response set (see [`crate::Response::cookies`]).
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> Vec<crate::Cookie> {
        self.inner.as_ref().map_or_else(Vec::new, |r| r.cookies())
    }

    /// The body length the server announced, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.as_ref().and_then(|r| r.content_length())
    }

    /// `Err(is_status())` for 4xx and 5xx, like requests' `raise_for_status()`.
    pub fn error_for_status(self) -> Result<Response, Error> {
        self.error_for_status_ref()?;
        Ok(self)
    }

    /// Like [`Response::error_for_status`], keeping the response.
    pub fn error_for_status_ref(&self) -> Result<&Response, Error> {
        match &self.inner {
            Some(inner) => inner.error_for_status_ref().map(|_| self),
            None if self.status.is_client_error() || self.status.is_server_error() => {
                Err(Error::from_status(self.status, self.url.clone()))
            }
            None => Ok(self),
        }
    }

    /// The async response (not yet read), to read it on the runtime thread.
    fn take(mut self) -> Result<crate::Response, Error> {
        self.inner.take().ok_or_else(|| {
            Error::body("the body was already read through std::io::Read").with_url(&self.url)
        })
    }

    /// The whole body (decompressed, at most the session's
    /// [`max_body_size`](super::SessionBuilder::max_body_size)); see
    /// [`crate::Response::bytes`].
    pub fn bytes(self) -> Result<Bytes, Error> {
        let rt = self.rt.clone();
        let resp = self.take()?;
        rt.block_on(resp.bytes())
    }

    /// The body as text, decoded with the charset of `Content-Type`; see
    /// [`crate::Response::text`].
    pub fn text(self) -> Result<String, Error> {
        let rt = self.rt.clone();
        let resp = self.take()?;
        rt.block_on(resp.text())
    }

    /// The body parsed as JSON; see [`crate::Response::json`].
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned + Send + 'static>(self) -> Result<T, Error> {
        let rt = self.rt.clone();
        let resp = self.take()?;
        rt.block_on(resp.json())
    }

    /// The first read starts a task on the runtime thread that reads the body ahead, a few
    /// chunks at most.
    fn reader(&mut self) -> io::Result<&mut Reader> {
        if self.reader.is_none() {
            let resp = self
                .inner
                .take()
                .ok_or_else(|| io::Error::other("the body was already read"))?;
            let (tx, rx) = mpsc::channel(READ_AHEAD);
            self.rt
                .spawn(async move {
                    let mut stream = std::pin::pin!(resp.bytes_stream());
                    while let Some(chunk) = stream.next().await {
                        let last = chunk.is_err();
                        if tx.send(chunk).await.is_err() || last {
                            break;
                        }
                    }
                })
                .map_err(io::Error::other)?;
            self.reader = Some(Reader {
                chunks: rx,
                current: Bytes::new(),
            });
        }
        Ok(self.reader.as_mut().expect("set above"))
    }
}

/// The body as it arrives (decompressed), unlimited unless a `max_body_size` was set
/// explicitly, as [`crate::Response::bytes_stream`]. An error of the stack (a timeout, a limit,
/// a lost connection) is an `io::Error` whose inner error is the [`Error`]. From inside a tokio
/// runtime, reads fail.
impl io::Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        runtime::refuse_inside_runtime().map_err(io::Error::other)?;
        let reader = self.reader()?;
        while !reader.current.has_remaining() {
            match reader.chunks.blocking_recv() {
                Some(Ok(chunk)) => reader.current = chunk,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(reader.current.len());
        buf[..n].copy_from_slice(&reader.current[..n]);
        reader.current.advance(n);
        Ok(n)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish()
    }
}
