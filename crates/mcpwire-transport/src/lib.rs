//! The transport abstraction of mcpwire: something that sends and receives JSON-RPC messages.
//!
//! A [`Transport`] splits into a [`MessageSender`] and a [`MessageReceiver`] so that the
//! engine can read and write concurrently. Transports deliver parsed messages: bytes that do
//! not parse arrive as [`Inbound::Invalid`] with the error the peer must be answered with, so
//! parsing happens once, in the transport, with the strict rules of `mcpwire-jsonrpc`.
//!
//! [`duplex`] makes a connected in-memory pair, for tests and for running a client and a
//! server in one process.
//!
//! ```
//! use mcpwire_jsonrpc::{Message, Notification};
//! use mcpwire_transport::{duplex, Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (client, server) = duplex(16);
//! let (mut client_sender, _client_receiver) = client.split();
//! let (_server_sender, mut server_receiver) = server.split();
//!
//! let ping = Message::from(Notification::new("notifications/initialized", None));
//! client_sender.send(ping.clone(), SendOptions::default()).await.unwrap();
//! let Some(Ok(Inbound::Message(received))) = server_receiver.receive().await else {
//!     panic!("the server receives what the client sent");
//! };
//! assert_eq!(received, ping);
//! # });
//! ```

mod error;
mod memory;

use std::future::Future;

use mcpwire_jsonrpc::{Message, ParseError, RequestId};

pub use error::Error;
pub use memory::{MemoryReceiver, MemorySender, MemoryTransport, duplex};

/// What a transport delivers to the engine.
#[derive(Debug)]
pub enum Inbound {
    /// A message that passed the strict envelope parser.
    Message(Message),
    /// Bytes that are not a valid message. The engine answers with
    /// [`ParseError::to_error_response`] and goes on reading.
    Invalid(ParseError),
    /// A request this side sent that the transport cannot get an answer for (its HTTP
    /// exchange failed, say), though the connection goes on: the engine fails that request
    /// with `error` as its cause, and goes on reading.
    Failed {
        /// The request's id.
        id: RequestId,
        /// Why no answer will come.
        error: Error,
    },
}

/// How an outbound message relates to the conversation, for transports that route by it.
///
/// Streamable HTTP sends a response, and the notifications and requests a handler emits while
/// serving a request, on the stream of that request; stdio has one stream and ignores this.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOptions {
    /// The inbound request this message answers or was emitted while serving.
    pub related_request: Option<RequestId>,
    /// The `Mcp-Param-{Name}` headers of a `tools/call` request (revision 2026-07-28), as
    /// `(Name, value)` pairs with the values not yet encoded for a header. Transports that
    /// send headers ([`MessageSender::SENDS_HEADERS`]) add them; the others ignore them.
    pub param_headers: Vec<(String, String)>,
}

impl SendOptions {
    /// Options for a message related to the inbound request `id`.
    pub fn related_to(id: RequestId) -> Self {
        SendOptions {
            related_request: Some(id),
            ..SendOptions::default()
        }
    }
}

/// The sending half of a transport.
pub trait MessageSender: Send + 'static {
    /// Whether each message travels with HTTP headers of its own, so that the
    /// [`SendOptions::param_headers`] of a request reach the peer. Clients then apply the
    /// `x-mcp-header` rules of revision 2026-07-28 to the tools they list. Default: `false`.
    const SENDS_HEADERS: bool = false;

    /// Sends one message.
    ///
    /// # Errors
    ///
    /// Fails when the transport is closed or its underlying channel fails; the message may then
    /// not have been delivered.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a message may be partly written when the future is dropped.
    fn send(
        &mut self,
        message: Message,
        options: SendOptions,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Closes the sending direction; the peer's receiver then ends.
    ///
    /// # Errors
    ///
    /// Fails when flushing or closing the underlying channel fails.
    fn close(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Ends the connection that carries the messages related to the inbound request `request`,
    /// without ending the request: later messages for it wait for the peer to reconnect.
    ///
    /// Streamable HTTP implements this as the server-initiated disconnection of SEP-1699: the
    /// request's SSE stream is closed (after its priming event), the client reconnects with
    /// `Last-Event-ID` after the advertised `retry` interval, and receives what was sent
    /// meanwhile, the response included. Returns `Ok(true)` when a connection was closed.
    ///
    /// The default does nothing and returns `Ok(false)`: transports with a single connection,
    /// such as stdio, have nothing to close per request.
    ///
    /// # Errors
    ///
    /// Fails when the transport is closed.
    fn close_related_stream(
        &mut self,
        request: &RequestId,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let _ = request;
        std::future::ready(Ok(false))
    }
}

/// The receiving half of a transport.
pub trait MessageReceiver: Send + 'static {
    /// Receives the next message, or `None` once the peer has closed the transport.
    ///
    /// An `Err` is a failure of the channel itself (an I/O error, an oversize frame that cannot
    /// be skipped); after it the transport may yield nothing more.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no message.
    fn receive(&mut self) -> impl Future<Output = Option<Result<Inbound, Error>>> + Send;
}

/// A bidirectional message channel to one peer.
pub trait Transport: Send + 'static {
    /// The sending half.
    type Sender: MessageSender;
    /// The receiving half.
    type Receiver: MessageReceiver;

    /// Splits the transport so that both directions can be used at once.
    fn split(self) -> (Self::Sender, Self::Receiver);
}

// Compiles and runs the README example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
