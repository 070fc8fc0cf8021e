//! A conformance suite for MCP servers and clients, whatever language they are written in.
//!
//! Point it at a server, a Streamable HTTP URL or a command that speaks stdio, and it checks
//! the requirements of the specification that can be seen on the wire: version negotiation
//! and the lifecycle, JSON-RPC framing and exact error codes, capabilities against behaviour,
//! pagination, the schemas of tools, resources, prompts, completion, logging, the HTTP
//! transport's statuses and headers, and the modern era's (2026-07-28) own rules. Each check
//! names the requirement it tests (revision, page, MUST or SHOULD, the sentence) and gives
//! pass, fail, warning or skip with what was seen.
//!
//! ```no_run
//! # async fn example() {
//! use mcpwire_conformance::{Options, Target, run};
//!
//! let report = run(&Target::http("http://127.0.0.1:3000/mcp"), &Options::default()).await;
//! print!("{}", report.render_text(false));
//! assert!(report.ok());
//! # }
//! ```
//!
//! The suite is safe to point at a server that does real work: it calls no tool unless the
//! tool is annotated read-only or [`Options::call_tools`] allows it, each exchange and each
//! check is bounded in time, and each check sends a bounded number of requests.
//!
//! It tests clients too: [`run_client`] plays the server for each client scenario of the
//! official suite, starts the client command the way that suite does, and checks what the
//! client sent.
//!
//! The `mcpwire conform` command of `mcpwire-cli` runs it from the command line.

pub mod answering;
pub mod check;
mod checks;
mod client;
pub mod context;
pub mod report;
pub mod session;
pub mod target;
pub mod wire;

use std::time::{Duration, Instant};

pub use check::{Area, Check, Checked, EraNeed, Level, Outcome, Requirement};
pub use client::{ClientCheckInfo, ClientOptions, client_catalogue, client_scenarios, run_client};
pub use context::{Ctx, Era, Profile, Protection};
pub use report::{Baseline, CheckResult, Report, Summary, Verdict};
pub use target::{Bearer, StdioCommand, Target, Transport};

/// Which checks a run makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Suite {
    /// The checks that need nothing from the server but MCP: the default.
    #[default]
    Generic,
    /// The official suite's scenarios, for servers that implement its fixture tools (they
    /// call those tools).
    Fixtures,
    /// Both.
    All,
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which checks.
    pub suite: Suite,
    /// Only the checks whose id matches one of these: an exact id, an area (`http/`), or a
    /// pattern with `*`. Empty: every check of the suite.
    pub only: Vec<String>,
    /// The revision to test: a legacy one (offered in `initialize`, and the modern era not
    /// tested) or `2026-07-28` (the modern era alone). None: every era the server speaks, the
    /// legacy one at the newest revision the server accepts.
    pub revision: Option<String>,
    /// Whether checks may call tools that are not annotated read-only.
    pub call_tools: bool,
    /// How long one exchange may take.
    pub step_limit: Duration,
    /// How long one check may take.
    pub check_limit: Duration,
    /// The expected failures.
    pub baseline: Option<Baseline>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            suite: Suite::Generic,
            only: Vec::new(),
            revision: None,
            call_tools: false,
            step_limit: Duration::from_secs(10),
            check_limit: Duration::from_secs(30),
            baseline: None,
        }
    }
}

/// What a run tells its caller as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// First contact is over; this many checks will run.
    Started {
        /// How many.
        total: usize,
    },
    /// A check has finished.
    Finished {
        /// Its position, from 1.
        index: usize,
        /// How many in all.
        total: usize,
        /// Its result.
        result: &'a CheckResult,
    },
}

/// Every check of the suite, in run order.
pub fn catalogue() -> Vec<Check> {
    checks::all()
}

/// Runs the suite against `target`.
pub async fn run(target: &Target, options: &Options) -> Report {
    run_with_progress(target, options, &mut |_| {}).await
}

