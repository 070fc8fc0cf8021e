//! The symmetric JSON-RPC peer engine of mcpwire.
//!
//! A [`Peer`] drives one connection over any [`Transport`](mcpwire_transport::Transport): it
//! allocates ids for outbound requests and correlates their responses; it dispatches inbound
//! requests to a [`Handler`] concurrently, each with a cancellation token; it answers invalid
//! input with the error the parser names; and it keeps every queue bounded. It knows JSON-RPC,
//! never an MCP method name: the role crates supply the cancellation notification through
//! [`Cancellation`].
//!
//! Guarantees:
//!
//! - every outbound request ends in exactly one outcome: its result, the peer's error, a
//!   timeout (after which a cancellation is sent), or [`Error::is_closed`] when the connection
//!   ends first; dropping the request future withdraws it and sends a cancellation;
//! - a cancelled inbound request gets no response, and its handler's token fires;
//! - messages a handler sends through its [`RequestContext`] are written before its response;
//! - inbound requests beyond [`Config::max_in_flight`] wait, and beyond
//!   [`Config::max_queued`] more are refused at once with [`BUSY`]; outbound requests beyond
//!   [`Config::max_pending`] wait for a slot; the outbound queue is bounded.
//!
//! ```
//! use mcpwire_jsonrpc::{ErrorObject, Notification};
//! use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
//! use serde_json::value::RawValue;
//!
//! /// Answers every request with its own params.
//! struct Echo;
//!
//! impl Handler for Echo {
//!     async fn request(&self, params: Option<Box<RawValue>>, _: RequestContext) -> Result<Box<RawValue>, ErrorObject> {
//!         Ok(params.unwrap_or_else(|| RawValue::from_string("null".to_owned()).unwrap()))
//!     }
//!
//!     async fn notification(&self, _: Notification, _: &Peer) {}
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let (left, right) = mcpwire_transport::duplex(16);
//! let client = Peer::start(left, Echo, Config::default());
//! let _server = Peer::start(right, Echo, Config::default());
//! let params = RawValue::from_string(r#"{"hello":"world"}"#.to_owned()).unwrap();
//! let result = client.request_raw("echo", Some(params), RequestOptions::default()).await.unwrap();
//! assert_eq!(result.get(), r#"{"hello":"world"}"#);
//! client.close().await;
//! # });
//! ```

mod cancellation;
mod config;
mod context;
mod driver;
mod error;
#[cfg(feature = "fuzzing")]
mod fuzzing;
mod handler;
mod peer;

pub use cancellation::Cancellation;
pub use config::Config;
pub use context::RequestContext;
pub use error::Error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::fuzz_engine;
pub use handler::Handler;
pub use peer::{BUSY, OutboundRequest, Peer, RequestOptions};
pub use tokio_util::sync::CancellationToken;

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
