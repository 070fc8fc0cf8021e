//! A real OAuth 2 authorization server for the tests (feature `oauth-mock`): the npm package
//! `oauth2-mock-server`, pinned in `interop/package.json`, started on a loopback port by
//! `interop/mock_authorization_server.mjs` (whose header says which form parameters and
//! environment variables shape what it issues).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long the server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long installing the npm packages may take, on a machine that never did.
const SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// The workspace's root directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate lives in crates/")
        .to_path_buf()
}

/// The mock authorization server, stopped by its process id when dropped.
#[derive(Debug)]
pub struct MockAuthorizationServer {
    child: Child,
    /// Its issuer identifier, `http://127.0.0.1:PORT`.
    pub issuer: String,
}

impl MockAuthorizationServer {
    /// Starts one, installing the npm packages first (`cargo xtask interop-setup`) on a
    /// checkout where that has not run.
    ///
    /// # Panics
    ///
    /// Panics when Node.js 20 or newer is not on `PATH`, or the server does not announce
    /// its issuer in time: the tests that use it fail, they do not skip.
    pub async fn start() -> MockAuthorizationServer {
        MockAuthorizationServer::start_with_env(&[]).await
    }

    /// [`start`](Self::start), with `variables` in the server's environment.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub async fn start_with_env(variables: &[(&str, &str)]) -> MockAuthorizationServer {
        let root = workspace_root();
        let package = root.join("interop/node_modules/oauth2-mock-server/package.json");
        if !package.exists() {
            install(&root).await;
        }
        let mut child = Command::new("node")
            .arg(root.join("interop/mock_authorization_server.mjs"))
            .current_dir(root.join("interop"))
            .envs(variables.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts: Node.js 20 or newer must be on PATH for this test");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("the mock authorization server starts in time")
            .expect("its output is readable");
        let started: serde_json::Value = serde_json::from_str(&line).expect("it prints its issuer");
        assert_eq!(started["pid"], child.id().expect("it runs"));
        MockAuthorizationServer {
            child,
            issuer: started["issuer"]
                .as_str()
                .expect("the issuer is a string")
                .to_owned(),
        }
    }
}

impl Drop for MockAuthorizationServer {
    fn drop(&mut self) {
        // `start_kill` signals this child's own process id.
        let _ = self.child.start_kill();
    }
}

/// `cargo xtask interop-setup`, for a checkout where it has not run yet.
async fn install(root: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = tokio::time::timeout(
        SETUP_TIMEOUT,
        Command::new(cargo)
            .args(["xtask", "interop-setup"])
            .current_dir(root)
            .kill_on_drop(true)
            .status(),
    )
    .await
    .expect("interop-setup finishes in time")
    .expect("cargo starts");
    assert!(
        status.success(),
        "`cargo xtask interop-setup` failed ({status}); this test needs node 20+ and npm"
    );
}
