//! Three instances that share one Redis, behind a real HAProxy that balances every request
//! round-robin, one of which dies:
//!
//! - tasks of the extension (2026-07-28): a task made on one instance is polled, answered and
//!   cancelled through the others, and a task whose instance dies ends `failed` within the
//!   lease instead of staying `working`;
//! - a request's SSE stream resumed on another instance than the one running the request
//!   follows it there, every event once and in order, to the response; when that instance
//!   dies, the client gets every stored event and then a refusal, never a stream that hangs,
//!   and a call whose handler waited there for an elicitation answer fails within seconds
//!   (the client's retry and the wait for the request's instance), not at its timeout.
//!
//! Each instance runs on a runtime of its own thread, so that killing it (dropping the
//! runtime) ends everything it ran at once, as a killed process does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{Client, EraChoice, FollowLimits, TaskHandle, TaskStatus, ToolCall};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{Config, serve};
use mcpwire_server::{Context, Server, TaskLimits, Tool, ToolError, types};
use mcpwire_store_redis::RedisDeployment;
use mcpwire_test_support::balancer::Balancer;
use mcpwire_test_support::raw_http::{Exchange, legacy_session};
use mcpwire_test_support::redis::RedisServer;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

const STEP: Duration = Duration::from_secs(20);
/// The lease of each instance: a dead instance's tasks fail within it.
const LEASE: Duration = Duration::from_millis(600);

/// What the tools of every instance report, in order.
#[derive(Clone, Default)]
struct Reports(Arc<(Mutex<Vec<String>>, Notify)>);

impl Reports {
    fn push(&self, report: String) {
        self.0.0.lock().unwrap().push(report);
        self.0.1.notify_waiters();
    }

