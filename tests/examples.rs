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

/// The fleet example's coordinator, with this test binary as its workers (see `fleet_worker`).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_one_process_fleet() {
    if std::env::var_os(article::fleet::WORKER_ENV).is_some() {
        return;
    }
    let Some(redis) = article::fleet::EmbeddedRedis::start().unwrap() else {
        let required = ["TOWER_REQUESTS_REQUIRE_PROGRAMS", "CI"].iter().any(|v| {
            std::env::var_os(v).is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        });
        assert!(
            !required,
            "redis-server is not installed and this run requires it"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED: redis-server is not installed; `bash scripts/test.sh` installs it"
        );
        return;
    };
    let exe = std::env::current_exe().unwrap();
    article::fleet::run(&Demo::start().await, &redis, 1.0, || {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args(["fleet_worker", "--exact", "--nocapture", "--test-threads=1"]);
        cmd
    })
    .await
    .unwrap();
}

/// A worker of `beyond_one_process_fleet` (does nothing unless started by it).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_worker() {
    if std::env::var_os(article::fleet::WORKER_ENV).is_some() {
        article::fleet::worker().await.unwrap();
    }
}
