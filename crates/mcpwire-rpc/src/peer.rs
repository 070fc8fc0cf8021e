//! The peer: the handle for sending, and the state of a connection that the driver's two
//! tasks share with it.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mcpwire_jsonrpc::method::{NotificationMethod, RequestMethod};
use mcpwire_jsonrpc::{ErrorCode, Message, Notification, RawParams, Request, RequestId};
use mcpwire_transport::{MessageSender, SendOptions};
use serde_json::value::RawValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{Config, Error};

/// The error code of a request refused because too many requests are running and waiting
/// already (`-32000`, in the range JSON-RPC leaves to implementations).
pub const BUSY: ErrorCode = ErrorCode(-32000);

/// Per-call options of an outbound request.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Overrides the configured timeout; `Some(None)` waits without limit.
    pub timeout: Option<Option<Duration>>,
    /// The inbound request this one is made while serving, for transports that route by it.
    pub related_request: Option<RequestId>,
    /// Withdraws the request without telling the peer when it times out or its future is
    /// dropped: no cancellation notification is sent. For probes that a peer may not
    /// understand, where a notification about them could confuse it. Default: `false`.
    pub silent_withdrawal: bool,
    /// The `Mcp-Param-{Name}` headers of the request, for transports that send headers (see
    /// [`SendOptions::param_headers`]).
    pub param_headers: Vec<(String, String)>,
}

impl RequestOptions {
    /// Options with a timeout of `timeout` for this call.
    pub fn with_timeout(timeout: Duration) -> Self {
        RequestOptions {
            timeout: Some(Some(timeout)),
            ..RequestOptions::default()
        }
    }
}

/// A handle to a connection with a peer: send requests and notifications, close, or wait for
/// the connection to end. Cheap to clone; every clone drives the same connection.
#[derive(Clone)]
pub struct Peer {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) type Reply = Result<Box<RawValue>, Error>;

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) outbound: mpsc::Sender<Outgoing>,
    pub(crate) pending: Mutex<HashMap<RequestId, PendingRequest>>,
    pub(crate) pending_slots: Arc<Semaphore>,
    pub(crate) in_flight: Mutex<HashMap<RequestId, InFlight>>,
    pub(crate) running_slots: Arc<Semaphore>,
    pub(crate) admitted_slots: Arc<Semaphore>,
    pub(crate) next_id: AtomicI64,
    /// Fires when the connection starts shutting down.
    pub(crate) closing: CancellationToken,
    /// Fires when both tasks have finished and every pending request has failed.
    pub(crate) terminated: CancellationToken,
    pub(crate) close_cause: Mutex<Option<mcpwire_transport::Error>>,
}

pub(crate) struct PendingRequest {
    pub(crate) method: String,
    pub(crate) reply: oneshot::Sender<Reply>,
}

pub(crate) enum Outgoing {
    Message {
        message: Message,
        options: SendOptions,
    },
    /// Ends the connection that carries an inbound request's messages (SEP-1699).
    CloseStream(RequestId),
}

