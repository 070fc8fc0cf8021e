//! `conformance-server --http` as one instance of several behind a load balancer: the
//! `requestState` key read from `--request-state-key-file`, and `--allowed-host`.

mod server_process;

use serde_json::{Value, json};
use server_process::exchange;

/// A modern-era (2026-07-28) `tools/call` of `tool` with `extra` params, as raw HTTP/1.1
/// with the routing headers, for `Host: <host>`.
fn tool_call(host: &str, tool: &str, extra: Value) -> String {
    let mut params = json!({
        "name": tool,
        "arguments": {},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "deployment-test", "version": "1.0.0"}
        }
    });
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            params[key] = value;
        }
    }
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string();
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n\
         Mcp-Method: tools/call\r\nMcp-Name: {tool}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The JSON body of a response (the fixture's answers here are single JSON bodies).
fn body(response: &str) -> Value {
    let (_, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {response}"))
}

/// A fresh directory for the key files of the test `test`.
fn key_directory(test: &str) -> std::path::PathBuf {
    let directory =
        std::env::temp_dir().join(format!("mcpwire-conformance-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    directory
}

/// A `requestState` issued by one instance is accepted by another given the same key file,
/// and refused by one with another key: what lets a retry land on any instance.
#[tokio::test]
async fn instances_with_one_key_file_accept_each_others_request_state() {
    let directory = key_directory("shared-key");
    let shared = directory.join("shared.key");
    std::fs::write(&shared, format!("{}\n", "5a".repeat(32))).unwrap();
    let other = directory.join("other.key");
    std::fs::write(&other, "a5".repeat(32)).unwrap();
    let shared = shared.to_str().expect("a UTF-8 temporary path");
    let other = other.to_str().expect("a UTF-8 temporary path");
    let (_first, first_port) = server_process::start(&["--request-state-key-file", shared]).await;
    let (_second, second_port) = server_process::start(&["--request-state-key-file", shared]).await;
    let (_stranger, stranger_port) =
        server_process::start(&["--request-state-key-file", other]).await;
    let tool = "test_input_required_result_request_state";

    let first = body(&exchange(first_port, &tool_call("localhost", tool, json!({}))).await);
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let state = first["result"]["requestState"].clone();
    assert!(state.is_string(), "{first}");
    let retry = json!({
        "inputResponses": {"confirm": {"action": "accept", "content": {"ok": true}}},
        "requestState": state
    });

    let elsewhere =
        body(&exchange(second_port, &tool_call("localhost", tool, retry.clone())).await);
    assert!(
        elsewhere["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|text| text.starts_with("state-ok")),
        "{elsewhere}"
    );
    let stranger = body(&exchange(stranger_port, &tool_call("localhost", tool, retry)).await);
    assert_eq!(stranger["error"]["code"], -32602, "{stranger}");
    let _ = std::fs::remove_dir_all(&directory);
}

/// `--allowed-host` adds a name the balancer is reached by; loopback names stay accepted,
/// and other names stay refused.
#[tokio::test]
async fn an_allowed_host_is_served_beside_the_loopback_names() {
    let (_allowing, allowing_port) =
        server_process::start(&["--allowed-host", "mcp.example"]).await;
    let (_default, default_port) = server_process::start(&[]).await;
    let call = |host: &str| tool_call(host, "test_simple_text", json!({}));
    for host in ["mcp.example", "localhost:8080"] {
        let response = exchange(allowing_port, &call(host)).await;
        assert!(response.starts_with("HTTP/1.1 200 "), "{host}: {response}");
    }
    let response = exchange(allowing_port, &call("elsewhere.example")).await;
    assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
    let response = exchange(default_port, &call("mcp.example")).await;
    assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
}

/// A key file that is missing or not 64 hex digits stops the start, naming the file.
#[tokio::test]
async fn a_malformed_key_file_fails_the_start() {
    let directory = key_directory("malformed-key");
    let malformed = directory.join("malformed.key");
    std::fs::write(&malformed, "not a key").unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_conformance-server"))
        .args(["--http", "--port", "0", "--request-state-key-file"])
        .arg(&malformed)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("malformed.key") && stderr.contains("64 hex digits"),
        "{stderr}"
    );
    assert!(!stderr.contains("not a key"), "{stderr}");
    let _ = std::fs::remove_dir_all(&directory);
}
