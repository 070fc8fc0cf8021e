//! Fault scenarios of `notes/security.md` that need the server and the client together, run
//! against the hostile server of `mcpwire-test-support` over every transport: stdio framing on
//! an in-memory pipe, Streamable HTTP answering with JSON bodies and with SSE streams (legacy
//! era), and the stateless lane (modern era), each on loopback.
//!
//! - **F-10, very large results**: results of 1 MiB and of just under the 4 MiB message limit
//!   (the limit every mcpwire transport reads with; the scenario's 16 MiB is another
//!   implementation's) arrive intact; one byte over the limit is answered at once with a clean
//!   `-32603` saying the result is too large, and the session stays usable.
//! - **Hostile handlers**: a panicking handler and one returning values nested beyond the
//!   parser's depth limit fail only their own call, promptly.
//! - **F-11, notification storm**: a handler sends 10 000 progress updates and 1 000 log
//!   messages (the scenario's 10^6 and 10^5, scaled down for a small CI machine), then
//!   returns: every log message arrives once and in order, progress only increases and is
//!   coalesced (a handful of updates reach the client, the last one the final value), and
//!   the result arrives within the scenario's 100 ms of the handler returning.
//! - **F-14, client timeouts**: 100 calls (the scenario's 1000, scaled down) the server never
//!   answers each fail at their timeout exactly (paused time), each is cancelled on the wire, and
//!   no pending slot is left behind.

#![cfg(feature = "http")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_client::{CallOptions, Client, ClientBuilder, EraChoice, ServerNotification};
use mcpwire_jsonrpc::{DEFAULT_MAX_SIZE, ErrorCode};
use mcpwire_server::{HttpConfig, Server, types};
use mcpwire_test_support::hostile::{self, Controls, huge_text};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long any one step may take before the test fails: generous, since a loaded CI
/// machine is slow, and short enough that a hang is reported rather than waited out.
const STEP: Duration = Duration::from_secs(20);

/// How the client reaches the server.
#[derive(Clone, Copy, Debug)]
enum Wire {
    /// stdio framing over an in-memory pipe, legacy era.
    Stdio,
    /// Streamable HTTP, legacy era, a request answered with one JSON body.
    HttpJson,
    /// Streamable HTTP, legacy era, every request answered with an SSE stream.
    HttpSse,
    /// Streamable HTTP, modern era: the stateless lane.
    Modern,
}

/// A connected client; the server runs until this is dropped.
struct Connected {
    client: Client,
    _stop: Option<oneshot::Sender<()>>,
}

async fn connect(wire: Wire, server: &Server, builder: ClientBuilder) -> Connected {
    let connecting = async {
        match wire {
            Wire::Stdio => {
                let (client_pipe, server_pipe) = tokio::io::duplex(64 * 1024);
                let (server_read, server_write) = tokio::io::split(server_pipe);
                let (client_read, client_write) = tokio::io::split(client_pipe);
                server.serve(mcpwire_stdio::StdioTransport::new(
                    server_read,
                    server_write,
                ));
                let transport = mcpwire_stdio::StdioTransport::new(client_read, client_write);
                let client = builder.era(EraChoice::Legacy).connect(transport).await;
                Connected {
                    client: client.expect("the handshake succeeds"),
                    _stop: None,
                }
            }
            Wire::HttpJson | Wire::HttpSse | Wire::Modern => {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
                let address = listener.local_addr().expect("an address");
                let config = HttpConfig::default().json_responses(!matches!(wire, Wire::HttpSse));
                let (stop, stopped) = oneshot::channel::<()>();
                let serving = server.clone();
                tokio::spawn(async move {
                    serving
                        .serve_http(listener)
                        .config(config)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                });
                let url = format!("http://{address}/mcp");
                let transport = mcpwire_http::client::HttpClientBuilder::new(url)
                    .streamable()
                    .expect("an HTTP transport");
                let era = match wire {
                    Wire::Modern => EraChoice::Modern,
                    _ => EraChoice::Legacy,
                };
                let client = builder.era(era).connect(transport).await;
                Connected {
                    client: client.expect("the handshake succeeds"),
                    _stop: Some(stop),
                }
            }
        }
    };
    tokio::time::timeout(STEP, connecting)
        .await
        .expect("connects in time")
}

fn client_builder() -> ClientBuilder {
    Client::builder("faults", "1.0.0")
}

