//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`) end to end: mcpwire's
//! client against mcpwire's server, through both public APIs, over the in-memory transport
//! (on the test's paused clock) and over Streamable HTTP. A tool call the server makes a task
//! of is followed to its result; its input requests reach the client's elicitation handler
//! through `tasks/update`; cancelling ends it `cancelled`; a client without the extension gets
//! plain results, or `-32021` for a tool that needs a task.

#![cfg(feature = "tasks")]

mod tasks_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcpwire_client::{
    Client, ClientBuilder, EraChoice, FollowLimits, RequestContext, TaskHandle, TaskStatus,
    ToolCall,
};
use mcpwire_jsonrpc::{ErrorCode, ErrorObject};
use mcpwire_server::{Context, Server, Session, TaskLimits, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, mpsc};

use tasks_support::{answer_of, form, no_arguments, task_tools};

/// Most polls a test makes by hand before it fails.
const MAX_POLLS: usize = 100;

/// The text of the first content block of a tool's result.
fn text_of(result: &types::CallToolResult) -> String {
    match result.content.first() {
        Some(types::ContentBlock::TextContent(text)) => text.text.clone(),
        other => panic!("a text block expected, got {other:?}"),
    }
}

/// What the `gated` and `ask` tools tell the test: that they run as a task, and, when their
/// run ends, whether it was cancelled.
#[derive(Debug, PartialEq)]
enum Gated {
    Started,
    /// `ask` runs as this task, and asks its question.
    Asking(String),
    Ended {
        cancelled: bool,
    },
}

/// Sends [`Gated::Ended`] when a handler's run ends, returned or dropped.
struct EndReport {
    context: Context,
    report: mpsc::UnboundedSender<Gated>,
}

impl Drop for EndReport {
    fn drop(&mut self) {
        let cancelled = self.context.is_cancelled();
        let _ = self.report.send(Gated::Ended { cancelled });
    }
}

