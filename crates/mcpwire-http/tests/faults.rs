//! Fault scenarios of `notes/security.md` over Streamable HTTP: the hostile server of
//! `mcpwire-test-support` behind the service, the real client in front, and between them,
//! where a scenario needs it, the TCP fault proxy. Everything runs on loopback; the counts of
//! the scenarios are scaled down so that each test takes a few seconds on a two-core machine,
//! keeping the property each one checks.
//!
//! | scenario | test |
//! |---|---|
//! | F-01 (a) reset, legacy era, SSE | [`a_reset_is_no_cancellation_and_the_results_arrive_on_resumed_streams`] |
//! | F-01 (a) reset, legacy era, JSON | [`a_reset_json_request_fails_at_once_and_its_handler_runs_on`] |
//! | F-01 (b) `notifications/cancelled` | [`cancelled_calls_stop_their_handlers_and_leave_no_task`] |
//! | F-01 (c) reset, modern era | [`a_reset_cancels_modern_calls_and_leaves_no_task`] |
//! | F-02 slow SSE consumer | [`a_slow_consumer_is_cut_off_without_slowing_other_sessions`] |
//! | F-03 resume at random points | [`streams_broken_at_random_points_resume_exactly_once_in_order`] |
//! | F-04 resume race | [`resuming_while_the_handler_stores_events_repeats_and_skips_nothing`] |
//! | F-13 graceful shutdown, SSE answers | [`shutdown_refuses_new_connections_and_ends_requests_and_streams`] |
//! | F-13 graceful shutdown, JSON answers | [`shutdown_gives_requests_the_grace_then_answers_503`] |
//! | partial lines over HTTP | [`a_session_works_through_one_byte_writes`] |

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpwire_client::{Client, ClientBuilder, EraChoice, ServerNotification};
use mcpwire_http::client::HttpClientBuilder;
use mcpwire_http::server::{Config, MemoryEventStore, StreamableHttpService, serve};
use mcpwire_server::types;
use mcpwire_test_support::hostile::{self, Controls, huge_text};
use mcpwire_test_support::proxy::FaultProxy;
use mcpwire_test_support::rng::{Rng, test_seed};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(20);

/// A short `retry`, so that resumption after a broken stream is quick.
const RETRY: Duration = Duration::from_millis(20);

/// The hostile server behind a Streamable HTTP service on a loopback port.
struct Served {
    address: SocketAddr,
    service: StreamableHttpService,
    controls: Controls,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<Result<(), mcpwire_http::server::Error>>,
}

impl Served {
    async fn start(config: Config) -> Served {
        let controls = Controls::new();
        let server = hostile::builder(&controls)
            .rpc_config(mcpwire_rpc::Config::default().max_in_flight(256))
            .build()
            .expect("the hostile server builds");
        let service = server.http_service(config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve(listener, service.clone(), async {
            let _ = stopped.await;
        }));
        Served {
            address,
            service,
            controls,
            stop: Some(stop),
            served,
        }
    }

    /// Signals shutdown, and waits until `serve` returns.
    async fn stop(mut self) {
        let _ = self.stop.take().expect("stopped once").send(());
        tokio::time::timeout(STEP, self.served)
            .await
            .expect("serve returns after shutdown")
            .expect("the serving task ends")
            .expect("serve ends without error");
    }
}

/// The configuration of the scenarios: SSE answers (so every stream can be resumed), a short
/// `retry`, and no keep-alive comments to count as traffic.
fn sse_config() -> Config {
    Config::default()
        .json_responses(false)
        .sse_retry(RETRY)
        .keep_alive(None)
}

fn client_builder() -> ClientBuilder {
    Client::builder("faults", "1.0.0").request_timeout(Some(STEP))
}

/// A client of `era` connected to `address`.
async fn connect(address: SocketAddr, era: EraChoice, builder: ClientBuilder) -> Client {
    let transport = HttpClientBuilder::new(format!("http://{address}/mcp"))
        .streamable()
        .expect("an HTTP transport");
    tokio::time::timeout(STEP, builder.era(era).connect(transport))
        .await
        .expect("connects in time")
        .expect("the handshake succeeds")
}

