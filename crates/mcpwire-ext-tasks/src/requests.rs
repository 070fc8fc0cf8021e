//! The requestor of a task of 2025-11-25: polling it (`tasks/get`), taking its result
//! (`tasks/result`), cancelling it (`tasks/cancel`) and following it to its end, over the
//! connection of whichever role asked for the task.
//!
//! The client asks the server to run a `tools/call` as a task; the server asks the client to
//! run a `sampling/createMessage` or an `elicitation/create` as one. Both then follow the task
//! with the same methods, so the rules live here once and each role only says how it sends a
//! request ([`TaskChannel`]).

use std::future::Future;

use mcpwire_jsonrpc::RequestMethod;
use mcpwire_schema::v2025_11_25 as wire;
use mcpwire_schema::v2025_11_25::methods::{CancelTask, GetTask, GetTaskPayload};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::requestor::FollowLimits;

/// How long a request of the requestor may wait for its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// As long as the role's requests usually may (its request timeout).
    Usual,
    /// Without a timeout: `tasks/result`, which is answered only when the task ends.
    Unbounded,
}

/// How a role sends the requests of a task's requestor to the peer that runs the task.
pub trait TaskChannel {
    /// The role's error.
    type Error;

    /// Sends `method` with `params`, waiting as `patience` says, and decodes its result.
    fn send<P, R>(
        &self,
        method: &'static str,
        params: &P,
        patience: Patience,
    ) -> impl Future<Output = Result<R, Self::Error>> + Send
    where
        P: Serialize + Sync,
        R: DeserializeOwned;

    /// The role's error for the task `task_id`, which [`TaskRequestor::finish`] found
    /// cancelled: a cancelled task has no result of its own to take.
    fn cancelled(&self, task_id: &str) -> Self::Error;
}

/// The requestor of tasks of 2025-11-25 that a peer runs, over a role's [`TaskChannel`].
#[derive(Debug)]
pub struct TaskRequestor<C> {
    channel: C,
}

impl<C: TaskChannel + Sync> TaskRequestor<C> {
    /// The requestor that sends over `channel`.
    pub fn new(channel: C) -> Self {
        TaskRequestor { channel }
    }

    /// Polls the task `task_id` (`tasks/get`).
    ///
    /// # Errors
    ///
    /// As the channel fails; an unknown or expired task is the peer's -32602.
    pub async fn get(&self, task_id: &str) -> Result<wire::GetTaskResult, C::Error> {
        let params = wire::GetTaskRequestParams {
            task_id: task_id.to_owned(),
        };
        self.channel
            .send(GetTask::METHOD, &params, Patience::Usual)
            .await
    }

    /// Waits for the result of the task `task_id` (`tasks/result`), without a timeout: the
    /// result its request would have had, such as a `CallToolResult`.
    ///
    /// # Errors
    ///
    /// As the channel fails; the underlying request's error as the peer's error.
    pub async fn result<R: DeserializeOwned>(&self, task_id: &str) -> Result<R, C::Error> {
        let params = wire::GetTaskPayloadRequestParams {
            task_id: task_id.to_owned(),
        };
        self.channel
            .send(GetTaskPayload::METHOD, &params, Patience::Unbounded)
            .await
    }

    /// Cancels the task `task_id` (`tasks/cancel`), returning it in its `cancelled` state.
    ///
    /// # Errors
    ///
    /// As the channel fails; a task that already finished is the peer's -32602.
    pub async fn cancel(&self, task_id: &str) -> Result<wire::CancelTaskResult, C::Error> {
        let params = wire::CancelTaskRequestParams {
            task_id: task_id.to_owned(),
        };
        self.channel
            .send(CancelTask::METHOD, &params, Patience::Usual)
            .await
    }

    /// Follows the task `task_id` to its end and returns its result: polls `tasks/get` at
    /// the peer's `pollInterval` (kept within `limits`) and asks `tasks/result` as soon as the
    /// task is no longer `working`.
    ///
    /// A task waiting for input (`input_required`) is served by `tasks/result`: a peer of
    /// revision 2025-11-25 may send the request the task waits for only while a `tasks/result`
    /// of the task is pending, so polling `tasks/get` alone could wait forever.
    ///
    /// # Errors
    ///
    /// As [`TaskRequestor::get`] and [`TaskRequestor::result`]: a task that failed ends with
    /// the error its request would have had; one found cancelled, with the channel's
    /// [`cancelled`](TaskChannel::cancelled) error (peers answer `tasks/result` of a cancelled
    /// task with an error of their own or a result without content).
    pub async fn finish<R: DeserializeOwned>(
        &self,
        task_id: &str,
        limits: &FollowLimits,
    ) -> Result<R, C::Error> {
        loop {
            let task = self.get(task_id).await?;
            match task.status {
                wire::TaskStatus::Working => {
                    tokio::time::sleep(limits.poll_interval(task.poll_interval)).await;
                }
                wire::TaskStatus::Cancelled => return Err(self.channel.cancelled(task_id)),
                // Finished, or waiting for input that arrives while `tasks/result` waits.
                _ => return self.result(task_id).await,
            }
        }
    }
}

