//! Where SSE events are kept so that a client can resume a stream with `Last-Event-ID`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::server::Error;

/// A boxed future, as returned by [`EventStore`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Keeps the events sent on each SSE stream of each session, so that a client whose
/// connection broke can resume the stream with `Last-Event-ID`.
///
/// A stream is named by its session id and a number unique within the session. Its events are
/// numbered from 1 without gaps, in the order they are sent; the service appends each event
/// before it writes it to the connection, and never appends and replays the same stream at
/// once, so a store needs no ordering of its own.
///
/// A store must be bounded: it evicts old events, and a replay that would need an evicted
/// event fails with [`Error::evicted`] rather than resuming with a gap.
pub trait EventStore: Send + Sync + 'static {
    /// Keeps event `sequence` of `stream` in `session`: the JSON text of one message.
    ///
    /// # Errors
    ///
    /// [`Error::is_store`] when a store backed by another service fails; the event is then
    /// still sent on the live connection, but cannot be replayed.
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        sequence: u64,
        message: Bytes,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// The events of `stream` in `session` after event `after`, oldest first.
    ///
    /// `after` is 0 to replay the whole stream.
    ///
    /// # Errors
    ///
    /// [`Error::is_evicted`] when an event after `after` is no longer kept;
    /// [`Error::is_unknown_event`] when the store knows no such stream or `after` is beyond its
    /// last event; [`Error::is_store`] when a store backed by another service fails.
    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, Error>>;

    /// Drops every event of `session`, which has ended.
    fn forget_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()>;

    /// The stream's last event has been appended: its request was answered (or cancelled).
    /// A store need keep its events only for a client that lost its connection before it
    /// read them, for a short while; the default keeps them under the store's other bounds.
    fn complete<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        let _ = (session, stream);
        Box::pin(std::future::ready(()))
    }

    /// The client was handed every event of `stream`, its last one included: the stream's
    /// connection wrote the response and ended, so the client holds no position in the stream
    /// to resume from. A store need keep the events only for a client whose connection broke
    /// as the last bytes went, for a shorter while than a completed stream's; the default
    /// keeps them as [`complete`](Self::complete) does.
    ///
    /// The service may call it before or after [`complete`](Self::complete), but only once
    /// the stream's last event has been appended.
    fn delivered<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        let _ = (session, stream);
        Box::pin(std::future::ready(()))
    }
}

/// An [`EventStore`] in memory, bounded per stream, per session and in total.
///
/// When a stream holds more than [`max_events_per_stream`](Self::max_events_per_stream)
/// events or [`max_bytes_per_stream`](Self::max_bytes_per_stream) bytes, its oldest events
/// are evicted; when a session holds more than
/// [`max_bytes_per_session`](Self::max_bytes_per_session), the oldest events of that session
/// are; when the whole store holds more than [`max_bytes`](Self::max_bytes), the oldest events
/// of the session holding the most bytes are, so that one busy session cannot evict the events
/// another needs to resume. Events of a session are dropped when it ends, and those of a
/// completed stream (its request answered) once
/// [`completed_retention`](Self::completed_retention) has passed: a client resumes within
/// seconds, and a stream that nobody will resume must not hold memory until bounds push it
/// out. A completed stream whose client was handed every event (its connection wrote the
/// response) is dropped sooner, once [`delivered_retention`](Self::delivered_retention) has
/// passed: the client holds no position in it to resume from. Expired streams are dropped
/// when the store is next used; [`stats`](Self::stats) tells what the store holds.
///
/// # Examples
///
/// ```
/// use mcpwire_http::server::{EventStore, MemoryEventStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryEventStore::new().max_events_per_stream(2);
/// for sequence in 1..=3 {
///     store.append("session", 1, sequence, format!("{sequence}").into()).await.unwrap();
/// }
/// let replayed = store.replay("session", 1, 1).await.unwrap();
/// assert_eq!(replayed.iter().map(|(sequence, _)| *sequence).collect::<Vec<_>>(), [2, 3]);
/// // Event 1 was evicted: resuming from the start would leave a gap.
/// assert!(store.replay("session", 1, 0).await.unwrap_err().is_evicted());
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryEventStore {
    max_events_per_stream: usize,
    max_bytes_per_stream: usize,
    max_bytes_per_session: usize,
    max_bytes: usize,
    completed_retention: Duration,
    delivered_retention: Duration,
    inner: Mutex<Inner>,
}

