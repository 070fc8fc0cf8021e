//! Tasks for mcpwire, in both forms: the tasks of revision 2025-11-25 and the
//! `io.modelcontextprotocol/tasks` extension of 2026-07-28 (SEP-2663).
//!
//! **2025-11-25.** A request that carries a `task` param runs in the background, and its
//! requestor polls it (`tasks/get`), waits for its result (`tasks/result`), lists it
//! (`tasks/list`) and cancels it (`tasks/cancel`). This crate holds what the two roles share as
//! *receivers* of such requests: the server runs `tools/call` as a task, the client runs
//! `sampling/createMessage` and `elicitation/create` as tasks. Both keep one [`TaskRegistry`]
//! per session (the server one per authenticated principal, from [`PrincipalTasks`], so that
//! a task outlives its session), start each task with [`TaskRegistry::spawn`] and route the
//! four `tasks/*` methods to [`TaskRegistry::serve`].
//!
//! **The extension (2026-07-28).** The server decides, per request, to answer a `tools/call`
//! with a task handle (`CreateTaskResult`, `resultType: "task"`) when the request declared the
//! extension ([`EXTENSION`]) in its capabilities. The requestor polls `tasks/get`, which inlines
//! the result or error once the task is terminal, answers the task's input requests with
//! `tasks/update`, and cancels with `tasks/cancel`. The server keeps these tasks in one
//! [`TaskStore`], each bound to the principal that created it ([`Owner`]), bounded per owner
//! and in all, and freed when its time to live ends; [`StoredTask`] is one of them, whose work
//! asks for input with [`StoredTask::ask`]. [`TaskStore::serve`] answers the three methods.
//! The requestor's side is [`TaskFollower`]: it reads each look at a task and says what to do
//! next ([`FollowStep`]: wait the server's interval, answer new input requests, or take the
//! end), within [`FollowLimits`]; the role that follows does the sending.
//!
//! ```
//! use mcpwire_ext_tasks::{Owner, TaskLimits, TaskRegistry, TaskStore};
//! use std::time::Duration;
//!
//! // 2025-11-25: the tasks of one session.
//! let registry = TaskRegistry::new(TaskLimits {
//!     max_tasks: 16,
//!     max_ttl: Duration::from_secs(600),
//!     ..TaskLimits::default()
//! });
//! let task = registry.create(Some(60_000)).expect("room for a task");
//! assert_eq!(registry.list().len(), 1);
//! assert_eq!(registry.get(&task.id()).expect("found").id(), task.id());
//!
//! // The extension: the tasks of a server, by owner.
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let store = TaskStore::new(TaskLimits::default());
//! let task = store.create(Owner::ANONYMOUS, None).expect("room for a task");
//! assert_eq!(task.created()["resultType"], "task");
//! assert!(store.get(Owner::new(Some([7; 32])), task.id()).is_err(), "another principal's");
//! # });
//! ```

mod extension;
mod owner;
mod principals;
mod registry;
mod requestor;
mod requests;
mod shared;
mod store;
mod task;

pub use extension::{EXTENSION, missing_extension};
pub use owner::Owner;
pub use principals::PrincipalTasks;
pub use registry::{
    Outcome, RELATED_TASK, TaskEntry, TaskLimits, TaskRegistry, created, notify_status,
    with_related_task,
};
pub use requestor::{FollowLimits, FollowStep, TaskFollower};
pub use requests::{Patience, TaskChannel, TaskRequestor, task_param};
pub use shared::{BoxFuture, SharedTasks, SharedTasksError, TaskRecord};
pub use store::TaskStore;
pub use task::{MAX_INPUT_REQUESTS, StoredTask};
