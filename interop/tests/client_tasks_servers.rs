//! Interop with task-capable servers of other SDKs: our client drives the tasks of
//! `interop/ts_tasks_server.mjs` (the TypeScript SDK v1's experimental tasks) and
//! `interop/py_tasks_server.py` (the Python SDK 1.x's), both of revision 2025-11-25
//! (`task`-augmented `tools/call`, `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`),
//! over stdio.
//!
//! The client calls each tool as a task: `slow`, polled while it works and followed to its
//! result once the test lets it finish; `ask`, whose elicitation the server sends while our
//! `tasks/result` waits; and `hold`, which it cancels. The server's `seen` tool says what its
//! task store saw, which the test checks against what the client saw. The SDKs are installed by
//! `cargo xtask interop-setup`, which the test runs first; they need node and python3.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{
    Client, ElicitationModes, Error, ErrorObject, ProtocolVersion, RequestContext,
    ServerNotification,
};
use mcpwire_interop::peers::{peers, workspace_root};
use mcpwire_interop::results::{call_ok, texts};
use mcpwire_schema::v2025_11_25::{
    CallToolResult, ElicitRequestParams, ElicitResult, TaskStatus, ToolExecutionTaskSupport,
};
use mcpwire_stdio::{ChildProcess, Stderr};
use serde_json::{Value, json};

/// How long the scenario may take, from spawning the server to its exit.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The time to live the client asks for `slow` and `hold`, in milliseconds.
const TTL_MS: i64 = 60_000;

/// The poll interval the server gives its tasks, in milliseconds.
const SERVER_POLL_INTERVAL_MS: i64 = 20;

/// The related-task key of `_meta` (2025-11-25).
const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

#[tokio::test]
async fn client_drives_the_tasks_of_a_typescript_sdk_server() {
    let peers = peers().await;
    let script = peers.scripts.join("ts_tasks_server.mjs");
    let (process, server) = spawn(Path::new("node"), &script);
    tokio::time::timeout(TEST_TIMEOUT, scenario(Peer::TypeScript, process, server))
        .await
        .expect("the tasks scenario finishes in time");
}

#[tokio::test]
async fn client_drives_the_tasks_of_a_python_sdk_server() {
    let peers = peers().await;
    let script = peers.scripts.join("py_tasks_server.py");
    let (process, server) = spawn(&peers.python, &script);
    tokio::time::timeout(TEST_TIMEOUT, scenario(Peer::Python, process, server))
        .await
        .expect("the tasks scenario finishes in time");
}

/// The server the scenario drives, where the SDKs differ.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// `ts_tasks_server.mjs`, TypeScript SDK v1.
    TypeScript,
    /// `py_tasks_server.py`, Python SDK 1.x.
    Python,
}

impl Peer {
    /// Whether `error` is how the server answers `tasks/result` of a cancelled task, which has
    /// no result: the spec asks for "the final result of the underlying request", which
    /// neither SDK has for a cancelled call.
    fn refused_cancelled_result(self, error: &Error) -> bool {
        match self {
            // The store's "no result stored" exception, as an internal error.
            Peer::TypeScript => error.is_internal_error(),
            // A result holding only `_meta`, without the `content` of a `CallToolResult`.
            Peer::Python => error.is_decode(),
        }
    }

    /// What the server's task store saw, in order, for the tasks `slow`, `ask` and `hold`.
    fn store_record(self, slow: &str, ask: &str, hold: &str) -> Vec<String> {
        let created_slow = format!("created slow ttl={TTL_MS}");
        let created_hold = format!("created hold ttl={TTL_MS}");
        let elicited = "elicited accept Ada".to_owned();
        match self {
            // The work stores the result and its status at once.
            Peer::TypeScript => vec![
                created_slow,
                format!("result {slow} completed"),
                "created ask ttl=null".to_owned(),
                format!("status {ask} input_required"),
                elicited,
                format!("result {ask} completed"),
                created_hold,
                format!("status {hold} cancelled"),
            ],
            // The task context stores the result, then the status; it sets the task `working`
            // again once its elicitation is answered.
            Peer::Python => vec![
                created_slow,
                format!("result {slow} stored"),
                format!("status {slow} completed"),
                "created ask ttl=null".to_owned(),
                format!("status {ask} input_required"),
                format!("status {ask} working"),
                elicited,
                format!("result {ask} stored"),
                format!("status {ask} completed"),
                created_hold,
                format!("status {hold} cancelled"),
            ],
        }
    }
}

