//! [`RedisEventStore`]: the SSE event store on Redis.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mcpwire_http::server::{BoxFuture, EventStore, MemoryEventStore};
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use crate::error::Error;

/// The script that runs every operation on one session's keys.
const SESSION_SCRIPT: &str = include_str!("events.lua");

/// The script that keeps the total across sessions.
const GLOBAL_SCRIPT: &str = include_str!("global.lua");

/// How many of its oldest events sessions give up, at most, to bring the total under the
/// global bound after one append: the bound holds again over a few appends if it does not
/// after one, and no append waits long.
const MAX_GLOBAL_EVICTIONS: usize = 64;

/// The SSE event store of Streamable HTTP on Redis, shared by every instance of a deployment.
///
/// It keeps the bounds of [`MemoryEventStore`], with the same defaults: per stream
/// ([`max_events_per_stream`](Self::max_events_per_stream),
/// [`max_bytes_per_stream`](Self::max_bytes_per_stream)), per session
/// ([`max_bytes_per_session`](Self::max_bytes_per_session)) and in total
/// ([`max_bytes`](Self::max_bytes), across instances: the session holding the most gives up
/// its oldest events), and drops a completed stream's events after
/// [`completed_retention`](Self::completed_retention), or after the shorter
/// [`delivered_retention`](Self::delivered_retention) once its client was handed every event.
/// The per-stream and per-session bounds
/// hold exactly, each append being one atomic script; the total is kept by a second script, so
/// under concurrent appends from many instances it may be passed briefly, by the events
/// appended at the same moment.
///
/// Times are the instance's wall clock in milliseconds; instances of a deployment keep their
/// clocks in step (NTP), as Redis's own expiry assumes.
#[derive(Clone)]
pub struct RedisEventStore {
    connection: ConnectionManager,
    session_script: Script,
    global_script: Script,
    prefix: String,
    max_events_per_stream: usize,
    max_bytes_per_stream: usize,
    max_bytes_per_session: usize,
    max_bytes: usize,
    completed_retention: Duration,
    delivered_retention: Duration,
    session_ttl: Duration,
    clock: Clock,
}

/// The wall clock in milliseconds, advanced by tokio's clock, so that tests with paused time
/// see retention pass without waiting for it.
#[derive(Clone, Copy, Debug)]
struct Clock {
    wall_at_start: u64,
    started: tokio::time::Instant,
}

impl Clock {
    fn new() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            wall_at_start: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
            started: tokio::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.wall_at_start.saturating_add(elapsed)
    }
}

/// What a session script returned after its own result: the bytes the session holds now, and
/// the change its operation made.
struct Tally {
    bytes: i64,
    change: i64,
}

impl RedisEventStore {
    /// Default for [`RedisEventStore::session_ttl`]: a session's keys live an hour after its
    /// last event store operation.
    pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(60 * 60);

