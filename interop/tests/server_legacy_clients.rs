//! Interop with real clients: the official TypeScript and Python SDKs' clients drive our
//! `everything` example over stdio and over Streamable HTTP, and the TypeScript SDK's client
//! over the legacy HTTP+SSE transport of 2024-11-05.
//!
//! Each peer script (`interop/ts_client.mjs`, `interop/py_client.py`) spawns the server,
//! answers its sampling, elicitation and roots requests, calls every tool, reads every
//! resource, gets every prompt, asks for completions, and prints a JSON summary that the tests
//! check here. The peers are installed by `cargo xtask interop-setup`, which the tests run
//! first (it does nothing when they are current); they need node, npm and python3.

use std::path::Path;
use std::time::Duration;

use mcpwire_interop::examples::{everything_example, external_http_url};
use mcpwire_interop::peers::{peers, run};
use serde_json::{Value, json};

/// How long one peer may take to run its whole script against the server.
const PEER_TIMEOUT: Duration = Duration::from_secs(120);

/// The model name each peer's sampling handler answers with.
const TYPESCRIPT_MODEL: &str = "ts-interop-model";
const PYTHON_MODEL: &str = "py-interop-model";

#[tokio::test]
async fn typescript_sdk_client_drives_the_everything_server() {
    let peers = peers().await;
    let server = everything_example().await;
    let script = peers.scripts.join("ts_client.mjs");
    let summary = run_client(Path::new("node"), &script, server).await;
    assert!(
        summary["cancellation"].is_object(),
        "the TypeScript client cancels a call"
    );
    check_summary(&summary, TYPESCRIPT_MODEL);
}

#[tokio::test]
async fn python_sdk_client_drives_the_everything_server() {
    let peers = peers().await;
    let server = everything_example().await;
    let script = peers.scripts.join("py_client.py");
    let summary = run_client(&peers.python, &script, server).await;
    check_summary(&summary, PYTHON_MODEL);
}

#[tokio::test]
async fn typescript_sdk_client_drives_the_everything_server_over_http() {
    let peers = peers().await;
    let server = HttpServer::start().await;
    let script = peers.scripts.join("ts_client.mjs");
    let summary = run_http_client(Path::new("node"), &script, "--http", &server.url).await;
    check_summary(&summary, TYPESCRIPT_MODEL);
    server.stop().await;
}

#[tokio::test]
async fn typescript_sdk_client_drives_the_everything_server_over_legacy_sse() {
    let peers = peers().await;
    let server = HttpServer::start().await;
    // The example serves the legacy event stream at `/sse` beside its `/mcp` endpoint.
    let sse_url = server
        .url
        .strip_suffix("/mcp")
        .map(|base| format!("{base}/sse"))
        .expect("the example announces its /mcp endpoint");
    let script = peers.scripts.join("ts_client.mjs");
    let summary = run_http_client(Path::new("node"), &script, "--sse", &sse_url).await;
    check_summary(&summary, TYPESCRIPT_MODEL);
    server.stop().await;
}

#[tokio::test]
async fn python_sdk_client_drives_the_everything_server_over_http() {
    let peers = peers().await;
    let server = HttpServer::start().await;
    let script = peers.scripts.join("py_client.py");
    let summary = run_http_client(&peers.python, &script, "--http", &server.url).await;
    check_summary(&summary, PYTHON_MODEL);
    server.stop().await;
}

/// The `everything` example serving Streamable HTTP on a free loopback port, or the external
/// deployment that `MCPWIRE_INTEROP_HTTP_URL_EVERYTHING` names (see `external_http_url`).
struct HttpServer {
    /// The example started, unless the deployment is external.
    child: Option<tokio::process::Child>,
    url: String,
}

