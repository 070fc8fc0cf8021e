//! The parts of sharing tasks with a deployment's other instances that need little else of
//! the server: saving a task's record at each change (and announcing it), failing the record
//! of a task whose instance died, the owner a 2025-11-25 session's tasks are shared under, and
//! the [`Book`]: the session tasks an instance runs and the changes other instances announce.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use mcpwire_ext_tasks::{SharedTasks, SharedTasksError, TaskEntry, TaskRecord};
use mcpwire_jsonrpc::ErrorObject;
use mcpwire_rpc::CancellationToken;
use tokio::sync::{broadcast, watch};

use crate::broadcast::{Announcement, Broadcaster};

/// How many announced changes of tasks an instance keeps for the slowest of those following
/// them; one who falls further behind looks at its task again.
const CHANGES_KEPT: usize = 256;

/// The error of a task whose store of shared tasks cannot be reached, logged.
pub(crate) fn unreachable_store(error: &SharedTasksError) -> ErrorObject {
    tracing::warn!(%error, "the store of shared tasks cannot be reached");
    ErrorObject::internal_error("the task store cannot be reached")
}

/// The record as it stands: a task still running on an instance whose lease lapsed (it died)
/// is recorded, for `ttl`, and answered as `failed`.
///
/// # Errors
///
/// `-32603` when the store cannot be reached.
pub(crate) async fn settled(
    store: &dyn SharedTasks,
    mut record: TaskRecord,
    ttl: Duration,
) -> Result<TaskRecord, ErrorObject> {
    let unreachable = |error: SharedTasksError| unreachable_store(&error);
    if !record.is_terminal()
        && !store
            .holds_lease(record.instance)
            .await
            .map_err(unreachable)?
    {
        record.fail_lost();
        store.save(&record, ttl).await.map_err(unreachable)?;
    }
    Ok(record)
}

/// Saves a shared task's record, as `record` makes it with its time to live, each time
/// `changes` sees the task change, until it is terminal or `stop` fires (cancelled or
/// expired; its record is saved once more then). Each save is announced on the bus, when
/// there is one, to the instances that follow the task.
pub(crate) async fn save_until_ended(
    store: Arc<dyn SharedTasks>,
    broadcaster: Option<Broadcaster>,
    mut changes: watch::Receiver<u64>,
    stop: CancellationToken,
    record: impl Fn() -> (TaskRecord, Duration),
) {
    loop {
        let stopped = tokio::select! {
            changed = changes.changed() => changed.is_err(),
            () = stop.cancelled() => true,
        };
        let (record, ttl) = record();
        match store.save(&record, ttl).await {
            Ok(()) => {
                if let Some(broadcaster) = &broadcaster {
                    let task_id = record.id.clone();
                    broadcaster
                        .announce(&Announcement::TaskChanged { task_id })
                        .await;
                }
            }
            Err(error) => {
                unreachable_store(&error);
            }
        }
        if stopped || record.is_terminal() {
            return;
        }
    }
}

/// The owner of the shared tasks of a session: its principal's digest (`principal`), when its
/// tasks are the principal's, else its id. Apart from every other owner digest.
pub(crate) fn owner_of(principal: Option<[u8; 32]>, session_id: &str) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    match principal {
        Some(principal) => {
            context.update(b"2025-11-25 tasks of a principal\n");
            context.update(&principal);
        }
        None => {
            context.update(b"2025-11-25 tasks of a session\n");
            context.update(session_id.as_bytes());
        }
    }
    let mut owner = [0u8; 32];
    owner.copy_from_slice(context.finish().as_ref());
    owner
}

/// The shared session tasks an instance runs, by id: each with its owner.
type Running = HashMap<String, ([u8; 32], Weak<TaskEntry>)>;

/// What an instance knows of the shared tasks: the session tasks it runs, for the
/// cancellations other instances relay, and the ids of the tasks other instances announce
/// changed, for those here that follow them (`tasks/result` of a session task, and
/// `subscriptions/listen` of a task of the extension).
#[derive(Debug)]
pub(crate) struct Book {
    running: Mutex<Running>,
    changes: broadcast::Sender<Arc<str>>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            running: Mutex::default(),
            changes: broadcast::channel(CHANGES_KEPT).0,
        }
    }
}

/// The changes of tasks announced, as one follower of a task receives them.
pub(crate) struct Changes(broadcast::Receiver<Arc<str>>);

impl Changes {
    /// Waits until task `task_id` changed, or until this follower fell so far behind that it
    /// may have missed that.
    pub(crate) async fn of(&mut self, task_id: &str) {
        loop {
            match self.0.recv().await {
                Ok(changed) if &*changed != task_id => {}
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return,
                // The book lives as long as the server: wait for the other wake-ups.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

impl Book {
    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        // Every critical section is one map operation: a poisoned lock is still consistent.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes that task `task_id` of `owner` runs here, until [`Book::ended`].
    pub(crate) fn runs(&self, task_id: String, owner: [u8; 32], entry: Weak<TaskEntry>) {
        self.running().insert(task_id, (owner, entry));
    }

    /// Notes that task `task_id` ended here.
    pub(crate) fn ended(&self, task_id: &str) {
        self.running().remove(task_id);
    }

    /// Task `task_id` of `owner`, when it runs here.
    pub(crate) fn running_task(&self, task_id: &str, owner: &[u8; 32]) -> Option<Arc<TaskEntry>> {
        self.running()
            .get(task_id)
            .filter(|(running_owner, _)| running_owner == owner)
            .and_then(|(_, entry)| entry.upgrade())
    }

    /// Tells the followers here that another instance announced task `task_id` changed.
    pub(crate) fn heard_change(&self, task_id: &str) {
        // Nobody follows it when nobody receives.
        let _ = self.changes.send(Arc::from(task_id));
    }

    /// The changes announced from now on, for one follower.
    pub(crate) fn changes(&self) -> Changes {
        Changes(self.changes.subscribe())
    }
}
