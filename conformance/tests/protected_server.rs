//! `conformance-server --http` run protected: the fixtures behind `mcpwire-auth`'s bearer
//! layer refuse a request without a token with the challenge, and serve their metadata.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

const STEP: Duration = Duration::from_secs(30);

/// One HTTP/1.1 exchange on a fresh connection: the whole response, as text.
async fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(STEP, stream.read_to_string(&mut response))
        .await
        .expect("the server answers in time")
        .unwrap();
    response
}

#[tokio::test]
async fn the_protected_fixture_server_challenges_and_serves_its_metadata() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-server"))
        .args(["--http", "--port", "0"])
        .args(["--auth-issuer", "http://127.0.0.1:9/issuer"])
        .args(["--auth-jwks", "http://127.0.0.1:9/issuer/jwks"])
        .args(["--auth-resource", "http://localhost:8001/mcp"])
        .args(["--auth-scope", "mcp:tools"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("the server starts in time")
        .unwrap()
        .expect("it names its address");
    let port: u16 = first
        .rsplit(':')
        .next()
        .and_then(|tail| tail.strip_suffix("/mcp"))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in `{first}`"));

    let response = exchange(
        port,
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: 2\r\n\
         Connection: close\r\n\r\n{}",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 401 "), "{response}");
    assert!(
        response.to_ascii_lowercase().contains(
            "www-authenticate: bearer resource_metadata=\"http://localhost:8001/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\"\r\n"
        ),
        "{response}"
    );

    let response = exchange(
        port,
        "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: localhost\r\n\
         Connection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(
        response.ends_with(
            r#"{"resource":"http://localhost:8001/mcp","authorization_servers":["http://127.0.0.1:9/issuer"],"bearer_methods_supported":["header"]}"#
        ),
        "{response}"
    );

    let _ = child.start_kill();
}
