//! The tasks of one session and the `tasks/*` methods that reach them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, decode_params};
use mcpwire_rpc::{CancellationToken, Peer};
use mcpwire_schema::JsonObject;
use mcpwire_schema::v2025_11_25 as wire;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::task::{new_task_id, now};

/// The `_meta` key that ties a message to a task.
pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// What a finished task answers to `tasks/result`: the underlying request's result or error.
pub type Outcome = Result<Box<RawValue>, ErrorObject>;

/// Prefix of the cursors of `tasks/list`, so that a foreign cursor is recognised.
const CURSOR_PREFIX: &str = "task:";

/// The bounds of tasks: those of one session (2025-11-25, [`TaskRegistry`]) and those of the
/// extension (2026-07-28, [`TaskStore`](crate::TaskStore)).
#[derive(Clone, Debug)]
pub struct TaskLimits {
    /// Tasks one session, or one owner of the extension's tasks, may hold at once (terminal
    /// ones count until they expire); a request for one more is refused with -32600.
    /// Default 128.
    pub max_tasks: usize,
    /// Tasks of the extension a server holds at once, every owner together; beyond, a new
    /// one is refused with -32600. Default 10 000.
    pub max_stored_tasks: usize,
    /// The longest a task is kept, whatever the requestor asks; also the time-to-live of a
    /// task whose requestor asked for none, as every task of the extension. Default one hour.
    pub max_ttl: Duration,
    /// How often the requestor should poll, announced in each task. Default 500 ms.
    pub poll_interval: Duration,
    /// Tasks per page of `tasks/list`. Default 50.
    pub page_size: usize,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits {
            max_tasks: 128,
            max_stored_tasks: 10_000,
            max_ttl: Duration::from_secs(60 * 60),
            poll_interval: Duration::from_millis(500),
            page_size: 50,
        }
    }
}

/// One task: its status as `tasks/get` shows it, its outcome once finished, and the token
/// that stops its work.
#[derive(Debug)]
pub struct TaskEntry {
    state: Mutex<TaskState>,
    cancellation: CancellationToken,
    finished: watch::Sender<bool>,
    /// Counts the task's changes, for those who follow it ([`TaskEntry::watch`]).
    changes: watch::Sender<u64>,
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

fn is_terminal(status: &wire::TaskStatus) -> bool {
    matches!(
        status,
        wire::TaskStatus::Completed | wire::TaskStatus::Failed | wire::TaskStatus::Cancelled
    )
}

impl TaskEntry {
    /// The task's id.
    pub fn id(&self) -> String {
        lock(&self.state).task.task_id.clone()
    }

    /// Fires when the task is cancelled (`tasks/cancel`), expires, or its session ends.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// A snapshot of the task as `tasks/get` shows it.
    pub fn snapshot(&self) -> wire::Task {
        lock(&self.state).task.clone()
    }

    /// A snapshot of the task and, once it is terminal, its outcome (a cancelled task's is
    /// the error `tasks/result` answers for it).
    pub fn snapshot_with_outcome(&self) -> (wire::Task, Option<Outcome>) {
        let state = lock(&self.state);
        (state.task.clone(), state.outcome.clone())
    }

    /// Whether the task has ended (`completed`, `failed` or `cancelled`).
    pub fn is_terminal(&self) -> bool {
        is_terminal(&lock(&self.state).task.status)
    }

    /// How long the task is still kept.
    pub fn time_left(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }

    /// A receiver that sees each change of the task's status; it errs once the task is
    /// dropped.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Moves a task that is not terminal to `status`; returns the new snapshot when it
    /// changed.
    pub fn set_status(
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
        let snapshot = state.task.clone();
        drop(state);
        self.changed();
        Some(snapshot)
    }

    /// Records the outcome of the underlying request; a cancelled task stays cancelled.
    ///
    /// Waiters on [`TaskEntry::outcome`] are released by [`TaskEntry::release`], so that the
    /// caller can announce the new status first.
    pub fn finish(&self, outcome: Outcome, failed: bool) -> Option<wire::Task> {
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
        let snapshot = state.task.clone();
        drop(state);
        self.changed();
        Some(snapshot)
    }

    /// Releases the waiters of a finished task.
    pub fn release(&self) {
        self.finished.send_replace(true);
    }