    fn find(&self, prefix: &str) -> Option<String> {
        self.0
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|report| report.starts_with(prefix))
            .cloned()
    }

    async fn wait_for(&self, prefix: &str) -> String {
        tokio::time::timeout(STEP, async {
            loop {
                // Made before the look, so that a report pushed right after it still wakes.
                let pushed = self.0.1.notified();
                if let Some(report) = self.find(prefix) {
                    return report;
                }
                pushed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no report `{prefix}` in time"))
    }
}

/// Reports the end of a tool's run, returned or dropped, and whether it was cancelled.
struct EndReport {
    context: Context,
    reports: Reports,
}

impl Drop for EndReport {
    fn drop(&mut self) {
        let cancelled = self.context.is_cancelled();
        self.reports.push(format!("ended cancelled={cancelled}"));
    }
}

fn server(index: usize, reports: &Reports, gate: &Arc<Notify>, shared: &RedisDeployment) -> Server {
    let gated = {
        let (reports, gate) = (reports.clone(), Arc::clone(gate));
        move |_: Map<String, Value>, context: Context| {
            let (reports, gate) = (reports.clone(), Arc::clone(&gate));
            async move {
                context.continue_as_task().await;
                reports.push(format!("started on {index}"));
                let cancelled = context.cancellation().clone();
                let _end = EndReport { context, reports };
                // A cancelled task's tool is dropped (2026-07-28) or told (2025-11-25).
                tokio::select! {
                    () = gate.notified() => Ok::<_, ToolError>("released"),
                    () = cancelled.cancelled() => Ok("cancelled"),
                }
            }
        }
    };
    let ask = |_: Map<String, Value>, context: Context| async move {
        context.continue_as_task().await;
        let form = serde_json::from_value(json!({
            "message": "Name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
        }))
        .map_err(|error| ToolError::new(error.to_string()))?;
        let answer = context
            .elicit(types::ElicitRequestParams::ElicitRequestFormParams(form))
            .await?;
        let name = answer
            .content
            .and_then(|content| content.get("name").cloned())
            .map(|name| format!("{name:?}"))
            .unwrap_or_default();
        Ok::<_, ToolError>(format!("hello {name}"))
    };
    let chatty = {
        let (reports, gate) = (reports.clone(), Arc::clone(gate));
        move |arguments: Map<String, Value>, context: Context| {
            let (reports, gate) = (reports.clone(), Arc::clone(&gate));
            async move {
                if arguments.get("close").and_then(Value::as_bool) == Some(true) {
                    // SEP-1699: the client is to poll, resuming the stream with its priming id.
                    context.close_stream().await?;
                }
                reports.push(format!("chatting on {index}"));
                let before = arguments.get("before").and_then(Value::as_u64).unwrap_or(0);
                for line in 0..before {
                    context
                        .log(types::LoggingLevel::Info, None, json!({"line": line}))
                        .await?;
                }
                gate.notified().await;
                context
                    .log(types::LoggingLevel::Info, None, json!({"line": before}))
                    .await?;
                Ok::<_, ToolError>("chatted")
            }
        }
    };
    let no_arguments =
        || serde_json::from_value(json!({"type": "object"})).expect("a schema object");
    Server::builder("tasks", "1.0.0")
        .tasks()
        .task_limits(TaskLimits {
            poll_interval: Duration::from_millis(10),
            ..TaskLimits::default()
        })
        .shared_tasks(Arc::new(shared.tasks.clone()), LEASE)
        .tool(
            Tool::raw("gated", no_arguments(), gated)
                .task_support(types::ToolExecutionTaskSupport::Required),
        )
        .tool(
            Tool::raw("ask", no_arguments(), ask)
                .task_support(types::ToolExecutionTaskSupport::Required),
        )
        .tool(Tool::raw("chatty", no_arguments(), chatty))
        .tool(Tool::raw("ask_here", no_arguments(), {
            let reports = reports.clone();
            move |_: Map<String, Value>, context: Context| {
                let reports = reports.clone();
                async move {
                    reports.push(format!("asking on {index}"));
                    let form = serde_json::from_value(json!({
                        "message": "Still there?",
                        "requestedSchema": {"type": "object", "properties": {}}
                    }))
                    .map_err(|error| ToolError::new(error.to_string()))?;
                    let answer = context
                        .elicit(types::ElicitRequestParams::ElicitRequestFormParams(form))
                        .await?;
                    Ok::<_, ToolError>(answer.action.to_string())
                }
            }
        }))
        .build()
        .expect("the server builds")
}

/// One instance, on a runtime of its own thread.
struct Instance {
    address: SocketAddr,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    fn start(index: usize, redis: &str, reports: &Reports, gate: &Arc<Notify>) -> Instance {
        let (address_sender, address) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (redis, reports, gate) = (redis.to_owned(), reports.clone(), Arc::clone(gate));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let shared = RedisDeployment::connect(&redis, "tasks-test")
                    .await
                    .expect("Redis is reachable");
                let server = server(index, &reports, &gate, &shared);
                let service = server.http_service(shared.configure(Config::default()));
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a port");
                address_sender
                    .send(listener.local_addr().expect("an address"))
                    .expect("the test waits");
                tokio::spawn(serve(listener, service, std::future::pending()));
            });
            // Serves until told to stop, then drops everything at once.
            let _ = stopped.recv();
            runtime.shutdown_background();
        });
        let address = address.recv().expect("the instance starts");
        Instance {
            address,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Ends the instance as a SIGKILL would: its tasks, connections and lease stop at once.
    fn kill(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the instance's thread ends");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Deployment {
    _redis: RedisServer,
    instances: Vec<Instance>,
    balancer: Balancer,
    reports: Reports,
    gate: Arc<Notify>,
}

impl Deployment {
    async fn start() -> Deployment {
        let redis = RedisServer::start().await;
        let reports = Reports::default();
        let gate = Arc::new(Notify::new());
        let instances: Vec<Instance> = (0..3)
            .map(|index| Instance::start(index, &redis.url(), &reports, &gate))
            .collect();
        let addresses: Vec<SocketAddr> =
            instances.iter().map(|instance| instance.address).collect();
        let balancer = Balancer::start(&addresses).await;
        Deployment {
            _redis: redis,
            instances,
            balancer,
            reports,
            gate,
        }
    }

    async fn client(&self) -> Client {
        let transport = HttpClientBuilder::new(format!("http://{}/mcp", self.balancer.address()))
            .streamable()
            .expect("a transport");
        Client::builder("tasks-client", "1.0.0")
            .era(EraChoice::Modern)
            .request_timeout(Some(STEP))
            .tasks_extension(FollowLimits::default())
            .elicitation(
                |_: types::ElicitRequestParams, _: mcpwire_client::RequestContext| async move {
                    serde_json::from_value::<types::ElicitResult>(
                        json!({"action": "accept", "content": {"name": "Ada"}}),
                    )
                    .map_err(|error| mcpwire_client::ErrorObject::internal_error(error.to_string()))
                },
            )
            .connect(transport)
            .await
            .expect("the client connects")
    }
}

async fn start_task(client: &Client, tool: &str) -> TaskHandle {
    match client
        .start_tool_call(tool, json!({}))
        .await
        .expect("the call starts")
    {
        ToolCall::Task(task) => task,
        ToolCall::Complete(result) => panic!("a task expected, got {result:?}"),
    }
}

fn text_of(result: &types::CallToolResult) -> String {
    match result.content.first() {
        Some(types::ContentBlock::TextContent(text)) => text.text.clone(),
        other => panic!("a text block expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_polled_answered_and_finished_through_the_other_instances() {
    let deployment = Deployment::start().await;
    let client = deployment.client().await;

    // Its input request is answered with `tasks/update`, through any instance.
    for _ in 0..3 {
        let result = tokio::time::timeout(STEP, client.call_tool("ask", json!({})))
            .await
            .expect("the task ends in time")
            .expect("the task completes");
        assert_eq!(text_of(&result), "hello String(\"Ada\")");
    }

    // Polled through every instance while it runs, then to its result.
    let mut task = start_task(&client, "gated").await;
    deployment.reports.wait_for("started on").await;
    for _ in 0..6 {
        let result = task.poll().await.expect("every instance answers tasks/get");
        assert!(result.is_none());
        assert_eq!(task.status(), &TaskStatus::Working);
    }
    deployment.gate.notify_one();
    let result = tokio::time::timeout(STEP, task)
        .await
        .expect("the task ends in time")
        .expect("the task completes");
    assert_eq!(text_of(&result), "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_cancelled_through_another_instance_stops_its_work() {
    let deployment = Deployment::start().await;
    let client = deployment.client().await;
    let task = start_task(&client, "gated").await;
    deployment.reports.wait_for("started on").await;
    // The cancellation reaches the instance that runs the task, wherever it lands.
    task.cancel().await.expect("tasks/cancel is acknowledged");
    assert_eq!(
        deployment.reports.wait_for("ended").await,
        "ended cancelled=true"
    );
    let mut task = client.resume_task(task.id().to_owned());
    for _ in 0..3 {
        let error = task.poll().await.expect_err("the task was cancelled");
        assert!(error.is_task_cancelled(), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_instance_dies_fails_within_the_lease() {
    let mut deployment = Deployment::start().await;
    let client = deployment.client().await;
    let task = start_task(&client, "gated").await;
    let started = deployment.reports.wait_for("started on").await;
    let index: usize = started["started on ".len()..].parse().expect("an index");
    let killed = tokio::time::Instant::now();
    deployment.instances[index].kill();

    let error = tokio::time::timeout(STEP, task)
        .await
        .expect("the task ends in time")
        .expect_err("a task nobody runs fails");
    assert!(error.is_task_failed(), "{error}");
    assert!(
        error
            .to_string()
            .contains("the server instance running the task stopped"),
        "{error}"
    );
    assert!(
        killed.elapsed() < LEASE + Duration::from_secs(5),
        "failed within the lease and a few polls: {:?}",
        killed.elapsed()
    );
}

fn chatty_call(id: u64, before: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "chatty", "arguments": {"before": before}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumed_on_another_instance_follows_its_request_there() {
    let deployment = Deployment::start().await;
    let [first, second, third] = [0, 1, 2].map(|index| deployment.instances[index].address);
    let session = legacy_session(first, second).await;

    // The request runs on the first instance; its stream breaks after three events.
    let mut call = Exchange::post(first, Some(&session), &chatty_call(2, 5)).await;
    call.until("\"line\":", 3).await;
    let seen = call.numbers("line");
    let last = call.last_event_id();
    drop(call);
    deployment.reports.wait_for("chatting on 0").await;

    // Resumed on the third: what it missed from the store, then the rest live, to the end.
    let mut resumed = Exchange::get(third, &session, Some(&last)).await;
    resumed.until("\"line\":4", 1).await;
    deployment.gate.notify_one();
    resumed.read_to_end().await;
    assert!(
        resumed.text.contains("chatted"),
        "the response came: {}",
        resumed.text
    );
    let mut lines = seen;
    lines.extend(resumed.numbers("line"));
    assert_eq!(
        lines,
        (0..=5).collect::<Vec<_>>(),
        "each event once, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_instance_dies_is_replayed_then_refused() {
    let mut deployment = Deployment::start().await;
    let [first, second, third] = [0, 1, 2].map(|index| deployment.instances[index].address);
    let session = legacy_session(second, third).await;

    let mut call = Exchange::post(first, Some(&session), &chatty_call(3, 6)).await;
    call.until("\"line\":", 2).await;
    let seen = call.numbers("line");
    let last = call.last_event_id();
    deployment.reports.wait_for("chatting on 0").await;
    // Every event of the first instance is stored before it is sent; then the instance dies.
    call.until("\"line\":5", 1).await;
    drop(call);
    deployment.instances[0].kill();

    let mut resumed = Exchange::get(third, &session, Some(&last)).await;
    resumed.read_to_end().await;
    assert!(resumed.text.starts_with("HTTP/1.1 200"), "{}", resumed.text);
    let mut lines = seen;
    lines.extend(resumed.numbers("line"));
    assert_eq!(
        lines,
        (0..6).collect::<Vec<_>>(),
        "every stored event once, in order"
    );

    // Nothing more will come: resuming again is refused, so the client fails the request.
    let mut again = Exchange::get(second, &session, Some(&resumed.last_event_id())).await;
    again.read_to_end().await;
    assert!(again.text.starts_with("HTTP/1.1 400"), "{}", again.text);
    assert!(again.text.contains("no longer running"), "{}", again.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_closed_after_priming_is_polled_from_another_instance() {
    let deployment = Deployment::start().await;
    let [first, second, third] = [0, 1, 2].map(|index| deployment.instances[index].address);
    let session = legacy_session(first, second).await;

    let call = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "chatty", "arguments": {"before": 0, "close": true}}});
    let mut polled = Exchange::post(first, Some(&session), &call).await;
    polled.read_to_end().await;
    assert!(polled.text.starts_with("HTTP/1.1 200"), "{}", polled.text);
    let priming = polled.last_event_id();
    deployment.reports.wait_for("chatting on 0").await;

    // Nothing but the priming event was sent: the store knows nothing of the stream yet.
    let mut resumed = Exchange::get(third, &session, Some(&priming)).await;
    resumed.until("HTTP/1.1 200", 1).await;
    deployment.gate.notify_one();
    resumed.read_to_end().await;
    assert_eq!(resumed.numbers("line"), vec![0], "{}", resumed.text);
    assert!(
        resumed.text.contains("chatted"),
        "the response came: {}",
        resumed.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_for_an_answer_on_an_instance_that_dies_fails() {
    let mut deployment = Deployment::start().await;
    let asked = Arc::new(Notify::new());
    let killed = Arc::new(Notify::new());
    let transport = HttpClientBuilder::new(format!("http://{}/mcp", deployment.balancer.address()))
        .streamable()
        .expect("a transport");
    let client = Client::builder("legacy-client", "1.0.0")
        .era(EraChoice::Legacy)
        .request_timeout(Some(STEP))
        .elicitation({
            let (asked, killed) = (Arc::clone(&asked), Arc::clone(&killed));
            move |_: types::ElicitRequestParams, _: mcpwire_client::RequestContext| {
                let (asked, killed) = (Arc::clone(&asked), Arc::clone(&killed));
                async move {
                    asked.notify_one();
                    // The answer goes out once the instance that asked is gone.
                    killed.notified().await;
                    serde_json::from_value::<types::ElicitResult>(json!({"action": "accept"}))
                        .map_err(|error| {
                            mcpwire_client::ErrorObject::internal_error(error.to_string())
                        })
                }
            }
        })
        .connect(transport)
        .await
        .expect("the client connects");

    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.call_tool("ask_here", json!({})).await })
    };
    tokio::time::timeout(STEP, asked.notified())
        .await
        .expect("the handler asks");
    let asking = deployment.reports.wait_for("asking on").await;
    let index: usize = asking["asking on ".len()..].parse().expect("an index");
    deployment.instances[index].kill();
    killed.notify_one();

    // The call fails, explicitly and in time: it never waits for its timeout.
    let started = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(STEP, call)
        .await
        .expect("the call ends in time")
        .expect("the call's task ends");
    let error = outcome.expect_err("nobody runs the handler any more");
    assert!(!error.is_timeout(), "{error}");
    assert!(
        started.elapsed() < STEP / 2,
        "failed after {:?}",
        started.elapsed()
    );

    // The session goes on through the instances left.
    for _ in 0..3 {
        client.ping().await.expect("the others serve the session");
    }
}

/// A `tools/call` of `tool` as a task of a 2025-11-25 session.
fn task_call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {}, "task": {"ttl": 60_000}}})
}

/// Starts the tool `gated` as a task of `session` through `address`: the task's id.
async fn start_session_task(address: SocketAddr, session: &str, id: u64) -> String {
    let created = Exchange::response(address, Some(session), &task_call(id, "gated")).await;
    created["result"]["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a CreateTaskResult: {created}"))
        .to_owned()
}

/// A `tasks/*` request about task `task_id`.
fn task_request(id: u64, method: &str, task_id: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"taskId": task_id}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_task_is_polled_listed_awaited_and_cancelled_through_the_other_instances() {
    let deployment = Deployment::start().await;
    let [a, b, c] = [0, 1, 2].map(|index| deployment.instances[index].address);
    let session = legacy_session(a, b).await;

    // Made on `a`, where it runs.
    let task_id = start_session_task(a, &session, 2).await;
    assert_eq!(
        deployment.reports.wait_for("started on").await,
        "started on 0"
    );

    // Seen working through the others, and listed by them.
    let got = Exchange::response(b, Some(&session), &task_request(3, "tasks/get", &task_id)).await;
    assert_eq!(got["result"]["status"], "working", "{got}");
    assert_eq!(got["result"]["taskId"], task_id.as_str());
    let listed = Exchange::response(
        c,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tasks/list"}),
    )
    .await;
    assert_eq!(
        listed["result"]["tasks"][0]["taskId"],
        task_id.as_str(),
        "{listed}"
    );

    // `tasks/result` through `b` waits for the end on `a`, and answers with its result.
    let waiting = {
        let (session, task_id) = (session.clone(), task_id.clone());
        tokio::spawn(async move {
            Exchange::response(
                b,
                Some(&session),
                &task_request(5, "tasks/result", &task_id),
            )
            .await
        })
    };
    let got = Exchange::response(c, Some(&session), &task_request(6, "tasks/get", &task_id)).await;
    assert_eq!(got["result"]["status"], "working", "{got}");
    deployment.gate.notify_one();
    let result = tokio::time::timeout(STEP, waiting)
        .await
        .expect("tasks/result answers in time")
        .expect("the request's task ends");
    assert_eq!(
        result["result"]["content"][0]["text"], "released",
        "{result}"
    );
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id.as_str()
    );
    let got = Exchange::response(c, Some(&session), &task_request(7, "tasks/get", &task_id)).await;
    assert_eq!(got["result"]["status"], "completed", "{got}");

    // Another, cancelled through `c`: the work on `a` stops, and every instance says so.
    let cancelled_id = start_session_task(a, &session, 8).await;
    let cancel = Exchange::response(
        c,
        Some(&session),
        &task_request(9, "tasks/cancel", &cancelled_id),
    )
    .await;
    assert_eq!(cancel["result"]["status"], "cancelled", "{cancel}");
    deployment.reports.wait_for("ended cancelled=true").await;
    for (id, address) in [(10, a), (11, b)] {
        let got = Exchange::response(
            address,
            Some(&session),
            &task_request(id, "tasks/get", &cancelled_id),
        )
        .await;
        assert_eq!(got["result"]["status"], "cancelled", "{got}");
    }
    let result = Exchange::response(
        b,
        Some(&session),
        &task_request(12, "tasks/result", &cancelled_id),
    )
    .await;
    assert!(result["error"]["message"].as_str().is_some(), "{result}");

    // Another session sees none of them, on any instance.
    let stranger = legacy_session(b, c).await;
    let got =
        Exchange::response(a, Some(&stranger), &task_request(13, "tasks/get", &task_id)).await;
    assert_eq!(got["error"]["code"], -32602, "{got}");
    let listed = Exchange::response(
        b,
        Some(&stranger),
        &json!({"jsonrpc": "2.0", "id": 14, "method": "tasks/list"}),
    )
    .await;
    assert_eq!(listed["result"]["tasks"], json!([]), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_task_whose_instance_dies_fails_within_the_lease() {
    let mut deployment = Deployment::start().await;
    let [a, b, c] = [0, 1, 2].map(|index| deployment.instances[index].address);
    let session = legacy_session(a, b).await;
    let task_id = start_session_task(a, &session, 2).await;
    deployment.reports.wait_for("started on 0").await;

    // A wait for its result through `c` ends when the lease of `a` lapses.
    let waiting = {
        let (session, task_id) = (session.clone(), task_id.clone());
        tokio::spawn(async move {
            Exchange::response(
                c,
                Some(&session),
                &task_request(3, "tasks/result", &task_id),
            )
            .await
        })
    };
    let killed = tokio::time::Instant::now();
    deployment.instances[0].kill();

    let result = tokio::time::timeout(STEP, waiting)
        .await
        .expect("tasks/result answers in time")
        .expect("the request's task ends");
    assert_eq!(
        result["error"]["message"], "the server instance running the task stopped",
        "{result}"
    );
    assert!(
        killed.elapsed() < LEASE * 3 + Duration::from_secs(2),
        "failed within the lease and a look: {:?}",
        killed.elapsed()
    );
    let got = Exchange::response(b, Some(&session), &task_request(4, "tasks/get", &task_id)).await;
    assert_eq!(got["result"]["status"], "failed", "{got}");
}

/// The `_meta` of a modern request that declares the tasks extension.
fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        }
    })
}

