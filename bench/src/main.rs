//! `mcpwire-bench`: the HTTP load generator of `cargo xtask bench`.
//!
//! `mcpwire-bench http URL --era legacy|modern --clients C` runs C clients, each on its own
//! TCP connection, calling the `echo` tool back to back until the time (`--duration`) or the
//! request count (`--requests`) is spent, after unmeasured warm-up calls. Every answer is
//! checked: a JSON-RPC error, a tool error or an echo of the wrong length counts as an error,
//! by kind. Only loopback endpoints are accepted.
//!
//! The last line on stdout is one JSON object: `ok`, `errors`, `error_kinds`, `wall_s`,
//! `rps`, `latency_us` (`p50`, `p90`, `p99`, `max`, `mean`), `tcp_connects`, `sse_answers`,
//! and, over the measured phase, `server_cpu_us_per_req` (the sum over each `--pid`) and
//! `redis_commands_per_req` (with `--redis-port`).

mod connection;
mod era;
mod probe;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::connection::{Connection, Endpoint};
use crate::era::Era;

/// The most requests a run may make, whatever `--requests` says.
const MAX_REQUESTS: u64 = 10_000_000;
/// The longest a run may measure, whatever `--duration` says.
const MAX_SECONDS: f64 = 600.0;
/// The most clients a run may start.
const MAX_CLIENTS: usize = 1024;
/// A client stops after this many errors in a row: the server is not answering.
const MAX_ERRORS_IN_A_ROW: u32 = 100;

#[derive(Parser)]
#[command(
    name = "mcpwire-bench",
    about = "HTTP load generator of `cargo xtask bench`"
)]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Clients calling `echo` back to back over Streamable HTTP.
    Http(HttpOptions),
}

#[derive(clap::Args, Clone)]
struct HttpOptions {
    /// The MCP endpoint, on loopback, e.g. http://127.0.0.1:3000/mcp.
    url: String,
    /// The protocol era of the clients.
    #[arg(long, value_enum)]
    era: Era,
    /// Concurrent clients, each with its own connection (and, legacy, its own session).
    #[arg(short, long, default_value_t = 16)]
    clients: usize,
    /// Bytes of the echoed text.
    #[arg(short, long, default_value_t = 100)]
    bytes: usize,
    /// Seconds of measurement, at most.
    #[arg(short, long, default_value_t = 5.0)]
    duration: f64,
    /// Measured requests, at most.
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    requests: u64,
    /// Unmeasured requests first, spread over the clients.
    #[arg(short, long, default_value_t = 500)]
    warmup: u64,
    /// Seconds a request may take before it counts as an error.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// A server process whose CPU time counts (repeatable: the sum is reported).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// The loopback port of the deployment's Redis, to count its commands.
    #[arg(long)]
    redis_port: Option<u16>,
}

fn main() {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .and_then(|runtime| match cli.command {
            Mode::Http(options) => runtime.block_on(run_http(options)),
        });
    match outcome {
        Ok(report) => println!("{report}"),
        Err(error) => {
            eprintln!("mcpwire-bench: {error:#}");
            println!("{}", json!({ "error": format!("{error:#}") }));
            std::process::exit(1);
        }
    }
}

/// What one client saw during the measured phase.
#[derive(Default)]
struct ClientReport {
    latencies_ns: Vec<u64>,
    error_kinds: BTreeMap<String, u64>,
    connects: u64,
    sse_answers: u64,
}