/// Spawns `count` calls of `tool` with `arguments`, each on a clone of `client`.
fn spawn_calls(
    client: &Client,
    tool: &'static str,
    arguments: &Value,
    count: usize,
) -> Vec<JoinHandle<Result<types::CallToolResult, mcpwire_client::Error>>> {
    (0..count)
        .map(|_| {
            let client = client.clone();
            let arguments = arguments.clone();
            tokio::spawn(async move { client.call_tool(tool, arguments).await })
        })
        .collect()
}

/// The tasks alive on this test's runtime.
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Checks that no task outlived a scenario: within a second the runtime is back to at most
/// `baseline`, give or take 1 % (and one task, for small baselines).
///
/// This is a measurement, not a synchronisation: the runtime's count of live tasks has no
/// event to wait on, so it is sampled every 10 ms for the scenario's second.
async fn assert_tasks_back_to(baseline: usize) {
    let bound = baseline + baseline / 100 + 1;
    let deadline = Instant::now() + Duration::from_secs(1);
    let back = loop {
        if alive_tasks() <= bound {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        back,
        "{} tasks alive a second after the scenario; the baseline was {baseline}",
        alive_tasks()
    );
}

/// Runs `count` quick calls at once, so that both sides hold the connections a scenario of
/// that many calls needs before the task baseline is taken.
async fn warm_up(client: &Client, count: usize) {
    let calls: Vec<_> = (0..count)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call_tool("huge", json!({"bytes": 8})).await })
        })
        .collect();
    for call in calls {
        let result = call.await.expect("the call task ends").expect("answered");
        assert_eq!(result.text(), huge_text(8));
    }
}

/// F-01 (a), legacy era: a TCP reset is not a cancellation. 100 calls (the scenario's 1000,
/// scaled down) are in flight on SSE streams when every connection is reset; no handler is
/// cancelled, the client resumes each stream with `Last-Event-ID`, and every result arrives
/// once the handlers finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_is_no_cancellation_and_the_results_arrive_on_resumed_streams() {
    const CALLS: usize = 100;
    let served = Served::start(sse_config()).await;
    let proxy = FaultProxy::start(served.address).await.expect("a proxy");
    let seen: Seen = Arc::default();
    let (counted, mut announced) = watch::channel(0_usize);
    let builder = recording_and_counting(&seen, counted);
    let client = connect(proxy.address(), EraChoice::Legacy, builder).await;
    let calls = spawn_calls(&client, "held", &json!({"announce": true}), CALLS);
    // Each call's stream has delivered its first event: every one can be resumed.
    tokio::time::timeout(STEP, announced.wait_for(|count| *count == CALLS))
        .await
        .unwrap_or_else(|_| panic!("{} of {CALLS} calls announced", seen.lock().unwrap().len()))
        .expect("the client lives");

    let before = proxy.accepted();
    assert!(proxy.reset_all() >= CALLS);
    // Each call's stream is resumed on a connection of its own.
    proxy.wait_for_accepted(before + CALLS, STEP).await;
    assert_eq!(
        served.controls.counts().cancelled,
        0,
        "a reset is no cancellation"
    );

    served.controls.release(CALLS);
    for call in calls {
        let result = tokio::time::timeout(STEP, call)
            .await
            .expect("the result arrives in time")
            .expect("the call task ends")
            .expect("the call succeeds after its stream was resumed");
        assert_eq!(result.text(), "released");
    }
    let counts = served.controls.counts();
    assert_eq!((counts.released, counts.cancelled), (CALLS, 0));
    served.stop().await;
}

