//! The article's "Connection Pooling and Performance Optimization" over HTTPS against the
//! in-process demo server: N requests without a session (a new TCP + TLS handshake each, like
//! `requests.get`) versus N on one session (one pooled connection).
//!
//! ```text
//! cargo run --example pooling            # 300 requests each way
//! cargo run --example pooling -- 1000
//! ```

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let demo = demo_server::Demo::start().await;
    article::pooling::run(&demo, n).await
}
