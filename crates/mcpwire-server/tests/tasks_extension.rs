//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663) through the
//! server's public API, driven by a raw JSON-RPC client over the in-memory transport: task
//! creation decided by the server, polling to completion, input through `tasks/update`,
//! cancellation racing completion, the time to live and the bounds, and one handler serving
//! the tasks of both eras.

#![cfg(feature = "tasks")]

mod tasks_support;

use std::sync::Arc;
use std::time::Duration;

use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Notification};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_schema::ext_tasks as ext;
use mcpwire_server::{Context, Server, Session, TaskLimits, Tool, ToolError, types};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, mpsc};

use tasks_support::{no_arguments, task_tools};

const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Most polls a test makes of one task before it fails.
const MAX_POLLS: usize = 100;

fn raw(value: &Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).expect("valid JSON")
}

/// The client side: answers nothing, and hands the notifications on in order.
struct Listener(mpsc::UnboundedSender<(String, Value)>);

impl Handler for Listener {
    async fn request(
        &self,
        _params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        Err(ErrorObject::method_not_found(context.method()))
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let params = notification
            .params
            .as_deref()
            .map(|params| serde_json::from_str(params.get()).expect("JSON"))
            .unwrap_or(Value::Null);
        let _ = self.0.send((notification.method, params));
    }
}

/// A raw client on an in-memory connection to a server.
struct Client {
    peer: Peer,
    notifications: mpsc::UnboundedReceiver<(String, Value)>,
    _session: Session,
}

impl Client {
    fn connect(server: &Server) -> Client {
        let (client_end, server_end) = mcpwire_transport::duplex(64);
        let session = server.serve(server_end);
        let (sender, notifications) = mpsc::unbounded_channel();
        Client {
            peer: Peer::start(client_end, Listener(sender), Config::default()),
            notifications,
            _session: session,
        }
    }

    /// The next notification, which must come.
    async fn notification(&mut self) -> (String, Value) {
        tokio::time::timeout(Duration::from_secs(60), self.notifications.recv())
            .await
            .expect("a notification in time")
            .expect("the connection lives")
    }

    async fn request(&self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        let options = RequestOptions::with_timeout(Duration::from_secs(600));
        match self
            .peer
            .request_raw(method, Some(raw(&params)), options)
            .await
        {
            Ok(result) => Ok(serde_json::from_str(result.get()).expect("JSON")),
            Err(error) => Err(error
                .remote()
                .cloned()
                .unwrap_or_else(|| panic!("{method}: no answer: {error}"))),
        }
    }

    /// A modern request whose `_meta` declares `capabilities`.
    async fn modern(
        &self,
        method: &str,
        mut params: Value,
        capabilities: Value,
    ) -> Result<Value, ErrorObject> {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "tasks-test", "version": "1.0.0"},
        });
        self.request(method, params).await
    }

    /// A modern request of a client that declared the extension (and elicitation).
    async fn with_tasks(&self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        self.modern(method, params, declaring()).await
    }

    /// `tasks/get` of `task_id`, which must succeed.
    async fn get(&self, task_id: &str) -> Value {
        self.with_tasks("tasks/get", json!({"taskId": task_id}))
            .await
            .unwrap_or_else(|error| panic!("tasks/get: {error:?}"))
    }

    /// Polls `task_id` until `done` holds, waiting the announced interval between polls.
    async fn poll_until(&self, task_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..MAX_POLLS {
            let task = self.get(task_id).await;
            if done(&task) {
                return task;
            }
            let interval = task["pollIntervalMs"].as_u64().expect("an interval");
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
        panic!("task {task_id} never got there");
    }
}

fn declaring() -> Value {
    json!({"elicitation": {}, "extensions": {EXTENSION: {}}})
}

fn accept(answer: &str) -> Value {
    json!({"action": "accept", "content": {"answer": answer}})
}

/// Reports, when a handler's run ends (returned or dropped), whether it was cancelled.
struct EndReport {
    context: Context,
    report: mpsc::UnboundedSender<bool>,
}