impl HttpServer {
    async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        if let Some(url) = external_http_url(&["everything"]) {
            return HttpServer { child: None, url };
        }
        let executable = everything_example().await;
        let mut child = tokio::process::Command::new(executable)
            .args(["--http", "127.0.0.1:0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the everything example starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let url = tokio::time::timeout(PEER_TIMEOUT, lines.next_line())
            .await
            .expect("the example announces its URL in time")
            .expect("stderr")
            .and_then(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .expect("the first line names the URL");
        HttpServer {
            child: Some(child),
            url,
        }
    }

    async fn stop(self) {
        if let Some(mut child) = self.child {
            child.kill().await.expect("the example stops");
        }
    }
}

/// Runs a peer client script against the server at `url`, over the transport its `flag`
/// names (`--http` for Streamable HTTP, `--sse` for HTTP+SSE), and returns its summary.
async fn run_http_client(interpreter: &Path, script: &Path, flag: &str, url: &str) -> Value {
    let script = script.to_str().expect("the workspace path is UTF-8");
    let output = run(interpreter, &[script, flag, url], PEER_TIMEOUT).await;
    summary_of(script, &output)
}

/// Runs a peer client script against `server` and returns its summary, failing with the
/// peer's output when it reports a failure.
async fn run_client(interpreter: &Path, script: &Path, server: &Path) -> Value {
    let script = script.to_str().expect("the workspace path is UTF-8");
    let server = server.to_str().expect("the target path is UTF-8");
    let output = run(interpreter, &[script, server], PEER_TIMEOUT).await;
    summary_of(script, &output)
}

/// The JSON summary a peer script printed, failing with its output when it failed.
fn summary_of(script: &str, output: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}).\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!("{script} printed no JSON summary ({error}):\n{stdout}\nstderr:\n{stderr}")
    });
    assert_eq!(summary["failures"], json!([]), "{script} reported failures");
    summary
}

/// The text of a text content block.
fn text(value: &Value) -> &str {
    value["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a text block expected, got {value}"))
}