impl Outgoing {
    /// Writes this item to `sender`. Only a failed message write is an error: a transport
    /// that cannot close a request's stream leaves the connection as it is.
    pub(crate) async fn write<S: MessageSender>(
        self,
        sender: &mut S,
    ) -> Result<(), mcpwire_transport::Error> {
        match self {
            Outgoing::Message { message, options } => sender.send(message, options).await,
            Outgoing::CloseStream(id) => {
                match sender.close_related_stream(&id).await {
                    Ok(closed) => tracing::debug!(%id, closed, "closing a request's stream"),
                    Err(error) => {
                        tracing::debug!(%id, %error, "a request's stream could not be closed")
                    }
                }
                Ok(())
            }
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the maps inconsistent (every
    // critical section is a single insert, remove or drain), so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Peer {
    /// Sends a request and awaits its raw result.
    ///
    /// # Errors
    ///
    /// [`Error::is_remote`] when the peer answers with an error, [`Error::is_timeout`] when no
    /// response arrives in time, [`Error::is_closed`] when the connection closes first.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the response arrives withdraws the request: the configured
    /// [`Cancellation`](crate::Cancellation) notification is sent to the peer.
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<RawParams>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>, Error> {
        self.begin_request(method, params, options)
            .await?
            .send()
            .await
    }

    /// Prepares a request: waits for a pending slot and allocates the request's id, without
    /// sending anything. [`OutboundRequest::send`] then sends it and awaits the response.
    ///
    /// Knowing the id before the request is on the wire lets a caller route what the peer
    /// sends about the request (notifications tagged with its id, for example) before the
    /// peer can answer.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] when the connection is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing has been sent until [`OutboundRequest::send`].
    pub async fn begin_request(
        &self,
        method: &str,
        params: Option<RawParams>,
        options: RequestOptions,
    ) -> Result<OutboundRequest, Error> {
        let shared = &self.shared;
        let slot = tokio::select! {
            slot = shared.pending_slots.clone().acquire_owned() => slot.map_err(|_| Error::closed())?,
            () = shared.closing.cancelled() => return Err(self.closed_error()),
        };
        let id = RequestId::from(shared.next_id.fetch_add(1, Ordering::Relaxed));
        Ok(OutboundRequest {
            peer: self.clone(),
            id,
            method: method.to_owned(),
            params,
            options,
            slot,
        })
    }

    /// Sends a typed request and decodes its result with the method's result type.
    ///
    /// # Errors
    ///
    /// As [`Peer::request_raw`], plus [`Error::is_encode`] and [`Error::is_decode`].
    ///
    /// # Cancel safety
    ///
    /// As [`Peer::request_raw`].
    pub async fn request<M: RequestMethod>(&self, params: &M::Params) -> Result<M::Result, Error> {
        self.request_with::<M>(params, RequestOptions::default())
            .await
    }

    /// [`Peer::request`] with per-call options.
    ///
    /// # Errors
    ///
    /// As [`Peer::request`].
    ///
    /// # Cancel safety
    ///
    /// As [`Peer::request_raw`].
    pub async fn request_with<M: RequestMethod>(
        &self,
        params: &M::Params,
        options: RequestOptions,
    ) -> Result<M::Result, Error> {
        let params = mcpwire_jsonrpc::encode_params(params).map_err(Error::encode)?;
        let result = self.request_raw(M::METHOD, params, options).await?;
        serde_json::from_str(result.get()).map_err(Error::decode)
    }

    /// Sends a notification.
    ///
    /// # Errors
    ///
    /// Fails when the connection is closed.
    pub async fn notify_raw(
        &self,
        method: &str,
        params: Option<RawParams>,
        options: SendOptions,
    ) -> Result<(), Error> {
        self.enqueue(Message::from(Notification::new(method, params)), options)
            .await
    }

    /// Sends a typed notification.
    ///
    /// # Errors
    ///
    /// Fails when the params cannot be encoded or the connection is closed.
    pub async fn notify<M: NotificationMethod>(&self, params: &M::Params) -> Result<(), Error> {
        let params = mcpwire_jsonrpc::encode_params(params).map_err(Error::encode)?;
        self.notify_raw(M::METHOD, params, SendOptions::default())
            .await
    }

    /// Closes the connection: messages already queued are written, then the transport is
    /// closed, running handlers are cancelled and pending requests fail.
    pub async fn close(&self) {
        self.shutdown();
        self.closed().await;
    }

    /// Waits until the connection has ended and every pending request has failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        self.shared.terminated.cancelled().await;
    }

    /// Returns `true` once the connection is shutting down or has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closing.is_cancelled()
    }

    /// The number of outbound requests awaiting a response.
    pub fn pending_requests(&self) -> usize {
        lock(&self.shared.pending).len()
    }

    /// The number of inbound requests being served.
    pub fn requests_in_flight(&self) -> usize {
        lock(&self.shared.in_flight).len()
    }

    pub(crate) async fn enqueue(
        &self,
        message: Message,
        options: SendOptions,
    ) -> Result<(), Error> {
        self.enqueue_item(Outgoing::Message { message, options })
            .await
    }

    /// Asks the transport, in order with the messages queued before, to end the connection
    /// that carries the messages of the inbound request `id`. See
    /// [`RequestContext::close_stream`](crate::RequestContext::close_stream).
    pub(crate) async fn close_related_stream(&self, id: RequestId) -> Result<(), Error> {
        self.enqueue_item(Outgoing::CloseStream(id)).await
    }

    async fn enqueue_item(&self, item: Outgoing) -> Result<(), Error> {
        if self.shared.closing.is_cancelled() {
            return Err(self.closed_error());
        }
        self.shared
            .outbound
            .send(item)
            .await
            .map_err(|_| self.closed_error())
    }

    fn closed_error(&self) -> Error {
        match lock(&self.shared.close_cause).take() {
            Some(cause) => Error::closed_by(cause),
            None => Error::closed(),
        }
    }

    pub(crate) fn shutdown(&self) {
        self.shared.closing.cancel();
        for (_, InFlight { token, .. }) in lock(&self.shared.in_flight).drain() {
            token.cancel();
        }
    }

    pub(crate) fn fail_pending(&self) {
        // Dropping each reply sender fails its request with `Error::closed`.
        lock(&self.shared.pending).clear();
    }

    pub(crate) fn record_close_cause(&self, cause: mcpwire_transport::Error) {
        lock(&self.shared.close_cause).get_or_insert(cause);
    }
}

/// A request whose id is allocated but which is not sent yet; made by
/// [`Peer::begin_request`].
///
/// Dropping it before [`OutboundRequest::send`] frees its slot and sends nothing.
pub struct OutboundRequest {
    peer: Peer,
    id: RequestId,
    method: String,
    params: Option<RawParams>,
    options: RequestOptions,
    slot: OwnedSemaphorePermit,
}

impl OutboundRequest {
    /// The id the request is sent with.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The request's method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Sends the request and awaits its raw result.
    ///
    /// # Errors
    ///
    /// As [`Peer::request_raw`].
    ///
    /// # Cancel safety
    ///
    /// As [`Peer::request_raw`]: dropping the future before the response arrives withdraws
    /// the request, with a cancellation unless the options ask for a silent withdrawal.
    pub async fn send(self) -> Result<Box<RawValue>, Error> {
        let OutboundRequest {
            peer,
            id,
            method,
            params,
            options,
            slot,
        } = self;
        let shared = &peer.shared;
        let (reply, response) = oneshot::channel();
        let message = Message::from(Request::new(id.clone(), method.as_str(), params));
        lock(&shared.pending).insert(id.clone(), PendingRequest { method, reply });
        let mut guard = PendingGuard {
            peer: &peer,
            id: id.clone(),
            active: true,
            silent: options.silent_withdrawal,
            _slot: slot,
        };

        let mut send_options = match options.related_request {
            Some(related) => SendOptions::related_to(related),
            None => SendOptions::default(),
        };
        send_options.param_headers = options.param_headers;
        peer.enqueue(message, send_options).await?;

        let timeout = options.timeout.unwrap_or(shared.config.request_timeout);
        let outcome = match timeout {
            Some(limit) => match tokio::time::timeout(limit, response).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    guard.withdraw("request timed out");
                    return Err(Error::timeout());
                }
            },
            None => response.await,
        };
        guard.active = false;
        match outcome {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(peer.closed_error()),
        }
    }
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OutboundRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Peer")
            .field("pending_requests", &self.pending_requests())
            .field("requests_in_flight", &self.requests_in_flight())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Removes a pending request whose future ends without its response, and tells the peer.
