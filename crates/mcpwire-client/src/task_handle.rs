//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`), requestor side: a
//! tool call that the server answers with a task, followed to its result.
//!
//! `mcpwire-ext-tasks`' [`TaskFollower`] decides each step (wait, answer input, take the
//! end); this module only sends what it asks for, with the client's connection and handlers.

use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use mcpwire_ext_tasks::{FollowLimits, FollowStep, TaskFollower};
use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_schema::ext_tasks::methods::{CancelTask, GetTask, UpdateTask};
use mcpwire_schema::ext_tasks::{CancelTaskRequestParams, GetTaskRequestParams, TaskStatus};
use mcpwire_schema::v2025_11_25::methods::CallTool;
use mcpwire_schema::v2025_11_25::{CallToolRequestParams, CallToolResult};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::client::{Sent, decode, tool_arguments};
use crate::mrtr::{self, InputRequest};
use crate::{CallOptions, Client, Error};

/// The only request that may become a task of the extension, so far.
const METHOD: &str = <CallTool as RequestMethod>::METHOD;

/// How the server answered a tool call started with [`Client::start_tool_call`].
#[derive(Debug)]
pub enum ToolCall {
    /// The tool's result.
    Complete(CallToolResult),
    /// The server runs the call as a task: follow it with the handle.
    Task(TaskHandle),
}

/// A tool call that the server runs as a task of the tasks extension
/// (`io.modelcontextprotocol/tasks`): its id and last known status, one poll at a time
/// ([`TaskHandle::poll`]), cancellation ([`TaskHandle::cancel`]), or its result when awaited.
///
/// Awaiting the handle (or [`TaskHandle::result`]) polls `tasks/get` at the server's interval,
/// answers the task's input requests with the client's sampling, elicitation and roots
/// handlers through `tasks/update` (each request once, however often it is shown), and
/// resolves to the tool's result. The task is followed for no longer than its time to live and
/// [`FollowLimits::max_follow`](crate::FollowLimits::max_follow).
///
/// ```no_run
/// # async fn run(client: mcpwire_client::Client) -> Result<(), mcpwire_client::Error> {
/// use mcpwire_client::ToolCall;
/// use serde_json::json;
///
/// match client.start_tool_call("index", json!({"path": "/src"})).await? {
///     ToolCall::Complete(result) => println!("done at once: {result:?}"),
///     ToolCall::Task(task) => {
///         println!("running as task {}", task.id());
///         let result = task.await?;
///         println!("done: {result:?}");
///     }
/// }
/// # Ok(()) }
/// ```
///
/// Dropping the handle leaves the task running on the server; [`Client::resume_task`] follows
/// it again by its id.
pub struct TaskHandle {
    client: Client,
    follower: TaskFollower,
}

impl Client {
    /// Calls the tool `name` with `arguments` (a JSON object, or `Value::Null` for none), and
    /// returns the result, or the task the server runs the call as.
    ///
    /// A server makes a task of a call only when the client declares the tasks extension
    /// ([`ClientBuilder::tasks_extension`](crate::ClientBuilder::tasks_extension)) and the
    /// server declared it too, in the modern era; otherwise this is [`Client::call_tool`]. Input
    /// the server asks for before it decides is answered as in any call.
    ///
    /// # Errors
    ///
    /// As [`Client::call_tool`]; a server that requires a task for the tool from a client that
    /// does not declare the extension answers `-32021`
    /// ([`Error::is_missing_client_capability`]).
    pub async fn start_tool_call(
        &self,
        name: impl Into<String>,
        arguments: Value,
    ) -> Result<ToolCall, Error> {
        let mut params = CallToolRequestParams::new(name);
        params.arguments = tool_arguments(METHOD, arguments)?;
        match self
            .send_call(METHOD, &params, CallOptions::default())
            .await?
        {
            Sent::Result(result) => decode(METHOD, &result).map(ToolCall::Complete),
            Sent::Task(created) => TaskHandle::created(self, &created).map(ToolCall::Task),
        }
    }

