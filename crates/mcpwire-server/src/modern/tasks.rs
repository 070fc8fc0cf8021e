//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663) on the modern
//! dispatch: which calls may become tasks, the run of a call that may, and the `tasks/*`
//! methods.
//!
//! The server decides per request. A call of a tool whose `task_support` allows tasks, from a
//! request that declared the extension, runs its handler in the request as any call (asks are
//! rounds of a multi round-trip request), until the handler first waits for something else or
//! calls `Context::continue_as_task`: then the task is made (it can be found before the
//! `CreateTaskResult` goes out), the handler goes on in the background, and its asks become the
//! task's input requests. A handler that returns without waiting is answered with its result.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

#[cfg(feature = "http")]
use mcpwire_ext_tasks::TaskRecord;
use mcpwire_ext_tasks::{EXTENSION, Owner, StoredTask, missing_extension};
use mcpwire_jsonrpc::ErrorObject;
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::JsonObject;
use mcpwire_schema::v2025_11_25 as wire;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::listen::Followed;
use super::mrtr::{self, Outcome};
use super::request_state::Binding;
use super::scope::TaskSlot;
use super::{Request, cancelled_error, input_required, replay_of, run_tool, shape, tool_result};
#[cfg(feature = "http")]
use crate::broadcast::Announcement;
use crate::error::{missing_capability_error, url_elicitation_required_error};
use crate::methods::ToolFailure;
use crate::router::Route;
use crate::state::Inner;
#[cfg(feature = "http")]
use crate::task_book::{save_until_ended, settled, unreachable_store};
use crate::tool::text_result;
use crate::{Context, Tool};

/// Most tasks one subscription may follow (`taskIds`).
const MAX_TASK_SUBSCRIPTIONS: usize = 1024;

/// A tool's run, boxed so that it can move to a task of its own once detached.
type Work = Pin<Box<dyn Future<Output = Result<wire::CallToolResult, ToolFailure>> + Send>>;

/// A `tools/call` that may become a task.
pub(super) struct Call<'a> {
    pub(super) tool: Tool,
    pub(super) arguments: JsonObject,
    pub(super) binding: Binding,
    /// The raw params, for the answers of earlier rounds.
    pub(super) params: Option<&'a RawValue>,
}

/// Whether `request` declared the extension in its capabilities.
fn declares_extension(request: &Request) -> bool {
    request.client_extensions.contains_key(EXTENSION)
}

/// The slot of the task `request`'s call of `tool` may become, or `None` when it cannot
/// become one: the server serves no tasks, the tool allows none, or the request did not
/// declare the extension.
///
/// # Errors
///
/// `-32021` naming the extension when the tool requires a task and the request did not
/// declare it.
pub(super) fn slot(
    server: &Inner,
    tool: &Tool,
    request: &Request,
) -> Result<Option<Arc<TaskSlot>>, ErrorObject> {
    if !server.settings().tasks_enabled {
        return Ok(None);
    }
    let declared = declares_extension(request);
    match tool.task_support() {
        wire::ToolExecutionTaskSupport::Required if !declared => Err(missing_extension()),
        wire::ToolExecutionTaskSupport::Optional | wire::ToolExecutionTaskSupport::Required
            if declared =>
        {
            Ok(Some(Arc::new(TaskSlot::new(
                Arc::clone(server.task_store()),
                Owner::new(request.principal),
            ))))
        }
        _ => Ok(None),
    }
}

