//! Redis stores for mcpwire, so that several instances of an MCP server serve one deployment
//! behind an ordinary load balancer, without sticky sessions.
//!
//! - [`RedisEventStore`]: the events of each SSE stream
//!   ([`mcpwire_http::server::EventStore`]), with the bounds and the retention of the
//!   in-memory [`MemoryEventStore`](mcpwire_http::server::MemoryEventStore), so that a client
//!   resumes a stream on any instance;
//! - [`RedisSessionStore`]: the records of Streamable HTTP sessions
//!   ([`mcpwire_http::server::SessionStore`]), so that any instance serves any session;
//! - [`RedisBus`]: the channel between instances ([`mcpwire_http::server::MessageBus`]), which
//!   carries a client's answers and cancellations to the instance they are for, messages for
//!   standalone streams, changes of sessions, and the server's announcements;
//! - [`RedisTasks`]: the records of the tasks of the extension and the instances' leases
//!   ([`mcpwire_ext_tasks::SharedTasks`]);
//! - [`RedisDeployment`]: all four on one Redis, and a [`Config`](mcpwire_http::server::Config)
//!   that uses them.
//!
//! ```no_run
//! use mcpwire_http::server::Config;
//! use mcpwire_store_redis::RedisDeployment;
//!
//! # async fn run() -> Result<(), mcpwire_store_redis::Error> {
//! let shared = RedisDeployment::connect("redis://127.0.0.1:6379/", "my-app").await?;
//! let config = shared.configure(Config::default());
//! # let _ = config;
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! Every key starts with the deployment's prefix (`mcpwire` by default). A session's keys
//! (its record and its events) share the hash tag `{<prefix>:s:<session id>}`, a task's record
//! has `{<prefix>:t:<task id>}`, an instance's lease `{<prefix>:i:<instance>}`, and the event
//! store's global accounting `{<prefix>:g}`, so the stores work on Redis Cluster. The bus is
//! the pub/sub channel `<prefix>:bus`.
//!
//! # Failures
//!
//! Connecting fails when Redis cannot be reached. While serving, an operation that fails
//! (Redis gone) is the service's [`Error::is_store`]: a request that needs Redis is refused
//! (`503`, or `-32603` naming the store), an event is still sent on the live connection but
//! cannot be replayed. The connections come back by themselves when Redis does.
//!
//! [`Error::is_store`]: mcpwire_http::server::Error::is_store

mod connection;
mod error;
mod events;
mod sessions;
mod tasks;

use std::sync::Arc;

pub use error::Error;
pub use events::RedisEventStore;
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
        let connection = connection::connect(url).await?;
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
