//! `mcpwire conform`: runs the mcpwire conformance suite against a server or a client and
//! reports.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use mcpwire_conformance::{
    Baseline, ClientOptions, Options, Progress, Report, StdioCommand, Suite, Target, Verdict,
    client_scenarios, run_client, run_with_progress,
};

/// What `mcpwire conform` tests.
#[derive(Debug, Subcommand)]
pub enum Conform {
    /// Tests an MCP server: a Streamable HTTP URL, or a command after `--` that speaks stdio.
    #[command(after_help = SERVER_EXAMPLES)]
    Server(ServerArgs),
    /// Tests an MCP client: the suite plays the server of each client scenario and runs the
    /// command after `--` with the server's URL as its last argument.
    #[command(after_help = CLIENT_EXAMPLES)]
    Client(ClientArgs),
    /// Lists the checks of the suite with the requirement each one tests.
    List,
}

const SERVER_EXAMPLES: &str = "\
Examples:
  mcpwire conform server http://127.0.0.1:3000/mcp
  mcpwire conform server -- npx -y @modelcontextprotocol/server-everything
  mcpwire conform server --scenario 'http/*' --junit report.xml http://127.0.0.1:3000/mcp
  mcpwire conform server --revision 2025-06-18 --json -- python -m my_server
  MCPWIRE_CONFORM_BEARER=\"$TOKEN\" mcpwire conform server https://mcp.example.com/mcp

A server that answers a request without a token with 401 is protected: the checks of its
authorization (challenge, Protected Resource Metadata, invalid and misplaced tokens) run,
and with a token (--bearer) every other check runs too.

Exit status: 0 when every check passed or warned (or failed as the baseline expects),
1 when a check failed or a baseline entry is stale, 2 when the run could not start.";

const CLIENT_EXAMPLES: &str = "\
Examples:
  mcpwire conform client -- ./target/debug/conformance-client
  mcpwire conform client --scenario sse-retry -- node dist/client.mjs
  mcpwire conform client --scenario 'elicitation-*' --junit client.xml -- python3 client.py

The client is run as the official suite runs it: directly (never through a shell), with the
mock server's URL appended as its last argument, and MCP_CONFORMANCE_SCENARIO and
MCP_CONFORMANCE_PROTOCOL_VERSION (and MCP_CONFORMANCE_CONTEXT when the scenario carries data)
in its environment. It must exit 0 when the scenario is done.

Scenarios: initialize, tools_call, elicitation-sep1034-client-defaults, sse-retry, and the
authorization ones (auth/metadata-default, -var1, -var2, -var3, auth/basic-cimd,
auth/scope-from-www-authenticate, auth/scope-from-scopes-supported,
auth/scope-omitted-when-undefined, auth/scope-step-up, auth/scope-retry-limit,
auth/token-endpoint-auth-basic, -post, -none, auth/pre-registration,
auth/2025-03-26-oauth-metadata-backcompat, auth/2025-03-26-oauth-endpoint-fallback,
auth/resource-mismatch, auth/client-credentials-basic, auth/offline-access-scope,
auth/offline-access-not-supported), where the suite also plays the
authorization server: its authorization endpoint redirects at once with a code.

Exit status: 0 when every check passed or warned (or failed as the baseline expects),
1 when a check failed or a baseline entry is stale, 2 when the run could not start.";

/// Which checks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    /// Checks that need nothing from the server but MCP.
    Generic,
    /// The official suite's scenarios, for servers with its fixture tools.
    Fixtures,
    /// Both.
    All,
}

