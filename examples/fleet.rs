//! Beyond one process: three worker processes share one login and one rate limit through Redis
//! (an embedded redis-server from the PATH), against the in-process demo server.
//! `cargo run --example fleet --features redis`.

mod article;
mod demo_server;

use article::fleet;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    // The same program is each worker: the coordinator starts it with FLEET_WORKER set.
    if std::env::var_os(fleet::WORKER_ENV).is_some() {
        return fleet::worker().await;
    }
    let Some(redis) = fleet::EmbeddedRedis::start()? else {
        println!(
            "This example needs redis-server on the PATH (it starts its own on a free port).\n\
             Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis;\n\
             or Valkey's valkey-server renamed/linked as redis-server. Then run it again."
        );
        return Ok(());
    };
    let demo = demo_server::Demo::start().await;
    let exe = std::env::current_exe()?;
    fleet::run(&demo, &redis, 2.0, || tokio::process::Command::new(&exe)).await
}
