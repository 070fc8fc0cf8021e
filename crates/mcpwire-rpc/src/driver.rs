//! The driver of a connection: [`Peer::start`] and the two tasks it spawns, one reading and
//! dispatching inbound messages, one writing outbound messages in order.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use mcpwire_jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, ParseOptions, Request, RequestId, Response,
};
use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::peer::{BUSY, InFlight, Outgoing, Reply, Shared, lock};
use crate::{Config, Handler, Peer, RequestContext};

impl Peer {
    /// Starts serving `transport` with `handler`, on the current tokio runtime.
    ///
    /// Two tasks are spawned: one reads and dispatches inbound messages, one writes outbound
    /// messages in the order they were queued. The connection ends when the transport closes,
    /// when writing fails, or on [`Peer::close`].
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn start<T: Transport, H: Handler>(transport: T, handler: H, config: Config) -> Peer {
        let (sender, receiver) = transport.split();
        let (outbound, queue) = mpsc::channel(config.outbound_queue);
        let first_request_id = config.first_request_id;
        let shared = Arc::new(Shared {
            pending_slots: Arc::new(Semaphore::new(config.max_pending)),
            running_slots: Arc::new(Semaphore::new(config.max_in_flight)),
            admitted_slots: Arc::new(Semaphore::new(config.max_in_flight + config.max_queued)),
            config,
            outbound,
            pending: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(first_request_id),
            closing: CancellationToken::new(),
            terminated: CancellationToken::new(),
            close_cause: Mutex::new(None),
        });
        let peer = Peer { shared };
        let writer = tokio::spawn(write_loop(peer.clone(), sender, queue));
        let reader_peer = peer.clone();
        tokio::spawn(async move {
            read_loop(reader_peer.clone(), receiver, Arc::new(handler)).await;
            reader_peer.shutdown();
            // The writer flushes what was queued before the close, then closes the transport.
            let _ = writer.await;
            reader_peer.fail_pending();
            reader_peer.shared.terminated.cancel();
        });
        peer
    }
}

async fn write_loop<S: MessageSender>(
    peer: Peer,
    mut sender: S,
    mut queue: mpsc::Receiver<Outgoing>,
) {
    loop {
        let outgoing = tokio::select! {
            biased;
            outgoing = queue.recv() => outgoing,
            () = peer.shared.closing.cancelled() => None,
        };
        let Some(outgoing) = outgoing else { break };
        if let Err(error) = outgoing.write(&mut sender).await {
            tracing::debug!(%error, "writing to the transport failed; closing the connection");
            peer.record_close_cause(error);
            peer.shutdown();
            return;
        }
    }
    // Flush what was queued before the close, then close the transport.
    queue.close();
    while let Ok(outgoing) = queue.try_recv() {
        if outgoing.write(&mut sender).await.is_err() {
            break;
        }
    }
    let _ = sender.close().await;
}

async fn read_loop<R: MessageReceiver, H: Handler>(peer: Peer, mut receiver: R, handler: Arc<H>) {
    loop {
        let inbound = tokio::select! {
            inbound = receiver.receive() => inbound,
            () = peer.shared.closing.cancelled() => return,
        };
        match inbound {
            None => return,
            Some(Err(error)) => {
                tracing::debug!(%error, "reading from the transport failed; closing the connection");
                peer.record_close_cause(error);
                return;
            }
            // A reply that is neither a result nor an error is not answered (the peer would
            // take the answer for a response to a request of its own): it fails the request
            // it names at once.
            Some(Ok(Inbound::Invalid(error))) if error.is_malformed_response() => {
                match error.id().cloned() {
                    Some(id) => complete(&peer, id, Err(crate::Error::invalid_response(error))),
                    None => tracing::debug!(%error, "dropping an invalid response without an id"),
                }
            }
            Some(Ok(Inbound::Invalid(error))) => {
                tracing::debug!(%error, "answering an invalid message");
                let _ = peer
                    .enqueue(
                        Message::from(error.to_error_response()),
                        SendOptions::default(),
                    )
                    .await;
            }
            Some(Ok(Inbound::Message(message))) => dispatch(&peer, &handler, message).await,
            Some(Ok(Inbound::Failed { id, error })) => {
                tracing::debug!(%id, %error, "the transport failed a request");
                complete(&peer, id, Err(crate::Error::transport(error)));
            }
        }
    }
}

async fn dispatch<H: Handler>(peer: &Peer, handler: &Arc<H>, message: Message) {
    match message {
        Message::Request(request) => admit(peer, handler, request).await,
        Message::Notification(notification) => {
            if let Some(cancellation) = &peer.shared.config.cancellation
                && let Some(id) = cancellation.cancelled_request(&notification)
            {
                // Unknown or finished ids are ignored, as cancellation races are normal; so is
                // a request the protocol says cannot be cancelled.
                match lock(&peer.shared.in_flight).get(&id) {
                    Some(entry) if entry.cancellable => entry.token.cancel(),
                    Some(_) => {
                        tracing::debug!(%id, "ignoring the cancellation of a request that cannot be cancelled")
                    }
                    None => {}
                }
                return;
            }
            handler.notification(notification, peer).await;
        }
        Message::Response(response) => complete(peer, response.id, Ok(response.result)),
        Message::Error(error) => match error.id {
            Some(id) => complete(peer, id, Err(crate::Error::from_remote(error.error))),
            None => {
                tracing::debug!(error = %error.error, "the peer reported an error about an unreadable message")
            }
        },
    }
}

