//! One session: its streams, the routing of outbound messages, activity and expiry.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;
use mcpwire_jsonrpc::{Message, ParseError, RequestId};
use mcpwire_transport::{Inbound, SendOptions};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::server::activity::{ActivityGuard, Busy};
use crate::server::body::{ResponseBody, event_id, message_event, priming_event, retry_event};
use crate::server::cluster::{Cluster, SessionRecord, Signal, copy_tag};
use crate::server::config::Config;
use crate::server::delivery::{Delivery, Handover};

/// The registry a session is listed in while it lives, which forgets it when it ends.
pub(crate) trait SessionList: Send + Sync {
    /// Forgets the session `id`.
    fn remove(&self, id: &str);
}

/// How long a message for the standalone stream waits for the client to open one.
const STANDALONE_BACKLOG_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The notification that ends a client's handshake.
const INITIALIZED: &str = "notifications/initialized";

/// The bit that marks the number of a standalone stream of a shared session, so that the
/// instance a client resumes it on knows to keep it open as its own standalone stream.
const STANDALONE_STREAM: u64 = 1 << 31;

/// How long a resumed stream of another copy waits for that copy to say it follows: a copy
/// that does not answer has gone with its instance, and the stream's request with it.
const FOLLOW_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How many requests to the client a shared session's copy remembers as its own, for routing
/// their answers: as many as the engine lets wait by default.
const MAX_OUTBOUND: usize = 1024;

/// The state of one session, shared by the HTTP side and its transport.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) config: Arc<Config>,
    inbound: mpsc::Sender<Inbound>,
    routes: tokio::sync::Mutex<Routes>,
    pub(crate) terminated: CancellationToken,
    activity: Mutex<Activity>,
    registry: Weak<dyn SessionList>,
    /// The address of the client that created the session, when known.
    pub(crate) client: Option<IpAddr>,
    /// The principal that created the session, when an authorization layer named one: only
    /// its requests find the session.
    pub(crate) owner: Option<Arc<str>>,
    /// Whether the client sent `notifications/initialized`.
    initialized: AtomicBool,
    /// The `http::Extensions` of the latest request of the session that had any (what the
    /// layers in front of the service put there, such as an authorization's principal).
    extensions: Mutex<Arc<http::Extensions>>,
    /// Woken each time a request leaves the routes (answered, forgotten, or the session
    /// ended), for [`Session::settled`].
    request_ended: Notify,
    /// What this copy of a shared session needs; `None` for a session of this service alone.
    shared: Option<SharedCopy>,
}

/// One instance's copy of a session shared by the instances of a deployment.
pub(crate) struct SharedCopy {
    pub(crate) cluster: Arc<Cluster>,
    /// This copy's range of request ids and stream numbers: `tag << 32` and up.
    pub(crate) tag: u64,
    /// The role's state at adoption, `None` for the session's first copy.
    pub(crate) restored: Option<Bytes>,
    /// The role's latest state, as saved in the record.
    state: Mutex<Bytes>,
    /// The newest revision of the record this copy knows, held while a save is under way so
    /// that a change another instance made before it cannot undo it.
    revision: tokio::sync::Mutex<u64>,
    /// The newest revision whose state the role has (its own save, or a change it took).
    taken: AtomicU64,
    /// The role's state, with its revision, each time another instance changed it.
    pub(crate) changes: watch::Sender<Option<(u64, Bytes)>>,
    /// The requests this copy sent to the client and not yet answered, oldest first.
    outbound: Mutex<VecDeque<RequestId>>,
    /// Whether a record of the session was saved yet.
    saved: AtomicBool,
    /// Whether the latest save of the record failed: the store cannot be reached.
    save_failed: AtomicBool,
}

/// Locks `mutex`, whose critical sections leave it consistent even after a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SharedCopy {
    /// The copy of a new session (`record` `None`) or of one adopted from its record.
    pub(crate) fn new(cluster: Arc<Cluster>, record: Option<&SessionRecord>) -> Self {
        let state = record.map(|record| record.state.clone());
        let revision = record.map_or(0, |record| record.revision);
        SharedCopy {
            cluster,
            tag: copy_tag(),
            restored: state.clone(),
            state: Mutex::new(state.unwrap_or_default()),
            revision: tokio::sync::Mutex::new(revision),
            taken: AtomicU64::new(revision),
            changes: watch::Sender::new(None),
            outbound: Mutex::new(VecDeque::new()),
            saved: AtomicBool::new(record.is_some()),
            save_failed: AtomicBool::new(false),
        }
    }

    /// Whether the role should take the state of `revision`: newer than every one it has.
    /// It has it from then on.
    pub(crate) fn take(&self, revision: u64) -> bool {
        self.taken.fetch_max(revision, Ordering::AcqRel) < revision
    }
}

struct Activity {
    /// Requests being served and SSE connections open.
    busy: usize,
    last: Instant,
}

#[derive(Default)]
struct Routes {
    /// The stream each in-flight client request is answered on.
    requests: HashMap<RequestId, Route>,
    streams: HashMap<u64, StreamState>,
    next_stream: u64,
    closed: bool,
    /// Messages for the standalone stream sent before the client opened one, oldest first,
    /// with when each was sent; the first standalone stream delivers those still fresh.
    backlog: VecDeque<(Instant, Bytes)>,
    /// Whether standalone streams are numbered with [`STANDALONE_STREAM`] (a shared session).
    mark_standalone: bool,
    /// The streams this copy asked to follow, until the copy running their request answers.
    following: HashMap<u64, oneshot::Sender<()>>,
}

enum Route {
    /// Nothing sent yet: the POST waits for the first message to choose JSON or SSE.
    Pending(oneshot::Sender<PostReply>),
    Streaming(u64),
}