/// Drives the three tasks of `peer` with our client, then checks what the server saw.
async fn scenario(peer: Peer, process: ChildProcess, server: ServerProcess) {
    let seen = Seen::default();
    let client = seen
        .builder()
        .connect(process)
        .await
        .expect("initialize succeeds");
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    let tasks = client
        .server_capabilities()
        .tasks
        .clone()
        .expect("the server declares tasks");
    assert!(tasks.list.is_some() && tasks.cancel.is_some(), "{tasks:?}");

    let tools = client.list_tools().await.expect("tools/list");
    for name in ["slow", "ask", "hold"] {
        let tool = tools
            .iter()
            .find(|tool| tool.name == name)
            .unwrap_or_else(|| panic!("the server lists {name}"));
        assert_eq!(
            tool.execution
                .as_ref()
                .and_then(|execution| execution.task_support.clone()),
            Some(ToolExecutionTaskSupport::Required),
            "{name} runs only as a task"
        );
    }
    // A plain call of a tool that runs only as a task is the SDK's tool error.
    let plain = client
        .call_tool("slow", json!({}))
        .await
        .expect("tools/call slow");
    assert_eq!(plain.is_error, Some(true), "{plain:?}");

    // `slow`: a task that works until the test lets it finish.
    let slow = client
        .call_tool_as_task("slow", json!({}), Some(TTL_MS))
        .await
        .expect("slow as a task")
        .task;
    assert_eq!(slow.status, TaskStatus::Working);
    assert_eq!(slow.ttl, Some(TTL_MS));
    assert_eq!(slow.poll_interval, Some(SERVER_POLL_INTERVAL_MS));
    let polled = client
        .get_task(&slow.task_id)
        .await
        .expect("tasks/get slow");
    assert_eq!(polled.task_id, slow.task_id);
    assert_eq!(polled.status, TaskStatus::Working);
    assert_eq!(
        texts(&call_ok(&client, "release", json!({})).await),
        ["released"]
    );
    let slow_result = client
        .finish_tool_task(&slow.task_id)
        .await
        .expect("slow finishes");
    assert_eq!(texts(&slow_result), ["slow done"]);
    assert_eq!(related_task(&slow_result), Some(slow.task_id.as_str()));
    let slow_done = client
        .get_task(&slow.task_id)
        .await
        .expect("tasks/get slow");
    assert_eq!(slow_done.status, TaskStatus::Completed);

    // `ask`: the elicitation arrives while `tasks/result` waits, and our handler answers it.
    let ask = client
        .call_tool_as_task("ask", json!({}), None)
        .await
        .expect("ask as a task")
        .task;
    let ask_result = client
        .finish_tool_task(&ask.task_id)
        .await
        .expect("ask finishes");
    assert_eq!(texts(&ask_result), ["Hello, Ada!"]);
    let elicitations = seen.elicitation.lock().unwrap().clone();
    assert_eq!(elicitations.len(), 1, "{elicitations:?}");
    assert_eq!(elicitations[0]["message"], "Who is there?");
    assert_eq!(
        elicitations[0]["_meta"][RELATED_TASK]["taskId"], ask.task_id,
        "the elicitation names the task it serves"
    );

    // `hold`: cancelled while it works; it stays cancelled and has no result.
    let hold = client
        .call_tool_as_task("hold", json!({}), Some(TTL_MS))
        .await
        .expect("hold as a task")
        .task;
    let cancelled = client
        .cancel_task(&hold.task_id)
        .await
        .expect("tasks/cancel hold");
    assert_eq!(cancelled.task_id, hold.task_id);
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    let hold_now = client
        .get_task(&hold.task_id)
        .await
        .expect("tasks/get hold");
    assert_eq!(hold_now.status, TaskStatus::Cancelled);
    let again = client
        .cancel_task(&hold.task_id)
        .await
        .expect_err("a cancelled task cannot be cancelled again");
    assert!(again.is_invalid_params(), "{again}");
    // Following it ends as cancelled, without asking for a result it does not have...
    let followed = client
        .finish_tool_task(&hold.task_id)
        .await
        .expect_err("a cancelled task has no result");
    assert!(followed.is_task_cancelled(), "{followed}");
    assert_eq!(followed.task_id(), Some(hold.task_id.as_str()));
    // ...which each SDK answers in its own way when asked.
    let no_result = client
        .tool_task_result(&hold.task_id)
        .await
        .expect_err("a cancelled task has no result");
    assert!(peer.refused_cancelled_result(&no_result), "{no_result}");

    let listed = client.list_tasks().await.expect("tasks/list");
    let statuses: Vec<(String, TaskStatus)> = listed
        .into_iter()
        .map(|task| (task.task_id, task.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (slow.task_id.clone(), TaskStatus::Completed),
            (ask.task_id.clone(), TaskStatus::Completed),
            (hold.task_id.clone(), TaskStatus::Cancelled),
        ]
    );

    // What the server's task store saw, in order.
    let store_saw: Vec<String> =
        serde_json::from_str(&texts(&call_ok(&client, "seen", json!({})).await)[0])
            .expect("seen is JSON");
    assert_eq!(
        store_saw,
        peer.store_record(&slow.task_id, &ask.task_id, &hold.task_id)
    );

    // The TypeScript server announces `ask` waiting for input before it queues the
    // elicitation, so that notification came before the task ended. (The Python server
    // announces only the task's end, in a race with the answer to `tasks/result`.)
    if let Peer::TypeScript = peer {
        let announced: Vec<(String, TaskStatus)> = seen
            .notifications
            .lock()
            .unwrap()
            .iter()
            .filter_map(|notification| match notification {
                ServerNotification::TaskStatus(task) => {
                    Some((task.task_id.clone(), task.status.clone()))
                }
                _ => None,
            })
            .collect();
        assert!(
            announced.contains(&(ask.task_id.clone(), TaskStatus::InputRequired)),
            "{announced:?}"
        );
    }

    client.close().await;
    server.handle.shutdown().await.expect("the server exits");
}

