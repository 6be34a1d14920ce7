//! The seed article's "Session-Level Parameter Persistence": session auth, default headers, proxies.
//! Runs against the in-process demo server (no network): `cargo run --example defaults`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::defaults::run(&demo).await
}
