//! One task of the `io.modelcontextprotocol/tasks` extension (2026-07-28): its status, the
//! input it waits for, its outcome, and how it appears on the wire.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, RequestMethod};
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::JsonObject;
use mcpwire_schema::ext_tasks::{self as ext, TaskStatus};
use mcpwire_schema::v2025_11_25::methods as legacy;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::owner::Owner;

/// Most input requests one task may make over its lifetime: each key is kept to refuse its
/// reuse, so the set of keys is bounded.
pub const MAX_INPUT_REQUESTS: usize = 1024;

/// The current time as the RFC 3339 timestamp a task carries.
pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// A fresh task id: 128 random bits from the operating system, in hex, so that nobody can
/// guess another caller's task.
///
/// # Errors
///
/// -32603 when the operating system has no randomness to give.
pub(crate) fn new_task_id() -> Result<String, ErrorObject> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        ErrorObject::internal_error(format!("no randomness for a task id: {error}"))
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Milliseconds as the wire writes them: whole, and at most `i64::MAX`.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a few field updates: a poisoned lock is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `status` is one a task never leaves.
pub(crate) fn is_terminal(status: &TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
    )
}

/// One task of the extension, as a [`TaskStore`](crate::TaskStore) keeps it.
///
/// It starts `working`. The work asks for input with [`StoredTask::ask`], which makes the task
/// `input_required` until the requestor answers every open request through `tasks/update`
/// ([`StoredTask::answer`]); the work ends it with [`StoredTask::complete`] or
/// [`StoredTask::fail`], and the requestor may [`cancel`](StoredTask::cancel) it first. A
/// terminal status never changes again: a late outcome of cancelled work is dropped.
#[derive(Debug)]
pub struct StoredTask {
    id: String,
    owner: Owner,
    created_at: String,
    ttl: Duration,
    poll_interval: Duration,
    expires_at: Instant,
    cancellation: CancellationToken,
    state: Mutex<State>,
    /// Counts the changes a requestor can observe (status, input requests, outcome), for
    /// those who follow the task (`notifications/tasks`).
    changes: watch::Sender<u64>,
}

#[derive(Debug)]
struct State {
    status: TaskStatus,
    status_message: Option<String>,
    last_updated_at: String,
    /// The final result (a JSON object) or JSON-RPC error, once terminal.
    outcome: Option<Result<JsonObject, ErrorObject>>,
    /// Every key asked so far: a key is never used twice in a task's life.
    issued: HashSet<String>,
    /// The asks without a key so far, to name the next one.
    unnamed: usize,
    /// The input requests not answered yet, by key.
    pending: BTreeMap<String, Pending>,
}

#[derive(Debug)]
struct Pending {
    method: String,
    /// The input request as 2026-07-28 writes it: `{method, params}`.
    request: Value,
    answer: oneshot::Sender<Value>,
}

impl StoredTask {
    pub(crate) fn new(
        id: String,
        owner: Owner,
        ttl: Duration,
        poll_interval: Duration,
        created: Instant,
    ) -> Self {
        let created_at = now();
        StoredTask {
            id,
            owner,
            ttl,
            poll_interval,
            expires_at: created + ttl,
            cancellation: CancellationToken::new(),
            state: Mutex::new(State {
                status: TaskStatus::Working,
                status_message: None,
                last_updated_at: created_at.clone(),
                outcome: None,
                issued: HashSet::new(),
                unnamed: 0,
                pending: BTreeMap::new(),
            }),
            created_at,
            changes: watch::Sender::new(0),
        }
    }

    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Who may see and touch the task.
    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// How long the task is kept after its creation (`ttlMs`).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(crate) fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// The task's status now.
    pub fn status(&self) -> TaskStatus {
        lock(&self.state).status.clone()
    }

    /// Whether the task is completed, failed or cancelled.
    pub fn is_terminal(&self) -> bool {
        is_terminal(&lock(&self.state).status)
    }

