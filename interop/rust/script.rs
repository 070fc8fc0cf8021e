//! The script of the dual-era interop peers (`interop/ts2_client.mjs`, `interop/py2_client.py`)
//! on the Rust side: the lines a run prints, and the same script run by mcpwire's client, so
//! that both directions share one expectation, used by the interop tests of the modern era.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcpwire_client::{
    Client, ClientBuilder, Era, ErrorObject, RequestContext, ServerNotification, SubscriptionFilter,
};
use mcpwire_schema::v2025_11_25::{
    CallToolResult, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Root,
};
use serde_json::{Value, json};
use tokio::sync::watch;

/// How long the script waits for the notification `trigger_tools_changed` causes.
const NOTIFICATION_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one request of the script may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The tools of every peer of the script, sorted.
const TOOLS: [&str; 7] = [
    "add",
    "echo",
    "elicit_name",
    "list_roots",
    "region_echo",
    "sample_text",
    "trigger_tools_changed",
];

/// The lines a run of the script in `era` (`"modern"` or `"legacy"`) prints when every step
/// passes, the connect line reduced to `step`, `sdk`, `era` and `protocolVersion` (see
/// [`check_script`]).
pub fn expected(era: &str, sdk: &str) -> Vec<Value> {
    let modern = era == "modern";
    let none = json!({"elicitation": 0, "sampling": 0, "roots": 0});
    let call = |tool: &str, text: &str, handled: Value| json!({"step": "tools/call", "tool": tool, "text": text, "handled": handled});
    let mut lines = vec![
        json!({"step": "connect", "sdk": sdk, "era": era,
               "protocolVersion": if modern { "2026-07-28" } else { "2025-11-25" }}),
        json!({"step": "tools/list", "tools": TOOLS}),
        call("echo", "hello", none.clone()),
        call("add", "5.5", none.clone()),
        call(
            "elicit_name",
            "Hello, Ada!",
            json!({"elicitation": 1, "sampling": 0, "roots": 0}),
        ),
        call(
            "sample_text",
            "interop-model: Fixed reply.",
            json!({"elicitation": 0, "sampling": 1, "roots": 0}),
        ),
        call(
            "list_roots",
            "file:///interop/root",
            json!({"elicitation": 0, "sampling": 0, "roots": 1}),
        ),
        call("region_echo", "eu-west: hi", none.clone()),
    ];
    if modern {
        lines.push(json!({"step": "subscriptions/listen", "honored": {"toolsListChanged": true}}));
    }
    lines.push(
        json!({"step": "tools/call", "tool": "trigger_tools_changed",
                      "text": "tools changed", "listChanged": true, "handled": none}),
    );
    lines.push(json!({"step": "resources/read", "uri": "interop://about",
                      "text": "An interop peer of mcpwire."}));
    lines.push(json!({"step": "prompts/get", "prompt": "greet", "text": "Say hello to Ada."}));
    lines.push(json!({"step": "ok"}));
    lines
}

/// Compares the lines of a run with [`expected`] ones, line by line: of the connect line
/// `step`, `sdk`, `era`, `protocolVersion`, and the name of `serverInfo` when `server_name` is
/// given (servers may add a title and more). Fails naming every line that differs.
pub fn check_script(actual: &[Value], expected: &[Value], server_name: Option<&str>) {
    let mut differences = Vec::new();
    for (index, (actual, expected)) in actual.iter().zip(expected).enumerate() {
        let same = if index == 0 {
            ["step", "sdk", "era", "protocolVersion"]
                .iter()
                .all(|key| actual[key] == expected[key])
                && server_name.is_none_or(|name| actual["serverInfo"]["name"] == name)
        } else {
            actual == expected
        };
        if !same {
            differences.push(format!(
                "line {index}:\n  got      {actual}\n  expected {expected}"
            ));
        }
    }
    if actual.len() != expected.len() {
        differences.push(format!(
            "{} lines, {} expected",
            actual.len(),
            expected.len()
        ));
    }
    assert!(
        differences.is_empty(),
        "{}\nall lines:\n{}",
        differences.join("\n"),
        serde_json::to_string_pretty(actual).unwrap_or_default()
    );
}