    /// Cancels a task that is not terminal, returning its snapshot, or `None` when it was
    /// terminal already.
    pub fn cancel(&self) -> Option<wire::Task> {
        let cancelled = {
            let mut state = lock(&self.state);
            if is_terminal(&state.task.status) {
                return None;
            }
            state.task.status = wire::TaskStatus::Cancelled;
            state.task.status_message = Some("cancelled by the requestor".to_owned());
            state.task.last_updated_at = now();
            state.outcome = Some(Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the task was cancelled before it finished",
            )));
            state.task.clone()
        };
        self.cancellation.cancel();
        self.finished.send_replace(true);
        self.changed();
        Some(cancelled)
    }

    /// Waits until the task is terminal and returns its outcome.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn outcome(&self) -> Outcome {
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

/// The tasks of one session, or of one principal, in the order they were created.
///
/// Tasks belong to whoever created them: the principal of the session, when an authorization
/// layer named one ([`PrincipalTasks`](crate::PrincipalTasks) keeps one registry per
/// principal, shared by its sessions, so that its tasks outlive the session that created
/// them), else the session alone (keep one registry per session, and call
/// [`TaskRegistry::cancel_all`] when it ends). Either way, nobody else can see or touch them.
/// Task ids are 128 random bits from the operating system.
#[derive(Debug, Default)]
pub struct TaskRegistry {
    limits: TaskLimits,
    tasks: Mutex<Tasks>,
}

#[derive(Debug, Default)]
struct Tasks {
    by_sequence: BTreeMap<u64, Arc<TaskEntry>>,
    sequence: u64,
}

impl TaskRegistry {
    /// A registry with these bounds.
    pub fn new(limits: TaskLimits) -> Self {
        TaskRegistry {
            limits,
            tasks: Mutex::default(),
        }
    }

