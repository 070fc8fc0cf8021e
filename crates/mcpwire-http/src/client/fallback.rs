//! Streamable HTTP with a fallback to the legacy HTTP+SSE transport, decided by the server's
//! answer to the first POST.

use std::sync::Arc;

use bytes::Bytes;
use mcpwire_jsonrpc::{ErrorCode, Message};
use mcpwire_transport::{Error, MessageSender, SendOptions, Transport};

use crate::client::Error as HttpError;
use crate::client::connection::{Connection, is_unsupported};
use crate::client::inbox::{HttpClientReceiver, Inbox};
use crate::client::legacy::Legacy;
use crate::client::options::Options;
use crate::client::session::SessionHandle;
use crate::client::streamable::Streamable;

/// A client transport for a server URL that may speak either HTTP transport.
///
/// Built by [`HttpClientBuilder::with_fallback`](crate::client::HttpClientBuilder::with_fallback).
/// Requests are POSTed as Streamable HTTP until one succeeds or an `initialize` is answered.
/// When the server answers the client's `initialize` with 400, 404 or 405, the transport
/// opens an SSE stream with GET at the same URL, waits for the legacy `endpoint` event, and
/// sends that request and all later messages with the 2024-11-05 HTTP+SSE transport. Any
/// other answer settles on Streamable HTTP. A request refused before `initialize` fails
/// alone and decides nothing, and a modern request (one whose params carry the modern
/// `_meta`, such as the `server/discover` probe of a client that speaks both eras) is always
/// sent as modern Streamable HTTP and decides nothing either.
#[derive(Debug)]
pub struct HttpClientTransport {
    sender: HttpClientSender,
    receiver: HttpClientReceiver,
}

impl HttpClientTransport {
    pub(crate) fn new(connection: Arc<Connection>, options: Options) -> Self {
        let (inbox, receiver) = Inbox::new(options.inbound_capacity, options.max_message_bytes);
        let streamable = Streamable::new(Arc::clone(&connection), options.clone(), inbox);
        HttpClientTransport {
            sender: HttpClientSender {
                mode: Mode::Probing(streamable),
                connection,
                options,
                closed: false,
            },
            receiver,
        }
    }

    /// The Streamable HTTP session; it stays empty when the transport falls back to HTTP+SSE.
    pub fn session(&self) -> SessionHandle {
        match &self.sender.mode {
            Mode::Probing(streamable) | Mode::Streamable(streamable) => streamable.session(),
            Mode::Legacy(_) => SessionHandle::default(),
        }
    }
}

impl Transport for HttpClientTransport {
    type Sender = HttpClientSender;
    type Receiver = HttpClientReceiver;

    fn split(self) -> (HttpClientSender, HttpClientReceiver) {
        (self.sender, self.receiver)
    }
}

/// Which transport the sender speaks.
#[derive(Debug)]
enum Mode {
    /// No request was sent yet.
    Probing(Arc<Streamable>),
    Streamable(Arc<Streamable>),
    Legacy(Arc<Legacy>),
}

/// The sending half of an [`HttpClientTransport`].
#[derive(Debug)]
pub struct HttpClientSender {
    mode: Mode,
    connection: Arc<Connection>,
    options: Options,
    closed: bool,
}

impl HttpClientSender {
    fn inbox(&self) -> &Arc<Inbox> {
        match &self.mode {
            Mode::Probing(streamable) | Mode::Streamable(streamable) => &streamable.inbox,
            Mode::Legacy(legacy) => &legacy.inbox,
        }
    }

    /// Whether the sender has fallen back to the legacy HTTP+SSE transport.
    pub fn is_legacy(&self) -> bool {
        matches!(self.mode, Mode::Legacy(_))
    }