/// Parses the JSON lines a peer printed.
pub fn lines_of(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"))
        })
        .collect()
}

/// Our client's side of the script: handlers that answer as the peer clients' do and count
/// what they answered, and the driver of the script's steps.
#[derive(Clone)]
pub struct ScriptClient {
    elicitations: Arc<AtomicUsize>,
    samplings: Arc<AtomicUsize>,
    roots: Arc<AtomicUsize>,
    /// How many `notifications/tools/list_changed` came outside subscriptions.
    tools_changed: Arc<watch::Sender<usize>>,
}

impl Default for ScriptClient {
    fn default() -> Self {
        ScriptClient {
            elicitations: Arc::default(),
            samplings: Arc::default(),
            roots: Arc::default(),
            tools_changed: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl ScriptClient {
    /// A client builder with the script's handlers.
    pub fn builder(&self) -> ClientBuilder {
        let elicitations = Arc::clone(&self.elicitations);
        let samplings = Arc::clone(&self.samplings);
        let roots = Arc::clone(&self.roots);
        let tools_changed = Arc::clone(&self.tools_changed);
        Client::builder("mcpwire-interop", env!("CARGO_PKG_VERSION"))
            .request_timeout(Some(REQUEST_TIMEOUT))
            .elicitation(move |_: ElicitRequestParams, _: RequestContext| {
                elicitations.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok::<ElicitResult, ErrorObject>(from_json(
                        json!({"action": "accept", "content": {"name": "Ada"}}),
                    ))
                }
            })
            .sampling(move |_: CreateMessageRequestParams, _: RequestContext| {
                samplings.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok::<CreateMessageResult, ErrorObject>(from_json(json!({
                        "role": "assistant",
                        "content": {"type": "text", "text": "Fixed reply."},
                        "model": "interop-model",
                        "stopReason": "endTurn",
                    })))
                }
            })
            .roots(move |_: RequestContext| {
                roots.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok::<_, ErrorObject>(vec![Root {
                        uri: "file:///interop/root".to_owned(),
                        name: Some("interop root".to_owned()),
                        meta: None,
                    }])
                }
            })
            .on_notification(move |notification| {
                if notification == ServerNotification::ToolListChanged {
                    tools_changed.send_modify(|count| *count += 1);
                }
            })
    }

    /// The counts of answered elicitations, samplings and roots requests.
    fn handled(&self) -> [usize; 3] {
        [&self.elicitations, &self.samplings, &self.roots].map(|count| count.load(Ordering::SeqCst))
    }

