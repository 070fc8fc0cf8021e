//! Interop with the dual-era SDK servers over Streamable HTTP: our client, over our HTTP
//! client transport, drives `interop/ts2_server.mjs` (TypeScript SDK v2) and
//! `interop/py2_server.py` (Python SDK 2.x) through the script of the dual-era peers, forced to
//! one era or choosing by itself, against servers serving both eras or one. (The same over
//! stdio is in `client_dual_era_servers`.)
//!
//! Modern requests carry `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` headers the tools declare (`region_echo`'s `Mcp-Param-Region`), which both
//! servers check. The peers are installed by `cargo xtask interop-setup`, which the tests run
//! first (it does nothing when they are current); they need node and python3.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::EraChoice;
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_interop::script::{
    Outcome, Peer, ScriptClient, check_script, check_unsupported_version, expected,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long one test may take, from spawning the server to its end.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How many lines of a server's stderr are read while waiting for its URL.
const MAX_STARTUP_LINES: usize = 100;

mcpwire_interop::client_matrix!();

async fn drive_peer(peer: Peer, choice: EraChoice, outcome: Outcome) {
    let peers = mcpwire_interop::peers::peers().await;
    let server = match peer {
        Peer::TypeScript(era) => {
            let script = peers.scripts.join("ts2_server.mjs");
            let script = script.to_str().expect("the workspace path is UTF-8");
            PeerServer::start(PathBuf::from("node"), &[script, "--era", era]).await
        }
        Peer::Python => {
            let script = peers.scripts.join("py2_server.py");
            let script = script.to_str().expect("the workspace path is UTF-8");
            PeerServer::start(peers.python_v2.clone(), &[script]).await
        }
    };
    let transport = HttpClientBuilder::new(server.url.as_str())
        .streamable()
        .expect("a valid configuration");
    let script_client = ScriptClient::default();
    let connected = script_client.builder().era(choice).connect(transport).await;
    match outcome {
        Outcome::Script(era) => {
            let client = connected.unwrap_or_else(|error| panic!("{peer:?}: connect: {error}"));
            let lines = script_client.drive(&client).await;
            check_script(&lines, &expected(era, "mcpwire"), Some(peer.name()));
            client.close().await;
        }
        Outcome::UnsupportedVersion => {
            let error = connected.expect_err("a modern-only server refuses initialize");
            check_unsupported_version(&error);
        }
    }
}

/// A peer server on a free loopback port, killed when dropped.
struct PeerServer {
    _child: Child,
    url: String,
    /// Its stderr, shown when the test fails.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl PeerServer {
    /// Starts `program` with `arguments` and `--http 0`, and waits for the line that names
    /// its URL.
    async fn start(program: PathBuf, arguments: &[&str]) -> PeerServer {
        let mut child = Command::new(&program)
            .args(arguments)
            .args(["--http", "0"])
            .current_dir(mcpwire_interop::peers::workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", program.display()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let find_url = async {
            for _ in 0..MAX_STARTUP_LINES {
                let line = lines
                    .next_line()
                    .await
                    .expect("stderr reads")
                    .unwrap_or_else(|| panic!("the server exited: {:?}", log.lock().unwrap()));
                if let Some(url) = line.strip_prefix("listening on ") {
                    return url.trim().to_owned();
                }
                log.lock().unwrap().push(line);
            }
            panic!("no URL among the first {MAX_STARTUP_LINES} lines of stderr");
        };
        let url = tokio::time::timeout(Duration::from_secs(60), find_url)
            .await
            .expect("the server listens in time");
        let sink = Arc::clone(&log);
        // Keep draining stderr so that the server never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        PeerServer {
            _child: child,
            url,
            stderr: log,
        }
    }
}

impl Drop for PeerServer {
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
