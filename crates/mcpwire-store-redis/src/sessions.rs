//! [`RedisSessionStore`] and [`RedisBus`]: the shared records of Streamable HTTP sessions,
//! and the channel between the instances that serve them.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use mcpwire_http::server::{BoxFuture, MessageBus, SessionRecord, SessionStore};
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, watch};

use crate::error::Error;

/// Runs `operation` on a clone of `connection`, and once more when it failed because the
/// connection had dropped: the connection manager reconnects on such a failure, so the first
/// operation after Redis came back does not fail for the connection it found broken.
async fn twice_if_dropped<T, F, Fut>(
    connection: &ConnectionManager,
    operation: F,
) -> Result<T, mcpwire_http::server::Error>
where
    F: Fn(ConnectionManager) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<T>>,
{
    match operation(connection.clone()).await {
        Err(error) if error.is_connection_dropped() || error.is_io_error() => {
            operation(connection.clone()).await.map_err(store_error)
        }
        outcome => outcome.map_err(store_error),
    }
}

/// The service's error for a failure of Redis.
fn store_error(error: redis::RedisError) -> mcpwire_http::server::Error {
    mcpwire_http::server::Error::store(Error::from(error))
}

/// The records of Streamable HTTP sessions on Redis, shared by the instances of a deployment
/// ([`Config::shared_sessions`](mcpwire_http::server::Config::shared_sessions)).
///
/// Each record is a hash at `{<prefix>:s:<session id>}:r`, in the slot of the session's
/// event store keys, with the fields `owner` (absent for an anonymous session),
/// `initialized` (`0` or `1`) and `state` (the role's bytes), expiring after the time to live
/// the service gives (its session idle timeout), renewed while the session is used, and
/// `revision`, the number of saves, counted by Redis with each save.
#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: String,
    save_script: redis::Script,
}

/// Saves a record in one atomic step: refuses (0) when it is gone and may not be made, else
/// counts the save in the `revision` field and answers the new revision. KEYS[1] is the
/// record; ARGV: may make it (`1`/`0`), `initialized`, `state`, `owner`, whether there is an
/// owner (`1`/`0`), the time to live in milliseconds.
const SAVE_SCRIPT: &str = r"
local record = KEYS[1]
if ARGV[1] ~= '1' and redis.call('EXISTS', record) == 0 then
  return 0
end
local revision = redis.call('HINCRBY', record, 'revision', 1)
redis.call('HSET', record, 'initialized', ARGV[2], 'state', ARGV[3])
if ARGV[5] == '1' then
  redis.call('HSET', record, 'owner', ARGV[4])
else
  redis.call('HDEL', record, 'owner')
end
redis.call('PEXPIRE', record, ARGV[6])
return revision
";

impl RedisSessionStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`, `redis+unix:///path`).
    ///
    /// # Errors
    ///
    /// When the URL is not one, or Redis cannot be reached ([`Error::is_unreachable`]).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self::with_connection(
            crate::connection::connect(url).await?,
        ))
    }

    /// A store on a connection made by the caller.
    pub fn with_connection(connection: ConnectionManager) -> Self {
        RedisSessionStore {
            connection,
            prefix: "mcpwire".to_owned(),
            save_script: redis::Script::new(SAVE_SCRIPT),
        }
    }

    /// Sets the prefix of every key (`mcpwire` by default), as
    /// [`RedisEventStore::prefix`](crate::RedisEventStore::prefix) does.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, id: &str) -> String {
        format!("{{{}:s:{id}}}:r", self.prefix)
    }
}