    /// Fires when the task is cancelled (`tasks/cancel`) or expires: its work should stop.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// Follows the task's observable changes: the value changes whenever its status, open
    /// input requests or outcome do. The sender lives as long as the task.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self, state: &mut State) {
        state.last_updated_at = now();
        self.changes
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Asks the requestor for input: `request` is an input request as 2026-07-28 writes it
    /// (`{"method": …, "params": …}`), under `key` or else the next free `input-{n}`. The task
    /// is `input_required` until the answer comes ([`StoredTask::answer`]), which is returned.
    ///
    /// # Errors
    ///
    /// -32603 when the task is terminal or ends while waiting (cancelled, expired), when `key`
    /// was used before in this task, or when the task asked [`MAX_INPUT_REQUESTS`] times.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future withdraws the request (the task goes back to `working`
    /// when nothing else is open).
    pub async fn ask(&self, key: Option<String>, request: Value) -> Result<Value, ErrorObject> {
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (answer, answered) = oneshot::channel();
        let key = {
            let mut state = lock(&self.state);
            if is_terminal(&state.status) {
                return Err(ErrorObject::internal_error(format!(
                    "task `{}` has ended; it takes no more input",
                    self.id
                )));
            }
            if state.issued.len() >= MAX_INPUT_REQUESTS {
                return Err(ErrorObject::internal_error(format!(
                    "a task may ask for input at most {MAX_INPUT_REQUESTS} times"
                )));
            }
            let key = match key {
                Some(key) => key,
                None => loop {
                    // Ends: at most `MAX_INPUT_REQUESTS` keys are taken.
                    state.unnamed += 1;
                    let key = format!("input-{}", state.unnamed);
                    if !state.issued.contains(&key) {
                        break key;
                    }
                },
            };
            if !state.issued.insert(key.clone()) {
                return Err(ErrorObject::internal_error(format!(
                    "the input request key `{key}` was used before in this task"
                )));
            }
            state.pending.insert(
                key.clone(),
                Pending {
                    method,
                    request,
                    answer,
                },
            );
            state.status = TaskStatus::InputRequired;
            state.status_message = None;
            self.changed(&mut state);
            key
        };
        let withdraw = Withdraw { task: self, key };
        let answer = answered.await;
        drop(withdraw);
        answer.map_err(|_| {
            ErrorObject::internal_error(format!(
                "task `{}` ended while it waited for input",
                self.id
            ))
        })
    }

    /// Takes the requestor's answers (`tasks/update`): each answer to an open request is handed
    /// to the work that asked; answers to keys that are not open (never issued, answered
    /// already, or withdrawn) are ignored, as the spec advises. The task stays
    /// `input_required` while some request is still open.
    ///
    /// # Errors
    ///
    /// -32602 when an answer to an open request is not a result of its method (nothing is
    /// taken then).
    pub fn answer(&self, answers: BTreeMap<String, Value>) -> Result<(), ErrorObject> {
        let mut state = lock(&self.state);
        for (key, answer) in &answers {
            if let Some(pending) = state.pending.get(key) {
                check_answer(&pending.method, answer).map_err(|reason| {
                    ErrorObject::invalid_params(format!(
                        "inputResponses.{key} is not a result of `{}`: {reason}",
                        pending.method
                    ))
                })?;
            }
        }
        let mut taken = false;
        for (key, answer) in answers {
            if let Some(pending) = state.pending.remove(&key) {
                // The work may have stopped waiting meanwhile; the answer then goes nowhere.
                let _ = pending.answer.send(answer);
                taken = true;
            }
        }
        if taken {
            if state.pending.is_empty() && state.status == TaskStatus::InputRequired {
                state.status = TaskStatus::Working;
            }
            self.changed(&mut state);
        }
        Ok(())
    }

    /// Sets the message that describes the current status (`statusMessage`), while the task is
    /// not terminal.
    pub fn set_status_message(&self, message: Option<String>) {
        let mut state = lock(&self.state);
        if !is_terminal(&state.status) && state.status_message != message {
            state.status_message = message;
            self.changed(&mut state);
        }
    }

    /// Completes the task with the result of its request (a JSON object, even one with
    /// `isError: true`); returns whether it was still running.
    pub fn complete(&self, result: JsonObject) -> bool {
        self.finish(TaskStatus::Completed, Ok(result), None)
    }

    /// Fails the task with the JSON-RPC error its request met; returns whether it was still
    /// running.
    pub fn fail(&self, error: ErrorObject) -> bool {
        let message = error.message.clone();
        self.finish(TaskStatus::Failed, Err(error), Some(message))
    }