    /// Creates a task in `working` for a request that asked to be kept `requested_ttl`
    /// milliseconds.
    ///
    /// # Errors
    ///
    /// -32600 when the session holds [`TaskLimits::max_tasks`] live tasks already; -32603 when
    /// the operating system has no randomness for an id.
    pub fn create(&self, requested_ttl: Option<i64>) -> Result<Arc<TaskEntry>, ErrorObject> {
        self.purge_expired();
        let max_ttl = self.limits.max_ttl;
        let ttl = requested_ttl
            .and_then(|ttl| u64::try_from(ttl).ok())
            .map_or(max_ttl, |ttl| Duration::from_millis(ttl).min(max_ttl));
        let task_id = new_task_id()?;
        let created = now();
        let (finished, _) = watch::channel(false);
        let entry = Arc::new(TaskEntry {
            state: Mutex::new(TaskState {
                task: wire::Task {
                    created_at: created.clone(),
                    last_updated_at: created,
                    poll_interval: i64::try_from(self.limits.poll_interval.as_millis()).ok(),
                    status: wire::TaskStatus::Working,
                    status_message: None,
                    task_id,
                    ttl: i64::try_from(ttl.as_millis()).ok(),
                },
                outcome: None,
            }),
            cancellation: CancellationToken::new(),
            finished,
            changes: watch::channel(0).0,
            expires_at: Instant::now() + ttl,
        });
        let mut tasks = lock(&self.tasks);
        if tasks.by_sequence.len() >= self.limits.max_tasks {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!(
                    "a session may hold at most {} tasks; wait for some to expire",
                    self.limits.max_tasks
                ),
            ));
        }
        tasks.sequence += 1;
        let sequence = tasks.sequence;
        tasks.by_sequence.insert(sequence, Arc::clone(&entry));
        Ok(entry)
    }

    /// The task `task_id`.
    ///
    /// # Errors
    ///
    /// -32602 for an unknown or expired task, as the spec names.
    pub fn get(&self, task_id: &str) -> Result<Arc<TaskEntry>, ErrorObject> {
        self.purge_expired();
        lock(&self.tasks)
            .by_sequence
            .values()
            .find(|entry| lock(&entry.state).task.task_id == task_id)
            .cloned()
            .ok_or_else(|| {
                ErrorObject::invalid_params(format!("no task `{task_id}` (unknown or expired)"))
            })
    }

    /// Every live task, oldest first.
    pub fn list(&self) -> Vec<wire::Task> {
        self.purge_expired();
        lock(&self.tasks)
            .by_sequence
            .values()
            .map(|entry| entry.snapshot())
            .collect()
    }

    /// One page of live tasks, oldest first, after `cursor`.
    ///
    /// # Errors
    ///
    /// -32602 for a cursor this registry did not hand out.
    pub fn page(&self, cursor: Option<&str>) -> Result<wire::ListTasksResult, ErrorObject> {
        self.purge_expired();
        let after = match cursor {
            None => 0,
            Some(cursor) => cursor
                .strip_prefix(CURSOR_PREFIX)
                .and_then(|sequence| sequence.parse::<u64>().ok())
                .ok_or_else(|| ErrorObject::invalid_params("invalid cursor"))?,
        };
        let tasks = lock(&self.tasks);
        let page_size = self.limits.page_size.max(1);
        let mut following = tasks.by_sequence.range(after.saturating_add(1)..);
        let page: Vec<(u64, wire::Task)> = following
            .by_ref()
            .take(page_size)
            .map(|(sequence, entry)| (*sequence, entry.snapshot()))
            .collect();
        let more = following.next().is_some();
        let next_cursor = page
            .last()
            .filter(|_| more)
            .map(|(sequence, _)| format!("{CURSOR_PREFIX}{sequence}"));
        Ok(wire::ListTasksResult {
            meta: None,
            next_cursor,
            tasks: page.into_iter().map(|(_, task)| task).collect(),
        })
    }

    /// Whether the registry holds no live task.
    pub fn is_empty(&self) -> bool {
        self.purge_expired();
        lock(&self.tasks).by_sequence.is_empty()
    }

    /// Cancels every task, when the session ends.
    pub fn cancel_all(&self) {
        for entry in lock(&self.tasks).by_sequence.values() {
            entry.cancel();
        }
    }

    /// Runs `work` as the task `entry` in the background: its result (which must encode to a
    /// JSON object) becomes the task's outcome with the related-task `_meta` added, and the
    /// final status is announced to `peer` before `tasks/result` answers.
    ///
    /// An error, or a result with `isError: true`, fails the task; so does a panic in `work`.
    /// A task cancelled meanwhile stays cancelled.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn spawn<F, T>(entry: Arc<TaskEntry>, peer: Peer, work: F)
    where
        F: Future<Output = Result<T, ErrorObject>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        tokio::spawn(async move {
            let task_id = entry.id();
            // A panicking handler fails its task instead of leaving it working for ever.
            let outcome = match tokio::spawn(work).await {
                Ok(outcome) => outcome.and_then(|result| to_object(&result)),
                Err(_) => Err(ErrorObject::internal_error("the task's work failed")),
            };
            let failed = outcome.as_ref().map_or(true, |result| {
                result.get("isError") == Some(&serde_json::Value::Bool(true))
            });
            let outcome = outcome.and_then(|mut object| {
                with_related_task(&mut object, &task_id);
                encode(&object)
            });
            if let Some(snapshot) = entry.finish(outcome, failed) {
                notify_status(&peer, snapshot).await;
            }
            entry.release();
        });
    }

    /// Answers `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`; `None` for any
    /// other method. A cancellation announces the new status to `peer`; `tasks/result` waits
    /// for the task to finish unless `cancellation` fires first.
    pub async fn serve(
        &self,
        method: &str,
        params: Option<&RawValue>,
        peer: &Peer,
        cancellation: &CancellationToken,
    ) -> Option<Outcome> {
        let outcome = match method {
            "tasks/get" => self.serve_get(params),
            "tasks/result" => self.serve_result(params, cancellation).await,
            "tasks/list" => self.serve_list(params),
            "tasks/cancel" => self.serve_cancel(params, peer).await,
            _ => return None,
        };
        Some(outcome)
    }

    fn serve_get(&self, params: Option<&RawValue>) -> Outcome {
        let params: wire::GetTaskRequestParams = decode_params(params)?;
        encode(&self.get(&params.task_id)?.snapshot())
    }

    async fn serve_result(
        &self,
        params: Option<&RawValue>,
        cancellation: &CancellationToken,
    ) -> Outcome {
        let params: wire::GetTaskPayloadRequestParams = decode_params(params)?;
        let entry = self.get(&params.task_id)?;
        tokio::select! {
            outcome = entry.outcome() => outcome,
            () = cancellation.cancelled() => Err(ErrorObject::internal_error("the request was cancelled")),
        }
    }

    fn serve_list(&self, params: Option<&RawValue>) -> Outcome {
        let params: Option<wire::PaginatedRequestParams> = decode_params(params)?;
        let cursor = params.and_then(|params| params.cursor);
        encode(&self.page(cursor.as_deref())?)
    }

    async fn serve_cancel(&self, params: Option<&RawValue>, peer: &Peer) -> Outcome {
        let params: wire::CancelTaskRequestParams = decode_params(params)?;
        let entry = self.get(&params.task_id)?;
        let Some(snapshot) = entry.cancel() else {
            return Err(ErrorObject::invalid_params(format!(
                "task `{}` has already finished",
                params.task_id
            )));
        };
        notify_status(peer, snapshot.clone()).await;
        encode(&snapshot)
    }

    fn purge_expired(&self) {
        let now = Instant::now();
        lock(&self.tasks).by_sequence.retain(|_, entry| {
            let keep = entry.expires_at > now;
            if !keep {
                entry.cancellation.cancel();
            }
            keep
        });
    }
}

