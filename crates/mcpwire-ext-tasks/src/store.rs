//! The tasks of the `io.modelcontextprotocol/tasks` extension that one server keeps: bound to
//! their owner, bounded per owner and in all, and freed when their time to live ends.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use tokio::time::Instant;

use crate::owner::Owner;
use crate::registry::TaskLimits;
use crate::task::{StoredTask, new_task_id};

/// The tasks of the extension a server keeps, in memory.
///
/// Bounded twice: [`TaskLimits::max_tasks`] tasks per owner and
/// [`TaskLimits::max_stored_tasks`] in all, terminal ones included, until their time to live
/// ends. Every task lives [`TaskLimits::max_ttl`] at most; an expired task is removed (and its
/// work cancelled) by the next call that touches the store.
#[derive(Debug)]
pub struct TaskStore {
    limits: TaskLimits,
    stored: Mutex<Stored>,
}

#[derive(Debug, Default)]
struct Stored {
    by_id: HashMap<String, Arc<StoredTask>>,
    /// Every task by the instant it expires, to free the expired ones in order.
    by_expiry: BTreeSet<(Instant, String)>,
    /// How many tasks each owner holds; owners without tasks have no entry.
    per_owner: HashMap<Owner, usize>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a few inserts and removals: a poisoned lock is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error for a task the caller cannot see: unknown, expired, or another owner's, all
/// alike so that nothing tells them apart (-32602, as the spec names it).
pub(crate) fn not_found() -> ErrorObject {
    ErrorObject::invalid_params("Failed to retrieve task: Task not found")
}

impl Default for TaskStore {
    fn default() -> Self {
        TaskStore::new(TaskLimits::default())
    }
}

impl TaskStore {
    /// An empty store with these bounds.
    pub fn new(limits: TaskLimits) -> Self {
        TaskStore {
            limits,
            stored: Mutex::default(),
        }
    }

    /// The bounds of the store.
    pub fn limits(&self) -> &TaskLimits {
        &self.limits
    }

