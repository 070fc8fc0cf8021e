//! The bounded queue between the transports' HTTP tasks and the engine, and the receiving half
//! all three client transports share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mcpwire_jsonrpc::{Message, ParseOptions, Parsed, RequestId};
use mcpwire_transport::{Error, Inbound, MessageReceiver};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::client::Error as HttpError;

/// What the HTTP tasks of one transport share: the queue to the engine, the shutdown signal
/// and the fatal error, if any.
#[derive(Debug)]
pub(crate) struct Inbox {
    queue: mpsc::Sender<Inbound>,
    /// Cancelled when the transport closes or fails; every task stops on it.
    pub(crate) shutdown: CancellationToken,
    /// The error that ended the transport, handed to the engine after the queued messages.
    fatal: Mutex<Option<HttpError>>,
    /// Whether the session expired, which later sends report.
    expired: AtomicBool,
    /// How messages in bodies and events are parsed.
    pub(crate) parse: ParseOptions,
}

impl Inbox {
    /// A queue of `capacity` messages, parsing bodies of at most `max_message_bytes`.
    pub(crate) fn new(
        capacity: usize,
        max_message_bytes: usize,
    ) -> (Arc<Inbox>, HttpClientReceiver) {
        let (queue, receiver) = mpsc::channel(capacity);
        let inbox = Arc::new(Inbox {
            queue,
            shutdown: CancellationToken::new(),
            fatal: Mutex::new(None),
            expired: AtomicBool::new(false),
            parse: ParseOptions {
                max_size: max_message_bytes,
                // Servers of the 2025-03-26 revision may answer with a batch.
                allow_batch: true,
                ..ParseOptions::default()
            },
        });
        let receiver = HttpClientReceiver {
            queue: receiver,
            inbox: Arc::clone(&inbox),
            finished: false,
        };
        (inbox, receiver)
    }

    /// Queues `inbound` for the engine, waiting for room (back-pressure). Returns `false`
    /// when the transport shut down first.
    pub(crate) async fn deliver(&self, inbound: Inbound) -> bool {
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => false,
            sent = self.queue.send(inbound) => sent.is_ok(),
        }
    }

    /// Fails the pending request `id`, which the server will never answer (its POST failed,
    /// or its stream ended for good): with the server's own JSON-RPC error when it explained
    /// an error status with one; otherwise with `error` itself, as the transport's failure of
    /// that request ([`Inbound::Failed`]), so that the caller sees why (a layer's own error,
    /// a status, a broken connection) rather than an error the server never sent.
    pub(crate) async fn fail_request(&self, id: RequestId, error: HttpError) {
        // A server that explained its error status with a JSON-RPC error for this request (or
        // for none) answered it: the request gets the server's own error.
        if let Some(refusal) = error
            .refusal()
            .filter(|refusal| refusal.id.as_ref().is_none_or(|refused| *refused == id))
        {
            tracing::debug!(%id, %error, "a server refused a request with an error status");
            let mut refusal = refusal.clone();
            refusal.id = Some(id);
            self.deliver(Inbound::Message(Message::from(refusal))).await;
            return;
        }
        tracing::debug!(%id, %error, "failing a request the server will not answer");
        self.deliver(Inbound::Failed {
            id,
            error: error.into_transport(),
        })
        .await;
    }

    /// Parses `bytes` as one message (or a batch) and delivers the result; calls `seen` with
    /// each valid message first, which keeps the message from the engine by returning
    /// `false`. Returns `false` when the transport shut down.
    pub(crate) async fn deliver_bytes(
        &self,
        bytes: &[u8],
        mut seen: impl FnMut(&Message) -> bool,
    ) -> bool {
        match mcpwire_jsonrpc::parse(bytes, &self.parse) {
            Ok(Parsed::Single(message)) => {
                !seen(&message) || self.deliver(Inbound::Message(message)).await
            }
            Ok(Parsed::Batch(elements)) => {
                for element in elements {
                    let inbound = match element {
                        Ok(message) if !seen(&message) => continue,
                        Ok(message) => Inbound::Message(message),
                        Err(error) => Inbound::Invalid(error),
                    };
                    if !self.deliver(inbound).await {
                        return false;
                    }
                }
                true
            }
            Err(error) => self.deliver(Inbound::Invalid(error)).await,
        }
    }

    /// Ends the transport with `error`: the engine receives it after the queued messages.
    pub(crate) fn fail(&self, error: HttpError) {
        tracing::debug!(%error, "the http transport failed");
        if error.is_session_expired() {
            self.expired.store(true, Ordering::Relaxed);
        }
        lock(&self.fatal).get_or_insert(error);
        self.shutdown.cancel();
    }

    /// Whether the transport ended because the session expired.
    pub(crate) fn session_expired(&self) -> bool {
        self.expired.load(Ordering::Relaxed)
    }

    /// The error a send gets once the transport has shut down.
    pub(crate) fn closed_error(&self) -> Error {
        if self.session_expired() {
            HttpError::session_expired().into_transport()
        } else {
            Error::closed()
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent whatever a panicking holder did.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The receiving half of the HTTP client transports: messages from POST answers and SSE
/// streams, in the order each stream delivered them.
///
/// The queue is bounded ([`HttpClientBuilder::inbound_capacity`](crate::client::HttpClientBuilder::inbound_capacity)):
/// while it is full, the transport stops reading from the server. After the transport closes
/// or fails, the queued messages are delivered, then the failure (an [`Error`] whose source is
/// an [`Error`](crate::client::Error)), then `None`.
#[derive(Debug)]
pub struct HttpClientReceiver {
    queue: mpsc::Receiver<Inbound>,
    inbox: Arc<Inbox>,
    finished: bool,
}

impl MessageReceiver for HttpClientReceiver {
    /// Receives the next message.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no message.
    async fn receive(&mut self) -> Option<Result<Inbound, Error>> {
        if self.finished {
            return None;
        }
        tokio::select! {
            biased;
            inbound = self.queue.recv() => if let Some(inbound) = inbound {
                return Some(Ok(inbound));
            },
            () = self.inbox.shutdown.cancelled() => {}
        }
        if let Ok(inbound) = self.queue.try_recv() {
            return Some(Ok(inbound));
        }
        self.finished = true;
        lock(&self.inbox.fatal)
            .take()
            .map(|error| Err(error.into_transport()))
    }
}