/// The answer to a task-augmented request: `CreateTaskResult` with the new task.
///
/// # Errors
///
/// -32603 when the result cannot be encoded.
pub fn created(entry: &TaskEntry) -> Outcome {
    encode(&wire::CreateTaskResult {
        meta: None,
        task: entry.snapshot(),
    })
}

/// Tells the peer a task's status changed (`notifications/tasks/status`). Nothing is sent
/// when the connection is closed.
pub async fn notify_status(peer: &Peer, task: wire::Task) {
    let Ok(params) = serde_json::value::to_raw_value(&task) else {
        return;
    };
    if let Err(error) = peer
        .notify_raw(
            "notifications/tasks/status",
            Some(params),
            mcpwire_transport::SendOptions::default(),
        )
        .await
    {
        tracing::debug!(%error, "the task status could not be announced");
    }
}

/// Adds the related-task `_meta` to a JSON object (a result or params).
pub fn with_related_task(object: &mut JsonObject, task_id: &str) {
    let meta = object
        .entry("_meta")
        .or_insert_with(|| serde_json::Value::Object(JsonObject::new()));
    if let serde_json::Value::Object(meta) = meta {
        meta.insert(
            RELATED_TASK.to_owned(),
            serde_json::json!({ "taskId": task_id }),
        );
    }
}

/// A result as the JSON object a task keeps, so that its `_meta` can be extended.
fn to_object<T: Serialize>(result: &T) -> Result<JsonObject, ErrorObject> {
    match serde_json::to_value(result) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(ErrorObject::internal_error(
            "the result is not a JSON object",
        )),
        Err(error) => Err(ErrorObject::internal_error(format!(
            "encoding the result failed: {error}"
        ))),
    }
}

fn encode<T: Serialize>(value: &T) -> Outcome {
    serde_json::value::to_raw_value(value).map_err(|error| {
        ErrorObject::internal_error(format!("encoding the result failed: {error}"))
    })
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
        assert_eq!(task.snapshot().poll_interval, Some(500));
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
        assert_eq!(task.snapshot().ttl, Some(3_600_000));
        assert_eq!(
            task.cancel().expect("cancelled").status,
            wire::TaskStatus::Cancelled
        );
        assert!(task.cancellation().is_cancelled());
        assert!(task.finish(Ok(raw("{}")), false).is_none());
        assert_eq!(task.snapshot().status, wire::TaskStatus::Cancelled);
        assert!(task.outcome().await.is_err());
    }

    #[test]
    fn tasks_are_found_listed_and_bounded() {
        let registry = TaskRegistry::new(TaskLimits {
            max_tasks: 5,
            ..TaskLimits::default()
        });
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
        for _ in 2..5 {
            registry.create(None).expect("room");
        }
        assert_eq!(
            registry.create(None).expect_err("full").code,
            ErrorCode::INVALID_REQUEST,
            "the bound holds"
        );
    }

    #[test]
    fn pages_follow_each_other_and_foreign_cursors_fail() {
        let registry = TaskRegistry::new(TaskLimits {
            page_size: 2,
            ..TaskLimits::default()
        });
        let ids: Vec<String> = (0..5)
            .map(|_| registry.create(None).expect("created").id())
            .collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        for _ in 0..10 {
            let page = registry.page(cursor.as_deref()).expect("page");
            seen.extend(page.tasks.into_iter().map(|task| task.task_id));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, ids);
        for foreign in ["garbage", "task:x", "after:a"] {
            assert_eq!(
                registry.page(Some(foreign)).expect_err("foreign").code,
                ErrorCode::INVALID_PARAMS
            );
        }
    }

    #[test]
    fn expired_tasks_disappear() {
        let registry = TaskRegistry::default();
        let task = registry.create(Some(0)).expect("created");
        assert!(registry.get(&task.id()).is_err());
        assert!(
            task.cancellation().is_cancelled(),
            "an expired task's work is stopped"
        );
    }

    #[test]
    fn related_task_meta_joins_existing_meta() {
        let mut object = JsonObject::new();
        object.insert("_meta".to_owned(), serde_json::json!({ "other": 1 }));
        with_related_task(&mut object, "abc");
        assert_eq!(
            serde_json::Value::Object(object),
            serde_json::json!({ "_meta": { "other": 1, RELATED_TASK: { "taskId": "abc" } } })
        );
    }
}
