//! Interop with the dual-era SDK clients: the TypeScript SDK v2's (`interop/ts2_client.mjs`)
//! and the Python SDK 2.x's (`interop/py2_client.py`) drive our `interop_peer` example in both
//! protocol eras, over stdio and Streamable HTTP, each with its client forced to one era or
//! choosing by itself, against our server serving both eras or one.
//!
//! Each peer runs a fixed script and prints one JSON line per step; the lines must be those of
//! `interop/rust/script.rs`. The peers are installed by `cargo xtask interop-setup`, which the
//! tests run first (it does nothing when they are current); they need node and python3.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_interop::examples::{external_http_url, interop_peer_example};
use mcpwire_interop::peers::{peers, run};
use mcpwire_interop::script::{check_script, expected, lines_of};
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long one peer may take to run its whole script against the server.
const PEER_TIMEOUT: Duration = Duration::from_secs(120);

/// How long our HTTP server may take to announce its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The peer client.
#[derive(Clone, Copy, Debug)]
enum Sdk {
    TypeScript,
    Python,
}

/// The transport between the peer client and our server.
#[derive(Clone, Copy, Debug)]
enum Transport {
    Stdio,
    Http,
}

/// What a run must end with.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// The whole script, in this era (`"modern"` or `"legacy"`).
    Script(&'static str),
    /// The connection fails with `-32022`, our server naming only 2026-07-28.
    UnsupportedVersion,
}

macro_rules! matrix {
    ($($name:ident: $sdk:ident, $transport:ident, client $client_era:literal, server $server_era:literal => $outcome:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            drive_our_server(Sdk::$sdk, Transport::$transport, $client_era, $server_era, $outcome).await;
        }
    )*};
}

matrix! {
    // The client forced to the modern era: `server/discover` first (TypeScript, on a probe
    // process of its own over stdio), or no discovery at all (Python).
    typescript_modern_stdio: TypeScript, Stdio, client "modern", server "both" => Outcome::Script("modern");
    typescript_modern_http: TypeScript, Http, client "modern", server "both" => Outcome::Script("modern");
    python_modern_stdio: Python, Stdio, client "modern", server "both" => Outcome::Script("modern");
    python_modern_http: Python, Http, client "modern", server "both" => Outcome::Script("modern");
    // The client forced to the legacy era: `initialize`, and real requests for the asks.
    typescript_legacy_stdio: TypeScript, Stdio, client "legacy", server "both" => Outcome::Script("legacy");
    typescript_legacy_http: TypeScript, Http, client "legacy", server "both" => Outcome::Script("legacy");
    python_legacy_stdio: Python, Stdio, client "legacy", server "both" => Outcome::Script("legacy");
    python_legacy_http: Python, Http, client "legacy", server "both" => Outcome::Script("legacy");
    // The client probes: our server answers `server/discover`, and the session is modern.
    typescript_auto_stdio: TypeScript, Stdio, client "auto", server "both" => Outcome::Script("modern");
    typescript_auto_http: TypeScript, Http, client "auto", server "both" => Outcome::Script("modern");
    python_auto_stdio: Python, Stdio, client "auto", server "both" => Outcome::Script("modern");
    python_auto_http: Python, Http, client "auto", server "both" => Outcome::Script("modern");
    // The client probes a legacy-only server, which refuses the probe: it falls back.
    typescript_auto_legacy_server_stdio: TypeScript, Stdio, client "auto", server "legacy" => Outcome::Script("legacy");
    typescript_auto_legacy_server_http: TypeScript, Http, client "auto", server "legacy" => Outcome::Script("legacy");
    python_auto_legacy_server_stdio: Python, Stdio, client "auto", server "legacy" => Outcome::Script("legacy");
    python_auto_legacy_server_http: Python, Http, client "auto", server "legacy" => Outcome::Script("legacy");
    // A legacy client meets a modern-only server, which names the versions it serves.
    typescript_legacy_modern_server_stdio: TypeScript, Stdio, client "legacy", server "modern" => Outcome::UnsupportedVersion;
    typescript_legacy_modern_server_http: TypeScript, Http, client "legacy", server "modern" => Outcome::UnsupportedVersion;
    python_legacy_modern_server_stdio: Python, Stdio, client "legacy", server "modern" => Outcome::UnsupportedVersion;
    python_legacy_modern_server_http: Python, Http, client "legacy", server "modern" => Outcome::UnsupportedVersion;
}