    /// Connects to the Redis at `url` (`redis://host:port/db`, `redis+unix:///path`), with
    /// the default bounds.
    ///
    /// # Errors
    ///
    /// When the URL is not one, or Redis cannot be reached ([`Error::is_unreachable`]).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self::with_connection(
            crate::connection::connect(url).await?,
        ))
    }

    /// A store on a connection made by the caller, with the default bounds.
    pub fn with_connection(connection: ConnectionManager) -> Self {
        RedisEventStore {
            connection,
            session_script: Script::new(SESSION_SCRIPT),
            global_script: Script::new(GLOBAL_SCRIPT),
            prefix: "mcpwire".to_owned(),
            max_events_per_stream: MemoryEventStore::DEFAULT_MAX_EVENTS_PER_STREAM,
            max_bytes_per_stream: MemoryEventStore::DEFAULT_MAX_BYTES_PER_STREAM,
            max_bytes_per_session: MemoryEventStore::DEFAULT_MAX_BYTES_PER_SESSION,
            max_bytes: MemoryEventStore::DEFAULT_MAX_BYTES,
            completed_retention: MemoryEventStore::DEFAULT_COMPLETED_RETENTION,
            delivered_retention: MemoryEventStore::DEFAULT_DELIVERED_RETENTION,
            session_ttl: Self::DEFAULT_SESSION_TTL,
            clock: Clock::new(),
        }
    }

    /// Sets the prefix of every key (`mcpwire` by default): deployments sharing one Redis
    /// each use their own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
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

    /// Sets how many bytes of events one session keeps; the newest event is always kept.
    pub fn max_bytes_per_session(mut self, limit: usize) -> Self {
        self.max_bytes_per_session = limit;
        self
    }

    /// Sets how many bytes of events the store keeps over every session and instance.
    pub fn max_bytes(mut self, limit: usize) -> Self {
        self.max_bytes = limit;
        self
    }

    /// Sets how long the events of a completed stream are kept for a client that lost its
    /// connection before it read them.
    pub fn completed_retention(mut self, retention: Duration) -> Self {
        self.completed_retention = retention;
        self
    }

    /// Sets how long the events of a completed stream whose client was handed every event are
    /// kept, for a client whose connection broke as the last bytes went; no longer than
    /// [`completed_retention`](Self::completed_retention) in any case, and zero drops them at
    /// once.
    pub fn delivered_retention(mut self, retention: Duration) -> Self {
        self.delivered_retention = retention;
        self
    }

    /// Sets how long a session's keys live after its last operation: the keys of a session
    /// that no instance ended (its instance died) go away then. Keep it above the sessions'
    /// idle timeout.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How many bytes of events the store holds, over every session and instance.
    ///
    /// # Errors
    ///
    /// When Redis fails.
    pub async fn bytes(&self) -> Result<u64, Error> {
        let mut connection = self.connection.clone();
        let total: Option<u64> = redis::cmd("HGET")
            .arg(self.global_key("total"))
            .arg("bytes")
            .query_async(&mut connection)
            .await?;
        Ok(total.unwrap_or(0))
    }

    fn session_tag(&self, session: &str) -> String {
        format!("{{{}:s:{session}}}", self.prefix)
    }

    fn global_key(&self, name: &str) -> String {
        format!("{{{}:g}}:{name}", self.prefix)
    }

    /// Runs the session script: `operation` with its arguments on `session`'s keys.
    async fn run(
        &self,
        session: &str,
        operation: &str,
        arguments: &[&[u8]],
    ) -> Result<(Vec<Value>, Tally), Error> {
        let tag = self.session_tag(session);
        let mut invocation = self.session_script.prepare_invoke();
        invocation
            .key(format!("{tag}:m"))
            .key(format!("{tag}:o"))
            .key(format!("{tag}:c"))
            .arg(operation)
            .arg(format!("{tag}:e:"))
            .arg(self.clock.now_ms())
            .arg(millis(self.session_ttl).max(1));
        for argument in arguments {
            invocation.arg(*argument);
        }
        let mut connection = self.connection.clone();
        let reply: Value = invocation.invoke_async(&mut connection).await?;
        let mut items = match reply {
            Value::Array(items) => items,
            other => return Err(unexpected(&other)),
        };
        let change = items.pop().and_then(|value| integer(&value));
        let bytes = items.pop().and_then(|value| integer(&value));
        match (bytes, change) {
            (Some(bytes), Some(change)) => Ok((items, Tally { bytes, change })),
            _ => Err(unexpected(&Value::Array(items))),
        }
    }

    /// Records a session's change in the total, and evicts the oldest events of the sessions
    /// holding the most while the total is over the bound.
    async fn account(&self, session: &str, tally: Tally) -> Result<(), Error> {
        let mut session = session.to_owned();
        let mut tally = tally;
        for _ in 0..MAX_GLOBAL_EVICTIONS {
            let mut invocation = self.global_script.prepare_invoke();
            invocation
                .key(self.global_key("total"))
                .key(self.global_key("sessions"))
                .arg(&session)
                .arg(tally.bytes)
                .arg(tally.change)
                .arg(self.max_bytes);
            let mut connection = self.connection.clone();
            let reply: Value = invocation.invoke_async(&mut connection).await?;
            let Value::Array(items) = reply else {
                return Err(unexpected(&reply));
            };
            let (Some(largest), Some(recorded)) =
                (items.get(1).and_then(text), items.get(2).and_then(integer))
            else {
                return Ok(());
            };
            let (_, evicted) = self.run(&largest, "evict_oldest", &[]).await?;
            tally = if evicted.change == 0 {
                if evicted.bytes > 0 {
                    // Only its newest event is left: the bound yields to it.
                    return Ok(());
                }
                // The session's keys expired (its instance died): forget what was recorded.
                Tally {
                    bytes: 0,
                    change: -recorded,
                }
            } else {
                evicted
            };
            session = largest;
        }
        Ok(())
    }
}