/// What a [`MemoryEventStore`] holds, as [`MemoryEventStore::stats`] tells it: every count is
/// bounded by the store's bounds, whatever its clients do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStoreStats {
    /// Sessions with a log in the store: those that stored an event and have not ended.
    pub sessions: usize,
    /// Streams with at least one kept event.
    pub streams: usize,
    /// Kept events.
    pub events: usize,
    /// Bytes of kept events.
    pub bytes: usize,
    /// Bookkeeping entries: the sessions' append-order entries (for evicting each session's
    /// oldest event) and the streams waiting for their retention to pass. Never more than
    /// about three per kept event.
    pub index_entries: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// The sessions' logs, by session id; each retention entry shares its session's key.
    sessions: HashMap<Arc<str>, SessionLog>,
    events: usize,
    bytes: usize,
    /// Completed streams, in the order they expire (each is kept for the same time).
    completed: Retention,
    /// Completed streams whose client was handed every event, in the order they expire.
    delivered: Retention,
}

/// Streams to drop once their retention has passed, in the order they expire.
#[derive(Debug, Default)]
struct Retention {
    due: VecDeque<(Instant, Arc<str>, u64)>,
}

#[derive(Debug, Default)]
struct SessionLog {
    streams: HashMap<u64, StreamLog>,
    /// Every kept event of the session in the order it was appended, for evicting the
    /// session's oldest. Entries of events already evicted by a per-stream bound stay until
    /// they reach the front or the queue is compacted.
    order: VecDeque<(u64, u64)>,
    events: usize,
    bytes: usize,
    /// The highest stream whose every event was evicted, and which was then dropped: a
    /// stream left with no event takes no room, so the session's streams stay as many as its
    /// kept events (and those being written).
    dropped_up_to: u64,
}

#[derive(Debug)]
struct StreamLog {
    /// The sequence number of the first kept event, or of the next event when none is kept.
    first: u64,
    events: VecDeque<Bytes>,
    bytes: usize,
}

impl StreamLog {
    fn last(&self) -> u64 {
        self.first + self.events.len() as u64 - 1
    }
}

impl SessionLog {
    /// Evicts the oldest event of stream `stream`, and returns its size. A stream left with
    /// no event is dropped: its next event, if any, starts it again.
    fn evict_first_of(&mut self, stream: u64) -> Option<usize> {
        let log = self.streams.get_mut(&stream)?;
        let evicted = log.events.pop_front()?;
        log.first += 1;
        log.bytes -= evicted.len();
        if log.events.is_empty() {
            self.streams.remove(&stream);
            self.dropped_up_to = self.dropped_up_to.max(stream);
            if self.streams.is_empty() {
                self.order.clear();
            }
        }
        self.events -= 1;
        self.bytes -= evicted.len();
        Some(evicted.len())
    }

    /// Evicts the session's oldest kept event, and returns its size.
    fn evict_oldest(&mut self) -> Option<usize> {
        while let Some((stream, sequence)) = self.order.pop_front() {
            let still_first = self
                .streams
                .get(&stream)
                .is_some_and(|log| !log.events.is_empty() && log.first == sequence);
            if still_first {
                return self.evict_first_of(stream);
            }
        }
        None
    }

    /// Drops the order entries of events already evicted, once they outnumber the kept
    /// events, so that the queue stays within twice the number of events; and gives back the
    /// room a burst of streams left in the maps, so that memory follows what is kept.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.events + 64 {
            let streams = &self.streams;
            self.order.retain(|(stream, sequence)| {
                streams
                    .get(stream)
                    .is_some_and(|log| !log.events.is_empty() && *sequence >= log.first)
            });
        }
        shrink_deque(&mut self.order);
        if self.streams.capacity() > 4 * self.streams.len() + 64 {
            self.streams.shrink_to(2 * self.streams.len());
        }
    }
}

