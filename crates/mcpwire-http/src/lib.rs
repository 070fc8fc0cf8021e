//! The HTTP transports of mcpwire: MCP's Streamable HTTP, and the deprecated HTTP+SSE
//! transport of 2024-11-05 for older servers.
//!
//! Each side sits behind a feature:
//!
//! - `client`: [`client`], transports that connect to an MCP server by URL, over hyper-util's
//!   client with rustls (pure Rust TLS, ring, the Mozilla roots of `webpki-roots`).
//! - `full`: everything.
//!
//! With no feature enabled the crate is empty.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;

// Compiles the README example as a doc test.
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