/// The call's text, failing the test on any error.
async fn call_text(client: &Client, tool: &str, arguments: serde_json::Value) -> String {
    let result = tokio::time::timeout(STEP, client.call_tool(tool, arguments))
        .await
        .unwrap_or_else(|_| panic!("`{tool}` is answered in time"))
        .unwrap_or_else(|error| panic!("`{tool}` fails: {error}"));
    assert_eq!(result.is_error, None, "`{tool}`: {result:?}");
    result.text()
}

/// The `-32603` a call fails with, failing the test on anything else.
async fn internal_error(client: &Client, tool: &str, arguments: serde_json::Value) -> String {
    let error = tokio::time::timeout(STEP, client.call_tool(tool, arguments))
        .await
        .unwrap_or_else(|_| panic!("`{tool}` is answered in time, not left to time out"))
        .expect_err("the call fails");
    let remote = error
        .remote()
        .unwrap_or_else(|| panic!("the server answered `{tool}` with an error: {error}"));
    assert_eq!(remote.code, ErrorCode::INTERNAL_ERROR, "{error}");
    remote.message.clone()
}

/// F-10: results up to the limit arrive intact; one over it fails cleanly and the session
/// goes on.
async fn very_large_results(wire: Wire) {
    let (server, _controls) = hostile::server();
    let connected = connect(wire, &server, client_builder()).await;
    let client = &connected.client;
    // The envelope and the result's own members take well under 1 KiB.
    for bytes in [1024 * 1024, DEFAULT_MAX_SIZE - 1024] {
        let text = call_text(client, "huge", json!({ "bytes": bytes })).await;
        assert_eq!(text.len(), bytes, "{wire:?}");
        assert!(
            text == huge_text(bytes),
            "{wire:?}: the {bytes}-byte text changed on the way"
        );
    }
    let message = internal_error(client, "huge", json!({ "bytes": DEFAULT_MAX_SIZE + 1 })).await;
    assert!(
        message.contains("result is too large"),
        "{wire:?}: {message}"
    );
    assert_eq!(
        call_text(client, "huge", json!({"bytes": 16})).await,
        huge_text(16)
    );
}

/// A handler that panics, and one whose result nests deeper than any peer parses, fail only
/// their own calls, at once; calls beside them are answered.
async fn hostile_handlers_fail_only_their_own_calls(wire: Wire) {
    let (server, _controls) = hostile::server();
    let connected = connect(wire, &server, client_builder()).await;
    let client = &connected.client;
    let (panicked, nested, beside) = tokio::join!(
        internal_error(client, "panic", json!({})),
        internal_error(client, "nested", json!({"depth": hostile::MAX_DEPTH})),
        call_text(client, "huge", json!({"bytes": 32})),
    );
    assert!(!panicked.is_empty(), "{wire:?}");
    assert!(nested.contains("nested too deeply"), "{wire:?}: {nested}");
    assert_eq!(beside, huge_text(32), "{wire:?}");
    // A depth the parser takes is no fault.
    let shallow = tokio::time::timeout(STEP, client.call_tool("nested", json!({"depth": 32})))
        .await
        .expect("answered in time")
        .expect("a nesting within the limit is answered");
    let mut depth = 0;
    let mut value = &shallow.structured_content.expect("structured")["nested"];
    while let Some(inner) = value.as_array().and_then(|array| array.first()) {
        depth += 1;
        value = inner;
    }
    assert_eq!(depth + 1, 32, "{wire:?}");
    assert_eq!(
        call_text(client, "huge", json!({"bytes": 8})).await,
        huge_text(8)
    );
}