/// Gives back the room of a queue that holds far fewer entries than it once did.
fn shrink_deque<T>(queue: &mut VecDeque<T>) {
    if queue.capacity() > 4 * queue.len() + 64 {
        queue.shrink_to(2 * queue.len());
    }
}

impl Retention {
    /// Keeps `stream` of `session` until `deadline`, which is no earlier than any before it.
    /// Entries whose stream went first (evicted, dropped, or its session ended) are dropped
    /// once they could outnumber the kept streams, of which there are no more than `events`.
    fn push(
        &mut self,
        deadline: Instant,
        session: Arc<str>,
        stream: u64,
        sessions: &HashMap<Arc<str>, SessionLog>,
        events: usize,
    ) {
        self.due.push_back((deadline, session, stream));
        if self.due.len() > 2 * events + 64 {
            self.due.retain(|(_, session, stream)| {
                sessions
                    .get(session)
                    .is_some_and(|owner| owner.streams.contains_key(stream))
            });
            shrink_deque(&mut self.due);
        }
    }

    /// The next stream whose retention has passed at `now`.
    fn pop_due(&mut self, now: Instant) -> Option<(Arc<str>, u64)> {
        if self.due.front()?.0 > now {
            return None;
        }
        let (_, session, stream) = self.due.pop_front()?;
        if self.due.is_empty() {
            shrink_deque(&mut self.due);
        }
        Some((session, stream))
    }
}

impl MemoryEventStore {
    /// Default for [`MemoryEventStore::max_events_per_stream`]: 1 000 events.
    pub const DEFAULT_MAX_EVENTS_PER_STREAM: usize = 1_000;
    /// Default for [`MemoryEventStore::max_bytes_per_stream`]: 1 MiB.
    pub const DEFAULT_MAX_BYTES_PER_STREAM: usize = 1024 * 1024;
    /// Default for [`MemoryEventStore::max_bytes_per_session`]: 4 MiB.
    pub const DEFAULT_MAX_BYTES_PER_SESSION: usize = 4 * 1024 * 1024;
    /// Default for [`MemoryEventStore::max_bytes`]: 32 MiB in total. Events are kept only for
    /// clients that reconnect within seconds, so the oldest go first when the store is full.
    pub const DEFAULT_MAX_BYTES: usize = 32 * 1024 * 1024;
    /// Default for [`MemoryEventStore::completed_retention`]: a completed stream's events are
    /// kept 60 seconds after its final response.
    pub const DEFAULT_COMPLETED_RETENTION: Duration = Duration::from_secs(60);
    /// Default for [`MemoryEventStore::delivered_retention`]: a completed stream whose client
    /// was handed every event is kept 1 second after its connection wrote the response.
    pub const DEFAULT_DELIVERED_RETENTION: Duration = Duration::from_secs(1);

