//! The error every timer of this module returns (defined with the shared classification).

pub use crate::classify::{Elapsed, TimeoutKind};