#[derive(Default)]
struct StreamState {
    next_sequence: u64,
    /// The open connection of the stream, if any.
    live: Option<mpsc::Sender<Bytes>>,
    /// Whether the stream's last event was queued on that connection.
    handover: Option<Arc<Handover>>,
    standalone: bool,
    /// Whether another instance follows this stream, resumed there: each event goes on the
    /// bus too.
    relayed: bool,
    /// Whether this is a stream of another copy, resumed here and followed over the bus;
    /// `next_sequence` is then the next event the client should see.
    follower: bool,
}

impl StreamState {
    fn is_live(&self) -> bool {
        self.live.as_ref().is_some_and(|live| !live.is_closed())
    }
}

/// How a POSTed request is answered.
pub(crate) enum PostReply {
    /// The response alone, as one JSON body, and whether it is an error response.
    Json(Bytes, bool),
    /// An SSE stream carrying the response and what precedes it.
    Sse(ResponseBody),
}

/// Why a message could not be taken into a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The session has ended.
    Terminated,
    /// A request with this id is already in flight.
    DuplicateId,
    /// The session has as many standalone streams open as allowed.
    TooManyStreams,
    /// The `Last-Event-ID` names an event that cannot be resumed from.
    Unresumable(String),
}

impl Busy for Session {
    fn end_activity(&self) {
        let mut activity = self.activity();
        activity.busy -= 1;
        activity.last = Instant::now();
    }
}

impl Session {
    pub(crate) fn new(
        id: Arc<str>,
        config: Arc<Config>,
        registry: Weak<dyn SessionList>,
        client: Option<IpAddr>,
        owner: Option<Arc<str>>,
        shared: Option<SharedCopy>,
    ) -> (Arc<Session>, mpsc::Receiver<Inbound>) {
        let (inbound, receiver) = mpsc::channel(config.inbound_queue);
        let tag = shared.as_ref().map_or(0, |shared| shared.tag);
        let session = Arc::new(Session {
            id,
            config,
            inbound,
            routes: tokio::sync::Mutex::new(Routes {
                next_stream: (tag << 32) | 1,
                mark_standalone: tag != 0,
                ..Routes::default()
            }),
            terminated: CancellationToken::new(),
            activity: Mutex::new(Activity {
                busy: 0,
                last: Instant::now(),
            }),
            registry,
            client,
            owner,
            initialized: AtomicBool::new(false),
            extensions: Mutex::new(Arc::default()),
            request_ended: Notify::new(),
            shared,
        });
        (session, receiver)
    }

    /// Keeps `extensions` as those of the session's latest request, unless they are empty.
    pub(crate) fn set_extensions(&self, extensions: http::Extensions) {
        if extensions.is_empty() {
            return;
        }
        let extensions = Arc::new(extensions);
        match self.extensions.lock() {
            Ok(mut latest) => *latest = extensions,
            Err(poisoned) => *poisoned.into_inner() = extensions,
        }
    }

