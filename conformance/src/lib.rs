//! The fixture server and client that the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) drives, for mcpwire.
//!
//! - [`fixtures`]: every tool, resource, template and prompt the suite's server scenarios
//!   call, served by the `conformance-server` binary;
//! - [`scenarios`]: what the `conformance-client` binary does in each client scenario, once
//!   connected.
//!
//! `cargo xtask conformance` installs the pinned suite, runs both binaries under it, and
//! compares the outcome with `conformance/expected-failures.json`. See the crate's README.

pub mod fixtures;
pub mod scenarios;