/// F-01 (a), legacy era with JSON answers: a reset POST has no stream to resume, so its call
/// fails at once; its handler still runs to its end (a disconnect is no cancellation), its
/// result is dropped, and the session stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_json_request_fails_at_once_and_its_handler_runs_on() {
    const CALLS: usize = 100;
    let served = Served::start(Config::default().keep_alive(None)).await;
    let proxy = FaultProxy::start(served.address).await.expect("a proxy");
    let client = connect(proxy.address(), EraChoice::Legacy, client_builder()).await;
    let calls = spawn_calls(&client, "held", &json!({}), CALLS);
    served
        .controls
        .wait_for("every call to start", STEP, |counts| {
            counts.started == CALLS
        })
        .await;

    let reset_at = Instant::now();
    proxy.reset_all();
    for call in calls {
        let error = tokio::time::timeout(STEP, call)
            .await
            .expect("the call ends in time")
            .expect("the call task ends")
            .expect_err("a reset POST cannot be answered");
        assert!(error.is_transport(), "{error}");
    }
    let failed_after = reset_at.elapsed();
    assert!(
        failed_after < Duration::from_secs(5),
        "the calls failed {failed_after:?} after the reset"
    );

    served.controls.release(CALLS);
    let counts = served
        .controls
        .wait_for("every handler to finish", STEP, |counts| {
            counts.released == CALLS
        })
        .await;
    assert_eq!(counts.cancelled, 0, "a reset is no cancellation");
    let result = client
        .call_tool("huge", json!({"bytes": 8}))
        .await
        .expect("the session is usable");
    assert_eq!(result.text(), huge_text(8));
    served.stop().await;
}

/// F-01 (b), legacy era: 100 calls dropped by the client are cancelled with
/// `notifications/cancelled`; every handler's token fires promptly, and no task of theirs
/// outlives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_calls_stop_their_handlers_and_leave_no_task() {
    const CALLS: usize = 100;
    let served = Served::start(sse_config()).await;
    let client = connect(served.address, EraChoice::Legacy, client_builder()).await;
    warm_up(&client, CALLS).await;
    let baseline = alive_tasks();

    let calls = spawn_calls(&client, "forever", &json!({}), CALLS);
    served
        .controls
        .wait_for("every call to start", STEP, |counts| {
            counts.started == CALLS
        })
        .await;
    let dropped_at = Instant::now();
    for call in &calls {
        call.abort();
    }
    served
        .controls
        .wait_for("every handler to be cancelled", STEP, |counts| {
            counts.cancelled == CALLS
        })
        .await;
    let elapsed = dropped_at.elapsed();
    // The client posts the 100 cancellations one after the other; the budget per
    // cancellation is 100 ms, so all of them within a second is the bound.
    assert!(
        elapsed < Duration::from_secs(1),
        "cancelled after {elapsed:?}"
    );
    for call in calls {
        assert!(call.await.expect_err("aborted").is_cancelled());
    }
    assert_tasks_back_to(baseline).await;
    let result = client
        .call_tool("huge", json!({"bytes": 8}))
        .await
        .expect("the session is usable");
    assert_eq!(result.text(), huge_text(8));
    served.stop().await;
}

/// F-01 (c), modern era: a closed connection is a cancellation. 100 modern calls are in flight
/// when every connection is reset: every handler's token fires promptly, the client's calls
/// fail, and no task of theirs outlives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_cancels_modern_calls_and_leaves_no_task() {
    const CALLS: usize = 100;
    let served = Served::start(sse_config()).await;
    let proxy = FaultProxy::start(served.address).await.expect("a proxy");
    let client = connect(proxy.address(), EraChoice::Modern, client_builder()).await;
    warm_up(&client, CALLS).await;
    let baseline = alive_tasks();

    let calls = spawn_calls(&client, "forever", &json!({}), CALLS);
    served
        .controls
        .wait_for("every call to start", STEP, |counts| {
            counts.started == CALLS
        })
        .await;
    let reset_at = Instant::now();
    proxy.reset_all();
    served
        .controls
        .wait_for("every handler to be cancelled", STEP, |counts| {
            counts.cancelled == CALLS
        })
        .await;
    let elapsed = reset_at.elapsed();
    // The budget is 100 ms per request; on a loaded two-core machine the hundred resets are
    // noticed one after the other, so the bound is a second for all of them.
    assert!(
        elapsed < Duration::from_secs(1),
        "cancelled after {elapsed:?}"
    );
    for call in calls {
        let outcome = tokio::time::timeout(STEP, call)
            .await
            .expect("the call ends in time")
            .expect("the call task ends");
        let error = outcome.expect_err("a reset request is not answered");
        assert!(error.is_transport(), "{error}");
    }
    assert_tasks_back_to(baseline).await;
    served.stop().await;
}