    /// The extensions of the session's latest request that had any.
    pub(crate) fn extensions(&self) -> Arc<http::Extensions> {
        match self.extensions.lock() {
            Ok(latest) => Arc::clone(&latest),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn activity(&self) -> MutexGuard<'_, Activity> {
        // The critical sections are single assignments; a poisoned lock is still consistent.
        self.activity
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn busy(self: &Arc<Self>) -> ActivityGuard {
        self.activity().busy += 1;
        let session: Arc<Session> = Arc::clone(self);
        ActivityGuard::new(session)
    }

    /// Whether the client finished the handshake with `notifications/initialized`.
    pub(crate) fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    /// Ends the session when its client has not sent `notifications/initialized` within the
    /// configured initialization timeout.
    pub(crate) fn spawn_initialization_deadline(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let terminated = self.terminated.clone();
        let timeout = self.config.initialization_timeout;
        tokio::spawn(async move {
            tokio::select! {
                () = terminated.cancelled() => return,
                () = tokio::time::sleep(timeout) => {}
            }
            let Some(session) = weak.upgrade() else {
                return;
            };
            if !session.is_initialized() && !session.initialized_elsewhere().await {
                tracing::debug!("ending a session whose client never finished initializing");
                session.terminate().await;
            }
        });
    }

    /// Ends the session when it stays idle for the configured timeout.
    pub(crate) fn spawn_expiry(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let terminated = self.terminated.clone();
        let timeout = self.config.session_idle_timeout;
        tokio::spawn(async move {
            let mut deadline = Instant::now() + timeout;
            loop {
                tokio::select! {
                    () = terminated.cancelled() => return,
                    () = tokio::time::sleep_until(deadline) => {}
                }
                let Some(session) = weak.upgrade() else {
                    return;
                };
                let (busy, last) = {
                    let activity = session.activity();
                    (activity.busy, activity.last)
                };
                if busy == 0 && last + timeout <= Instant::now() {
                    tracing::debug!("ending an idle session");
                    session.release().await;
                    return;
                }
                deadline = if busy == 0 {
                    last + timeout
                } else {
                    Instant::now() + timeout
                };
            }
        });
    }

    /// Ends the session: pending POSTs and open streams end, the transport's receiver ends,
    /// later requests with its id get `404`, and its stored events are dropped. A shared
    /// session ends on every instance: its record is removed and the others are told.
    pub(crate) async fn terminate(&self) {
        if !self.end_here().await {
            return;
        }
        self.config.event_store.forget_session(&self.id).await;
        // A session whose record was never saved is known to no other instance.
        if let Some(shared) = &self.shared
            && shared.saved.load(Ordering::Acquire)
        {
            if let Err(error) = shared.cluster.store.remove(&self.id).await {
                tracing::warn!(%error, "the record of an ended session could not be removed");
            }
            if let Err(error) = shared.cluster.publish(&self.id, Signal::Ended).await {
                tracing::debug!(%error, "the other instances could not be told a session ended");
            }
        }
    }

    /// Ends this instance's part in the session: the whole session when it is this service's
    /// alone, else only this copy, which another request adopts again from the record.
    pub(crate) async fn release(&self) {
        if self.shared.is_some() {
            self.end_here().await;
        } else {
            self.terminate().await;
        }
    }

    /// Ends this copy of the session; `false` when it had ended already.
    async fn end_here(&self) -> bool {
        if self.terminated.is_cancelled() {
            return false;
        }
        self.terminated.cancel();
        if let Some(registry) = self.registry.upgrade() {
            registry.remove(&self.id);
        }
        {
            let mut routes = self.routes.lock().await;
            routes.closed = true;
            routes.requests.clear();
            routes.streams.clear();
        }
        self.request_ended.notify_waiters();
        true
    }

    /// Whether the session is shared with the other instances of a deployment.
    pub(crate) fn shared(&self) -> Option<&SharedCopy> {
        self.shared.as_ref()
    }

    /// Marks the client as having finished initializing, as an adopted session's record says.
    pub(crate) fn mark_initialized(&self) {
        self.initialized.store(true, Ordering::Release);
    }

    /// Whether the record of a shared session says its client finished initializing on
    /// another instance; this copy takes note when it does.
    async fn initialized_elsewhere(&self) -> bool {
        let Some(shared) = &self.shared else {
            return false;
        };
        match shared.cluster.store.load(&self.id).await {
            Ok(Some(record)) if record.initialized => {
                self.mark_initialized();
                true
            }
            Ok(_) => false,
            Err(error) => {
                // Without the record, this copy alone ends; the others decide for themselves.
                tracing::debug!(%error, "the record of a session could not be read");
                self.end_here().await;
                true
            }
        }
    }

    /// Saves the record of a shared session with the role's `state`, and tells the other
    /// instances, whose copies take the new state. Nothing to do for a session that is not
    /// shared.
    pub(crate) async fn save_state(&self, state: Bytes) -> Result<(), crate::server::Error> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        *lock(&shared.state) = state.clone();
        self.save_record(shared, state).await
    }

    /// Saves the record as it is now, unless the role saved one already.
    pub(crate) async fn save_first_record(&self) -> Result<(), crate::server::Error> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        if shared.saved.load(Ordering::Acquire) {
            return Ok(());
        }
        let state = lock(&shared.state).clone();
        self.save_record(shared, state).await
    }

    async fn save_record(
        &self,
        shared: &SharedCopy,
        state: Bytes,
    ) -> Result<(), crate::server::Error> {
        let initialized = self.is_initialized();
        let record = SessionRecord {
            owner: self.owner.as_deref().map(str::to_owned),
            initialized,
            state: state.clone(),
            revision: 0,
        };
        // Saves and the changes of other instances take turns: a change older than a save
        // made here is never taken after it.
        let mut revision = shared.revision.lock().await;
        // No other instance can hold a copy of a session before its first record.
        let first = !shared.saved.load(Ordering::Acquire);
        let saved = shared
            .cluster
            .store
            .save(&self.id, &record, first, self.config.session_idle_timeout)
            .await;
        shared.save_failed.store(saved.is_err(), Ordering::Release);
        let Some(saved) = saved? else {
            // The record is gone: the session ended on another instance, or expired.
            drop(revision);
            self.end_here().await;
            return Err(crate::server::Error::cancelled());
        };
        shared.saved.store(true, Ordering::Release);
        *revision = (*revision).max(saved);
        shared.take(saved);
        if first {
            return Ok(());
        }
        let changed = Signal::Changed {
            initialized,
            revision: saved,
            state,
        };
        if let Err(error) = shared.cluster.publish(&self.id, changed).await {
            tracing::debug!(%error, "the other instances could not be told a session changed");
        }
        Ok(())
    }

