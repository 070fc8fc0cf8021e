//! Client mode: the suite plays the server and checks what an MCP client sends.
//!
//! For each scenario the suite starts a mock Streamable HTTP server on loopback and runs the
//! client command exactly as the official suite does: the mock's URL as the last argument,
//! `MCP_CONFORMANCE_SCENARIO` (and `MCP_CONFORMANCE_CONTEXT` when the scenario carries data,
//! and `MCP_CONFORMANCE_PROTOCOL_VERSION`) in the environment, the program run directly,
//! never through a shell, and killed at the time limit. When the client is gone, the checks
//! read the requests the mock recorded. So a client that runs under the official suite runs
//! under this one.
//!
//! ```no_run
//! # async fn example() {
//! use mcpwire_conformance::{ClientOptions, StdioCommand, run_client};
//!
//! let command = StdioCommand {
//!     program: "./conformance-client".to_owned(),
//!     args: Vec::new(),
//!     env: Vec::new(),
//! };
//! let report = run_client(&command, &ClientOptions::default()).await;
//! print!("{}", report.render_text(false));
//! # }
//! ```

mod auth;
mod generic;
mod mock;
mod process;
mod scenarios;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::check::{Area, Level, Outcome, Requirement};
use crate::context::Profile;
use crate::report::{Baseline, CheckResult, Report, Verdict};
use crate::target::StdioCommand;

use auth::AuthKind;
use mock::{MockServer, lock};
use scenarios::{Kind, ScenarioMock};

/// How a client run goes.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Only the scenarios whose name matches one of these: a name or a pattern with `*`.
    /// Empty: every scenario.
    pub scenarios: Vec<String>,
    /// How long the client may run in one scenario before it is killed.
    pub time_limit: Duration,
    /// The protocol version given in `MCP_CONFORMANCE_PROTOCOL_VERSION`.
    pub protocol_version: String,
    /// The expected failures.
    pub baseline: Option<Baseline>,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            scenarios: Vec::new(),
            time_limit: Duration::from_secs(30),
            protocol_version: "2025-11-25".to_owned(),
            baseline: None,
        }
    }
}

/// The names of the client scenarios, in run order.
pub fn client_scenarios() -> Vec<&'static str> {
    Scenario::all().map(Scenario::name).collect()
}

/// A client scenario: a core one, or one of authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Core(Kind),
    Auth(AuthKind),
}

impl Scenario {
    /// Every scenario, in run order.
    fn all() -> impl Iterator<Item = Scenario> {
        Kind::ALL
            .into_iter()
            .map(Scenario::Core)
            .chain(AuthKind::ALL.into_iter().map(Scenario::Auth))
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Core(kind) => kind.name(),
            Scenario::Auth(kind) => kind.name(),
        }
    }

    /// The scenario's own checks.
    fn checks(self) -> Vec<ClientCheck> {
        match self {
            Scenario::Core(kind) => scenarios::checks_of(kind),
            Scenario::Auth(kind) => auth::checks_of(kind),
        }
    }
}

/// One check of client mode, as `mcpwire conform list` shows it.
#[derive(Debug, Clone)]
pub struct ClientCheckInfo {
    /// Its id, `client/<scenario>/<check>`.
    pub id: String,
    /// What it checks.
    pub title: &'static str,
    /// The requirement it tests.
    pub requirement: Requirement,
    /// Whether the official suite makes this check too.
    pub official: bool,
}

/// Every check of client mode, scenario by scenario: the scenario's own checks, then those
/// every scenario makes.
pub fn client_catalogue() -> Vec<ClientCheckInfo> {
    Scenario::all()
        .flat_map(|kind| {
            kind.checks()
                .into_iter()
                .chain(generic::ALL)
                .map(move |check| ClientCheckInfo {
                    id: format!("client/{}/{}", kind.name(), check.name),
                    title: check.title,
                    requirement: check.requirement,
                    official: check.official,
                })
        })
        .collect()
}

/// One check of client mode, before it is given its scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientCheck {
    /// Its name within the scenario (the official suite's id for its own checks).
    pub(crate) name: &'static str,
    /// What it checks.
    pub(crate) title: &'static str,
    /// The requirement.
    pub(crate) requirement: Requirement,
    /// Whether the official suite makes this check too.
    pub(crate) official: bool,
}

/// A check and what it found.
pub(crate) type Evaluated = (ClientCheck, Outcome);

/// Runs every selected client scenario against the client `command`, one after the other.
pub async fn run_client(command: &StdioCommand, options: &ClientOptions) -> Report {
    let started = Instant::now();
    let mut results = Vec::new();
    for scenario in Scenario::all() {
        if !chosen(&options.scenarios, scenario.name()) {
            continue;
        }
        results.extend(match scenario {
            Scenario::Core(kind) => run_scenario(kind, command, options).await,
            Scenario::Auth(kind) => run_auth_scenario(kind, command, options).await,
        });
    }
    let mut target = command.program.clone();
    for argument in &command.args {
        target.push(' ');
        target.push_str(argument);
    }
    let mut report = Report {
        target: format!("client {target}"),
        suite_version: env!("CARGO_PKG_VERSION"),
        profile: Profile::default(),
        results,
        stale_baseline: Vec::new(),
        millis: millis(started),
    };
    if let Some(baseline) = &options.baseline {
        baseline.apply(&mut report);
    }
    report
}