/// `mcpwire conform server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's Streamable HTTP endpoint, e.g. http://127.0.0.1:3000/mcp. Leave it out
    /// and give a command after `--` to test a stdio server.
    #[arg(value_name = "URL", required_unless_present = "command")]
    url: Option<String>,

    /// The command that starts a stdio server, after `--`. It is run directly, never
    /// through a shell, and started again for each check that needs a fresh server.
    #[arg(last = true, value_name = "COMMAND", conflicts_with = "url")]
    command: Vec<String>,

    /// An environment variable for the stdio server, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", requires = "command")]
    env: Vec<String>,

    /// Which checks: generic (any server), fixtures (the official suite's scenarios, for a
    /// server with its fixture tools, which they call) or all.
    #[arg(long, value_enum, default_value = "generic")]
    suite: SuiteArg,

    /// Only the checks whose id matches: an id, an area ending in `/` (`http/`), or a
    /// pattern with `*` (repeatable). `mcpwire conform list` shows the ids.
    #[arg(long = "scenario", value_name = "PATTERN")]
    scenarios: Vec<String>,

    /// Test one revision: a legacy one (offered in `initialize`) or 2026-07-28 (the modern
    /// era alone). By default every era the server speaks.
    #[arg(long, value_name = "REVISION")]
    revision: Option<String>,

    /// Let checks call tools that are not annotated read-only. Off by default: the suite
    /// calls only tools that declare they change nothing.
    #[arg(long)]
    call_tools: bool,

    /// A JSON file of expected failures: check id to reason. A listed check that does not
    /// fail makes the run fail, so the file never hides a fixed defect.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Print the report as JSON on stdout instead of text.
    #[arg(long)]
    json: bool,

    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// List every check in the text report, passes and skips included.
    #[arg(long, short)]
    verbose: bool,

    /// How long one exchange with the server may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,

    /// An access token for a protected server (an HTTP URL), sent as `Authorization:
    /// Bearer` on every request. Without one, a server that answers 401 gets only the
    /// checks of its authorization. Prefer the environment variable: a command line is
    /// visible to every user of the machine.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCPWIRE_CONFORM_BEARER",
        hide_env_values = true,
        requires = "url"
    )]
    bearer: Option<String>,
}

/// `mcpwire conform client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The command that starts the client, after `--`. The mock server's URL is appended as
    /// its last argument.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,

    /// An environment variable for the client, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,

    /// Only the scenarios whose name matches: a name or a pattern with `*` (repeatable).
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,

    /// The protocol version given to the client in MCP_CONFORMANCE_PROTOCOL_VERSION.
    #[arg(long, value_name = "REVISION", default_value = "2025-11-25")]
    protocol_version: String,

    /// A JSON file of expected failures: check id to reason. A listed check that does not
    /// fail makes the run fail, so the file never hides a fixed defect.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Print the report as JSON on stdout instead of text.
    #[arg(long)]
    json: bool,

    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// List every check in the text report, passes and skips included.
    #[arg(long, short)]
    verbose: bool,

    /// How long the client may run in one scenario before it is killed, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
}

/// Runs `mcpwire conform`; the exit code a CI job can use.
///
/// # Errors
///
/// When the run cannot start: an unreadable baseline, a bad option.
pub async fn run(conform: Conform) -> anyhow::Result<u8> {
    match conform {
        Conform::List => {
            let mut out = std::io::stdout().lock();
            let server = mcpwire_conformance::catalogue()
                .into_iter()
                .map(|check| (check.id.to_owned(), check.requirement, check.title));
            let client = mcpwire_conformance::client_catalogue()
                .into_iter()
                .map(|check| (check.id, check.requirement, check.title));
            for (id, requirement, title) in server.chain(client) {
                writeln!(
                    out,
                    "{id:44} {:?} {} {}: {title}",
                    requirement.level, requirement.revision, requirement.page
                )?;
            }
            Ok(0)
        }
        Conform::Server(args) => run_server(args).await,
        Conform::Client(args) => run_client_mode(args).await,
    }
}

/// Reads the baseline at `path`, if one is given.
fn read_baseline(path: Option<&PathBuf>) -> anyhow::Result<Option<Baseline>> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the baseline {}", path.display()))?;
            Ok(Some(Baseline::parse(&text).map_err(anyhow::Error::msg)?))
        }
        None => Ok(None),
    }
}

/// Parses `KEY=VALUE` pairs.
fn parse_env(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
            None => bail!("--env `{pair}` is not KEY=VALUE"),
        })
        .collect()
}

/// Prints `report` as asked and writes its JUnit file; the exit code.
fn publish(
    report: &Report,
    json: bool,
    verbose: bool,
    junit: Option<&PathBuf>,
) -> anyhow::Result<u8> {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render_text(verbose));
    }
    if let Some(path) = junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    Ok(exit_code(report))
}