    /// Renews the record's time to live, for a request to this copy; `false` when the
    /// record is gone (the session ended on another instance, or expired), and this copy
    /// has ended too. Asking the store on every request makes a `DELETE` on any instance
    /// end the session for the next request on every other, without waiting for the bus.
    /// When the store cannot be reached, the copy held here serves on.
    pub(crate) async fn renew(&self) -> bool {
        let Some(shared) = &self.shared else {
            return true;
        };
        match shared
            .cluster
            .store
            .touch(&self.id, self.config.session_idle_timeout)
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.end_here().await;
                false
            }
            Err(error) => {
                tracing::debug!(%error, "serving a session's copy without renewing its record");
                true
            }
        }
    }

    /// Whether `id` names a request this copy sent to the client and has not seen answered;
    /// with `take`, it is forgotten.
    pub(crate) fn sent_request(&self, id: &RequestId, take: bool) -> bool {
        let Some(shared) = &self.shared else {
            return true;
        };
        let mut outbound = lock(&shared.outbound);
        match outbound.iter().position(|sent| sent == id) {
            Some(index) => {
                if take {
                    outbound.remove(index);
                }
                true
            }
            None => false,
        }
    }

    /// Whether the latest save of a shared session's record failed.
    pub(crate) fn save_failed(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.save_failed.load(Ordering::Acquire))
    }

    /// Whether a standalone stream of the session is open here.
    pub(crate) async fn holds_standalone(&self) -> bool {
        self.routes.lock().await.live_standalone().is_some()
    }

    /// Whether request `id` of the client is in flight on this copy.
    pub(crate) async fn runs_request(&self, id: &RequestId) -> bool {
        self.routes.lock().await.requests.contains_key(id)
    }

    /// Acts on what another instance said about this session.
    pub(crate) async fn on_signal(self: &Arc<Self>, signal: Signal) {
        match signal {
            Signal::FromClient(bytes) => {
                let Ok(message) = Message::parse(&bytes) else {
                    return;
                };
                self.take_from_elsewhere(message).await;
            }
            Signal::Standalone(bytes) => {
                let stalled = {
                    let mut routes = self.routes.lock().await;
                    match routes.live_standalone() {
                        Some(stream) => self.append(&mut routes, stream, bytes, false).await,
                        None => return,
                    }
                };
                if let Some(stalled) = stalled {
                    self.finish_stalled(stalled).await;
                }
            }
            Signal::Changed {
                initialized,
                revision,
                state,
            } => {
                if initialized {
                    self.mark_initialized();
                }
                if let Some(shared) = &self.shared {
                    let mut known = shared.revision.lock().await;
                    // A change older than what this copy has (the frames of two instances
                    // can cross on the bus) would undo a newer one.
                    if revision <= *known {
                        return;
                    }
                    *known = revision;
                    *lock(&shared.state) = state.clone();
                    shared.changes.send_replace(Some((revision, state)));
                }
            }
            Signal::Ended => {
                self.end_here().await;
            }
            Signal::Follow { stream } => {
                let runs_here = {
                    let mut routes = self.routes.lock().await;
                    match routes.streams.get_mut(&stream) {
                        Some(state) if !state.standalone && !state.follower => {
                            state.relayed = true;
                            true
                        }
                        _ => false,
                    }
                };
                if runs_here && let Some(shared) = &self.shared {
                    let followed = Signal::Followed { stream };
                    if let Err(error) = shared.cluster.publish(&self.id, followed).await {
                        tracing::debug!(%error, stream, "a follower of a stream could not be told");
                    }
                }
            }
            Signal::Followed { stream } => {
                if let Some(followed) = self.routes.lock().await.following.remove(&stream) {
                    let _ = followed.send(());
                }
            }
            Signal::Event {
                stream,
                sequence,
                last,
                message,
            } => {
                self.follow_event(stream, Some((sequence, last, message)))
                    .await;
            }
        }
    }

    /// Passes an event of a stream this copy follows on to the client, after those it missed
    /// (read from the store); with no event, catches up with the store. Each event goes once,
    /// in order, and the stream ends after the response.
    async fn follow_event(&self, stream: u64, event: Option<(u64, bool, Bytes)>) {
        let mut routes = self.routes.lock().await;
        let Some(next) = routes
            .streams
            .get(&stream)
            .filter(|state| state.follower)
            .map(|state| state.next_sequence)
        else {
            return;
        };
        let up_to = event
            .as_ref()
            .map_or(u64::MAX, |(sequence, _, _)| *sequence);
        if up_to < next {
            return;
        }
        let mut events = Vec::new();
        if up_to > next {
            match self
                .config
                .event_store
                .replay(&self.id, stream, next - 1)
                .await
            {
                Ok(missed) => events.extend(
                    missed
                        .into_iter()
                        .filter(|(missed, _)| (next..up_to).contains(missed))
                        .map(|(missed, message)| (missed, is_response(&message), message)),
                ),
                // Nothing stored after `next` yet: nothing to catch up with.
                Err(error) if event.is_none() && error.is_unknown_event() => {}
                Err(error) => {
                    tracing::debug!(%error, stream, "a followed stream's gap cannot be filled");
                    // The client resumes again, from what it has.
                    routes.streams.remove(&stream);
                    return;
                }
            }
        }
        events.extend(event);
        let Some(state) = routes.streams.get_mut(&stream) else {
            return;
        };
        for (sequence, last, message) in &events {
            let sent = state.live.as_ref().is_some_and(|live| {
                live.try_send(message_event(stream, *sequence, message))
                    .is_ok()
            });
            if !sent {
                // Gone, or too slow: the client resumes again, from what it has.
                routes.streams.remove(&stream);
                return;
            }
            state.next_sequence = sequence + 1;
            if *last {
                if let Some(handover) = &state.handover {
                    handover.last_queued();
                }
                // The response went: the connection ends after it.
                routes.streams.remove(&stream);
                return;
            }
        }
    }

    /// Takes a client's message that reached another instance, when it belongs here: the
    /// answer to a request this copy sent, or the cancellation of a request it runs.
    async fn take_from_elsewhere(self: &Arc<Self>, message: Message) {
        let belongs = match &message {
            Message::Response(response) => self.sent_request(&response.id, true),
            Message::Error(error) => error
                .id
                .as_ref()
                .is_some_and(|id| self.sent_request(id, true)),
            Message::Notification(_) => match cancelled_request(&message) {
                Some(id) if self.runs_request(&id).await => {
                    // The engine sends nothing more for a cancelled request; end its stream.
                    self.forget_request(&id).await;
                    true
                }
                _ => false,
            },
            Message::Request(_) => false,
        };
        if belongs {
            let _activity = self.busy();
            let _ = self.forward(message).await;
        }
    }

    /// Waits until no request of the session is in flight (every one answered or forgotten),
    /// or the session has ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub(crate) async fn settled(&self) {
        loop {
            let ended = self.request_ended.notified();
            let mut ended = std::pin::pin!(ended);
            // Registered before the check: a request that ends right after it still wakes us.
            ended.as_mut().enable();
            {
                let routes = self.routes.lock().await;
                if routes.closed || routes.requests.is_empty() {
                    return;
                }
            }
            ended.await;
        }
    }

    /// Tells every open SSE connection of the session, standalone or of a request, to come
    /// back after the `retry` interval, and ends it after what it has queued: the server is
    /// going away. Events sent since stay stored, so a client that resumes (on another
    /// instance that shares the store) misses nothing. With `standalone_only`, the streams
    /// of requests still in flight are left open.
    pub(crate) async fn send_away(&self, standalone_only: bool) {
        let mut routes = self.routes.lock().await;
        let retry = retry_event(self.config.sse_retry);
        for state in routes.streams.values_mut() {
            if standalone_only && !state.standalone {
                continue;
            }
            if let Some(live) = state.live.take() {
                // A connection whose queue is full gets no goodbye; it ends all the same.
                let _ = live.try_send(retry.clone());
            }
        }
    }

    /// Hands a POSTed message to the transport's receiver, waiting for room.
    /// Hands the engine a POSTed reply that is neither a result nor an error: the request of
    /// the server it names fails at once instead of waiting for its timeout.
    pub(crate) async fn forward_broken_reply(&self, error: ParseError) {
        tokio::select! {
            _ = self.inbound.send(Inbound::Invalid(error)) => {}
            () = self.terminated.cancelled() => {}
        }
    }

    pub(crate) async fn forward(&self, message: Message) -> Result<(), Refusal> {
        if let Message::Notification(notification) = &message
            && notification.method == INITIALIZED
            && !self.initialized.swap(true, Ordering::AcqRel)
            && let Some(shared) = &self.shared
        {
            // The other instances learn that the client finished initializing.
            let state = lock(&shared.state).clone();
            if let Err(error) = self.save_record(shared, state).await {
                tracing::warn!(%error, "the end of a session's initialization could not be saved");
            }
        }
        let sent = tokio::select! {
            sent = self.inbound.send(Inbound::Message(message)) => sent,
            () = self.terminated.cancelled() => return Err(Refusal::Terminated),
        };
        if sent.is_err() {
            // Nobody serves the transport any more: the session is over.
            self.terminate().await;
            return Err(Refusal::Terminated);
        }
        Ok(())
    }

    /// Registers a POSTed request so that its response finds its way back, before the
    /// request is forwarded.
    pub(crate) async fn register_request(
        self: &Arc<Self>,
        id: RequestId,
        initialize: bool,
        activity: ActivityGuard,
    ) -> Result<Registered, Refusal> {
        let mut routes = self.routes.lock().await;
        if routes.closed {
            return Err(Refusal::Terminated);
        }
        if routes.requests.contains_key(&id) {
            return Err(Refusal::DuplicateId);
        }
        let config = &self.config;
        if initialize || (config.json_responses && !config.close_request_streams_after_priming) {
            let (reply, receiver) = oneshot::channel();
            routes.requests.insert(id, Route::Pending(reply));
            return Ok(Registered::Pending(receiver, activity));
        }
        let stream = routes.open_stream(false);
        routes.requests.insert(id, Route::Streaming(stream));
        let (live, delivery) = if config.close_request_streams_after_priming {
            (None, None)
        } else {
            let (sender, receiver) = mpsc::channel(config.stream_queue);
            let handover = routes.attach(stream, sender);
            (Some(receiver), Some(self.delivery(stream, handover)))
        };
        let prefix = VecDeque::from([priming_event(&event_id(stream, 0), config.sse_retry)]);
        Ok(Registered::Streaming(
            ResponseBody::sse(prefix, live, config.keep_alive, Some(activity))
                .on_delivery(delivery),
        ))
    }

    /// What the connection of `stream` tells the event store once it wrote the last event.
    fn delivery(&self, stream: u64, handover: Arc<Handover>) -> Delivery {
        Delivery::new(
            Arc::clone(&self.config.event_store),
            Arc::clone(&self.id),
            stream,
            handover,
        )
    }

    /// Forgets a request whose forwarding failed, or which the client cancelled: its POST or
    /// stream ends without a response.
    pub(crate) async fn forget_request(&self, id: &RequestId) {
        let mut routes = self.routes.lock().await;
        if let Some(Route::Streaming(stream)) = routes.requests.remove(id) {
            routes.streams.remove(&stream);
            self.config.event_store.complete(&self.id, stream).await;
        }
        self.request_ended.notify_waiters();
    }

    /// Ends the connection of the stream that carries request `id`, for SEP-1699 polling.
    ///
    /// A request still answered as JSON switches to an SSE stream that holds only the priming
    /// event; a streaming request's connection ends after the events it has queued. Either way
    /// the stream stays registered: what is sent for the request afterwards is stored, and the
    /// client resumes it with `Last-Event-ID`. Returns `false` when the request has no stream
    /// here (answered already, unknown, or the session has ended).
    pub(crate) async fn close_request_stream(self: &Arc<Self>, id: &RequestId) -> bool {
        let mut routes = self.routes.lock().await;
        if routes.closed {
            return false;
        }
        match routes.requests.remove(id) {
            Some(Route::Pending(reply)) => {
                let stream = routes.open_stream(false);
                routes.requests.insert(id.clone(), Route::Streaming(stream));
                let prefix =
                    VecDeque::from([priming_event(&event_id(stream, 0), self.config.sse_retry)]);
                let body = ResponseBody::sse(prefix, None, self.config.keep_alive, None);
                if reply.send(PostReply::Sse(body)).is_err() {
                    tracing::debug!(%id, "the POST of a request went before its stream closed");
                }
                true
            }
            Some(Route::Streaming(stream)) => {
                routes.requests.insert(id.clone(), Route::Streaming(stream));
                // Dropping the sender ends the connection once it has written what it queued.
                routes
                    .streams
                    .get_mut(&stream)
                    .and_then(|state| state.live.take())
                    .is_some()
            }
            None => false,
        }
    }

    /// Opens a standalone stream for a GET.
    pub(crate) async fn open_standalone(self: &Arc<Self>) -> Result<ResponseBody, Refusal> {
        let activity = self.busy();
        let mut routes = self.routes.lock().await;
        if routes.closed {
            return Err(Refusal::Terminated);
        }
        let open = routes
            .streams
            .values()
            .filter(|stream| stream.standalone && stream.is_live())
            .count();
        if open >= self.config.max_standalone_streams {
            return Err(Refusal::TooManyStreams);
        }
        // Standalone streams whose connection went away are only resumable from the store
        // from now on: the new stream takes their place.
        routes
            .streams
            .retain(|_, stream| !stream.standalone || stream.is_live());
        let stream = routes.open_stream(true);
        let (sender, receiver) = mpsc::channel(self.config.stream_queue);
        routes.attach(stream, sender);
        // What was sent before any standalone stream existed goes first, if still fresh; the
        // backlog is no longer than the connection's queue, so nothing stalls.
        let backlog = std::mem::take(&mut routes.backlog);
        for (sent, message) in backlog {
            if sent.elapsed() <= STANDALONE_BACKLOG_AGE {
                let _ = self.append(&mut routes, stream, message, false).await;
            }
        }
        let prefix = VecDeque::from([priming_event(&event_id(stream, 0), self.config.sse_retry)]);
        Ok(ResponseBody::sse(
            prefix,
            Some(receiver),
            self.config.keep_alive,
            Some(activity),
        ))
    }

    /// Resumes stream `stream` after event `after` for a GET with `Last-Event-ID`: the events
    /// the client missed, then, while the stream is still open, its live events.
    pub(crate) async fn resume(
        self: &Arc<Self>,
        stream: u64,
        after: u64,
    ) -> Result<ResponseBody, Refusal> {
        let activity = self.busy();
        let mut routes = self.routes.lock().await;
        if routes.closed {
            return Err(Refusal::Terminated);
        }
        let next_sequence = routes.streams.get(&stream).map(|state| state.next_sequence);
        // Appending and replaying both happen under the routes lock, so no event is sent
        // twice or skipped between the replay and the live part.
        let replayed = match next_sequence {
            Some(next) if after >= next => {
                return Err(Refusal::Unresumable(format!(
                    "event {} was never sent",
                    event_id(stream, after)
                )));
            }
            Some(next) if after + 1 == next => Vec::new(),
            _ => match self
                .config
                .event_store
                .replay(&self.id, stream, after)
                .await
            {
                Ok(replayed) => replayed,
                // A stream of another copy that has sent nothing but its priming event: the
                // store knows none of it yet, and the copy running its request is followed.
                Err(error) if error.is_unknown_event() && after == 0 && routes.mark_standalone => {
                    Vec::new()
                }
                Err(error) => {
                    return Err(Refusal::Unresumable(format!(
                        "cannot resume after event {}: {error}",
                        event_id(stream, after)
                    )));
                }
            },
        };
        let mut prefix = VecDeque::with_capacity(replayed.len() + 1);
        prefix.push_back(priming_event(
            &event_id(stream, after),
            self.config.sse_retry,
        ));
        for (sequence, message) in &replayed {
            prefix.push_back(message_event(stream, *sequence, message));
        }
        // A standalone stream of a shared session that another instance opened moves here: it
        // stays open, as this copy's standalone stream, numbered on from its last event.
        let moves_here = next_sequence.is_none()
            && routes.mark_standalone
            && stream & STANDALONE_STREAM != 0
            && routes
                .streams
                .values()
                .filter(|state| state.standalone && state.is_live())
                .count()
                < self.config.max_standalone_streams;
        if moves_here {
            let last = replayed.last().map_or(after, |(sequence, _)| *sequence);
            routes.streams.insert(
                stream,
                StreamState {
                    next_sequence: last + 1,
                    standalone: true,
                    ..StreamState::default()
                },
            );
        }
        let last = replayed.last().map_or(after, |(sequence, _)| *sequence);
        // A request's stream of a shared session that another copy runs is followed here,
        // over the bus, unless its response is among the events replayed.
        let follows = next_sequence.is_none()
            && !moves_here
            && routes.mark_standalone
            && stream & STANDALONE_STREAM == 0
            && !replayed
                .last()
                .is_some_and(|(_, message)| is_response(message));
        let following = if follows {
            routes.streams.insert(
                stream,
                StreamState {
                    next_sequence: last + 1,
                    follower: true,
                    ..StreamState::default()
                },
            );
            let (followed, answered) = oneshot::channel();
            routes.following.insert(stream, followed);
            Some(answered)
        } else {
            None
        };
        let (live, handover) = if next_sequence.is_some() || moves_here || follows {
            let (sender, receiver) = mpsc::channel(self.config.stream_queue);
            let handover = routes.attach(stream, sender);
            (Some(receiver), Some(handover))
        } else {
            // A replay that ends with the response hands the client the whole stream.
            let whole = replayed
                .last()
                .is_some_and(|(_, message)| is_response(message));
            (None, whole.then(Handover::queued))
        };
        drop(routes);
        let (mut live, mut handover) = (live, handover);
        let followed = match following {
            Some(answered) => Some(self.follow(stream, answered).await),
            None => None,
        };
        if followed == Some(true) {
            // What the request's copy stored between the replay and its first relayed event.
            self.follow_event(stream, None).await;
        }
        if followed == Some(false) {
            // Nobody runs the stream's request any more: its instance went away with it.
            let mut routes = self.routes.lock().await;
            routes.streams.remove(&stream);
            routes.following.remove(&stream);
            drop(routes);
            // Unless it ended meanwhile, and its last events are in the store.
            let ended = self
                .config
                .event_store
                .replay(&self.id, stream, last)
                .await
                .unwrap_or_default();
            if replayed.is_empty() && ended.is_empty() {
                return Err(Refusal::Unresumable(format!(
                    "cannot resume after event {}: the request of this stream is no longer running",
                    event_id(stream, after)
                )));
            }
            for (sequence, message) in &ended {
                prefix.push_back(message_event(stream, *sequence, message));
            }
            // The client gets the events it missed, and resumes again after them.
            live = None;
            handover = ended
                .last()
                .is_some_and(|(_, message)| is_response(message))
                .then(Handover::queued);
        }
        let delivery = handover.map(|handover| self.delivery(stream, handover));
        Ok(
            ResponseBody::sse(prefix, live, self.config.keep_alive, Some(activity))
                .on_delivery(delivery),
        )
    }

    /// Asks the copy that runs the request of `stream` to pass its events on; `true` once it
    /// said it does, within [`FOLLOW_WAIT`].
    async fn follow(&self, stream: u64, answered: oneshot::Receiver<()>) -> bool {
        let Some(shared) = &self.shared else {
            return false;
        };
        if let Err(error) = shared
            .cluster
            .publish(&self.id, Signal::Follow { stream })
            .await
        {
            tracing::debug!(%error, stream, "a stream of another instance cannot be followed");
            return false;
        }
        matches!(
            tokio::time::timeout(FOLLOW_WAIT, answered).await,
            Ok(Ok(()))
        )
    }

    /// Routes one outbound message to the stream it belongs on.
    ///
    /// When the stream's connection has a full queue, the message is stored and then waits,
    /// after the routes lock is released, for room on that connection for at most the
    /// slow-consumer timeout; then the connection is closed and the client resumes from the
    /// store. Meanwhile the session's next message waits, which keeps messages in order.
    pub(crate) async fn deliver(
        self: &Arc<Self>,
        message: Message,
        options: SendOptions,
    ) -> Result<(), mcpwire_transport::Error> {
        let stalled = self.route(message, options).await?;
        if let Some(stalled) = stalled {
            self.finish_stalled(stalled).await;
        }
        Ok(())
    }

    async fn route(
        self: &Arc<Self>,
        message: Message,
        options: SendOptions,
    ) -> Result<Option<Stalled>, mcpwire_transport::Error> {
        let (target, is_final) = match &message {
            Message::Response(response) => (Some(response.id.clone()), true),
            Message::Error(error) => (error.id.clone(), true),
            Message::Request(_) | Message::Notification(_) => (options.related_request, false),
        };
        if let (Message::Request(request), Some(shared)) = (&message, &self.shared) {
            let mut outbound = lock(&shared.outbound);
            if outbound.len() >= MAX_OUTBOUND {
                outbound.pop_front();
            }
            outbound.push_back(request.id.clone());
        }
        let bytes = Bytes::from(message.to_vec());
        let mut routes = self.routes.lock().await;
        if routes.closed {
            return Err(mcpwire_transport::Error::closed());
        }
        if let Some(id) = target
            && let Some(route) = routes.requests.remove(&id)
        {
            if is_final {
                // Waiters look at the routes once this lock is released.
                self.request_ended.notify_waiters();
            }
            match route {
                Route::Pending(reply) if is_final => {
                    let is_error = matches!(message, Message::Error(_));
                    if reply.send(PostReply::Json(bytes, is_error)).is_err() {
                        tracing::debug!(%id, "dropping a response: its POST has gone");
                    }
                }
                Route::Pending(reply) => {
                    let stream = routes.open_stream(false);
                    let (sender, receiver) = mpsc::channel(self.config.stream_queue);
                    let handover = routes.attach(stream, sender);
                    routes.requests.insert(id, Route::Streaming(stream));
                    // A new connection's queue has room for its first event.
                    let _ = self.append(&mut routes, stream, bytes, false).await;
                    let prefix = VecDeque::from([priming_event(
                        &event_id(stream, 0),
                        self.config.sse_retry,
                    )]);
                    let body = ResponseBody::sse(
                        prefix,
                        Some(receiver),
                        self.config.keep_alive,
                        Some(self.busy()),
                    )
                    .on_delivery(Some(self.delivery(stream, handover)));
                    if reply.send(PostReply::Sse(body)).is_err() {
                        tracing::debug!(
                            stream,
                            "the POST of a request went before its stream opened"
                        );
                    }
                }
                Route::Streaming(stream) => {
                    let stalled = self.append(&mut routes, stream, bytes, is_final).await;
                    if is_final {
                        // Dropping the stream's sender ends its connection once the client has
                        // read the response; its events stay in the store for a late resume,
                        // for the store's retention of completed streams.
                        routes.streams.remove(&stream);
                        self.config.event_store.complete(&self.id, stream).await;
                    } else {
                        routes.requests.insert(id, Route::Streaming(stream));
                    }
                    return Ok(stalled);
                }
            }
            return Ok(None);
        }
        if is_final {
            // A response goes only on its request's stream, never on a standalone one.
            tracing::debug!("dropping a response to a request that has no stream any more");
            return Ok(None);
        }
        if let Some(shared) = &self.shared
            && routes.live_standalone().is_none()
        {
            // The client's standalone stream, if it has one, is on another instance.
            drop(routes);
            let signal = Signal::Standalone(bytes);
            if let Err(error) = shared.cluster.publish(&self.id, signal).await {
                tracing::debug!(%error, "a message for the standalone stream was lost");
            }
            return Ok(None);
        }
        // The newest open standalone stream; failing that, the newest one whose connection
        // went away, where the event waits in the store for the client to resume.
        let standalone = routes
            .streams
            .iter()
            .filter(|(_, stream)| stream.standalone)
            .max_by_key(|(id, stream)| (stream.is_live(), **id))
            .map(|(id, _)| *id);
        match standalone {
            Some(stream) => Ok(self.append(&mut routes, stream, bytes, false).await),
            None => {
                // No stream yet: the message waits for one, within bounds of count and age.
                if routes.backlog.len() >= self.config.stream_queue {
                    tracing::debug!("dropping the oldest message waiting for a standalone stream");
                    routes.backlog.pop_front();
                }
                routes.backlog.push_back((Instant::now(), bytes));
                Ok(None)
            }
        }
    }

    /// Stores the next event of `stream` and queues it on the stream's connection; returns the
    /// event instead when that queue is full.
    async fn append(
        &self,
        routes: &mut Routes,
        stream: u64,
        message: Bytes,
        last: bool,
    ) -> Option<Stalled> {
        let state = routes.streams.get_mut(&stream)?;
        let sequence = state.next_sequence;
        state.next_sequence += 1;
        if let Err(error) = self
            .config
            .event_store
            .append(&self.id, stream, sequence, message.clone())
            .await
        {
            tracing::debug!(%error, stream, "an event could not be stored for resumption");
        }
        if state.relayed
            && let Some(shared) = &self.shared
        {
            // Stored first: a follower that finds a gap fills it from the store.
            let event = Signal::Event {
                stream,
                sequence,
                last,
                message: message.clone(),
            };
            if let Err(error) = shared.cluster.publish(&self.id, event).await {
                tracing::debug!(%error, stream, "an event could not reach the instance following its stream");
            }
        }
        let live = state.live.as_ref()?;
        match live.try_send(message_event(stream, sequence, &message)) {
            Ok(()) => {
                if last && let Some(handover) = &state.handover {
                    handover.last_queued();
                }
                None
            }
            Err(mpsc::error::TrySendError::Full(frame)) => Some(Stalled {
                stream,
                live: live.clone(),
                frame,
                handover: state.handover.clone().filter(|_| last),
            }),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                state.live = None;
                None
            }
        }
    }

    /// Waits for room for a stalled event, then closes the connection if none came in time.
    async fn finish_stalled(&self, stalled: Stalled) {
        let Stalled {
            stream,
            live,
            frame,
            handover,
        } = stalled;
        let timeout = self.config.slow_consumer_timeout;
        let sent = tokio::select! {
            sent = live.send_timeout(frame, timeout) => sent.is_ok(),
            // The session's end closes every connection; this clone must not keep one open.
            () = self.terminated.cancelled() => return,
        };
        if sent {
            if let Some(handover) = handover {
                handover.last_queued();
            }
            return;
        }
        tracing::debug!(
            stream,
            "closing the connection of a stream its client reads too slowly"
        );
        let mut routes = self.routes.lock().await;
        if let Some(state) = routes.streams.get_mut(&stream)
            && state
                .live
                .as_ref()
                .is_some_and(|current| current.same_channel(&live))
        {
            // Dropping the stream's sender ends the connection after what it has queued; a
            // connection opened by a resume since then is left alone.
            state.live = None;
        }
    }
}

