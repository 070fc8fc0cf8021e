//! The tasks of the extension that the instances of a deployment share: each task's record,
//! kept where every instance reads it, and the lease that tells whether the instance running
//! a task is still alive.
//!
//! A task runs on the instance that made it; its record (the task as `tasks/get` shows it) is
//! saved at each change. Another instance answers `tasks/get` from the record; when the record
//! says the task still runs but its instance's lease has lapsed, the instance died with it,
//! and the task is recorded `failed`: a requestor never polls a task that nobody runs.
//!
//! The tasks of 2025-11-25 sessions are shared the same way ([`TaskRecord::of_session_task`]):
//! their record holds the task as `tasks/get` shows it and, once it ended, the outcome
//! `tasks/result` answers; each session's (or principal's) tasks are indexed under its owner
//! ([`SharedTasks::index`]), for `tasks/list` on any instance.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_schema::JsonObject;
use mcpwire_schema::v2025_11_25 as session;
use serde_json::Value;

use crate::owner::Owner;
use crate::registry::{Outcome, TaskEntry};
use crate::task::{StoredTask, now};

/// A boxed future, as [`SharedTasks`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A failure of the shared store: it could not be reached, or answered with an error.
pub type SharedTasksError = Box<dyn std::error::Error + Send + Sync>;

/// Where the instances of a deployment keep their tasks' records and their own leases.
pub trait SharedTasks: Send + Sync + 'static {
    /// Keeps `record`, replacing the task's earlier one, for `ttl` (the task's time to live).
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn save<'a>(
        &'a self,
        record: &'a TaskRecord,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), SharedTasksError>>;

    /// The record of task `task_id`, or `None` when there is none (never made, or expired).
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn load<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, SharedTasksError>>;

    /// Marks `instance` alive for `lease` from now.
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn renew_lease(
        &self,
        instance: u64,
        lease: Duration,
    ) -> BoxFuture<'_, Result<(), SharedTasksError>>;

    /// Whether `instance` renewed its lease within the lease's time.
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn holds_lease(&self, instance: u64) -> BoxFuture<'_, Result<bool, SharedTasksError>>;

    /// Adds task `task_id`, just made, to the tasks of `owner` that [`SharedTasks::owned`]
    /// lists, in the order they were made, for at least `ttl`.
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn index<'a>(
        &'a self,
        owner: &'a [u8; 32],
        task_id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), SharedTasksError>>;

    /// The records of the first `limit` tasks of `owner` that [`SharedTasks::index`] added
    /// and that have not expired, oldest first.
    ///
    /// # Errors
    ///
    /// When the store cannot be reached.
    fn owned<'a>(
        &'a self,
        owner: &'a [u8; 32],
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<TaskRecord>, SharedTasksError>>;
}

/// One task's record in a [`SharedTasks`] store.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    /// The task's id.
    pub id: String,
    /// The digest of the principal that owns the task, `None` for an anonymous task.
    pub owner: Option<[u8; 32]>,
    /// The instance that runs the task.
    pub instance: u64,
    /// The task as `tasks/get` shows it (a `DetailedTask`).
    pub task: JsonObject,
}

/// The message of a task whose instance went away while it ran.
const LOST: &str = "the server instance running the task stopped";

impl TaskRecord {
    /// The record of `task`, run by `instance`, as it is now.
    pub fn of(task: &StoredTask, instance: u64) -> TaskRecord {
        TaskRecord {
            id: task.id().to_owned(),
            owner: task.owner().digest(),
            instance,
            task: task.detailed(),
        }
    }

    /// The record of `entry`, a task (2025-11-25) of the session or principal whose digest is
    /// `owner`, run by `instance`, as it is now: the task as `tasks/get` shows it with, once it
    /// ended, its outcome under `result` or `error`.
    pub fn of_session_task(entry: &TaskEntry, owner: [u8; 32], instance: u64) -> TaskRecord {
        let (task, outcome) = entry.snapshot_with_outcome();
        let mut object = match serde_json::to_value(&task) {
            Ok(Value::Object(object)) => object,
            _ => JsonObject::new(),
        };
        match outcome {
            Some(Ok(result)) => {
                if let Ok(result) = serde_json::from_str::<Value>(result.get()) {
                    object.insert("result".to_owned(), result);
                }
            }
            Some(Err(error)) => {
                if let Ok(error) = serde_json::to_value(error) {
                    object.insert("error".to_owned(), error);
                }
            }
            None => {}
        }
        TaskRecord {
            id: task.task_id,
            owner: Some(owner),
            instance,
            task: object,
        }
    }

    /// The task (2025-11-25) as `tasks/get` shows it, from a record made by
    /// [`TaskRecord::of_session_task`].
    ///
    /// # Errors
    ///
    /// -32603 when the record does not hold one.
    pub fn session_task(&self) -> Result<session::Task, ErrorObject> {
        let mut task = self.task.clone();
        task.remove("result");
        task.remove("error");
        serde_json::from_value(Value::Object(task)).map_err(|error| {
            ErrorObject::internal_error(format!("a shared task's record is unreadable: {error}"))
        })
    }

