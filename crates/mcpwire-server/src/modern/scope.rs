//! What a handler's [`Context`](crate::Context) knows of a modern request: everything comes
//! from the request itself, and asking the client replays the answers of earlier rounds.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use mcpwire_jsonrpc::RequestId;
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::meta::LogLevel;
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_schema::{JsonObject, ProtocolVersion};
use serde_json::value::RawValue;

#[cfg(feature = "tasks")]
use mcpwire_ext_tasks::StoredTask;
#[cfg(feature = "tasks")]
use mcpwire_jsonrpc::ErrorObject;

use super::link::Link;
use super::mrtr::Replay;
#[cfg(feature = "tasks")]
use super::mrtr::input_request;
use crate::Error;

/// What a handler's [`Context`](crate::Context) knows of a modern request.
pub(crate) struct ModernScope {
    pub(crate) link: Arc<dyn Link>,
    pub(crate) version: ProtocolVersion,
    pub(crate) client_capabilities: wire::ClientCapabilities,
    pub(crate) client_extensions: BTreeMap<String, JsonObject>,
    pub(crate) client_info: Option<wire::Implementation>,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) progress_token: Option<RequestId>,
    /// Fires with the request's cancellation, and when the run stops for input.
    pub(crate) cancellation: CancellationToken,
    /// The answers of a request that may ask the client (`tools/call`, `prompts/get`,
    /// `resources/read`).
    pub(crate) replay: Option<Arc<Replay>>,
    /// Where the request's task goes, when the request may be answered with one (the tasks
    /// extension): once the task exists, asking the client asks the task's requestor.
    #[cfg(feature = "tasks")]
    pub(crate) task: Option<Arc<TaskSlot>>,
}

/// The task a modern request may become: made at most once, by the handler
/// (`Context::continue_as_task`) or by the dispatch when the handler first waits.
#[cfg(feature = "tasks")]
pub(crate) struct TaskSlot {
    store: Arc<mcpwire_ext_tasks::TaskStore>,
    owner: mcpwire_ext_tasks::Owner,
    /// The task once made, or why the store refused it.
    task: std::sync::Mutex<Option<Result<Arc<StoredTask>, ErrorObject>>>,
}

#[cfg(feature = "tasks")]
impl TaskSlot {
    pub(crate) fn new(
        store: Arc<mcpwire_ext_tasks::TaskStore>,
        owner: mcpwire_ext_tasks::Owner,
    ) -> Self {
        TaskSlot {
            store,
            owner,
            task: std::sync::Mutex::new(None),
        }
    }

    /// The task, made by the first call; every call gets the same task, or the same refusal.
    ///
    /// # Errors
    ///
    /// The store's refusal (-32600 beyond the limits of tasks).
    pub(crate) fn get_or_create(&self) -> Result<Arc<StoredTask>, ErrorObject> {
        let mut task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        task.get_or_insert_with(|| self.store.create(self.owner, None))
            .clone()
    }

    /// The task, if it was made.
    pub(crate) fn created(&self) -> Option<Arc<StoredTask>> {
        self.task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .and_then(|task| task.as_ref().ok().cloned())
    }
}

impl fmt::Debug for ModernScope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ModernScope")
            .field("request_id", self.link.request_id())
            .field("version", &self.version)
            .field("log_level", &self.log_level)
            .finish_non_exhaustive()
    }
}

impl ModernScope {
    /// Whether a log message at `level` goes out: only when the request asked for a level and
    /// `level` is at or above it.
    pub(crate) fn should_log(&self, level: &wire::LoggingLevel) -> bool {
        match (self.log_level, LogLevel::from_wire(level.as_str())) {
            (Some(threshold), Some(level)) => level >= threshold,
            _ => false,
        }
    }

    /// The task the request became, if it did.
    #[cfg(feature = "tasks")]
    pub(crate) fn task(&self) -> Option<Arc<StoredTask>> {
        self.task.as_ref().and_then(|slot| slot.created())
    }

    /// Whether the request became a task, whose requestor has its answer already.
    pub(crate) fn runs_as_task(&self) -> bool {
        #[cfg(feature = "tasks")]
        return self.task().is_some();
        #[cfg(not(feature = "tasks"))]
        false
    }

    /// Asks the client for input while serving this request: the answer when the client
    /// gave it, or else the handler parks until the round ends (see [`mrtr`](super::mrtr)).
    /// Once the request is a task, the task asks its requestor instead, and waits for the
    /// answer to come through `tasks/update`.
    pub(crate) async fn ask(
        &self,
        method: &str,
        params: JsonObject,
        key: Option<String>,
    ) -> Result<Box<RawValue>, Error> {
        #[cfg(feature = "tasks")]
        if let Some(task) = self.task() {
            let request = input_request(method, params)?;
            let answer = task.ask(key, request).await.map_err(|error| {
                if task.is_terminal() {
                    Error::cancelled()
                } else {
                    Error::protocol(error.message)
                }
            })?;
            return serde_json::value::to_raw_value(&answer)
                .map_err(|error| Error::protocol(error.to_string()));
        }
        match &self.replay {
            Some(replay) => replay.ask(method, params, key).await,
            None => Err(Error::unsupported(format!(
                "`{method}` can be asked only while serving tools/call, prompts/get or \
                 resources/read in the modern era"
            ))),
        }
    }
}