/// Runs the suite against `target`, telling `progress` of each check as it finishes.
pub async fn run_with_progress(
    target: &Target,
    options: &Options,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Report {
    let started = Instant::now();
    let mut ctx = Ctx::probe(target.clone(), options.clone()).await;
    let eras = ctx.profile().eras();
    let mut planned: Vec<(Check, Option<Era>, String)> = Vec::new();
    for check in catalogue() {
        let in_suite = match options.suite {
            Suite::All => true,
            Suite::Generic => check.area != Area::Fixtures,
            Suite::Fixtures => check.area == Area::Fixtures,
        };
        if !in_suite {
            continue;
        }
        let runs: Vec<(Option<Era>, String)> = match check.era {
            EraNeed::Legacy => vec![(Some(Era::Legacy), check.id.to_owned())],
            EraNeed::Modern => vec![(Some(Era::Modern), check.id.to_owned())],
            EraNeed::Any => vec![(eras.first().copied(), check.id.to_owned())],
            EraNeed::Each => {
                let wanted: Vec<Era> = if eras.is_empty() {
                    vec![Era::Legacy]
                } else {
                    eras.clone()
                };
                wanted
                    .into_iter()
                    .map(|era| (Some(era), format!("{}@{}", check.id, era_name(era))))
                    .collect()
            }
        };
        for (era, id) in runs {
            if selected(&options.only, &id) || selected(&options.only, check.id) {
                planned.push((check.clone(), era, id));
            }
        }
    }
    let total = planned.len();
    progress(Progress::Started { total });
    let mut results = Vec::with_capacity(total);
    for (index, (check, era, id)) in planned.into_iter().enumerate() {
        let began = Instant::now();
        let outcome = match applies(&check, era, &ctx) {
            Some(reason) => Outcome::Skip(reason),
            None => {
                if let Some(era) = era {
                    ctx.set_era(era);
                }
                match tokio::time::timeout(options.check_limit, (check.run)(&mut ctx)).await {
                    Ok(Ok(outcome) | Err(outcome)) => outcome,
                    Err(_) => {
                        ctx.reset_shared();
                        Outcome::Violated(format!(
                            "the check did not finish within {} s",
                            options.check_limit.as_secs()
                        ))
                    }
                }
            }
        };
        let (verdict, detail) = match outcome {
            Outcome::Pass(seen) => (Verdict::Pass, seen),
            Outcome::Violated(seen) => match check.requirement.level {
                Level::Must => (Verdict::Fail, seen),
                Level::Should => (Verdict::Warning, seen),
            },
            Outcome::Warn(seen) => (Verdict::Warning, seen),
            Outcome::Skip(why) => (Verdict::Skip, why),
        };
        let result = CheckResult {
            id,
            area: check.area,
            title: check.title,
            requirement: check.requirement,
            era,
            official: check.official,
            verdict,
            detail,
            expected: false,
            millis: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        progress(Progress::Finished {
            index: index + 1,
            total,
            result: &result,
        });
        results.push(result);
    }
    let profile = ctx.profile().clone();
    let described = ctx.target().describe();
    ctx.close().await;
    let mut report = Report {
        target: described,
        suite_version: env!("CARGO_PKG_VERSION"),
        profile,
        results,
        stale_baseline: Vec::new(),
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if let Some(baseline) = &options.baseline {
        baseline.apply(&mut report);
    }
    report
}

/// Why `check` does not apply in `era` to the server, if it does not.
fn applies(check: &Check, era: Option<Era>, ctx: &Ctx) -> Option<String> {
    if let Some(transport) = check.transport
        && transport != ctx.transport()
    {
        return Some(match transport {
            Transport::Http => "the server is not reached over HTTP".to_owned(),
            Transport::Stdio => "the server is not reached over stdio".to_owned(),
            Transport::HttpSse => "the server is not reached over HTTP+SSE".to_owned(),
        });
    }
    let profile = ctx.profile();
    if profile.protection.is_some()
        && ctx.target().bearer().is_none()
        && check.area != Area::Authorization
    {
        return Some(
            "the server asks for an access token (401 without one): give one (`--bearer`) to \
             run this check"
                .to_owned(),
        );
    }
    match (check.era, era) {
        (EraNeed::Any, _) => None,
        (_, Some(Era::Legacy)) if profile.initialize.is_none() => Some(format!(
            "no legacy session: {}",
            profile
                .legacy_error
                .as_deref()
                .unwrap_or("the legacy era was not tested")
        )),
        (_, Some(Era::Modern)) if profile.discover.is_none() => Some(format!(
            "the server does not speak the modern era: {}",
            profile
                .modern_error
                .as_deref()
                .unwrap_or("it was not tested")
        )),
        _ => None,
    }
}

/// The name of an era in check ids.
fn era_name(era: Era) -> &'static str {
    match era {
        Era::Legacy => "legacy",
        Era::Modern => "modern",
    }
}

/// Whether `id` matches one of `patterns` (all ids match none).
fn selected(patterns: &[String], id: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|pattern| {
            pattern == id
                || (pattern.ends_with('/') && id.starts_with(pattern.as_str()))
                || (pattern.contains('*') && glob(pattern.as_bytes(), id.as_bytes()))
        })
}

/// Matches `*` wildcards.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        Some((first, rest)) => text
            .split_first()
            .is_some_and(|(head, tail)| head == first && glob(rest, tail)),
    }
}

/// Feeds `data` to the suite's SSE reader (the reader of what a server under test sends) in
/// one piece and in chunks whose sizes the first byte chooses, for the fuzz target
/// `conformance_sse`.
///
/// # Panics
///
/// When the two readings differ.
#[doc(hidden)]
pub fn fuzz_sse(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut whole = wire::sse::SseReader::default();
    let whole_events = whole.feed(stream);
    let mut chunked = wire::sse::SseReader::default();
    let mut chunked_events = Vec::new();
    let size = usize::from(seed % 7) + 1;
    for chunk in stream.chunks(size) {
        chunked_events.extend(chunked.feed(chunk));
    }
    assert_eq!(
        whole_events, chunked_events,
        "events depend on chunk boundaries"
    );
    assert_eq!(
        whole.malformed, chunked.malformed,
        "malformed lines depend on chunk boundaries"
    );
}

/// The start of `text`, for a report line.
pub(crate) fn clip(text: &str) -> String {
    const KEPT: usize = 300;
    let text = text.trim();
    if text.len() <= KEPT {
        return text.replace('\n', "\\n");
    }
    let mut end = KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… ({} bytes)",
        text[..end].replace('\n', "\\n"),
        text.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_select_ids_areas_and_globs() {
        assert!(selected(&[], "http/anything"));
        assert!(selected(&["http/".into()], "http/origin"));
        assert!(!selected(&["http/".into()], "tools/names"));
        assert!(selected(
            &["*/unknown-*".into()],
            "json-rpc/unknown-method@legacy"
        ));
        assert!(selected(&["tools/names".into()], "tools/names"));
        assert!(!selected(&["tools/name".into()], "tools/names"));
    }

    #[test]
    fn check_ids_are_unique_and_named_by_their_area() {
        let mut seen = std::collections::HashSet::new();
        for check in catalogue() {
            assert!(seen.insert(check.id), "duplicate id {}", check.id);
            assert!(
                check.id.starts_with(&format!("{}/", check.area.name())),
                "{} is not in area {}",
                check.id,
                check.area.name()
            );
        }
    }
}
