//! The transport of one HTTP session, handed to the role crate's session factory.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use mcpwire_jsonrpc::{Message, RequestId};
use mcpwire_transport::{Error, Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[cfg(feature = "legacy-sse")]
use crate::server::body::event;
use crate::server::session::Session;

/// The [`Transport`] of one Streamable HTTP session, or of one legacy HTTP+SSE session.
///
/// [`StreamableHttpService`](crate::server::StreamableHttpService) makes one when a client's
/// `initialize` arrives and hands it to the session factory, which serves it (for example with
/// `mcpwire_server::Server::serve`). With `Config::legacy_sse_endpoints` (feature
/// `legacy-sse`), it also makes one for each legacy event stream a client opens: see the end
/// of this section.
///
/// - Inbound: every message POSTed with this session's `Mcp-Session-Id` arrives, in the order
///   the POSTs were read. Bodies that do not parse never arrive: they are answered with `400`.
/// - Outbound: a response goes to the POST that carried its request, as one JSON body when
///   nothing else was sent for that request first, otherwise as the last event of that POST's
///   SSE stream. A request or notification sent with [`SendOptions::related_request`] goes on
///   that request's SSE stream (opening it if the POST is still waiting). Anything else goes
///   on the session's newest open standalone GET stream; when none is open, on the newest one
///   whose connection went away, stored for the client to resume; when the client never opened
///   one, it is dropped. A response whose request has no stream any more is dropped: responses
///   never go on a standalone stream. Every SSE event is kept in the configured event store
///   for resumption.
///
/// The receiver ends when the session ends (`DELETE`, expiry, shutdown); closing the sender
/// ends the session.
///
/// A legacy HTTP+SSE session (revision 2024-11-05) receives the messages POSTed to its
/// endpoint, and sends every message, responses included and whatever its
/// [`SendOptions`], as a `message` event on its one event stream. It ends when that stream
/// closes, and closing the sender closes the stream.
pub struct HttpSessionTransport {
    sender: HttpSessionSender,
    receiver: HttpSessionReceiver,
}

impl HttpSessionTransport {
    pub(crate) fn new(session: Arc<Session>, inbound: mpsc::Receiver<Inbound>) -> Self {
        let terminated = session.terminated.clone();
        HttpSessionTransport {
            sender: HttpSessionSender {
                session,
                #[cfg(feature = "legacy-sse")]
                legacy: None,
            },
            receiver: HttpSessionReceiver {
                inbound,
                terminated,
            },
        }
    }

    /// The transport of a legacy HTTP+SSE session, whose messages go to `outbound`.
    #[cfg(feature = "legacy-sse")]
    pub(crate) fn legacy(
        session: Arc<Session>,
        inbound: mpsc::Receiver<Inbound>,
        outbound: LegacyOutbound,
    ) -> Self {
        let mut transport = HttpSessionTransport::new(session, inbound);
        transport.sender.legacy = Some(outbound);
        transport
    }

    /// The session's `Mcp-Session-Id`, or for a legacy HTTP+SSE session the `sessionId` of its
    /// endpoint.
    pub fn session_id(&self) -> &str {
        &self.sender.session.id
    }

    /// A handle on the `http::Extensions` of the session's requests, which outlives the
    /// transport: take it before serving the transport, to know who a request came from.
    pub fn request_extensions(&self) -> SessionExtensions {
        SessionExtensions {
            session: Arc::downgrade(&self.sender.session),
        }
    }

    /// A digest naming the principal that owns the session, when an authorization layer named
    /// one ([`SessionOwner`](crate::server::SessionOwner)); `None` for an anonymous session.
    /// It equals [`Exchange::authorization_digest`](crate::server::Exchange::authorization_digest)
    /// of that principal's modern requests, so that state bound to a principal is found from
    /// either era.
    pub fn owner_digest(&self) -> Option<[u8; 32]> {
        self.sender
            .session
            .owner
            .as_deref()
            .map(super::exchange::digest_of_owner)
    }

    /// The session's link to the other instances of its deployment, when the service shares
    /// its sessions ([`Config::shared_sessions`](crate::server::Config::shared_sessions)):
    /// take it before serving the transport, to restore the state of a session adopted from
    /// its record, to save the state whenever it changes, and to follow the changes other
    /// instances make. `None` for a session of this service alone.
    pub fn shared_session(&self) -> Option<SharedSession> {
        let shared = self.sender.session.shared()?;
        Some(SharedSession {
            session: Arc::downgrade(&self.sender.session),
            restored: shared.restored.clone(),
            changes: shared.changes.subscribe(),
            terminated: self.sender.session.terminated.clone(),
        })
    }

    /// The id the role's first request to the client should take: 1, or for a copy of a
    /// shared session the start of a range of its own, so that the copies on different
    /// instances never send two requests with one id. Later requests count up from it.
    pub fn first_request_id(&self) -> i64 {
        let tag = self.sender.session.shared().map_or(0, |shared| shared.tag);
        i64::try_from(tag << 32).unwrap_or(0) + 1
    }

    /// Returns `true` for a session of the legacy HTTP+SSE transport (revision 2024-11-05),
    /// `false` for a Streamable HTTP session.
    #[cfg(feature = "legacy-sse")]
    pub fn is_legacy_sse(&self) -> bool {
        self.sender.legacy.is_some()
    }
}

/// The `http::Extensions` of a session's requests: what the layers in front of the service
/// (an authorization layer's principal, axum's connection info, …) put into them. A session
/// belongs to one principal, so its requests' identities agree; their other contents (a
/// step-up's wider scopes) are those of the latest request.
#[derive(Clone, Debug)]
pub struct SessionExtensions {
    session: std::sync::Weak<Session>,
}

impl SessionExtensions {
    /// The extensions of the latest request of the session that had any (empty ones before
    /// that), or `None` once the session is gone.
    pub fn latest(&self) -> Option<Arc<http::Extensions>> {
        Some(self.session.upgrade()?.extensions())
    }
}

/// A session's link to the other instances of its deployment, for the role crate: see
/// [`HttpSessionTransport::shared_session`].
pub struct SharedSession {
    session: std::sync::Weak<Session>,
    restored: Option<Bytes>,
    changes: tokio::sync::watch::Receiver<Option<(u64, Bytes)>>,
    terminated: CancellationToken,
}

impl SharedSession {
    /// The role's state as the session's record holds it, when this instance adopted the
    /// session from its record; `None` for a session made here, by its `initialize`.
    pub fn restored(&self) -> Option<&Bytes> {
        self.restored.as_ref()
    }

    /// Saves `state` as the role's state in the session's record, and tells the other
    /// instances, whose copies receive it from [`changed`](Self::changed). Await it before
    /// answering the request that changed the state, so that the client's next request
    /// finds the change on any instance.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`](crate::server::Error::is_store) when the store cannot be reached;
    /// [`Error::is_cancelled`](crate::server::Error::is_cancelled) once the session has
    /// ended.
    pub async fn save(&self, state: Bytes) -> Result<(), crate::server::Error> {
        let Some(session) = self.session.upgrade() else {
            return Err(crate::server::Error::cancelled());
        };
        session.save_state(state).await
    }

    /// Whether this instance holds the client's standalone stream of the session, open: the
    /// copy that tells the client what concerns the whole session, so that it hears it once.
    pub async fn holds_standalone(&self) -> bool {
        match self.session.upgrade() {
            Some(session) => session.holds_standalone().await,
            None => false,
        }
    }

    /// The role's state the next time another instance changes it; `None` once the session
    /// has ended here.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn changed(&mut self) -> Option<Bytes> {
        loop {
            tokio::select! {
                () = self.terminated.cancelled() => return None,
                changed = self.changes.changed() => changed.ok()?,
            }
            let latest = self.changes.borrow_and_update().clone();
            if let Some(state) = latest.and_then(|latest| self.newer(latest)) {
                return Some(state);
            }
        }
    }

    /// The role's state as another instance changed it, when the role has not taken that
    /// change yet (from [`changed`](Self::changed) or an earlier call): a role that acts on
    /// its state for something another instance published (an announcement to subscribers)
    /// calls it first, to act on the state that instance saw.
    pub fn catch_up(&self) -> Option<Bytes> {
        let latest = self.changes.borrow().clone()?;
        self.newer(latest)
    }

    /// The state of a change the role has not taken, now taken; `None` for one older than
    /// the role's state (its own save, or a change it took).
    fn newer(&self, (revision, state): (u64, Bytes)) -> Option<Bytes> {
        let session = self.session.upgrade()?;
        session.shared()?.take(revision).then_some(state)
    }
}

