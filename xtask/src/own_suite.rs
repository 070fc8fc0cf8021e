//! The mcpwire leg of `cargo xtask conformance`: mcpwire's own suite (`mcpwire conform`)
//! against the fixture server over HTTP and `mcpwire serve --stdio`, each check an outcome;
//! then the agreement of mcpwire's own suite with the official one.
//!
//! The agreement: against our fixture server and
//! the third-party servers pinned in `interop/`, each over Streamable HTTP on loopback, the
//! official suite's server leg (0.1.16, `--suite all`) and `mcpwire conform server --suite
//! fixtures` are run, and each official scenario's verdict is compared with the verdict of
//! the check `fixtures/<scenario>` of ours. The table of both goes to
//! `<target dir>/conformance/agreement.md`. The client leg is compared the same way on our
//! fixture client (`agreement-client.md`, every check of ours) and on the TypeScript SDK v1's
//! client `interop/ts_conformance_client.mjs` (`agreement-ts-client.md`, the checks of ours
//! that the official suite makes too). A scenario on which the suites disagree is a failure
//! of the run.
//!
//! Peers (started by this command, stopped by their PID):
//!
//! - `conformance-server --http --port P`, our fixture server;
//! - `server-everything` (TypeScript SDK v1) `streamableHttp`, `PORT=P`;
//! - `interop/ts2_server.mjs --http P` (TypeScript SDK v2);
//! - `interop/py_server.py --http P` (Python SDK 1.x, FastMCP, from its venv);
//! - `interop/py2_server.py --http P` (Python SDK 2.x, from its venv).
//!
//! A peer that is not installed (`cargo xtask interop-setup` installs them) is reported and
//! left out.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::conformance::{
    Binaries, Leg, MCPWIRE_SUITE, Outcome, SUITES, ScenarioResult, Suite, Toolchain, free_port,
    fresh_directory, stop, wait_at_most, wait_until_listening,
};

/// Runs the mcpwire leg; `official_server_time` is how long the official suite's server legs
/// took against the same fixture server (zero when they did not run), `official_client` the
/// verdicts of the first suite's client leg on our fixture client (empty when it did not run).
pub(crate) fn run(
    root: &Path,
    toolchain: &Toolchain,
    official_server_time: Duration,
    official_client: &[(String, ScenarioResult)],
) -> Result<Vec<Outcome>> {
    let binaries = &toolchain.binaries;
    let expected = &toolchain.expected;
    let mut outcomes = Vec::new();
    let results = toolchain.scratch.join("results").join(MCPWIRE_SUITE);
    fresh_directory(&results)?;
    let (own, took) = mcpwire_leg(binaries, &results)?;
    let labels: Vec<String> = own.iter().map(|(label, _)| label.clone()).collect();
    expected.check_entries(MCPWIRE_SUITE, Leg::Mcpwire, &labels)?;
    for (label, result) in &own {
        let reason = expected.reason(MCPWIRE_SUITE, Leg::Mcpwire, label);
        outcomes.push(Outcome::new(
            MCPWIRE_SUITE,
            Leg::Mcpwire,
            label,
            result.clone(),
            reason,
        ));
    }
    // The agreement of both suites on the official scenarios, on our fixture server and the
    // pinned third-party servers.
    let suite = &SUITES[0];
    let agreement = toolchain.scratch.join("results").join("agreement");
    let scenarios = toolchain
        .runner(suite, agreement.clone())?
        .list(Leg::Server)?;
    let mut disagreements = compare_suites(root, toolchain, suite, &scenarios, &agreement)?;
    if !official_client.is_empty() {
        disagreements += compare_client(
            "the fixture client",
            official_client,
            &own,
            &agreement.join("agreement-client.md"),
        )?;
        disagreements += compare_ts_client(root, toolchain, suite, official_client, &agreement)?;
    }
    if disagreements > 0 {
        outcomes.push(Outcome::new(
            MCPWIRE_SUITE,
            Leg::Mcpwire,
            "agreement with the official suite",
            ScenarioResult::Failed(format!(
                "{disagreements} verdicts differ (see {})",
                agreement.join("agreement.md").display()
            )),
            None,
        ));
    }
    if official_server_time > Duration::ZERO {
        println!(
            "conformance: mcpwire conform took {:.1} s against conformance-server over HTTP; the official suite's server legs took {:.1} s against it",
            took.as_secs_f64(),
            official_server_time.as_secs_f64()
        );
    }
    Ok(outcomes)
}

