//! The seed article's "Best Practices with Context Managers": configure, log in with JSON, fetch data, handle any
//! Runs against the in-process demo server (no network): `cargo run --example context`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::context::run(&demo).await
}
