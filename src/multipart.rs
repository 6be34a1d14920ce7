//! `multipart/form-data` request bodies (requests' `files=`), for
//! [`RequestBuilder::multipart`](crate::RequestBuilder::multipart).
//!
//! A [`Form`] holds named [`Part`]s: text, bytes, files read from disk, or any [`Body`]. The
//! body is a stream: a file part is read in chunks of 128 KiB while the request is being sent,
//! so uploading a file of any size takes a bounded amount of memory.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use tower_requests::multipart::{Form, Part};
//! use tower_requests::Session;
//!
//! let form = Form::new()
//!     .text("title", "Quarterly report")
//!     .bytes("raw", &b"\x00\x01\x02"[..])
//!     .file("report", "reports/q3.pdf") // file name and Content-Type from the path
//!     .await?
//!     .part("notes", Part::text("see page 3").file_name("notes.txt"));
//! let resp = Session::new()
//!     .post("http://127.0.0.1:8080/upload")
//!     .multipart(form)
//!     .send()
//!     .await?;
//! println!("{}", resp.status());
//! # Ok(()) }
//! ```
//!
//! **Replay.** A form is replayable when all its parts are: text and bytes parts are, and so
//! are file parts, whose file is opened again and read from the start for each replay. So a
//! retried request or a 307/308 redirect sends the whole form again. A part made from a one-shot
//! stream ([`Part::stream`] with a streaming [`Body`]) makes the form a one-shot stream too: a
//! retry or a 307/308 redirect then fails with an error saying the body could not be replayed
//! (it is never resent empty). A file whose length changed since [`Part::file`] read it fails
//! the upload with an [`Error::is_body`](crate::Error::is_body) error naming the file, rather than sending a body whose length disagrees
//! with the `Content-Length` sent.
//!
//! **Length.** When every part's length is known (all but [`Part::stream`] without a length),
//! the request carries a `Content-Length`; otherwise it is sent chunked.
//!
//! **Names.** Field names and file names are written as RFC 7578 §4.2 says and HTML forms
//! send them: as UTF-8, inside double quotes, with no `filename*=` (RFC 7578 says it must not
//! be used: multer, the parser behind axum's `Multipart`, does not read it). Inside the
//! quotes, `"` is written `\"`, which multer (and Python's parsers) read back as `"`; browsers
//! and urllib3 write `%22`, which servers hand on as those three characters. A backslash is
//! written as it is, as browsers and urllib3 do: multer does not undo `\\` (reqwest's escape
//! of it), so axum would see two. (A name that ends in a backslash, or has one right before a `"`,
//! cannot be read back by multer however it is written.) CR and LF are written `%0D` and `%0A`, as browsers do, since
//! they cannot appear in a header.
//!
//! **Why hand-written.** The encoding is small (a boundary line and two or three header lines
//! per part). The crates that do it either tie it to their own client (reqwest's module) or
//! read parts through blocking `std::io::Read` and their own body type
//! (`common-multipart-rfc7578`), which gives neither async file reads nor replay; so this
//! module writes RFC 7578 itself, takes `mime_guess` for the Content-Type of a file, and
//! `fastrand` for the random boundary.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;

use crate::{Body, BoxError, BuildError};

/// How much of a file is read at a time.
const CHUNK: usize = 128 * 1024;

/// A `multipart/form-data` form: named parts, in order, under a random boundary.
pub struct Form {
    boundary: String,
    parts: Vec<(Cow<'static, str>, Part)>,
}

/// One part of a [`Form`]: its content, and optionally a file name, a Content-Type and more
/// headers.
pub struct Part {
    content: Content,
    file_name: Option<Cow<'static, str>>,
    mime: Option<HeaderValue>,
    headers: HeaderMap,
}

enum Content {
    Bytes(Bytes),
    /// Read from `path` each time the body is made; `len` as found by [`Part::file`].
    File {
        path: Arc<Path>,
        len: u64,
    },
    Body {
        body: Body,
        len: Option<u64>,
    },
}

impl Default for Form {
    fn default() -> Self {
        Form::new()
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts)
            .finish()
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Part");
        match &self.content {
            Content::Bytes(b) => d.field("bytes", &b.len()),
            Content::File { path, len } => d.field("file", path).field("len", len),
            Content::Body { body, len } => d.field("body", body).field("len", len),
        };
        d.field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish()
    }
}

impl Form {
    /// An empty form with a random boundary.
    pub fn new() -> Form {
        Form {
            boundary: format!(
                "{:016x}-{:016x}-{:016x}-{:016x}",
                fastrand::u64(..),
                fastrand::u64(..),
                fastrand::u64(..),
                fastrand::u64(..)
            ),
            parts: Vec::new(),
        }
    }

