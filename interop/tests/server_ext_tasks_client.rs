//! Interop with `@modelcontextprotocol/ext-tasks`, the requestor of the tasks extension
//! (`io.modelcontextprotocol/tasks`, 2026-07-28) that the Inspector 2 uses, on the TypeScript
//! SDK v2's client: `interop/ts_tasks_client.mjs` drives the tasks of our server over
//! Streamable HTTP: it polls a long-running task to completion, answers a task's input request
//! through `tasks/update` and cancels a task.
//!
//! The server runs in the test, so that the test sees what its tools saw. The package is
//! installed by `cargo xtask interop-setup`, which the test runs first; it needs node.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_interop::peers::peers;
use mcpwire_server::{Context, Server, TaskLimits, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Notify, mpsc};

/// How long the whole script may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Most requests the recording layer keeps; the script sends far fewer.
const MAX_RECORDED: usize = 10_000;

/// What the tools and the HTTP endpoint saw.
#[derive(Default)]
struct Seen {
    /// The `Mcp-Method` and `Mcp-Name` of each POST, in order.
    requests: Mutex<Vec<(String, String)>>,
}

impl Seen {
    fn count(&self, method: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(seen, _)| seen == method)
            .count()
    }

    /// The distinct `Mcp-Name`s of the requests of `method`.
    fn names(&self, method: &str) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (seen, name) in self.requests.lock().unwrap().iter() {
            if seen == method && !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }
}

fn object_schema() -> Map<String, Value> {
    json!({"type": "object"})
        .as_object()
        .cloned()
        .expect("object")
}

/// Our server with the script's three tools, each of which goes on as a task; `release` lets
/// `slow` finish; `events` says what the tools saw.
fn server(release: Arc<Notify>, events: mpsc::Sender<String>) -> Server {
    let slow = Tool::raw(
        "slow",
        object_schema(),
        move |_: Map<String, Value>, context: Context| {
            let release = Arc::clone(&release);
            async move {
                context.continue_as_task().await;
                release.notified().await;
                Ok::<_, ToolError>("slow done".to_owned())
            }
        },
    )
    .task_support(types::ToolExecutionTaskSupport::Optional);
    let answers = events.clone();
    let ask = Tool::raw(
        "ask",
        object_schema(),
        move |_: Map<String, Value>, context: Context| {
            let answers = answers.clone();
            async move {
                context.continue_as_task().await;
                let params = serde_json::from_value(json!({
                    "message": "Who is there?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"answer": {"type": "string"}},
                        "required": ["answer"]
                    }
                }))
                .expect("elicitation params");
                let result = context.elicit(params).await?;
                let answer = match result
                    .content
                    .as_ref()
                    .and_then(|content| content.get("answer"))
                {
                    Some(types::ElicitResultContentValue::String(answer)) => answer.clone(),
                    _ => format!("({})", result.action),
                };
                let _ = answers.send(format!("ask answered {answer}")).await;
                Ok::<_, ToolError>(format!("Hello, {answer}!"))
            }
        },
    )
    .task_support(types::ToolExecutionTaskSupport::Optional);
    let cancelled = events;
    let hold = Tool::raw(
        "hold",
        object_schema(),
        move |_: Map<String, Value>, context: Context| {
            let cancelled = cancelled.clone();
            async move {
                // The task's cancellation stops the handler's run: the guard says so when the
                // run is dropped.
                let _guard = Stopped(cancelled);
                context.continue_as_task().await;
                context.cancellation().cancelled().await;
                Ok::<_, ToolError>("cancelled".to_owned())
            }
        },
    )
    .task_support(types::ToolExecutionTaskSupport::Optional);
    Server::builder("mcpwire-tasks-interop", env!("CARGO_PKG_VERSION"))
        .tasks()
        .task_limits(TaskLimits {
            // Polls come quickly, so that the script takes little time.
            poll_interval: Duration::from_millis(20),
            ..TaskLimits::default()
        })
        .tool(slow)
        .tool(ask)
        .tool(hold)
        .build()
        .expect("the server builds")
}

/// Reports that the `hold` tool stopped, when its run ends or is dropped.
struct Stopped(mpsc::Sender<String>);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.try_send("hold stopped".to_owned());
    }
}

/// A layer that records the `Mcp-Method` and `Mcp-Name` headers of every request.
fn recording<S>(seen: Arc<Seen>) -> impl tower::Layer<S, Service = Recording<S>> + Clone {
    tower::layer::layer_fn(move |inner| Recording {
        inner,
        seen: Arc::clone(&seen),
    })
}

