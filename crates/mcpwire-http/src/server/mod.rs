//! The server side of Streamable HTTP (feature `server`), and of the legacy HTTP+SSE
//! transport beside it (feature `legacy-sse`).
//!
//! See the [crate documentation](crate) for an overview and an example.

mod activity;
mod body;
mod config;
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
pub use config::Config;
pub use error::Error;
pub use event_store::{BoxFuture, EventStore, MemoryEventStore};
pub use exchange::{Exchange, ParamHeaders};
pub use request::{ClientAddress, SessionOwner};
pub use serve::{serve, serve_layered};
pub use service::{
    LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, ResponseFuture, StreamableHttpService,
};
pub use stateless::StatelessHandler;
pub use transport::{
    HttpSessionReceiver, HttpSessionSender, HttpSessionTransport, SessionExtensions,
};
