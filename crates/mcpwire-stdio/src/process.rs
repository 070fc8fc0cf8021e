//! Spawning a server as a child process, talking to it over its stdin and stdout, and
//! shutting it down.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcpwire_jsonrpc::Message;
use mcpwire_transport::{Error, MessageSender, SendOptions, Transport};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::time::{Instant, timeout_at};

use crate::line::{LineEvent, LineReader};
use crate::{Limits, StdioReceiver, StdioSender};

/// What happens to the child's standard error.
///
/// MCP lets a server write logs of any kind to stderr; they are not protocol messages and
/// not necessarily errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stderr {
    /// The child writes to this process's stderr. The default.
    #[default]
    Inherit,
    /// The child's stderr is read line by line into [`StderrLines`], taken with
    /// [`ChildProcess::take_stderr`].
    Capture,
    /// The child's stderr is discarded.
    Null,
}

#[derive(Clone, Copy, Debug)]
struct Timeouts {
    close_grace: Duration,
    terminate_grace: Duration,
    kill_grace: Duration,
}

/// Configures and spawns a [`ChildProcess`]; made by [`ChildProcess::builder`].
///
/// Program, arguments, environment and working directory behave as in
/// [`std::process::Command`]. Stdin and stdout are always pipes to the transport.
#[derive(Debug)]
pub struct ChildProcessBuilder {
    command: Command,
    stderr: Stderr,
    limits: Limits,
    timeouts: Timeouts,
    stderr_max_line_bytes: usize,
    stderr_queue_lines: usize,
}