/// Runs a `tools/call` that may become a task: its result or `InputRequiredResult` when the
/// handler ends or parks on its first poll, or else the `CreateTaskResult` of the task it goes
/// on as.
///
/// # Errors
///
/// As any `tools/call`; `-32600` when the server holds as many tasks as it may.
pub(super) async fn call_tool(
    call: Call<'_>,
    request: Request,
    slot: Arc<TaskSlot>,
) -> Result<Box<RawValue>, ErrorObject> {
    let Call {
        tool,
        arguments,
        binding,
        params,
    } = call;
    let server = Arc::clone(&request.server);
    let replay = replay_of(&server, &binding, params)?;
    let cancelled = request.link.cancellation().clone();
    // The handler's own token: the request's cancellation ends the handler only until it is a
    // task, whose cancellation ends it afterwards.
    let stop = CancellationToken::new();
    let (state, mut scope) = request.scope(Some(Arc::clone(&replay)), stop.clone());
    scope.task = Some(Arc::clone(&slot));
    let scope = Arc::new(scope);
    let interval = state.settings().progress_interval;
    let context = Context::modern(state, Arc::clone(&scope), interval);
    let mut work: Work = Box::pin(run_tool(tool, arguments, context, scope));
    match mrtr::run_detachable(&replay, &stop, &cancelled, &mut work).await {
        Outcome::Complete(outcome) => match slot.created() {
            // The handler went on as a task and returned at once.
            Some(task) => {
                finish(&server, &task, Some(outcome));
                share(&server, &task).await?;
                shape::stamp(&server, task.created())
            }
            None => tool_result(&server, outcome),
        },
        Outcome::InputRequired => {
            input_required(&server, Route::CallTool.method(), &binding, &replay)
        }
        Outcome::Cancelled => {
            stop.cancel();
            Err(cancelled_error())
        }
        Outcome::Detached => match slot.get_or_create() {
            Ok(task) => {
                spawn(Arc::clone(&server), Arc::clone(&task), work, stop);
                // Shared before its `CreateTaskResult` goes out, so that any instance finds it.
                if let Err(error) = share(&server, &task).await {
                    // Nobody can follow a task the other instances cannot find: its work stops.
                    task.fail(error.clone());
                    task.cancellation().cancel();
                    return Err(error);
                }
                shape::stamp(&server, task.created())
            }
            Err(error) => {
                stop.cancel();
                Err(error)
            }
        },
    }
}

/// Runs the rest of a detached tool as `task`: its outcome ends the task, and cancelling or
/// expiring the task stops it. A panic fails the task.
fn spawn(server: Arc<Inner>, task: Arc<StoredTask>, work: Work, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut running = tokio::spawn(work);
        let outcome = tokio::select! {
            joined = &mut running => joined.ok(),
            () = task.cancellation().cancelled() => {
                stop.cancel();
                running.abort();
                return;
            }
        };
        finish(&server, &task, outcome);
    });
}

/// Ends `task` with what its tool's run gave: `completed` with the result the call would have
/// had (a tool execution error included), or `failed` with the JSON-RPC error it would have
/// met (`None`: the run panicked). A task that ended already stays as it is.
fn finish(
    server: &Inner,
    task: &StoredTask,
    outcome: Option<Result<wire::CallToolResult, ToolFailure>>,
) {
    let result = match outcome {
        None => Err(ErrorObject::internal_error("the task's work failed")),
        Some(Ok(result)) => Ok(result),
        Some(Err(ToolFailure::Protocol(error))) => Err(error),
        Some(Err(ToolFailure::Tool(error))) => match (&error.capability, &error.url_elicitations) {
            (Some(capability), _) => Err(missing_capability_error(capability)),
            (None, Some(elicitations)) => Err(url_elicitation_required_error(
                error.message().to_owned(),
                elicitations,
            )),
            (None, None) => Ok(text_result(error.message().to_owned(), true)),
        },
    };
    let object = result.and_then(|result| {
        let encoded = shape::complete(server, Route::CallTool.method(), &result, None)?;
        serde_json::from_str::<JsonObject>(encoded.get())
            .map_err(|error| ErrorObject::internal_error(error.to_string()))
    });
    match object {
        Ok(result) => task.complete(result),
        Err(error) => task.fail(error),
    };
}

