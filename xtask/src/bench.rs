//! `cargo xtask bench [--suite scale|core|all] [--runs N] [--quick] [--mcp-load DIR]`: release
//! builds of the servers measured side by side, a benchmark and never a timed test (nothing
//! in `cargo xtask ci` runs it).
//!
//! 1. `mcpwire` (the CLI) and `mcpwire-bench` (this workspace's HTTP load generator, both eras)
//!    are built in release mode into `<target dir>/bench/cargo`, apart from the debug builds.
//!    For the core suite, `mcp-load` (a neutral load generator kept beside the checkout, at
//!    `../shared/tools/mcp-load` unless `--mcp-load DIR` says otherwise) is copied into a
//!    temporary directory and built there, into `<target dir>/bench/mcp-load`; its source
//!    directory is never written to.
//! 2. Each suite runs its measurements interleaved: in each of `--runs` rounds (default 5),
//!    every scenario is measured once against each subject in turn (A, B, C, A, B, C, …), so
//!    that the machine's drift spreads evenly over them.
//! 3. The medians, with ratios where a baseline exists, are printed as Markdown and written
//!    to `<target dir>/bench/report.md`; every sample to `<target dir>/bench/report.json`.
//!    The processes' logs stay in `<target dir>/bench/logs/`.
//!
//! The suites:
//!
//! - `scale`: 16 clients calling `echo` (100 bytes) back to back over HTTP, in both eras, for
//!   each of three deployments of `mcpwire serve --http`: one instance in memory, one instance
//!   on Redis, three instances on Redis behind HAProxy (round-robin, no stickiness, as
//!   `deploy/` and `cargo xtask scale` run it). It reports requests per second, p50 and p99
//!   latency, the instances' CPU time per request, and Redis commands per request.
//! - `core`: `mcpwire serve` against mcp-load's `null-server` (the ceiling: a minimal server on
//!   hyper and serde_json) and any other SDK's echo server named by an environment variable
//!   `MCPWIRE_BENCH_PEER_<NAME>="program arguments"`: the peer is started as `program
//!   arguments --stdio` for the stdio scenarios and `program arguments --http 127.0.0.1:PORT`
//!   for the HTTP ones (serving `/mcp`, with an `echo` tool taking `text`), the interface of
//!   `mcpwire serve`; a wrapper script adapts another SDK's server to it.
//!
//! `--quick` is a smoke run: one round, about a second per measurement.
//!
//! Every process is started by this command, bounded in time, on loopback only, and killed by
//! its PID when its measurement ends.

mod core;
mod scale;
mod table;

use std::fs::{self, File};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::{Value, json};

use crate::conformance::fresh_directory;
use crate::deployment::TemporaryDirectory;

pub(crate) use table::{Derived, Table};

/// Rounds of measurements by default.
const DEFAULT_RUNS: usize = 5;

/// The most rounds `--runs` may ask for.
const MAX_RUNS: usize = 50;

/// Where mcp-load's sources are, relative to the workspace root, unless `--mcp-load` says.
const MCP_LOAD_DEFAULT: &str = "../shared/tools/mcp-load";

/// The prefix of the environment variables that name other SDKs' echo servers.
const PEER_VARIABLE_PREFIX: &str = "MCPWIRE_BENCH_PEER_";

/// Which suites to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suites {
    Scale,
    Core,
    All,
}

/// What the command was asked to do.
#[derive(Debug)]
struct Options {
    suites: Suites,
    runs: usize,
    quick: bool,
    mcp_load: Option<PathBuf>,
}

fn parse_options(arguments: &[String]) -> Result<Options> {
    let usage = format!(
        "usage: cargo xtask bench [--suite scale|core|all] [--runs N (1 to {MAX_RUNS}, default {DEFAULT_RUNS})] [--quick] [--mcp-load DIR]"
    );
    let mut options = Options {
        suites: Suites::All,
        runs: DEFAULT_RUNS,
        quick: false,
        mcp_load: None,
    };
    let mut runs = None;
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--suite" => {
                options.suites = match arguments.next().map(String::as_str) {
                    Some("scale") => Suites::Scale,
                    Some("core") => Suites::Core,
                    Some("all") => Suites::All,
                    other => bail!("`--suite` takes scale, core or all, not {other:?}; {usage}"),
                };
            }
            "--runs" => {
                let value = arguments.next().map(String::as_str).unwrap_or_default();
                runs = match value.parse::<usize>() {
                    Ok(count) if (1..=MAX_RUNS).contains(&count) => Some(count),
                    _ => bail!("`--runs` takes 1 to {MAX_RUNS}, not `{value}`; {usage}"),
                };
            }
            "--quick" => options.quick = true,
            "--mcp-load" => {
                let Some(directory) = arguments.next() else {
                    bail!("`--mcp-load` needs a directory; {usage}");
                };
                options.mcp_load = Some(PathBuf::from(directory));
            }
            other => bail!("unknown argument `{other}`; {usage}"),
        }
    }
    // A quick run is one round unless `--runs` asks for more.
    options.runs = runs.unwrap_or(if options.quick { 1 } else { DEFAULT_RUNS });
    Ok(options)
}

