//! [`RedisTasks`]: the records of the shared tasks (of the extension, and of 2025-11-25
//! sessions), the leases of the instances that run them, and the index of each session's or
//! principal's tasks, on Redis.

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
/// is a key at `{<prefix>:i:<instance>}` that expires unless renewed. The tasks of a
/// 2025-11-25 session or principal are a sorted set at `{<prefix>:o:<owner digest>}` (scored
/// by the time each was made, in milliseconds since the epoch) that lives as long as its
/// longest-lived task; an expired task leaves it when it is next listed. Keeping a set's
/// time to live needs Redis 7.0 or later (`PEXPIRE` with `NX` and `GT`).
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

    fn owner_key(&self, owner: &[u8; 32]) -> String {
        format!("{{{}:o:{}}}", self.prefix, hex(owner))
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
            let fields: Fields = hmget_record(&self.task_key(task_id))
                .query_async(&mut connection)
                .await
                .map_err(boxed)?;
            record_of(task_id, fields)
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

    fn index<'a>(
        &'a self,
        owner: &'a [u8; 32],
        task_id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), SharedTasksError>> {
        Box::pin(async move {
            let key = self.owner_key(owner);
            let ttl = milliseconds(ttl);
            let mut pipe = redis::pipe();
            pipe.atomic()
                .zadd(&key, task_id, epoch_milliseconds())
                .ignore();
            // A new set gets the task's time to live; an older one keeps the longer of both.
            for option in ["NX", "GT"] {
                pipe.cmd("PEXPIRE").arg(&key).arg(ttl).arg(option).ignore();
            }
            let mut connection = self.connection.clone();
            pipe.query_async::<()>(&mut connection).await.map_err(boxed)
        })
    }

    fn owned<'a>(
        &'a self,
        owner: &'a [u8; 32],
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<TaskRecord>, SharedTasksError>> {
        Box::pin(async move {
            let key = self.owner_key(owner);
            let mut connection = self.connection.clone();
            let last = isize::try_from(limit)
                .unwrap_or(isize::MAX)
                .saturating_sub(1);
            if last < 0 {
                return Ok(Vec::new());
            }
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(last)
                .query_async(&mut connection)
                .await
                .map_err(boxed)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            // One round trip for every record.
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.add_command(hmget_record(&self.task_key(id)));
            }
            let fields: Vec<Fields> = pipe.query_async(&mut connection).await.map_err(boxed)?;
            let mut records = Vec::with_capacity(ids.len());
            let mut expired = Vec::new();
            for (id, fields) in ids.into_iter().zip(fields) {
                match record_of(&id, fields)? {
                    Some(record) if record.owner.as_ref() == Some(owner) => records.push(record),
                    _ => expired.push(id),
                }
            }
            if !expired.is_empty() {
                redis::cmd("ZREM")
                    .arg(&key)
                    .arg(&expired)
                    .query_async::<()>(&mut connection)
                    .await
                    .map_err(boxed)?;
            }
            Ok(records)
        })
    }
}

/// The fields of a record, as `HMGET` reads them: `owner`, `instance` and `task`.
type Fields = (Option<String>, Option<String>, Option<String>);

/// The `HMGET` that reads the record at `key`.
fn hmget_record(key: &str) -> redis::Cmd {
    let mut command = redis::cmd("HMGET");
    command.arg(key).arg("owner").arg("instance").arg("task");
    command
}

/// The record of task `task_id` from its fields; `None` when it has none (expired).
fn record_of(task_id: &str, fields: Fields) -> Result<Option<TaskRecord>, SharedTasksError> {
    let (owner, instance, task) = fields;
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
}

/// The milliseconds since the Unix epoch, now.
fn epoch_milliseconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
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
