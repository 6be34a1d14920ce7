//! Multipart uploads against axum's `Multipart` extractor (multer): text, bytes and file parts,
//! a large file streamed with bounded memory, non-ASCII names, many parts, and replay across a
//! 307 redirect and a retried 503.
#![cfg(feature = "multipart")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use tower_requests::http::Method;
use tower_requests::multipart::{Form, Part};
use tower_requests::{Body, Retry, Session};

mod support;

#[path = "../examples/multipart.rs"]
mod example;

/// One field as the server parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    len: u64,
    /// The first 64 bytes.
    head: Vec<u8>,
    /// Whether every byte was zero.
    zeros: bool,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Upload {
    path: String,
    content_length: Option<u64>,
    fields: Vec<Field>,
}

#[derive(Clone, Default)]
struct Log {
    uploads: Arc<Mutex<Vec<Upload>>>,
    flaky: Arc<AtomicUsize>,
}

impl Log {
    fn uploads(&self) -> Vec<Upload> {
        self.uploads.lock().unwrap().clone()
    }
}

/// Reads the whole form, chunk by chunk (nothing is kept but the first bytes of each field).
async fn read_form(path: &str, headers: &HeaderMap, mut form: Multipart) -> Result<Upload, String> {
    let mut fields = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(|e| e.to_string())? {
        let mut f = Field {
            name: field.name().unwrap_or("").to_string(),
            file_name: field.file_name().map(str::to_string),
            content_type: field.content_type().map(str::to_string),
            len: 0,
            head: Vec::new(),
            zeros: true,
        };
        while let Some(chunk) = field.chunk().await.map_err(|e| e.to_string())? {
            f.len += chunk.len() as u64;
            f.zeros &= chunk.iter().all(|b| *b == 0);
            let room = 64usize.saturating_sub(f.head.len());
            f.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        }
        fields.push(f);
    }
    Ok(Upload {
        path: path.to_string(),
        content_length: headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok()),
        fields,
    })
}

