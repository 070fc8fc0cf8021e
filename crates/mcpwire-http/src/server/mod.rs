//! The server side of Streamable HTTP (feature `server`), and of the legacy HTTP+SSE
//! transport beside it (feature `legacy-sse`).
//!
//! See the [crate documentation](crate) for an overview and an example.

mod activity;
mod body;
mod cluster;
mod config;
mod delivery;
mod disconnect;
mod error;
mod event_store;
mod exchange;
mod guard;
#[cfg(feature = "legacy-sse")]
mod legacy;
mod registry;
mod request;
mod response;
mod serve;
mod service;
mod session;
mod shared;
mod stateless;
mod streamable;
mod transport;

pub use body::ResponseBody;
pub use cluster::{MessageBus, SessionRecord, SessionStore};
pub use config::Config;
pub use error::Error;
pub use event_store::{BoxFuture, EventStore, EventStoreStats, MemoryEventStore};
pub use exchange::{Exchange, ParamHeaders};
pub use request::{ClientAddress, SessionOwner};
pub use serve::{serve, serve_layered};
pub use service::{
    LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, ResponseFuture, StreamableHttpService,
};
pub use stateless::StatelessHandler;
pub use transport::{
    HttpSessionReceiver, HttpSessionSender, HttpSessionTransport, SessionExtensions, SharedSession,
};

/// Whether `bytes` can be a session id, for the `http_headers` fuzz target.
pub(crate) fn fuzz_session_id(bytes: &[u8]) -> bool {
    request::session_id(bytes).is_some()
}

/// Checks that the loopback `Host` and `Origin` decisions on `value` do not change with the
/// name's case or a trailing dot, for the `http_headers` fuzz target.
///
/// # Panics
///
/// Panics when they change.
pub(crate) fn fuzz_host_guard(value: &str) {
    guard::fuzz_stability(value);
}
