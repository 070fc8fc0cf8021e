//! The library half of the `mcpwire` command: the reference server it serves.
//!
//! The reference server exercises every feature of the server role: a few demonstration tools
//! that are useful on their own, plus every fixture the official MCP conformance suite
//! expects of a server. The `conformance-server` binary serves the same server, so what the
//! suite checks is exactly what `mcpwire serve` offers.
//!
//! ```
//! let server = mcpwire_cli::reference::server().expect("the reference server is valid");
//! assert!(server.tool_names().contains(&"echo".to_owned()));
//! ```

pub mod fixtures;
pub mod reference;