/// F-11: a storm of notifications reaches the client whole and in order, and the result
/// follows promptly once the handler returns.
async fn a_notification_storm_ends_with_its_result(wire: Wire) {
    const PROGRESS: u32 = 10_000;
    const LOGS: u32 = 1_000;
    let controls = Controls::new();
    let server = hostile::builder(&controls).build().expect("builds");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let seen_logs = Arc::clone(&logs);
    let builder = client_builder().on_notification(move |notification| {
        if let ServerNotification::LoggingMessage(message) = notification {
            let seq = message.data["seq"].as_u64().expect("a sequence number");
            assert_eq!(message.data["tag"], "storm");
            seen_logs.lock().unwrap().push(seq);
        }
    });
    let connected = connect(wire, &server, builder).await;
    let client = &connected.client;
    // The modern era sends log messages only at a level the request names.
    client
        .set_logging_level(types::LoggingLevel::Debug)
        .await
        .expect("the level is set");

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen_progress = Arc::clone(&progress);
    let options = CallOptions::new().on_progress(move |update| {
        seen_progress.lock().unwrap().push(update.progress);
    });
    // When the handler returns, by the clock the result is compared with.
    let returned = {
        let controls = controls.clone();
        tokio::spawn(async move {
            controls
                .wait_for("the storm to end", STEP, |counts| counts.floods == 1)
                .await;
            tokio::time::Instant::now()
        })
    };
    let call = client
        .call_tool(
            "flood",
            json!({"logs": LOGS, "progress": PROGRESS, "pad": 64, "tag": "storm"}),
        )
        .options(options);
    let result = tokio::time::timeout(STEP, call)
        .await
        .expect("the storm ends in time")
        .expect("the call succeeds");
    let answered = tokio::time::Instant::now();
    assert_eq!(result.text(), "flooded storm", "{wire:?}");
    let returned = returned.await.expect("the watcher ends");
    let lag = answered.saturating_duration_since(returned);
    // Every queue of both peers is bounded, and progress is coalesced (one update per 50 ms
    // interval), so when the handler returns little is ahead of the result: without
    // coalescing, the sockets held megabytes of stale progress and the result came a second
    // later.
    assert!(
        lag < Duration::from_millis(100),
        "{wire:?}: the result came {lag:?} after the handler returned"
    );

    let logs = logs.lock().unwrap().clone();
    assert_eq!(
        logs,
        (0..u64::from(LOGS)).collect::<Vec<_>>(),
        "{wire:?}: every log message once, in order, before the result"
    );
    let progress = progress.lock().unwrap().clone();
    assert!(!progress.is_empty(), "{wire:?}");
    assert!(
        progress.len() < 100,
        "{wire:?}: {} progress updates of {PROGRESS} reached the client, not coalesced",
        progress.len()
    );
    assert!(
        progress.windows(2).all(|pair| pair[0] < pair[1]),
        "{wire:?}: progress only increases"
    );
    assert_eq!(
        progress.last().copied(),
        Some(f64::from(PROGRESS)),
        "{wire:?}"
    );
    assert_eq!(
        call_text(client, "huge", json!({"bytes": 8})).await,
        huge_text(8)
    );
}

macro_rules! over_every_wire {
    ($($scenario:ident),* $(,)?) => {
        mod stdio {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::Wire::Stdio).await })*
        }
        mod http_json {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::Wire::HttpJson).await })*
        }
        mod http_sse {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::Wire::HttpSse).await })*
        }
        mod modern_http {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::Wire::Modern).await })*
        }
    };
}

over_every_wire!(
    very_large_results,
    hostile_handlers_fail_only_their_own_calls,
    a_notification_storm_ends_with_its_result,
);

/// F-14: calls the server never answers fail at their timeout exactly, each is cancelled on
/// the wire (the handler's token fires), and the pending map is left empty: as many calls as
/// it holds run at once afterwards.
async fn unanswered_calls_time_out(wire: Wire) {
    const CALLS: usize = 100;
    let timeout = Duration::from_secs(5);
    let controls = Controls::new();
    let server = hostile::builder(&controls)
        .rpc_config(mcpwire_rpc::Config::default().max_in_flight(CALLS))
        .build()
        .expect("builds");
    let builder = client_builder()
        .request_timeout(Some(timeout))
        .engine_config(mcpwire_rpc::Config::default().max_pending(CALLS));
    let connected = connect(wire, &server, builder).await;
    let client = &connected.client;

    let started = tokio::time::Instant::now();
    let calls = (0..CALLS).map(|_| async {
        let outcome = client.call_tool("forever", json!({})).await;
        (outcome, started.elapsed())
    });
    let outcomes = futures_join_all(calls).await;
    for (outcome, elapsed) in outcomes {
        let error = outcome.expect_err("nobody answers");
        assert!(error.is_timeout(), "{wire:?}: {error}");
        // Time is paused: the only time that passes is the timeout's.
        assert_eq!(elapsed, timeout, "{wire:?}");
    }
    controls
        .wait_for("every call to be cancelled", STEP, |counts| {
            counts.started == CALLS && counts.cancelled == CALLS
        })
        .await;
    // A leaked pending entry would hold a slot: the next call would wait for it until its
    // own timeout.
    let again = (0..CALLS).map(|_| call_text(client, "huge", json!({"bytes": 4})));
    for text in futures_join_all(again).await {
        assert_eq!(text, huge_text(4));
    }
    assert_eq!(started.elapsed(), timeout, "{wire:?}: nothing waited");
}

#[tokio::test(start_paused = true)]
async fn unanswered_calls_time_out_over_stdio() {
    unanswered_calls_time_out(Wire::Stdio).await;
}

/// Runs every future to its end, concurrently, and returns their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(|future| Some(Box::pin(future))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|output| output.expect("every future ended"))
        .collect()
}