    /// What `tasks/result` answers for an ended task (2025-11-25): its result, or the error it
    /// failed with (a cancelled task's is an error too); `None` while it runs.
    pub fn session_outcome(&self) -> Option<Outcome> {
        if !self.is_terminal() {
            return None;
        }
        if let Some(result) = self.task.get("result") {
            return Some(serde_json::value::to_raw_value(result).map_err(|error| {
                ErrorObject::internal_error(format!(
                    "a shared task's result is unreadable: {error}"
                ))
            }));
        }
        let error = self
            .task
            .get("error")
            .and_then(|error| serde_json::from_value::<ErrorObject>(error.clone()).ok())
            .unwrap_or_else(|| {
                ErrorObject::internal_error("the task was cancelled before it finished")
            });
        Some(Err(error))
    }

    /// Whether the record is one `owner` may see.
    pub fn belongs_to(&self, owner: Owner) -> bool {
        self.owner == owner.digest()
    }

    /// Whether the task has ended (`completed`, `failed` or `cancelled`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.task.get("status").and_then(Value::as_str),
            Some("completed" | "failed" | "cancelled")
        )
    }

    /// Ends a task that still runs as `failed`, because the instance running it went away;
    /// a terminal task stays as it is.
    pub fn fail_lost(&mut self) {
        let error = ErrorObject::internal_error(LOST);
        self.end("failed", LOST, Some(error));
    }

    /// Ends a task that still runs as `cancelled`, as its instance will once it hears of the
    /// cancellation; a terminal task stays as it is.
    pub fn cancel(&mut self) {
        self.end("cancelled", "cancelled by the requestor", None);
    }

    fn end(&mut self, status: &str, message: &str, error: Option<ErrorObject>) {
        if self.is_terminal() {
            return;
        }
        let task = &mut self.task;
        task.insert("status".to_owned(), Value::from(status));
        task.insert("statusMessage".to_owned(), Value::from(message));
        task.insert("lastUpdatedAt".to_owned(), Value::from(now()));
        task.remove("inputRequests");
        task.remove("result");
        match error.and_then(|error| serde_json::to_value(error).ok()) {
            Some(error) => task.insert("error".to_owned(), error),
            None => task.remove("error"),
        };
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_schema::ext_tasks as ext;

    use super::*;
    use crate::store::TaskStore;

    #[test]
    fn a_lost_task_reads_as_failed_and_a_cancelled_one_as_cancelled() {
        let store = TaskStore::default();
        let owner = Owner::new(Some([3; 32]));
        let task = store.create(owner, None).expect("created");
        let record = TaskRecord::of(&task, 7);
        assert!(record.belongs_to(owner));
        assert!(!record.belongs_to(Owner::ANONYMOUS));
        assert!(!record.is_terminal());

        let mut lost = record.clone();
        lost.fail_lost();
        assert!(lost.is_terminal());
        let decoded: ext::DetailedTask =
            serde_json::from_value(Value::Object(lost.task.clone())).expect("a DetailedTask");
        assert!(
            matches!(decoded, ext::DetailedTask::FailedTask(_)),
            "{decoded:?}"
        );

        let mut cancelled = record;
        cancelled.cancel();
        assert_eq!(cancelled.task["status"], "cancelled");
        // Terminal records stay as they are.
        let before = cancelled.clone();
        cancelled.fail_lost();
        assert_eq!(cancelled, before);
    }

    #[test]
    fn a_session_task_record_holds_its_task_then_its_outcome() {
        let registry = crate::TaskRegistry::default();
        let entry = registry.create(Some(60_000)).expect("created");
        let record = TaskRecord::of_session_task(&entry, [5; 32], 9);
        assert_eq!(record.owner, Some([5; 32]));
        assert_eq!(record.session_task().expect("a task"), entry.snapshot());
        assert!(record.session_outcome().is_none(), "it still runs");

        let result =
            serde_json::value::to_raw_value(&serde_json::json!({"content": []})).expect("encoded");
        entry.finish(Ok(result), false);
        let done = TaskRecord::of_session_task(&entry, [5; 32], 9);
        assert_eq!(done.session_task().expect("a task"), entry.snapshot());
        let outcome = done.session_outcome().expect("ended").expect("a result");
        assert_eq!(outcome.get(), r#"{"content":[]}"#);

        // A task whose instance died fails with the error `tasks/result` then answers.
        let mut lost = record.clone();
        lost.fail_lost();
        let error = lost.session_outcome().expect("ended").expect_err("failed");
        assert_eq!(error.message, LOST);
        assert_eq!(
            lost.session_task().expect("a task").status,
            session::TaskStatus::Failed
        );
        let mut cancelled = record;
        cancelled.cancel();
        let error = cancelled
            .session_outcome()
            .expect("ended")
            .expect_err("cancelled");
        assert!(error.message.contains("cancelled"), "{}", error.message);
    }
}