impl Drop for EndReport {
    fn drop(&mut self) {
        let _ = self.report.send(self.context.is_cancelled());
    }
}

fn server_with(
    limits: TaskLimits,
    gate: Arc<Notify>,
    finished: mpsc::UnboundedSender<bool>,
) -> Server {
    task_tools(Server::builder("tasks", "1.0.0"))
        .tasks()
        .task_limits(limits)
        .tool(
            Tool::raw(
                "gated",
                no_arguments(),
                move |_: Map<String, Value>, context: Context| {
                    let gate = Arc::clone(&gate);
                    let finished = finished.clone();
                    async move {
                        context.continue_as_task().await;
                        let _report = EndReport {
                            context,
                            report: finished,
                        };
                        gate.notified().await;
                        Ok::<_, ToolError>("released")
                    }
                },
            )
            .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .build()
        .expect("the server builds")
}

fn server() -> Server {
    let (finished, _) = mpsc::unbounded_channel();
    server_with(TaskLimits::default(), Arc::new(Notify::new()), finished)
}

#[tokio::test(start_paused = true)]
async fn the_extension_is_advertised_and_gated() {
    let server = server();
    let client = Client::connect(&server);
    let discovered = client
        .modern("server/discover", json!({}), json!({}))
        .await
        .expect("discovered");
    let capabilities = &discovered["capabilities"];
    assert_eq!(capabilities["extensions"][EXTENSION], json!({}));
    assert!(
        capabilities.get("tasks").is_none(),
        "no core tasks capability in 2026"
    );

    // Without the extension on the request: no task, and the task methods are refused.
    let plain = client
        .modern(
            "tools/call",
            json!({"name": "compute", "arguments": {"seconds": 1}}),
            json!({}),
        )
        .await
        .expect("answered");
    assert_eq!(plain["resultType"], "complete");
    assert!(plain.get("taskId").is_none());
    for (method, params) in [
        ("tasks/get", json!({"taskId": "x"})),
        ("tasks/update", json!({"taskId": "x", "inputResponses": {}})),
        ("tasks/cancel", json!({"taskId": "x"})),
    ] {
        let error = client
            .modern(method, params, json!({}))
            .await
            .expect_err(method);
        assert_eq!(
            error.code,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            "{method}"
        );
    }
    let error = client
        .modern(
            "tools/call",
            json!({"name": "welcome", "arguments": {}}),
            json!({}),
        )
        .await
        .expect_err("a task-only tool");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
    let data: Value =
        serde_json::from_str(error.data.as_deref().expect("data").get()).expect("JSON");
    assert_eq!(
        data["requiredCapabilities"]["extensions"][EXTENSION],
        json!({})
    );

    // The methods of the core tasks are gone; an unknown task is invalid params.
    for method in ["tasks/result", "tasks/list"] {
        let error = client
            .with_tasks(method, json!({"taskId": "x"}))
            .await
            .expect_err(method);
        assert_eq!(error.code, ErrorCode::METHOD_NOT_FOUND, "{method}");
    }
    let error = client
        .with_tasks("tasks/get", json!({"taskId": "unknown"}))
        .await
        .expect_err("unknown");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
}

#[tokio::test(start_paused = true)]
async fn a_task_is_polled_to_completion() {
    let server = server();
    let client = Client::connect(&server);
    // A legacy `task` param is no opt-in, and a tool that does not wait answers at once.
    let immediate = client
        .with_tasks(
            "tools/call",
            json!({"name": "compute", "arguments": {}, "task": {"ttl": 1000}}),
        )
        .await
        .expect("answered");
    assert_eq!(immediate["resultType"], "complete");
    assert_eq!(
        immediate["content"][0]["text"],
        "computed in 0s (task false)"
    );

    let created = client
        .with_tasks(
            "tools/call",
            json!({"name": "compute", "arguments": {"seconds": 5}}),
        )
        .await
        .expect("a task");
    assert_eq!(created["resultType"], "task");
    let decoded: ext::CreateTaskResult =
        serde_json::from_value(created.clone()).expect("a flat CreateTaskResult");
    assert_eq!(decoded.status, ext::TaskStatus::Working);
    assert_eq!(decoded.ttl_ms, Some(3_600_000));
    assert_eq!(decoded.poll_interval_ms, Some(500));
    for absent in [
        "task",
        "ttl",
        "pollInterval",
        "requestState",
        "result",
        "content",
    ] {
        assert!(created.get(absent).is_none(), "{absent}");
    }
    let task_id = created["taskId"].as_str().expect("an id");

    // Durable before the answer: found at once.
    let working = client.get(task_id).await;
    assert_eq!(working["resultType"], "complete");
    assert_eq!(working["status"], "working");
    assert!(working.get("result").is_none());

    let completed = client
        .poll_until(task_id, |task| task["status"] != "working")
        .await;
    assert_eq!(completed["status"], "completed");
    let result = &completed["result"];
    assert_eq!(result["content"][0]["text"], "computed in 5s (task true)");
    assert_eq!(result["resultType"], "complete");
    assert!(
        result["_meta"]
            .get("io.modelcontextprotocol/related-task")
            .is_none(),
        "the task id is at the root already"
    );
    let decoded: ext::GetTaskResult =
        serde_json::from_value(completed.clone()).expect("a GetTaskResult");
    assert!(matches!(
        decoded.variant,
        ext::DetailedTask::CompletedTask(_)
    ));

    // A tool that allows no task is never one.
    let quick = client
        .with_tasks(
            "tools/call",
            json!({"name": "quick", "arguments": {"seconds": 1}}),
        )
        .await
        .expect("answered");
    assert_eq!(quick["content"][0]["text"], "computed in 1s (task false)");
}

#[tokio::test(start_paused = true)]
async fn input_required_is_answered_through_tasks_update() {
    let server = server();
    let client = Client::connect(&server);
    let created = client
        .with_tasks("tools/call", json!({"name": "interview", "arguments": {}}))
        .await
        .expect("a task");
    assert_eq!(created["resultType"], "task");
    let task_id = created["taskId"].as_str().expect("an id");

    let waiting = client
        .poll_until(task_id, |task| {
            task["inputRequests"]
                .as_object()
                .is_some_and(|requests| requests.len() == 2)
        })
        .await;
    assert_eq!(waiting["status"], "input_required");
    assert_eq!(
        waiting["inputRequests"]["first"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        waiting["inputRequests"]["first"]["params"]["message"],
        "first?"
    );

    // A partial answer (and one to a key never asked) keeps the task waiting for the rest.
    let acked = client
        .with_tasks(
            "tasks/update",
            json!({"taskId": task_id, "inputResponses": {"first": accept("one"), "stray": {"x": 1}}}),
        )
        .await
        .expect("acknowledged");
    assert_eq!(acked["resultType"], "complete");
    for member in ["taskId", "status", "result", "inputRequests"] {
        assert!(acked.get(member).is_none(), "{member}");
    }
    let partial = client.get(task_id).await;
    assert_eq!(partial["status"], "input_required");
    let open: Vec<&String> = partial["inputRequests"]
        .as_object()
        .expect("requests")
        .keys()
        .collect();
    assert_eq!(open, ["second"]);

    // An answer that is no elicitation result is refused and taken for nothing.
    let error = client
        .with_tasks(
            "tasks/update",
            json!({"taskId": task_id, "inputResponses": {"second": {"model": 3}}}),
        )
        .await
        .expect_err("not an elicitation result");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);

    client
        .with_tasks(
            "tasks/update",
            json!({"taskId": task_id, "inputResponses": {"second": accept("two")}}),
        )
        .await
        .expect("acknowledged");
    let completed = client
        .poll_until(task_id, |task| task["status"] == "completed")
        .await;
    assert_eq!(completed["result"]["content"][0]["text"], "one and two");
}

#[tokio::test(start_paused = true)]
async fn input_rounds_come_before_the_task_they_lead_to() {
    let server = server();
    let client = Client::connect(&server);
    let call = json!({"name": "welcome", "arguments": {}});
    let round = client
        .with_tasks("tools/call", call.clone())
        .await
        .expect("a round");
    assert_eq!(round["resultType"], "input_required");
    assert!(round.get("taskId").is_none());
    let key = round["inputRequests"]
        .as_object()
        .and_then(|requests| requests.keys().next().cloned())
        .expect("a key");
    let mut retry = call;
    retry["inputResponses"] = json!({key: accept("Alice")});
    retry["requestState"] = round["requestState"].clone();
    let created = client
        .with_tasks("tools/call", retry)
        .await
        .expect("a task");
    assert_eq!(created["resultType"], "task");
    assert!(created.get("requestState").is_none());
    assert!(created.get("inputRequests").is_none());
    let task_id = created["taskId"].as_str().expect("an id");
    let completed = client
        .poll_until(task_id, |task| task["status"] == "completed")
        .await;
    assert_eq!(completed["result"]["content"][0]["text"], "Welcome, Alice!");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_task_stays_cancelled_when_its_work_finishes() {
    let gate = Arc::new(Notify::new());
    let (finished, mut finishes) = mpsc::unbounded_channel();
    let server = server_with(TaskLimits::default(), Arc::clone(&gate), finished);
    let client = Client::connect(&server);

    let created = client
        .with_tasks("tools/call", json!({"name": "gated", "arguments": {}}))
        .await
        .expect("a task");
    let task_id = created["taskId"].as_str().expect("an id").to_owned();
    let acked = client
        .with_tasks("tasks/cancel", json!({"taskId": task_id}))
        .await
        .expect("acknowledged");
    assert_eq!(acked["resultType"], "complete");
    for member in ["taskId", "status", "result", "error"] {
        assert!(acked.get(member).is_none(), "{member}");
    }
    // Cancelled by the time of the acknowledgement.
    assert_eq!(client.get(&task_id).await["status"], "cancelled");
    assert_eq!(
        finishes.recv().await,
        Some(true),
        "the work saw it and ended"
    );
    // Work that would complete now changes nothing, for ever after.
    gate.notify_one();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let task = client.get(&task_id).await;
        assert_eq!(task["status"], "cancelled");
        assert!(task.get("result").is_none() && task.get("error").is_none());
    }

    // Completion first: the task stays completed, and a cancel is still acknowledged.
    let created = client
        .with_tasks("tools/call", json!({"name": "gated", "arguments": {}}))
        .await
        .expect("a task");
    let task_id = created["taskId"].as_str().expect("an id").to_owned();
    gate.notify_one();
    assert_eq!(finishes.recv().await, Some(false), "not cancelled");
    client
        .poll_until(&task_id, |task| task["status"] == "completed")
        .await;
    client
        .with_tasks("tasks/cancel", json!({"taskId": task_id}))
        .await
        .expect("acknowledged");
    let completed = client.get(&task_id).await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["result"]["content"][0]["text"], "released");
}

