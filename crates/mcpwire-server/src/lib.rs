//! The MCP server role of mcpwire.
//!
//! A [`Server`] holds what it offers (tools, resources, resource templates, prompts) and serves
//! any number of connections, each over its own
//! [`Transport`](mcpwire_transport::Transport), in both protocol eras. A legacy session
//! negotiates a revision with `initialize` (2024-11-05, 2025-03-26, 2025-06-18 or 2025-11-25;
//! an unknown request gets the newest). A modern request (2026-07-28) carries its version and
//! the client's capabilities in its own `_meta` and is served statelessly, even on a
//! connection that also holds a legacy session. Everything sent carries only what the
//! request's revision defines.
//!
//! Tools are typed: arguments are a Rust type whose JSON Schema is derived with `schemars`,
//! and they are validated with `jsonschema` before the handler runs. A handler gets a
//! [`Context`] to report progress, send log messages, watch for cancellation, and ask the
//! client for a completion, for user input or for its roots, each checked against the
//! capabilities the client declared. The same handler serves both eras: an ask is a request to
//! a legacy client, and a multi round-trip request (`InputRequiredResult`, then a retry with
//! the answers) in the modern era.
//!
//! ```
//! use mcpwire_server::{Context, Server, Structured, Tool, ToolError};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add {
//!     a: f64,
//!     b: f64,
//! }
//!
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Sum {
//!     sum: f64,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder("calculator", "1.0.0")
//!     .tool(
//!         Tool::typed("add", |arguments: Add, context: Context| async move {
//!             context.progress(1.0, Some(1.0), Some("added")).await?;
//!             Ok::<_, ToolError>(Structured(Sum { sum: arguments.a + arguments.b }))
//!         })
//!         .description("Adds two numbers")
//!         .output::<Sum>(),
//!     )
//!     .build()
//!     .unwrap();
//! let (client_end, server_end) = mcpwire_transport::duplex(16);
//! let session = server.serve(server_end);
//! # drop(client_end);
//! # session.closed().await;
//! # });
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod ask;
#[cfg(feature = "http")]
mod broadcast;
mod cache;
mod connection;
mod context;
mod custom;
mod error;
mod fuzzing;
#[cfg(feature = "http")]
mod http;
mod lists;
mod methods;
mod modern;
mod progress;
mod resource;
mod router;
mod server;
mod session;
#[cfg(all(feature = "tasks", feature = "http"))]
mod session_tasks;
mod state;
#[cfg(all(feature = "tasks", feature = "http"))]
mod task_book;
mod tool;
mod uri_template;
mod version;

pub use ask::{AskOptions, ClientProgress};
pub use cache::{CacheHints, CacheScope};
pub use context::{Ask, Context};
pub use error::{Error, ToolError};
#[doc(hidden)]
pub use fuzzing::{fuzz_request_state, fuzz_tool_arguments, fuzz_uri_template};
#[cfg(feature = "http")]
pub use http::ServeHttp;
pub use lists::ListKind;
#[cfg(feature = "tasks")]
pub use mcpwire_ext_tasks::TaskLimits;
#[cfg(feature = "http")]
pub use mcpwire_http::server::{Config as HttpConfig, StreamableHttpService};
pub use mcpwire_schema::Era;
pub use mcpwire_schema::v2025_11_25 as types;
pub use resource::{
    HandlerError, Prompt, Resource, ResourceTemplate, blob_contents, text_contents,
};
pub use server::{Server, ServerBuilder};
pub use session::Session;
pub use tool::{ClientCapability, IntoToolResult, Structured, Tool, ToolBuilder, ToolHandler};

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