/// What a client saw of the `flood` calls: each log message's tag and sequence number.
type Seen = Arc<Mutex<Vec<(String, u64)>>>;

/// A client builder that records every log message it is sent.
fn recording(seen: &Seen) -> ClientBuilder {
    recording_and_counting(seen, watch::Sender::new(0))
}

/// A client builder that records every log message it is sent, and counts them in `counted`
/// for a test to wait on.
fn recording_and_counting(seen: &Seen, counted: watch::Sender<usize>) -> ClientBuilder {
    let seen = Arc::clone(seen);
    client_builder().on_notification(move |notification| {
        if let ServerNotification::LoggingMessage(message) = notification {
            let tag = message.data["tag"].as_str().unwrap_or_default().to_owned();
            let seq = message.data["seq"].as_u64().expect("a sequence number");
            seen.lock().unwrap().push((tag, seq));
            counted.send_modify(|count| *count += 1);
        }
    })
}

fn flood(logs: u64, pad: u64, tag: &str) -> Value {
    json!({"logs": logs, "pad": pad, "tag": tag})
}

/// Checks that `seen` holds exactly the log messages `0..logs` of `tag`, once each and in
/// order, and nothing of another call; empties it for the next call.
fn assert_exactly_once_in_order(seen: &Seen, tag: &str, logs: u64, context: &str) {
    let mut seen = seen.lock().unwrap();
    let foreign: Vec<_> = seen.iter().filter(|(other, _)| other != tag).collect();
    assert!(
        foreign.is_empty(),
        "{context}: messages of other calls: {foreign:?}"
    );
    let sequence: Vec<u64> = seen.iter().map(|(_, seq)| *seq).collect();
    if sequence != (0..logs).collect::<Vec<_>>() {
        let repeated = sequence
            .windows(2)
            .filter(|pair| pair[1] <= pair[0])
            .count();
        panic!(
            "{context}: {} of {logs} messages, {repeated} out of order or repeated",
            sequence.len()
        );
    }
    seen.clear();
}

/// Calls `flood` through a proxy that resets the stream's connection after a random number of
/// bytes, `runs` times, and checks that every message arrives exactly once and in order.
async fn resume_after_random_resets(runs: usize, logs: u64, pad: u64, seed: u64) {
    let served = Served::start(sse_config()).await;
    let proxy = FaultProxy::start(served.address).await.expect("a proxy");
    let seen: Seen = Arc::default();
    let client = connect(proxy.address(), EraChoice::Legacy, recording(&seen)).await;
    client
        .set_logging_level(types::LoggingLevel::Debug)
        .await
        .expect("the level is set");

    // A call without a fault measures how many bytes a call's answer takes, and where its
    // priming event ends: a reset before that leaves the client no event id to resume from.
    proxy.capture();
    let result = client.call_tool("flood", flood(logs, pad, "measure")).await;
    assert_eq!(result.expect("answered").text(), "flooded measure");
    let answer = proxy.take_captured();
    let answer_bytes = answer.len() as u64;
    let priming_end = priming_end(&answer);
    assert_exactly_once_in_order(&seen, "measure", logs, "without a fault");

    let mut rng = Rng::new(seed);
    let mut unresumable = 0;
    for run in 0..runs {
        let tag = format!("run{run}");
        // Every third run breaks within the first 400 bytes: the response head, the priming
        // event, or the start of the first message.
        let at = if run % 3 == 0 {
            rng.below(400)
        } else {
            rng.below(answer_bytes * 9 / 10)
        };
        let context = format!(
            "seed {seed}, run {run}, reset after {at} of {answer_bytes} bytes, \
             the priming event ends at {priming_end}"
        );
        let accepted = proxy.accepted();
        proxy.reset_after(at);
        let outcome = tokio::time::timeout(STEP, client.call_tool("flood", flood(logs, pad, &tag)))
            .await
            .unwrap_or_else(|_| panic!("{context}: the call ends in time"));
        assert!(!proxy.reset_pending(), "{context}: the reset happened");
        match outcome {
            Ok(result) => {
                assert_eq!(result.text(), format!("flooded {tag}"), "{context}");
                assert_exactly_once_in_order(&seen, &tag, logs, &context);
            }
            // Without the priming event's id nothing can be resumed, and a request is never
            // sent twice: the call fails, explicitly and at once. (Later answers have longer
            // event ids than the measured one: the margin covers their extra digits.)
            Err(error) if at < priming_end + PRIMING_MARGIN => {
                assert!(error.is_transport(), "{context}: {error}");
                assert_exactly_once_in_order(&seen, &tag, 0, &context);
                unresumable += 1;
            }
            Err(error) => panic!("{context}: the call fails: {error}"),
        }
        let reconnections = proxy.accepted() - accepted;
        assert!(
            reconnections <= 2,
            "{context}: {reconnections} new connections for one fault"
        );
    }
    assert!(
        unresumable < runs / 2,
        "{unresumable} of {runs} runs broke before any event"
    );
    assert_eq!(proxy.resets(), runs);
    served.stop().await;
}