impl ChildProcessBuilder {
    /// Default for [`close_grace`](Self::close_grace): 2 seconds.
    pub const DEFAULT_CLOSE_GRACE: Duration = Duration::from_secs(2);
    /// Default for [`terminate_grace`](Self::terminate_grace): 2 seconds.
    pub const DEFAULT_TERMINATE_GRACE: Duration = Duration::from_secs(2);
    /// Default for [`kill_grace`](Self::kill_grace): 2 seconds.
    pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);
    /// Default for [`stderr_max_line_bytes`](Self::stderr_max_line_bytes): 16 KiB.
    pub const DEFAULT_STDERR_MAX_LINE_BYTES: usize = 16 * 1024;
    /// Default for [`stderr_queue_lines`](Self::stderr_queue_lines): 1024 lines.
    pub const DEFAULT_STDERR_QUEUE_LINES: usize = 1024;

    fn new(program: &OsStr) -> Self {
        ChildProcessBuilder {
            command: Command::new(program),
            stderr: Stderr::default(),
            limits: Limits::default(),
            timeouts: Timeouts {
                close_grace: Self::DEFAULT_CLOSE_GRACE,
                terminate_grace: Self::DEFAULT_TERMINATE_GRACE,
                kill_grace: Self::DEFAULT_KILL_GRACE,
            },
            stderr_max_line_bytes: Self::DEFAULT_STDERR_MAX_LINE_BYTES,
            stderr_queue_lines: Self::DEFAULT_STDERR_QUEUE_LINES,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Sets environment variables of the child.
    pub fn envs<I, K, V>(mut self, variables: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(variables);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Starts the child with an empty environment, plus the variables set after this call.
    pub fn env_clear(mut self) -> Self {
        self.command.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(mut self, directory: impl AsRef<Path>) -> Self {
        self.command.current_dir(directory);
        self
    }

    /// Sets what happens to the child's stderr. Default: [`Stderr::Inherit`].
    pub fn stderr(mut self, stderr: Stderr) -> Self {
        self.stderr = stderr;
        self
    }

    /// Sets the limits the child's stdout is read with. Default: [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how long [`ChildHandle::shutdown`] waits for the child to exit after closing its
    /// stdin, before sending `SIGTERM`. Default: [`Self::DEFAULT_CLOSE_GRACE`].
    pub fn close_grace(mut self, grace: Duration) -> Self {
        self.timeouts.close_grace = grace;
        self
    }

    /// Sets how long [`ChildHandle::shutdown`] waits for the child to exit after `SIGTERM`,
    /// before sending `SIGKILL`. Default: [`Self::DEFAULT_TERMINATE_GRACE`].
    pub fn terminate_grace(mut self, grace: Duration) -> Self {
        self.timeouts.terminate_grace = grace;
        self
    }

    /// Sets how long [`ChildHandle::kill`] and the last step of [`ChildHandle::shutdown`] wait
    /// for the child to be reaped after `SIGKILL` before giving up with an error. Default:
    /// [`Self::DEFAULT_KILL_GRACE`].
    pub fn kill_grace(mut self, grace: Duration) -> Self {
        self.timeouts.kill_grace = grace;
        self
    }

    /// Sets the longest captured stderr line kept (at least 1 byte); the rest of a longer line
    /// is dropped. Default: [`Self::DEFAULT_STDERR_MAX_LINE_BYTES`].
    pub fn stderr_max_line_bytes(mut self, bytes: usize) -> Self {
        self.stderr_max_line_bytes = bytes.max(1);
        self
    }

    /// Sets how many captured stderr lines wait to be read (at least 1). When the queue is
    /// full, new lines are dropped and counted ([`StderrLines::dropped_lines`]) so that the
    /// child never blocks on its stderr. Default: [`Self::DEFAULT_STDERR_QUEUE_LINES`].
    pub fn stderr_queue_lines(mut self, lines: usize) -> Self {
        self.stderr_queue_lines = lines.max(1);
        self
    }

    /// Spawns the child with piped stdin and stdout.
    ///
    /// The child is killed when the [`ChildProcess`], its transport halves and every
    /// [`ChildHandle`] have been dropped.
    ///
    /// # Errors
    ///
    /// Fails when the program cannot be started.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn spawn(mut self) -> io::Result<ChildProcess> {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(match self.stderr {
                Stderr::Inherit => Stdio::inherit(),
                Stderr::Capture => Stdio::piped(),
                Stderr::Null => Stdio::null(),
            })
            .kill_on_drop(true);
        let mut child = self.command.spawn()?;
        let stdin = child.stdin.take().expect("stdin was configured as a pipe");
        let stdout = child
            .stdout
            .take()
            .expect("stdout was configured as a pipe");
        let stderr = child.stderr.take().map(|stderr| {
            StderrLines::start(stderr, self.stderr_max_line_bytes, self.stderr_queue_lines)
        });
        let pid = child.id();
        tracing::debug!(?pid, program = ?self.command.as_std().get_program(), "spawned a child process");
        // Signal requests are rare (at most one per shutdown step), so a small queue suffices.
        let (signals, signal_requests) = mpsc::channel(4);
        let (exit_sender, exit) = watch::channel(None);
        tokio::spawn(supervise(child, signal_requests, exit_sender));
        Ok(ChildProcess {
            handle: ChildHandle {
                shared: Arc::new(Shared {
                    pid,
                    stdin: Mutex::new(Some(StdioSender::new(stdin))),
                    signals,
                    exit,
                    timeouts: self.timeouts,
                }),
            },
            receiver: StdioReceiver::with_limits(stdout, self.limits),
            stderr,
        })
    }
}

/// A server running as a child process, and the stdio transport to it.
///
/// Pass it to anything that takes a [`Transport`] (such as `mcpwire_rpc::Peer::start`); keep
/// a [`ChildHandle`] from [`handle`](Self::handle) to shut the child down afterwards, and take
/// captured stderr with [`take_stderr`](Self::take_stderr) before splitting.
#[derive(Debug)]
pub struct ChildProcess {
    handle: ChildHandle,
    receiver: StdioReceiver<ChildStdout>,
    stderr: Option<StderrLines>,
}

impl ChildProcess {
    /// Starts configuring a child process that runs `program`.
    pub fn builder(program: impl AsRef<OsStr>) -> ChildProcessBuilder {
        ChildProcessBuilder::new(program.as_ref())
    }

    /// The child's process id.
    pub fn id(&self) -> Option<u32> {
        self.handle.id()
    }

    /// A handle that waits for, shuts down or kills the child.
    pub fn handle(&self) -> ChildHandle {
        self.handle.clone()
    }