fn server(
    task_limits: TaskLimits,
    gate: Arc<Notify>,
    report: mpsc::UnboundedSender<Gated>,
) -> Server {
    let asking = report.clone();
    let gated = move |_: Map<String, Value>, context: Context| {
        let gate = Arc::clone(&gate);
        let report = report.clone();
        async move {
            context.continue_as_task().await;
            let _ = report.send(Gated::Started);
            let _end = EndReport { context, report };
            gate.notified().await;
            Ok::<_, ToolError>("released")
        }
    };
    let ask = move |arguments: Map<String, Value>, context: Context| {
        let report = asking.clone();
        async move {
            context.continue_as_task().await;
            let task_id = context.task_id().unwrap_or_default().to_owned();
            let _ = report.send(Gated::Asking(task_id));
            let message = arguments
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("question?")
                .to_owned();
            let answer = context.elicit(form(&message)).await?;
            Ok::<_, ToolError>(answer_of(&answer))
        }
    };
    task_tools(Server::builder("tasks", "1.0.0"))
        .tasks()
        .task_limits(task_limits)
        .tool(
            Tool::raw("gated", no_arguments(), gated)
                .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .tool(
            Tool::raw("ask", no_arguments(), ask)
                .task_support(types::ToolExecutionTaskSupport::Optional),
        )
        .build()
        .expect("the server builds")
}

/// The elicitation handler of the tests, which counts its calls: it refuses `refuse?` (with
/// code -1), holds `hold?` for ever after telling `held`, and answers anything else with
/// `{message}-answer`.
fn answering(builder: ClientBuilder, asked: Arc<AtomicUsize>, held: Arc<Notify>) -> ClientBuilder {
    builder.elicitation(
        move |params: types::ElicitRequestParams, _context: RequestContext| {
            asked.fetch_add(1, Ordering::SeqCst);
            let message = match &params {
                types::ElicitRequestParams::ElicitRequestFormParams(form) => form.message.clone(),
                types::ElicitRequestParams::ElicitRequestURLParams(url) => url.message.clone(),
                types::ElicitRequestParams::Unknown(_) => String::new(),
            };
            let held = Arc::clone(&held);
            async move {
                match message.as_str() {
                    "refuse?" => return Err(ErrorObject::new(ErrorCode(-1), "refused")),
                    "hold?" => {
                        held.notify_one();
                        std::future::pending::<()>().await;
                    }
                    _ => {}
                }
                let answer = format!("{}-answer", message.trim_end_matches('?'));
                serde_json::from_value::<types::ElicitResult>(
                    json!({"action": "accept", "content": {"answer": answer}}),
                )
                .map_err(|error| ErrorObject::internal_error(error.to_string()))
            }
        },
    )
}

/// A modern client of `server` on the in-memory transport; `tasks` declares the extension.
async fn connect(server: &Server, tasks: bool, asked: Arc<AtomicUsize>) -> (Client, Session) {
    connect_holding(server, tasks, asked, Arc::default()).await
}

/// [`connect`], telling `held` when the handler holds a question.
async fn connect_holding(
    server: &Server,
    tasks: bool,
    asked: Arc<AtomicUsize>,
    held: Arc<Notify>,
) -> (Client, Session) {
    let (client_end, server_end) = mcpwire_transport::duplex(64);
    let session = server.serve(server_end);
    let mut builder = answering(
        Client::builder("tasks-client", "1.0.0").era(EraChoice::Modern),
        asked,
        held,
    );
    if tasks {
        builder = builder.tasks_extension(FollowLimits::default());
    }
    let client = builder
        .connect(client_end)
        .await
        .expect("the client connects");
    (client, session)
}

fn gated_server() -> (Server, Arc<Notify>, mpsc::UnboundedReceiver<Gated>) {
    let gate = Arc::new(Notify::new());
    let (report, reports) = mpsc::unbounded_channel();
    (
        server(TaskLimits::default(), Arc::clone(&gate), report),
        gate,
        reports,
    )
}

#[tokio::test(start_paused = true)]
async fn a_long_tool_call_is_awaited_through_its_task() {
    let (server, _gate, _reports) = gated_server();
    let (client, _session) = connect(&server, true, Arc::default()).await;
    assert!(
        client
            .server_extensions()
            .contains_key("io.modelcontextprotocol/tasks"),
        "the server declared the extension in server/discover"
    );
    // The plain call: the task is followed to its result, out of sight.
    let result = client
        .call_tool("compute", json!({"seconds": 30}))
        .await
        .expect("the result");
    assert_eq!(text_of(&result), "computed in 30s (task true)");
    assert_ne!(result.is_error, Some(true));

    // The handle: polled by hand, once at a time.
    let mut task = start_task(&client, "compute", json!({"seconds": 2})).await;
    assert_eq!(task.id().len(), 32);
    assert_eq!(task.status(), &TaskStatus::Working);
    assert_eq!(
        task.poll_interval(),
        Duration::from_millis(500),
        "the server's"
    );
    let mut polls = 0;
    let result = loop {
        polls += 1;
        assert!(polls <= MAX_POLLS, "the task never completed");
        if let Some(result) = task.poll().await.expect("a poll") {
            break result;
        }
        assert_eq!(task.status(), &TaskStatus::Working);
        tokio::time::sleep(task.poll_interval()).await;
    };
    assert_eq!(text_of(&result), "computed in 2s (task true)");
    assert_eq!(task.status(), &TaskStatus::Completed);
    assert!(polls >= 4, "two seconds at 500 ms: {polls} polls");

    // A task found again by its id: awaited to the same result.
    let again = client
        .resume_task(task.id())
        .await
        .expect("kept until its time to live");
    assert_eq!(text_of(&again), "computed in 2s (task true)");
}

#[tokio::test(start_paused = true)]
async fn the_task_asks_through_the_elicitation_handler() {
    let (server, _gate, _reports) = gated_server();
    let asked = Arc::new(AtomicUsize::new(0));
    let (client, _session) = connect(&server, true, Arc::clone(&asked)).await;

    // Both questions asked inside the task: answered through tasks/update, once each,
    // however many polls show them.
    let result = client
        .call_tool("interview", json!({}))
        .await
        .expect("the result");
    assert_eq!(text_of(&result), "first-answer and second-answer");
    assert_eq!(asked.load(Ordering::SeqCst), 2);

    // A question as a round of the request, before the server made the task.
    let result = client
        .call_tool("welcome", json!({}))
        .await
        .expect("the result");
    assert_eq!(text_of(&result), "Welcome, name-answer!");
    assert_eq!(asked.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn an_unanswerable_input_request_fails_the_call_and_cancels_the_task() {
    let (server, _gate, mut reports) = gated_server();
    let (client, _session) = connect(&server, true, Arc::default()).await;
    let task = start_task(&client, "ask", json!({"message": "refuse?"})).await;
    let task_id = task.id().to_owned();
    assert_eq!(reports.recv().await, Some(Gated::Asking(task_id.clone())));
    let error = task.await.expect_err("the handler refuses");
    assert!(error.is_input_request_failed(), "{error:?}");
    assert_eq!(
        error.input_error().map(|error| error.code),
        Some(ErrorCode(-1))
    );
    // The task was cancelled as the wait for it ended.
    let error = poll_to_end(client.resume_task(task_id.clone()))
        .await
        .expect_err("cancelled");
    assert!(error.is_task_cancelled(), "{error:?}");
    assert_eq!(error.task_id(), Some(task_id.as_str()));
}

/// Starts a call of `name` that the server must make a task of.
async fn start_task(client: &Client, name: &str, arguments: Value) -> TaskHandle {
    match client.start_tool_call(name, arguments).await {
        Ok(ToolCall::Task(task)) => task,
        other => panic!("{name} goes on as a task, got {other:?}"),
    }
}

/// Polls `task` by hand, at its interval, until it ends; each poll must end within a minute of
/// the test's clock (a question the handler holds would keep it for ever).
async fn poll_to_end(mut task: TaskHandle) -> Result<types::CallToolResult, mcpwire_client::Error> {
    for _ in 0..MAX_POLLS {
        let polled = tokio::time::timeout(Duration::from_secs(60), task.poll())
            .await
            .expect("the poll ends in time");
        if let Some(result) = polled? {
            return Ok(result);
        }
        tokio::time::sleep(task.poll_interval()).await;
    }
    panic!("task {} never ended", task.id());
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_working_task_ends_it_cancelled() {
    let (server, gate, mut reports) = gated_server();
    let (client, _session) = connect(&server, true, Arc::default()).await;

    let mut task = start_task(&client, "gated", json!({})).await;
    assert_eq!(reports.recv().await, Some(Gated::Started));
    task.cancel().await.expect("acknowledged");
    let error = task.poll().await.expect_err("cancelled");
    assert!(error.is_task_cancelled(), "{error:?}");
    assert_eq!(task.status(), &TaskStatus::Cancelled);
    assert_eq!(
        reports.recv().await,
        Some(Gated::Ended { cancelled: true }),
        "the work saw it"
    );
    // Work released now changes nothing.
    gate.notify_one();
    let error = task.poll().await.expect_err("still cancelled");
    assert!(error.is_task_cancelled(), "{error:?}");

    // Dropping an awaited call while its task works cancels the task too. The call is being
    // followed once its handler holds the task's question.
    let held = Arc::new(Notify::new());
    let (client, _session) =
        connect_holding(&server, true, Arc::default(), Arc::clone(&held)).await;
    let calling = client.clone();
    let call =
        tokio::spawn(async move { calling.call_tool("ask", json!({"message": "hold?"})).await });
    let Some(Gated::Asking(task_id)) = reports.recv().await else {
        panic!("ask reports its task");
    };
    held.notified().await;
    call.abort();
    assert!(call.await.expect_err("aborted").is_cancelled());
    let error = poll_to_end(client.resume_task(task_id))
        .await
        .expect_err("tasks/cancel went out when the call was dropped");
    assert!(error.is_task_cancelled(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn without_the_extension_the_results_are_plain() {
    let (server, _gate, _reports) = gated_server();
    let (client, _session) = connect(&server, false, Arc::default()).await;
    let result = client
        .call_tool("compute", json!({"seconds": 1}))
        .await
        .expect("the result");
    assert_eq!(text_of(&result), "computed in 1s (task false)");
    let started = client
        .start_tool_call("compute", json!({"seconds": 1}))
        .await
        .expect("the result");
    assert!(matches!(started, ToolCall::Complete(_)), "{started:?}");

    // A tool that needs a task: the server's -32021 names the extension.
    let error = client
        .call_tool("welcome", json!({}))
        .await
        .expect_err("needs the extension");
    assert!(error.is_missing_client_capability(), "{error:?}");
    let data: Value = serde_json::from_str(
        error
            .remote()
            .and_then(|remote| remote.data.as_deref())
            .expect("data")
            .get(),
    )
    .expect("JSON");
    assert_eq!(
        data["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );
    // The task methods are refused before anything is sent.
    let error = client
        .resume_task("0123456789abcdef0123456789abcdef")
        .poll()
        .await
        .expect_err("not declared");
    assert!(error.is_capability_missing(), "{error:?}");

    // With the extension, a tool without task support still answers plainly.
    let (client, _session) = connect(&server, true, Arc::default()).await;
    let started = client
        .start_tool_call("quick", json!({"seconds": 1}))
        .await
        .expect("the result");
    let ToolCall::Complete(result) = started else {
        panic!("quick never becomes a task");
    };
    assert_eq!(text_of(&result), "computed in 1s (task false)");
}

#[tokio::test(start_paused = true)]
async fn a_task_is_not_followed_beyond_its_time_to_live() {
    let gate = Arc::new(Notify::new());
    let (report, mut reports) = mpsc::unbounded_channel();
    let limits = TaskLimits {
        max_ttl: Duration::from_secs(10),
        ..TaskLimits::default()
    };
    let server = server(limits, gate, report);
    let (client, _session) = connect(&server, true, Arc::default()).await;
    let error = client
        .call_tool("gated", json!({}))
        .await
        .expect_err("never released");
    assert!(error.is_task_abandoned() && error.is_timeout(), "{error:?}");
    // The server expired the task; its work was stopped.
    assert_eq!(reports.recv().await, Some(Gated::Started));
    assert_eq!(reports.recv().await, Some(Gated::Ended { cancelled: true }));
}

/// The same over Streamable HTTP, where the server checks `Mcp-Name` on every `tasks/*`
/// request and tells principals apart by their bearer tokens.
#[cfg(feature = "http")]
mod over_http {
    use std::net::SocketAddr;

    use super::tasks_support::serve_http;
    use super::*;

    /// A modern client of the server at `address`, declaring the extension, with `token` as its
    /// bearer token when given.
    async fn http_client(
        address: SocketAddr,
        token: Option<&str>,
        asked: Arc<AtomicUsize>,
    ) -> Client {
        let mut transport =
            mcpwire_http::client::HttpClientBuilder::new(format!("http://{address}/mcp"));
        if let Some(token) = token {
            transport = transport.bearer_token(token);
        }
        let transport = transport.with_fallback().expect("an HTTP transport");
        answering(
            Client::builder("tasks-http-client", "1.0.0").era(EraChoice::Modern),
            asked,
            Arc::default(),
        )
        .tasks_extension(FollowLimits::default())
        .connect(transport)
        .await
        .expect("the client connects")
    }

    #[tokio::test]
    async fn over_http_tasks_are_followed_and_belong_to_their_principal() {
        let gate = Arc::new(Notify::new());
        let (report, mut reports) = mpsc::unbounded_channel();
        // Polled every 10 ms, so that the test runs quickly on the real clock.
        let limits = TaskLimits {
            poll_interval: Duration::from_millis(10),
            ..TaskLimits::default()
        };
        let (address, _stop) = serve_http(server(limits, Arc::clone(&gate), report)).await;
        let asked = Arc::new(AtomicUsize::new(0));
        let alice = http_client(address, Some("alice"), Arc::clone(&asked)).await;

        // Followed to the end through tasks/get and tasks/update, each carrying `Mcp-Name`.
        let result = alice
            .call_tool("interview", json!({}))
            .await
            .expect("the result");
        assert_eq!(text_of(&result), "first-answer and second-answer");
        assert_eq!(asked.load(Ordering::SeqCst), 2);

        let mut task = start_task(&alice, "gated", json!({})).await;
        assert_eq!(reports.recv().await, Some(Gated::Started));
        let task_id = task.id().to_owned();

        // Another principal, and nobody at all: as for a task that does not exist.
        let bob = http_client(address, Some("bob"), Arc::default()).await;
        let nobody = http_client(address, None, Arc::default()).await;
        for stranger in [&bob, &nobody] {
            let mut theirs = stranger.resume_task(&task_id);
            let error = theirs.poll().await.expect_err("not theirs");
            assert!(error.is_invalid_params(), "{error:?}");
            let error = theirs.cancel().await.expect_err("not theirs");
            assert!(error.is_invalid_params(), "{error:?}");
        }
        assert_eq!(task.poll().await.expect("alice's"), None);
        assert_eq!(
            task.status(),
            &TaskStatus::Working,
            "untouched by the others"
        );

        // Released, it completes for its owner.
        gate.notify_one();
        let result = task.await.expect("the result");
        assert_eq!(text_of(&result), "released");
        assert_eq!(
            reports.recv().await,
            Some(Gated::Ended { cancelled: false })
        );
    }
}