    /// Cancels the task unless it is terminal already, and stops its work: the status is
    /// `cancelled` when this returns `true`, and stays so.
    pub fn cancel(&self) -> bool {
        let cancelled = self.finish(
            TaskStatus::Cancelled,
            Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the task was cancelled",
            )),
            Some("cancelled by the requestor".to_owned()),
        );
        self.cancellation.cancel();
        cancelled
    }

    fn finish(
        &self,
        status: TaskStatus,
        outcome: Result<JsonObject, ErrorObject>,
        message: Option<String>,
    ) -> bool {
        let mut state = lock(&self.state);
        if is_terminal(&state.status) {
            return false;
        }
        state.status = status;
        state.status_message = message;
        state.outcome = Some(outcome);
        // Open requests end with the task: their askers see it ended.
        state.pending.clear();
        self.changed(&mut state);
        true
    }

    /// The task as the base `Task` of the extension.
    fn base(&self, state: &State) -> ext::Task {
        ext::Task {
            created_at: self.created_at.clone(),
            last_updated_at: state.last_updated_at.clone(),
            poll_interval_ms: Some(millis(self.poll_interval).max(1)),
            status: state.status.clone(),
            status_message: state.status_message.clone(),
            task_id: self.id.clone(),
            ttl_ms: Some(millis(self.ttl)),
        }
    }

    /// The `CreateTaskResult` that answers the request the task serves: the task, flat, with
    /// `resultType: "task"`.
    pub fn created(&self) -> JsonObject {
        let mut result = to_object(&self.base(&lock(&self.state)));
        result.insert("resultType".to_owned(), Value::from("task"));
        result
    }

    /// The task as `tasks/get` and `notifications/tasks` show it (a `DetailedTask`): with the
    /// open `inputRequests` when `input_required`, the `result` when completed, the `error`
    /// when failed.
    pub fn detailed(&self) -> JsonObject {
        let state = lock(&self.state);
        let mut task = to_object(&self.base(&state));
        match (&state.status, &state.outcome) {
            (TaskStatus::InputRequired, _) => {
                let requests = state
                    .pending
                    .iter()
                    .map(|(key, pending)| (key.clone(), pending.request.clone()))
                    .collect();
                task.insert("inputRequests".to_owned(), Value::Object(requests));
            }
            (TaskStatus::Completed, Some(Ok(result))) => {
                task.insert("result".to_owned(), Value::Object(result.clone()));
            }
            (TaskStatus::Failed, Some(Err(error))) => {
                task.insert(
                    "error".to_owned(),
                    serde_json::to_value(error).unwrap_or(Value::Null),
                );
            }
            _ => {}
        }
        task
    }
}

/// Withdraws an open input request whose asker stopped waiting.
struct Withdraw<'a> {
    task: &'a StoredTask,
    key: String,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.task.state);
        if state.pending.remove(&self.key).is_some() {
            if state.pending.is_empty() && state.status == TaskStatus::InputRequired {
                state.status = TaskStatus::Working;
            }
            self.task.changed(&mut state);
        }
    }
}

fn to_object(task: &ext::Task) -> JsonObject {
    match serde_json::to_value(task) {
        Ok(Value::Object(object)) => object,
        // A struct of strings and numbers always encodes as an object.
        _ => JsonObject::new(),
    }
}

