//! The HTTP transports of mcpwire: MCP's Streamable HTTP on both sides (revision 2025-11-25
//! with sessions, and revision 2026-07-28 statelessly on the server side), and the deprecated
//! HTTP+SSE transport of 2024-11-05 for clients of older servers.
//!
//! Each side sits behind a feature:
//!
//! - `server`: the endpoint, [`server::StreamableHttpService`], and [`server::serve`].
//! - `legacy-sse`: `server` and the server side of the deprecated HTTP+SSE transport of
//!   2024-11-05, served beside Streamable HTTP by the same service for older clients
//!   (`server::Config::legacy_sse_endpoints`).
//! - `client`: [`client`], transports that connect to an MCP server by URL, over hyper-util's
//!   client with rustls (pure Rust TLS; *ring* by default, any rustls crypto provider by choice; the
//!   Mozilla roots of `webpki-roots`).
//! - `full`: all of them.
//!
//! # Server
//!
//! With the `server` feature, [`server::StreamableHttpService`] is the MCP endpoint as a
//! [`tower_service::Service`] over hyper's request and response types. It knows nothing of
//! MCP methods beyond `initialize` and `notifications/cancelled`: it checks headers, keeps
//! sessions and SSE streams, and hands each new session's
//! [`server::HttpSessionTransport`] to a *session factory* that the role crate supplies
//! (`mcpwire_server::Server::http_service` does this for you). [`server::serve`] runs the
//! service on a TCP listener.
//!
//! # The modern era
//!
//! Revision 2026-07-28 is stateless: [`server::StreamableHttpService::stateless`] adds a lane
//! that serves its requests beside the legacy sessions, on the same endpoint. A request with an
//! `MCP-Protocol-Version` header that names no legacy revision (or, without the header and
//! without a session, a body whose `params._meta` is modern) takes the lane: it is validated
//! (headers against the body, `_meta`, the version), handed with a [`server::Exchange`] to a
//! [`server::StatelessHandler`], and answered with one JSON body or an SSE stream without event
//! ids; closing the connection or the stream cancels it. [`headers`] holds the value codec of
//! the mirrored `Mcp-Name` and `Mcp-Param-*` headers.
//!
//! # How messages travel (legacy sessions)
//!
//! - Every `POST` carries one JSON-RPC message, which arrives on the session transport's
//!   receiver.
//! - A response goes back on the `POST` of its request: as one `application/json` body when
//!   the handler sent nothing before it, otherwise as the last event of an SSE stream that
//!   the handler's first related message opened.
//! - Messages sent with [`SendOptions::related_request`](mcpwire_transport::SendOptions) go on
//!   that request's SSE stream; other messages go on the session's standalone `GET` stream
//!   (stored for resumption while its connection is down), and are dropped when the client
//!   never opened one.
//! - Every SSE stream starts with a priming event (an `id`, a `retry` and empty `data`).
//!   Event ids are `<stream>-<sequence>`; every event is kept in an
//!   [`server::EventStore`], and a `GET` with `Last-Event-ID` replays the rest of that stream
//!   exactly once and in order, then continues it live. Resuming from an event the store no
//!   longer holds is refused with `400`, never resumed with a gap.
//!
//! # Older clients
//!
//! With the `legacy-sse` feature, `server::Config::legacy_sse_endpoints("/sse", "/messages")`
//! makes the service serve clients of revision 2024-11-05 too: `GET /sse` opens a session and
//! its event stream, whose first event names `/messages?sessionId=…`, where the client POSTs
//! its messages; everything the server sends travels on the stream. The session goes to the
//! same factory, as an [`server::HttpSessionTransport`], under the same checks and limits, and
//! ends when the stream closes. All other paths stay the Streamable HTTP endpoint.
//!
//! # Safe defaults
//!
//! DNS-rebinding protection is on: only loopback `Host` and `Origin` values are accepted
//! until [`server::Config::allowed_hosts`] and [`server::Config::allowed_origins`] say
//! otherwise. Bodies are limited to 4 MiB, sessions to 10 000, standalone streams to 4 per
//! session; each SSE connection queues at most 16 events, and a client that leaves its queue
//! full for 10 seconds is disconnected (it resumes from the event store) rather than buffered
//! for. Sessions expire
//! after 10 idle minutes. Every limit is a [`server::Config`] setter.
//!
//! # Example
//!
//! ```no_run
//! # #[cfg(feature = "server")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcpwire_http::server::{serve, Config, HttpSessionTransport, StreamableHttpService};
//!
//! let config = Config::new().session_idle_timeout(std::time::Duration::from_secs(300));
//! let service = StreamableHttpService::new(config, |transport: HttpSessionTransport| {
//!     // Serve the session here: `mcpwire_rpc::Peer::start(transport, handler, config)`, or
//!     // `server.serve(transport)` with mcpwire-server.
//!     drop(transport);
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, service, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;
#[cfg(any(feature = "server", feature = "client"))]
mod fuzzing;
#[cfg(any(feature = "server", feature = "client"))]
pub mod headers;
#[cfg(feature = "server")]
pub mod server;

#[cfg(any(feature = "server", feature = "client"))]
#[doc(hidden)]
pub use fuzzing::fuzz_headers;
#[cfg(feature = "client")]
#[doc(hidden)]
pub use fuzzing::fuzz_sse;

// Compiles the README examples as doc tests; they need every feature.
#[cfg(all(
    doctest,
    feature = "server",
    feature = "client",
    feature = "legacy-sse"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
