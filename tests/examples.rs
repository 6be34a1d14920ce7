//! Every article example, run as a test: each section asserts what the demo server saw.

#[path = "../examples/article/mod.rs"]
mod article;
#[path = "../examples/demo_server/mod.rs"]
mod demo_server;

use demo_server::Demo;

#[tokio::test]
async fn basic_session_usage() {
    article::login::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn session_level_parameter_persistence() {
    article::defaults::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn connection_pooling() {
    article::pooling::run(&Demo::start().await, 20)
        .await
        .unwrap();
}

#[tokio::test]
async fn cookie_management() {
    article::cookies::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn context_managers() {
    article::context::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn advanced_configuration_retry_mount_timeout() {
    article::retry::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn session_isolation() {
    article::isolation::run(&Demo::start().await).await.unwrap();
}

#[tokio::test]
async fn error_handling() {
    article::errors::run(&Demo::start().await).await.unwrap();
}

#[cfg(feature = "blocking")]
#[test]
fn basic_session_usage_blocking() {
    article::blocking::run(&Demo::start_on_thread()).unwrap();
}
