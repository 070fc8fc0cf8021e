//! `conformance-server --http` as a process of a test: started on a free port, and spoken to
//! in plain HTTP/1.1.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The longest a start or an exchange may take.
pub(crate) const STEP: Duration = Duration::from_secs(30);

/// Starts `conformance-server --http --port 0 <arguments>` and returns it with the port it
/// announced; it is killed when dropped.
pub(crate) async fn start(arguments: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-server"))
        .args(["--http", "--port", "0"])
        .args(arguments)
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
    // Keep reading: the server writes to stderr again (and `eprintln!` panics on a closed
    // pipe), and must never block on a full one.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

/// One HTTP/1.1 exchange on a fresh connection: the whole response, as text.
pub(crate) async fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(STEP, stream.read_to_string(&mut response))
        .await
        .expect("the server answers in time")
        .unwrap();
    response
}
