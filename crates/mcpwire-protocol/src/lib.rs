//! The MCP rules that both roles of mcpwire apply, above the engine and below the roles.
//!
//! `mcpwire-rpc` knows JSON-RPC and no MCP method; `mcpwire-server` and `mcpwire-client` give
//! each method its meaning. What lies between, the same for both roles, lives here once:
//!
//! - [`McpCancellation`]: `notifications/cancelled`, taught to the engine.
//! - [`progress`]: the progress a handler reports on a request it serves
//!   ([`ProgressReporter`](progress::ProgressReporter)), and where the peer's progress on our
//!   own requests goes ([`ProgressRoutes`](progress::ProgressRoutes)).
//! - [`pagination`]: the cursors a lister hands out and the loop that follows them.
//!
//! Applications do not need this crate: the roles use it.

mod cancellation;
pub mod pagination;
pub mod progress;

pub use cancellation::McpCancellation;