/// How long one `mcpwire conform` run may take.
const MCPWIRE_LEG_LIMIT: Duration = Duration::from_secs(300);

/// Runs `mcpwire conform server --suite all` against the fixture server over HTTP and
/// `--suite generic` against `mcpwire serve --stdio`; every check's outcome, and how long the
/// HTTP run took.
fn mcpwire_leg(
    binaries: &Binaries,
    results: &Path,
) -> Result<(Vec<(String, ScenarioResult)>, Duration)> {
    let port = free_port()?;
    let server_log = results.join("conformance-server.log");
    let mut server = Command::new(&binaries.server)
        .args(["--http", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&server_log).context("creating the server log")?)
        .spawn()
        .with_context(|| format!("starting {}", binaries.server.display()))?;
    let http = match wait_until_listening(&mut server, port) {
        Ok(()) => {
            let url = format!("http://localhost:{port}/mcp");
            let started = Instant::now();
            let report = conform(
                &binaries.reference,
                &["server", "--suite", "all", &url],
                &results.join("http"),
                false,
            );
            let took = started.elapsed();
            report.map(|outcomes| (outcomes, took))
        }
        Err(error) => Err(error.context("conformance-server did not start")),
    };
    stop(&mut server);
    let (mut outcomes, took) = http?;
    for (label, _) in &mut outcomes {
        *label = format!("http {label}");
    }
    let reference = binaries.reference.to_string_lossy().into_owned();
    let stdio = conform(
        &binaries.reference,
        &[
            "server", "--suite", "generic", "--", &reference, "serve", "--stdio",
        ],
        &results.join("stdio"),
        false,
    )?;
    outcomes.extend(
        stdio
            .into_iter()
            .map(|(label, result)| (format!("stdio {label}"), result)),
    );
    let client = binaries.client.to_string_lossy().into_owned();
    let client_checks = conform(
        &binaries.reference,
        &["client", "--", &client],
        &results.join("client"),
        false,
    )?;
    outcomes.extend(
        client_checks
            .into_iter()
            .map(|(label, result)| (format!("client {label}"), result)),
    );
    println!(
        "conformance: mcpwire leg, {} checks of the fixture server over HTTP, the reference server over stdio and the fixture client (reports in {})",
        outcomes.len(),
        results.display()
    );
    Ok((outcomes, took))
}

