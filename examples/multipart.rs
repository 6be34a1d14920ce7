//! Multipart upload (requests' `files=`): a text field and a file streamed from disk, to an
//! in-process axum server that reads it with axum's `Multipart`. The server answers the first
//! upload with a 503, so the session's retry sends the whole form again (the file is read
//! again from disk). `cargo run --example multipart --features multipart`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use tower_requests::http::Method;
use tower_requests::multipart::Form;
use tower_requests::{Retry, Session};

/// The error type of `run`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the server saw.
#[derive(Debug)]
pub struct Outcome {
    /// The field names of the upload it accepted.
    pub fields: Vec<String>,
    /// How many uploads it received (the 503 and the retry).
    pub attempts: usize,
}

/// Upload a form with a retry behind a 503; return what the server saw.
pub async fn run() -> Result<Outcome, BoxError> {
    let attempts = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/upload",
            post(
                |State(attempts): State<Arc<AtomicUsize>>, mut form: Multipart| async move {
                    let mut names = Vec::new();
                    while let Ok(Some(field)) = form.next_field().await {
                        let name = field.name().unwrap_or("").to_string();
                        let file = field.file_name().map(str::to_string);
                        let bytes = field.bytes().await.map(|b| b.len()).unwrap_or(0);
                        println!("  server: field {name:?} file {file:?}, {bytes} bytes");
                        names.push(name);
                    }
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        println!("  server: 503 (the client will retry)");
                        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    (StatusCode::OK, names.join(","))
                },
            ),
        )
        .with_state(attempts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.csv");
    std::fs::write(&path, "month,total\njan,10\nfeb,12\n")?;

    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .status_forcelist([503])
                .allowed_methods([Method::POST]),
        )
        .build()?;
    let form = Form::new()
        .text("title", "Monthly totals")
        .file("attachment", &path)
        .await?;
    let resp = session
        .post(format!("{base}/upload"))
        .multipart(form)
        .send()
        .await?
        .error_for_status()?;
    let fields: Vec<String> = resp.text().await?.split(',').map(str::to_string).collect();
    println!("uploaded: {fields:?}");
    Ok(Outcome {
        fields,
        attempts: attempts.load(Ordering::SeqCst),
    })
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run().await.map(|_| ())
}