/// How many bytes later than in the measured answer a later answer's priming event may end.
const PRIMING_MARGIN: u64 = 16;

/// Where the first SSE event of `answer` (the priming event, which carries `retry`) ends.
fn priming_end(answer: &[u8]) -> u64 {
    let retry = answer
        .windows(7)
        .position(|window| window == b"retry: ")
        .expect("the answer has a priming event");
    let end = answer[retry..]
        .windows(2)
        .position(|window| window == b"\n\n")
        .expect("the priming event ends");
    (retry + end + 2) as u64
}

/// F-03: a stream of 300 sequenced messages and its result (the scenario's 10 000, scaled
/// down), broken by a reset after a random byte in each of 50 runs,
/// including within the response head and the priming event: the client resumes with
/// `Last-Event-ID` and sees every message exactly once and in order, nothing of another
/// stream, the result once, and needs at most one new connection per fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_broken_at_random_points_resume_exactly_once_in_order() {
    resume_after_random_resets(50, 300, 32, test_seed(0xF03)).await;
}

/// F-04: the resume race. The handler keeps storing events while the stream breaks and the
/// client resumes, 100 times (the scenario's 1000, scaled down), on two worker threads so that
/// storing and replaying run at the same time: no message is repeated or lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_the_handler_stores_events_repeats_and_skips_nothing() {
    resume_after_random_resets(100, 40, 0, test_seed(0xF04)).await;
}

