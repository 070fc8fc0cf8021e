//! The requestor side of tasks (2025-11-25, feature `tasks`): calling a tool as a task, and
//! following it with `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`.

use mcpwire_ext_tasks::{FollowLimits, Patience, TaskChannel, TaskRequestor, task_param};
use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_schema::v2025_11_25::methods::{CallTool, ListTasks};
use mcpwire_schema::v2025_11_25::{
    CallToolRequestParams, CallToolResult, CancelTaskResult, CreateTaskResult, GetTaskResult, Task,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{decode, tool_arguments};
use crate::{CallOptions, Client, Error, capability};

impl Client {
    /// Calls a tool as a task (2025-11-25): the server answers at once with the task, runs
    /// the tool in the background, and [`Client::tool_task_result`] waits for its result.
    /// `ttl_ms` asks how long the server keeps the task; the server may choose another.
    ///
    /// # Errors
    ///
    /// [`Error::is_capability_missing`] when the server did not declare
    /// `tasks.requests.tools.call`; otherwise as [`Client::request`] (a tool that does not
    /// support tasks is refused with -32601).
    pub async fn call_tool_as_task(
        &self,
        name: impl Into<String>,
        arguments: Value,
        ttl_ms: Option<i64>,
    ) -> Result<CreateTaskResult, Error> {
        let method = <CallTool as RequestMethod>::METHOD;
        let capabilities = self.server_capabilities();
        if let Some(capability) = capability::missing(capabilities, "tools/call as a task") {
            return Err(Error::server_capability_missing(capability, method));
        }
        let arguments = tool_arguments(method, arguments)?;
        let params = CallToolRequestParams {
            meta: None,
            arguments,
            name: name.into(),
            task: Some(task_param(ttl_ms)),
        };
        let result = self.call(method, &params, CallOptions::default()).await?;
        decode::<CreateTaskResult>(method, &result)
    }

    /// Polls a task (`tasks/get`).
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; an unknown or expired task is a remote -32602.
    pub async fn get_task(&self, task_id: impl Into<String>) -> Result<GetTaskResult, Error> {
        requestor(self).get(&task_id.into()).await
    }

    /// Waits for the result of a tool call run as a task (`tasks/result`): the tool's result,
    /// or the error the call would have had.
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    pub async fn tool_task_result(
        &self,
        task_id: impl Into<String>,
    ) -> Result<CallToolResult, Error> {
        requestor(self).result(&task_id.into()).await
    }

    /// Follows a tool call run as a task to its end and returns the tool's result: polls
    /// `tasks/get` at the server's `pollInterval` (kept within the bounds of
    /// [`FollowLimits::default`]: between 50 ms and 60 s, 1 s when the server names none) and asks `tasks/result` as soon as the task is finished, or needs input.
    ///
    /// A task waiting for input (`input_required`) is served by `tasks/result`: a server of
    /// revision 2025-11-25 may send the elicitation or sampling request the task waits for
    /// only while a `tasks/result` of the task is pending, so polling `tasks/get` alone could
    /// wait forever. The client's handlers answer those requests as any other.
    ///
    /// # Errors
    ///
    /// As [`Client::get_task`] and [`Client::tool_task_result`]: a task that failed ends with
    /// the error its call would have had; one found cancelled, with
    /// [`Error::is_task_cancelled`] (and its id in [`Error::task_id`]), without asking for a
    /// result it does not have.
    pub async fn finish_tool_task(
        &self,
        task_id: impl Into<String>,
    ) -> Result<CallToolResult, Error> {
        requestor(self)
            .finish(&task_id.into(), &FollowLimits::default())
            .await
    }

    /// Lists this client's tasks, following `nextCursor` through the pages.
    ///
    /// # Errors
    ///
    /// As [`Client::list_tools`]; needs the server's `tasks.list` capability.
    pub async fn list_tasks(&self) -> Result<Vec<Task>, Error> {
        self.list_all::<ListTasks>().await
    }

    /// Cancels a task (`tasks/cancel`), returning it in its `cancelled` state.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; a task that already finished is a remote -32602.
    pub async fn cancel_task(&self, task_id: impl Into<String>) -> Result<CancelTaskResult, Error> {
        requestor(self).cancel(&task_id.into()).await
    }
}

/// The requestor of the tasks this client asked the server for, which lives in
/// `mcpwire-ext-tasks` and is shared with the server's requestor of the client's tasks.
fn requestor(client: &Client) -> TaskRequestor<Channel<'_>> {
    TaskRequestor::new(Channel(client))
}

/// The client's connection, as the requestor sends over it.
struct Channel<'a>(&'a Client);

impl TaskChannel for Channel<'_> {
    type Error = Error;

    async fn send<P, R>(
        &self,
        method: &'static str,
        params: &P,
        patience: Patience,
    ) -> Result<R, Error>
    where
        P: Serialize + Sync,
        R: DeserializeOwned,
    {
        let options = match patience {
            Patience::Usual => CallOptions::default(),
            Patience::Unbounded => CallOptions::default().without_timeout(),
        };
        let result = self.0.call(method, params, options).await?;
        decode(method, &result)
    }

    fn cancelled(&self, task_id: &str) -> Error {
        Error::task_cancelled(CallTool::METHOD, task_id)
    }
}