/// Checks that `answer` is a result of `method`, one of the requests a server may put to the
/// requestor as input; answers to other methods are taken as given.
fn check_answer(method: &str, answer: &Value) -> Result<(), String> {
    fn fits<M: RequestMethod>(answer: &Value) -> Result<(), String> {
        M::Result::deserialize(answer)
            .map(drop)
            .map_err(|error| error.to_string())
    }
    if !answer.is_object() {
        return Err("an answer is a JSON object".to_owned());
    }
    if method == legacy::Elicit::METHOD {
        fits::<legacy::Elicit>(answer)
    } else if method == legacy::CreateMessage::METHOD {
        fits::<legacy::CreateMessage>(answer)
    } else if method == legacy::ListRoots::METHOD {
        fits::<legacy::ListRoots>(answer)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Owner, TaskStore};

    fn elicitation(message: &str) -> Value {
        serde_json::json!({
            "method": "elicitation/create",
            "params": {
                "message": message,
                "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}}
            }
        })
    }

    fn accept() -> Value {
        serde_json::json!({"action": "accept", "content": {"confirm": true}})
    }

    fn task() -> Arc<StoredTask> {
        TaskStore::default()
            .create(Owner::ANONYMOUS, None)
            .expect("created")
    }

    fn keys(task: &StoredTask) -> Vec<String> {
        task.detailed()
            .get("inputRequests")
            .and_then(Value::as_object)
            .map(|requests| requests.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn partial_answers_keep_the_task_waiting() {
        let task = task();
        let asking = Arc::clone(&task);
        let work = tokio::spawn(async move {
            let first = asking.ask(Some("first".to_owned()), elicitation("one"));
            let second = asking.ask(None, elicitation("two"));
            let (first, second) = tokio::join!(first, second);
            (first.expect("answered"), second.expect("answered"))
        });
        let mut changes = task.watch();
        while keys(&task).len() < 2 {
            changes.changed().await.expect("the task lives");
        }
        assert_eq!(task.status(), TaskStatus::InputRequired);
        assert_eq!(keys(&task), ["first", "input-1"]);
        assert_eq!(
            task.detailed()["inputRequests"]["first"]["method"],
            "elicitation/create"
        );

        // An answer that is not an elicitation result is refused, and nothing is taken.
        let wrong = BTreeMap::from([("first".to_owned(), serde_json::json!({"nope": 1}))]);
        let error = task.answer(wrong).expect_err("not an elicit result");
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(keys(&task).len(), 2);

        // A partial answer, with a key never issued, which is ignored.
        task.answer(BTreeMap::from([
            ("first".to_owned(), accept()),
            ("unknown".to_owned(), serde_json::json!({"ignored": true})),
        ]))
        .expect("taken");
        assert_eq!(
            task.status(),
            TaskStatus::InputRequired,
            "one is still open"
        );
        assert_eq!(keys(&task), ["input-1"]);

        task.answer(BTreeMap::from([("input-1".to_owned(), accept())]))
            .expect("taken");
        let (first, second) = work.await.expect("the work ends");
        assert_eq!(first, accept());
        assert_eq!(second, accept());
        assert_eq!(task.status(), TaskStatus::Working);
        assert!(task.detailed().get("inputRequests").is_none());
    }

    #[tokio::test]
    async fn keys_are_never_reused_and_a_withdrawn_ask_is_forgotten() {
        let task = task();
        {
            let asking = task.ask(Some("name".to_owned()), elicitation("name?"));
            tokio::pin!(asking);
            assert!(futures_poll_once(asking.as_mut()).await.is_none());
            assert_eq!(task.status(), TaskStatus::InputRequired);
        }
        // Dropped: withdrawn, and the task works again.
        assert_eq!(task.status(), TaskStatus::Working);
        assert!(keys(&task).is_empty());
        let error = task
            .ask(Some("name".to_owned()), elicitation("again"))
            .await
            .expect_err("the key was used");
        assert_eq!(error.code, ErrorCode::INTERNAL_ERROR);
        // An answer to the withdrawn key is ignored.
        task.answer(BTreeMap::from([("name".to_owned(), accept())]))
            .expect("ignored");
        assert_eq!(task.status(), TaskStatus::Working);
    }

    /// Polls `future` once: its output, or `None` when it is pending.
    async fn futures_poll_once<F: std::future::Future>(
        future: std::pin::Pin<&mut F>,
    ) -> Option<F::Output> {
        let mut future = Some(future);
        std::future::poll_fn(|context| {
            let future = future.take().expect("polled once");
            match future.poll(context) {
                std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
                std::task::Poll::Pending => std::task::Poll::Ready(None),
            }
        })
        .await
    }

    #[tokio::test]
    async fn a_cancelled_task_stays_cancelled_whatever_finishes_later() {
        let task = task();
        let asking = Arc::clone(&task);
        let waiting = tokio::spawn(async move { asking.ask(None, elicitation("x")).await });
        let mut changes = task.watch();
        while task.status() != TaskStatus::InputRequired {
            changes.changed().await.expect("the task lives");
        }
        assert!(task.cancel());
        assert_eq!(task.status(), TaskStatus::Cancelled);
        assert!(task.cancellation().is_cancelled());
        assert!(waiting.await.expect("joined").is_err(), "the ask ends");
        // The work's late outcome is dropped.
        assert!(!task.complete(JsonObject::new()));
        assert!(!task.fail(ErrorObject::internal_error("late")));
        assert!(!task.cancel());
        let detailed = task.detailed();
        assert_eq!(detailed["status"], "cancelled");
        assert!(detailed.get("result").is_none() && detailed.get("error").is_none());
    }

    #[test]
    fn terminal_tasks_inline_their_outcome() {
        let completed = task();
        let mut result = JsonObject::new();
        result.insert("content".to_owned(), serde_json::json!([]));
        result.insert("isError".to_owned(), Value::Bool(true));
        assert!(completed.complete(result));
        assert!(!completed.cancel(), "a completed task stays completed");
        let detailed = Value::Object(completed.detailed());
        assert_eq!(detailed["status"], "completed");
        assert_eq!(detailed["result"]["isError"], true);
        let decoded: ext::DetailedTask = serde_json::from_value(detailed).expect("a DetailedTask");
        assert!(matches!(decoded, ext::DetailedTask::CompletedTask(_)));

        let failed = task();
        assert!(failed.fail(ErrorObject::internal_error("boom")));
        let detailed = Value::Object(failed.detailed());
        assert_eq!(detailed["error"]["code"], -32603);
        assert_eq!(detailed["statusMessage"], "boom");
        assert!(detailed.get("result").is_none());
        let decoded: ext::DetailedTask = serde_json::from_value(detailed).expect("a DetailedTask");
        assert!(matches!(decoded, ext::DetailedTask::FailedTask(_)));

        let created = Value::Object(task().created());
        let decoded: ext::CreateTaskResult = serde_json::from_value(created.clone()).expect("flat");
        assert_eq!(decoded.status, TaskStatus::Working);
        assert!(decoded.ttl_ms.is_some_and(|ttl| ttl > 0));
        assert!(
            decoded
                .poll_interval_ms
                .is_some_and(|interval| interval > 0)
        );
        for absent in [
            "task",
            "ttl",
            "pollInterval",
            "result",
            "error",
            "requestState",
        ] {
            assert!(created.get(absent).is_none(), "{absent}");
        }
    }
}
