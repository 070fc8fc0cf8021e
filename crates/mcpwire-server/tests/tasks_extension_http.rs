//! The tasks extension of 2026-07-28 over Streamable HTTP: a task belongs to the principal
//! whose request made it, and the `tasks/*` methods carry its id in `Mcp-Name`. Driven over
//! loopback sockets with raw HTTP/1.1.

#![cfg(all(feature = "http", feature = "tasks"))]

mod tasks_support;

use std::net::SocketAddr;
use std::time::Duration;

use mcpwire_server::{Context, Server, Tool, ToolError, types};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// How long any single step of a test may take before it fails.
const STEP: Duration = Duration::from_secs(10);

const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Serves a server with one tool, `hold`, that goes on as a task and waits until cancelled.
async fn start() -> (SocketAddr, oneshot::Sender<()>) {
    let hold = Tool::raw(
        "hold",
        json!({"type": "object"})
            .as_object()
            .cloned()
            .expect("object"),
        |_: Map<String, Value>, context: Context| async move {
            context.continue_as_task().await;
            context.cancellation().cancelled().await;
            Ok::<_, ToolError>("cancelled")
        },
    )
    .task_support(types::ToolExecutionTaskSupport::Optional);
    let server = Server::builder("tasks-http", "1.0.0")
        .tasks()
        .tool(hold)
        .build()
        .expect("the server builds");
    tasks_support::serve_http(server).await
}

/// A modern request declaring the extension.
fn modern(method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXTENSION: {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "tasks-http-test", "version": "1.0.0"},
    });
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// POSTs `message` with the modern headers, `Mcp-Name` (unless `None`), and `authorization`,
/// and returns the status and the JSON body.
async fn post(
    address: SocketAddr,
    message: &Value,
    name: Option<&str>,
    authorization: Option<&str>,
) -> (u16, Value) {
    let body = message.to_string();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
         MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {}\r\nContent-Length: {}\r\n",
        message["method"].as_str().expect("a method"),
        body.len()
    );
    if let Some(name) = name {
        request.push_str(&format!("Mcp-Name: {name}\r\n"));
    }
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut socket = TcpStream::connect(address).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(STEP, socket.read_to_end(&mut bytes))
        .await
        .expect("the answer ends in time")
        .expect("the answer reads");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head[9..12].parse().expect("a status code");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "a JSON answer: {head}"
    );
    (status, serde_json::from_str(body).expect("JSON"))
}

/// A `tasks/*` request for `task_id`, with its id in `Mcp-Name`.
async fn task_method(
    address: SocketAddr,
    method: &str,
    params: Value,
    authorization: Option<&str>,
) -> Value {
    let task_id = params["taskId"].as_str().expect("a task id").to_owned();
    post(
        address,
        &modern(method, params),
        Some(&task_id),
        authorization,
    )
    .await
    .1
}

#[tokio::test]
async fn another_principals_task_is_not_found() {
    let (address, _stop) = start().await;
    let alice = Some("Bearer alice");
    let call = modern("tools/call", json!({"name": "hold", "arguments": {}}));
    let (status, created) = post(address, &call, Some("hold"), alice).await;
    assert_eq!(status, 200);
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let task_id = created["result"]["taskId"]
        .as_str()
        .expect("an id")
        .to_owned();

    let get = json!({"taskId": task_id});
    let update = json!({"taskId": task_id, "inputResponses": {}});
    let cancel = json!({"taskId": task_id});
    let unknown = task_method(
        address,
        "tasks/get",
        json!({"taskId": "0123456789abcdef0123456789abcdef"}),
        alice,
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602);
    for stranger in [Some("Bearer bob"), None] {
        for (method, params) in [
            ("tasks/get", &get),
            ("tasks/update", &update),
            ("tasks/cancel", &cancel),
        ] {
            let answer = task_method(address, method, params.clone(), stranger).await;
            assert_eq!(
                answer["error"], unknown["error"],
                "{method} by {stranger:?}: as for an unknown task"
            );
        }
    }
    // Alice's task is untouched by the others' cancellations.
    let got = task_method(address, "tasks/get", get.clone(), alice).await;
    assert_eq!(got["result"]["status"], "working");

    // The routing header carries the task id, and must match it.
    let (status, mismatch) = post(
        address,
        &modern("tasks/get", get.clone()),
        Some("other"),
        alice,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(mismatch["error"]["code"], -32020);
    let (status, missing) = post(address, &modern("tasks/get", get.clone()), None, alice).await;
    assert_eq!(status, 400);
    assert_eq!(missing["error"]["code"], -32020);

    let acked = task_method(address, "tasks/cancel", cancel, alice).await;
    assert_eq!(acked["result"]["resultType"], "complete");
    let got = task_method(address, "tasks/get", get, alice).await;
    assert_eq!(got["result"]["status"], "cancelled");
}