/// Whether scenario `name` is chosen by `patterns`.
fn chosen(patterns: &[String], name: &str) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|pattern| crate::glob(pattern.as_bytes(), name.as_bytes()))
}

/// Runs one scenario: its mock, the client, then the checks.
async fn run_scenario(
    kind: Kind,
    command: &StdioCommand,
    options: &ClientOptions,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let mock = Arc::new(ScenarioMock::new(kind));
    let server = match start_mock(
        kind.name(),
        Arc::clone(&mock) as Arc<dyn mock::Behaviour>,
        started,
    )
    .await
    {
        Ok(server) => server,
        Err(failed) => return failed,
    };
    let url = format!("http://localhost:{}{}", server.port(), kind.path());
    let env = scenario_env(kind.name(), kind.context(), options);
    let run = process::run(command, &url, &env, options.time_limit).await;
    let log = server.shared().log();
    server.stop();
    let state = lock(mock.state());
    let mut evaluated = scenarios::evaluate(kind, &log, &state);
    evaluated.extend(generic::evaluate(&log, &state, &run, options.time_limit));
    evaluated
        .into_iter()
        .map(|(check, outcome)| result(kind.name(), check, outcome, started))
        .collect()
}

/// Runs one authorization scenario: its protected mock and authorization server, the client,
/// then the checks of its OAuth flow and, on the requests it made with its token, those every
/// scenario makes.
async fn run_auth_scenario(
    kind: AuthKind,
    command: &StdioCommand,
    options: &ClientOptions,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let mock = Arc::new(auth::AuthMock::new(kind));
    let server = match start_mock(
        kind.name(),
        Arc::clone(&mock) as Arc<dyn mock::Behaviour>,
        started,
    )
    .await
    {
        Ok(server) => server,
        Err(failed) => return failed,
    };
    let origin = format!("http://localhost:{}", server.port());
    mock.set_origin(origin.clone());
    let env = scenario_env(kind.name(), kind.context(), options);
    let run = process::run(command, &format!("{origin}/mcp"), &env, options.time_limit).await;
    let log = server.shared().log();
    server.stop();
    let state = lock(mock.state());
    let mut evaluated = auth::evaluate(kind, &origin, &log, &state);
    let authorized = auth::authorized(&log, &state);
    let mut session = scenarios::State::default();
    session.negotiated = state.negotiated.clone();
    for (check, outcome) in generic::evaluate(&authorized, &session, &run, options.time_limit) {
        // A client refused again and again may give up with an error.
        let exit = check.name == generic::EXIT.name;
        let outcome = match (exit, &run.ending) {
            (true, process::Ending::Exited(Some(code))) if kind.may_give_up() && *code != 0 => {
                Outcome::Pass(format!("the client gave up with status {code}, as it may"))
            }
            // Nothing was sent with a token: the flow's own checks say why.
            (false, _) if authorized.is_empty() => {
                Outcome::Skip("the client sent no request with a token".to_owned())
            }
            _ => outcome,
        };
        evaluated.push((check, outcome));
    }
    evaluated
        .into_iter()
        .map(|(check, outcome)| result(kind.name(), check, outcome, started))
        .collect()
}

/// Starts the mock of scenario `name`; when it cannot start, the scenario's one result says
/// why.
async fn start_mock(
    name: &str,
    behaviour: Arc<dyn mock::Behaviour>,
    started: Instant,
) -> Result<MockServer, Vec<CheckResult>> {
    MockServer::start(behaviour).await.map_err(|error| {
        vec![result(
            name,
            generic::EXIT,
            Outcome::Violated(error),
            started,
        )]
    })
}

/// The environment the official suite gives a client for scenario `name`: its name, the
/// protocol version, and its data (`context`, named) when it has any.
fn scenario_env(
    name: &str,
    context: Option<serde_json::Value>,
    options: &ClientOptions,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("MCP_CONFORMANCE_SCENARIO".to_owned(), name.to_owned()),
        (
            "MCP_CONFORMANCE_PROTOCOL_VERSION".to_owned(),
            options.protocol_version.clone(),
        ),
    ];
    if let Some(mut context) = context {
        context["name"] = serde_json::Value::from(name);
        env.push(("MCP_CONFORMANCE_CONTEXT".to_owned(), context.to_string()));
    }
    env
}

/// The result of `check` in scenario `name`.
fn result(name: &str, check: ClientCheck, outcome: Outcome, started: Instant) -> CheckResult {
    let (verdict, detail) = match outcome {
        Outcome::Pass(seen) => (Verdict::Pass, seen),
        Outcome::Violated(seen) => match check.requirement.level {
            Level::Must => (Verdict::Fail, seen),
            Level::Should => (Verdict::Warning, seen),
        },
        Outcome::Warn(seen) => (Verdict::Warning, seen),
        Outcome::Skip(why) => (Verdict::Skip, why),
    };
    CheckResult {
        id: format!("client/{name}/{}", check.name),
        area: Area::Client,
        title: check.title,
        requirement: check.requirement,
        era: None,
        official: check.official,
        verdict,
        detail,
        expected: false,
        millis: millis(started),
    }
}

/// Milliseconds since `started`.
fn millis(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
