//! The modern era (2026-07-28) over Streamable HTTP: `Server::http_service` serves modern
//! requests on the stateless lane and legacy sessions on the same endpoint. Driven over
//! loopback sockets with raw HTTP/1.1, as the official conformance suite does.

#![cfg(feature = "http")]

use std::net::SocketAddr;
use std::time::Duration;

use mcpwire_server::{Context, HttpConfig, ListKind, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// How long any single step of a test may take before it fails.
const STEP: Duration = Duration::from_secs(10);

/// Reports, when a `wait` call's future is dropped, whether its request was cancelled first.
struct DropReport {
    context: Context,
    report: mpsc::UnboundedSender<bool>,
}

impl Drop for DropReport {
    fn drop(&mut self) {
        let _ = self.report.send(self.context.cancellation().is_cancelled());
    }
}

/// The server under test, served on a free loopback port until the test ends.
struct Served {
    server: Server,
    address: SocketAddr,
    started: mpsc::UnboundedReceiver<()>,
    dropped: mpsc::UnboundedReceiver<bool>,
    _stop: oneshot::Sender<()>,
}

fn form(message: &str, field: &str) -> types::ElicitRequestParams {
    types::ElicitRequestParams::ElicitRequestFormParams(
        serde_json::from_value(json!({
            "message": message,
            "requestedSchema": {"type": "object", "properties": {field: {"type": "string"}}, "required": [field]}
        }))
        .expect("form params"),
    )
}

async fn start() -> Served {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Echo {
        text: String,
    }
    let (started_sender, started) = mpsc::unbounded_channel();
    let (dropped_sender, dropped) = mpsc::unbounded_channel();
    let server = Server::builder("modern-http", "2.0.0")
        .tool(Tool::typed("echo", |arguments: Echo| async move {
            Ok::<_, ToolError>(arguments.text)
        }))
        .tool(Tool::typed(
            "steps",
            |_: Map<String, Value>, context: Context| async move {
                for step in 1..=3 {
                    context.progress(f64::from(step), Some(3.0), None).await?;
                }
                Ok::<_, ToolError>("three steps")
            },
        ))
        .tool(Tool::typed(
            "greet",
            |_: Map<String, Value>, context: Context| async move {
                let answer = context.elicit(form("What is your name?", "name")).await?;
                let name = answer
                    .content
                    .as_ref()
                    .and_then(|content| content.get("name"))
                    .map(|name| format!("{name:?}"))
                    .unwrap_or_default();
                Ok::<_, ToolError>(format!("Hello, {name}!"))
            },
        ))
        .tool(Tool::typed(
            "wait",
            move |_: Map<String, Value>, context: Context| {
                let started = started_sender.clone();
                let report = dropped_sender.clone();
                async move {
                    let _report = DropReport { context, report };
                    let _ = started.send(());
                    std::future::pending::<()>().await;
                    Ok::<_, ToolError>("never")
                }
            },
        ))
        .tool(Tool::raw(
            "region_echo",
            json!({
                "type": "object",
                "properties": {
                    "region": {"type": "string", "x-mcp-header": "Region"},
                    "shard": {"type": "integer", "x-mcp-header": "Shard"},
                    "text": {"type": "string"}
                },
                "required": ["region"]
            })
            .as_object()
            .cloned()
            .expect("an object"),
            |arguments: Map<String, Value>, _: Context| async move {
                Ok::<_, ToolError>(format!("{}: {}", arguments["region"], arguments["text"]))
            },
        ))
        .build()
        .expect("the server builds");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = server.clone();
    tokio::spawn(async move {
        serving
            .serve_http(listener)
            .config(HttpConfig::default())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Served {
        server,
        address,
        started,
        dropped,
        _stop: stop,
    }
}

/// The `_meta` of a modern request.
fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "modern-http-test", "version": "1.0.0"},
    })
}

/// A modern request with the full `_meta` merged into `params`.
fn modern(id: i64, method: &str, mut params: Value) -> Value {
    let mut full_meta = meta();
    if let Some(extra) = params["_meta"].as_object() {
        for (key, value) in extra {
            full_meta[key] = value.clone();
        }
    }
    params["_meta"] = full_meta;
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The headers a modern client sends with `message`, and `extra`.
fn modern_headers(message: &Value, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers = vec![
        ("MCP-Protocol-Version".to_owned(), "2026-07-28".to_owned()),
        (
            "Mcp-Method".to_owned(),
            message["method"].as_str().unwrap().to_owned(),
        ),
    ];
    if let Some(name) = message["params"]["name"].as_str() {
        headers.push((
            "Mcp-Name".to_owned(),
            mcpwire_http::headers::encode_value(name),
        ));
    }
    for (name, value) in extra {
        headers.push(((*name).to_owned(), (*value).to_owned()));
    }
    headers
}

/// An HTTP answer read to its end.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {:?}", self.body))
    }

    /// The messages of an SSE body, in order.
    fn events(&self) -> Vec<Value> {
        assert_eq!(self.header("content-type"), Some("text/event-stream"));
        data_lines(&self.body)
    }
}

