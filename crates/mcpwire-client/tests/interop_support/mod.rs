//! What the interop tests need around the third-party peers: the workspace's paths and the
//! peers' installation (`cargo xtask interop-setup`), shared with the other crates' interop
//! tests.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

#[path = "../../../../interop/rust/peers.rs"]
mod peers;

pub use peers::*;
