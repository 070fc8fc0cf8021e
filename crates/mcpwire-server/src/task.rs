//! Tasks of revision 2025-11-25: a `tools/call` that carries a `task` param runs in the
//! background, and the client polls it (`tasks/get`), waits for its result (`tasks/result`),
//! lists (`tasks/list`) and cancels (`tasks/cancel`) it.
//!
//! Tasks belong to the session that created them: another session cannot see or touch them,
//! and they are cancelled when their session ends. Task ids come from the operating system's
//! random number generator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use mcpwire_schema::v2025_11_25 as wire;
use serde_json::value::RawValue;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Live tasks one session may hold at once.
pub(crate) const MAX_TASKS: usize = 128;

/// The longest a task is kept, whatever the client asks; also the time-to-live of a task whose
/// client asked for none.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(60 * 60);

/// How often a client should poll, in milliseconds.
const POLL_INTERVAL_MS: i64 = 500;

/// The `_meta` key that ties a message to a task.
pub(crate) const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// What a finished task answers to `tasks/result`: the underlying request's result or error.
pub(crate) type Outcome = Result<Box<RawValue>, ErrorObject>;

/// One task.
#[derive(Debug)]
pub(crate) struct TaskEntry {
    state: Mutex<TaskState>,
    pub(crate) cancellation: CancellationToken,
    finished: watch::Sender<bool>,
    expires_at: Instant,
}

#[derive(Debug)]
struct TaskState {
    task: wire::Task,
    outcome: Option<Outcome>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a field update: a poisoned lock is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn is_terminal(status: &wire::TaskStatus) -> bool {
    matches!(
        status,
        wire::TaskStatus::Completed | wire::TaskStatus::Failed | wire::TaskStatus::Cancelled
    )
}

impl TaskEntry {
    pub(crate) fn id(&self) -> String {
        lock(&self.state).task.task_id.clone()
    }

    /// A snapshot of the task as `tasks/get` shows it.
    pub(crate) fn snapshot(&self) -> wire::Task {
        lock(&self.state).task.clone()
    }

    /// Moves a task that is not terminal to `status`; returns the new snapshot when it changed.
    pub(crate) fn set_status(
        &self,
        status: wire::TaskStatus,
        message: Option<String>,
    ) -> Option<wire::Task> {
        let mut state = lock(&self.state);
        if is_terminal(&state.task.status) || state.task.status == status {
            return None;
        }
        state.task.status = status;
        state.task.status_message = message;
        state.task.last_updated_at = now();
        Some(state.task.clone())
    }

    /// Records the outcome of the underlying request; a cancelled task stays cancelled.
    ///
    /// Waiters on [`TaskEntry::outcome`] are released by [`TaskEntry::release`], so that the
    /// caller can announce the new status first.
    pub(crate) fn finish(&self, outcome: Outcome, failed: bool) -> Option<wire::Task> {
        let mut state = lock(&self.state);
        if is_terminal(&state.task.status) {
            return None;
        }
        state.task.status = if failed {
            wire::TaskStatus::Failed
        } else {
            wire::TaskStatus::Completed
        };
        state.task.last_updated_at = now();
        state.outcome = Some(outcome);
        Some(state.task.clone())
    }

    /// Releases the waiters of a finished task.
    pub(crate) fn release(&self) {
        self.finished.send_replace(true);
    }

    /// Cancels a task that is not terminal, returning its snapshot, or `None` when it was
    /// terminal already.
    pub(crate) fn cancel(&self) -> Option<wire::Task> {
        let cancelled = {
            let mut state = lock(&self.state);
            if is_terminal(&state.task.status) {
                return None;
            }
            state.task.status = wire::TaskStatus::Cancelled;
            state.task.status_message = Some("cancelled by the client".to_owned());
            state.task.last_updated_at = now();
            state.outcome = Some(Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the task was cancelled before it finished",
            )));
            state.task.clone()
        };
        self.cancellation.cancel();
        self.finished.send_replace(true);
        Some(cancelled)
    }

    /// Waits until the task is terminal and returns its outcome.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub(crate) async fn outcome(&self) -> Outcome {
        let mut finished = self.finished.subscribe();
        // The sender lives as long as the entry, so waiting cannot fail.
        let _ = finished.wait_for(|finished| *finished).await;
        lock(&self.state).outcome.clone().unwrap_or_else(|| {
            Err(ErrorObject::internal_error(
                "the task ended without an outcome",
            ))
        })
    }
}

/// The tasks of one session, ordered by creation.
#[derive(Debug, Default)]
pub(crate) struct TaskRegistry {
    tasks: Mutex<BTreeMap<u64, Arc<TaskEntry>>>,
    sequence: Mutex<u64>,
}

