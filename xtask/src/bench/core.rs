//! The `core` suite: `mcpwire serve` against mcp-load's `null-server` (the ceiling) and any
//! peer, over stdio and HTTP, with mcp-load driving every measurement.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{Bench, Derived, Peer, Table, resident_kb};
use crate::conformance::free_port;
use crate::deployment::{Deployment, Plan};

/// The rows of the table, in order; the constants below index them.
const ROWS: [&str; 13] = [
    "stdio, 32 in flight, req/s",
    "stdio, 32 in flight, server CPU µs/req",
    "stdio, 1 in flight, p50 µs",
    "cold start, stdio, ms",
    "cold start, HTTP, ms",
    "RSS of a fresh server, MiB",
    "memory per idle legacy session, kB",
    "HTTP 16 clients, SSE answers, RSS after the run, MiB",
    "HTTP 1 MB echo, req/s",
    "HTTP 1 MB echo, server CPU ms/req",
    "HTTP 1 client, req/s",
    "HTTP 16 clients, req/s",
    "HTTP 16 clients, server CPU µs/req",
];
const STDIO_32_RPS: usize = 0;
const STDIO_32_CPU: usize = 1;
const STDIO_1_P50: usize = 2;
const COLD_STDIO: usize = 3;
const COLD_HTTP: usize = 4;
const FRESH_RSS: usize = 5;
const SESSION_KB: usize = 6;
const SSE_RSS: usize = 7;
const LARGE_RPS: usize = 8;
const LARGE_CPU: usize = 9;
const HTTP_1_RPS: usize = 10;
const HTTP_16_RPS: usize = 11;
const HTTP_16_CPU: usize = 12;

/// Bytes of the echoed text, and of the large one.
const ECHO_BYTES: usize = 100;
const LARGE_BYTES: usize = 1_048_576;

/// A server measured: its column and how it is started.
struct Subject {
    name: String,
    kind: Kind,
}

enum Kind {
    Mcpwire,
    /// mcp-load's `null-server`: hyper and serde_json answering the echo tool, the least
    /// any server must do.
    Ceiling,
    Peer(Vec<String>),
}

impl Subject {
    /// The command of the server over stdio.
    fn stdio(&self, bench: &Bench, mcp_load: &Path) -> Vec<String> {
        match &self.kind {
            Kind::Mcpwire => vec![path(&bench.mcpwire), "serve".into(), "--stdio".into()],
            Kind::Ceiling => vec![path(mcp_load), "null-server".into(), "--stdio".into()],
            Kind::Peer(command) => [command.clone(), vec!["--stdio".into()]].concat(),
        }
    }

    /// The command of the server over HTTP on loopback `port`, serving `/mcp`.
    fn http(&self, bench: &Bench, mcp_load: &Path, port: u16) -> Vec<String> {
        let address = format!("127.0.0.1:{port}");
        match &self.kind {
            Kind::Mcpwire => vec![
                path(&bench.mcpwire),
                "serve".into(),
                "--http".into(),
                address,
            ],
            Kind::Ceiling => vec![
                path(mcp_load),
                "null-server".into(),
                "--port".into(),
                port.to_string(),
                "--mode".into(),
                "echo".into(),
            ],
            Kind::Peer(command) => [command.clone(), vec!["--http".into(), address]].concat(),
        }
    }
}