/// How long and how much each kind of measurement takes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Effort {
    /// Seconds of one throughput measurement.
    pub(crate) seconds: f64,
    /// Unmeasured requests before it.
    pub(crate) warmup: u64,
    /// Spawns of a server per cold-start measurement.
    pub(crate) cold_starts: u32,
    /// Idle sessions opened to measure their memory.
    pub(crate) sessions: u64,
    /// Requests answered over SSE before reading the server's memory.
    pub(crate) sse_requests: u64,
}

impl Effort {
    fn of(quick: bool) -> Self {
        if quick {
            Effort {
                seconds: 1.0,
                warmup: 100,
                cold_starts: 3,
                sessions: 200,
                sse_requests: 20_000,
            }
        } else {
            Effort {
                seconds: 5.0,
                warmup: 500,
                cold_starts: 5,
                sessions: 1000,
                sse_requests: 200_000,
            }
        }
    }
}

/// What every suite works with: the binaries, where logs go, how hard to measure.
pub(crate) struct Bench {
    pub(crate) mcpwire: PathBuf,
    pub(crate) loader: PathBuf,
    pub(crate) mcp_load: Option<PathBuf>,
    pub(crate) root: PathBuf,
    pub(crate) logs: PathBuf,
    pub(crate) runs: usize,
    pub(crate) effort: Effort,
}

impl Bench {
    /// Runs `command` (a load generator) with its stderr in `<logs>/<log>.log`, killing it
    /// after `limit`, and returns the JSON object on the last line of its stdout.
    pub(crate) fn measure(
        &self,
        mut command: Command,
        log: &str,
        limit: Duration,
    ) -> Result<Value> {
        let log = self.logs.join(format!("{log}.log"));
        let file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let status = crate::conformance::wait_at_most(&mut child, limit)?;
        let text = reader.join().unwrap_or_default();
        let Some(status) = status else {
            bail!(
                "{command:?} took longer than {limit:?} and was stopped (see {})",
                log.display()
            );
        };
        let last = text.lines().last().unwrap_or_default();
        let value: Value = serde_json::from_str(last).with_context(|| {
            format!(
                "{command:?} exited with {status} and printed no result (see {})",
                log.display()
            )
        })?;
        if let Some(error) = value.get("error") {
            bail!("{command:?} failed: {error} (see {})", log.display());
        }
        let errors =
            value["errors"].as_u64().unwrap_or(0) + value["failures"].as_u64().unwrap_or(0);
        if errors > 0 {
            println!(
                "bench: warning: {errors} errors in {log:?}: {}",
                value.get("error_kinds").unwrap_or(&Value::Null),
                log = log.display()
            );
        }
        Ok(value)
    }
}

/// The resident set size of process `pid`, in kB, from `/proc/PID/status`.
pub(crate) fn resident_kb(pid: u32) -> Option<f64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    let options = parse_options(arguments)?;
    if options.suites != Suites::Core {
        // `redis-server` and `haproxy`, as `cargo xtask interop-setup` installs them.
        crate::interop::setup_debian_servers()?;
    }
    let target = crate::interop::target_dir(root)?;
    let directory = target.join("bench");
    let logs = directory.join("logs");
    fresh_directory(&logs)?;
    let release = build_release(root, &directory.join("cargo"))?;
    let mcp_load = if options.suites == Suites::Scale {
        None
    } else {
        let source = options
            .mcp_load
            .clone()
            .unwrap_or_else(|| root.join(MCP_LOAD_DEFAULT));
        Some(build_mcp_load(&source, &directory.join("mcp-load"))?)
    };
    let bench = Bench {
        mcpwire: release.join("mcpwire"),
        loader: release.join("mcpwire-bench"),
        mcp_load,
        root: root.to_path_buf(),
        logs,
        runs: options.runs,
        effort: Effort::of(options.quick),
    };
    println!(
        "bench: {} round(s){}, logs in {}",
        bench.runs,
        if options.quick { ", quick" } else { "" },
        bench.logs.display()
    );

    let mut tables = Vec::new();
    if options.suites != Suites::Core {
        tables.push(scale::run(&bench)?);
    }
    if options.suites != Suites::Scale {
        tables.push(core::run(&bench, &peers_from_environment())?);
    }

    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut markdown = format!(
        "## cargo xtask bench\n\nCommit {commit}, {} core(s), median of {} interleaved run(s){}.\n",
        std::thread::available_parallelism().map_or(0, usize::from),
        bench.runs,
        if options.quick { " (quick)" } else { "" }
    );
    for table in &tables {
        markdown.push('\n');
        markdown.push_str(&table.markdown());
    }
    let report = json!({
        "commit": commit,
        "runs": bench.runs,
        "quick": options.quick,
        "tables": tables.iter().map(Table::json).collect::<Vec<_>>(),
    });
    println!("\n{markdown}");
    let markdown_path = directory.join("report.md");
    fs::write(&markdown_path, &markdown)
        .with_context(|| format!("writing {}", markdown_path.display()))?;
    let json_path = directory.join("report.json");
    fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", json_path.display()))?;
    println!(
        "bench: wrote {} and {}",
        markdown_path.display(),
        json_path.display()
    );
    Ok(())
}