/// F-02: a client that stops reading its stream while the server sends it 600 KiB of log
/// messages (the scenario's 10 MB, scaled to fit the event store's per-stream bound), beside
/// 100 sessions of normal traffic. The stalled connection is closed after the slow-consumer
/// timeout, the client resumes and gets every message in order and the result; the other
/// sessions are never held up by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_cut_off_without_slowing_other_sessions() {
    const SESSIONS: usize = 100;
    const CALLS_PER_SESSION: usize = 5;
    const LOGS: u64 = 600;
    let slow_consumer_timeout = Duration::from_secs(2);
    let store = Arc::new(MemoryEventStore::new());
    let config = sse_config()
        .slow_consumer_timeout(slow_consumer_timeout)
        .event_store(store.clone());
    let served = Served::start(config).await;
    // A small receive buffer keeps the kernel from absorbing what the client does not read.
    let proxy = FaultProxy::builder(served.address)
        .upstream_receive_buffer(4096)
        .start()
        .await
        .expect("a proxy");
    let seen: Seen = Arc::default();
    let slow = connect(proxy.address(), EraChoice::Legacy, recording(&seen)).await;
    slow.set_logging_level(types::LoggingLevel::Debug)
        .await
        .expect("the level is set");
    let mut others = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        others.push(connect(served.address, EraChoice::Legacy, client_builder()).await);
    }
    let baseline = latencies(&others, CALLS_PER_SESSION).await;

    proxy.stall();
    let flooding = {
        let slow = slow.clone();
        tokio::spawn(async move { slow.call_tool("flood", flood(LOGS, 1000, "slow")).await })
    };
    let stalled = latencies(&others, CALLS_PER_SESSION).await;
    let (baseline_p99, stalled_p99) = (percentile(&baseline, 99), percentile(&stalled, 99));
    // Held up by the stalled stream, a call would wait for the slow-consumer timeout.
    assert!(
        *stalled.last().expect("calls ran") < slow_consumer_timeout,
        "a call of another session took {:?}",
        stalled.last()
    );
    assert!(
        stalled_p99 < baseline_p99 * 2 + Duration::from_millis(100),
        "p99 of the other sessions: {stalled_p99:?} beside the slow consumer, {baseline_p99:?} before"
    );

    // The server gives up on the stalled connection and keeps storing the stream's events:
    // the handler finishes while the client still reads nothing.
    served
        .controls
        .wait_for("the flood to end", STEP, |counts| counts.floods == 1)
        .await;
    // The flood (about 600 KiB) is far more than the engine's and the stream's queues and
    // the sockets' buffers hold: it ended because the server closed the stalled connection.
    assert!(
        store.len() as u64 > LOGS,
        "every message and the result are stored"
    );
    proxy.release();
    let result = tokio::time::timeout(STEP, flooding)
        .await
        .expect("the slow call ends in time")
        .expect("the call task ends")
        .expect("the result arrives on the resumed stream");
    assert_eq!(result.text(), "flooded slow");
    assert_exactly_once_in_order(&seen, "slow", LOGS, "the slow consumer");
    served.stop().await;
}

/// Runs `calls` sequential calls on every client at once; returns each call's latency,
/// sorted.
async fn latencies(clients: &[Client], calls: usize) -> Vec<Duration> {
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(calls);
                for _ in 0..calls {
                    let started = Instant::now();
                    let result = client.call_tool("huge", json!({"bytes": 64})).await;
                    assert_eq!(result.expect("answered").text(), huge_text(64));
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(
            tokio::time::timeout(STEP, task)
                .await
                .expect("the calls end in time")
                .expect("the task ends"),
        );
    }
    all.sort();
    all
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let index = (sorted.len() * percent / 100).min(sorted.len() - 1);
    sorted[index]
}

/// F-13: graceful shutdown with 50 requests in flight on SSE streams and 100 open standalone
/// streams (the scenario's 500 and 1000, scaled down). New connections are refused at once;
/// every stream gets a last `retry` field and ends cleanly; the requests, whose handlers never
/// finish, are cut when the grace period ends (their streams end the same way, and the client's
/// resumption finds the server gone); `serve` returns without error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_refuses_new_connections_and_ends_requests_and_streams() {
    const REQUESTS: usize = 50;
    const STREAMS: usize = 100;
    let grace = Duration::from_secs(2);
    let served = Served::start(sse_config().shutdown_grace(grace)).await;
    let address = served.address;
    let client = connect(
        address,
        EraChoice::Legacy,
        client_builder().request_timeout(None),
    )
    .await;
    let calls = spawn_calls(&client, "held", &json!({}), REQUESTS);
    served
        .controls
        .wait_for("every request to start", STEP, |counts| {
            counts.started == REQUESTS
        })
        .await;
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS / 4 {
        let session = raw_session(address).await;
        for _ in 0..4 {
            streams.push(raw_stream(address, &session).await);
        }
    }
    let service = served.service.clone();

    let stopping = Instant::now();
    let stopped = tokio::spawn(served.stop());
    // The listener closes before the service starts to shut down, which ends the standalone
    // streams first: once one has ended, a new connection is refused.
    let mut first = streams.pop().expect("a stream");
    let rest = tokio::time::timeout(STEP, read_to_end(&mut first))
        .await
        .expect("the stream ends")
        .expect("cleanly");
    assert!(rest.ends_with(b"retry: 20\n\n"), "{rest:?}");
    let refused_after = stopping.elapsed();
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "new connections are refused"
    );
    assert!(
        refused_after < Duration::from_secs(1),
        "refused after {refused_after:?}"
    );
    for mut stream in streams {
        let rest = tokio::time::timeout(STEP, read_to_end(&mut stream))
            .await
            .expect("every stream ends")
            .expect("a stream ends cleanly, not with an error");
        assert_eq!(
            rest, b"retry: 20\n\n",
            "the last block tells when to come back"
        );
    }

    for call in calls {
        let outcome = tokio::time::timeout(grace + STEP, call)
            .await
            .expect("every request ends")
            .expect("the call task ends");
        let error = outcome.expect_err("a request cut by shutdown fails");
        assert!(error.is_transport(), "{error}");
    }
    let ended_after = stopping.elapsed();
    assert!(
        ended_after >= grace && ended_after < grace + Duration::from_secs(2),
        "requests were cut when the grace period ended, not {ended_after:?} after the stop"
    );
    tokio::time::timeout(STEP, stopped)
        .await
        .expect("serve returns")
        .expect("serve ends without error");
    assert_eq!(service.session_count(), 0);
}