impl fmt::Debug for RedisEventStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisEventStore")
            .field("prefix", &self.prefix)
            .field("max_events_per_stream", &self.max_events_per_stream)
            .field("max_bytes_per_stream", &self.max_bytes_per_stream)
            .field("max_bytes_per_session", &self.max_bytes_per_session)
            .field("max_bytes", &self.max_bytes)
            .field("completed_retention", &self.completed_retention)
            .field("delivered_retention", &self.delivered_retention)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

impl EventStore for RedisEventStore {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        sequence: u64,
        message: Bytes,
    ) -> BoxFuture<'a, Result<(), mcpwire_http::server::Error>> {
        Box::pin(async move {
            let stream = stream.to_string();
            let sequence = sequence.to_string();
            let max_events = self.max_events_per_stream.to_string();
            let max_stream_bytes = self.max_bytes_per_stream.to_string();
            let max_session_bytes = self.max_bytes_per_session.to_string();
            let arguments: [&[u8]; 6] = [
                stream.as_bytes(),
                sequence.as_bytes(),
                &message,
                max_events.as_bytes(),
                max_stream_bytes.as_bytes(),
                max_session_bytes.as_bytes(),
            ];
            let outcome = async {
                let (_, tally) = self.run(session, "append", &arguments).await?;
                self.account(session, tally).await
            };
            outcome.await.map_err(store_error)
        })
    }

    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, mcpwire_http::server::Error>> {
        Box::pin(async move {
            let stream = stream.to_string();
            let after = after.to_string();
            let (items, tally) = self
                .run(session, "replay", &[stream.as_bytes(), after.as_bytes()])
                .await
                .map_err(store_error)?;
            // Expired streams may have left the session: keep the total true.
            if tally.change != 0 {
                self.account(session, tally).await.map_err(store_error)?;
            }
            let mut items = items.into_iter();
            let verdict = items.next().as_ref().and_then(text);
            match verdict.as_deref() {
                Some("evicted") => Err(mcpwire_http::server::Error::evicted()),
                Some("unknown") => Err(mcpwire_http::server::Error::unknown_event()),
                Some("ok") => match items.next() {
                    Some(Value::Array(flat)) => {
                        events_of(flat).ok_or_else(|| store_error(unexpected(&Value::Nil)))
                    }
                    _ => Err(store_error(unexpected(&Value::Nil))),
                },
                _ => Err(store_error(unexpected(&Value::Nil))),
            }
        })
    }

    fn forget_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let outcome = async {
                let (_, tally) = self.run(session, "forget", &[]).await?;
                self.account(session, tally).await
            };
            if let Err(error) = outcome.await {
                tracing::debug!(
                    %error,
                    "the events of an ended session could not be dropped; they expire with its keys"
                );
            }
        })
    }

    fn complete<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        self.retain(session, stream, self.completed_retention)
    }

    fn delivered<'a>(&'a self, session: &'a str, stream: u64) -> BoxFuture<'a, ()> {
        let retention = self.delivered_retention.min(self.completed_retention);
        self.retain(session, stream, retention)
    }
}

impl RedisEventStore {
    /// Keeps the events of `stream` in `session` for `retention` more at most, then drops
    /// them.
    fn retain<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        retention: Duration,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let stream = stream.to_string();
            let retention = millis(retention).to_string();
            let outcome = async {
                let (_, tally) = self
                    .run(
                        session,
                        "complete",
                        &[stream.as_bytes(), retention.as_bytes()],
                    )
                    .await?;
                self.account(session, tally).await
            };
            if let Err(error) = outcome.await {
                tracing::debug!(
                    %error,
                    "a completed stream could not be marked; its events go with the bounds"
                );
            }
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn store_error(error: Error) -> mcpwire_http::server::Error {
    mcpwire_http::server::Error::store(error)
}

fn unexpected(value: &Value) -> Error {
    Error::from(redis::RedisError::from((
        redis::ErrorKind::Parse,
        "an unexpected answer of the event store's script",
        format!("{value:?}"),
    )))
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(number) => Some(*number),
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

/// The `(sequence, message)` pairs of a replay, flattened by the script.
fn events_of(flat: Vec<Value>) -> Option<Vec<(u64, Bytes)>> {
    let mut events = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let Some(sequence) = items.next() {
        let sequence = u64::try_from(integer(&sequence)?).ok()?;
        let Value::BulkString(message) = items.next()? else {
            return None;
        };
        events.push((sequence, Bytes::from(message)));
    }
    Some(events)
}
