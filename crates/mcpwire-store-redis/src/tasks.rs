//! [`RedisTasks`]: the records of the tasks of the extension, and the leases of the instances
//! that run them, on Redis.

use std::fmt;
use std::time::Duration;

use mcpwire_ext_tasks::{BoxFuture, SharedTasks, SharedTasksError, TaskRecord};
use redis::aio::ConnectionManager;

use crate::error::Error;

/// The tasks of the `io.modelcontextprotocol/tasks` extension that the instances of a
/// deployment share ([`SharedTasks`], for `ServerBuilder::shared_tasks` of mcpwire-server).
///
/// Each record is a hash at `{<prefix>:t:<task id>}` with the fields `owner` (the hex digest
/// of the principal, absent for an anonymous task), `instance` and `task` (the task as
/// `tasks/get` shows it, JSON), expiring with the task's time to live. Each instance's lease
/// is a key at `{<prefix>:i:<instance>}` that expires unless renewed.
#[derive(Clone)]
pub struct RedisTasks {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisTasks {
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
        RedisTasks {
            connection,
            prefix: "mcpwire".to_owned(),
        }
    }

    /// Sets the prefix of every key (`mcpwire` by default), as
    /// [`RedisEventStore::prefix`](crate::RedisEventStore::prefix) does.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn task_key(&self, id: &str) -> String {
        format!("{{{}:t:{id}}}", self.prefix)
    }

    fn lease_key(&self, instance: u64) -> String {
        format!("{{{}:i:{instance:016x}}}", self.prefix)
    }
}

fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (index, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(digest)
}

/// A time to live in whole milliseconds, at least one.
fn milliseconds(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn boxed(error: redis::RedisError) -> SharedTasksError {
    Box::new(Error::from(error))
}

impl SharedTasks for RedisTasks {
    fn save<'a>(
        &'a self,
        record: &'a TaskRecord,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), SharedTasksError>> {
        Box::pin(async move {
            let task = serde_json::to_string(&record.task)?;
            let key = self.task_key(&record.id);
            let mut pipe = redis::pipe();
            pipe.atomic()
                .del(&key)
                .ignore()
                .hset(&key, "instance", record.instance.to_string())
                .ignore()
                .hset(&key, "task", task)
                .ignore();
            if let Some(owner) = &record.owner {
                pipe.hset(&key, "owner", hex(owner)).ignore();
            }
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(milliseconds(ttl))
                .ignore();
            let mut connection = self.connection.clone();
            pipe.query_async::<()>(&mut connection).await.map_err(boxed)
        })
    }

    fn load<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, SharedTasksError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (owner, instance, task): (Option<String>, Option<String>, Option<String>) =
                redis::cmd("HMGET")
                    .arg(self.task_key(task_id))
                    .arg("owner")
                    .arg("instance")
                    .arg("task")
                    .query_async(&mut connection)
                    .await
                    .map_err(boxed)?;
            let (Some(instance), Some(task)) = (instance, task) else {
                return Ok(None);
            };
            let owner = match owner {
                Some(owner) => Some(unhex(&owner).ok_or("a task record names a malformed owner")?),
                None => None,
            };
            Ok(Some(TaskRecord {
                id: task_id.to_owned(),
                owner,
                instance: instance.parse()?,
                task: serde_json::from_str(&task)?,
            }))
        })
    }

    fn renew_lease(
        &self,
        instance: u64,
        lease: Duration,
    ) -> BoxFuture<'_, Result<(), SharedTasksError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("SET")
                .arg(self.lease_key(instance))
                .arg(1)
                .arg("PX")
                .arg(milliseconds(lease))
                .query_async::<()>(&mut connection)
                .await
                .map_err(boxed)
        })
    }

    fn holds_lease(&self, instance: u64) -> BoxFuture<'_, Result<bool, SharedTasksError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("EXISTS")
                .arg(self.lease_key(instance))
                .query_async::<bool>(&mut connection)
                .await
                .map_err(boxed)
        })
    }
}

impl fmt::Debug for RedisTasks {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisTasks")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_through_hex() {
        let digest = [0xa5; 32];
        assert_eq!(unhex(&hex(&digest)), Some(digest));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