/// Starts the tool `gated` as a task of the extension through `address`: the task's id.
async fn start_modern_task(address: SocketAddr, id: u64) -> String {
    let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "gated", "arguments": {}, "_meta": modern_meta()}});
    let mut created = Exchange::post_modern(address, "tools/call", Some("gated"), &call).await;
    created.read_to_end().await;
    let created = created.json_body();
    created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task was made: {created}"))
        .to_owned()
}

/// A `subscriptions/listen` through `address` that follows task `task_id`, acknowledged.
async fn listen_to_task(address: SocketAddr, task_id: &str) -> Exchange {
    let listen = json!({"jsonrpc": "2.0", "id": "listen", "method": "subscriptions/listen",
        "params": {"notifications": {"taskIds": [task_id]}, "_meta": modern_meta()}});
    let mut stream = Exchange::post_modern(address, "subscriptions/listen", None, &listen).await;
    stream
        .until("notifications/subscriptions/acknowledged", 1)
        .await;
    assert!(
        stream
            .text
            .contains(&format!("\"taskIds\":[\"{task_id}\"]")),
        "the acknowledgement names the task: {}",
        stream.text
    );
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_follows_a_task_that_runs_on_another_instance() {
    let mut deployment = Deployment::start().await;
    let [a, b, c] = [0, 1, 2].map(|index| deployment.instances[index].address);

    // Made on `a`, followed on `b`: its status as it is, then its end.
    let task_id = start_modern_task(a, 1).await;
    deployment.reports.wait_for("started on 0").await;
    let mut stream = listen_to_task(b, &task_id).await;
    stream.until("\"status\":\"working\"", 1).await;
    deployment.gate.notify_one();
    stream.until("\"status\":\"completed\"", 1).await;
    assert!(stream.text.contains("released"), "{}", stream.text);

    // Made on `c`, which dies: the subscription on `b` hears it failed, within the lease.
    let task_id = start_modern_task(c, 2).await;
    deployment.reports.wait_for("started on 2").await;
    let mut stream = listen_to_task(b, &task_id).await;
    stream.until("\"status\":\"working\"", 1).await;
    deployment.instances[2].kill();
    stream.until("\"status\":\"failed\"", 1).await;
    assert!(
        stream
            .text
            .contains("the server instance running the task stopped"),
        "{}",
        stream.text
    );
}
