//! The seed article's "Basic Session Usage" with the blocking API, from a plain `fn main()`:
//! log in with a form, the cookie is kept, the profile comes back. The in-process demo server
//! runs on a thread of its own (no network):
//! `cargo run --example blocking --features blocking`.

mod article;
mod demo_server;

fn main() -> Result<(), article::BoxError> {
    let demo = demo_server::Demo::start_on_thread();
    article::blocking::run(&demo)
}
