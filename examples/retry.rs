//! The seed article's "Advanced Configuration and Customization": urllib3's Retry on a transport mounted for
//! Runs against the in-process demo server (no network): `cargo run --example retry`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::retry::run(&demo).await
}