fn complete(peer: &Peer, id: RequestId, reply: Reply) {
    match lock(&peer.shared.pending).remove(&id) {
        Some(pending) => {
            // The caller may have stopped waiting; a late reply is dropped.
            let _ = pending.reply.send(reply);
            tracing::trace!(%id, method = %pending.method, "response correlated");
        }
        None => tracing::debug!(%id, "ignoring a response to no pending request"),
    }
}

async fn admit<H: Handler>(peer: &Peer, handler: &Arc<H>, request: Request) {
    let Request { id, method, params } = request;
    let shared = &peer.shared;
    let refuse = |code: ErrorCode, message: String| {
        Message::from(ErrorResponse::new(
            Some(id.clone()),
            ErrorObject::new(code, message),
        ))
    };
    let Ok(admitted) = shared.admitted_slots.clone().try_acquire_owned() else {
        let reply = refuse(BUSY, "too many requests in flight".to_owned());
        let _ = peer
            .enqueue(reply, SendOptions::related_to(id.clone()))
            .await;
        return;
    };
    let cancellation = CancellationToken::new();
    let cancellable = shared
        .config
        .cancellation
        .as_ref()
        .is_none_or(|rules| rules.is_cancellable(&method));
    let alone = shared
        .config
        .cancellation
        .as_ref()
        .is_some_and(|rules| rules.serves_alone(&method));
    let duplicate = {
        let mut in_flight = lock(&shared.in_flight);
        let duplicate = in_flight.contains_key(&id);
        if !duplicate {
            in_flight.insert(
                id.clone(),
                InFlight {
                    token: cancellation.clone(),
                    cancellable,
                },
            );
        }
        duplicate
    };
    if duplicate {
        // A reused id would make two responses indistinguishable: refuse the second request.
        let reply = refuse(
            ErrorCode::INVALID_REQUEST,
            format!("request id {id} is already in flight"),
        );
        let _ = peer
            .enqueue(reply, SendOptions::related_to(id.clone()))
            .await;
        return;
    }
    let context = RequestContext {
        id: id.clone(),
        method,
        cancellation: cancellation.clone(),
        peer: peer.clone(),
    };
    let handler = Arc::clone(handler);
    let peer = peer.clone();
    let running_slots = Arc::clone(&shared.running_slots);
    let serve = async move {
        let _admitted = admitted;
        // A request served alone runs at once: the reader waits for it, not for a slot.
        let running = if alone {
            Some(None)
        } else {
            tokio::select! {
                running = running_slots.acquire_owned() => running.ok().map(Some),
                () = cancellation.cancelled() => None,
            }
        };
        let outcome = match running {
            Some(_running) => {
                Some(CatchUnwind(std::pin::pin!(handler.request(params, context))).await)
            }
            None => None,
        };
        let still_ours = lock(&peer.shared.in_flight).remove(&id).is_some();
        // A cancelled request gets no response.
        let Some(outcome) = outcome.filter(|_| still_ours && !cancellation.is_cancelled()) else {
            return;
        };
        let reply = match outcome {
            Ok(Ok(result)) => Message::from(Response::new(id.clone(), result)),
            Ok(Err(error)) => Message::from(ErrorResponse::new(Some(id.clone()), error)),
            Err(()) => {
                tracing::error!(%id, "a request handler panicked");
                let error = ErrorObject::internal_error("the request handler failed");
                Message::from(ErrorResponse::new(Some(id.clone()), error))
            }
        };
        let reply = sendable(reply, &peer.shared.config.peer_limits);
        let _ = peer.enqueue(reply, SendOptions::related_to(id)).await;
    };
    if alone {
        // Nothing after it is read before its response is queued.
        serve.await;
    } else {
        serve_inline_or_spawn(serve);
    }
}

/// Polls `serve` once on the reader's task, and spawns what is left of it only if it has to
/// wait. Most handlers answer without waiting: they then cost no task of their own, no
/// scheduling and no copy of their (large) future into a task.
///
/// The first poll uses a waker that does nothing. That is sound: the spawned task polls the
/// future at once, and a future that returns `Pending` wakes the waker of its latest poll.
fn serve_inline_or_spawn(serve: impl Future<Output = ()> + Send + 'static) {
    let mut serve = Box::pin(serve);
    let mut context = Context::from_waker(Waker::noop());
    if serve.as_mut().poll(&mut context).is_pending() {
        tokio::spawn(serve);
    }
}

/// The reply itself, or, when the peer's parser would refuse it for its size or nesting, an
/// internal error with the same id that says so: refused, the reply could not be matched to
/// its request, which would wait for its timeout.
fn sendable(reply: Message, limits: &ParseOptions) -> Message {
    let Err(error) = reply.check_limits(limits) else {
        return reply;
    };
    tracing::warn!(%error, "a response is beyond what the peer reads; answering with an error");
    let what = if matches!(reply, Message::Error(_)) {
        "error"
    } else {
        "result"
    };
    let how = if error.is_too_deep() {
        "nested too deeply"
    } else {
        "too large"
    };
    let error = ErrorObject::internal_error(format!("the {what} is {how} to send: {error}"));
    Message::from(ErrorResponse::new(reply.id().cloned(), error))
}

/// Polls a future, turning a panic into `Err(())` so that a failing handler still answers.
struct CatchUnwind<F>(F);

impl<F: std::future::Future + Unpin> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let future = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::pin::Pin::new(future).poll(context)
        })) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}
