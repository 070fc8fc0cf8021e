//! The tasks (2025-11-25) of the sessions a deployment's instances share: a task runs on the
//! instance whose copy of the session made it, and its record, saved before its
//! `CreateTaskResult` goes out and at each change, lets every other copy answer `tasks/get`,
//! `tasks/result`, `tasks/list` and `tasks/cancel` for it (features `tasks` and `http`).
//!
//! A task belongs to its session, or to its principal when an authorization layer named one:
//! the record's owner is a digest of either, apart from the owners of the extension's tasks.
//! A copy answers from its own registry when the task runs here, else from the record: a task
//! whose instance's lease lapsed ends `failed`; `tasks/result` waits for the announcement that
//! the task ended (checking the lease meanwhile); `tasks/cancel` records the cancellation and
//! tells the running instance over the bus, which stops the work.

use std::collections::HashMap;
use std::sync::Arc;

use mcpwire_ext_tasks::{Outcome, SharedTasksError, TaskEntry, TaskRecord};
use mcpwire_jsonrpc::{ErrorObject, decode_params};
use mcpwire_rpc::{CancellationToken, Peer};
use mcpwire_schema::v2025_11_25 as wire;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::broadcast::Announcement;
use crate::router::Route;
use crate::session::SessionState;
use crate::state::{Inner, SharedTaskStore};
use crate::task_book::{save_until_ended, settled, unreachable_store};

/// Prefix of the cursors of `tasks/list` over shared tasks.
const CURSOR_PREFIX: &str = "shared-task:";

/// Shares `entry`, a task just made by a session whose tasks belong to `owner`: saves its
/// record and indexes it under its owner, then saves each change until it ends, when the other
/// instances are told. Call it before the work starts and before the `CreateTaskResult` goes
/// out.
///
/// # Errors
///
/// `-32603` when the store cannot be reached: the task is not to be run.
pub(crate) async fn share(
    server: &Arc<Inner>,
    entry: &Arc<TaskEntry>,
    owner: [u8; 32],
) -> Result<(), ErrorObject> {
    let Some(shared) = server.settings().shared_tasks.clone() else {
        return Ok(());
    };
    let unreachable = |error: SharedTasksError| unreachable_store(&error);
    server
        .hold_lease(&shared.store, shared.lease)
        .await
        .map_err(unreachable)?;
    let instance = server.instance();
    let record = TaskRecord::of_session_task(entry, owner, instance);
    shared
        .store
        .save(&record, entry.time_left())
        .await
        .map_err(unreachable)?;
    shared
        .store
        .index(&owner, &record.id, entry.time_left())
        .await
        .map_err(unreachable)?;
    let task_id = record.id;
    server
        .session_tasks()
        .runs(task_id.clone(), owner, Arc::downgrade(entry));
    let weak = Arc::downgrade(server);
    let entry = Arc::clone(entry);
    let broadcaster = server.broadcaster().cloned();
    tokio::spawn(async move {
        save_until_ended(
            shared.store,
            broadcaster,
            entry.watch(),
            entry.cancellation().clone(),
            || {
                let record = TaskRecord::of_session_task(&entry, owner, instance);
                (record, entry.time_left())
            },
        )
        .await;
        if let Some(server) = weak.upgrade() {
            server.session_tasks().ended(&task_id);
        }
    });
    Ok(())
}

/// Acts on another instance's announcement about a shared task: a cancellation of a session
/// task this instance runs stops it; a change wakes those here who follow the task.
pub(crate) fn hear(server: &Inner, announcement: &Announcement) {
    match announcement {
        Announcement::TaskCancelled {
            task_id,
            owner: Some(owner),
        } => {
            if let Some(entry) = server.session_tasks().running_task(task_id, owner) {
                entry.cancel();
            }
        }
        Announcement::TaskChanged { task_id } => {
            server.session_tasks().heard_change(task_id);
        }
        _ => {}
    }
}

/// The `taskId` of the params of `tasks/get`, `tasks/result` and `tasks/cancel`.
#[derive(Deserialize)]
struct TaskParams {
    #[serde(rename = "taskId")]
    task_id: String,
}

/// Answers a `tasks/*` method of a session whose tasks are shared under `owner`: `tasks/list`
/// from the records, the others from the record of a task another instance runs or ran.
/// `None` leaves the method to the session's own registry: the task runs here, the params do
/// not name one, or no record of the owner's names it.
pub(crate) async fn serve(
    server: &Arc<Inner>,
    state: &SessionState,
    owner: [u8; 32],
    method: &str,
    params: Option<&RawValue>,
    peer: &Peer,
    cancellation: &CancellationToken,
) -> Option<Outcome> {
    let shared = server.settings().shared_tasks.as_ref()?;
    let route = Route::of(method)?;
    if route == Route::ListTasks {
        return Some(list(server, shared, state, owner, params).await);
    }
    if !matches!(
        route,
        Route::GetTask | Route::TaskResult | Route::CancelTask
    ) {
        return None;
    }
    let task_id = params
        .and_then(|params| serde_json::from_str::<TaskParams>(params.get()).ok())?
        .task_id;
    if state.tasks().get(&task_id).is_ok() {
        return None;
    }
    let record = match shared.store.load(&task_id).await {
        Ok(Some(record)) if record.owner == Some(owner) => record,
        Ok(_) => return None,
        Err(error) => return Some(Err(unreachable_store(&error))),
    };
    let outcome = match route {
        Route::GetTask => current(server, shared, record)
            .await
            .and_then(|record| encode(&record.session_task()?)),
        Route::TaskResult => result(server, shared, &task_id, owner, cancellation).await,
        _ => cancel(server, shared, record, peer).await,
    };
    Some(outcome)
}

