//! The agreement of mcpwire's own suite with the official one: against our fixture server and
//! the third-party servers pinned in `interop/`, each over Streamable HTTP on loopback, the
//! official suite's server leg (0.1.16, `--suite all`) and `mcpwire conform server --suite
//! fixtures` are run, and each official scenario's verdict is compared with the verdict of
//! the check `fixtures/<scenario>` of ours. The table of both goes to
//! `<target dir>/conformance/agreement.md`; a scenario on which the suites disagree is a
//! failure of the run.
//!
//! Peers (started by this command, stopped by their PID):
//!
//! - `conformance-server --http --port P`, our fixture server;
//! - `server-everything` (TypeScript SDK v1) `streamableHttp`, `PORT=P`;
//! - `interop/ts2_server.mjs --http P` (TypeScript SDK v2);
//! - `interop/py2_server.py --http P` (Python SDK 2.x, from its venv).
//!
//! A peer that is not installed (`cargo xtask interop-setup` installs them) is reported and
//! left out.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::conformance::{
    Binaries, ScenarioResult, Suite, Toolchain, free_port, stop, wait_at_most,
    wait_until_listening,
};

/// How long one `mcpwire conform` run may take.
const CONFORM_LIMIT: Duration = Duration::from_secs(300);

/// A server to compare the suites on.
struct Peer {
    /// Its name in the table.
    name: &'static str,
    /// How to start it listening on a port.
    command: Box<dyn Fn(u16) -> Command>,
    /// A file that must exist for the peer to be installed.
    installed: PathBuf,
}

/// The peers: our fixture server and the pinned third-party servers.
fn peers(root: &Path, target: &Path, binaries: &Binaries) -> Vec<Peer> {
    let interop = root.join("interop");
    let everything = interop.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let ts2 = interop.join("ts2_server.mjs");
    let py2 = interop.join("py2_server.py");
    let venv2 = target.join("interop/venv2/bin/python");
    let server = binaries.server.clone();
    vec![
        Peer {
            name: "mcpwire fixtures",
            installed: server.clone(),
            command: Box::new(move |port| {
                let mut command = Command::new(&server);
                command.args(["--http", "--port", &port.to_string()]);
                command
            }),
        },
        Peer {
            name: "server-everything (TS SDK v1)",
            installed: everything.clone(),
            command: Box::new(move |port| {
                let mut command = Command::new("node");
                command
                    .arg(&everything)
                    .arg("streamableHttp")
                    .env("PORT", port.to_string());
                command
            }),
        },
        Peer {
            name: "TS SDK v2",
            installed: interop.join("node_modules/@modelcontextprotocol/server"),
            command: Box::new(move |port| {
                let mut command = Command::new("node");
                command.arg(&ts2).args(["--http", &port.to_string()]);
                command
            }),
        },
        Peer {
            name: "Python SDK 2.x",
            installed: venv2.clone(),
            command: Box::new(move |port| {
                let mut command = Command::new(&venv2);
                command.arg(&py2).args(["--http", &port.to_string()]);
                command
            }),
        },
    ]
}

/// One peer's verdicts: scenario, the official suite's, ours.
type Row = (String, ScenarioResult, Option<String>);

