//! The Model Context Protocol in Rust: mcpwire's server, client and transports behind one
//! dependency.
//!
//! mcpwire is a workspace of small crates; this one re-exports them behind features, so an
//! application names one crate and picks what it needs:
//!
//! | feature | brings |
//! |---|---|
//! | `server` | [`server`]: `Server`, typed tools, resources, prompts, both eras |
//! | `client` | [`client`]: `Client`, typed requests, sampling, elicitation and roots handlers |
//! | `stdio` | [`stdio`]: `Server::serve_stdio`, and child processes for clients |
//! | `http` | [`http`]: `Server::http_service` and `serve_http`, and the HTTP client transports |
//! | `auth` | [`auth`]: OAuth 2.1 as MCP specifies it over HTTP, the bearer layer that protects a server and the login layer of the HTTP client |
//! | `ext-client-credentials`, `ext-workload-identity`, `ext-dpop`, `ext-enterprise-auth` | [`ext`]: the official authorization extensions on top of `auth`, the client credentials grant, workload identity federation, DPoP-bound tokens, enterprise-managed authorization |
//! | `tasks` | tasks (2025-11-25, and the 2026-07-28 extension on the server) in the roles that are on: tools run as tasks, calls followed as tasks |
//! | `store-redis` | [`store`]: stores on Redis that the server instances of one deployment share (resumption's events, session records, the bus between instances, shared tasks) |
//! | `full` | all of them |
//!
//! [`prelude`] holds the names most programs use; [`types`] the wire types the role APIs
//! speak (revision 2025-11-25, which also carries the modern era's results), and [`schema`]
//! every revision. [`schemars`] and [`serde_json`] are re-exported at the versions mcpwire
//! uses.
//!
//! A server with one typed tool, served over stdio (features `server` and `stdio`):
//!
//! ```no_run
//! # #[cfg(all(feature = "server", feature = "stdio"))]
//! # mod example {
//! use mcpwire::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add {
//!     a: f64,
//!     b: f64,
//! }
//!
//! async fn add(arguments: Add) -> Result<String, ToolError> {
//!     Ok((arguments.a + arguments.b).to_string())
//! }
//!
//! # async fn main() -> Result<(), mcpwire::server::Error> {
//! let server = Server::builder("adder", "1.0.0")
//!     .tool(Tool::typed("add", add).description("Adds two numbers"))
//!     .build()?;
//! server.serve_stdio().await;
//! # Ok(())
//! # }
//! # }
//! ```
//!
//! The crate's `examples/` show the same server mounted in an axum application and an HTTP
//! client calling it; a test runs each of them.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use mcpwire_jsonrpc as jsonrpc;
pub use mcpwire_schema as schema;
pub use mcpwire_schema::v2025_11_25 as types;
pub use mcpwire_transport as transport;
pub use {schemars, serde_json};

#[cfg(feature = "auth")]
pub use mcpwire_auth as auth;
#[cfg(feature = "client")]
pub use mcpwire_client as client;

/// The official extensions of MCP authorization, each its own crate behind its feature.
#[cfg(any(
    feature = "ext-client-credentials",
    feature = "ext-workload-identity",
    feature = "ext-dpop",
    feature = "ext-enterprise-auth"
))]
pub mod ext {
    /// The OAuth client credentials grant for headless clients.
    #[cfg(feature = "ext-client-credentials")]
    pub use mcpwire_ext_client_credentials as client_credentials;
    /// DPoP-bound tokens (RFC 9449), client and resource server.
    #[cfg(feature = "ext-dpop")]
    pub use mcpwire_ext_dpop as dpop;
    /// Enterprise-managed authorization (SEP-990): the user's ID token exchanged at the
    /// enterprise identity provider for a grant the authorization server takes.
    #[cfg(feature = "ext-enterprise-auth")]
    pub use mcpwire_ext_enterprise_auth as enterprise_auth;
    /// Workload identity federation (SEP-1933).
    #[cfg(feature = "ext-workload-identity")]
    pub use mcpwire_ext_workload_identity as workload_identity;
}
#[cfg(feature = "http")]
pub use mcpwire_http as http;

/// Stores that many server instances of one deployment share, each behind its feature.
#[cfg(feature = "store-redis")]
pub mod store {
    /// On Redis: the SSE event store of resumption, the session records, the bus between
    /// instances and the shared tasks of the extension.
    pub use mcpwire_store_redis as redis;
}
#[cfg(feature = "server")]
pub use mcpwire_server as server;
#[cfg(feature = "stdio")]
pub use mcpwire_stdio as stdio;

/// The names most programs use, for `use mcpwire::prelude::*`.
pub mod prelude {
    pub use mcpwire_schema::{Era, ProtocolVersion};
    pub use serde_json::json;

    pub use crate::types;

    #[cfg(all(feature = "client", feature = "http"))]
    pub use mcpwire_http::client::HttpClientBuilder;
    #[cfg(all(feature = "client", feature = "stdio"))]
    pub use mcpwire_stdio::ChildProcess;

    #[cfg(feature = "client")]
    pub use mcpwire_client::{Client, ClientBuilder, EraChoice, RequestContext};
    #[cfg(all(feature = "server", feature = "http"))]
    pub use mcpwire_server::HttpConfig;
    #[cfg(feature = "server")]
    pub use mcpwire_server::{
        Context, HandlerError, Prompt, Resource, ResourceTemplate, Server, ServerBuilder,
        Structured, Tool, ToolError,
    };
}