#[cfg(feature = "http")]
/// Saves the record of `task` in the store of shared tasks, when the server shares its tasks,
/// and again at each change until it ends, so that every instance answers for it.
///
/// # Errors
///
/// `-32603` when the store cannot be reached.
async fn share(server: &Arc<Inner>, task: &Arc<StoredTask>) -> Result<(), ErrorObject> {
    let Some(shared) = server.settings().shared_tasks.clone() else {
        return Ok(());
    };
    server
        .hold_lease(&shared.store, shared.lease)
        .await
        .map_err(|error| unreachable_store(&error))?;
    let instance = server.instance();
    let record = TaskRecord::of(task, instance);
    shared
        .store
        .save(&record, task.ttl())
        .await
        .map_err(|error| unreachable_store(&error))?;
    if record.is_terminal() {
        return Ok(());
    }
    let task = Arc::clone(task);
    let broadcaster = server.broadcaster().cloned();
    tokio::spawn(async move {
        save_until_ended(
            shared.store,
            broadcaster,
            task.watch(),
            task.cancellation().clone(),
            || (TaskRecord::of(&task, instance), task.ttl()),
        )
        .await;
    });
    Ok(())
}

/// The `taskId` of the params of `tasks/get`, `tasks/update` and `tasks/cancel`.
#[cfg(feature = "http")]
#[derive(Deserialize)]
struct TaskParams {
    #[serde(rename = "taskId")]
    task_id: String,
}

/// `tasks/get`, `tasks/update` and `tasks/cancel`, for the caller that made the request: of
/// a task of this instance, or of a shared task another instance runs.
///
/// # Errors
///
/// `-32021` when the request did not declare the extension; `-32602` for invalid params or a
/// task the caller cannot see; `-32603` when the store of shared tasks cannot be reached.
pub(super) async fn serve_method(
    server: &Arc<Inner>,
    method: &str,
    params: Option<&RawValue>,
    request: &Request,
) -> Result<Box<RawValue>, ErrorObject> {
    if !declares_extension(request) {
        return Err(missing_extension());
    }
    let owner = Owner::new(request.principal);
    #[cfg(feature = "http")]
    let elsewhere = params
        .and_then(|params| serde_json::from_str::<TaskParams>(params.get()).ok())
        .filter(|params| server.task_store().get(owner, &params.task_id).is_err());
    #[cfg(feature = "http")]
    if let (Some(shared), Some(TaskParams { task_id })) =
        (server.settings().shared_tasks.as_ref(), elsewhere)
    {
        let loaded = shared
            .store
            .load(&task_id)
            .await
            .map_err(|error| unreachable_store(&error))?;
        if let Some(record) = loaded.filter(|record| record.belongs_to(owner)) {
            let result = serve_shared(server, shared, record, method, params).await?;
            return shape::stamp(server, result);
        }
    }
    let result = server
        .task_store()
        .serve(owner, method, params)
        .unwrap_or_else(|| Err(ErrorObject::method_not_found(method)))?;
    shape::stamp(server, result)
}

/// The `inputResponses` of `tasks/update`.
#[cfg(feature = "http")]
#[derive(Deserialize)]
struct Answers {
    #[serde(rename = "inputResponses")]
    input_responses: JsonObject,
}

#[cfg(feature = "http")]
/// A `tasks/*` method for a shared task that another instance runs, or ran: `tasks/get` from
/// its record (`failed` once that instance's lease lapsed), `tasks/update` and `tasks/cancel`
/// passed on to the instance over the bus.
async fn serve_shared(
    server: &Arc<Inner>,
    shared: &crate::state::SharedTaskStore,
    mut record: TaskRecord,
    method: &str,
    params: Option<&RawValue>,
) -> Result<JsonObject, ErrorObject> {
    let unreachable = |error: mcpwire_ext_tasks::SharedTasksError| unreachable_store(&error);
    let ttl = server.settings().task_limits.max_ttl;
    let mut result = match Route::of(method) {
        Some(Route::GetTask) => settled(shared.store.as_ref(), record, ttl).await?.task,
        Some(Route::UpdateTask) => {
            let answers: Answers = mcpwire_jsonrpc::decode_params(params)?;
            announce(
                server,
                Announcement::TaskAnswered {
                    task_id: record.id,
                    owner: record.owner,
                    answers: answers.input_responses,
                },
            )
            .await;
            JsonObject::new()
        }
        Some(Route::CancelTask) => {
            if !record.is_terminal() {
                record.cancel();
                shared.store.save(&record, ttl).await.map_err(unreachable)?;
                announce(
                    server,
                    Announcement::TaskCancelled {
                        task_id: record.id,
                        owner: record.owner,
                    },
                )
                .await;
            }
            JsonObject::new()
        }
        _ => return Err(ErrorObject::method_not_found(method)),
    };
    result.insert("resultType".to_owned(), serde_json::Value::from("complete"));
    Ok(result)
}

