//! Interop with the dual-era SDK servers over stdio: our client drives
//! `interop/ts2_server.mjs` (TypeScript SDK v2) and `interop/py2_server.py` (Python SDK 2.x)
//! through the script of the dual-era peers, forced to one era or choosing by itself, against
//! servers serving both eras or one. (The same over Streamable HTTP is in `http_dual_era_servers`.)
//!
//! The peers are installed by `cargo xtask interop-setup`, which the tests run first (it does
//! nothing when they are current); they need node and python3.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{Client, EraChoice, ProtocolVersion};
use mcpwire_interop::peers::{peers, workspace_root};
use mcpwire_interop::script::{
    Outcome, Peer, ScriptClient, check_script, check_unsupported_version, expected,
};
use mcpwire_stdio::{ChildHandle, ChildProcess, Stderr};

/// How long one test may take, from spawning the server to its exit.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

mcpwire_interop::client_matrix!();

/// The Python SDK 1.x server knows no `server/discover`: it answers the probe with an error,
/// and our client falls back to `initialize`.
#[tokio::test]
async fn client_probing_falls_back_with_a_python_sdk_1_server() {
    let peers = peers().await;
    let script = peers.scripts.join("py_server.py");
    let server = Server::spawn(peers.python.clone(), vec![script.into()]);
    let connect = ScriptClient::default()
        .builder()
        .era(EraChoice::Auto)
        .connect(server.process);
    let client = tokio::time::timeout(TEST_TIMEOUT, connect)
        .await
        .expect("connects in time")
        .expect("initialize succeeds after the probe");
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert_eq!(client.server_info().name, "py-interop-server");
    let tools = client.list_tools().await.expect("tools/list");
    assert!(tools.iter().any(|tool| tool.name == "add"), "{tools:?}");
    server.handle.finish(client).await;
}

async fn drive_peer(peer: Peer, choice: EraChoice, outcome: Outcome) {
    let peers = peers().await;
    let server = match peer {
        Peer::TypeScript(era) => Server::spawn(
            PathBuf::from("node"),
            vec![
                peers.scripts.join("ts2_server.mjs").into(),
                "--era".into(),
                era.into(),
            ],
        ),
        Peer::Python => Server::spawn(
            peers.python_v2.clone(),
            vec![peers.scripts.join("py2_server.py").into()],
        ),
    };
    let script_client = ScriptClient::default();
    let connected = script_client
        .builder()
        .era(choice)
        .connect(server.process)
        .await;
    match outcome {
        Outcome::Script(era) => {
            let client = connected.unwrap_or_else(|error| panic!("{peer:?}: connect: {error}"));
            let lines = script_client.drive(&client).await;
            check_script(&lines, &expected(era, "mcpwire"), Some(peer.name()));
            server.handle.finish(client).await;
        }
        Outcome::UnsupportedVersion => {
            let error = connected.expect_err("a modern-only server refuses initialize");
            check_unsupported_version(&error);
            server.handle.shutdown().await;
        }
    }
}

/// A peer server's process: the transport to it, and its handle with its stderr.
struct Server {
    process: ChildProcess,
    handle: ServerHandle,
}

/// A server process's handle, with its stderr kept to show when the test fails.
struct ServerHandle {
    handle: ChildHandle,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn spawn(program: PathBuf, arguments: Vec<OsString>) -> Server {
        let mut process = ChildProcess::builder(&program)
            .args(&arguments)
            .current_dir(workspace_root())
            .stderr(Stderr::Capture)
            .close_grace(Duration::from_secs(2))
            .terminate_grace(Duration::from_secs(2))
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", program.display()));
        let handle = process.handle();
        let mut lines = process.take_stderr().expect("stderr is captured");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        // Ends when the child's stderr closes, at the latest when the child is killed.
        tokio::spawn(async move {
            while let Some(line) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            process,
            handle: ServerHandle { handle, stderr },
        }
    }
}

impl ServerHandle {
    /// Closes the connection and shuts the server down (stdin closed, then signals).
    async fn finish(self, client: Client) {
        client.close().await;
        self.shutdown().await;
    }

    async fn shutdown(&self) {
        self.handle.shutdown().await.expect("the server exits");
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self
                .stderr
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("stderr of the server:\n{}", lines.join("\n"));
        }
    }
}