    /// The captured stderr lines, once, when spawned with [`Stderr::Capture`].
    pub fn take_stderr(&mut self) -> Option<StderrLines> {
        self.stderr.take()
    }

    /// Shuts the child down as [`ChildHandle::shutdown`] does, and returns its exit status.
    ///
    /// # Errors
    ///
    /// As [`ChildHandle::shutdown`].
    pub async fn shutdown(self) -> io::Result<ExitStatus> {
        let ChildProcess {
            handle, receiver, ..
        } = self;
        drop(receiver);
        handle.shutdown().await
    }
}

impl Transport for ChildProcess {
    type Sender = ChildSender;
    type Receiver = StdioReceiver<ChildStdout>;

    fn split(self) -> (ChildSender, StdioReceiver<ChildStdout>) {
        let sender = ChildSender {
            shared: self.handle.shared,
        };
        (sender, self.receiver)
    }
}

/// The sending half of a [`ChildProcess`]: writes messages to the child's stdin.
#[derive(Debug)]
pub struct ChildSender {
    shared: Arc<Shared>,
}

impl MessageSender for ChildSender {
    /// Writes `message` as one line to the child's stdin.
    ///
    /// # Errors
    ///
    /// [`Error::is_closed`] once stdin is closed (by [`close`](MessageSender::close) or
    /// [`ChildHandle::shutdown`]) or the child stopped reading it; [`Error::is_io`] when the
    /// pipe fails otherwise.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future may leave part of a line written.
    async fn send(&mut self, message: Message, options: SendOptions) -> Result<(), Error> {
        let mut stdin = self.shared.stdin.lock().await;
        match stdin.as_mut() {
            Some(sender) => sender.send(message, options).await,
            None => Err(Error::closed()),
        }
    }

    /// Stops the child with MCP's shutdown sequence for stdio, as [`ChildHandle::shutdown`]
    /// does: closes its stdin, then sends `SIGTERM` and `SIGKILL` to a child that does not exit
    /// within the grace periods. The engine calls this when the connection closes, so closing
    /// a client stops the server it started without holding the child's handle.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when the child could not be stopped (it was not reaped after
    /// `SIGKILL`, or waiting for it failed).
    async fn close(&mut self) -> Result<(), Error> {
        let handle = ChildHandle {
            shared: Arc::clone(&self.shared),
        };
        match handle.shutdown().await {
            Ok(status) => {
                tracing::debug!(pid = ?handle.id(), %status, "the child process stopped");
                Ok(())
            }
            Err(error) => Err(Error::io(error)),
        }
    }
}

/// The state shared by a child's handles and its sender.
struct Shared {
    pid: Option<u32>,
    /// The child's stdin; `None` once closed. Shared so that shutdown can close it while the
    /// sender is held by an engine.
    stdin: Mutex<Option<StdioSender<ChildStdin>>>,
    /// Requests to the task that owns the child.
    signals: mpsc::Sender<SignalRequest>,
    /// The child's exit, published once by that task.
    exit: watch::Receiver<Option<ExitOutcome>>,
    timeouts: Timeouts,
}

impl fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("pid", &self.pid)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

type ExitOutcome = Result<ExitStatus, Arc<io::Error>>;

/// A cloneable handle to a child process: its id, its exit status, and the shutdown sequence.
#[derive(Clone, Debug)]
pub struct ChildHandle {
    shared: Arc<Shared>,
}

impl ChildHandle {
    /// The child's process id.
    pub fn id(&self) -> Option<u32> {
        self.shared.pid
    }

