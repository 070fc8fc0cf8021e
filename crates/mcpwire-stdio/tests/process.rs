//! Child processes as stdio peers: exchanging messages, the shutdown sequence, stderr capture,
//! and what an engine sees when the child dies. The children are `cat` and small `sh` scripts.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use mcpwire_jsonrpc::{ErrorObject, Message, Notification, Request, RequestId};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_stdio::{ChildProcess, ChildProcessBuilder, Stderr};
use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use serde_json::value::RawValue;

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

/// A bound for waits that should end almost at once, generous for a loaded machine.
const PROMPTLY: Duration = Duration::from_secs(10);

/// A script that announces, with a notification on stdout, that it has set itself up.
fn script(body: &str) -> ChildProcessBuilder {
    ChildProcess::builder("sh").arg("-c").arg(body)
}

const READY: &str = r#"echo '{"jsonrpc":"2.0","method":"ready"}'"#;

async fn next_message<R: MessageReceiver>(receiver: &mut R) -> Message {
    match tokio::time::timeout(PROMPTLY, receiver.receive()).await {
        Ok(Some(Ok(Inbound::Message(message)))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).expect("valid JSON")
}

#[tokio::test]
async fn cat_echoes_messages_and_exits_when_stdin_closes() {
    let process = ChildProcess::builder("cat")
        .close_grace(PROMPTLY)
        .spawn()
        .expect("cat runs");
    assert!(process.id().is_some());
    let handle = process.handle();
    let (mut sender, mut receiver) = process.split();
    let messages = [
        Message::from(Request::new(RequestId::from(1), "ping", None)),
        Message::from(Notification::new("note", Some(raw(r#"{"text":"a\nb"}"#)))),
        Message::from(Request::new(RequestId::from("two"), "pong", None)),
    ];
    for message in messages.clone() {
        sender
            .send(message, SendOptions::default())
            .await
            .expect("cat reads");
    }
    for message in messages {
        assert_eq!(next_message(&mut receiver).await, message);
    }

    let started = Instant::now();
    let status = handle.shutdown().await.expect("cat exits");
    assert!(status.success(), "cat exits by itself, got {status}");
    assert!(started.elapsed() < PROMPTLY, "no grace period ran out");
    assert!(
        tokio::time::timeout(PROMPTLY, receiver.receive())
            .await
            .expect("stdout ends")
            .is_none()
    );
    let refused = sender
        .send(
            Message::from(Notification::new("late", None)),
            SendOptions::default(),
        )
        .await
        .expect_err("stdin is closed");
    assert!(refused.is_closed());
}

#[tokio::test]
async fn a_child_that_ignores_stdin_closing_gets_sigterm() {
    let grace = Duration::from_millis(200);
    let process = script(&format!("{READY}; exec sleep 30"))
        .close_grace(grace)
        .terminate_grace(PROMPTLY)
        .spawn()
        .expect("sh runs");
    let handle = process.handle();
    let (_sender, mut receiver) = process.split();
    assert_eq!(next_message(&mut receiver).await.method(), Some("ready"));

    let started = Instant::now();
    let status = handle.shutdown().await.expect("the child ends");
    let elapsed = started.elapsed();
    assert_eq!(status.signal(), Some(SIGTERM), "got {status}");
    assert!(elapsed >= grace, "the close grace ran first: {elapsed:?}");
    assert!(elapsed < PROMPTLY, "SIGTERM ended it at once: {elapsed:?}");
}

#[tokio::test]
async fn a_child_that_ignores_sigterm_gets_sigkill_within_the_grace_periods() {
    let grace = Duration::from_millis(200);
    // An ignored signal stays ignored across `exec`, so `sleep` ignores SIGTERM too.
    let process = script(&format!("trap '' TERM; {READY}; exec sleep 30"))
        .close_grace(grace)
        .terminate_grace(grace)
        .kill_grace(PROMPTLY)
        .spawn()
        .expect("sh runs");
    let handle = process.handle();
    let (_sender, mut receiver) = process.split();
    assert_eq!(next_message(&mut receiver).await.method(), Some("ready"));

    let started = Instant::now();
    let status = handle.shutdown().await.expect("the child ends");
    let elapsed = started.elapsed();
    assert_eq!(status.signal(), Some(SIGKILL), "got {status}");
    assert!(elapsed >= 2 * grace, "both grace periods ran: {elapsed:?}");
    assert!(
        elapsed < 2 * grace + Duration::from_secs(3),
        "shutdown took {elapsed:?}"
    );
    // Shutting down again reports the same status at once.
    assert_eq!(
        handle.shutdown().await.expect("exited").signal(),
        Some(SIGKILL)
    );
    assert_eq!(handle.try_wait().expect("exited"), Some(status));
}

#[tokio::test]
async fn shutting_down_an_exited_child_returns_its_status_at_once() {
    let process = script("exit 3")
        .close_grace(PROMPTLY)
        .spawn()
        .expect("sh runs");
    let handle = process.handle();
    let status = tokio::time::timeout(PROMPTLY, handle.wait())
        .await
        .expect("the script ends")
        .expect("waits");
    assert_eq!(status.code(), Some(3));
    let started = Instant::now();
    let shut_down = process.shutdown().await.expect("already exited");
    assert_eq!(shut_down.code(), Some(3));
    assert!(started.elapsed() < PROMPTLY);
}

#[tokio::test]
async fn dropping_every_handle_kills_the_child() {
    let process = script(&format!("trap '' TERM; {READY}; exec sleep 30"))
        .spawn()
        .expect("sh runs");
    let (sender, mut receiver) = process.split();
    assert_eq!(next_message(&mut receiver).await.method(), Some("ready"));
    drop(sender);
    // The child's stdout closes only when `sleep` dies.
    let end = tokio::time::timeout(PROMPTLY, receiver.receive())
        .await
        .expect("the child is killed");
    assert!(end.is_none(), "got {end:?}");
}

#[tokio::test]
async fn environment_arguments_and_directory_reach_the_child() {
    let directory = std::env::temp_dir();
    let process = script(
        r#"printf '{"jsonrpc":"2.0","method":"%s|%s|%s|%s"}\n' "$GREETING" "${HOME:-unset}" "$1" "$(pwd -P)""#,
    )
    .arg("sh")
    .arg("first argument")
    .env_clear()
    .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
    .env("GREETING", "hello")
    .env("REMOVED", "x")
    .env_remove("REMOVED")
    .current_dir(&directory)
    .spawn()
    .expect("sh runs");
    let (_sender, mut receiver) = process.split();
    let message = next_message(&mut receiver).await;
    let canonical = directory.canonicalize().expect("the directory exists");
    assert_eq!(
        message.method(),
        Some(format!("hello|unset|first argument|{}", canonical.display()).as_str())
    );
}

#[tokio::test]
async fn a_missing_program_fails_to_spawn() {
    let error = ChildProcess::builder("mcpwire-stdio-no-such-program")
        .spawn()
        .expect_err("no such program");
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn captured_stderr_lines_are_readable() {
    let mut process = script(
        r#"echo one >&2; printf 'two\r\n' >&2; printf 'a very long line\n' >&2; printf 'tail' >&2"#,
    )
    .stderr(Stderr::Capture)
    .stderr_max_line_bytes(6)
    .spawn()
    .expect("sh runs");
    let mut stderr = process.take_stderr().expect("captured");
    assert!(process.take_stderr().is_none(), "taken once");
    let mut lines = Vec::new();
    for _ in 0..10 {
        match tokio::time::timeout(PROMPTLY, stderr.next_line())
            .await
            .expect("the script ends")
        {
            Some(line) => lines.push(line),
            None => break,
        }
    }
    assert_eq!(lines, ["one", "two", "a very", "tail"]);
    assert_eq!(stderr.dropped_lines(), 0);
}

#[tokio::test]
async fn stderr_lines_beyond_the_queue_are_dropped_without_blocking_the_child() {
    // 3000 lines of 100 bytes overflow a pipe's buffer many times: the child finishes them
    // only if the lines are drained while nobody reads them.
    const LINES: u64 = 3000;
    let mut process = script(&format!(
        "line=$(printf '%099d' 0); i=0; \
         while [ $i -lt {LINES} ]; do echo \"$line\" >&2; i=$((i+1)); done; {READY}"
    ))
    .stderr(Stderr::Capture)
    .stderr_queue_lines(5)
    .spawn()
    .expect("sh runs");
    let mut stderr = process.take_stderr().expect("captured");
    let (_sender, mut receiver) = process.split();
    assert_eq!(next_message(&mut receiver).await.method(), Some("ready"));
    let mut lines = Vec::new();
    for _ in 0..=LINES {
        match tokio::time::timeout(PROMPTLY, stderr.next_line())
            .await
            .expect("the script ends")
        {
            Some(line) => lines.push(line),
            None => break,
        }
    }
    assert_eq!(lines.len() as u64 + stderr.dropped_lines(), LINES);
    assert!(lines.len() >= 5, "the queue was filled");
    assert!(
        stderr.dropped_lines() > 0,
        "lines beyond the queue were dropped"
    );
    assert!(lines.iter().all(|line| line.len() == 99));
}

/// Answers `echo` with its params.
struct Echo;

impl Handler for Echo {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        match context.method() {
            "echo" => Ok(params.unwrap_or_else(|| raw("null"))),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, _notification: Notification, _peer: &Peer) {}
}

#[tokio::test]
async fn an_engine_calls_itself_through_cat() {
    // `cat` sends the request back, the engine answers it, and `cat` sends the answer back:
    // every message crosses the child's stdin and stdout twice.
    let process = ChildProcess::builder("cat").spawn().expect("cat runs");
    let handle = process.handle();
    let peer = Peer::start(process, Echo, Config::default());
    let result = tokio::time::timeout(
        PROMPTLY,
        peer.request_raw(
            "echo",
            Some(raw(r#"{"round":"trip"}"#)),
            RequestOptions::default(),
        ),
    )
    .await
    .expect("answered in time")
    .expect("answered");
    assert_eq!(result.get(), r#"{"round":"trip"}"#);
    peer.close().await;
    let status = handle.shutdown().await.expect("cat exits");
    assert!(status.success(), "closing stdin ended cat: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_requests_fail_within_a_second_when_the_child_is_killed() {
    // F-08 (a) of the fault scenarios: `kill -9` with 100 calls pending.
    let process = script("cat >/dev/null").spawn().expect("sh runs");
    let pid = process.id().expect("a running child has a pid");
    let handle = process.handle();
    let peer = Peer::start(process, Echo, Config::default());

    let mut calls = tokio::task::JoinSet::new();
    for index in 0..100 {
        let peer = peer.clone();
        calls.spawn(async move {
            let params = raw(&format!(r#"{{"index":{index}}}"#));
            peer.request_raw("never_answered", Some(params), RequestOptions::default())
                .await
        });
    }
    tokio::time::timeout(PROMPTLY, async {
        while peer.pending_requests() < 100 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("all 100 requests become pending");

    let killed = std::process::Command::new("kill")
        .arg("-KILL")
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(killed.success());

    let outcomes = tokio::time::timeout(Duration::from_secs(1), async {
        let mut outcomes = Vec::new();
        while let Some(outcome) = calls.join_next().await {
            outcomes.push(outcome.expect("the call task completes"));
        }
        outcomes
    })
    .await
    .expect("every pending call fails within a second");
    assert_eq!(outcomes.len(), 100);
    for outcome in outcomes {
        let error = outcome.expect_err("nobody answers");
        assert!(error.is_closed(), "{error:?}");
    }
    // The child is reaped, not left a zombie: once its status is known, its process entry
    // is gone.
    let status = tokio::time::timeout(Duration::from_secs(1), handle.wait())
        .await
        .expect("the child is reaped within a second")
        .expect("its status");
    assert_eq!(status.signal(), Some(SIGKILL));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the killed child is still in the process table"
    );
}

/// Whether a process with `pid` still exists (a zombie counts as gone: it has exited).
fn is_running(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    status.is_ok_and(|stat| {
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        state.is_some_and(|state| state != "Z" && state != "X")
    })
}

#[tokio::test]
async fn closing_the_connection_stops_a_child_that_ignores_its_stdin_closing() {
    // The child neither reads stdin nor exits when it closes: only SIGTERM ends it.
    let process = script(&format!("{READY}; exec sleep 30"))
        .close_grace(Duration::from_millis(200))
        .terminate_grace(PROMPTLY)
        .spawn()
        .expect("sh runs");
    let pid = process.id().expect("a running child has an id");
    let peer = Peer::start(process, Echo, Config::default());
    assert!(is_running(pid));

    // No handle was taken: closing the connection is enough.
    let started = Instant::now();
    tokio::time::timeout(PROMPTLY, peer.close())
        .await
        .expect("the connection closes");
    assert!(!is_running(pid), "the child was stopped");
    assert!(started.elapsed() < PROMPTLY);
}
