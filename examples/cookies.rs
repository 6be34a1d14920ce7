//! The seed article's "Cookie Management Mechanism": set a cookie by hand, see it sent, list, remove, clear.
//! Runs against the in-process demo server (no network): `cargo run --example cookies`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::cookies::run(&demo).await
}