async fn run_client_mode(args: ClientArgs) -> anyhow::Result<u8> {
    let Some((program, rest)) = args.command.split_first() else {
        bail!("give the client's command after `--`");
    };
    let known = client_scenarios();
    for pattern in &args.scenarios {
        if !pattern.contains('*') && !known.contains(&pattern.as_str()) {
            bail!(
                "`{pattern}` is not a client scenario; the scenarios are {}",
                known.join(", ")
            );
        }
    }
    let command = StdioCommand {
        program: program.clone(),
        args: rest.to_vec(),
        env: parse_env(&args.env)?,
    };
    let options = ClientOptions {
        scenarios: args.scenarios.clone(),
        time_limit: Duration::from_secs(args.timeout.max(1)),
        protocol_version: args.protocol_version.clone(),
        baseline: read_baseline(args.baseline.as_ref())?,
    };
    if std::io::stderr().is_terminal() {
        eprintln!("running the client scenarios one after the other…");
    }
    let report = run_client(&command, &options).await;
    publish(&report, args.json, args.verbose, args.junit.as_ref())
}

async fn run_server(args: ServerArgs) -> anyhow::Result<u8> {
    let target = match (&args.url, args.command.split_first()) {
        (Some(url), _) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!(
                    "`{url}` is not an http:// or https:// URL; to test a stdio server, put its command after `--`"
                );
            }
            match &args.bearer {
                Some(token) => Target::http(url.clone()).with_bearer(token.clone()),
                None => Target::http(url.clone()),
            }
        }
        (None, Some((program, rest))) => Target::Stdio(StdioCommand {
            program: program.clone(),
            args: rest.to_vec(),
            env: parse_env(&args.env)?,
        }),
        (None, None) => bail!("give the server's URL, or its command after `--`"),
    };
    let baseline = read_baseline(args.baseline.as_ref())?;
    let options = Options {
        suite: match args.suite {
            SuiteArg::Generic => Suite::Generic,
            SuiteArg::Fixtures => Suite::Fixtures,
            SuiteArg::All => Suite::All,
        },
        only: args.scenarios.clone(),
        revision: args.revision.clone(),
        call_tools: args.call_tools,
        step_limit: Duration::from_secs(args.timeout.max(1)),
        baseline,
        ..Options::default()
    };
    let mut display = ProgressDisplay::new(std::io::stderr().is_terminal());
    let report =
        run_with_progress(&target, &options, &mut |progress| display.show(&progress)).await;
    display.finish();
    if report
        .results
        .iter()
        .all(|result| result.verdict == Verdict::Skip)
        && !report.results.is_empty()
    {
        eprintln!(
            "mcpwire conform: every check was skipped; is the server reachable at {}?",
            report.target
        );
    }
    publish(&report, args.json, args.verbose, args.junit.as_ref())
}

/// 0 when the report is good for CI, 1 otherwise.
fn exit_code(report: &Report) -> u8 {
    u8::from(!report.ok())
}

/// The progress line on a terminal: one line, rewritten as checks finish.
struct ProgressDisplay {
    terminal: bool,
    failures: usize,
    shown: bool,
}

impl ProgressDisplay {
    fn new(terminal: bool) -> ProgressDisplay {
        ProgressDisplay {
            terminal,
            failures: 0,
            shown: false,
        }
    }

    fn show(&mut self, progress: &Progress<'_>) {
        if !self.terminal {
            return;
        }
        let mut err = std::io::stderr().lock();
        match progress {
            Progress::Started { total } => {
                let _ = write!(err, "\r\x1b[2Kconnected; {total} checks to run");
            }
            Progress::Finished {
                index,
                total,
                result,
            } => {
                if result.verdict == Verdict::Fail {
                    self.failures += 1;
                }
                let _ = write!(
                    err,
                    "\r\x1b[2K[{index}/{total}] {} failed so far · {} {}",
                    self.failures,
                    result.verdict.label(),
                    result.id
                );
            }
        }
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