fn path(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn command_of(arguments: &[String]) -> Command {
    let mut command = Command::new(&arguments[0]);
    command.args(&arguments[1..]);
    command
}

pub(crate) fn run(bench: &Bench, peers: &[Peer]) -> Result<Table> {
    let mcp_load = bench
        .mcp_load
        .as_deref()
        .context("the core suite needs mcp-load")?;
    let mut subjects = vec![
        Subject {
            name: "mcpwire".to_owned(),
            kind: Kind::Mcpwire,
        },
        Subject {
            name: "null-server (ceiling)".to_owned(),
            kind: Kind::Ceiling,
        },
    ];
    subjects.extend(peers.iter().map(|peer| Subject {
        name: peer.name.clone(),
        kind: Kind::Peer(peer.command.clone()),
    }));
    let columns: Vec<&str> = subjects
        .iter()
        .map(|subject| subject.name.as_str())
        .collect();
    let mut table = Table::new(
        &format!("core: tools/call echo ({ECHO_BYTES} B unless said), mcp-load"),
        &ROWS,
        &columns,
    );
    table.derive(Derived {
        name: "mcpwire ÷ ceiling".to_owned(),
        numerator: Box::new(|row| Some((row, 0))),
        denominator: Box::new(|row| Some((row, 1))),
    });

    let core = Core {
        bench,
        mcp_load,
        subjects: &subjects,
    };
    for round in 1..=bench.runs {
        println!("bench: core: round {round} of {}", bench.runs);
        core.round(&mut table)?;
    }
    Ok(table)
}

struct Core<'a> {
    bench: &'a Bench,
    mcp_load: &'a Path,
    subjects: &'a [Subject],
}