/// The record as it stands: `failed` when its instance died.
async fn current(
    server: &Inner,
    shared: &SharedTaskStore,
    record: TaskRecord,
) -> Result<TaskRecord, ErrorObject> {
    let ttl = server.settings().task_limits.max_ttl;
    settled(shared.store.as_ref(), record, ttl).await
}

/// `tasks/result` of a task another instance runs: its outcome once the record says it ended,
/// waiting for the announcements of its changes and checking the running instance's lease once
/// per lease meanwhile, until the request is cancelled.
async fn result(
    server: &Inner,
    shared: &SharedTaskStore,
    task_id: &str,
    owner: [u8; 32],
    cancellation: &CancellationToken,
) -> Outcome {
    // Followed before each look, so that a change announced right after it still wakes.
    let mut changes = server.session_tasks().changes();
    loop {
        let record = match shared.store.load(task_id).await {
            Ok(Some(record)) if record.owner == Some(owner) => record,
            Ok(_) => {
                return Err(ErrorObject::invalid_params(format!(
                    "no task `{task_id}` (unknown or expired)"
                )));
            }
            Err(error) => return Err(unreachable_store(&error)),
        };
        if let Some(outcome) = current(server, shared, record).await?.session_outcome() {
            return outcome;
        }
        tokio::select! {
            () = changes.of(task_id) => {}
            () = tokio::time::sleep(shared.lease) => {}
            () = cancellation.cancelled() => {
                return Err(ErrorObject::internal_error("the request was cancelled"));
            }
        }
    }
}

/// `tasks/cancel` of a task another instance runs: recorded `cancelled`, the client told, and
/// the running instance told to stop the work.
async fn cancel(
    server: &Inner,
    shared: &SharedTaskStore,
    record: TaskRecord,
    peer: &Peer,
) -> Outcome {
    let mut record = current(server, shared, record).await?;
    if record.is_terminal() {
        return Err(ErrorObject::invalid_params(format!(
            "task `{}` has already finished",
            record.id
        )));
    }
    record.cancel();
    let ttl = server.settings().task_limits.max_ttl;
    shared
        .store
        .save(&record, ttl)
        .await
        .map_err(|error| unreachable_store(&error))?;
    let task = record.session_task()?;
    if let Some(broadcaster) = server.broadcaster() {
        broadcaster
            .announce(&Announcement::TaskCancelled {
                task_id: record.id,
                owner: record.owner,
            })
            .await;
    }
    mcpwire_ext_tasks::notify_status(peer, task.clone()).await;
    encode(&task)
}

/// `tasks/list` of a session whose tasks are shared: every task of its owner on any instance,
/// oldest first, a page at a time; those running here as they are now.
async fn list(
    server: &Inner,
    shared: &SharedTaskStore,
    state: &SessionState,
    owner: [u8; 32],
    params: Option<&RawValue>,
) -> Outcome {
    let params: Option<wire::PaginatedRequestParams> = decode_params(params)?;
    let cursor = params.and_then(|params| params.cursor);
    let limits = &server.settings().task_limits;
    let records = shared
        .store
        .owned(&owner, limits.max_tasks)
        .await
        .map_err(|error| unreachable_store(&error))?;
    let start = match cursor {
        None => 0,
        Some(cursor) => {
            let after = cursor
                .strip_prefix(CURSOR_PREFIX)
                .and_then(|after| records.iter().position(|record| record.id == after))
                .ok_or_else(|| ErrorObject::invalid_params("invalid cursor"))?;
            after + 1
        }
    };
    let page_size = server.settings().page_size.max(1);
    let mut tasks = Vec::new();
    // Whether each instance running a task of the page still holds its lease, asked once.
    let mut alive: HashMap<u64, bool> = HashMap::new();
    for record in records.iter().skip(start).take(page_size) {
        if let Ok(entry) = state.tasks().get(&record.id) {
            tasks.push(entry.snapshot());
            continue;
        }
        let record = if record.is_terminal() || alive.get(&record.instance) == Some(&true) {
            record.clone()
        } else {
            let record = current(server, shared, record.clone()).await?;
            alive.insert(record.instance, !record.is_terminal());
            record
        };
        tasks.push(record.session_task()?);
    }
    let next_cursor = records
        .get(start + page_size)
        .and(records.get(start + page_size - 1))
        .map(|last| format!("{CURSOR_PREFIX}{}", last.id));
    encode(&wire::ListTasksResult {
        meta: None,
        next_cursor,
        tasks,
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Outcome {
    serde_json::value::to_raw_value(value)
        .map_err(|error| ErrorObject::internal_error(error.to_string()))
}