/// An event that found its connection's queue full: it is stored already, and waits for room.
pub(crate) struct Stalled {
    stream: u64,
    live: mpsc::Sender<Bytes>,
    frame: Bytes,
    /// The connection's handover, when the event is the stream's last.
    handover: Option<Arc<Handover>>,
}

/// A registered request: either waiting for its first outbound message, or already streaming.
pub(crate) enum Registered {
    Pending(oneshot::Receiver<PostReply>, ActivityGuard),
    Streaming(ResponseBody),
}

impl Routes {
    /// The newest standalone stream whose connection is open.
    fn live_standalone(&self) -> Option<u64> {
        self.streams
            .iter()
            .filter(|(_, stream)| stream.standalone && stream.is_live())
            .map(|(id, _)| *id)
            .max()
    }

    fn open_stream(&mut self, standalone: bool) -> u64 {
        let mut stream = self.next_stream;
        self.next_stream += 1;
        if standalone && self.mark_standalone {
            stream |= STANDALONE_STREAM;
        }
        self.streams.insert(
            stream,
            StreamState {
                next_sequence: 1,
                standalone,
                ..StreamState::default()
            },
        );
        stream
    }

    /// Makes `sender` the stream's connection; a previous connection ends. Returns what
    /// tells the connection's body that the stream's last event was queued on it.
    fn attach(&mut self, stream: u64, sender: mpsc::Sender<Bytes>) -> Arc<Handover> {
        let handover = Arc::new(Handover::default());
        if let Some(state) = self.streams.get_mut(&stream) {
            state.live = Some(sender);
            state.handover = Some(Arc::clone(&handover));
        }
        handover
    }
}

/// The id a `notifications/cancelled` names, if `message` is one.
pub(crate) fn cancelled_request(message: &Message) -> Option<RequestId> {
    let Message::Notification(notification) = message else {
        return None;
    };
    if notification.method != "notifications/cancelled" {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "requestId")]
        request_id: RequestId,
    }
    let params = notification.params.as_ref()?;
    serde_json::from_str::<Params>(params.get())
        .ok()
        .map(|params| params.request_id)
}

/// Whether `message`, as stored, is a response: the last event of a request's stream.
fn is_response(message: &[u8]) -> bool {
    matches!(
        Message::parse(message),
        Ok(Message::Response(_) | Message::Error(_))
    )
}