/// Runs both suites against every installed peer; writes the table; the number of
/// disagreements.
pub(crate) fn run(
    root: &Path,
    toolchain: &Toolchain,
    suite: &Suite,
    scenarios: &[String],
    results: &Path,
) -> Result<usize> {
    let binaries = &toolchain.binaries;
    let mut table = String::from(
        "# The official suite and `mcpwire conform` on the same servers\n\n\
         Each cell: the official suite 0.1.16's verdict / the verdict of `fixtures/<scenario>` of \
         `mcpwire conform --suite fixtures` (pass, FAIL, skip; `≠` where they disagree).\n\n",
    );
    let mut columns = Vec::new();
    let mut disagreements = 0;
    for peer in peers(root, &toolchain.target, binaries) {
        if !peer.installed.exists() {
            println!(
                "conformance: agreement: {} is not installed (cargo xtask interop-setup); left out",
                peer.name
            );
            continue;
        }
        let rows = compare(&peer, toolchain, suite, scenarios, results)
            .with_context(|| format!("comparing the suites on {}", peer.name))?;
        for (scenario, official, ours) in &rows {
            if !agree(official, ours.as_deref()) {
                disagreements += 1;
                println!(
                    "DIFF   agreement {} {scenario}: official {}, mcpwire conform {}",
                    peer.name,
                    label(official),
                    ours.as_deref().unwrap_or("absent")
                );
            }
        }
        columns.push((peer.name, rows));
    }
    let _ = write!(table, "| scenario |");
    for (name, _) in &columns {
        let _ = write!(table, " {name} |");
    }
    let _ = write!(table, "\n|---|");
    for _ in &columns {
        table.push_str("---|");
    }
    table.push('\n');
    for scenario in scenarios {
        let _ = write!(table, "| `{scenario}` |");
        for (_, rows) in &columns {
            let cell = rows
                .iter()
                .find(|(name, _, _)| name == scenario)
                .map(|(_, official, ours)| {
                    let mark = if agree(official, ours.as_deref()) { "" } else { " ≠" };
                    format!(
                        "{} / {}{mark}",
                        label(official),
                        ours.as_deref().unwrap_or("absent")
                    )
                })
                .unwrap_or_default();
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    let path = results.join("agreement.md");
    fs::write(&path, table).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "conformance: agreement of the suites on {} servers: {disagreements} disagreements (table in {})",
        columns.len(),
        path.display()
    );
    Ok(disagreements)
}

/// The official verdict in the table's words.
fn label(result: &ScenarioResult) -> &'static str {
    match result {
        ScenarioResult::Passed => "pass",
        ScenarioResult::Failed(_) => "FAIL",
        ScenarioResult::Skipped(_) => "skip",
    }
}

/// Whether our verdict (`pass`, `fail`, `warning`, `skip`) matches the official one.
fn agree(official: &ScenarioResult, ours: Option<&str>) -> bool {
    match (official, ours) {
        (ScenarioResult::Passed, Some("pass")) => true,
        (ScenarioResult::Failed(_), Some("fail" | "warning")) => true,
        (ScenarioResult::Skipped(_), Some("skip") | None) => true,
        _ => false,
    }
}

/// Starts `peer`, runs both suites against it, stops it.
fn compare(
    peer: &Peer,
    toolchain: &Toolchain,
    suite: &Suite,
    scenarios: &[String],
    results: &Path,
) -> Result<Vec<Row>> {
    let port = free_port()?;
    let slug: String = peer
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    // Each peer's results in a directory of their own, emptied first.
    let runner = toolchain.runner(suite, results.join(format!("official-{slug}")))?;
    let binaries = &toolchain.binaries;
    let log = results.join(format!("{slug}.log"));
    let mut child = (peer.command)(port)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).context("creating the peer's log")?)
        .spawn()
        .with_context(|| format!("starting {}", peer.name))?;
    let outcome = wait_until_listening(&mut child, port).and_then(|()| {
        let official = runner.drive_server(port, scenarios)?;
        let ours = conform_fixtures(&binaries.reference, port, &results.join(&slug))?;
        Ok(official
            .into_iter()
            .map(|(scenario, result)| {
                let verdict = ours
                    .iter()
                    .find(|(id, _)| id == &format!("fixtures/{scenario}"))
                    .map(|(_, verdict)| verdict.clone());
                (scenario, result, verdict)
            })
            .collect())
    });
    stop(&mut child);
    outcome
}

/// `mcpwire conform server --suite fixtures --json` against the peer on `port`: each check's
/// id and verdict.
fn conform_fixtures(mcpwire: &Path, port: u16, name: &Path) -> Result<Vec<(String, String)>> {
    let json = name.with_extension("json");
    let mut child = Command::new(mcpwire)
        .args(["conform", "server", "--suite", "fixtures", "--json"])
        .arg(format!("http://localhost:{port}/mcp"))
        .stdin(Stdio::null())
        .stdout(File::create(&json).context("creating the report file")?)
        .stderr(File::create(name.with_extension("log")).context("creating the log")?)
        .spawn()
        .context("starting mcpwire conform")?;
    if wait_at_most(&mut child, CONFORM_LIMIT)?.is_none() {
        anyhow::bail!("mcpwire conform did not finish within {CONFORM_LIMIT:?}");
    }
    let report: Value = serde_json::from_str(&fs::read_to_string(&json)?)
        .with_context(|| format!("reading {}", json.display()))?;
    Ok(report["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|result| {
                    (
                        result["id"].as_str().unwrap_or_default().to_owned(),
                        result["verdict"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}