fn data_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).expect("JSON data"))
        .collect()
}

/// Writes a POST of `message` with `headers` on a new connection.
async fn send(address: SocketAddr, headers: &[(String, String)], message: &Value) -> TcpStream {
    let body = message.to_string();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut socket = TcpStream::connect(address).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

/// POSTs `message` and reads the whole answer.
async fn post(address: SocketAddr, headers: &[(String, String)], message: &Value) -> Answer {
    let mut socket = send(address, headers, message).await;
    let mut bytes = Vec::new();
    tokio::time::timeout(STEP, socket.read_to_end(&mut bytes))
        .await
        .expect("the answer ends in time")
        .expect("the answer reads");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head[9..12].parse().expect("a status code");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Answer {
        status,
        head: head.to_owned(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// The content of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut content = String::new();
    // Bounded: every round consumes a chunk, and the last one is empty.
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        content.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    content
}

async fn post_modern(address: SocketAddr, message: &Value) -> Answer {
    post(address, &modern_headers(message, &[]), message).await
}

#[tokio::test]
async fn both_eras_share_the_endpoint_of_http_service() {
    let served = start().await;
    let address = served.address;

    let discover = post_modern(address, &modern(1, "server/discover", json!({}))).await;
    assert_eq!(discover.status, 200);
    assert_eq!(discover.header("mcp-session-id"), None);
    let result = &discover.json()["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "modern-http"
    );

    let call = modern(
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "modern"}}),
    );
    let answer = post_modern(address, &call).await.json();
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["result"]["resultType"], "complete");
    assert_eq!(answer["result"]["content"][0]["text"], "modern");

    // What the modern era removed is not found, with 404.
    let initialize = post_modern(address, &modern(3, "initialize", json!({}))).await;
    assert_eq!(initialize.status, 404);
    assert_eq!(initialize.json()["error"]["code"], -32601);

    // A header that disagrees with the body is refused by the lane.
    let mut headers = modern_headers(&call, &[]);
    headers.retain(|(name, _)| name != "Mcp-Name");
    headers.push(("Mcp-Name".to_owned(), "other".to_owned()));
    let mismatch = post(address, &headers, &call).await;
    assert_eq!(mismatch.status, 400);
    assert_eq!(mismatch.json()["error"]["code"], -32020);

    // A legacy session on the same endpoint.
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "legacy", "version": "1.0.0"}}});
    let answer = post(address, &[], &initialize).await;
    assert_eq!(answer.status, 200);
    let session = answer
        .header("mcp-session-id")
        .expect("a session")
        .to_owned();
    assert_eq!(answer.json()["result"]["protocolVersion"], "2025-11-25");
    let session_headers = [
        ("Mcp-Session-Id".to_owned(), session),
        ("MCP-Protocol-Version".to_owned(), "2025-11-25".to_owned()),
    ];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        post(address, &session_headers, &initialized).await.status,
        202
    );
    let legacy_call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "legacy"}}});
    let answer = post(address, &session_headers, &legacy_call).await.json();
    assert_eq!(answer["result"]["content"][0]["text"], "legacy");
    assert!(answer["result"].get("resultType").is_none(), "{answer}");
}

