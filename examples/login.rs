//! The seed article's "Basic Session Usage": log in with a form, the cookie is kept, the profile comes back.
//! Runs against the in-process demo server (no network): `cargo run --example login`.

mod article;
mod demo_server;

#[tokio::main]
async fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start().await;
    article::login::run(&demo).await
}
