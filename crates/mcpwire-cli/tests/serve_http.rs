//! `mcpwire serve --http`, driven over Streamable HTTP (and with `--legacy-sse` over HTTP+SSE)
//! by the mcpwire client.

use std::process::Stdio;

use mcpwire_client::Client;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_server::types;
use serde_json::json;
use tokio::process::Command;

mod support;

use support::start;

fn client_info() -> types::Implementation {
    types::Implementation::new("cli-http-test", "1.0.0")
}

/// Calls the `echo` tool with `text` and checks that it comes back.
async fn assert_echoes(client: &Client, text: &str) {
    let echoed = client
        .call_tool("echo", json!({ "text": text }))
        .await
        .expect("echo");
    assert_eq!(
        serde_json::to_value(&echoed.content).expect("encodes"),
        json!([{"type": "text", "text": text}])
    );
}

#[tokio::test]
async fn serve_http_answers_a_client() {
    let (mut child, url) = start(&[]).await;
    assert!(url.ends_with("/mcp"), "{url}");
    let transport = HttpClientBuilder::new(url.clone())
        .streamable()
        .expect("transport");
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .connect(transport)
        .await
        .expect("handshake");
    assert_eq!(client.server_info().name, "mcpwire-reference");
    assert_echoes(&client, "over http").await;
    let prompt = client
        .get_prompt(
            "explain",
            [("topic".to_owned(), "ownership".to_owned())].into(),
        )
        .await
        .expect("prompt");
    assert_eq!(prompt.messages.len(), 1);
    client.close().await;
    child.kill().await.expect("mcpwire stops");
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_allowed() {
    let (mut child, url) = start(&[]).await;
    let refused = HttpClientBuilder::new(url.clone())
        .header("host", "attacker.example")
        .streamable()
        .expect("transport");
    let error = mcpwire_client::ClientBuilder::new(client_info())
        .connect(refused)
        .await
        .expect_err("DNS-rebinding protection refuses the host");
    // The server's JSON-RPC error in the 403 answer reaches the caller.
    let message = error
        .remote()
        .map(|remote| remote.message.clone())
        .unwrap_or_default();
    assert!(message.contains("host not allowed"), "{error}: {message}");
    child.kill().await.expect("mcpwire stops");

    let (mut child, url) = start(&["--allowed-host", "mcp.example"]).await;
    let allowed = HttpClientBuilder::new(url)
        .header("host", "mcp.example")
        .streamable()
        .expect("transport");
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .connect(allowed)
        .await
        .expect("an allowed host is served");
    client.close().await;
    child.kill().await.expect("mcpwire stops");
}

#[tokio::test]
async fn legacy_sse_serves_old_clients_beside_streamable_http() {
    let (mut child, url) = start(&[]).await;
    let sse_url = url.replace("/mcp", "/sse");
    let refused = HttpClientBuilder::new(sse_url).legacy_sse().await;
    assert!(refused.is_err(), "no legacy endpoint without the flag");
    child.kill().await.expect("mcpwire stops");

    let (mut child, url) = start(&["--legacy-sse"]).await;
    let sse_url = url.replace("/mcp", "/sse");
    let transport = HttpClientBuilder::new(sse_url)
        .legacy_sse()
        .await
        .expect("the legacy stream names its endpoint");
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .connect(transport)
        .await
        .expect("handshake over HTTP+SSE");
    assert_echoes(&client, "over http+sse").await;
    client.close().await;
    // Streamable HTTP is served as before.
    let streamable = HttpClientBuilder::new(url).streamable().expect("transport");
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .connect(streamable)
        .await
        .expect("handshake over Streamable HTTP");
    client.close().await;
    child.kill().await.expect("mcpwire stops");
}

/// `--redis`: the events of SSE answers go to Redis, where another instance would find them.
#[tokio::test]
async fn redis_keeps_the_events_of_sse_answers() {
    let redis = mcpwire_test_support::redis::RedisServer::start().await;
    let url_of_redis = redis.url();
    let (mut child, url) = start(&[
        "--always-sse",
        "--redis",
        &url_of_redis,
        "--redis-prefix",
        "cli-test",
    ])
    .await;
    let transport = HttpClientBuilder::new(url).streamable().expect("transport");
    // Sessions and their resumable streams are the legacy era's; the modern era stores none.
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .era(mcpwire_client::EraChoice::Legacy)
        .connect(transport)
        .await
        .expect("handshake");
    assert_echoes(&client, "kept in redis").await;
    let store = mcpwire_store_redis::RedisEventStore::connect(&url_of_redis)
        .await
        .expect("the test reaches the same redis")
        .prefix("cli-test");
    assert!(
        store.bytes().await.expect("the total") > 0,
        "the answer's event is stored"
    );
    client.close().await;
    child.kill().await.expect("stops");
}

/// `--redis` naming a Redis that is not there: a clear error at start-up, not a server that
/// fails later.
#[tokio::test]
async fn an_unreachable_redis_fails_the_start() {
    let missing = std::env::temp_dir().join(format!("mcpwire-cli-no-redis-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["serve", "--http", "127.0.0.1:0", "--redis"])
        .arg(format!("redis+unix://{}/redis.sock", missing.display()))
        .stdin(Stdio::null())
        .output()
        .await
        .expect("mcpwire runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mcpwire: connecting to Redis at redis+unix://"),
        "{stderr}"
    );
}

/// A fresh directory for the key files of one test.
fn key_directory(test: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("mcpwire-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    directory
}

/// Runs `mcpwire serve --http 127.0.0.1:0 --request-state-key-file <path>` expecting it to
/// fail at start-up, and returns what it wrote to stderr.
async fn failed_start_with_key_file(path: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["serve", "--http", "127.0.0.1:0", "--request-state-key-file"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("mcpwire runs");
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `--request-state-key-file`: 64 hex digits (surrounded by white space or not) start the
/// server; a missing file or another content fails the start with an error that names the
/// file and never quotes it.
#[tokio::test]
async fn the_request_state_key_comes_from_a_file_of_hex_digits() {
    let directory = key_directory("request-state-key");
    let good = directory.join("good.key");
    std::fs::write(&good, format!("  {}\n", "0f".repeat(32))).expect("writes the key");
    let good_path = good.to_str().expect("a UTF-8 temporary path");
    let (mut child, url) = start(&["--request-state-key-file", good_path]).await;
    let transport = HttpClientBuilder::new(url).streamable().expect("transport");
    let client = mcpwire_client::ClientBuilder::new(client_info())
        .connect(transport)
        .await
        .expect("handshake");
    assert_echoes(&client, "keyed").await;
    client.close().await;
    child.kill().await.expect("stops");

    let missing = directory.join("missing.key");
    let stderr = failed_start_with_key_file(&missing).await;
    assert!(
        stderr.contains("reading the request-state key file") && stderr.contains("missing.key"),
        "{stderr}"
    );

    let secret = "a-secret-that-is-not-hex";
    for (name, content) in [
        ("short.key", "0f".repeat(31)),
        ("long.key", "0f".repeat(33)),
        (
            "not-hex.key",
            format!("{secret}{}", "0".repeat(64 - secret.len())),
        ),
        ("signed.key", format!("+f{}", "0f".repeat(31))),
    ] {
        let path = directory.join(name);
        std::fs::write(&path, &content).expect("writes the key file");
        let stderr = failed_start_with_key_file(&path).await;
        assert!(
            stderr.contains("must hold exactly 64 hex digits") && stderr.contains(name),
            "{name}: {stderr}"
        );
        assert!(
            !stderr.contains(&content) && !stderr.contains(secret),
            "{name}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&directory);
}