    /// The boundary between the parts (random, 67 characters).
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Add a text field (requests' `data={'name': 'value'}` alongside `files=`).
    pub fn text<N, V>(self, name: N, value: V) -> Form
    where
        N: Into<Cow<'static, str>>,
        V: Into<Cow<'static, str>>,
    {
        self.part(name, Part::text(value))
    }

    /// Add a field of raw bytes (no file name, no Content-Type unless set on a [`Part`]).
    pub fn bytes<N, V>(self, name: N, value: V) -> Form
    where
        N: Into<Cow<'static, str>>,
        V: Into<Bytes>,
    {
        self.part(name, Part::bytes(value))
    }

    /// Add a file from disk (requests' `files={'name': open(path, 'rb')}`), with its file name
    /// and a Content-Type guessed from its extension; see [`Part::file`].
    pub async fn file<N, P>(self, name: N, path: P) -> std::io::Result<Form>
    where
        N: Into<Cow<'static, str>>,
        P: AsRef<Path>,
    {
        Ok(self.part(name, Part::file(path).await?))
    }

    /// Add any part.
    pub fn part<N>(mut self, name: N, part: Part) -> Form
    where
        N: Into<Cow<'static, str>>,
    {
        self.parts.push((name.into(), part));
        self
    }

    /// The length of the encoded form, when every part's length is known.
    pub fn content_length(&self) -> Option<u64> {
        let mut total = self.closing().len() as u64;
        for (name, part) in &self.parts {
            total += self.head(name, part).len() as u64 + part.len()? + 2;
        }
        Some(total)
    }

    /// The `Content-Type` of the request: `multipart/form-data; boundary=...`.
    pub(crate) fn content_type(&self) -> HeaderValue {
        HeaderValue::try_from(format!("multipart/form-data; boundary={}", self.boundary))
            .expect("the boundary is hex digits and dashes")
    }

    /// The body, replayable when every part is.
    pub(crate) fn into_body(self) -> Body {
        let closing = Bytes::from(self.closing());
        let heads: Vec<Bytes> = self
            .parts
            .iter()
            .map(|(name, part)| Bytes::from(self.head(name, part)))
            .collect();
        let encoded: Vec<Encoded> = heads
            .into_iter()
            .zip(self.parts)
            .map(|(head, (_, part))| Encoded {
                head,
                content: part.content,
            })
            .collect();
        if encoded.iter().all(Encoded::is_replayable) {
            // A `Body` is not `Sync`: the parts are copied under a lock, once per replay.
            let encoded = std::sync::Mutex::new(encoded);
            Body::replayable(move || {
                let encoded = encoded.lock().unwrap_or_else(|e| e.into_inner());
                let parts: Vec<Encoded> = encoded.iter().filter_map(Encoded::try_clone).collect();
                if parts.len() != encoded.len() {
                    // Not reached: every part was checked above.
                    let err: BoxError = "a multipart part could not be replayed".into();
                    return Body::wrap_stream(futures_util::stream::once(async move {
                        Err::<Bytes, BoxError>(err)
                    }));
                }
                encode(parts, closing.clone())
            })
        } else {
            encode(encoded, closing)
        }
    }

    fn closing(&self) -> String {
        format!("--{}--\r\n", self.boundary)
    }

    /// The delimiter line and the headers of one part, up to and including the blank line.
    fn head(&self, name: &str, part: &Part) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + name.len());
        out.extend_from_slice(b"--");
        out.extend_from_slice(self.boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        quote_into(&mut out, name);
        out.push(b'"');
        if let Some(file_name) = &part.file_name {
            out.extend_from_slice(b"; filename=\"");
            quote_into(&mut out, file_name);
            out.push(b'"');
        }
        out.extend_from_slice(b"\r\n");
        if let Some(mime) = &part.mime {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(mime.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &part.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// `text` inside a quoted `name="..."` or `filename="..."`: UTF-8 as it is, `"` as `\"`, CR
/// and LF as `%0D` and `%0A`.
fn quote_into(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            b => out.push(b),
        }
    }
}

impl Part {
    fn new(content: Content) -> Part {
        Part {
            content,
            file_name: None,
            mime: None,
            headers: HeaderMap::new(),
        }
    }

    /// A text part (sent as its UTF-8 bytes, with no Content-Type, as HTML forms send fields).
    pub fn text<V: Into<Cow<'static, str>>>(value: V) -> Part {
        let bytes = match value.into() {
            Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
            Cow::Owned(s) => Bytes::from(s),
        };
        Part::new(Content::Bytes(bytes))
    }

    /// A part of raw bytes.
    pub fn bytes<V: Into<Bytes>>(value: V) -> Part {
        Part::new(Content::Bytes(value.into()))
    }

    /// A file from disk, read in chunks while the request is sent (and read again for each
    /// replay). Its file name is the last component of `path` and its Content-Type is guessed
    /// from the extension (`mime_guess`; `application/octet-stream` when unknown); change
    /// either with [`file_name`](Part::file_name) and [`mime_str`](Part::mime_str).
    ///
    /// This reads the file's metadata now: a path that is missing or not a file is an error
    /// here. The file is opened when the body is sent.
    pub async fn file<P: AsRef<Path>>(path: P) -> std::io::Result<Part> {
        let path = path.as_ref();
        let meta = tokio::fs::metadata(path).await?;
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a file", path.display()),
            ));
        }
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let mut part = Part::new(Content::File {
            path: PathBuf::from(path).into(),
            len: meta.len(),
        });
        part.file_name = path
            .file_name()
            .map(|n| Cow::Owned(n.to_string_lossy().into_owned()));
        part.mime = HeaderValue::from_str(mime.as_ref()).ok();
        Ok(part)
    }

    /// A part from any [`Body`]. A buffered or [replayable](Body::replayable) body keeps the
    /// form replayable; a one-shot stream makes the whole form one-shot, and without a known
    /// length (see [`stream_with_length`](Part::stream_with_length)) the form is sent chunked.
    pub fn stream<B: Into<Body>>(body: B) -> Part {
        let body = body.into();
        let len = body.as_bytes().map(|b| b.len() as u64);
        Part::new(Content::Body { body, len })
    }

    /// A part from a [`Body`] of exactly `len` bytes, so the form can carry a Content-Length.
    /// A body of another length fails the upload.
    pub fn stream_with_length<B: Into<Body>>(body: B, len: u64) -> Part {
        Part::new(Content::Body {
            body: body.into(),
            len: Some(len),
        })
    }

    /// The file name sent (`filename="..."`); any UTF-8 text.
    pub fn file_name<T: Into<Cow<'static, str>>>(mut self, name: T) -> Part {
        self.file_name = Some(name.into());
        self
    }

    /// The part's Content-Type, checked to be a `type/subtype` media type.
    pub fn mime_str(mut self, mime: &str) -> Result<Part, BuildError> {
        let parsed: mime_guess::mime::Mime = mime
            .parse()
            .map_err(|e| BuildError::msg(format!("invalid Content-Type {mime:?}: {e}")))?;
        self.mime = Some(
            HeaderValue::from_str(parsed.as_ref())
                .map_err(|e| BuildError::msg(format!("invalid Content-Type {mime:?}: {e}")))?,
        );
        Ok(self)
    }

    /// More headers for this part (written after Content-Disposition and Content-Type).
    pub fn headers(mut self, headers: HeaderMap) -> Part {
        for (name, value) in headers {
            if let Some(name) = name {
                self.headers.insert::<HeaderName>(name, value);
            }
        }
        self
    }

    fn len(&self) -> Option<u64> {
        match &self.content {
            Content::Bytes(b) => Some(b.len() as u64),
            Content::File { len, .. } => Some(*len),
            Content::Body { len, .. } => *len,
        }
    }
}

