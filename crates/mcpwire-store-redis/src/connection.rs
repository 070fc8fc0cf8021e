//! How every connection of this crate to Redis is made.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::Error;

/// The settings every connection of this crate is made with: a bounded wait for Redis, a few
/// quick retries, and reconnection when Redis comes back.
pub(crate) fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500))
}

/// Connects to the Redis at `url` (`redis://host:port/db`, `redis+unix:///path`) with
/// [`connection_config`].
///
/// # Errors
///
/// When the URL is not one, or Redis cannot be reached ([`Error::is_unreachable`]).
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, Error> {
    let client = redis::Client::open(url)?;
    Ok(ConnectionManager::new_with_config(client, connection_config()).await?)
}