#[tokio::test]
async fn progress_streams_ahead_of_the_result_without_event_ids() {
    let served = start().await;
    let call = modern(
        4,
        "tools/call",
        json!({"name": "steps", "arguments": {}, "_meta": {"progressToken": "p4"}}),
    );
    let answer = post_modern(served.address, &call).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-accel-buffering"), Some("no"));
    assert!(!answer.body.contains("\nid:") && !answer.body.starts_with("id:"));
    let events = answer.events();
    let progress: Vec<f64> = events
        .iter()
        .filter(|event| event["method"] == "notifications/progress")
        .map(|event| {
            assert_eq!(event["params"]["progressToken"], "p4");
            event["params"]["progress"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0]);
    let last = events.last().unwrap();
    assert_eq!(last["id"], 4);
    assert_eq!(last["result"]["content"][0]["text"], "three steps");
}

#[tokio::test]
async fn a_request_state_answers_only_the_caller_it_was_made_for() {
    let served = start().await;
    let alice = [("Authorization", "Bearer alice")];
    let call = modern(5, "tools/call", json!({"name": "greet", "arguments": {}}));
    let first = post(served.address, &modern_headers(&call, &alice), &call)
        .await
        .json();
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let state = result["requestState"].as_str().expect("a requestState");
    let key = result["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();

    let mut retry = modern(
        6,
        "tools/call",
        json!({"name": "greet", "arguments": {}, "requestState": state}),
    );
    retry["params"]["inputResponses"] =
        json!({key: {"action": "accept", "content": {"name": "Alice"}}});
    let done = post(served.address, &modern_headers(&retry, &alice), &retry)
        .await
        .json();
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Alice"),
        "{done}"
    );

    let mallory = [("Authorization", "Bearer mallory")];
    let stolen = post(served.address, &modern_headers(&retry, &mallory), &retry)
        .await
        .json();
    assert_eq!(stolen["error"]["code"], -32602, "{stolen}");
    assert_eq!(stolen["id"], 6);
}

#[tokio::test]
async fn closing_the_connection_cancels_a_modern_call() {
    let mut served = start().await;
    let call = modern(7, "tools/call", json!({"name": "wait", "arguments": {}}));
    let socket = send(served.address, &modern_headers(&call, &[]), &call).await;
    tokio::time::timeout(STEP, served.started.recv())
        .await
        .expect("the tool starts in time");
    drop(socket);
    let cancelled = tokio::time::timeout(STEP, served.dropped.recv())
        .await
        .expect("the tool is dropped in time");
    assert_eq!(cancelled, Some(true));
}

#[tokio::test]
async fn a_subscription_streams_its_acknowledgement_then_its_changes() {
    let served = start().await;
    let listen = modern(
        8,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    );
    let mut socket = send(served.address, &modern_headers(&listen, &[]), &listen).await;
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut events = Vec::new();
    let mut changed = false;
    tokio::time::timeout(STEP, async {
        // Bounded by the step limit; each round reads at least one byte or fails.
        while events.len() < 2 {
            let count = socket.read(&mut buffer).await.expect("the stream reads");
            assert_ne!(count, 0, "the stream stays open");
            read.extend_from_slice(&buffer[..count]);
            events = data_lines(&String::from_utf8_lossy(&read));
            if events.len() == 1 && !changed {
                changed = true;
                served.server.notify_list_changed(ListKind::Tools).await;
            }
        }
    })
    .await
    .expect("the acknowledgement and a change arrive in time");
    let head = String::from_utf8_lossy(&read);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        events[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert_eq!(events[1]["method"], "notifications/tools/list_changed");
    for event in &events {
        assert_eq!(
            event["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 8,
            "{event}"
        );
    }
}

#[tokio::test]
async fn shutting_down_closes_the_subscriptions_with_their_result() {
    let served = start().await;
    let listen = modern(
        8,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    );
    let mut socket = send(served.address, &modern_headers(&listen, &[]), &listen).await;
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    let Served { _stop: stop, .. } = served;
    let mut stop = Some(stop);
    tokio::time::timeout(STEP, async {
        // Bounded by the step limit; each round reads at least one byte or ends.
        loop {
            let count = socket.read(&mut buffer).await.expect("the stream reads");
            if count == 0 {
                break;
            }
            read.extend_from_slice(&buffer[..count]);
            if !data_lines(&String::from_utf8_lossy(&read)).is_empty()
                && let Some(stop) = stop.take()
            {
                let _ = stop.send(());
            }
        }
    })
    .await
    .expect("the stream ends in time after the shutdown");
    let events = data_lines(&String::from_utf8_lossy(&read));
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["id"], 8, "{}", events[1]);
    assert_eq!(
        events[1]["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 8,
        "{}",
        events[1]
    );
}

#[tokio::test]
async fn mirrored_arguments_must_match_their_param_headers() {
    let served = start().await;
    let call = |arguments: Value| {
        modern(
            9,
            "tools/call",
            json!({"name": "region_echo", "arguments": arguments}),
        )
    };
    let accepted = [
        (
            json!({"region": "eu-west", "text": "hi"}),
            vec![("Mcp-Param-Region", "eu-west")],
        ),
        // Header names ignore case, values lose their optional whitespace, and Base64 decodes.
        (
            json!({"region": "eu-west", "text": "hi"}),
            vec![("mcp-param-REGION", "  eu-west ")],
        ),
        (
            json!({"region": "Hello, 世界", "text": "hi"}),
            vec![("Mcp-Param-Region", "=?base64?SGVsbG8sIOS4lueVjA==?=")],
        ),
        // Only one of the markers: a literal.
        (
            json!({"region": "=?base64?SGVsbG8=", "text": "hi"}),
            vec![("Mcp-Param-Region", "=?base64?SGVsbG8=")],
        ),
        // Integers travel in decimal; headers the tool does not declare are ignored.
        (
            json!({"region": "eu", "shard": -7, "text": "hi"}),
            vec![
                ("Mcp-Param-Region", "eu"),
                ("Mcp-Param-Shard", "-7"),
                ("Mcp-Param-Other", "x"),
            ],
        ),
    ];
    for (arguments, headers) in accepted {
        let message = call(arguments.clone());
        let answer = post(
            served.address,
            &modern_headers(&message, &headers),
            &message,
        )
        .await;
        assert_eq!(
            answer.status, 200,
            "{arguments} {headers:?}: {}",
            answer.body
        );
        let reply = answer.json();
        assert_eq!(reply["result"]["isError"], Value::Null, "{reply}");
    }
    let refused = [
        // Missing, different, undecodable, or standing for an absent argument.
        (json!({"region": "eu-west", "text": "hi"}), vec![]),
        (
            json!({"region": "eu-west", "text": "hi"}),
            vec![("Mcp-Param-Region", "us-east")],
        ),
        (
            json!({"region": "Hello", "text": "hi"}),
            vec![("Mcp-Param-Region", "=?base64?SGVsbG8?=")],
        ),
        (
            json!({"region": "Hello", "text": "hi"}),
            vec![("Mcp-Param-Region", "=?base64?SGVs!!!bG8=?=")],
        ),
        (
            json!({"region": "eu", "text": "hi"}),
            vec![("Mcp-Param-Region", "eu"), ("Mcp-Param-Shard", "3")],
        ),
        (
            json!({"region": "eu", "shard": 3, "text": "hi"}),
            vec![("Mcp-Param-Region", "eu"), ("Mcp-Param-Shard", "4")],
        ),
    ];
    for (arguments, headers) in refused {
        let message = call(arguments.clone());
        let answer = post(
            served.address,
            &modern_headers(&message, &headers),
            &message,
        )
        .await;
        assert_eq!(
            answer.status, 400,
            "{arguments} {headers:?}: {}",
            answer.body
        );
        let reply = answer.json();
        assert_eq!(reply["id"], 9, "{reply}");
        assert_eq!(reply["error"]["code"], -32020, "{reply}");
    }
}

#[test]
fn invalid_header_declarations_fail_the_tool_build() {
    for property in [
        json!({"type": "number", "x-mcp-header": "Amount"}),
        json!({"type": "string", "x-mcp-header": "My Region"}),
        json!({"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}),
    ] {
        let schema = json!({"type": "object", "properties": {"field": property}});
        let built = Tool::raw(
            "bad",
            schema.as_object().cloned().expect("an object"),
            |_: Map<String, Value>| async move { Ok::<_, ToolError>("never") },
        )
        .build();
        let error = built.expect_err("the declaration is invalid").to_string();
        assert!(error.contains("x-mcp-header"), "{error}");
    }
}

/// A modern client of `served` over Streamable HTTP.
async fn http_client(served: &Served) -> mcpwire_client::Client {
    let transport =
        mcpwire_http::client::HttpClientBuilder::new(format!("http://{}/mcp", served.address))
            .with_fallback()
            .expect("an HTTP transport");
    mcpwire_client::Client::builder("mirroring-client", "1.0.0")
        .era(mcpwire_client::EraChoice::Modern)
        .connect(transport)
        .await
        .expect("the client connects")
}

#[tokio::test]
async fn the_client_mirrors_declared_arguments_into_headers() {
    let served = start().await;
    let client = http_client(&served).await;
    let tools = client.list_tools().await.expect("tools/list");
    assert!(tools.iter().any(|tool| tool.name == "region_echo"));
    for (arguments, text) in [
        (
            json!({"region": "eu-west", "text": "hi"}),
            "\"eu-west\": \"hi\"",
        ),
        // Base64 for what a plain header cannot carry; no header for an absent argument.
        (
            json!({"region": " Zürich ", "text": "hi"}),
            "\" Zürich \": \"hi\"",
        ),
        (
            json!({"region": "eu", "shard": 4, "text": "x"}),
            "\"eu\": \"x\"",
        ),
    ] {
        let result = client
            .call_tool("region_echo", arguments.clone())
            .await
            .unwrap_or_else(|error| panic!("{arguments}: {error}"));
        assert_eq!(result.is_error, None, "{arguments}: {result:?}");
        let Some(types::ContentBlock::TextContent(content)) = result.content.first() else {
            panic!("a text result: {result:?}");
        };
        assert_eq!(content.text, text);
    }
}

#[tokio::test]
async fn a_header_mismatch_makes_the_client_list_the_tools_and_retry() {
    let served = start().await;
    let client = http_client(&served).await;
    // Not listed yet: the first attempt goes without the header, the server refuses it with
    // -32020, and the client learns the declaration from tools/list before retrying.
    let result = client
        .call_tool(
            "region_echo",
            json!({"region": "ap-south", "text": "retried"}),
        )
        .await
        .expect("the retry succeeds");
    let Some(types::ContentBlock::TextContent(content)) = result.content.first() else {
        panic!("a text result: {result:?}");
    };
    assert_eq!(content.text, "\"ap-south\": \"retried\"");
}
