//! mcpwire against the official TypeScript and Python MCP SDKs: what the interop tests of
//! `tests/` share. Not published.
//!
//! - [`peers`]: the workspace's paths, the pinned peers' installation (`cargo xtask
//!   interop-setup`) and running a command with a time limit;
//! - [`examples`]: mcpwire's own peers (the `everything` example of `mcpwire-server` and this
//!   crate's `interop_peer` example), built on demand;
//! - [`results`]: calling a tool that must succeed, and the texts of its result;
//! - [`script`]: the one script every dual-era test runs, in either direction, and what it
//!   expects.
//!
//! The peers themselves are the scripts beside this directory; `README.md` lists them.

pub mod examples;
pub mod peers;
pub mod results;
pub mod script;
