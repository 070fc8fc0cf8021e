//! `mcpwire serve --stdio`, driven as a child process by the mcpwire client.

use mcpwire_client::{CallOptions, EraChoice, ProtocolVersion};
use mcpwire_server::types;
use mcpwire_stdio::ChildProcess;
use serde_json::json;

fn client_info() -> types::Implementation {
    types::Implementation::new("cli-test", "1.0.0")
}

fn text_of(result: &types::CallToolResult) -> String {
    match &result.content[0] {
        types::ContentBlock::TextContent(text) => text.text.clone(),
        other => panic!("text expected, got {other:?}"),
    }
}

/// Drives `mcpwire serve --stdio` with a client choosing `era`, which must settle on `version`.
async fn serve_stdio_answers_a_client(era: EraChoice, version: ProtocolVersion) {
    let child = ChildProcess::builder(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["serve", "--stdio"])
        .spawn()
        .expect("mcpwire starts");
    let handle = child.handle();
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .era(era)
        .connect(child)
        .await
        .expect("handshake");
    assert_eq!(client.protocol_version(), version);
    assert_eq!(client.server_info().name, "mcpwire-reference");

    let names: Vec<String> = client
        .list_tools()
        .await
        .expect("tools")
        .into_iter()
        .map(|tool| tool.name)
        .collect();
    for expected in ["echo", "add", "current_time", "count_down"] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} in {names:?}"
        );
    }

    let echoed = client
        .call_tool("echo", json!({"text": "hello"}))
        .await
        .expect("echo");
    assert_eq!(text_of(&echoed), "hello");
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3.5}))
        .await
        .expect("add");
    assert_eq!(
        sum.structured_content,
        Some(json!({"sum": 5.5}).as_object().cloned().expect("object"))
    );

    let updates = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = updates.clone();
    let counted = client
        .call_tool("count_down", json!({"steps": 3, "interval_ms": 0}))
        .options(
            CallOptions::default()
                .on_progress(move |progress| seen.lock().expect("updates").push(progress.progress)),
        )
        .await
        .expect("count_down");
    assert_eq!(text_of(&counted), "counted down 3 steps");
    assert_eq!(*updates.lock().expect("updates"), [1.0, 2.0, 3.0]);

    let invalid = client
        .call_tool("count_down", json!({"steps": 0}))
        .await
        .expect("a tool error, not a protocol error");
    assert_eq!(invalid.is_error, Some(true));

    let about = client
        .read_resource("mcpwire://about")
        .await
        .expect("about");
    assert_eq!(about.contents.len(), 1);

    client.close().await;
    let status = handle.wait().await.expect("exit status");
    assert!(
        status.success(),
        "mcpwire exits cleanly at end of input: {status}"
    );
}

#[tokio::test]
async fn serve_stdio_answers_a_dual_era_client_in_the_modern_era() {
    serve_stdio_answers_a_client(EraChoice::Auto, ProtocolVersion::V2026_07_28).await;
}

#[tokio::test]
async fn serve_stdio_answers_a_legacy_client() {
    serve_stdio_answers_a_client(EraChoice::Legacy, ProtocolVersion::V2025_11_25).await;
}

#[test]
fn help_names_the_commands() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["serve", "--help"])
        .output()
        .expect("mcpwire runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--stdio"), "{help}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .arg("serve")
        .output()
        .expect("mcpwire runs");
    assert!(!output.status.success(), "a transport must be chosen");
}
