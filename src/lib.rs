//! tower-requests (placeholder while the facade is written).
#![deny(missing_docs)]
pub use tower_requests_layers as layers;
