//! The client role of the Model Context Protocol.
//!
//! A [`Client`] connects to an MCP server over any
//! [`Transport`](mcpwire_transport::Transport), finds out which era of the protocol the server
//! speaks, and then sends typed requests (`client.request::<M>(params)`, checked by the
//! compiler to be methods a client sends) or raw ones, with conveniences for tools, resources,
//! prompts, completion and logging. It answers the server's questions through the handlers
//! registered on the [`ClientBuilder`] — [`SamplingHandler`], [`ElicitationHandler`],
//! [`RootsProvider`] — which also decide the capabilities it declares, and hands notifications
//! to a callback.
//!
//! # Both eras
//!
//! The client speaks the legacy era (revisions 2024-11-05 to 2025-11-25: the `initialize`
//! handshake, sessions, requests from the server) and the modern era (2026-07-28: stateless,
//! every request carrying the protocol version and the client's capabilities in `_meta`).
//! By default ([`EraChoice::Auto`]) it probes with `server/discover` and falls back to
//! `initialize` when the server does not answer as a modern server; an [`EraCache`] remembers
//! the answer per server. The API is the same in both eras: in the modern era a tool call
//! that needs input (`input_required`) is answered with the same handlers and retried
//! transparently, and [`Client::listen`] opens a `subscriptions/listen` stream.
//!
//! What it guarantees:
//!
//! - a request for a feature the server did not declare fails with
//!   [`Error::is_capability_missing`] without being sent;
//! - every request has a timeout (60 s by default, per call with [`CallOptions`]); progress
//!   updates may extend it on request, never beyond a hard maximum;
//! - dropping a request's future, or its timeout, sends `notifications/cancelled` for it;
//! - progress for a call reaches its callback before the call's result;
//! - listings follow `nextCursor` to the end, and stop with an error when a server repeats a
//!   cursor or sends more than 1000 pages;
//! - server requests in an undeclared capability get `-32601`, elicitations in an undeclared
//!   mode `-32602`, and an accepted form gets the requested defaults for fields left out (in
//!   the modern era, the same input requests fail the call with
//!   [`Error::is_input_request_failed`]);
//! - in the modern era, a call asks for input at most
//!   [`ClientBuilder::max_input_rounds`] times, each retry a new request that carries only its
//!   own round's answers and the exact `requestState` it was given;
//! - with the tasks extension declared (`ClientBuilder::tasks_extension`, feature `tasks`), a
//!   tool call the server runs as a task still resolves to the tool's result: the task is
//!   polled at the server's interval (within bounds), each of its input requests answered once
//!   with the same handlers, and it is followed no longer than its time to live; dropping the
//!   call cancels the task (`tasks/cancel`).
//!
//! # Example
//!
//! A client talking to a tiny server over the in-memory transport:
//!
//! ```
//! use mcpwire_client::{Client, ErrorObject};
//! use mcpwire_jsonrpc::Notification;
//! use mcpwire_rpc::{Config, Handler, Peer, RequestContext};
//! use mcpwire_schema::v2025_11_25::{ContentBlock, Implementation};
//! use serde_json::json;
//! use serde_json::value::{RawValue, to_raw_value};
//!
//! /// Answers `initialize` and calls to one tool, `greet`.
//! struct TinyServer;
//!
//! impl Handler for TinyServer {
//!     async fn request(&self, _: Option<Box<RawValue>>, context: RequestContext) -> Result<Box<RawValue>, ErrorObject> {
//!         let result = match context.method() {
//!             "initialize" => json!({
//!                 "protocolVersion": "2025-11-25",
//!                 "capabilities": {"tools": {}},
//!                 "serverInfo": {"name": "tiny", "version": "1.0.0"},
//!             }),
//!             "tools/call" => json!({"content": [{"type": "text", "text": "hello"}]}),
//!             other => return Err(ErrorObject::method_not_found(other)),
//!         };
//!         Ok(to_raw_value(&result).unwrap())
//!     }
//!
//!     async fn notification(&self, _: Notification, _: &Peer) {}
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let (client_end, server_end) = mcpwire_transport::duplex(16);
//! let _server = Peer::start(server_end, TinyServer, Config::default());
//!
//! let client = Client::builder("example", "0.1.0").connect(client_end).await?;
//! assert_eq!(client.server_info().name, "tiny");
//!
//! let result = client.call_tool("greet", json!({"name": "world"})).await?;
//! let ContentBlock::TextContent(text) = &result.content[0] else { panic!("text expected") };
//! assert_eq!(text.text, "hello");
//!
//! // The server declared no prompts: nothing is sent.
//! let error = client.list_prompts().await.unwrap_err();
//! assert!(error.is_capability_missing());
//! client.close().await;
//! # Ok::<_, mcpwire_client::Error>(()) }).unwrap();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod cache;
mod call;
mod capability;
mod client;
mod discover;
mod dispatch;
mod elicitation;
mod era;
mod error;
mod handlers;
mod mirrored;
mod modern;
mod mrtr;
mod notification;
mod options;
mod subscription;
#[cfg(feature = "tasks")]
mod task_handle;
#[cfg(feature = "tasks")]
mod tasks;

pub use builder::ClientBuilder;
pub use call::Call;
pub use client::Client;
pub use elicitation::ElicitationModes;
pub use era::{EraCache, EraChoice};
pub use error::Error;
pub use handlers::{ElicitationHandler, RequestContext, RootsProvider, SamplingHandler};
#[cfg(feature = "tasks")]
pub use mcpwire_ext_tasks::{FollowLimits, TaskLimits};
pub use mcpwire_jsonrpc::{ErrorCode, ErrorObject, RequestId};
pub use mcpwire_rpc::CancellationToken;
#[cfg(feature = "tasks")]
pub use mcpwire_schema::ext_tasks::TaskStatus;
pub use mcpwire_schema::v2026_07_28::SubscriptionFilter;
pub use mcpwire_schema::{Era, ProtocolVersion};
pub use notification::ServerNotification;
pub use options::{CallOptions, Progress};
pub use subscription::Subscription;
#[cfg(feature = "tasks")]
pub use task_handle::{TaskHandle, ToolCall};

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