    /// A handle on the task `task_id` of the tasks extension, such as one kept from an
    /// earlier connection: its status is `working` until polled, and it is followed for at
    /// most [`FollowLimits::max_follow`](crate::FollowLimits::max_follow) from now.
    ///
    /// Its requests need the extension declared by both sides; they fail with
    /// [`Error::is_capability_missing`] otherwise.
    pub fn resume_task(&self, task_id: impl Into<String>) -> TaskHandle {
        TaskHandle {
            client: self.clone(),
            follower: TaskFollower::resume(task_id.into(), self.limits()),
        }
    }

    fn limits(&self) -> FollowLimits {
        self.follow_limits().cloned().unwrap_or_default()
    }
}

/// Follows the task whose `CreateTaskResult` is `created` to its end, and returns the result
/// of its request: what a call the server made a task of resolves to.
///
/// Boxed, because following sends calls of its own: the future would otherwise contain
/// itself.
pub(crate) fn follow<'a>(
    client: &'a Client,
    created: &'a RawValue,
) -> Pin<Box<dyn Future<Output = Result<Box<RawValue>, Error>> + Send + 'a>> {
    Box::pin(async move { TaskHandle::created(client, created)?.finish().await })
}

/// The params of `tasks/update` (the generated type reads the answers' shapes; these are
/// sent as the handlers gave them).
#[derive(Serialize)]
struct UpdateParams<'a> {
    #[serde(rename = "taskId")]
    task_id: &'a str,
    #[serde(rename = "inputResponses")]
    input_responses: Map<String, Value>,
}

impl TaskHandle {
    fn created(client: &Client, created: &RawValue) -> Result<Self, Error> {
        let follower = TaskFollower::created(created, client.limits())
            .map_err(|error| Error::decode(METHOD, error))?;
        Ok(TaskHandle {
            client: client.clone(),
            follower,
        })
    }

    /// The task's id, by which [`Client::resume_task`] finds it again.
    pub fn id(&self) -> &str {
        self.follower.id()
    }

    /// The status the task had when last seen.
    pub fn status(&self) -> &TaskStatus {
        self.follower.status()
    }

    /// The message that came with the last status seen, if any.
    pub fn status_message(&self) -> Option<&str> {
        self.follower.status_message()
    }

    /// How long to wait before the next poll: the server's last announced interval, within
    /// [`FollowLimits`](crate::FollowLimits).
    pub fn poll_interval(&self) -> Duration {
        self.follower.poll_interval()
    }

    /// Polls the task once (`tasks/get`): `Some` with the tool's result when it completed,
    /// `None` while it runs. When it asks for input, the requests not answered before are
    /// answered with the client's handlers and sent with `tasks/update` before this returns.
    ///
    /// # Errors
    ///
    /// [`Error::is_task_failed`] (with the error the call would have had, through
    /// [`Error::remote`]), [`Error::is_task_cancelled`], [`Error::is_task_abandoned`] when
    /// it outlived the time it may be followed; [`Error::is_input_request_failed`] when an
    /// input request could not be answered; otherwise as [`Client::request`] (a task the
    /// server no longer knows is a remote -32602).
    pub async fn poll(&mut self) -> Result<Option<CallToolResult>, Error> {
        let step = self.get().await?;
        match self.settle(step).await? {
            None => Ok(None),
            Some(result) => decode(METHOD, &result).map(Some),
        }
    }

    /// Asks the server to cancel the task (`tasks/cancel`). Cancellation is cooperative: the
    /// task may still end otherwise, which later polls show.
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    pub async fn cancel(&self) -> Result<(), Error> {
        cancel(&self.client, self.id()).await
    }

    /// Follows the task to its end and returns the tool's result; awaiting the handle does
    /// the same.
    ///
    /// # Errors
    ///
    /// As [`TaskHandle::poll`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the task ends cancels the task (`tasks/cancel`, sent in the
    /// background), as the end of the wait for a result. An error that leaves the task
    /// running (an input request that cannot be answered, a task outliving its time) cancels
    /// it before it is returned.
    pub async fn result(self) -> Result<CallToolResult, Error> {
        let result = self.finish().await?;
        decode(METHOD, &result)
    }