    /// Runs the script with `client`, connected already, and returns the lines it prints.
    pub async fn drive(&self, client: &Client) -> Vec<Value> {
        let mut run = Run {
            lines: Vec::new(),
            failures: Vec::new(),
        };
        let era = match client.era() {
            Era::Modern => "modern",
            _ => "legacy",
        };
        run.lines.push(json!({
            "step": "connect",
            "sdk": "mcpwire",
            "era": era,
            "protocolVersion": client.protocol_version().as_str(),
            "serverInfo": to_json(client.server_info()),
        }));
        match client.list_tools().await {
            Ok(tools) => {
                let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
                names.sort_unstable();
                run.pass(json!({"step": "tools/list", "tools": names}));
            }
            Err(error) => run.fail(json!({"step": "tools/list"}), chain(&error)),
        }
        self.call(&mut run, client, "echo", json!({"text": "hello"}))
            .await;
        self.call(&mut run, client, "add", json!({"a": 2, "b": 3.5}))
            .await;
        self.call(&mut run, client, "elicit_name", json!({})).await;
        self.call(
            &mut run,
            client,
            "sample_text",
            json!({"prompt": "Say something."}),
        )
        .await;
        self.call(&mut run, client, "list_roots", json!({})).await;
        self.call(
            &mut run,
            client,
            "region_echo",
            json!({"region": "eu-west", "text": "hi"}),
        )
        .await;

        // A modern server sends change notifications only on a `subscriptions/listen` stream.
        let mut subscription = None;
        if era == "modern" {
            let filter = SubscriptionFilter {
                tools_list_changed: Some(true),
                ..Default::default()
            };
            match client.listen(filter).await {
                Ok(opened) => {
                    let honored = to_json(opened.acknowledged());
                    run.pass(json!({"step": "subscriptions/listen", "honored": honored}));
                    subscription = Some(opened);
                }
                Err(error) => run.fail(json!({"step": "subscriptions/listen"}), chain(&error)),
            }
        }
        let mut changes = self.tools_changed.subscribe();
        let seen = *changes.borrow_and_update();
        let before = self.handled();
        let step = json!({"step": "tools/call", "tool": "trigger_tools_changed"});
        match client.call_tool("trigger_tools_changed", json!({})).await {
            Ok(result) => {
                let notified = match subscription.as_mut() {
                    Some(subscription) => {
                        let next = tokio::time::timeout(NOTIFICATION_TIMEOUT, subscription.next());
                        matches!(
                            next.await,
                            Ok(Some(Ok(ServerNotification::ToolListChanged)))
                        )
                    }
                    None => {
                        let changed = changes.wait_for(|count| *count > seen);
                        matches!(
                            tokio::time::timeout(NOTIFICATION_TIMEOUT, changed).await,
                            Ok(Ok(_))
                        )
                    }
                };
                if notified {
                    let mut line = self.call_line(step, &result, before);
                    line["listChanged"] = json!(true);
                    run.check_tool(line, &result);
                } else {
                    run.fail(step, "no notifications/tools/list_changed within 5 s");
                }
            }
            Err(error) => run.fail(step, chain(&error)),
        }
        // Dropping the subscription ends its stream.
        drop(subscription);

        match client.read_resource("interop://about").await {
            Ok(read) => {
                let text: String = to_json(&read.contents)
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|content| content["text"].as_str())
                    .collect();
                run.pass(json!({"step": "resources/read", "uri": "interop://about", "text": text}));
            }
            Err(error) => run.fail(
                json!({"step": "resources/read", "uri": "interop://about"}),
                chain(&error),
            ),
        }
        let arguments = BTreeMap::from([("name".to_owned(), "Ada".to_owned())]);
        match client.get_prompt("greet", arguments).await {
            Ok(prompt) => {
                let texts: Vec<String> = prompt
                    .messages
                    .iter()
                    .map(|message| text_of(&to_json(&message.content)))
                    .collect();
                run.pass(
                    json!({"step": "prompts/get", "prompt": "greet", "text": texts.join("\n")}),
                );
            }
            Err(error) => run.fail(
                json!({"step": "prompts/get", "prompt": "greet"}),
                chain(&error),
            ),
        }
        if run.failures.is_empty() {
            run.lines.push(json!({"step": "ok"}));
        } else {
            let failures = std::mem::take(&mut run.failures);
            run.lines
                .push(json!({"step": "failed", "failures": failures}));
        }
        run.lines
    }

    /// Calls a tool and records its line.
    async fn call(&self, run: &mut Run, client: &Client, tool: &str, arguments: Value) {
        let before = self.handled();
        let step = json!({"step": "tools/call", "tool": tool});
        match client.call_tool(tool, arguments).await {
            Ok(result) => {
                let line = self.call_line(step, &result, before);
                run.check_tool(line, &result);
            }
            Err(error) => run.fail(step, chain(&error)),
        }
    }

    /// The line of a tool call: its text, and what the handlers answered since `before`.
    fn call_line(&self, mut line: Value, result: &CallToolResult, before: [usize; 3]) -> Value {
        let [elicitation, sampling, roots] = self.handled();
        line["text"] = json!(text_of(&to_json(&result.content)));
        line["handled"] = json!({
            "elicitation": elicitation - before[0],
            "sampling": sampling - before[1],
            "roots": roots - before[2],
        });
        line
    }
}

/// The lines of a run so far, and its failures.
struct Run {
    lines: Vec<Value>,
    failures: Vec<String>,
}

impl Run {
    fn pass(&mut self, line: Value) {
        self.lines.push(line);
    }

