//! The client under test as a child process, started the way the official suite starts it:
//! the mock server's URL as the last argument and the scenario in the environment, run
//! directly (never through a shell), and killed when it outlives its time.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;

use crate::client::mock::lock;
use crate::target::StdioCommand;

/// How much of the client's stdout and stderr is kept for the report.
const OUTPUT_KEPT: usize = 4 * 1024;
/// How long the output readers may take to drain once the client has gone.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// How the client's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It exited with this code (None: killed by a signal).
    Exited(Option<i32>),
    /// It was still running at the time limit and was killed.
    TimedOut,
    /// It could not be started.
    NotStarted(String),
}

/// What the client's run gave.
#[derive(Debug, Clone)]
pub(crate) struct ClientRun {
    /// How it ended.
    pub(crate) ending: Ending,
    /// The end of what it wrote to stderr and stdout.
    pub(crate) output: String,
}

/// Runs `command` with `url` as its last argument and `env` added, for at most `limit`.
pub(crate) async fn run(
    command: &StdioCommand,
    url: &str,
    env: &[(String, String)],
    limit: Duration,
) -> ClientRun {
    let spawned = Command::new(&command.program)
        .args(&command.args)
        .arg(url)
        .envs(command.env.iter().map(|(key, value)| (key, value)))
        .envs(env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            return ClientRun {
                ending: Ending::NotStarted(format!(
                    "could not start `{}`: {error}",
                    command.program
                )),
                output: String::new(),
            };
        }
    };
    let kept = Arc::new(Mutex::new(VecDeque::new()));
    let stdout = child
        .stdout
        .take()
        .map(|pipe| tokio::spawn(keep_tail(pipe, Arc::clone(&kept))));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(keep_tail(pipe, Arc::clone(&kept))));
    let ending = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => Ending::Exited(status.code()),
        Ok(Err(error)) => Ending::NotStarted(format!("could not wait for the client: {error}")),
        Err(_) => {
            let _ = child.kill().await;
            Ending::TimedOut
        }
    };
    // The readers end when the pipes close; a grandchild holding them open is not waited for.
    for reader in [stdout, stderr].into_iter().flatten() {
        let _ = tokio::time::timeout(DRAIN_LIMIT, reader).await;
    }
    let output = String::from_utf8_lossy(&lock(&kept).iter().copied().collect::<Vec<u8>>())
        .trim()
        .to_owned();
    ClientRun { ending, output }
}

/// Reads `pipe` to its end, keeping the last [`OUTPUT_KEPT`] bytes in `kept`.
async fn keep_tail(mut pipe: impl AsyncRead + Unpin, kept: Arc<Mutex<VecDeque<u8>>>) {
    let mut buffer = [0u8; 4096];
    while let Ok(read) = pipe.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        let mut kept = lock(&kept);
        kept.extend(&buffer[..read]);
        let excess = kept.len().saturating_sub(OUTPUT_KEPT);
        kept.drain(..excess);
    }
}