    /// The child's exit status, if it has exited.
    ///
    /// # Errors
    ///
    /// Fails when waiting for the child failed.
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        self.shared
            .exit
            .borrow()
            .clone()
            .map(from_outcome)
            .transpose()
    }

    /// Waits for the child to exit, without doing anything to make it exit.
    ///
    /// # Errors
    ///
    /// Fails when waiting for the child failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn wait(&self) -> io::Result<ExitStatus> {
        let mut exit = self.shared.exit.clone();
        let outcome = exit
            .wait_for(Option::is_some)
            .await
            .map(|outcome| outcome.clone())
            .map_err(|_| io::Error::other("the task supervising the child process has stopped"))?;
        from_outcome(outcome.expect("waited until the exit was published"))
    }

    /// Shuts the child down as MCP prescribes for stdio, and returns its exit status.
    ///
    /// 1. Closes the child's stdin and waits up to the close grace period for it to exit.
    /// 2. Sends `SIGTERM` and waits up to the terminate grace period.
    /// 3. Sends `SIGKILL` and waits up to the kill grace period for it to be reaped.
    ///
    /// A child that has already exited returns its status at once. If a write to stdin is
    /// blocked for the whole close grace period (the child reads nothing), stdin stays open
    /// and the sequence goes on with `SIGTERM`. Signals go to the child process only, not to
    /// processes it started. `SIGTERM` is sent with the `kill` builtin of `sh` (on Unix);
    /// where that fails, the sequence goes straight on to `SIGKILL`.
    ///
    /// # Errors
    ///
    /// Fails when the child has not been reaped by the end of the kill grace period, or when
    /// waiting for it or killing it fails.
    pub async fn shutdown(&self) -> io::Result<ExitStatus> {
        let timeouts = self.shared.timeouts;

        let deadline = Instant::now() + timeouts.close_grace;
        match timeout_at(deadline, self.shared.stdin.lock()).await {
            // Dropping the sender closes the pipe; every message was flushed when sent.
            Ok(mut stdin) => drop(stdin.take()),
            Err(_) => tracing::debug!("a write to the child's stdin is blocked; leaving it open"),
        }
        if let Ok(outcome) = timeout_at(deadline, self.wait()).await {
            return outcome;
        }

        tracing::debug!(pid = ?self.id(), "the child did not exit after stdin closed; sending SIGTERM");
        let deadline = Instant::now() + timeouts.terminate_grace;
        match self.signal(Signal::Terminate, deadline).await {
            Ok(()) => {
                if let Ok(outcome) = timeout_at(deadline, self.wait()).await {
                    return outcome;
                }
                tracing::debug!(pid = ?self.id(), "the child did not exit after SIGTERM; sending SIGKILL");
            }
            Err(error) => {
                tracing::debug!(%error, "sending SIGTERM failed; sending SIGKILL");
            }
        }
        self.kill().await
    }

    /// Kills the child with `SIGKILL` at once and returns its exit status.
    ///
    /// # Errors
    ///
    /// Fails when killing fails, or when the child has not been reaped within the kill grace
    /// period.
    pub async fn kill(&self) -> io::Result<ExitStatus> {
        let deadline = Instant::now() + self.shared.timeouts.kill_grace;
        self.signal(Signal::Kill, deadline).await?;
        timeout_at(deadline, self.wait()).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the child process was not reaped after SIGKILL",
            ))
        })
    }

    /// Asks the supervising task to signal the child, by `deadline`.
    async fn signal(&self, signal: Signal, deadline: Instant) -> io::Result<()> {
        if self.shared.exit.borrow().is_some() {
            return Ok(());
        }
        let (reply, response) = oneshot::channel();
        let request = SignalRequest {
            signal,
            deadline,
            reply,
        };
        let timed_out =
            || io::Error::new(io::ErrorKind::TimedOut, "signalling the child timed out");
        match timeout_at(deadline, self.shared.signals.send(request)).await {
            Err(_) => return Err(timed_out()),
            // The supervisor only stops once the child has exited.
            Ok(Err(_)) => return Ok(()),
            Ok(Ok(())) => {}
        }
        match timeout_at(deadline, response).await {
            Err(_) => Err(timed_out()),
            Ok(Err(_)) => Ok(()),
            Ok(Ok(result)) => result,
        }
    }
}

fn from_outcome(outcome: ExitOutcome) -> io::Result<ExitStatus> {
    outcome.map_err(|error| io::Error::new(error.kind(), error))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Terminate,
    Kill,
}

struct SignalRequest {
    signal: Signal,
    deadline: Instant,
    reply: oneshot::Sender<io::Result<()>>,
}