/// A time to live in whole milliseconds, at least one.
fn milliseconds(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionStore for RedisSessionStore {
    fn save<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        create: bool,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<u64>, mcpwire_http::server::Error>> {
        Box::pin(async move {
            let key = self.key(id);
            let revision: u64 = twice_if_dropped(&self.connection, |mut connection| {
                let mut invocation = self.save_script.prepare_invoke();
                invocation
                    .key(&key)
                    .arg(u8::from(create))
                    .arg(u8::from(record.initialized))
                    .arg(record.state.as_ref())
                    .arg(record.owner.as_deref().unwrap_or_default())
                    .arg(u8::from(record.owner.is_some()))
                    .arg(milliseconds(ttl));
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
            // The script answers 0 for a record that is gone; revisions start at 1.
            Ok((revision > 0).then_some(revision))
        })
    }

    fn load<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, mcpwire_http::server::Error>> {
        Box::pin(async move {
            let mut command = redis::cmd("HMGET");
            command
                .arg(self.key(id))
                .arg("owner")
                .arg("initialized")
                .arg("state")
                .arg("revision");
            let (owner, initialized, state, revision): (
                Option<String>,
                Option<u8>,
                Option<Vec<u8>>,
                Option<u64>,
            ) = twice_if_dropped(&self.connection, |mut connection| {
                let command = command.clone();
                async move { command.query_async(&mut connection).await }
            })
            .await?;
            // A record always has its state; without it there is none.
            Ok(state.map(|state| SessionRecord {
                owner,
                initialized: initialized == Some(1),
                state: Bytes::from(state),
                revision: revision.unwrap_or_default(),
            }))
        })
    }

    fn touch<'a>(
        &'a self,
        id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, mcpwire_http::server::Error>> {
        Box::pin(async move {
            let mut command = redis::cmd("PEXPIRE");
            command.arg(self.key(id)).arg(milliseconds(ttl));
            twice_if_dropped(&self.connection, |mut connection| {
                let command = command.clone();
                async move { command.query_async::<bool>(&mut connection).await }
            })
            .await
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), mcpwire_http::server::Error>> {
        Box::pin(async move {
            let mut command = redis::cmd("DEL");
            command.arg(self.key(id));
            twice_if_dropped(&self.connection, |mut connection| {
                let command = command.clone();
                async move { command.query_async::<()>(&mut connection).await }
            })
            .await
        })
    }
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// How many frames wait for one subscriber before newer ones are dropped.
const SUBSCRIBER_QUEUE: usize = 1024;

/// The channel between the instances of a deployment on Redis pub/sub: one channel,
/// `<prefix>:bus`, that every instance publishes to and reads.
///
/// It keeps one connection subscribed, made anew (after a pause that grows to a second)
/// whenever it drops, and hands every frame to each of its subscribers' bounded queues. What
/// is published while the connection is down is lost to this instance, as Redis pub/sub
/// delivers at most once.
#[derive(Clone)]
pub struct RedisBus {
    connection: ConnectionManager,
    channel: String,
    subscribers: Arc<Mutex<Vec<mpsc::Sender<Bytes>>>>,
    resubscribed: watch::Receiver<u64>,
}

impl RedisBus {
    /// Connects to the Redis at `url` and subscribes to the channel of `prefix` (`mcpwire`
    /// for the default of the stores); frames are read from now on.
    ///
    /// # Errors
    ///
    /// When the URL is not one, or Redis cannot be reached ([`Error::is_unreachable`]).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, Error> {
        let connection = crate::connection::connect(url).await?;
        let client = redis::Client::open(url)?;
        let channel = format!("{prefix}:bus");
        let subscribers: Arc<Mutex<Vec<mpsc::Sender<Bytes>>>> = Arc::default();
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let (resubscriptions, resubscribed) = watch::channel(0);
        tokio::spawn(read(
            client,
            channel.clone(),
            pubsub,
            Arc::downgrade(&subscribers),
            resubscriptions,
        ));
        Ok(RedisBus {
            connection,
            channel,
            subscribers,
            resubscribed,
        })
    }

    /// How many times the bus subscribed again after its connection dropped, to wait on:
    /// once it moves, the instance hears the others again.
    pub fn resubscriptions(&self) -> watch::Receiver<u64> {
        self.resubscribed.clone()
    }
}

/// Reads the channel and hands each frame to the subscribers, until the bus is dropped;
/// subscribes again whenever the connection drops.
async fn read(
    client: redis::Client,
    channel: String,
    pubsub: redis::aio::PubSub,
    subscribers: std::sync::Weak<Mutex<Vec<mpsc::Sender<Bytes>>>>,
    resubscriptions: watch::Sender<u64>,
) {
    let mut pubsub = Some(pubsub);
    let mut pause = Duration::from_millis(50);
    loop {
        if let Some(mut connected) = pubsub.take() {
            pause = Duration::from_millis(50);
            let mut messages = connected.on_message();
            while let Some(message) = messages.next().await {
                let Some(subscribers) = subscribers.upgrade() else {
                    return;
                };
                let frame = Bytes::copy_from_slice(message.get_payload_bytes());
                let mut subscribers = subscribers
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                subscribers.retain(|subscriber| match subscriber.try_send(frame.clone()) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::debug!("a subscriber of the bus fell behind: a frame is lost");
                        true
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                });
            }
            tracing::warn!("the bus's Redis connection dropped; subscribing again");
        }
        if subscribers.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
        match client.get_async_pubsub().await {
            Ok(mut connected) => match connected.subscribe(&channel).await {
                Ok(()) => {
                    pubsub = Some(connected);
                    resubscriptions.send_modify(|count| *count += 1);
                }
                Err(error) => tracing::debug!(%error, "the bus could not subscribe"),
            },
            Err(error) => tracing::debug!(%error, "the bus could not reach Redis"),
        }
    }
}

impl MessageBus for RedisBus {
    fn publish(&self, frame: Bytes) -> BoxFuture<'_, Result<(), mcpwire_http::server::Error>> {
        Box::pin(async move {
            let mut command = redis::cmd("PUBLISH");
            command.arg(&self.channel).arg(frame.as_ref());
            twice_if_dropped(&self.connection, |mut connection| {
                let command = command.clone();
                async move { command.query_async::<()>(&mut connection).await }
            })
            .await
        })
    }

    fn subscribe(&self) -> mpsc::Receiver<Bytes> {
        let (sender, receiver) = mpsc::channel(SUBSCRIBER_QUEUE);
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(sender);
        receiver
    }
}

impl fmt::Debug for RedisBus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisBus")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}