/// The task a result says it belongs to.
fn related_task(result: &CallToolResult) -> Option<&str> {
    result
        .meta
        .as_ref()?
        .get(RELATED_TASK)?
        .get("taskId")?
        .as_str()
}

/// What our handlers and notification callback saw.
#[derive(Clone, Default)]
struct Seen {
    elicitation: Arc<Mutex<Vec<Value>>>,
    notifications: Arc<Mutex<Vec<ServerNotification>>>,
}

impl Seen {
    /// A client builder that answers every elicitation `{answer: "Ada"}` and records here.
    fn builder(&self) -> mcpwire_client::ClientBuilder {
        let elicitation = Arc::clone(&self.elicitation);
        let notifications = Arc::clone(&self.notifications);
        Client::builder("mcpwire-interop", env!("CARGO_PKG_VERSION"))
            .request_timeout(Some(REQUEST_TIMEOUT))
            .elicitation_modes(ElicitationModes::FORM_AND_URL)
            .elicitation(move |params: ElicitRequestParams, _: RequestContext| {
                let request = serde_json::to_value(&params).expect("our types encode");
                elicitation.lock().unwrap().push(request);
                async move {
                    let answer = json!({"action": "accept", "content": {"answer": "Ada"}});
                    Ok::<ElicitResult, ErrorObject>(
                        serde_json::from_value(answer).expect("an elicitation result"),
                    )
                }
            })
            .on_notification(move |notification| notifications.lock().unwrap().push(notification))
    }
}

/// The server process, shut down at the end of the scenario.
struct ServerProcess {
    handle: mcpwire_stdio::ChildHandle,
    _stderr: StderrLog,
}

/// Spawns `node <script>`: the process is the transport to the server.
fn spawn(program: &Path, script: &Path) -> (ChildProcess, ServerProcess) {
    let mut process = ChildProcess::builder(program)
        .args([script])
        .current_dir(workspace_root())
        .stderr(Stderr::Capture)
        .close_grace(Duration::from_secs(2))
        .terminate_grace(Duration::from_secs(2))
        .spawn()
        .unwrap_or_else(|error| panic!("starting {}: {error}", program.display()));
    let handle = process.handle();
    let mut lines = process.take_stderr().expect("stderr is captured");
    let stderr = StderrLog {
        script: script.display().to_string(),
        lines: Arc::default(),
    };
    let sink = Arc::clone(&stderr.lines);
    // Ends when the child's stderr closes, at the latest when the child is killed.
    tokio::spawn(async move {
        while let Some(line) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    let server = ServerProcess {
        handle,
        _stderr: stderr,
    };
    (process, server)
}

/// The server's stderr, printed when the test panics.
struct StderrLog {
    script: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for StderrLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self
                .lines
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("stderr of {}:\n{}", self.script, lines.join("\n"));
        }
    }
}