async fn record(log: &Log, path: &str, headers: HeaderMap, form: Multipart) -> StatusCode {
    match read_form(path, &headers, form).await {
        Ok(upload) => {
            log.uploads.lock().unwrap().push(upload);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn server() -> (support::TestServer, Log) {
    let log = Log::default();
    let app = Router::new()
        .route(
            "/upload",
            post(
                |State(log): State<Log>, headers: HeaderMap, form: Multipart| async move {
                    record(&log, "/upload", headers, form).await
                },
            ),
        )
        .route(
            "/moved",
            post(
                |State(log): State<Log>, headers: HeaderMap, form: Multipart| async move {
                    match record(&log, "/moved", headers, form).await {
                        StatusCode::OK => (
                            StatusCode::TEMPORARY_REDIRECT,
                            [(axum::http::header::LOCATION, "/upload")],
                        )
                            .into_response(),
                        other => other.into_response(),
                    }
                },
            ),
        )
        .route(
            "/flaky",
            post(
                |State(log): State<Log>, headers: HeaderMap, form: Multipart| async move {
                    let status = record(&log, "/flaky", headers, form).await;
                    if status == StatusCode::OK && log.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    status
                },
            ),
        )
        .layer(DefaultBodyLimit::disable())
        .with_state(log.clone());
    (support::TestServer::http(app).await, log)
}

#[tokio::test]
async fn text_bytes_and_file_parts_reach_axum() {
    let (srv, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, b"%PDF-1.4 not really").unwrap();

    let form = Form::new()
        .text("title", "Quarterly")
        .bytes("raw", &[0u8, 1, 2, 255][..])
        .file("report", &path)
        .await
        .unwrap()
        .part(
            "notes",
            Part::text("plain words")
                .file_name("notes.txt")
                .mime_str("text/plain; charset=utf-8")
                .unwrap(),
        );
    let expected_len = form.content_length().unwrap();
    let resp = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let uploads = log.uploads();
    assert_eq!(uploads.len(), 1);
    let fields = &uploads[0].fields;
    assert_eq!(uploads[0].content_length, Some(expected_len));
    assert_eq!(fields.len(), 4);
    assert_eq!(
        (fields[0].name.as_str(), &fields[0].head[..]),
        ("title", &b"Quarterly"[..])
    );
    assert_eq!(fields[0].file_name, None);
    assert_eq!(fields[0].content_type, None);
    assert_eq!(
        (fields[1].name.as_str(), &fields[1].head[..]),
        ("raw", &[0u8, 1, 2, 255][..])
    );
    assert_eq!(fields[2].name, "report");
    assert_eq!(fields[2].file_name.as_deref(), Some("report.pdf"));
    assert_eq!(fields[2].content_type.as_deref(), Some("application/pdf"));
    assert_eq!(&fields[2].head[..], b"%PDF-1.4 not really");
    assert_eq!(fields[3].file_name.as_deref(), Some("notes.txt"));
    assert_eq!(
        fields[3].content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn non_ascii_and_quoted_names_survive_the_parser() {
    let (srv, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("résumé 履歴書.txt");
    std::fs::write(&path, "hello").unwrap();

    let form = Form::new()
        .text("名前", "値")
        .file("文書", &path)
        .await
        .unwrap()
        .part("q", Part::bytes("x").file_name("say \"hi\".bin"))
        .part("w", Part::bytes("y").file_name("back\\slash.txt"));
    let resp = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fields = log.uploads()[0].fields.clone();
    assert_eq!(fields[0].name, "名前");
    assert_eq!(fields[0].head, "値".as_bytes());
    assert_eq!(fields[1].name, "文書");
    assert_eq!(fields[1].file_name.as_deref(), Some("résumé 履歴書.txt"));
    assert_eq!(fields[1].content_type.as_deref(), Some("text/plain"));
    assert_eq!(fields[2].file_name.as_deref(), Some("say \"hi\".bin"));
    assert_eq!(fields[3].file_name.as_deref(), Some("back\\slash.txt"));
}

#[tokio::test]
async fn two_hundred_parts_arrive_in_order() {
    let (srv, log) = server().await;
    let mut form = Form::new();
    for i in 0..200 {
        form = form.text(format!("field{i}"), format!("value {i}"));
    }
    let resp = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fields = log.uploads()[0].fields.clone();
    assert_eq!(fields.len(), 200);
    for (i, f) in fields.iter().enumerate() {
        assert_eq!(f.name, format!("field{i}"));
        assert_eq!(f.head, format!("value {i}").into_bytes());
    }
}

/// Peak resident memory of this process in KiB (`VmHWM`), if the platform tells.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_large_file_is_streamed_with_bounded_memory() {
    const SIZE: u64 = 192 * 1024 * 1024;
    let (srv, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    // Sparse: no disk space, reads as zeros.
    std::fs::File::create(&path).unwrap().set_len(SIZE).unwrap();

    // Reset the peak (Linux: "5" clears VmHWM); if that is refused, the peak so far stays the
    // baseline, which only makes the check looser.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = rss_kib();

    let form = Form::new()
        .text("kind", "big")
        .file("blob", &path)
        .await
        .unwrap();
    let resp = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let upload = log.uploads()[0].clone();
    assert_eq!(upload.fields[1].len, SIZE);
    assert!(upload.fields[1].zeros);
    assert_eq!(
        upload.fields[1].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert!(upload.content_length.unwrap() > SIZE);

    if let (Some(before), Some(peak)) = (before, peak_rss_kib()) {
        // Client and server share this process: neither may have held the file.
        let grown_mib = peak.saturating_sub(before) / 1024;
        eprintln!("peak memory grew by {grown_mib} MiB");
        assert!(
            grown_mib < 64,
            "memory grew by {grown_mib} MiB while uploading {} MiB",
            SIZE >> 20
        );
    }
}

async fn file_form(dir: &tempfile::TempDir) -> Form {
    let path = dir.path().join("data.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    Form::new()
        .text("t", "text")
        .bytes("b", &b"\x01\x02"[..])
        .file("f", &path)
        .await
        .unwrap()
}

fn same_form(fields: &[Field]) {
    let seen: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|f| (f.name.as_str(), &f.head[..]))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("t", &b"text"[..]),
            ("b", &b"\x01\x02"[..]),
            ("f", &b"a,b\n1,2\n"[..])
        ]
    );
    assert_eq!(fields[2].file_name.as_deref(), Some("data.csv"));
    assert_eq!(fields[2].content_type.as_deref(), Some("text/csv"));
}

#[tokio::test]
async fn a_307_redirect_sends_the_whole_form_again() {
    let (srv, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let resp = Session::new()
        .post(srv.url("/moved"))
        .multipart(file_form(&dir).await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/upload");
    let uploads = log.uploads();
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].path, "/moved");
    assert_eq!(uploads[1].path, "/upload");
    for u in &uploads {
        same_form(&u.fields);
    }
    assert_eq!(uploads[0].content_length, uploads[1].content_length);
}

#[tokio::test]
async fn a_retried_503_sends_the_whole_form_again() {
    let (srv, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .status_forcelist([503])
                .allowed_methods([Method::POST]),
        )
        .build()
        .unwrap();
    let resp = session
        .post(srv.url("/flaky"))
        .multipart(file_form(&dir).await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let uploads = log.uploads();
    assert_eq!(uploads.len(), 2, "the 503 and the retry");
    for u in &uploads {
        same_form(&u.fields);
    }
}

#[tokio::test]
async fn a_form_with_a_one_shot_stream_is_not_replayed() {
    let (srv, log) = server().await;
    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("str"), Ok("eam")];
    let form = Form::new().text("t", "text").part(
        "s",
        Part::stream(Body::wrap_stream(futures_util::stream::iter(chunks))),
    );
    assert_eq!(form.content_length(), None);
    let err = Session::new()
        .post(srv.url("/moved"))
        .multipart(form)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");
    // The first hop was sent (chunked) and parsed; nothing was resent.
    let uploads = log.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].content_length, None);
    assert_eq!(uploads[0].fields[1].head, b"stream");
}

#[tokio::test]
async fn a_file_that_changed_length_fails_the_upload() {
    let (srv, _log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grows.txt");
    std::fs::write(&path, "short").unwrap();
    let form = Form::new().file("f", &path).await.unwrap();
    std::fs::write(&path, "much longer than before").unwrap();
    let err = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert!(format!("{err:#}").contains("grows.txt"), "{err:#}");
}

#[tokio::test]
async fn a_missing_file_is_an_io_error_when_the_part_is_made() {
    let err = Part::file("/nonexistent/dir/x.bin").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn the_example_uploads_and_replays() {
    let out = example::run().await.unwrap();
    assert_eq!(out.fields, vec!["title", "attachment"]);
    assert_eq!(out.attempts, 2);
}