/// The `task` param that makes a request run as a task kept `ttl_ms` milliseconds (`None`:
/// as long as the receiver chooses).
pub fn task_param(ttl_ms: Option<i64>) -> wire::TaskMetadata {
    wire::TaskMetadata { ttl: ttl_ms }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    /// A channel answering from a script, recording what was sent.
    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Value>>,
        sent: Mutex<Vec<(&'static str, Value, Patience)>>,
    }

    impl TaskChannel for &Scripted {
        type Error = String;

        async fn send<P, R>(
            &self,
            method: &'static str,
            params: &P,
            patience: Patience,
        ) -> Result<R, String>
        where
            P: Serialize + Sync,
            R: DeserializeOwned,
        {
            let params = serde_json::to_value(params).map_err(|error| error.to_string())?;
            self.sent.lock().unwrap().push((method, params, patience));
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .ok_or("no answer left")?;
            serde_json::from_value(answer).map_err(|error| error.to_string())
        }

        fn cancelled(&self, task_id: &str) -> String {
            format!("{task_id} was cancelled")
        }
    }

    fn task(status: &str) -> Value {
        json!({
            "taskId": "t1", "status": status, "createdAt": "2025-11-25T00:00:00Z",
            "lastUpdatedAt": "2025-11-25T00:00:00Z", "ttl": 60000, "pollInterval": 100
        })
    }

    #[tokio::test(start_paused = true)]
    async fn finish_ends_a_cancelled_task_with_the_channels_error_without_its_result() {
        let channel = Scripted::default();
        channel
            .answers
            .lock()
            .unwrap()
            .extend([task("working"), task("cancelled")]);
        let requestor = TaskRequestor::new(&channel);
        let error = requestor
            .finish::<Value>("t1", &FollowLimits::default())
            .await
            .unwrap_err();
        assert_eq!(error, "t1 was cancelled");
        let sent = channel.sent.lock().unwrap();
        let methods: Vec<_> = sent.iter().map(|(method, _, _)| *method).collect();
        assert_eq!(methods, ["tasks/get", "tasks/get"]);
    }

    #[tokio::test(start_paused = true)]
    async fn finish_polls_while_working_then_takes_the_result() {
        let channel = Scripted::default();
        channel.answers.lock().unwrap().extend([
            task("working"),
            task("working"),
            task("input_required"),
            json!({"content": [], "isError": false}),
        ]);
        let requestor = TaskRequestor::new(&channel);
        let started = tokio::time::Instant::now();
        let result: Value = requestor
            .finish("t1", &FollowLimits::default())
            .await
            .expect("a result");
        assert_eq!(result["isError"], false);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(200),
            "two polls waited"
        );
        let sent = channel.sent.lock().unwrap();
        let methods: Vec<_> = sent.iter().map(|(method, _, _)| *method).collect();
        assert_eq!(
            methods,
            ["tasks/get", "tasks/get", "tasks/get", "tasks/result"]
        );
        assert_eq!(sent[3].1, json!({"taskId": "t1"}));
        assert_eq!(sent[3].2, Patience::Unbounded);
        assert!(
            sent[..3]
                .iter()
                .all(|(_, _, patience)| *patience == Patience::Usual)
        );
    }

    #[tokio::test]
    async fn cancel_and_get_name_the_task() {
        let channel = Scripted::default();
        channel
            .answers
            .lock()
            .unwrap()
            .extend([task("cancelled"), task("cancelled")]);
        let requestor = TaskRequestor::new(&channel);
        let cancelled = requestor.cancel("t1").await.expect("cancelled");
        assert_eq!(cancelled.status, wire::TaskStatus::Cancelled);
        let polled = requestor.get("t1").await.expect("polled");
        assert_eq!(polled.task_id, "t1");
        let sent = channel.sent.lock().unwrap();
        assert_eq!(sent[0].0, "tasks/cancel");
        assert_eq!(sent[1].0, "tasks/get");
        assert_eq!(
            serde_json::to_value(task_param(Some(5))).unwrap(),
            json!({"ttl": 5})
        );
    }
}