/// F-13 with JSON answers: during the grace period a session's new request gets `503`, and
/// requests in flight that finish are answered as usual; those still running when it ends get
/// `503` with `Retry-After` and a `-32603` error under their id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_requests_the_grace_then_answers_503() {
    const REQUESTS: usize = 20;
    const FINISHING: usize = 10;
    let grace = Duration::from_secs(2);
    let served = Served::start(Config::default().sse_retry(RETRY).shutdown_grace(grace)).await;
    let address = served.address;
    let session = raw_session(address).await;
    let calls: Vec<_> = (0..REQUESTS)
        .map(|index| {
            let session = session.clone();
            let call = held_call(100 + index);
            tokio::spawn(
                async move { raw_request(address, "POST", Some(&session), Some(call)).await },
            )
        })
        .collect();
    served
        .controls
        .wait_for("every request to start", STEP, |counts| {
            counts.started == REQUESTS
        })
        .await;
    let mut standalone = raw_stream(address, &session).await;
    // Opened, and served once, before the stop: a connection that outlives the listener. (A
    // connection only opened might still wait in the listener's backlog when it closes.)
    let mut open = raw_connection(address).await;
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let pong = send_on(&mut open, address, "POST", Some(&session), Some(ping)).await;
    assert_eq!(pong.status(), 200);
    body_json(pong).await;
    let controls = served.controls.clone();

    let stopping = Instant::now();
    let stopped = tokio::spawn(served.stop());
    let rest = tokio::time::timeout(STEP, read_to_end(&mut standalone))
        .await
        .expect("the standalone stream ends")
        .expect("cleanly");
    assert_eq!(rest, b"retry: 20\n\n");
    // Draining: the session's new request is refused, its requests in flight go on.
    let refused = send_on(
        &mut open,
        address,
        "POST",
        Some(&session),
        Some(held_call(1)),
    )
    .await;
    let refused = expect_shutting_down(refused, 1).await;
    assert!(refused.contains("shutting down"), "{refused}");
    controls.release(FINISHING);

    let mut answered = 0;
    let mut cut = 0;
    for (index, call) in calls.into_iter().enumerate() {
        let response = tokio::time::timeout(grace + STEP, call)
            .await
            .expect("every request is answered")
            .expect("the request task ends");
        if response.status() == 200 {
            let body = body_json(response).await;
            assert_eq!(body["result"]["content"][0]["text"], "released", "{body}");
            answered += 1;
        } else {
            expect_shutting_down(response, 100 + index).await;
            cut += 1;
        }
    }
    assert_eq!((answered, cut), (FINISHING, REQUESTS - FINISHING));
    let ended_after = stopping.elapsed();
    assert!(
        ended_after >= grace && ended_after < grace + Duration::from_secs(2),
        "the rest were cut when the grace period ended, not {ended_after:?} after the stop"
    );
    tokio::time::timeout(STEP, stopped)
        .await
        .expect("serve returns")
        .expect("serve ends without error");
}

/// A `tools/call` of `held` with this id.
fn held_call(id: usize) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "held", "arguments": {}}})
}