/// What every SDK client must have seen of the everything example.
fn check_summary(summary: &Value, model: &str) {
    // Lifecycle.
    assert_eq!(summary["protocolVersion"], "2025-11-25");
    assert_eq!(summary["serverInfo"]["name"], "mcpwire-everything");
    assert_eq!(summary["serverInfo"]["title"], "mcpwire everything server");
    assert_eq!(
        summary["instructions"],
        "A demonstration server: every tool, resource and prompt is safe to call."
    );
    for capability in ["tools", "resources", "prompts", "logging", "completions"] {
        assert!(
            summary["serverCapabilities"][capability].is_object(),
            "capability {capability} missing: {}",
            summary["serverCapabilities"]
        );
    }

    // Tools: every one listed and called.
    let mut names: Vec<&str> = summary["toolList"]
        .as_array()
        .expect("a tool list")
        .iter()
        .map(|tool| tool["name"].as_str().expect("a tool name"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "ask_name", "count_down", "haiku", "roots"]);
    let tools = &summary["tools"];
    for name in names {
        assert_ne!(
            tools[name]["result"]["isError"], true,
            "{name}: {}",
            tools[name]
        );
    }

    // Structured output, with its text fallback.
    let add = &tools["add"]["result"];
    assert_eq!(add["structuredContent"], json!({"sum": 5.5}));
    let fallback: Value = serde_json::from_str(text(&add["content"][0])).expect("JSON text");
    assert_eq!(fallback, json!({"sum": 5.5}));

    // Progress, in order and before the result, and logging.
    let count_down = &tools["count_down"];
    assert_eq!(
        text(&count_down["result"]["content"][0]),
        "counted down 3 steps"
    );
    let progress: Vec<(f64, f64, &str)> = count_down["progress"]
        .as_array()
        .expect("progress updates")
        .iter()
        .map(|update| {
            (
                update["progress"].as_f64().expect("progress"),
                update["total"].as_f64().expect("total"),
                update["message"].as_str().expect("message"),
            )
        })
        .collect();
    assert_eq!(
        progress,
        [
            (1.0, 3.0, "counting"),
            (2.0, 3.0, "counting"),
            (3.0, 3.0, "counting")
        ]
    );
    let steps: Vec<&Value> = summary["logs"]
        .as_array()
        .expect("log messages")
        .iter()
        .filter(|log| log["logger"] == "count_down")
        .map(|log| &log["data"]["step"])
        .collect();
    // The cancelled call below may log a step or two after these.
    assert!(
        steps.starts_with(&[&json!(1), &json!(2), &json!(3)]),
        "{steps:?}"
    );

    // Cancellation (TypeScript only): the client aborted a call at its first progress
    // update; a response to it would have been reported as a failure.
    if let Some(cancellation) = summary.get("cancellation") {
        assert_eq!(cancellation["progress"].as_array().map(Vec::len), Some(1));
        assert!(
            cancellation["error"]
                .as_str()
                .is_some_and(|error| error.contains("cancelled by the interop client")),
            "{cancellation}"
        );
    }

    // Elicitation: asked once, and the answer reached the tool.
    let elicitations = summary["handled"]["elicitation"]
        .as_array()
        .expect("elicitations");
    assert_eq!(elicitations.len(), 1, "{elicitations:?}");
    assert_eq!(elicitations[0]["message"], "What is your name?");
    assert_eq!(
        elicitations[0]["requestedSchema"]["required"],
        json!(["name"])
    );
    let answer = text(&tools["ask_name"]["result"]["content"][0]);
    assert!(
        answer.starts_with("accept") && answer.contains("Ada"),
        "{answer}"
    );

    // Sampling: asked once, and the answer reached the tool.
    let samplings = summary["handled"]["sampling"]
        .as_array()
        .expect("samplings");
    assert_eq!(samplings.len(), 1, "{samplings:?}");
    assert_eq!(samplings[0]["maxTokens"], 100);
    assert_eq!(
        text(&samplings[0]["messages"][0]["content"]),
        "Write a haiku about Rust."
    );
    let haiku = text(&tools["haiku"]["result"]["content"][0]);
    assert!(haiku.starts_with(&format!("{model} wrote: ")), "{haiku}");

    // Roots.
    assert_eq!(summary["handled"]["roots"], 1);
    assert_eq!(
        text(&tools["roots"]["result"]["content"][0]),
        "file:///interop/workspace"
    );

    // Errors: protocol errors for an unknown tool and a missing resource, a tool execution
    // error for invalid arguments (SEP-1303).
    let errors = &summary["errors"];
    assert_eq!(errors["unknownTool"]["code"], -32602, "{errors}");
    assert_eq!(errors["missingResource"]["code"], -32002, "{errors}");
    assert_eq!(
        errors["missingResource"]["data"],
        json!({"uri": "mcpwire://missing"})
    );
    let invalid = &errors["invalidArguments"];
    assert_eq!(invalid["isError"], true, "{errors}");
    assert!(
        text(&invalid["content"][0]).contains("invalid arguments for tool `add`"),
        "{invalid}"
    );

    // Resources: text, blob, and a templated URI.
    let resources = &summary["resources"];
    assert_eq!(
        resources["mcpwire://readme"]["contents"],
        json!([{"uri": "mcpwire://readme", "mimeType": "text/markdown", "text": "# mcpwire\nA Rust MCP implementation."}])
    );
    assert_eq!(
        resources["mcpwire://pixel"]["contents"],
        json!([{"uri": "mcpwire://pixel", "mimeType": "application/octet-stream", "blob": "AAECAw=="}])
    );
    assert_eq!(
        summary["templated"]["contents"],
        json!([{"uri": "mcpwire://greeting/Ada", "mimeType": "text/plain", "text": "Hello, Ada!"}])
    );
    let templates: Vec<&Value> = summary["templateList"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|template| &template["uriTemplate"])
        .collect();
    assert_eq!(templates, [&json!("mcpwire://greeting/{name}")]);

    // Prompts.
    let review = &summary["prompts"]["review_code"];
    assert_eq!(review["description"], "Asks for a code review");
    assert_eq!(
        review["messages"],
        json!([{"role": "user", "content": {"type": "text", "text": "Please review this rust:\n\nfn main() {}"}}])
    );

    // Completion of a template variable and of a prompt argument.
    let completions = &summary["completions"];
    assert_eq!(
        completions["mcpwire://greeting/{name}"]["completion"]["values"],
        json!(["Ada", "Alan"])
    );
    assert_eq!(
        completions["prompt:review_code"]["completion"]["values"],
        json!(["rust"])
    );
}