#[cfg(feature = "http")]
/// Tells the instance running a shared task, when the server is on a deployment's bus.
async fn announce(server: &Inner, announcement: Announcement) {
    match server.broadcaster() {
        Some(broadcaster) => broadcaster.announce(&announcement).await,
        None => tracing::warn!("a shared task's instance cannot be told: the server is on no bus"),
    }
}

#[cfg(feature = "http")]
/// Acts on an announcement of another instance about a task this one runs: the answers of
/// `tasks/update`, or `tasks/cancel`. A task this instance does not run is left alone.
pub(crate) fn hear(server: &Inner, announcement: Announcement) {
    match announcement {
        Announcement::TaskAnswered {
            task_id,
            owner,
            answers,
        } => {
            if let Ok(task) = server.task_store().get(Owner::new(owner), &task_id) {
                let answers = answers.into_iter().collect();
                if let Err(error) = task.answer(answers) {
                    tracing::debug!(message = %error.message, "answers relayed for a task were refused");
                }
            }
        }
        Announcement::TaskCancelled { task_id, owner } => {
            if let Ok(task) = server.task_store().get(Owner::new(owner), &task_id) {
                task.cancel();
            }
        }
        Announcement::ListChanged(_)
        | Announcement::ResourceUpdated(_)
        | Announcement::TaskChanged { .. } => {}
    }
}

/// Without HTTP a server shares no tasks.
#[cfg(not(feature = "http"))]
async fn share(_: &Arc<Inner>, _: &Arc<StoredTask>) -> Result<(), ErrorObject> {
    Ok(())
}

/// The part of the params of `subscriptions/listen` that names tasks.
#[derive(Deserialize)]
struct ListenTasks {
    #[serde(default)]
    notifications: Option<TaskFilter>,
}

#[derive(Deserialize)]
struct TaskFilter {
    #[serde(rename = "taskIds", default)]
    task_ids: Option<Vec<String>>,
}

/// The tasks a `subscriptions/listen` follows: of those its `taskIds` name, the ones the
/// caller may see (the others are left out of the acknowledgement), whether they run here or,
/// when the server shares its tasks, on another instance; `None` when it names none or the
/// server serves no tasks.
///
/// # Errors
///
/// `-32021` when the request names tasks without declaring the extension; `-32602` when it
/// names more than [`MAX_TASK_SUBSCRIPTIONS`]; `-32603` when the store of shared tasks cannot
/// be reached.
pub(super) async fn followed(
    server: &Inner,
    params: Option<&RawValue>,
    request: &Request,
) -> Result<Option<Vec<Arc<dyn Followed>>>, ErrorObject> {
    let requested = params
        .and_then(|params| serde_json::from_str::<ListenTasks>(params.get()).ok())
        .and_then(|listen| listen.notifications)
        .and_then(|filter| filter.task_ids);
    let Some(ids) = requested.filter(|_| server.settings().tasks_enabled) else {
        return Ok(None);
    };
    if !declares_extension(request) {
        return Err(missing_extension());
    }
    if ids.len() > MAX_TASK_SUBSCRIPTIONS {
        return Err(ErrorObject::invalid_params(format!(
            "a subscription may follow at most {MAX_TASK_SUBSCRIPTIONS} tasks"
        )));
    }
    let owner = Owner::new(request.principal);
    let mut tasks: Vec<Arc<dyn Followed>> = Vec::new();
    for id in ids {
        if tasks.iter().any(|task| task.id() == id) {
            continue;
        }
        if let Ok(task) = server.task_store().get(owner, &id) {
            tasks.push(Arc::new(FollowedTask(task)));
            continue;
        }
        #[cfg(feature = "http")]
        if let Some(shared) = server.settings().shared_tasks.as_ref() {
            // Followed before the look, so that no change falls between them.
            let changes = server.session_tasks().changes();
            let ttl = server.settings().task_limits.max_ttl;
            let loaded = shared
                .store
                .load(&id)
                .await
                .map_err(|error| unreachable_store(&error))?;
            if let Some(record) = loaded.filter(|record| record.belongs_to(owner)) {
                let record = settled(shared.store.as_ref(), record, ttl).await?;
                tasks.push(Arc::new(RemoteTask::follow(shared, ttl, record, changes)));
            }
        }
    }
    Ok(Some(tasks))
}