impl fmt::Debug for SharedSession {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SharedSession")
            .field("restored", &self.restored.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for HttpSessionTransport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpSessionTransport")
            .finish_non_exhaustive()
    }
}

impl Transport for HttpSessionTransport {
    type Sender = HttpSessionSender;
    type Receiver = HttpSessionReceiver;

    fn split(self) -> (HttpSessionSender, HttpSessionReceiver) {
        (self.sender, self.receiver)
    }
}

/// The sending half of an [`HttpSessionTransport`]: routes each message to its stream.
pub struct HttpSessionSender {
    session: Arc<Session>,
    /// The event stream of a legacy HTTP+SSE session, which carries every message.
    #[cfg(feature = "legacy-sse")]
    legacy: Option<LegacyOutbound>,
}

impl fmt::Debug for HttpSessionSender {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpSessionSender")
            .finish_non_exhaustive()
    }
}

impl MessageSender for HttpSessionSender {
    /// Routes `message` as the [`HttpSessionTransport`] documentation describes. When the
    /// connection's queue is full, waits for room at most the configured slow-consumer
    /// timeout; then the connection is closed, and the client resumes it from the event store.
    /// A legacy HTTP+SSE session cannot be resumed: it ends instead.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] once the session has ended.
    async fn send(&mut self, message: Message, options: SendOptions) -> Result<(), Error> {
        #[cfg(feature = "legacy-sse")]
        if let Some(legacy) = &self.legacy {
            return legacy.deliver(&self.session, message).await;
        }
        self.session.deliver(message, options).await
    }

