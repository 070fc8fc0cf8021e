//! A real `redis-server` (from Debian's packages) for the tests of the Redis stores: started
//! by the test on a Unix socket of its own temporary directory (no port to collide with
//! another test's), with no persistence, and killed when dropped.
//!
//! `cargo xtask interop-setup` (which CI runs) installs `redis-server` when it is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long `redis-server` may take to say it is ready.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    directory: PathBuf,
    socket: PathBuf,
}

impl RedisServer {
    /// Starts a `redis-server` in a fresh temporary directory and waits until it accepts
    /// connections.
    ///
    /// # Panics
    ///
    /// When `redis-server` is not installed, or does not start in time: the test cannot run.
    pub async fn start() -> RedisServer {
        let directory = super::fresh_directory("redis");
        let socket = directory.join("redis.sock");
        let child = spawn(&directory, &socket).await;
        RedisServer {
            child,
            directory,
            socket,
        }
    }

    /// The URL of the server, for `redis::Client::open`.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// Kills the server (SIGKILL) and waits for it: what a crash or a lost network looks like
    /// to its clients. [`restart`](Self::restart) brings it back on the same socket, empty.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = std::fs::remove_file(&self.socket);
    }

    /// Starts the server again on the same socket after [`kill`](Self::kill).
    pub async fn restart(&mut self) {
        self.child = spawn(&self.directory, &self.socket).await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

async fn spawn(directory: &Path, socket: &Path) -> Child {
    let mut child = Command::new("redis-server")
        .args(["--port", "0", "--unixsocket"])
        .arg(socket)
        .args(["--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
        .args(["--daemonize", "no", "--loglevel", "notice"])
        .arg("--dir")
        .arg(directory)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "redis-server cannot be started ({error}); install it with `cargo xtask interop-setup` or `apt-get install redis-server`"
            )
        });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(START_LIMIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line
                .to_ascii_lowercase()
                .contains("ready to accept connections")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(ready, Ok(true)),
        "redis-server did not become ready within {START_LIMIT:?}"
    );
    // Keep reading its log, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}