/// Builds `mcpwire` and `mcpwire-bench` in release mode into `target`; returns the
/// directory of the binaries.
fn build_release(root: &Path, target: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("bench: building mcpwire and mcpwire-bench in release mode");
    // One package at a time: built together, the features of the load generator's
    // dependencies would be unified into the server's, which users build alone.
    for package in ["mcpwire-cli", "mcpwire-bench"] {
        let status = Command::new(&cargo)
            .args(["build", "--release", "--quiet", "-p", package])
            .arg("--target-dir")
            .arg(target)
            .current_dir(root)
            .status()
            .context("running cargo build")?;
        ensure!(
            status.success(),
            "building {package} in release mode failed"
        );
    }
    Ok(target.join("release"))
}

/// Copies mcp-load's sources from `source` into a temporary directory and builds it in
/// release mode into `target`, so that nothing is written beside the sources (not even a
/// `Cargo.lock`); returns the binary.
fn build_mcp_load(source: &Path, target: &Path) -> Result<PathBuf> {
    ensure!(
        source.join("Cargo.toml").is_file() && source.join("src").is_dir(),
        "no mcp-load sources at {} (give them with --mcp-load DIR)",
        source.display()
    );
    let copy = TemporaryDirectory::create("bench-mcp-load")?;
    copy_tree(&source.join("src"), &copy.path.join("src"))?;
    fs::copy(source.join("Cargo.toml"), copy.path.join("Cargo.toml"))
        .context("copying mcp-load's Cargo.toml")?;
    println!("bench: building mcp-load in release mode");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .arg("--manifest-path")
        .arg(copy.path.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .current_dir(&copy.path)
        .status()
        .context("running cargo build for mcp-load")?;
    ensure!(status.success(), "building mcp-load failed");
    Ok(target.join("release").join("mcp-load"))
}

/// Copies the files of directory `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &destination)?;
        } else {
            fs::copy(entry.path(), &destination)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Another SDK's echo server: its name in the table, and its command without the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) name: String,
    pub(crate) command: Vec<String>,
}

/// The peers named by `MCPWIRE_BENCH_PEER_<NAME>` variables, sorted by name.
fn peers_from_environment() -> Vec<Peer> {
    let mut peers = peers_of(std::env::vars());
    peers.sort_by(|a, b| a.name.cmp(&b.name));
    for peer in &peers {
        println!("bench: peer {}: {}", peer.name, peer.command.join(" "));
    }
    peers
}

fn peers_of(variables: impl Iterator<Item = (String, String)>) -> Vec<Peer> {
    variables
        .filter_map(|(name, value)| {
            let name = name
                .strip_prefix(PEER_VARIABLE_PREFIX)?
                .to_ascii_lowercase();
            let command: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
            (!name.is_empty() && !command.is_empty()).then_some(Peer { name, command })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(arguments: &[&str]) -> Result<Options> {
        parse_options(
            &arguments
                .iter()
                .map(|&argument| argument.to_owned())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn the_options_pick_suites_and_a_bounded_number_of_runs() {
        let defaults = options(&[]).expect("the defaults");
        assert_eq!(defaults.suites, Suites::All);
        assert_eq!(defaults.runs, DEFAULT_RUNS);
        assert!(!defaults.quick);
        let quick = options(&["--quick", "--suite", "scale"]).expect("valid");
        assert_eq!(
            (quick.suites, quick.runs, quick.quick),
            (Suites::Scale, 1, true)
        );
        let three = options(&["--runs", "3", "--quick"]).expect("valid");
        assert_eq!(three.runs, 3);
        for bad in [
            &["--suite", "stdio"][..],
            &["--runs", "0"],
            &["--runs", "51"],
            &["--runs"],
            &["--mcp-load"],
            &["--leg"],
        ] {
            assert!(options(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn peers_come_from_their_variables_only() {
        let variables = [
            ("MCPWIRE_BENCH_PEER_RMCP", "rmcp-echo --flag"),
            ("MCPWIRE_BENCH_PEER_EMPTY", "  "),
            ("MCPWIRE_BENCH_PEER_", "x"),
            ("PATH", "bin"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        assert_eq!(
            peers_of(variables.into_iter()),
            vec![Peer {
                name: "rmcp".to_owned(),
                command: vec!["rmcp-echo".to_owned(), "--flag".to_owned()],
            }]
        );
    }
}