    /// Closes the SSE connection of the POST that carried `request` (SEP-1699): a request
    /// still waiting to be answered as JSON gets an SSE stream with only its priming event; a
    /// streaming one ends after its queued events. The client reconnects with `Last-Event-ID`
    /// and receives what follows, the response included. `Ok(false)` when the request has no
    /// stream here, as in a legacy HTTP+SSE session, whose one stream carries every message.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] once the session has ended.
    async fn close_related_stream(&mut self, request: &RequestId) -> Result<bool, Error> {
        if self.session.terminated.is_cancelled() {
            return Err(Error::closed());
        }
        #[cfg(feature = "legacy-sse")]
        if self.legacy.is_some() {
            return Ok(false);
        }
        Ok(self.session.close_request_stream(request).await)
    }

    /// Ends the session, as a `DELETE` would; a legacy session's event stream ends.
    async fn close(&mut self) -> Result<(), Error> {
        self.session.terminate().await;
        Ok(())
    }
}

/// The receiving half of an [`HttpSessionTransport`]: the messages POSTed to the session.
pub struct HttpSessionReceiver {
    inbound: mpsc::Receiver<Inbound>,
    terminated: CancellationToken,
}

impl fmt::Debug for HttpSessionReceiver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpSessionReceiver")
            .finish_non_exhaustive()
    }
}

impl MessageReceiver for HttpSessionReceiver {
    /// The next POSTed message, or `None` once the session has ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    async fn receive(&mut self) -> Option<Result<Inbound, Error>> {
        tokio::select! {
            biased;
            () = self.terminated.cancelled() => None,
            inbound = self.inbound.recv() => inbound.map(Ok),
        }
    }
}

/// The sending side of a legacy session's event stream, held by its transport.
///
/// It holds the stream weakly: the stream's one lasting sender belongs to the task of the
/// legacy lane's `watch`, so that the stream ends when the session does, even while the
/// transport lives.
#[cfg(feature = "legacy-sse")]
pub(crate) struct LegacyOutbound {
    live: mpsc::WeakSender<Bytes>,
}

#[cfg(feature = "legacy-sse")]
impl LegacyOutbound {
    /// The sender of the stream whose lasting sender is `live`.
    pub(crate) fn new(live: mpsc::WeakSender<Bytes>) -> Self {
        LegacyOutbound { live }
    }

    /// Queues `message` as a `message` event on the stream. When the queue is full, waits for
    /// room at most the slow-consumer timeout; then the session ends, since a legacy client
    /// cannot resume its stream.
    pub(crate) async fn deliver(
        &self,
        session: &Arc<Session>,
        message: Message,
    ) -> Result<(), mcpwire_transport::Error> {
        let Some(live) = self.live.upgrade() else {
            return Err(mcpwire_transport::Error::closed());
        };
        let frame = event(None, "message", &message.to_vec());
        let frame = match live.try_send(frame) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(mcpwire_transport::Error::closed());
            }
            Err(mpsc::error::TrySendError::Full(frame)) => frame,
        };
        let timeout = session.config.slow_consumer_timeout;
        let sent = tokio::select! {
            sent = live.send_timeout(frame, timeout) => sent.is_ok(),
            // The session's end closes the stream; this sender must not keep it open.
            () = session.terminated.cancelled() => false,
        };
        if sent {
            return Ok(());
        }
        drop(live);
        if !session.terminated.is_cancelled() {
            tracing::debug!("ending a legacy session whose client reads too slowly");
            session.terminate().await;
        }
        Err(mcpwire_transport::Error::closed())
    }
}
