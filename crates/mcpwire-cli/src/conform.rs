//! `mcpwire conform`: runs the mcpwire conformance suite against a server and reports.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use mcpwire_conformance::{
    Baseline, Options, Progress, Report, StdioCommand, Suite, Target, Verdict, run_with_progress,
};

/// What `mcpwire conform` tests.
#[derive(Debug, Subcommand)]
pub enum Conform {
    /// Tests an MCP server: a Streamable HTTP URL, or a command after `--` that speaks stdio.
    #[command(after_help = SERVER_EXAMPLES)]
    Server(ServerArgs),
    /// Lists the checks of the suite with the requirement each one tests.
    List,
}

const SERVER_EXAMPLES: &str = "\
Examples:
  mcpwire conform server http://127.0.0.1:3000/mcp
  mcpwire conform server -- npx -y @modelcontextprotocol/server-everything
  mcpwire conform server --scenario 'http/*' --junit report.xml http://127.0.0.1:3000/mcp
  mcpwire conform server --revision 2025-06-18 --json -- python -m my_server

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
            for check in mcpwire_conformance::catalogue() {
                let requirement = &check.requirement;
                writeln!(
                    out,
                    "{:44} {:?} {} {}: {}",
                    check.id,
                    requirement.level,
                    requirement.revision,
                    requirement.page,
                    check.title
                )?;
            }
            Ok(0)
        }
        Conform::Server(args) => run_server(args).await,
    }
}

async fn run_server(args: ServerArgs) -> anyhow::Result<u8> {
    let target = match (&args.url, args.command.split_first()) {
        (Some(url), _) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!(
                    "`{url}` is not an http:// or https:// URL; to test a stdio server, put its command after `--`"
                );
            }
            Target::http(url.clone())
        }
        (None, Some((program, rest))) => {
            let mut env = Vec::new();
            for pair in &args.env {
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--env `{pair}` is not KEY=VALUE");
                };
                env.push((key.to_owned(), value.to_owned()));
            }
            Target::Stdio(StdioCommand {
                program: program.clone(),
                args: rest.to_vec(),
                env,
            })
        }
        (None, None) => bail!("give the server's URL, or its command after `--`"),
    };
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the baseline {}", path.display()))?;
            Some(Baseline::parse(&text).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
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
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render_text(args.verbose));
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    Ok(exit_code(&report))
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