    /// Sends a request while the transport is undecided: POSTs it as Streamable HTTP, and
    /// decides by the answer. A success settles on Streamable HTTP; a refused `initialize`
    /// (400, 404 or 405) falls back to HTTP+SSE; another refused request fails alone.
    async fn probe(&mut self, streamable: Arc<Streamable>, message: Message) -> Result<(), Error> {
        let Message::Request(request) = &message else {
            self.mode = Mode::Streamable(Arc::clone(&streamable));
            return streamable.send(message, Vec::new()).await;
        };
        let id = request.id.clone();
        let initialize = request.method == "initialize";
        let body = Bytes::from(message.to_vec());
        streamable.remember_handshake(&message);
        match streamable.post(body, initialize, true, true).await {
            // Requests are always sent again on a new session.
            Ok(None) => {
                self.mode = Mode::Streamable(Arc::clone(&streamable));
                Ok(())
            }
            Ok(Some(response)) => {
                self.mode = Mode::Streamable(Arc::clone(&streamable));
                let reader = Arc::clone(&streamable);
                streamable
                    .spawn(async move { reader.consume(response, Some(id), initialize).await });
                Ok(())
            }
            Err(error)
                if initialize
                    && error.status().is_some_and(is_unsupported)
                    && !error.is_session_expired()
                    && !refuses_the_version(&error) =>
            {
                tracing::debug!(%error, "falling back to the legacy http+sse transport");
                let inbox = Arc::clone(&streamable.inbox);
                let legacy = Legacy::connect(Arc::clone(&self.connection), &self.options, inbox)
                    .await
                    .map_err(|legacy_error| {
                        tracing::debug!(%legacy_error, "the legacy transport failed too");
                        error.into_transport()
                    })?;
                self.mode = Mode::Legacy(Arc::clone(&legacy));
                legacy.send(message).await
            }
            Err(error) if error.is_status() => {
                // Only the answer to `initialize` decides the transport: a refused request
                // before it, such as the `server/discover` probe of a client that speaks both
                // eras, fails on its own and leaves the choice to the `initialize` that follows.
                if initialize {
                    self.mode = Mode::Streamable(Arc::clone(&streamable));
                }
                streamable.inbox.fail_request(id, error).await;
                Ok(())
            }
            Err(error) => Err(error.into_transport()),
        }
    }
}

impl MessageSender for HttpClientSender {
    const SENDS_HEADERS: bool = true;

    /// Sends `message` with the transport in use; the first request decides which one.
    ///
    /// # Errors
    ///
    /// As [`StreamableHttpClientSender::send`](crate::client::StreamableHttpClientSender) or
    /// [`LegacySseClientSender::send`](crate::client::LegacySseClientSender), by the
    /// transport in use. When the first POST is refused and the legacy stream cannot be
    /// opened either, the error of the first POST.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the message may or may not have been sent.
    async fn send(&mut self, message: Message, options: SendOptions) -> Result<(), Error> {
        if self.closed || self.inbox().shutdown.is_cancelled() {
            return Err(self.inbox().closed_error());
        }
        match &self.mode {
            // A modern request decides nothing: the transport stays undecided until an
            // `initialize` is answered.
            Mode::Probing(streamable) if streamable.is_modern(&message) => {
                streamable.send(message, options.param_headers).await
            }
            Mode::Probing(streamable) => {
                let streamable = Arc::clone(streamable);
                self.probe(streamable, message).await
            }
            Mode::Streamable(streamable) => streamable.send(message, options.param_headers).await,
            Mode::Legacy(legacy) => legacy.send(message).await,
        }
    }

    /// Closes the transport in use: a DELETE of the session for Streamable HTTP, then every
    /// stream is stopped. Closing twice does nothing.
    ///
    /// # Errors
    ///
    /// Never fails.
    async fn close(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        if let Mode::Streamable(streamable) = &self.mode {
            streamable.terminate().await;
        }
        self.inbox().shutdown.cancel();
        Ok(())
    }
}

impl Drop for HttpClientSender {
    fn drop(&mut self) {
        self.inbox().shutdown.cancel();
    }
}

/// Whether a refused `initialize` was answered with `-32022` (UnsupportedProtocolVersion): a
/// Streamable HTTP server that speaks only other revisions, such as the modern era. The
/// legacy transport would not help, and the caller gets the server's error with the versions
/// it supports.
fn refuses_the_version(error: &HttpError) -> bool {
    error
        .refusal()
        .is_some_and(|refusal| refusal.error.code == ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)
}
