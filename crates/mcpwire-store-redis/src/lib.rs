//! Redis stores for mcpwire: state that outlives a request, kept where every server instance
//! of a deployment reaches it.
//!
//! [`RedisEventStore`] is the event store of Streamable HTTP resumption
//! ([`mcpwire_http::server::EventStore`]) on Redis: each SSE stream's events are a Redis
//! stream, with the bounds and the retention of the in-memory
//! [`MemoryEventStore`](mcpwire_http::server::MemoryEventStore): per stream (events and
//! bytes), per session and in total, the session's oldest events evicted first, a completed
//! stream's events dropped after its retention, and a resume that would leave a gap refused.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mcpwire_http::server::Config;
//! use mcpwire_store_redis::RedisEventStore;
//!
//! # async fn run() -> Result<(), mcpwire_store_redis::Error> {
//! let store = RedisEventStore::connect("redis://127.0.0.1:6379/").await?.prefix("my-app");
//! let config = Config::default().event_store(Arc::new(store));
//! # let _ = config;
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! Every key starts with the store's [`prefix`](RedisEventStore::prefix) (`mcpwire` by
//! default). A session's keys share the hash tag `{<prefix>:s:<session id>}`, and the global
//! accounting has `{<prefix>:g}`, so the store works on Redis Cluster: each operation is one
//! Lua script on one session's slot, followed by one on the global slot. Keys of a session
//! that no instance ended (its instance died) expire after
//! [`session_ttl`](RedisEventStore::session_ttl).
//!
//! # Failures
//!
//! [`RedisEventStore::connect`] fails when Redis cannot be reached. While serving, an
//! operation that fails (Redis gone) is the service's [`Error::is_store`]: the event is still
//! sent on the live connection, but cannot be replayed, and a resume is refused. The
//! connection comes back by itself when Redis does.
//!
//! [`Error::is_store`]: mcpwire_http::server::Error::is_store

mod events;
mod sessions;
mod tasks;

use std::sync::Arc;

pub use events::{Error, RedisEventStore};
pub use sessions::{RedisBus, RedisSessionStore};
pub use tasks::RedisTasks;

/// Everything an instance of a deployment keeps in one Redis: the SSE event store, the
/// session records and the bus, on one connection (and one more for the bus's subscription).
#[derive(Clone, Debug)]
pub struct RedisDeployment {
    /// The SSE event store of resumption.
    pub events: RedisEventStore,
    /// The records of the Streamable HTTP sessions.
    pub sessions: RedisSessionStore,
    /// The channel between the instances.
    pub bus: RedisBus,
    /// The records of the tasks of the extension, and the instances' leases.
    pub tasks: RedisTasks,
}

impl RedisDeployment {
    /// Connects to the Redis at `url`, with every key under `prefix` and the stores' default
    /// bounds.
    ///
    /// # Errors
    ///
    /// When the URL is not one, or Redis cannot be reached ([`Error::is_unreachable`]).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url)?;
        let connection =
            redis::aio::ConnectionManager::new_with_config(client, sessions::connection_config())
                .await?;
        Ok(RedisDeployment {
            events: RedisEventStore::with_connection(connection.clone()).prefix(prefix),
            sessions: RedisSessionStore::with_connection(connection.clone()).prefix(prefix),
            tasks: RedisTasks::with_connection(connection).prefix(prefix),
            bus: RedisBus::connect(url, prefix).await?,
        })
    }

    /// `config` with this deployment's event store and shared sessions
    /// ([`Config::shared_sessions`](mcpwire_http::server::Config::shared_sessions)).
    pub fn configure(&self, config: mcpwire_http::server::Config) -> mcpwire_http::server::Config {
        config
            .event_store(Arc::new(self.events.clone()))
            .shared_sessions(Arc::new(self.sessions.clone()), Arc::new(self.bus.clone()))
    }
}