/// A task of the extension that another instance runs, followed through its record: looked
/// at again each time that instance announces a change of it, and once per lease (when the
/// lease lapsed, the task reads as `failed`), until it ends or nobody follows it.
#[cfg(feature = "http")]
struct RemoteTask {
    id: String,
    state: Arc<RemoteState>,
    looks: tokio::task::AbortHandle,
}

#[cfg(feature = "http")]
struct RemoteState {
    record: std::sync::Mutex<TaskRecord>,
    changes: tokio::sync::watch::Sender<u64>,
}

#[cfg(feature = "http")]
impl RemoteState {
    fn record(&self) -> std::sync::MutexGuard<'_, TaskRecord> {
        // Every critical section is a read or a replacement: a poisoned lock is consistent.
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(feature = "http")]
impl RemoteTask {
    /// Follows the task of `record`, with the `changes` announced since it was read.
    fn follow(
        shared: &crate::state::SharedTaskStore,
        ttl: std::time::Duration,
        record: TaskRecord,
        mut changes: crate::task_book::Changes,
    ) -> RemoteTask {
        let id = record.id.clone();
        let state = Arc::new(RemoteState {
            record: std::sync::Mutex::new(record),
            changes: tokio::sync::watch::channel(0).0,
        });
        let (store, lease) = (Arc::clone(&shared.store), shared.lease);
        let looks = tokio::spawn({
            let (state, id) = (Arc::clone(&state), id.clone());
            async move {
                while !state.record().is_terminal() {
                    tokio::select! {
                        () = changes.of(&id) => {}
                        () = tokio::time::sleep(lease) => {}
                    }
                    let loaded = match store.load(&id).await {
                        Ok(Some(record)) => record,
                        // Expired: it changes no more.
                        Ok(None) => return,
                        Err(error) => {
                            unreachable_store(&error);
                            continue;
                        }
                    };
                    let Ok(loaded) = settled(store.as_ref(), loaded, ttl).await else {
                        continue;
                    };
                    let changed = {
                        let mut current = state.record();
                        let changed = current.task != loaded.task;
                        *current = loaded;
                        changed
                    };
                    if changed {
                        state
                            .changes
                            .send_modify(|count| *count = count.wrapping_add(1));
                    }
                }
            }
        })
        .abort_handle();
        RemoteTask { id, state, looks }
    }
}

#[cfg(feature = "http")]
impl Drop for RemoteTask {
    fn drop(&mut self) {
        self.looks.abort();
    }
}

#[cfg(feature = "http")]
impl Followed for RemoteTask {
    fn id(&self) -> &str {
        &self.id
    }

    fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.state.changes.subscribe()
    }

    fn snapshot(&self) -> (JsonObject, bool) {
        let record = self.state.record();
        (record.task.clone(), record.is_terminal())
    }
}

/// A task a subscription follows: each status goes out as the `DetailedTask` that `tasks/get`
/// would return at that moment.
struct FollowedTask(Arc<StoredTask>);

impl Followed for FollowedTask {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.watch()
    }

    fn snapshot(&self) -> (JsonObject, bool) {
        // Terminal first: a task that ends right after its snapshot is still sent again.
        let done = self.0.is_terminal();
        (self.0.detailed(), done)
    }
}