/// Owns the child: reaps it when it exits, and signals it on request.
///
/// Only this task waits for the child, and it signals only while not waiting, so a process
/// id it signals has not been reaped and cannot have been reused by another process.
async fn supervise(
    mut child: Child,
    mut requests: mpsc::Receiver<SignalRequest>,
    exit: watch::Sender<Option<ExitOutcome>>,
) {
    // Each turn ends with the child's exit or handles one request; requests end when the
    // handles are gone.
    loop {
        tokio::select! {
            outcome = child.wait() => {
                tracing::debug!(?outcome, "the child process exited");
                exit.send_replace(Some(outcome.map_err(Arc::new)));
                return;
            }
            request = requests.recv() => {
                let Some(request) = request else {
                    // Every handle is gone: dropping the child kills it (`kill_on_drop`).
                    return;
                };
                let result = deliver(&mut child, request.signal, request.deadline).await;
                let _ = request.reply.send(result);
            }
        }
    }
}

async fn deliver(child: &mut Child, signal: Signal, deadline: Instant) -> io::Result<()> {
    match signal {
        Signal::Kill => child.start_kill(),
        Signal::Terminate => match child.id() {
            // Already reaped.
            None => Ok(()),
            Some(pid) => terminate(pid, deadline).await,
        },
    }
}

/// Sends `SIGTERM` to `pid` with the shell's `kill` builtin.
///
/// The standard library can only send `SIGKILL`, and this crate has no unsafe code to call
/// `kill(2)` directly; every POSIX system has a `sh` with a `kill` builtin, and a shutdown
/// sends this at most once.
async fn terminate(pid: u32, deadline: Instant) -> io::Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg("kill -s TERM \"$1\"")
        .arg("sh")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    match timeout_at(deadline, status).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(io::Error::other(format!(
            "`kill -s TERM {pid}` failed with {status}"
        ))),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "`kill -s TERM` did not finish in time",
        )),
    }
}

/// The lines a child writes to its stderr, when spawned with [`Stderr::Capture`].
///
/// A task reads the child's stderr as it is written and queues each line, so that the child
/// never blocks on a full pipe; lines beyond the queue's capacity are dropped and counted.
/// Invalid UTF-8 is replaced with U+FFFD, a trailing `\r` is removed, and a line longer than
/// the configured maximum is cut there.
#[derive(Debug)]
pub struct StderrLines {
    lines: mpsc::Receiver<String>,
    dropped: Arc<AtomicU64>,
}

impl StderrLines {
    fn start(stderr: ChildStderr, max_line_bytes: usize, queue_lines: usize) -> Self {
        let (sender, lines) = mpsc::channel(queue_lines);
        let dropped = Arc::new(AtomicU64::new(0));
        tokio::spawn(forward_stderr(
            stderr,
            sender,
            Arc::clone(&dropped),
            max_line_bytes,
        ));
        StderrLines { lines, dropped }
    }

    /// The next line, or `None` once the child's stderr is closed and every queued line has
    /// been read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn next_line(&mut self) -> Option<String> {
        self.lines.recv().await
    }

    /// How many lines were dropped because the queue was full.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// How many bytes of the child's stderr are read at a time.
const STDERR_CHUNK_BYTES: usize = 8 * 1024;

async fn forward_stderr(
    stderr: ChildStderr,
    lines: mpsc::Sender<String>,
    dropped: Arc<AtomicU64>,
    max_line_bytes: usize,
) {
    let mut reader = LineReader::new(stderr, STDERR_CHUNK_BYTES, max_line_bytes);
    // Each turn consumes one line of the child's stderr; the loop ends when the stream does.
    loop {
        let line = match reader.next_line().await {
            Ok(
                LineEvent::Line(line) | LineEvent::TooLong(line) | LineEvent::Unterminated(line),
            ) => line,
            Ok(LineEvent::End) => return,
            Err(error) => {
                tracing::debug!(%error, "reading the child's stderr failed");
                return;
            }
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match lines.try_send(String::from_utf8_lossy(line).into_owned()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
            // Nobody reads the lines any more; keep draining so that the child never blocks.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}