/// Runs a peer client's script against our server and checks its lines.
async fn drive_our_server(
    sdk: Sdk,
    transport: Transport,
    client_era: &str,
    server_era: &str,
    outcome: Outcome,
) {
    let peers = peers().await;
    let (interpreter, script, sdk_name) = match sdk {
        Sdk::TypeScript => (
            PathBuf::from("node"),
            peers.scripts.join("ts2_client.mjs"),
            "typescript",
        ),
        Sdk::Python => (
            peers.python_v2.clone(),
            peers.scripts.join("py2_client.py"),
            "python",
        ),
    };
    let script = script.to_str().expect("the workspace path is UTF-8");
    let mut arguments = vec![script, "--era", client_era];
    // Kept alive for the run; killed when dropped.
    let http_server;
    match transport {
        Transport::Stdio => {
            let server = interop_peer_example().await;
            let server_path = server.to_str().expect("the target path is UTF-8");
            arguments.extend([server_path, "--era", server_era]);
        }
        Transport::Http => {
            http_server = HttpServer::start(server_era).await;
            arguments.extend(["--http", http_server.url.as_str()]);
        }
    }
    let output = run(&interpreter, &arguments, PEER_TIMEOUT).await;
    let lines = lines_of(&output.stdout);
    let report = || {
        format!(
            "{sdk:?} {client_era} over {transport:?} against our server {server_era}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        )
    };
    match outcome {
        Outcome::Script(era) => {
            assert!(output.status.success(), "{}", report());
            // The Python client forced to the modern era never asks for the server's identity.
            let knows_server = !matches!(sdk, Sdk::Python) || client_era != "modern";
            let server_name = knows_server.then_some("mcpwire-interop-peer");
            check_script(&lines, &expected(era, sdk_name), server_name);
        }
        Outcome::UnsupportedVersion => {
            assert!(!output.status.success(), "{}", report());
            let connect = lines.first().unwrap_or_else(|| panic!("{}", report()));
            assert_eq!(connect["step"], "connect", "{}", report());
            let error = connect["error"].as_str().unwrap_or_default();
            assert!(
                (error.contains("-32022") || error.contains("nsupported protocol version"))
                    && error.contains("2026-07-28"),
                "{}",
                report()
            );
        }
    }
}

/// Our `interop_peer` example serving Streamable HTTP on a free loopback port, killed when
/// dropped; or the external deployment that `MCPWIRE_INTEROP_HTTP_URL_INTEROP_PEER_<ERA>`
/// names (see `external_http_url`).
struct HttpServer {
    /// The example started, unless the deployment is external.
    _child: Option<tokio::process::Child>,
    url: String,
    /// What it printed after its URL, shown when the test fails.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    async fn start(era: &str) -> Self {
        if let Some(url) = external_http_url(&["interop_peer", era]) {
            return HttpServer {
                _child: None,
                url,
                stderr: Arc::default(),
            };
        }
        let executable = interop_peer_example().await;
        let mut child = tokio::process::Command::new(executable)
            .args(["--era", era, "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the interop_peer example starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = tokio::time::timeout(STARTUP_TIMEOUT, lines.next_line())
            .await
            .expect("the example announces its URL in time")
            .expect("stderr reads")
            .and_then(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .expect("the first line names the URL");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        // Ends when the child's stderr closes, at the latest when it is killed.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        HttpServer {
            _child: Some(child),
            url,
            stderr: log,
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self
                .stderr
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("stderr of our HTTP server:\n{}", lines.join("\n"));
        }
    }
}