    async fn finish(mut self) -> Result<Box<RawValue>, Error> {
        let mut cancel_on_drop = CancelOnDrop {
            client: self.client.clone(),
            task_id: Some(self.id().to_owned()),
        };
        let mut step = self.follower.wait_step();
        // Each turn waits or answers; the follower ends the turns at the task's deadline, and
        // bounds the answers by the keys a task may use.
        loop {
            let settled = match step {
                FollowStep::Wait(wait) => {
                    tokio::time::sleep(wait).await;
                    step = if self.follower.expired() {
                        FollowStep::Abandoned
                    } else {
                        self.get().await?
                    };
                    continue;
                }
                step => self.settle(step).await,
            };
            match settled {
                Ok(Some(result)) => {
                    cancel_on_drop.task_id = None;
                    return Ok(result);
                }
                Ok(None) => step = self.follower.wait_step(),
                Err(error) => {
                    // Nobody waits for a task left running any more: cancel it before
                    // saying so, so that the caller finds it cancelled.
                    cancel_on_drop.task_id = None;
                    if !self.follower.is_terminal()
                        && let Err(cancelling) = cancel(&self.client, self.id()).await
                    {
                        tracing::debug!(%cancelling, task_id = self.id(), "cancelling a task failed");
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Polls the task once.
    async fn get(&mut self) -> Result<FollowStep, Error> {
        let method = <GetTask as RequestMethod>::METHOD;
        let params = GetTaskRequestParams::new(self.id());
        let task = self.client.send_plain(method, &params).await?;
        self.follower
            .observe(&task)
            .map_err(|error| Error::decode(method, error))
    }

    /// Does what `step` asks, except waiting: the raw result of a completed task, `None`
    /// after answering input, the error of a task that ended otherwise.
    async fn settle(&mut self, step: FollowStep) -> Result<Option<Box<RawValue>>, Error> {
        match step {
            FollowStep::Wait(_) => Ok(None),
            FollowStep::Answer(requests) => self.answer(requests).await.map(|()| None),
            FollowStep::Completed(result) => serde_json::value::to_raw_value(&result)
                .map(Some)
                .map_err(|error| Error::decode(METHOD, error)),
            FollowStep::Failed(error) => Err(Error::task_failed(METHOD, self.id(), error)),
            FollowStep::Cancelled => Err(Error::task_cancelled(METHOD, self.id())),
            FollowStep::Abandoned => Err(Error::task_abandoned(METHOD, self.id())),
        }
    }

    /// Answers the task's new input requests with the client's handlers, and sends the answers
    /// with `tasks/update`.
    async fn answer(&mut self, requests: BTreeMap<String, Box<RawValue>>) -> Result<(), Error> {
        let asked_by = <GetTask as RequestMethod>::METHOD;
        let mut decoded = BTreeMap::new();
        for (key, request) in requests {
            let request: InputRequest = serde_json::from_str(request.get())
                .map_err(|error| Error::decode(asked_by, error))?;
            decoded.insert(key, request);
        }
        let keys: Vec<String> = decoded.keys().cloned().collect();
        let input_responses = mrtr::answer_each(self.client.shared(), asked_by, decoded).await?;
        let params = UpdateParams {
            task_id: self.follower.id(),
            input_responses,
        };
        let method = <UpdateTask as RequestMethod>::METHOD;
        self.client.send_plain(method, &params).await?;
        self.follower.answered(keys);
        Ok(())
    }
}

impl IntoFuture for TaskHandle {
    type Output = Result<CallToolResult, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.result())
    }
}

impl fmt::Debug for TaskHandle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TaskHandle")
            .field("id", &self.id())
            .field("status", self.status())
            .finish_non_exhaustive()
    }
}

async fn cancel(client: &Client, task_id: &str) -> Result<(), Error> {
    let method = <CancelTask as RequestMethod>::METHOD;
    let params = CancelTaskRequestParams::new(task_id);
    client.send_plain(method, &params).await.map(drop)
}

/// Cancels a task whose requestor stopped waiting for it before it ended.
struct CancelOnDrop {
    client: Client,
    /// The task, while it is still to be cancelled.
    task_id: Option<String>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let (Some(task_id), Ok(runtime)) =
            (self.task_id.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let client = self.client.clone();
        runtime.spawn(async move {
            if let Err(error) = cancel(&client, &task_id).await {
                tracing::debug!(%error, task_id, "cancelling an abandoned task failed");
            }
        });
    }
}