/// Checks a `503` with `Retry-After` and a `-32603` error under `id`; returns its message.
async fn expect_shutting_down(
    response: hyper::Response<hyper::body::Incoming>,
    id: usize,
) -> String {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body = body_json(response).await;
    assert_eq!(body["id"], id, "{body}");
    assert_eq!(body["error"]["code"], -32603, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

async fn body_json(response: hyper::Response<hyper::body::Incoming>) -> Value {
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("the body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("a JSON body")
}

/// A session opened with raw HTTP: its id.
async fn raw_session(address: SocketAddr) -> String {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
    });
    let response = raw_request(address, "POST", None, Some(initialize)).await;
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = raw_request(address, "POST", Some(&session), Some(initialized)).await;
    assert_eq!(response.status(), 202);
    session
}

/// An open standalone stream of `session`, its priming event read.
async fn raw_stream(address: SocketAddr, session: &str) -> hyper::body::Incoming {
    let response = raw_request(address, "GET", Some(session), None).await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let priming = tokio::time::timeout(STEP, http_body_util::BodyExt::frame(&mut body))
        .await
        .expect("the priming event arrives")
        .expect("a frame")
        .expect("no error");
    assert!(
        priming
            .into_data()
            .is_ok_and(|data| data.starts_with(b"id: "))
    );
    body
}

/// Reads a body to its end; returns what it carried.
async fn read_to_end(body: &mut hyper::body::Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut rest = Vec::new();
    while let Some(frame) = http_body_util::BodyExt::frame(body).await {
        if let Ok(data) = frame?.into_data() {
            rest.extend_from_slice(&data);
        }
    }
    Ok(rest)
}

/// One request on a connection of its own, so that each stream holds its own connection.
async fn raw_request(
    address: SocketAddr,
    method: &str,
    session: Option<&str>,
    body: Option<Value>,
) -> hyper::Response<hyper::body::Incoming> {
    let mut connection = raw_connection(address).await;
    send_on(&mut connection, address, method, session, body).await
}

/// An HTTP/1.1 connection to `address`.
async fn raw_connection(
    address: SocketAddr,
) -> hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("an HTTP/1.1 connection");
    tokio::spawn(connection);
    sender
}

/// One request on `connection`.
async fn send_on(
    connection: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    address: SocketAddr,
    method: &str,
    session: Option<&str>,
    body: Option<Value>,
) -> hyper::Response<hyper::body::Incoming> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{address}/mcp"))
        .header("host", address.to_string())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let body = body.map_or_else(bytes::Bytes::new, |body| {
        bytes::Bytes::from(body.to_string())
    });
    let request = request
        .body(http_body_util::Full::new(body))
        .expect("a request");
    tokio::time::timeout(STEP, async {
        connection.ready().await?;
        connection.send_request(request).await
    })
    .await
    .expect("answered in time")
    .expect("answered")
}

/// Partial lines over HTTP: a proxy that writes every byte on its own, both ways, splits
/// every request head, body, JSON answer and SSE event at every position; a session still
/// initializes, and its calls, with their progress and log messages, arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_works_through_one_byte_writes() {
    for config in [Config::default(), sse_config()] {
        let served = Served::start(config).await;
        let proxy = FaultProxy::builder(served.address)
            .one_byte_writes(true)
            .start()
            .await
            .expect("a proxy");
        let seen: Seen = Arc::default();
        let client = connect(proxy.address(), EraChoice::Legacy, recording(&seen)).await;
        client
            .set_logging_level(types::LoggingLevel::Debug)
            .await
            .expect("the level is set");
        let result = client
            .call_tool("flood", flood(20, 100, "bytes"))
            .await
            .expect("answered");
        assert_eq!(result.text(), "flooded bytes");
        assert_exactly_once_in_order(&seen, "bytes", 20, "one-byte writes");
        let result = client
            .call_tool("huge", json!({"bytes": 16 * 1024}))
            .await
            .expect("answered");
        assert!(result.text() == huge_text(16 * 1024));
        served.stop().await;
    }
}
