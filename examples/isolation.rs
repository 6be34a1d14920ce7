//! The seed article's "Session State and Isolation": two sessions, two users, nothing shared.
//! Runs against the in-process demo server (no network): `cargo run --example isolation`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::isolation::run(&demo).await
}