struct PendingGuard<'a> {
    peer: &'a Peer,
    id: RequestId,
    active: bool,
    /// Withdraws without a cancellation notification.
    silent: bool,
    _slot: OwnedSemaphorePermit,
}

impl PendingGuard<'_> {
    fn withdraw(&mut self, reason: &str) {
        if !std::mem::take(&mut self.active) {
            return;
        }
        let shared = &self.peer.shared;
        if lock(&shared.pending).remove(&self.id).is_none()
            || shared.closing.is_cancelled()
            || self.silent
        {
            return;
        }
        let Some(cancellation) = &shared.config.cancellation else {
            return;
        };
        let notification = cancellation.cancel_notification(&self.id, reason);
        let outgoing = Outgoing::Message {
            message: Message::from(notification),
            options: SendOptions::default(),
        };
        // A drop cannot wait for room in the queue: try now, and hand a full queue to a task.
        if let Err(mpsc::error::TrySendError::Full(outgoing)) = shared.outbound.try_send(outgoing) {
            let outbound = shared.outbound.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = outbound.send(outgoing).await;
                });
            }
        }
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.withdraw("request dropped by the caller");
    }
}

/// An inbound request being served: how to cancel it, and whether the peer may.
pub(crate) struct InFlight {
    pub(crate) token: CancellationToken,
    pub(crate) cancellable: bool,
}