async fn run_http(options: HttpOptions) -> anyhow::Result<Value> {
    let endpoint = Endpoint::parse(&options.url)?;
    if options.clients == 0 || options.clients > MAX_CLIENTS {
        bail!("`--clients` takes 1 to {MAX_CLIENTS}");
    }
    let options = Arc::new(HttpOptions {
        requests: options.requests.min(MAX_REQUESTS),
        duration: options.duration.clamp(0.01, MAX_SECONDS),
        timeout: options.timeout.clamp(0.01, MAX_SECONDS),
        warmup: options.warmup.min(MAX_REQUESTS),
        ..options
    });
    let text = Arc::new("x".repeat(options.bytes));
    let issued = Arc::new(AtomicU64::new(0));
    let start_line = Arc::new(tokio::sync::Barrier::new(options.clients + 1));
    let (deadline_sender, deadline) = tokio::sync::watch::channel(None::<Instant>);
    let mut clients = Vec::new();
    for index in 0..options.clients {
        let client = Client {
            options: Arc::clone(&options),
            text: Arc::clone(&text),
            issued: Arc::clone(&issued),
            start_line: Arc::clone(&start_line),
            deadline: deadline.clone(),
            index,
        };
        clients.push(tokio::spawn(client.run(Connection::new(endpoint.clone()))));
    }

    start_line.wait().await;
    let cpu_before = probe::total_cpu_seconds(&options.pids);
    let redis_before = options.redis_port.and_then(probe::redis_commands);
    let started = Instant::now();
    deadline_sender.send_replace(Some(started + Duration::from_secs_f64(options.duration)));
    let mut reports = Vec::new();
    for client in clients {
        reports.push(client.await.context("a client panicked")?);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu_after = probe::total_cpu_seconds(&options.pids);
    let redis_after = options.redis_port.and_then(probe::redis_commands);

    let mut latencies: Vec<u64> = Vec::new();
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    let (mut connects, mut sse_answers) = (0, 0);
    for report in reports {
        latencies.extend(report.latencies_ns);
        for (kind, count) in report.error_kinds {
            *error_kinds.entry(kind).or_default() += count;
        }
        connects += report.connects;
        sse_answers += report.sse_answers;
    }
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    let per_request = |total: Option<f64>| total.filter(|_| ok > 0).map(|total| total / ok as f64);
    let cpu = cpu_before
        .zip(cpu_after)
        .map(|(before, after)| (after - before) * 1e6);
    // Minus the one command that is the second reading.
    let redis = redis_before
        .zip(redis_after)
        .map(|(before, after)| after.saturating_sub(before).saturating_sub(1) as f64);
    Ok(json!({
        "mode": "http",
        "era": options.era.name(),
        "protocol_version": options.era.version(),
        "clients": options.clients,
        "bytes": options.bytes,
        "ok": ok,
        "errors": error_kinds.values().sum::<u64>(),
        "error_kinds": error_kinds,
        "wall_s": wall,
        "rps": ok as f64 / wall,
        "latency_us": summarize(&latencies),
        "tcp_connects": connects,
        "sse_answers": sse_answers,
        "server_cpu_us_per_req": if options.pids.is_empty() { None } else { per_request(cpu) },
        "redis_commands_per_req": per_request(redis),
    }))
}

/// Percentiles of sorted latencies in nanoseconds, in microseconds.
fn summarize(sorted_ns: &[u64]) -> Value {
    if sorted_ns.is_empty() {
        return json!({ "count": 0 });
    }
    let at = |fraction: f64| {
        let index = ((sorted_ns.len() as f64 * fraction).ceil() as usize).clamp(1, sorted_ns.len());
        sorted_ns[index - 1] as f64 / 1e3
    };
    let mean = sorted_ns.iter().map(|&ns| ns as f64).sum::<f64>() / sorted_ns.len() as f64 / 1e3;
    json!({
        "count": sorted_ns.len(),
        "mean_us": mean,
        "p50_us": at(0.50),
        "p90_us": at(0.90),
        "p99_us": at(0.99),
        "max_us": at(1.0),
    })
}

/// One client: its connection, its session in the legacy era, and its share of the work.
struct Client {
    options: Arc<HttpOptions>,
    text: Arc<String>,
    /// Requests started by every client, against `--requests`.
    issued: Arc<AtomicU64>,
    start_line: Arc<tokio::sync::Barrier>,
    /// Set when the measured phase starts.
    deadline: tokio::sync::watch::Receiver<Option<Instant>>,
    index: usize,
}

impl Client {
    async fn run(mut self, mut connection: Connection) -> ClientReport {
        let mut report = ClientReport::default();
        let options = Arc::clone(&self.options);
        let era = options.era;
        let timeout = Duration::from_secs_f64(options.timeout);
        let session = match era {
            Era::Legacy => match open_session(&mut connection, timeout).await {
                Ok(session) => Some(session),
                Err(kind) => {
                    *report
                        .error_kinds
                        .entry(format!("session_{kind}"))
                        .or_default() += 1;
                    self.start_line.wait().await;
                    return report;
                }
            },
            Era::Modern => None,
        };
        let headers = era::echo_headers(era);
        let clients = options.clients as u64;
        let index = self.index as u64;
        let warmup = options.warmup / clients + u64::from(index < options.warmup % clients);
        let mut id = 0;
        for _ in 0..warmup {
            id += 1;
            let body = era::echo_call(era, id, &self.text);
            let _ = connection
                .post(body, &headers, session.as_deref(), timeout)
                .await;
        }
        self.start_line.wait().await;
        let deadline = match self.deadline.wait_for(Option::is_some).await {
            Ok(deadline) => deadline.expect("waited for it to be set"),
            Err(_) => return report,
        };
        let mut errors_in_a_row = 0;
        while Instant::now() < deadline
            && self.issued.fetch_add(1, Ordering::Relaxed) < options.requests
        {
            id += 1;
            let body = era::echo_call(era, id, &self.text);
            let sent = Instant::now();
            let outcome = connection
                .post(body, &headers, session.as_deref(), timeout)
                .await
                .and_then(|answer| {
                    let elapsed = sent.elapsed();
                    report.sse_answers += u64::from(answer.was_sse);
                    if answer.status != 200 {
                        return Err(format!("http_{}", answer.status));
                    }
                    let message = answer
                        .messages
                        .iter()
                        .find(|message| message.get("id").is_some())
                        .ok_or_else(|| "no_answer".to_owned())?;
                    era::check_echo(message, id, options.bytes)?;
                    Ok(elapsed)
                });
            match outcome {
                Ok(elapsed) => {
                    errors_in_a_row = 0;
                    report.latencies_ns.push(elapsed.as_nanos() as u64);
                }
                Err(kind) => {
                    *report.error_kinds.entry(kind).or_default() += 1;
                    errors_in_a_row += 1;
                    if errors_in_a_row >= MAX_ERRORS_IN_A_ROW {
                        break;
                    }
                }
            }
        }
        report.connects = connection.connects;
        report
    }
}

/// The legacy handshake: `initialize`, then `notifications/initialized` in the session it
/// opened; returns the session's id.
async fn open_session(connection: &mut Connection, timeout: Duration) -> Result<String, String> {
    let headers = [("mcp-protocol-version", era::LEGACY_VERSION)];
    let answer = connection
        .post(era::initialize(), &headers[..0], None, timeout)
        .await?;
    if answer.status != 200 {
        return Err(format!("http_{}", answer.status));
    }
    let session = answer
        .session_id
        .ok_or_else(|| "no_session_id".to_owned())?;
    let initialized = connection
        .post(era::initialized(), &headers, Some(&session), timeout)
        .await?;
    if initialized.status != 202 {
        return Err(format!("initialized_http_{}", initialized.status));
    }
    Ok(session)
}
