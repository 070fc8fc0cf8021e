//! The library half of the `mcpwire` command: the reference server it serves, what the
//! instances of a deployment share ([`deployment`]), and `mcpwire conform` ([`conform`]), the
//! conformance suite of `mcpwire-conformance` on the command line.
//!
//! The reference server shows the server role at work: a few demonstration tools that are
//! useful on their own, a resource and a prompt. The official conformance suite's fixtures
//! live in `mcpwire-conformance-fixtures`, not here; `cargo xtask conformance` also points the
//! suite's generic scenarios at `mcpwire serve` itself.
//!
//! ```
//! let server = mcpwire_cli::reference::server().expect("the reference server is valid");
//! assert!(server.tool_names().contains(&"echo".to_owned()));
//! ```

pub mod conform;
pub mod deployment;
pub mod reference;