    /// An empty store with the default bounds.
    pub fn new() -> Self {
        MemoryEventStore {
            max_events_per_stream: Self::DEFAULT_MAX_EVENTS_PER_STREAM,
            max_bytes_per_stream: Self::DEFAULT_MAX_BYTES_PER_STREAM,
            max_bytes_per_session: Self::DEFAULT_MAX_BYTES_PER_SESSION,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            completed_retention: Self::DEFAULT_COMPLETED_RETENTION,
            delivered_retention: Self::DEFAULT_DELIVERED_RETENTION,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Sets how many events one stream keeps (at least 1).
    pub fn max_events_per_stream(mut self, limit: usize) -> Self {
        self.max_events_per_stream = limit.max(1);
        self
    }

    /// Sets how many bytes of events one stream keeps; the newest event is always kept.
    pub fn max_bytes_per_stream(mut self, limit: usize) -> Self {
        self.max_bytes_per_stream = limit;
        self
    }

    /// Sets how many bytes of events one session keeps, over all its streams; the newest
    /// event is always kept.
    pub fn max_bytes_per_session(mut self, limit: usize) -> Self {
        self.max_bytes_per_session = limit;
        self
    }

    /// Sets how many bytes of events the whole store keeps; the newest event is always kept.
    pub fn max_bytes(mut self, limit: usize) -> Self {
        self.max_bytes = limit;
        self
    }

    /// Sets how long the events of a completed stream (its request answered) are kept for a
    /// client that lost the connection before it read them.
    pub fn completed_retention(mut self, retention: Duration) -> Self {
        self.completed_retention = retention;
        self
    }

    /// Sets how long the events of a completed stream whose client was handed every event
    /// (its connection wrote the response) are kept, for a client whose connection broke as
    /// the last bytes went. Kept no longer than [`completed_retention`](Self::completed_retention)
    /// in any case; zero drops them at once.
    pub fn delivered_retention(mut self, retention: Duration) -> Self {
        self.delivered_retention = retention;
        self
    }

    /// How many events the store holds (streams whose retention has passed included, until
    /// the store is next used).
    pub fn len(&self) -> usize {
        self.lock().events
    }

    /// What the store holds now, streams whose retention has passed dropped first.
    pub fn stats(&self) -> EventStoreStats {
        let mut inner = self.lock();
        inner.expire(Instant::now());
        let (streams, order) = inner
            .sessions
            .values()
            .fold((0, 0), |(streams, order), log| {
                (streams + log.streams.len(), order + log.order.len())
            });
        EventStoreStats {
            sessions: inner.sessions.len(),
            streams,
            events: inner.events,
            bytes: inner.bytes,
            index_entries: order + inner.completed.due.len() + inner.delivered.due.len(),
        }
    }

    /// Whether the store holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes of events the store holds.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the maps consistent before it can panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn append_now(&self, session: &str, stream: u64, sequence: u64, message: Bytes) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.expire(Instant::now());
        let size = message.len();
        if !inner.sessions.contains_key(session) {
            inner
                .sessions
                .insert(Arc::from(session), SessionLog::default());
        }
        let Some(owner) = inner.sessions.get_mut(session) else {
            return;
        };
        // Most streams carry one event, a POST's response: room for one is what they need.
        let log = owner.streams.entry(stream).or_insert_with(|| StreamLog {
            first: sequence,
            events: VecDeque::with_capacity(1),
            bytes: 0,
        });
        if log.events.is_empty() {
            log.first = sequence;
        } else if sequence != log.last() + 1 {
            tracing::debug!(stream, sequence, "ignoring an event out of sequence");
            return;
        }
        log.events.push_back(message);
        log.bytes += size;
        let over_stream = |log: &StreamLog| {
            log.events.len() > self.max_events_per_stream
                || (log.bytes > self.max_bytes_per_stream && log.events.len() > 1)
        };
        let mut evicted = 0;
        let mut evicted_bytes = 0;
        owner.events += 1;
        owner.bytes += size;
        owner.order.push_back((stream, sequence));
        while owner.streams.get(&stream).is_some_and(over_stream) {
            let Some(bytes) = owner.evict_first_of(stream) else {
                break;
            };
            evicted += 1;
            evicted_bytes += bytes;
        }
        while owner.bytes > self.max_bytes_per_session && owner.events > 1 {
            let Some(bytes) = owner.evict_oldest() else {
                break;
            };
            evicted += 1;
            evicted_bytes += bytes;
        }
        owner.compact();
        inner.events = inner.events + 1 - evicted;
        inner.bytes = inner.bytes + size - evicted_bytes;
        // Over the total, the session holding the most gives up its oldest events.
        while inner.bytes > self.max_bytes && inner.events > 1 {
            let Some(largest) = inner
                .sessions
                .values_mut()
                .filter(|log| log.events > 0)
                .max_by_key(|log| log.bytes)
            else {
                break;
            };
            let Some(bytes) = largest.evict_oldest() else {
                break;
            };
            largest.compact();
            inner.events -= 1;
            inner.bytes -= bytes;
        }
    }

    fn replay_now(
        &self,
        session: &str,
        stream: u64,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, Error> {
        let mut inner = self.lock();
        inner.expire(Instant::now());
        let owner = inner
            .sessions
            .get(session)
            .ok_or_else(Error::unknown_event)?;
        let Some(log) = owner.streams.get(&stream) else {
            // A stream dropped once its events were evicted cannot be resumed without a gap.
            return Err(if stream <= owner.dropped_up_to {
                Error::evicted()
            } else {
                Error::unknown_event()
            });
        };
        if after.saturating_add(1) < log.first {
            return Err(Error::evicted());
        }
        if log.events.is_empty() || after > log.last() {
            return Err(Error::unknown_event());
        }
        let skip = usize::try_from(after + 1 - log.first).map_err(|_| Error::unknown_event())?;
        Ok(log
            .events
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(index, message)| (log.first + index as u64, message.clone()))
            .collect())
    }

    fn forget_now(&self, session: &str) {
        let mut inner = self.lock();
        if let Some(owner) = inner.sessions.remove(session) {
            inner.events -= owner.events;
            inner.bytes -= owner.bytes;
        }
        if inner.sessions.capacity() > 4 * inner.sessions.len() + 64 {
            let sessions = inner.sessions.len();
            inner.sessions.shrink_to(2 * sessions);
        }
        inner.expire(Instant::now());
    }

    fn complete_now(&self, session: &str, stream: u64) {
        self.retain_stream(session, stream, self.completed_retention, false);
    }

    fn delivered_now(&self, session: &str, stream: u64) {
        let retention = self.delivered_retention.min(self.completed_retention);
        self.retain_stream(session, stream, retention, true);
    }

    /// Keeps the kept events of `stream` in `session` for `retention` more, then drops them.
    fn retain_stream(&self, session: &str, stream: u64, retention: Duration, delivered: bool) {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.expire(now);
        let inner = &mut *inner;
        let Some((key, _)) = inner
            .sessions
            .get_key_value(session)
            .filter(|(_, owner)| owner.streams.contains_key(&stream))
        else {
            return;
        };
        if retention.is_zero() {
            inner.drop_stream(session, stream);
            return;
        }
        let key = Arc::clone(key);
        let queue = if delivered {
            &mut inner.delivered
        } else {
            &mut inner.completed
        };
        queue.push(now + retention, key, stream, &inner.sessions, inner.events);
    }
}

impl Inner {
    /// Drops the completed streams whose retention has passed.
    fn expire(&mut self, now: Instant) {
        while let Some((session, stream)) = self.completed.pop_due(now) {
            self.drop_stream(&session, stream);
        }
        while let Some((session, stream)) = self.delivered.pop_due(now) {
            self.drop_stream(&session, stream);
        }
    }