impl Core<'_> {
    /// One measurement of every scenario, each against every subject in turn.
    fn round(&self, table: &mut Table) -> Result<()> {
        let effort = self.bench.effort;
        let seconds = effort.seconds.to_string();
        let warmup = effort.warmup.to_string();
        let load_limit = Duration::from_secs_f64(effort.seconds * 4.0 + 60.0);

        for in_flight in [32, 1] {
            for (column, subject) in self.subjects.iter().enumerate() {
                let mut load = self.mcp_load();
                load.args([
                    "stdio",
                    "-k",
                    &in_flight.to_string(),
                    "-b",
                    &ECHO_BYTES.to_string(),
                ])
                .args([
                    "-d",
                    &seconds,
                    "-n",
                    "5000000",
                    "-w",
                    &warmup,
                    "--stderr-null",
                    "--",
                ])
                .args(subject.stdio(self.bench, self.mcp_load));
                let result = self.bench.measure(load, "core-stdio", load_limit)?;
                if in_flight == 32 {
                    table.record(STDIO_32_RPS, column, result["rps"].as_f64());
                    table.record(
                        STDIO_32_CPU,
                        column,
                        result["server_cpu_us_per_req"].as_f64(),
                    );
                } else {
                    table.record(STDIO_1_P50, column, result["latency_us"]["p50_us"].as_f64());
                }
            }
        }

        let cold_starts = effort.cold_starts.to_string();
        let cold_limit = Duration::from_secs(60 + 30 * u64::from(effort.cold_starts));
        for (column, subject) in self.subjects.iter().enumerate() {
            let mut load = self.mcp_load();
            load.args(["cold", "-r", &cold_starts, "--stderr-null", "--"])
                .args(subject.stdio(self.bench, self.mcp_load));
            let result = self.bench.measure(load, "core-cold", cold_limit)?;
            table.record(COLD_STDIO, column, result["median_ms"].as_f64());
            let kb = result["startup_rss_kb_median"].as_f64();
            table.record(FRESH_RSS, column, kb.map(|kb| kb / 1024.0));
        }
        for (column, subject) in self.subjects.iter().enumerate() {
            let port = free_port()?;
            let mut load = self.mcp_load();
            load.args(["cold", "-r", &cold_starts, "--stderr-null"])
                .args(["--url", &format!("http://127.0.0.1:{port}/mcp"), "--"])
                .args(subject.http(self.bench, self.mcp_load, port));
            let result = self.bench.measure(load, "core-cold", cold_limit)?;
            table.record(COLD_HTTP, column, result["median_ms"].as_f64());
        }

        // Idle sessions, each against a server of its own.
        for (column, subject) in self.subjects.iter().enumerate() {
            let server = self.serve(subject, "sessions", false)?;
            let mut load = self.mcp_load();
            load.args(["sessions", &server.url(), "-c", "4", "--settle", "1"])
                .args(["-s", &effort.sessions.to_string()])
                .args(["--pid", &server.instance_pids[0].to_string()]);
            let result = self
                .bench
                .measure(load, "core-sessions", Duration::from_secs(300))?;
            table.record(SESSION_KB, column, result["kb_per_session"].as_f64());
        }

        // The memory of SSE answers: only `mcpwire serve` is known to answer with SSE on
        // request (`--always-sse`).
        for (column, subject) in self.subjects.iter().enumerate() {
            if !matches!(subject.kind, Kind::Mcpwire) {
                continue;
            }
            let server = self.serve(subject, "sse", true)?;
            let pid = server.instance_pids[0];
            let mut load = self.mcp_load();
            load.args(["http", &server.url(), "-c", "16", "-w", "0", "-d", "300"])
                .args(["-n", &effort.sse_requests.to_string()])
                .args(["--pid", &pid.to_string()]);
            let result = self
                .bench
                .measure(load, "core-sse", Duration::from_secs(360))?;
            let kb = result["server_rss_kb"]
                .as_f64()
                .or_else(|| resident_kb(pid));
            table.record(SSE_RSS, column, kb.map(|kb| kb / 1024.0));
        }

        // Throughput over HTTP, against one server per subject for the three scenarios.
        let mut servers = Vec::new();
        for subject in self.subjects {
            servers.push(self.serve(subject, "http", false)?);
        }
        let scenarios: [(&str, usize, usize, &str); 3] = [
            ("1", LARGE_BYTES, LARGE_RPS, "3"),
            ("1", ECHO_BYTES, HTTP_1_RPS, warmup.as_str()),
            ("16", ECHO_BYTES, HTTP_16_RPS, warmup.as_str()),
        ];
        for (clients, bytes, row, scenario_warmup) in scenarios {
            for (column, server) in servers.iter_mut().enumerate() {
                let mut load = self.mcp_load();
                load.args([
                    "http",
                    &server.url(),
                    "-c",
                    clients,
                    "-b",
                    &bytes.to_string(),
                ])
                .args(["-d", &seconds, "-n", "5000000", "-w", scenario_warmup])
                .args(["--pid", &server.instance_pids[0].to_string()]);
                let result = self.bench.measure(load, "core-http", load_limit)?;
                table.record(row, column, result["rps"].as_f64());
                let cpu = result["server_cpu_us_per_req"].as_f64();
                if row == LARGE_RPS {
                    table.record(LARGE_CPU, column, cpu.map(|us| us / 1000.0));
                } else if row == HTTP_16_RPS {
                    table.record(HTTP_16_CPU, column, cpu);
                }
                server.check_running()?;
            }
        }
        Ok(())
    }

    fn mcp_load(&self) -> Command {
        Command::new(self.mcp_load)
    }

    /// `subject` serving HTTP on a free loopback port, with SSE answers if `always_sse`.
    fn serve(&self, subject: &Subject, purpose: &str, always_sse: bool) -> Result<Deployment> {
        let logs = &self.bench.logs;
        Deployment::start(&Plan {
            instance: &|port| {
                let mut command = command_of(&subject.http(self.bench, self.mcp_load, port));
                if always_sse {
                    command.arg("--always-sse");
                }
                if matches!(subject.kind, Kind::Ceiling) {
                    // It stops by itself after this long; a round never takes that long.
                    command.args(["--max-secs", "3600"]);
                }
                command
            },
            name: &format!(
                "core-{purpose}-{}",
                subject
                    .name
                    .replace(|character: char| !character.is_ascii_alphanumeric(), "-")
            ),
            redis: false,
            balancer: None,
            directory: logs,
            logs,
            instances: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_constants_name_their_rows() {
        assert!(ROWS[STDIO_32_CPU].contains("32 in flight, server CPU"));
        assert!(ROWS[STDIO_1_P50].contains("1 in flight"));
        assert!(ROWS[COLD_HTTP].contains("cold start, HTTP"));
        assert!(ROWS[SESSION_KB].contains("session"));
        assert!(ROWS[SSE_RSS].contains("SSE"));
        assert!(ROWS[LARGE_CPU].contains("1 MB echo, server CPU"));
        assert!(ROWS[HTTP_1_RPS].contains("1 client"));
        assert!(ROWS[HTTP_16_CPU].contains("16 clients, server CPU"));
    }
}
