//! The client side of MCP's HTTP transports.
//!
//! Three transports implement [`Transport`](mcpwire_transport::Transport), all made by an
//! [`HttpClientBuilder`]:
//!
//! - [`StreamableHttpClientTransport`] ([`HttpClientBuilder::streamable`]) speaks Streamable
//!   HTTP, the transport of MCP 2025-03-26 and later.
//! - [`LegacySseClientTransport`] ([`HttpClientBuilder::legacy_sse`]) speaks the HTTP+SSE
//!   transport of MCP 2024-11-05.
//! - [`HttpClientTransport`] ([`HttpClientBuilder::with_fallback`]) tries Streamable HTTP and
//!   falls back to HTTP+SSE when the server refuses the first POST with 400, 404 or 405, as
//!   the spec's backwards-compatibility section describes. Use it when the kind of server
//!   behind a URL is unknown.
//!
//! ```no_run
//! use mcpwire_client::Client;
//! use mcpwire_http::client::HttpClientBuilder;
//! use mcpwire_schema::v2025_11_25::Implementation;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .bearer_token("secret-token")
//!     .streamable()?;
//! let session = transport.session();
//! let client = Client::builder("my-client", "1.0.0").connect(transport).await?;
//! println!("session {:?} at {:?}", session.id(), session.protocol_version());
//! let tools = client.list_tools().await?;
//! println!("{} tools", tools.len());
//! client.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Streamable HTTP
//!
//! - **Messages.** Every outbound message is POSTed to the endpoint with
//!   `Accept: application/json, text/event-stream` and `Content-Type: application/json`. A
//!   request's answer is either one JSON body or an SSE stream; every message event on the
//!   stream (requests and notifications of the server, then the response) is delivered in
//!   order. A notification or response is expected to get 202 Accepted; a 200 with a body is
//!   read too.
//! - **Modern requests.** A request whose params carry the modern `_meta` envelope
//!   (protocol 2026-07-28, stateless) is sent the modern way, whatever else the transport
//!   does: with `MCP-Protocol-Version` set to the version in its `_meta`, `Mcp-Method` set to
//!   its method, and `Mcp-Name` set to the tool or prompt name of `tools/call` and
//!   `prompts/get`, the URI of `resources/read` or the task id of `tasks/*` (Base64 between
//!   `=?base64?` and `?=` when the value is not plain visible ASCII). It carries no session
//!   id, and a session id in its answer is ignored; a conversation of modern requests opens
//!   no standalone stream and sends no DELETE on close. When the engine cancels a modern
//!   request in flight with `notifications/cancelled`, the transport abandons its POST and
//!   closes its stream, which is the modern era's cancellation, and does not send the
//!   notification.
//! - **Session.** The `Mcp-Session-Id` of the answer to `initialize` is sent on every later
//!   HTTP request. [`StreamableHttpClientTransport::session`] shows it.
//! - **Protocol version.** After `initialize`, every HTTP request carries
//!   `MCP-Protocol-Version`. The transport reads the version from the `initialize` result
//!   as it passes through, so the client role needs to do nothing;
//!   [`HttpClientBuilder::protocol_version`] pins a version instead. The transport knows the
//!   names `initialize` and `notifications/initialized` for this, as MCP's HTTP binding
//!   does; the engine underneath stays free of MCP names.
//! - **Standalone stream.** Once `notifications/initialized` is accepted, the transport opens
//!   the optional GET stream for the server's own requests and notifications
//!   ([`HttpClientBuilder::standalone_stream`]). A 400, 404 or 405 answer just means there is
//!   none. When the server closes it, it is reopened after the server's `retry` interval.
//! - **Resumption.** When the SSE stream of a request ends before the request's response,
//!   the transport waits the `retry` interval the server sent (or
//!   [`HttpClientBuilder::reconnect_delay`]) and reconnects with GET and `Last-Event-ID`,
//!   until the response arrives. Failed attempts back off (doubling up to
//!   [`HttpClientBuilder::max_reconnect_delay`]) and are bounded
//!   ([`HttpClientBuilder::max_reconnect_attempts`]); an attempt that delivers a message
//!   resets the count. The stream of a modern request is never resumed (the modern era
//!   has no `Last-Event-ID`): when it ends before the response, the request fails.
//! - **Failed requests.** A request whose POST fails (an error status, a timeout, a broken
//!   connection) or whose stream cannot be resumed is answered by the transport with a
//!   `-32603` error response that names the HTTP failure, so the caller does not wait for
//!   its timeout. A modern server explains an error status with a JSON-RPC error in a JSON
//!   body (`-32022` for an unsupported protocol version, `-32601` with 404, `-32602` with
//!   400, ...): for a modern request that error is delivered as the request's error
//!   response, under the request's id when the body names none, so the client role sees the
//!   server's own error.
//! - **Session expiry.** A 404 to a POST carrying the session id means the server ended the
//!   session, and the spec requires the client to initialize a new one. The transport keeps
//!   the client role's `initialize` request and `notifications/initialized` for this: it
//!   sends the `initialize` again without a session id (under an id of its own, so the
//!   response stays with the transport), checks that the protocol version is the one
//!   negotiated before, sends `notifications/initialized`, reopens the standalone stream and
//!   POSTs the refused message again on the new session. Each message causes at most one new
//!   session, and messages refused together wait for the same one.
//!   [`SessionHandle::reinitializations`] counts new sessions. The server's state of the old
//!   session (subscriptions, the logging level, requests in flight) is lost; see
//!   [`HttpClientBuilder::reinitialize_on_session_expiry`], which turns this off.
//!   When it is off, or the new session cannot be started, the transport fails: the engine
//!   receives an error whose [`Error`] source
//!   [`is_session_expired`](crate::client::Error::is_session_expired) (find it with
//!   [`Error::find`](crate::client::Error::find)), every pending request fails, and the client must initialize a
//!   new session on a new transport.
//! - **Close.** [`close`](mcpwire_transport::MessageSender::close) sends DELETE with the
//!   session id (a 405 is fine), then stops every stream.
//!
//! # The HTTP stack
//!
//! Every HTTP request goes through an [`HttpClientService`], a `tower` service: by default
//! hyper-util's pooled client over rustls (below), or any service given to
//! [`HttpClientBuilder::service`]. [`HttpClientBuilder::layer`] wraps it in `tower` layers,
//! so that authorization, extra headers, retries, tracing and metrics are layers the user
//! chooses; the `client_layer` example adds a header this way.
//!
//! # TLS
//!
//! The client speaks TLS through rustls, which leaves the cryptography to a *crypto
//! provider*. The transports pick one in this order:
//!
//! 1. the provider given to [`HttpClientBuilder::crypto_provider`], or the whole
//!    configuration given to [`HttpClientBuilder::tls_config`] (the later call wins);
//! 2. the provider the application installed for the process with
//!    [`CryptoProvider::install_default`](rustls::crypto::CryptoProvider::install_default), the
//!    rustls convention for an application to choose once for all its libraries;
//! 3. otherwise rustls's provider over [*ring*](https://docs.rs/ring), which mcpwire builds
//!    with by default.
//!
//! Server certificates are checked against the Mozilla roots of `webpki-roots` unless a
//! whole configuration is given.
//!
//! ## Post-quantum key exchange
//!
//! *ring* offers P-384, X25519 and P-256 key exchange and no post-quantum one, so a
//! connection made with the default provider is not protected against an adversary who
//! records it today and breaks its key exchange with a quantum computer later. rustls 0.23.48
//! deprecated its *ring* provider for this reason. mcpwire still defaults to it, deliberately:
//! it builds for every target rustls supports with nothing but the Rust toolchain and a C
//! compiler, and it runs on any CPU of those targets. The providers that offer the hybrid
//! X25519MLKEM768 exchange each cost something a library should not impose on every user:
//!
//! - [`rustls-graviola`](https://docs.rs/rustls-graviola) is Rust and formally verified
//!   assembly, but runs only on `x86_64` with AVX2, ADX and BMI2, or on `aarch64` with the
//!   AES, SHA-2 and PMULL extensions;
//! - rustls's [`aws-lc-rs`](https://docs.rs/aws-lc-rs) provider builds the AWS-LC C library.
//!
//! A user who wants post-quantum key exchange picks one of them:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mcpwire_http::client::HttpClientBuilder;
//!
//! # fn run() -> Result<(), mcpwire_http::client::Error> {
//! // With `rustls-graviola = "0.4"` in Cargo.toml: for one transport...
//! let transport = HttpClientBuilder::new("https://mcp.example.com/mcp")
//!     .crypto_provider(Arc::new(rustls_graviola::default_provider()))
//!     .streamable()?;
//! // ...or for every rustls user of the process, once, before any connection.
//! let _ = rustls_graviola::default_provider().install_default();
//! # Ok(())
//! # }
//! ```
//!
//! The `tls` integration test of this crate connects both ways and checks the key exchange
//! the server negotiated: X25519MLKEM768 with graviola, a classical group with the default.
//!
//! # Limits
//!
//! The inbound queue is bounded ([`HttpClientBuilder::inbound_capacity`]): while the engine
//! does not read, the transport stops reading from the server. JSON bodies and SSE events
//! are bounded ([`HttpClientBuilder::max_message_bytes`]). Connecting and waiting for
//! answers have timeouts ([`HttpClientBuilder::connect_timeout`],
//! [`HttpClientBuilder::request_timeout`]); an open SSE stream has none.

mod builder;
mod connection;
mod error;
mod fallback;
mod inbox;
mod legacy;
mod modern;
mod options;
mod service;
mod session;
pub(crate) mod sse;
mod streamable;
mod tls;

pub use builder::HttpClientBuilder;
pub use error::Error;
pub use fallback::{HttpClientSender, HttpClientTransport};
pub use inbox::HttpClientReceiver;
pub use legacy::{LegacySseClientSender, LegacySseClientTransport};
/// The rustls this crate is built with, to name a [`rustls::crypto::CryptoProvider`] or a
/// [`rustls::ClientConfig`] of the same version.
pub use rustls;
pub use service::{BoxError, HttpClientService, RequestBody, ResponseBody};
pub use session::SessionHandle;
pub use streamable::{StreamableHttpClientSender, StreamableHttpClientTransport};
