//! Interop over HTTP: `mcpwire-client` drives the TypeScript SDK's reference server
//! `@modelcontextprotocol/server-everything` through our transports, in its Streamable HTTP
//! mode and in its legacy HTTP+SSE mode.
//!
//! The server is installed by `cargo xtask interop-setup` (run first; it does nothing when the
//! installation is current) and needs node on PATH. It reads its port from `PORT`; a small
//! preload script makes it listen on 127.0.0.1 with a free port and print that port.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{CallOptions, Client, Progress};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_interop::results::texts;
use mcpwire_schema::v2025_11_25::{Implementation, ReadResourceResultContentsItem};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long one test may take, from installing the server to its exit.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How many lines of the server's stderr are read while waiting for its port.
const MAX_STARTUP_LINES: usize = 200;

/// Makes Node's HTTP servers listen on 127.0.0.1 and report the port they got.
const LOOPBACK_PRELOAD: &str = r#"
import http from "node:http";
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || typeof args[0] === "string") {
    args.splice(1, typeof args[1] === "string" ? 1 : 0, "127.0.0.1");
  }
  this.once("listening", () => console.error("MCPWIRE_LISTENING " + this.address().port));
  return listen.apply(this, args);
};
"#;

/// Percent-encodes `text` for a `data:` URL.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// server-everything running in `mode`, killed when dropped.
struct NodeServer {
    _child: Child,
    port: u16,
}

impl NodeServer {
    async fn start(mode: &str) -> NodeServer {
        let entry = &mcpwire_interop::peers::peers().await.server_everything;
        let preload = format!(
            "--import=data:text/javascript,{}",
            percent_encode(LOOPBACK_PRELOAD)
        );
        let mut child = Command::new("node")
            .arg(preload)
            .arg(entry)
            .arg(mode)
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let find_port = async {
            for _ in 0..MAX_STARTUP_LINES {
                let line = lines
                    .next_line()
                    .await
                    .expect("stderr reads")
                    .expect("the server reports its port before exiting");
                if let Some(port) = line.strip_prefix("MCPWIRE_LISTENING ") {
                    return port.trim().parse::<u16>().expect("a port number");
                }
            }
            panic!("no port among the first {MAX_STARTUP_LINES} lines of stderr");
        };
        let port = tokio::time::timeout(Duration::from_secs(60), find_port)
            .await
            .expect("the server listens in time");
        // Keep draining stderr so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeServer {
            _child: child,
            port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn client_info() -> Implementation {
    Implementation::new("mcpwire-http-interop", env!("CARGO_PKG_VERSION"))
}

/// Lists tools, calls tools (one with progress over the request's SSE stream), reads a
/// resource and gets a prompt.
async fn exercise(client: &Client) {
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    for expected in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let echo = client
        .call_tool("echo", json!({"message": "hello over http"}))
        .await
        .expect("tools/call echo");
    assert_eq!(texts(&echo), ["Echo: hello over http"]);
    let sum = client
        .call_tool("get-sum", json!({"a": 20, "b": 22}))
        .await
        .expect("tools/call get-sum");
    assert_eq!(texts(&sum), ["The sum of 20 and 22 is 42."]);

    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&progress);
    let options = CallOptions::new()
        .timeout(Duration::from_secs(30))
        .on_progress(move |update: Progress| sink.lock().unwrap().push(update.progress));
    let long = client
        .call_tool(
            "trigger-long-running-operation",
            json!({"duration": 0.3, "steps": 3}),
        )
        .options(options)
        .await
        .expect("tools/call with progress");
    assert_ne!(long.is_error, Some(true), "{long:?}");
    assert_eq!(*progress.lock().unwrap(), [1.0, 2.0, 3.0]);

    let read = client
        .read_resource("demo://resource/dynamic/text/1")
        .await
        .expect("resources/read");
    let [ReadResourceResultContentsItem::TextResourceContents(text)] = &read.contents[..] else {
        panic!("one text expected: {read:?}");
    };
    assert!(text.text.starts_with("Resource 1:"), "{text:?}");

    let prompt = client
        .get_prompt("simple-prompt", BTreeMap::new())
        .await
        .expect("prompts/get");
    assert_eq!(prompt.messages.len(), 1, "{prompt:?}");
}

#[tokio::test]
async fn client_drives_server_everything_over_streamable_http() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = NodeServer::start("streamableHttp").await;
        let transport = HttpClientBuilder::new(server.url("/mcp"))
            .streamable()
            .expect("a valid configuration");
        let session = transport.session();
        let client = mcpwire_client::ClientBuilder::new(client_info())
            .request_timeout(Some(Duration::from_secs(30)))
            .connect(transport)
            .await
            .expect("initialize over streamable http");
        assert_eq!(client.server_info().name, "mcp-servers/everything");
        assert!(
            session.id().is_some(),
            "server-everything assigns a session"
        );
        assert_eq!(
            session.protocol_version().as_deref(),
            Some(client.protocol_version().as_str())
        );
        client.ping().await.expect("ping");
        exercise(&client).await;
        client.close().await;

        // The same URL through the fallback transport stays on Streamable HTTP.
        let transport = HttpClientBuilder::new(server.url("/mcp"))
            .with_fallback()
            .expect("a valid configuration");
        let client = mcpwire_client::ClientBuilder::new(client_info())
            .connect(transport)
            .await
            .expect("initialize through the fallback transport");
        let echo = client
            .call_tool("echo", json!({"message": "again"}))
            .await
            .expect("tools/call");
        assert_eq!(texts(&echo), ["Echo: again"]);
        client.close().await;
    })
    .await
    .expect("the streamable http scenario finishes in time");
}

#[tokio::test]
async fn client_falls_back_to_http_sse_with_server_everything() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = NodeServer::start("sse").await;
        let transport = HttpClientBuilder::new(server.url("/sse"))
            .with_fallback()
            .expect("a valid configuration");
        let client = mcpwire_client::ClientBuilder::new(client_info())
            .request_timeout(Some(Duration::from_secs(30)))
            .connect(transport)
            .await
            .expect("initialize over http+sse after the fallback");
        assert_eq!(client.server_info().name, "mcp-servers/everything");
        exercise(&client).await;
        client.close().await;
    })
    .await
    .expect("the http+sse scenario finishes in time");
}
