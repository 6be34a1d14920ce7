//! The seed article's "Error Handling and Debugging": `make_robust_request` with requests' exception classes as
//! Runs against the in-process demo server (no network): `cargo run --example errors`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::errors::run(&demo).await
}