impl TaskRegistry {
    /// Creates a task in `working` for a request that asked for `ttl` milliseconds.
    pub(crate) fn create(&self, requested_ttl: Option<i64>) -> Result<Arc<TaskEntry>, ErrorObject> {
        self.purge_expired();
        let ttl = requested_ttl
            .and_then(|ttl| u64::try_from(ttl).ok())
            .map_or(MAX_TTL, |ttl| Duration::from_millis(ttl).min(MAX_TTL));
        let mut bytes = [0_u8; 16];
        getrandom::fill(&mut bytes).map_err(|error| {
            ErrorObject::internal_error(format!("no randomness for a task id: {error}"))
        })?;
        let task_id: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let created = now();
        let (finished, _) = watch::channel(false);
        let entry = Arc::new(TaskEntry {
            state: Mutex::new(TaskState {
                task: wire::Task {
                    created_at: created.clone(),
                    last_updated_at: created,
                    poll_interval: Some(POLL_INTERVAL_MS),
                    status: wire::TaskStatus::Working,
                    status_message: None,
                    task_id,
                    ttl: i64::try_from(ttl.as_millis()).ok(),
                },
                outcome: None,
            }),
            cancellation: CancellationToken::new(),
            finished,
            expires_at: Instant::now() + ttl,
        });
        let mut tasks = lock(&self.tasks);
        if tasks.len() >= MAX_TASKS {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!("a session may hold at most {MAX_TASKS} tasks; wait for some to expire"),
            ));
        }
        let mut sequence = lock(&self.sequence);
        *sequence += 1;
        tasks.insert(*sequence, Arc::clone(&entry));
        Ok(entry)
    }

    /// The task `task_id`, or the -32602 error for an unknown or expired one.
    pub(crate) fn get(&self, task_id: &str) -> Result<Arc<TaskEntry>, ErrorObject> {
        self.purge_expired();
        lock(&self.tasks)
            .values()
            .find(|entry| lock(&entry.state).task.task_id == task_id)
            .cloned()
            .ok_or_else(|| {
                ErrorObject::invalid_params(format!("no task `{task_id}` (unknown or expired)"))
            })
    }

    /// Every live task, oldest first.
    pub(crate) fn list(&self) -> Vec<wire::Task> {
        self.purge_expired();
        lock(&self.tasks)
            .values()
            .map(|entry| entry.snapshot())
            .collect()
    }

    /// Cancels every task, when the session ends.
    pub(crate) fn cancel_all(&self) {
        for entry in lock(&self.tasks).values() {
            entry.cancel();
        }
    }

    fn purge_expired(&self) {
        let now = Instant::now();
        lock(&self.tasks).retain(|_, entry| {
            let keep = entry.expires_at > now;
            if !keep {
                entry.cancellation.cancel();
            }
            keep
        });
    }
}

/// Adds the related-task `_meta` to a JSON object (a result or params).
pub(crate) fn with_related_task(object: &mut mcpwire_schema::JsonObject, task_id: &str) {
    let meta = object
        .entry("_meta")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if let serde_json::Value::Object(meta) = meta {
        meta.insert(
            RELATED_TASK.to_owned(),
            serde_json::json!({ "taskId": task_id }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("json")
    }

    #[tokio::test]
    async fn a_task_moves_to_a_terminal_status_once() {
        let registry = TaskRegistry::default();
        let task = registry.create(Some(60_000)).expect("created");
        assert_eq!(task.snapshot().status, wire::TaskStatus::Working);
        assert_eq!(task.snapshot().ttl, Some(60_000));
        assert_eq!(task.id().len(), 32);
        assert!(
            task.set_status(wire::TaskStatus::InputRequired, None)
                .is_some()
        );
        assert!(task.finish(Ok(raw("{}")), false).is_some());
        task.release();
        assert_eq!(task.snapshot().status, wire::TaskStatus::Completed);
        // Terminal: nothing moves it any more.
        assert!(task.cancel().is_none());
        assert!(task.set_status(wire::TaskStatus::Working, None).is_none());
        assert_eq!(task.outcome().await.expect("result").get(), "{}");
    }

    #[tokio::test]
    async fn a_cancelled_task_stays_cancelled() {
        let registry = TaskRegistry::default();
        let task = registry.create(None).expect("created");
        assert_eq!(task.snapshot().ttl, i64::try_from(MAX_TTL.as_millis()).ok());
        assert_eq!(
            task.cancel().expect("cancelled").status,
            wire::TaskStatus::Cancelled
        );
        assert!(task.cancellation.is_cancelled());
        assert!(task.finish(Ok(raw("{}")), false).is_none());
        assert_eq!(task.snapshot().status, wire::TaskStatus::Cancelled);
        assert!(task.outcome().await.is_err());
    }

    #[test]
    fn tasks_are_found_listed_and_bounded() {
        let registry = TaskRegistry::default();
        let first = registry.create(None).expect("created");
        let second = registry.create(None).expect("created");
        assert_ne!(first.id(), second.id());
        assert_eq!(registry.get(&second.id()).expect("found").id(), second.id());
        assert_eq!(
            registry.get("nope").expect_err("unknown").code,
            ErrorCode::INVALID_PARAMS
        );
        let listed: Vec<String> = registry
            .list()
            .into_iter()
            .map(|task| task.task_id)
            .collect();
        assert_eq!(listed, [first.id(), second.id()]);
        for _ in 2..MAX_TASKS {
            registry.create(None).expect("room");
        }
        assert!(registry.create(None).is_err(), "the bound holds");
    }

    #[test]
    fn expired_tasks_disappear() {
        let registry = TaskRegistry::default();
        let task = registry.create(Some(0)).expect("created");
        assert!(registry.get(&task.id()).is_err());
        assert!(
            task.cancellation.is_cancelled(),
            "an expired task's work is stopped"
        );
    }
}