    /// Drops every kept event of `stream` in `session`; resuming it is then answered as
    /// evicted.
    fn drop_stream(&mut self, session: &str, stream: u64) {
        let Some(owner) = self.sessions.get_mut(session) else {
            return;
        };
        let Some(log) = owner.streams.remove(&stream) else {
            return;
        };
        owner.dropped_up_to = owner.dropped_up_to.max(stream);
        owner.events -= log.events.len();
        owner.bytes -= log.bytes;
        self.events -= log.events.len();
        self.bytes -= log.bytes;
        if owner.streams.is_empty() {
            owner.order.clear();
        }
        owner.compact();
    }
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        MemoryEventStore::new()
    }
}

impl EventStore for MemoryEventStore {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        sequence: u64,
        message: Bytes,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.append_now(session, stream, sequence, message);
        Box::pin(std::future::ready(Ok(())))
    }

    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, Error>> {
        Box::pin(std::future::ready(self.replay_now(session, stream, after)))
    }

    fn forget_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        self.forget_now(session);
        Box::pin(std::future::ready(()))
    }

    fn complete<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        self.complete_now(session, stream);
        Box::pin(std::future::ready(()))
    }

    fn delivered<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        self.delivered_now(session, stream);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_completed_stream_is_kept_for_its_retention_then_dropped() {
        let store = MemoryEventStore::new().completed_retention(Duration::from_secs(60));
        for sequence in 1..=3 {
            store
                .append("a", 1, sequence, Bytes::from("done"))
                .await
                .unwrap();
            store
                .append("a", 2, sequence, Bytes::from("open"))
                .await
                .unwrap();
        }
        store.complete("a", 1).await;
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(
            sequences(&store.replay("a", 1, 1).await.unwrap()),
            [2, 3],
            "resumable within the retention"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(store.replay("a", 1, 1).await.unwrap_err().is_evicted());
        assert_eq!(
            (store.len(), store.bytes()),
            (3, 12),
            "the open stream stays"
        );
        assert_eq!(
            sequences(&store.replay("a", 2, 0).await.unwrap()),
            [1, 2, 3]
        );
        // Completing an unknown or dropped stream changes nothing.
        store.complete("a", 1).await;
        store.complete("b", 7).await;
        assert_eq!(store.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn completed_streams_release_their_memory_however_many_there_are() {
        let store = MemoryEventStore::new().completed_retention(Duration::from_secs(60));
        for stream in 1..=20_000 {
            store
                .append("a", stream, 1, Bytes::from("result"))
                .await
                .unwrap();
            store.complete("a", stream).await;
            if stream % 1_000 == 0 {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
        // Six rounds of 1 000 streams fit in the retention window; the rest are gone.
        assert!(store.len() <= 7_000, "{} events kept", store.len());
        let pending = store.lock().completed.due.len();
        assert!(
            pending <= 2 * store.len() + 64,
            "{pending} retention entries"
        );
        tokio::time::sleep(Duration::from_secs(61)).await;
        store.forget_session("other").await;
        assert_eq!((store.len(), store.bytes()), (0, 0));
        assert!(store.lock().completed.due.is_empty());
    }

    #[tokio::test]
    async fn a_zero_retention_drops_a_stream_when_it_completes() {
        let store = MemoryEventStore::new().completed_retention(Duration::ZERO);
        store.append("a", 1, 1, Bytes::from("x")).await.unwrap();
        store.complete("a", 1).await;
        assert!(store.is_empty());
        assert!(store.replay("a", 1, 0).await.unwrap_err().is_evicted());
    }

    fn sequences(events: &[(u64, Bytes)]) -> Vec<u64> {
        events.iter().map(|(sequence, _)| *sequence).collect()
    }

    #[tokio::test]
    async fn replays_only_the_named_stream_after_the_given_event() {
        let store = MemoryEventStore::new();
        for sequence in 1..=3 {
            store
                .append("a", 1, sequence, Bytes::from("x"))
                .await
                .unwrap();
            store
                .append("a", 2, sequence, Bytes::from("y"))
                .await
                .unwrap();
            store
                .append("b", 1, sequence, Bytes::from("z"))
                .await
                .unwrap();
        }
        let replayed = store.replay("a", 1, 1).await.unwrap();
        assert_eq!(sequences(&replayed), [2, 3]);
        assert!(replayed.iter().all(|(_, message)| message == "x"));
        assert!(store.replay("a", 1, 3).await.unwrap().is_empty());
        assert_eq!(
            sequences(&store.replay("a", 1, 0).await.unwrap()),
            [1, 2, 3]
        );
    }

    #[tokio::test]
    async fn unknown_streams_and_future_events_are_errors() {
        let store = MemoryEventStore::new();
        store.append("a", 1, 1, Bytes::from("x")).await.unwrap();
        assert!(
            store
                .replay("a", 9, 0)
                .await
                .unwrap_err()
                .is_unknown_event()
        );
        assert!(
            store
                .replay("b", 1, 0)
                .await
                .unwrap_err()
                .is_unknown_event()
        );
        assert!(
            store
                .replay("a", 1, 2)
                .await
                .unwrap_err()
                .is_unknown_event()
        );
        assert!(
            store
                .replay("a", 1, u64::MAX)
                .await
                .unwrap_err()
                .is_unknown_event()
        );
    }

    #[tokio::test]
    async fn the_total_bound_evicts_from_the_session_holding_the_most() {
        let store = MemoryEventStore::new().max_bytes(10);
        store.append("a", 1, 1, Bytes::from("12345")).await.unwrap();
        store.append("b", 1, 1, Bytes::from("12345")).await.unwrap();
        store.append("b", 1, 2, Bytes::from("12345")).await.unwrap();
        assert_eq!(store.bytes(), 10);
        // `a` is older but smaller: `b`, which pushed the store over, gives up its oldest.
        assert_eq!(sequences(&store.replay("a", 1, 0).await.unwrap()), [1]);
        assert!(store.replay("b", 1, 0).await.unwrap_err().is_evicted());
        assert_eq!(sequences(&store.replay("b", 1, 1).await.unwrap()), [2]);
    }

    #[tokio::test]
    async fn one_busy_session_cannot_evict_the_events_another_needs_to_resume() {
        // Each session may keep 4 KiB; the store 16 KiB.
        let store = MemoryEventStore::new()
            .max_bytes_per_session(4096)
            .max_bytes(16 * 1024);
        let answer = Bytes::from(vec![b'a'; 2048]);
        store.append("quiet", 1, 1, answer.clone()).await.unwrap();
        // The busy session writes 1 MiB over many streams.
        for stream in 1..=64 {
            for sequence in 1..=16 {
                let event = Bytes::from(vec![b'b'; 1024]);
                store.append("busy", stream, sequence, event).await.unwrap();
            }
        }
        assert!(store.bytes() <= 16 * 1024);
        let replayed = store.replay("quiet", 1, 0).await.unwrap();
        assert_eq!(replayed, [(1, answer)]);
        // Many sessions within their share fill the store: the largest gives way first.
        for session in 0..8 {
            let name = format!("s{session}");
            store
                .append(&name, 1, 1, Bytes::from(vec![b'c'; 1500]))
                .await
                .unwrap();
        }
        assert!(store.bytes() <= 16 * 1024);
        assert!(store.replay("quiet", 1, 0).await.is_ok());
    }

    #[tokio::test]
    async fn per_stream_bounds_keep_the_newest_event_and_the_order_queue_stays_bounded() {
        let store = MemoryEventStore::new()
            .max_events_per_stream(3)
            .max_bytes_per_stream(4);
        for sequence in 1..=1_000 {
            store
                .append("a", 1, sequence, Bytes::from("12"))
                .await
                .unwrap();
        }
        assert_eq!(store.len(), 2);
        assert_eq!(
            sequences(&store.replay("a", 1, 998).await.unwrap()),
            [999, 1_000]
        );
        assert!(store.lock().sessions["a"].order.len() <= 2 * 2 + 65);
        store
            .append("a", 2, 1, Bytes::from("123456"))
            .await
            .unwrap();
        assert_eq!(sequences(&store.replay("a", 2, 0).await.unwrap()), [1]);
    }

    #[tokio::test]
    async fn streams_whose_events_were_all_evicted_take_no_room() {
        // One event per stream, as a POST answered over SSE leaves: the session's bound keeps
        // about ten events, and so about ten streams, however many requests came.
        let store = MemoryEventStore::new().max_bytes_per_session(100);
        for stream in 1..=10_000 {
            store
                .append("s", stream, 1, Bytes::from_static(b"0123456789"))
                .await
                .unwrap();
        }
        {
            let inner = store.lock();
            let log = &inner.sessions["s"];
            assert!(
                log.streams.len() <= 11,
                "{} streams kept",
                log.streams.len()
            );
            assert!(log.order.len() <= 2 * log.events + 64);
        }
        assert!(store.bytes() <= 100);
        assert!(store.replay("s", 1, 0).await.unwrap_err().is_evicted());
        assert_eq!(sequences(&store.replay("s", 10_000, 0).await.unwrap()), [1]);
        assert!(
            store
                .replay("s", 10_001, 0)
                .await
                .unwrap_err()
                .is_unknown_event()
        );
        // A stream whose events were evicted while it was still open starts again.
        let store = MemoryEventStore::new().max_events_per_stream(1);
        store
            .append("s", 1, 1, Bytes::from_static(b"a"))
            .await
            .unwrap();
        store
            .append("s", 1, 2, Bytes::from_static(b"b"))
            .await
            .unwrap();
        assert_eq!(sequences(&store.replay("s", 1, 1).await.unwrap()), [2]);
        assert!(store.replay("s", 1, 0).await.unwrap_err().is_evicted());
    }

    #[tokio::test]
    async fn forgetting_a_session_frees_its_events() {
        let store = MemoryEventStore::new();
        store.append("a", 1, 1, Bytes::from("xx")).await.unwrap();
        store.append("b", 1, 1, Bytes::from("yyy")).await.unwrap();
        store.forget_session("a").await;
        assert_eq!((store.len(), store.bytes()), (1, 3));
        assert!(store.replay("a", 1, 0).await.is_err());
    }
}