#[tokio::test(start_paused = true)]
async fn the_time_to_live_is_capped_and_the_tasks_are_bounded() {
    let limits = TaskLimits {
        max_tasks: 2,
        max_ttl: Duration::from_secs(60),
        ..TaskLimits::default()
    };
    let (finished, _) = mpsc::unbounded_channel();
    let server = server_with(limits, Arc::new(Notify::new()), finished);
    let client = Client::connect(&server);
    let call = json!({"name": "compute", "arguments": {"seconds": 1}});
    let first = client
        .with_tasks("tools/call", call.clone())
        .await
        .expect("a task");
    assert_eq!(first["ttlMs"], 60_000, "capped, and reported as kept");
    client
        .with_tasks("tools/call", call.clone())
        .await
        .expect("a task");
    let error = client
        .with_tasks("tools/call", call.clone())
        .await
        .expect_err("the caller holds as many tasks as it may");
    assert_eq!(error.code, ErrorCode::INVALID_REQUEST);

    let first_id = first["taskId"].as_str().expect("an id");
    tokio::time::sleep(Duration::from_millis(59_000)).await;
    assert_eq!(
        client.get(first_id).await["status"],
        "completed",
        "kept until its time"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let error = client
        .with_tasks("tasks/get", json!({"taskId": first_id}))
        .await
        .expect_err("expired");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    // Freed: there is room again.
    let again = client
        .with_tasks("tools/call", call)
        .await
        .expect("room again");
    assert_eq!(again["resultType"], "task");
}

#[tokio::test(start_paused = true)]
async fn one_handler_runs_as_a_task_in_both_eras() {
    let server = server();
    let client = Client::connect(&server);
    let initialized = client
        .request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "legacy", "version": "1.0.0"}
            }),
        )
        .await
        .expect("initialized");
    assert!(initialized["capabilities"]["tasks"].is_object());
    client
        .peer
        .notify_raw("notifications/initialized", None, Default::default())
        .await
        .expect("sent");
    let created = client
        .request(
            "tools/call",
            json!({"name": "compute", "arguments": {"seconds": 2}, "task": {"ttl": 60_000}}),
        )
        .await
        .expect("a legacy task");
    let task_id = created["task"]["taskId"].as_str().expect("an id");
    let result = client
        .request("tasks/result", json!({"taskId": task_id}))
        .await
        .expect("the result");
    assert_eq!(result["content"][0]["text"], "computed in 2s (task true)");

    // The same handler as a task of the extension, on the same connection.
    let created = client
        .with_tasks(
            "tools/call",
            json!({"name": "compute", "arguments": {"seconds": 2}}),
        )
        .await
        .expect("a task");
    let task_id = created["taskId"].as_str().expect("an id");
    let completed = client
        .poll_until(task_id, |task| task["status"] == "completed")
        .await;
    assert_eq!(
        completed["result"]["content"][0]["text"],
        "computed in 2s (task true)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_subscription_follows_the_status_of_tasks() {
    let gate = Arc::new(Notify::new());
    let (finished, _finishes) = mpsc::unbounded_channel();
    let server = server_with(TaskLimits::default(), Arc::clone(&gate), finished);
    let mut client = Client::connect(&server);
    let created = client
        .with_tasks("tools/call", json!({"name": "gated", "arguments": {}}))
        .await
        .expect("a task");
    let task_id = created["taskId"].as_str().expect("an id").to_owned();

    // Naming tasks without declaring the extension is refused.
    let error = client
        .modern(
            "subscriptions/listen",
            json!({"notifications": {"taskIds": [task_id]}}),
            json!({}),
        )
        .await
        .expect_err("not declared");
    assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);

    let listening = {
        let peer = client.peer.clone();
        let mut params = json!({"notifications": {"taskIds": [task_id, "not-a-task"]}});
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": declaring(),
        });
        tokio::spawn(async move {
            peer.request_raw(
                "subscriptions/listen",
                Some(raw(&params)),
                RequestOptions::with_timeout(Duration::from_secs(600)),
            )
            .await
        })
    };
    let (method, acknowledged) = client.notification().await;
    assert_eq!(method, "notifications/subscriptions/acknowledged");
    assert_eq!(
        acknowledged["notifications"]["taskIds"],
        json!([task_id]),
        "only the caller's tasks"
    );
    let (method, working) = client.notification().await;
    assert_eq!(method, "notifications/tasks");
    assert_eq!(working["taskId"], task_id.as_str());
    assert_eq!(working["status"], "working");
    assert!(working["_meta"]["io.modelcontextprotocol/subscriptionId"].is_number());

    gate.notify_one();
    let mut completed = None;
    for _ in 0..MAX_POLLS {
        let (method, task) = client.notification().await;
        assert_eq!(method, "notifications/tasks");
        if task["status"] == "completed" {
            completed = Some(task);
            break;
        }
    }
    let completed = completed.expect("the completion is announced");
    assert_eq!(completed["result"]["content"][0]["text"], "released");
    assert_eq!(
        completed["result"],
        client.get(&task_id).await["result"],
        "as tasks/get shows it"
    );
    listening.abort();
}
