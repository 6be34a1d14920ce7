//! The whole seed article, in order, against the in-process demo server (no network needed):
//! `cargo run --example tour`.

mod article;
mod demo_server;

use std::future::Future;

async fn section<F>(title: &str, f: F) -> Result<(), article::BoxError>
where
    F: Future<Output = Result<(), article::BoxError>>,
{
    println!("\n=== {title} ===");
    f.await
}

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    println!(
        "demo server: http://{} and https://{} (self-signed)",
        demo.http, demo.https
    );
    section("Basic Session Usage", article::login::run(&demo)).await?;
    section(
        "Session-Level Parameter Persistence",
        article::defaults::run(&demo),
    )
    .await?;
    section(
        "Connection Pooling and Performance Optimization",
        article::pooling::run(&demo, 100),
    )
    .await?;
    section("Cookie Management Mechanism", article::cookies::run(&demo)).await?;
    section(
        "Best Practices with Context Managers",
        article::context::run(&demo),
    )
    .await?;
    section(
        "Advanced Configuration and Customization",
        article::retry::run(&demo),
    )
    .await?;
    section(
        "Session State and Isolation",
        article::isolation::run(&demo),
    )
    .await?;
    section("Error Handling and Debugging", article::errors::run(&demo)).await?;
    println!("\nAll sections ran.");
    Ok(())
}
