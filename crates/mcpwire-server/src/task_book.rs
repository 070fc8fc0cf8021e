//! What an instance knows of the tasks (2025-11-25) of the sessions its deployment shares:
//! the owner they are shared under, the tasks it runs, and the task ends announced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use mcpwire_ext_tasks::TaskEntry;
use tokio::sync::watch;

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

/// What an instance knows of the shared session tasks: those it runs, for the cancellations
/// other instances relay, and the count of task ends announced, for the `tasks/result` waits.
#[derive(Debug)]
pub(crate) struct Book {
    running: Mutex<Running>,
    ends: watch::Sender<u64>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            running: Mutex::default(),
            ends: watch::channel(0).0,
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

    /// Counts an end of a task that another instance announced.
    pub(crate) fn heard_end(&self) {
        self.ends
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A receiver that sees each end announced from now on.
    pub(crate) fn ends(&self) -> watch::Receiver<u64> {
        self.ends.subscribe()
    }
}