/// A part with its head encoded.
struct Encoded {
    head: Bytes,
    content: Content,
}

impl Encoded {
    fn is_replayable(&self) -> bool {
        match &self.content {
            Content::Bytes(_) | Content::File { .. } => true,
            Content::Body { body, .. } => !body.is_streaming(),
        }
    }

    fn try_clone(&self) -> Option<Encoded> {
        let content = match &self.content {
            Content::Bytes(b) => Content::Bytes(b.clone()),
            Content::File { path, len } => Content::File {
                path: path.clone(),
                len: *len,
            },
            Content::Body { body, len } => Content::Body {
                body: body.try_clone()?,
                len: *len,
            },
        };
        Some(Encoded {
            head: self.head.clone(),
            content,
        })
    }
}

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The form's bytes: each part's head, content and CRLF, then the closing delimiter.
fn encode(parts: Vec<Encoded>, closing: Bytes) -> Body {
    let stream = futures_util::stream::iter(parts)
        .flat_map(|part| {
            let head = futures_util::stream::once(async move { Ok(part.head) });
            let content: Chunks = match part.content {
                Content::Bytes(b) => Box::pin(futures_util::stream::once(async move { Ok(b) })),
                Content::File { path, len } => Box::pin(file_chunks(path, len)),
                Content::Body { body, len } => Box::pin(body_chunks(body, len)),
            };
            let end = futures_util::stream::once(async { Ok(Bytes::from_static(b"\r\n")) });
            Box::pin(head.chain(content).chain(end)) as Chunks
        })
        .chain(futures_util::stream::once(async move { Ok(closing) }))
        .filter(|chunk| std::future::ready(!matches!(chunk, Ok(b) if b.is_empty())));
    Body::wrap_stream(stream)
}

