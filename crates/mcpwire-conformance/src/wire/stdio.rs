//! A server started as a child process, spoken to line by line over its stdin and stdout.
//!
//! The command runs directly, never through a shell. Its stderr is kept (the last few
//! kilobytes) for the report; its stdout is read as lines, each one a message or not.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// The longest line read from the server's stdout; a longer one is cut and reported.
const LINE_LIMIT: usize = 16 * 1024 * 1024;
/// How many lines may wait unread.
const QUEUE: usize = 1024;
/// How much of stderr is kept.
const STDERR_KEPT: usize = 8 * 1024;

/// How to start a stdio server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioCommand {
    /// The program, found on `PATH` when it has no slash.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
}

/// What reading the server's stdout gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line, without its newline.
    Text(Vec<u8>),
    /// A line longer than the limit; its start.
    TooLong(Vec<u8>),
    /// The server closed its stdout (or exited).
    Closed,
    /// Nothing arrived in time.
    TimedOut,
}

/// A running stdio server.
#[derive(Debug)]
pub struct StdioWire {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Line>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

impl StdioWire {
    /// Starts `command`.
    pub fn spawn(command: &StdioCommand) -> Result<StdioWire, String> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .envs(command.env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("could not start `{}`: {error}", command.program))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr_pipe = child.stderr.take().ok_or("no stderr")?;
        let (sender, lines) = mpsc::channel(QUEUE);
        tokio::spawn(read_lines(stdout, sender));
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        tokio::spawn(keep_tail(stderr_pipe, Arc::clone(&stderr)));
        Ok(StdioWire {
            child,
            stdin,
            lines,
            stderr,
        })
    }

    /// Writes `bytes` to the server's stdin as they are (the caller ends lines).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin is closed")?;
        stdin
            .write_all(bytes)
            .await
            .map_err(|error| format!("could not write to the server's stdin: {error}"))?;
        stdin
            .flush()
            .await
            .map_err(|error| format!("could not write to the server's stdin: {error}"))
    }

    /// The next line of the server's stdout, waiting at most `limit`.
    pub async fn next(&mut self, limit: Duration) -> Line {
        match tokio::time::timeout(limit, self.lines.recv()).await {
            Err(_) => Line::TimedOut,
            Ok(None) => Line::Closed,
            Ok(Some(line)) => line,
        }
    }

    /// Closes the server's stdin, the way a client ends the session.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits at most `limit` for the server to exit; its exit code when it did.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<Option<i32>> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => Some(status.code()),
            _ => None,
        }
    }

    /// The last few kilobytes the server wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let kept = self
            .stderr
            .lock()
            .map(|kept| kept.clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&Vec::from(kept)).into_owned()
    }

    /// Ends the server: stdin closed, a short wait, then killed.
    pub async fn shut_down(mut self) {
        self.close_stdin();
        if self.wait_exit(Duration::from_millis(500)).await.is_none() {
            let _ = self.child.kill().await;
        }
    }
}

/// Reads stdout into lines until it closes.
async fn read_lines(stdout: tokio::process::ChildStdout, sender: mpsc::Sender<Line>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    loop {
        let mut line = Vec::new();
        let mut limited = (&mut reader).take(LINE_LIMIT as u64 + 1);
        let read = limited
            .read_until(b'\n', &mut line)
            .await
            .unwrap_or_default();
        if read == 0 {
            let _ = sender.send(Line::Closed).await;
            return;
        }
        let item = if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Line::Text(line)
        } else if line.len() > LINE_LIMIT {
            line.truncate(256);
            // Skip the rest of the line.
            let mut rest = Vec::new();
            let _ = reader.read_until(b'\n', &mut rest).await;
            Line::TooLong(line)
        } else {
            Line::Text(line)
        };
        if sender.send(item).await.is_err() {
            return;
        }
    }
}

/// Keeps the last bytes of stderr.
async fn keep_tail(mut stderr: tokio::process::ChildStderr, kept: Arc<Mutex<VecDeque<u8>>>) {
    let mut buffer = [0_u8; 4096];
    while let Ok(read) = stderr.read(&mut buffer).await {
        if read == 0 {
            return;
        }
        if let Ok(mut kept) = kept.lock() {
            kept.extend(&buffer[..read]);
            while kept.len() > STDERR_KEPT {
                kept.pop_front();
            }
        }
    }
}
