//! Tasks for mcpwire: a request that carries a `task` param runs in the background, and its
//! requestor polls it (`tasks/get`), waits for its result (`tasks/result`), lists it
//! (`tasks/list`) and cancels it (`tasks/cancel`).
//!
//! This crate holds what the two roles share as *receivers* of task-augmented requests: the
//! server runs `tools/call` as a task, the client runs `sampling/createMessage` and
//! `elicitation/create` as tasks. Both keep one [`TaskRegistry`] per session, start each task
//! with [`TaskRegistry::spawn`] and route the four `tasks/*` methods to
//! [`TaskRegistry::serve`].
//!
//! Tasks are form of revision 2025-11-25; the `io.modelcontextprotocol/tasks` extension of
//! 2026-07-28 builds on the same store.
//!
//! ```
//! use mcpwire_ext_tasks::{TaskLimits, TaskRegistry};
//! use std::time::Duration;
//!
//! let registry = TaskRegistry::new(TaskLimits {
//!     max_tasks: 16,
//!     max_ttl: Duration::from_secs(600),
//!     ..TaskLimits::default()
//! });
//! let task = registry.create(Some(60_000)).expect("room for a task");
//! assert_eq!(registry.list().len(), 1);
//! assert_eq!(registry.get(&task.id()).expect("found").id(), task.id());
//! ```

mod registry;

pub use registry::{
    Outcome, RELATED_TASK, TaskEntry, TaskLimits, TaskRegistry, created, notify_status,
    with_related_task,
};
