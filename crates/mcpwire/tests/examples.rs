//! Runs the facade's examples as a user would: the stdio server under a client that starts
//! it, the axum app on a loopback port with the HTTP client example calling it, and the app
//! stopped with SIGINT. Cargo builds the examples beside the test binaries.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcpwire::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long any one step may take.
const WAIT: Duration = Duration::from_secs(20);

/// The built example `name`: `target/<profile>/examples/name`, beside `deps/` where this test
/// runs from.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

#[tokio::test]
async fn the_stdio_example_serves_its_typed_tool_to_a_client_that_starts_it() {
    let server = ChildProcess::builder(example("stdio_tool"))
        .spawn()
        .expect("spawns");
    let client = tokio::time::timeout(WAIT, Client::builder("test", "1.0").connect(server))
        .await
        .expect("connects in time")
        .expect("connects");
    assert_eq!(client.server_info().name, "adder");
    let tools = client.list_tools().await.unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].name, "add");
    let sum = client
        .call_tool("add", json!({"a": 1.5, "b": 2}))
        .await
        .unwrap();
    assert_eq!(sum.text(), "3.5");
    assert!(!sum.is_error());
    client.close().await;
}

/// The axum example on a free loopback port, and the address it printed.
async fn start_axum_app() -> (Child, String) {
    let mut app = Command::new(example("axum_app"))
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let stdout = app.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(WAIT, BufReader::new(stdout).read_line(&mut line))
        .await
        .expect("prints its address in time")
        .expect("reads");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .expect("`listening on ADDRESS`")
        .to_owned();
    (app, address)
}

/// One HTTP/1.1 GET of `path` with `host` as the `Host` header; the whole response.
async fn get(address: &str, path: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("answers in time")
        .unwrap();
    response
}

#[tokio::test]
async fn the_axum_example_serves_mcp_beside_its_routes_and_the_client_example_calls_it() {
    let (mut app, address) = start_axum_app().await;

    let health = get(&address, "/health", "127.0.0.1").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");

    // DNS-rebinding protection: a host other than the allowed one is refused.
    let rebound = get(&address, "/mcp", "attacker.example").await;
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");

    let client = Command::new(example("http_client"))
        .arg(format!("http://{address}/mcp"))
        .output();
    let output = tokio::time::timeout(WAIT, client)
        .await
        .expect("the client ends in time")
        .expect("the client runs");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "5\n");

    // A session whose SSE stream is open must not hold up the shutdown: the stream is held
    // here, on a raw connection, and must end when the app is interrupted.
    let transport = HttpClientBuilder::new(format!("http://{address}/mcp"))
        .standalone_stream(false)
        .streamable()
        .unwrap();
    let session = transport.session();
    let held = Client::builder("holder", "1.0")
        .era(EraChoice::Legacy)
        .connect(transport)
        .await
        .expect("a legacy session");
    let id = session.id().expect("a session id");
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\
         Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = BufReader::new(&mut stream);
    let mut status = String::new();
    head.read_line(&mut status).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    interrupt(&app);
    let exit = tokio::time::timeout(WAIT, app.wait())
        .await
        .expect("stops in time after SIGINT")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, head.read_to_end(&mut rest))
        .await
        .expect("the held stream ends")
        .unwrap();
    drop(held);
}

/// Sends SIGINT, as Ctrl-C in a terminal would.
fn interrupt(child: &Child) {
    let pid = child.id().expect("still running");
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The lines of an example that are code: neither blank nor comments.
fn code_lines(name: &str) -> usize {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let text = std::fs::read_to_string(&path).expect("the example's source");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .count()
}

#[test]
fn the_examples_stay_as_short_as_promised() {
    for (name, limit) in [("stdio_tool", 15), ("axum_app", 25), ("http_client", 10)] {
        let lines = code_lines(name);
        assert!(
            lines <= limit,
            "{name} has {lines} lines of code, more than {limit}"
        );
    }
}