/// A part that could not be sent: its file cannot be read or is not the length it had, or its
/// body is not the length it was given. [`Error::is_body`](crate::Error::is_body).
#[derive(Debug)]
pub(crate) struct PartError(String);

impl fmt::Display for PartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PartError {}

fn file_error(path: &Path, what: impl fmt::Display) -> BoxError {
    Box::new(PartError(format!(
        "multipart file {}: {what}",
        path.display()
    )))
}

fn changed(path: &Path, len: u64, read: u64) -> BoxError {
    file_error(
        path,
        format_args!(
            "its length changed since the part was made ({len} bytes then, {read} or more now)"
        ),
    )
}

/// The file at `path`, opened now (each time the body is made, for a replay) and read in
/// [`CHUNK`]s; it must hold exactly `len` bytes.
fn file_chunks(path: Arc<Path>, len: u64) -> impl Stream<Item = Result<Bytes, BoxError>> + Send {
    struct State {
        path: Arc<Path>,
        file: Option<tokio::fs::File>,
        read: u64,
    }
    let state = State {
        path,
        file: None,
        read: 0,
    };
    futures_util::stream::try_unfold(state, move |mut st| async move {
        use tokio::io::AsyncReadExt;
        let file = match &mut st.file {
            Some(file) => file,
            None => {
                let file = tokio::fs::File::open(&*st.path)
                    .await
                    .map_err(|e| file_error(&st.path, format_args!("cannot open: {e}")))?;
                st.file.insert(file)
            }
        };
        let mut buf = BytesMut::with_capacity(CHUNK);
        let n = file
            .read_buf(&mut buf)
            .await
            .map_err(|e| file_error(&st.path, format_args!("cannot read: {e}")))?;
        if n == 0 {
            if st.read != len {
                return Err(changed(&st.path, len, st.read));
            }
            return Ok(None);
        }
        st.read += n as u64;
        if st.read > len {
            return Err(changed(&st.path, len, st.read));
        }
        Ok(Some((buf.freeze(), st)))
    })
}

/// The data of `body`, checked against `len` when one was given.
fn body_chunks(body: Body, len: Option<u64>) -> impl Stream<Item = Result<Bytes, BoxError>> + Send {
    let frames = http_body_util::BodyDataStream::new(body);
    let mut read = 0u64;
    let mut done = false;
    frames
        .map(move |chunk| {
            let chunk = chunk?;
            read += chunk.len() as u64;
            match len {
                Some(len) if read > len => Err(Box::new(PartError(format!(
                    "multipart part: body longer than its stated length of {len} bytes"
                ))) as BoxError),
                _ => Ok(chunk),
            }
        })
        .chain(futures_util::stream::poll_fn(move |_| {
            // After the last chunk: a body shorter than its stated length.
            if done {
                return std::task::Poll::Ready(None);
            }
            done = true;
            std::task::Poll::Ready(match len {
                Some(len) if read < len => Some(Err(Box::new(PartError(format!(
                    "multipart part: body shorter than its stated length of {len} bytes"
                ))) as BoxError)),
                _ => None,
            })
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn names_are_quoted_as_rfc_7578_says() {
        let mut out = Vec::new();
        quote_into(&mut out, "résumé \"final\"\\\r\n.pdf");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "résumé \\\"final\\\"\\%0D%0A.pdf"
        );
    }

    #[tokio::test]
    async fn encodes_parts_and_announces_the_exact_length() {
        let form = Form::new()
            .text("a", "1")
            .part("f", Part::bytes(&b"xyz"[..]).file_name("x.bin"));
        let boundary = form.boundary().to_string();
        let len = form.content_length().unwrap();
        let body = form.into_body();
        assert!(body.try_clone().is_some());
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len() as u64, len);
        let expected = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\nxyz\r\n\
             --{b}--\r\n",
            b = boundary
        );
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
    }

    #[test]
    fn boundaries_are_random() {
        assert_ne!(Form::new().boundary(), Form::new().boundary());
    }
}