    /// Creates a task of `owner` in `working`, kept for `requested_ttl` capped at
    /// [`TaskLimits::max_ttl`] (the cap when `None`). The task can be found as soon as this
    /// returns, so a `CreateTaskResult` may be sent.
    ///
    /// # Errors
    ///
    /// -32600 when the owner holds [`TaskLimits::max_tasks`] tasks or the store
    /// [`TaskLimits::max_stored_tasks`]; -32603 when the operating system has no randomness for
    /// an id.
    pub fn create(
        &self,
        owner: Owner,
        requested_ttl: Option<Duration>,
    ) -> Result<Arc<StoredTask>, ErrorObject> {
        let ttl = requested_ttl.map_or(self.limits.max_ttl, |ttl| ttl.min(self.limits.max_ttl));
        let id = new_task_id()?;
        let now = Instant::now();
        let mut stored = lock(&self.stored);
        stored.purge(now);
        let held = stored.per_owner.get(&owner).copied().unwrap_or(0);
        if held >= self.limits.max_tasks {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!(
                    "a caller may hold at most {} tasks; wait for some to expire",
                    self.limits.max_tasks
                ),
            ));
        }
        if stored.by_id.len() >= self.limits.max_stored_tasks {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "the server holds as many tasks as it may; try again later",
            ));
        }
        let task = Arc::new(StoredTask::new(
            id.clone(),
            owner,
            ttl,
            self.limits.poll_interval,
            now,
        ));
        stored.by_expiry.insert((task.expires_at(), id.clone()));
        stored.by_id.insert(id, Arc::clone(&task));
        *stored.per_owner.entry(owner).or_default() += 1;
        Ok(task)
    }

    /// The task `task_id`, if `owner` may see it.
    ///
    /// # Errors
    ///
    /// -32602 when there is no such task, it expired, or another owner holds it: the caller
    /// cannot tell which.
    pub fn get(&self, owner: Owner, task_id: &str) -> Result<Arc<StoredTask>, ErrorObject> {
        let mut stored = lock(&self.stored);
        stored.purge(Instant::now());
        stored
            .by_id
            .get(task_id)
            .filter(|task| task.owner() == owner)
            .cloned()
            .ok_or_else(not_found)
    }

    /// How many tasks the store holds, after freeing the expired ones.
    pub fn len(&self) -> usize {
        let mut stored = lock(&self.stored);
        stored.purge(Instant::now());
        stored.by_id.len()
    }

    /// Whether the store holds no task, after freeing the expired ones.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Stored {
    /// Frees every task whose time to live has ended, and cancels its work.
    fn purge(&mut self, now: Instant) {
        while let Some(first) = self.by_expiry.first() {
            if first.0 > now {
                break;
            }
            let Some((_, id)) = self.by_expiry.pop_first() else {
                break;
            };
            let Some(task) = self.by_id.remove(&id) else {
                continue;
            };
            task.cancellation().cancel();
            if let Some(held) = self.per_owner.get_mut(&task.owner()) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    self.per_owner.remove(&task.owner());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(byte: u8) -> Owner {
        Owner::new(Some([byte; 32]))
    }

    #[tokio::test]
    async fn a_task_is_found_by_its_owner_only() {
        let store = TaskStore::default();
        let alice = store.create(principal(1), None).expect("created");
        let anonymous = store.create(Owner::ANONYMOUS, None).expect("created");
        assert_ne!(alice.id(), anonymous.id());
        assert_eq!(alice.id().len(), 32);
        assert_eq!(
            store.get(principal(1), alice.id()).expect("found").id(),
            alice.id()
        );
        for (owner, task) in [
            (principal(2), &alice),
            (Owner::ANONYMOUS, &alice),
            (principal(1), &anonymous),
        ] {
            let error = store.get(owner, task.id()).expect_err("not theirs");
            assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
            assert_eq!(error.message, not_found().message, "indistinguishable");
        }
        assert_eq!(
            store
                .get(principal(1), "unknown")
                .expect_err("unknown")
                .message,
            not_found().message
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_time_to_live_is_capped_and_expiry_frees_the_store() {
        let store = TaskStore::new(TaskLimits {
            max_ttl: Duration::from_secs(60),
            ..TaskLimits::default()
        });
        let capped = store
            .create(Owner::ANONYMOUS, Some(Duration::from_secs(3600)))
            .expect("created");
        assert_eq!(capped.ttl(), Duration::from_secs(60));
        assert_eq!(capped.created()["ttlMs"], 60_000, "reported as kept");
        let short = store
            .create(Owner::ANONYMOUS, Some(Duration::from_secs(10)))
            .expect("created");
        assert_eq!(short.detailed()["ttlMs"], 10_000);
        assert_eq!(store.len(), 2);

        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert!(store.get(Owner::ANONYMOUS, short.id()).is_ok(), "not early");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(store.get(Owner::ANONYMOUS, short.id()).is_err());
        assert!(short.cancellation().is_cancelled(), "its work is stopped");
        assert_eq!(store.len(), 1);

        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(store.is_empty(), "every expired task is freed");
        assert!(capped.cancellation().is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn live_tasks_are_bounded_per_owner_and_in_all() {
        let store = TaskStore::new(TaskLimits {
            max_tasks: 2,
            max_stored_tasks: 3,
            max_ttl: Duration::from_secs(60),
            ..TaskLimits::default()
        });
        for _ in 0..2 {
            store.create(principal(1), None).expect("room");
        }
        let error = store.create(principal(1), None).expect_err("owner full");
        assert_eq!(error.code, ErrorCode::INVALID_REQUEST);
        let finished = store
            .create(principal(2), None)
            .expect("another owner has room");
        assert!(finished.complete(mcpwire_schema::JsonObject::new()));
        let error = store
            .create(principal(3), None)
            .expect_err("the store is full, terminal tasks included");
        assert_eq!(error.code, ErrorCode::INVALID_REQUEST);
        tokio::time::advance(Duration::from_secs(60)).await;
        store
            .create(principal(1), None)
            .expect("room again once the tasks expired");
        assert_eq!(store.len(), 1);
    }
}