    fn fail(&mut self, mut line: Value, error: impl std::fmt::Display) {
        let error = error.to_string();
        self.failures.push(format!("{}: {error}", line["step"]));
        line["error"] = json!(error);
        self.lines.push(line);
    }

    /// Records a tool's line, or its failure when the result is a tool error.
    fn check_tool(&mut self, line: Value, result: &CallToolResult) {
        if result.is_error == Some(true) {
            let content = to_json(&result.content);
            self.fail(line, format!("tool error: {content}"));
        } else {
            self.pass(line);
        }
    }
}

/// An error with its sources, as far as eight deep.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    for _ in 0..8 {
        let Some(cause) = source else { break };
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The text of a content block, or of every text block of an array of them, joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::Array(blocks) => blocks.iter().map(text_of).collect(),
        block => block["text"].as_str().unwrap_or_default().to_owned(),
    }
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("our types encode")
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid value of the type")
}

/// A peer server of the script, driven by our client.
#[derive(Clone, Copy, Debug)]
pub enum Peer {
    /// `ts2_server.mjs --era ERA`.
    TypeScript(&'static str),
    /// `py2_server.py` (both eras).
    Python,
}

impl Peer {
    /// The name the server gives in `serverInfo`.
    pub fn name(self) -> &'static str {
        match self {
            Peer::TypeScript(_) => "ts2-interop-server",
            Peer::Python => "py2-interop-server",
        }
    }
}

/// Checks the error of a connection a modern-only peer server refused: its own `-32022`,
/// naming only 2026-07-28.
pub fn check_unsupported_version(error: &mcpwire_client::Error) {
    let remote = error
        .remote()
        .unwrap_or_else(|| panic!("the server's own error expected: {error}"));
    assert_eq!(
        remote.code,
        mcpwire_client::ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        "{remote:?}"
    );
    let data: Value =
        serde_json::from_str(remote.data.as_ref().expect("data").get()).expect("JSON data");
    assert_eq!(data["supported"], json!(["2026-07-28"]), "{data}");
}

/// What a connection of our client must end with.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    /// The whole script, in this era (`"modern"` or `"legacy"`).
    Script(&'static str),
    /// The connection fails with `-32022`, the server naming only 2026-07-28.
    UnsupportedVersion,
}

/// The tests of our client against the peer servers, one per row; each calls the calling
/// file's `drive_peer(Peer, EraChoice, Outcome)` within its `TEST_TIMEOUT`, with `Peer`,
/// `Outcome` and `EraChoice` in scope. Every transport runs the same rows.
#[macro_export]
macro_rules! client_matrix {
    () => {
        $crate::client_matrix! {
            client_forced_modern_drives_the_typescript_server: Peer::TypeScript("both"), Modern => Outcome::Script("modern");
            client_forced_modern_drives_the_python_server: Peer::Python, Modern => Outcome::Script("modern");
            client_forced_legacy_drives_the_typescript_server: Peer::TypeScript("both"), Legacy => Outcome::Script("legacy");
            client_forced_legacy_drives_the_python_server: Peer::Python, Legacy => Outcome::Script("legacy");
            client_probing_drives_the_typescript_server_in_the_modern_era: Peer::TypeScript("both"), Auto => Outcome::Script("modern");
            client_probing_drives_the_python_server_in_the_modern_era: Peer::Python, Auto => Outcome::Script("modern");
            client_probing_falls_back_with_a_legacy_only_typescript_server: Peer::TypeScript("legacy"), Auto => Outcome::Script("legacy");
            client_forced_legacy_is_refused_by_a_modern_only_typescript_server: Peer::TypeScript("modern"), Legacy => Outcome::UnsupportedVersion;
            client_probing_stays_modern_with_a_modern_only_typescript_server: Peer::TypeScript("modern"), Auto => Outcome::Script("modern");
        }
    };
    ($($name:ident: $peer:expr, $choice:ident => $outcome:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            tokio::time::timeout(TEST_TIMEOUT, drive_peer($peer, EraChoice::$choice, $outcome))
                .await
                .expect("the scenario finishes in time");
        }
    )*};
}