#[derive(Clone)]
struct Recording<S> {
    inner: S,
    seen: Arc<Seen>,
}

impl<S, B> tower::Service<http::Request<B>> for Recording<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        if request.method() == http::Method::POST {
            let mut requests = self.seen.requests.lock().unwrap();
            if requests.len() < MAX_RECORDED {
                requests.push((header("mcp-method"), header("mcp-name")));
            }
        }
        self.inner.call(request)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_tasks_polls_answers_and_cancels_our_tasks() {
    let peers = peers().await;
    let release = Arc::new(Notify::new());
    let (events, mut seen_by_tools) = mpsc::channel(16);
    let seen = Arc::new(Seen::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = {
        let server = server(Arc::clone(&release), events);
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            server
                .serve_http(listener)
                .layer(recording(seen))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    let mut child = tokio::process::Command::new("node")
        .arg(peers.scripts.join("ts_tasks_client.mjs"))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut lines: Vec<Value> = Vec::new();
    let reading = async {
        while let Some(line) = stdout.next_line().await.expect("the script's output reads") {
            let line: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
            if line["step"] == "slow" {
                // The task exists and the script polls it: let the tool finish now.
                release.notify_one();
            }
            lines.push(line);
        }
        child.wait().await.expect("the script ends")
    };
    let status = tokio::time::timeout(SCRIPT_TIMEOUT, reading)
        .await
        .expect("the script finishes in time");
    let _ = stop.send(());
    serving.await.unwrap().expect("the server stops cleanly");
    let by_step = |step: &str| {
        lines
            .iter()
            .find(|line| line["step"] == step)
            .unwrap_or_else(|| panic!("no `{step}` line in {lines:#?}"))
            .clone()
    };
    assert!(status.success(), "the script failed: {lines:#?}");

    assert_eq!(
        by_step("connect"),
        json!({"step": "connect", "era": "modern", "extension": true})
    );

    // A long-running tool: a task, polled while working, then its result.
    let slow = by_step("slow");
    assert_eq!(slow["kind"], "task", "{slow}");
    let slow_task = slow["taskId"].as_str().expect("a task id").to_owned();
    let slow_done = by_step("slow-done");
    assert_eq!(slow_done["status"], "completed", "{slow_done}");
    assert_eq!(slow_done["text"], "slow done", "{slow_done}");
    assert_eq!(
        slow_done["statuses"]
            .as_array()
            .and_then(|statuses| statuses.last()),
        Some(&json!("completed")),
        "{slow_done}"
    );

    // Input required: the answer went back through `tasks/update`.
    let ask = by_step("ask-done");
    assert_eq!(ask["kind"], "task", "{ask}");
    assert_eq!(ask["status"], "completed", "{ask}");
    assert_eq!(ask["text"], "Hello, Ada!", "{ask}");
    assert_eq!(
        ask["inputs"],
        json!([{"kind": "elicitation", "delivery": "task-update", "message": "Who is there?"}])
    );

    // Cancel: the task ends cancelled, and stays so.
    let hold = by_step("hold");
    assert_eq!(hold["kind"], "task", "{hold}");
    let hold_task = hold["taskId"].as_str().expect("a task id").to_owned();
    assert_eq!(
        by_step("hold-done"),
        json!({"step": "hold-done", "status": "cancelled", "snapshot": "cancelled"})
    );
    assert_eq!(lines.last(), Some(&json!({"step": "ok"})));

    // What our server saw: the tools' own view, and the requests.
    let mut tool_events = Vec::new();
    for _ in 0..2 {
        let event = tokio::time::timeout(SCRIPT_TIMEOUT, seen_by_tools.recv())
            .await
            .expect("the tools report in time");
        tool_events.extend(event);
    }
    assert_eq!(tool_events, ["ask answered Ada", "hold stopped"]);
    assert_eq!(seen.count("tools/call"), 3);
    assert!(
        seen.count("tasks/get") >= 3,
        "every task is polled: {:?}",
        seen.requests.lock().unwrap()
    );
    assert_eq!(seen.count("tasks/update"), 1);
    assert_eq!(seen.count("tasks/cancel"), 1);
    assert_eq!(seen.names("tasks/cancel"), std::slice::from_ref(&hold_task));
    let polled = seen.names("tasks/get");
    assert!(
        polled.contains(&slow_task) && polled.contains(&hold_task) && polled.len() == 3,
        "`Mcp-Name` carries each polled task's id: {polled:?}"
    );
    assert_eq!(seen.names("tools/call"), ["slow", "ask", "hold"]);
}