/// Runs `mcpwire conform <server|client> --json <options and target>` (the mode first in
/// `arguments`), writing its report to `<name>.json`, and reads each check's outcome from it.
fn conform(
    mcpwire: &Path,
    arguments: &[&str],
    name: &Path,
    official_only: bool,
) -> Result<Vec<(String, ScenarioResult)>> {
    let json = name.with_extension("json");
    let log = name.with_extension("log");
    let mut command = Command::new(mcpwire);
    command
        .args(["conform"])
        .args(arguments.iter().take(1))
        .arg("--json")
        .args(arguments.iter().skip(1))
        .stdin(Stdio::null())
        .stdout(File::create(&json).context("creating the report file")?)
        .stderr(File::create(&log).context("creating the log")?);
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", mcpwire.display()))?;
    if wait_at_most(&mut child, MCPWIRE_LEG_LIMIT)?.is_none() {
        bail!(
            "mcpwire conform did not finish within {} s",
            MCPWIRE_LEG_LIMIT.as_secs()
        );
    }
    let text = fs::read_to_string(&json).with_context(|| format!("reading {}", json.display()))?;
    let report: Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "mcpwire conform wrote no JSON report (see {})",
            log.display()
        )
    })?;
    let Some(checks) = report["results"].as_array() else {
        bail!("the report {} has no results", json.display());
    };
    Ok(checks
        .iter()
        .filter(|check| !official_only || check["official"].as_bool() == Some(true))
        .map(|check| {
            let id = check["id"].as_str().unwrap_or("?").to_owned();
            let detail = check["detail"].as_str().unwrap_or_default().to_owned();
            let result = match check["verdict"].as_str() {
                Some("pass") => ScenarioResult::Passed,
                Some("skip") => ScenarioResult::Skipped(detail),
                Some(verdict) => ScenarioResult::Failed(format!("{verdict}: {detail}")),
                None => ScenarioResult::Failed("no verdict".to_owned()),
            };
            (id, result)
        })
        .collect())
}

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
    let everything =
        interop.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let ts2 = interop.join("ts2_server.mjs");
    let py2 = interop.join("py2_server.py");
    let venv2 = target.join("interop/venv2/bin/python");
    let py1 = interop.join("py_server.py");
    let venv1 = target.join("interop/venv/bin/python");
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
            name: "Python SDK 1.x (FastMCP)",
            installed: venv1.clone(),
            command: Box::new(move |port| {
                let mut command = Command::new(&venv1);
                command.arg(&py1).args(["--http", &port.to_string()]);
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
fn compare_suites(
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
                    let mark = if agree(official, ours.as_deref()) {
                        ""
                    } else {
                        " ≠"
                    };
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

/// Compares the official client leg's verdict of each scenario on our fixture client with
/// ours (a scenario fails when one of its `client/<scenario>/…` checks fails); writes the
/// table; the number of disagreements. Scenarios our client mode does not play are listed,
/// not counted.
fn compare_client(
    client: &str,
    official: &[(String, ScenarioResult)],
    own: &[(String, ScenarioResult)],
    path: &Path,
) -> Result<usize> {
    let mut table = format!(
        "# The official suite and `mcpwire conform client` on {client}\n\n\
         Each row: the official suite 0.1.16's verdict / ours (a scenario fails when one of its \
         checks fails; `≠` where they disagree; `not played` where client mode has no such \
         scenario yet).\n\n| scenario | verdicts |\n|---|---|\n",
    );
    let (mut disagreements, mut not_played) = (0, 0);
    for (scenario, verdict) in official {
        let prefix = format!("client client/{scenario}/");
        let checks: Vec<&ScenarioResult> = own
            .iter()
            .filter(|(label, _)| label.starts_with(&prefix))
            .map(|(_, result)| result)
            .collect();
        let ours = if checks.is_empty() {
            not_played += 1;
            None
        } else if checks
            .iter()
            .any(|result| matches!(result, ScenarioResult::Failed(_)))
        {
            Some("fail")
        } else {
            Some("pass")
        };
        let mark = match ours {
            None => "",
            Some(ours) if agree(verdict, Some(ours)) => "",
            Some(ours) => {
                disagreements += 1;
                println!(
                    "DIFF   agreement {client} {scenario}: official {}, mcpwire conform {ours}",
                    label(verdict)
                );
                " ≠"
            }
        };
        let _ = writeln!(
            table,
            "| `{scenario}` | {} / {}{mark} |",
            label(verdict),
            ours.unwrap_or("not played")
        );
    }
    fs::write(path, table).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "conformance: agreement of the suites on {client}: {} scenarios compared, {disagreements} disagreements, {not_played} not played by client mode (table in {})",
        official.len() - not_played,
        path.display()
    );
    Ok(disagreements)
}

/// Runs the official client leg and `mcpwire conform client` on the TypeScript SDK v1's
/// conformance client (`interop/ts_conformance_client.mjs`), and compares the official suite's
/// verdicts with those of our checks the official suite makes too; the number of
/// disagreements (none when the SDK is not installed).
fn compare_ts_client(
    root: &Path,
    toolchain: &Toolchain,
    suite: &Suite,
    official_client: &[(String, ScenarioResult)],
    results: &Path,
) -> Result<usize> {
    let script = root.join("interop/ts_conformance_client.mjs");
    if !root
        .join("interop/node_modules/@modelcontextprotocol/sdk")
        .exists()
    {
        println!(
            "conformance: agreement: the TypeScript SDK v1 is not installed (cargo xtask interop-setup); its client left out"
        );
        return Ok(0);
    }
    let script = script.to_string_lossy().into_owned();
    let scenarios: Vec<String> = official_client
        .iter()
        .map(|(scenario, _)| scenario.clone())
        .collect();
    let runner = toolchain.runner(suite, results.join("official-ts-client"))?;
    let official = runner.client_leg(&format!("node {script}"), &scenarios)?;
    let ours = conform(
        &toolchain.binaries.reference,
        &["client", "--", "node", &script],
        &results.join("ts-client"),
        true,
    )?
    .into_iter()
    .map(|(label, result)| (format!("client {label}"), result))
    .collect::<Vec<_>>();
    compare_client(
        "the TypeScript SDK v1 client",
        &official,
        &ours,
        &results.join("agreement-ts-client.md"),
    )
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
    matches!(
        (official, ours),
        (ScenarioResult::Passed, Some("pass"))
            | (ScenarioResult::Failed(_), Some("fail" | "warning"))
            | (ScenarioResult::Skipped(_), Some("skip") | None)
    )
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
        bail!("mcpwire conform did not finish within {CONFORM_LIMIT:?}");
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
