//! The seed article, section by section: each `run` ports one Python snippet to tower-requests
//! against the in-process demo server, prints what happened and asserts what the server saw.
//! The `examples/<section>.rs` binaries run one section; `examples/tour.rs` runs them all;
//! `tests/examples.rs` runs them as tests.
#![allow(dead_code)]

#[cfg(feature = "blocking")]
pub mod blocking;
pub mod context;
pub mod cookies;
pub mod defaults;
pub mod errors;
#[cfg(feature = "redis")]
pub mod fleet;
pub mod isolation;
pub mod login;
pub mod pooling;
pub mod retry;

/// The error type the sections return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
