//! The report of a run: every check's verdict with what was seen, as text for people, JSON
//! for programs and JUnit XML for CI systems, and a baseline of expected failures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::check::{Area, Level, Requirement};
use crate::context::{Era, Profile};

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The requirement holds.
    Pass,
    /// A MUST is broken.
    Fail,
    /// A SHOULD is broken, or something is worth a look.
    Warning,
    /// The check did not apply.
    Skip,
}

impl Verdict {
    /// The verdict's word in the text report.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Warning => "warn",
            Verdict::Skip => "skip",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's id; with `@legacy` or `@modern` when the check runs in each era.
    pub id: String,
    /// Its area.
    pub area: Area,
    /// What it checks.
    pub title: &'static str,
    /// The requirement.
    pub requirement: Requirement,
    /// The era it ran in, when it spoke one.
    pub era: Option<Era>,
    /// Whether the official suite makes this check too.
    pub official: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// What was seen (or why it was skipped).
    pub detail: String,
    /// Whether a baseline expected it to fail.
    pub expected: bool,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed (expected failures included).
    pub failed: usize,
    /// Failures a baseline expected.
    pub expected_failures: usize,
    /// Checks that warned.
    pub warnings: usize,
    /// Checks skipped.
    pub skipped: usize,
}

/// The report of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server under test, as named.
    pub target: String,
    /// The version of this suite.
    pub suite_version: &'static str,
    /// What first contact learned.
    pub profile: Profile,
    /// Every check's result, in run order.
    pub results: Vec<CheckResult>,
    /// Baseline entries that named a check which passed or did not run.
    pub stale_baseline: Vec<String>,
    /// How long the run took, in milliseconds.
    pub millis: u64,
}

impl Report {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for result in &self.results {
            match result.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Fail => {
                    summary.failed += 1;
                    if result.expected {
                        summary.expected_failures += 1;
                    }
                }
                Verdict::Warning => summary.warnings += 1,
                Verdict::Skip => summary.skipped += 1,
            }
        }
        summary
    }

    /// Whether a CI job should pass: no unexpected failure and no stale baseline entry.
    pub fn ok(&self) -> bool {
        let summary = self.summary();
        summary.failed == summary.expected_failures && self.stale_baseline.is_empty()
    }

    /// The result of check `id`.
    pub fn result(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|result| result.id == id)
    }

    /// The report for people: grouped by area, failures and warnings with what was seen;
    /// `verbose` lists passes and skips too.
    pub fn render_text(&self, verbose: bool) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "mcpwire conformance {} — {}",
            self.suite_version, self.target
        );
        if let Some(info) = self.profile.server_info() {
            let name = info.get("name").and_then(|v| v.as_str()).unwrap_or("?");
            let version = info.get("version").and_then(|v| v.as_str()).unwrap_or("?");
            let _ = writeln!(text, "server: {name} {version}");
        }
        let tests_a_server = self
            .results
            .iter()
            .any(|result| result.area != Area::Client);
        let eras: Vec<String> = self
            .profile
            .eras()
            .iter()
            .map(|era| match era {
                Era::Legacy => format!(
                    "legacy ({})",
                    self.profile.legacy_version.as_deref().unwrap_or("?")
                ),
                Era::Modern => "modern (2026-07-28)".to_owned(),
            })
            .collect();
        if tests_a_server {
            let _ = writeln!(
                text,
                "eras: {}",
                if eras.is_empty() {
                    "none".to_owned()
                } else {
                    eras.join(", ")
                }
            );
        }
        let mut by_area: BTreeMap<Area, Vec<&CheckResult>> = BTreeMap::new();
        for result in &self.results {
            by_area.entry(result.area).or_default().push(result);
        }
        for (area, results) in by_area {
            let count = |verdict| results.iter().filter(|r| r.verdict == verdict).count();
            let _ = writeln!(
                text,
                "\n{} — {} passed, {} failed, {} warnings, {} skipped",
                area.name(),
                count(Verdict::Pass),
                count(Verdict::Fail),
                count(Verdict::Warning),
                count(Verdict::Skip)
            );
            for result in results {
                let shown = verbose || matches!(result.verdict, Verdict::Fail | Verdict::Warning);
                if !shown {
                    continue;
                }
                let expected = if result.expected { " (expected)" } else { "" };
                let _ = writeln!(
                    text,
                    "  {:4} {}{expected}  {}",
                    result.verdict.label(),
                    result.id,
                    result.title
                );
                if result.verdict != Verdict::Pass {
                    let requirement = &result.requirement;
                    let level = match requirement.level {
                        Level::Must => "MUST",
                        Level::Should => "SHOULD",
                    };
                    let number = requirement
                        .number
                        .map(|number| format!(" [#{number}]"))
                        .unwrap_or_default();
                    if result.verdict != Verdict::Skip {
                        let _ = writeln!(
                            text,
                            "       {level}{number} {} {}: {}",
                            requirement.revision, requirement.page, requirement.text
                        );
                    }
                    let _ = writeln!(text, "       seen: {}", result.detail);
                }
            }
        }
        for stale in &self.stale_baseline {
            let _ = writeln!(text, "\nbaseline: {stale}");
        }
        let summary = self.summary();
        let _ = writeln!(
            text,
            "\n{} passed, {} failed ({} expected), {} warnings, {} skipped in {:.1} s",
            summary.passed,
            summary.failed,
            summary.expected_failures,
            summary.warnings,
            summary.skipped,
            self.millis as f64 / 1000.0
        );
        text
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["summary"] = serde_json::to_value(self.summary()).unwrap_or_default();
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// The report as JUnit XML: one test suite per area, one test case per check.
    pub fn to_junit(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let summary = self.summary();
        let _ = writeln!(
            xml,
            "<testsuites name=\"mcpwire-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.results.len(),
            summary.failed - summary.expected_failures,
            summary.skipped,
            self.millis as f64 / 1000.0
        );
        let mut by_area: BTreeMap<Area, Vec<&CheckResult>> = BTreeMap::new();
        for result in &self.results {
            by_area.entry(result.area).or_default().push(result);
        }
        for (area, results) in by_area {
            let failures = results
                .iter()
                .filter(|r| r.verdict == Verdict::Fail && !r.expected)
                .count();
            let skipped = results
                .iter()
                .filter(|r| r.verdict == Verdict::Skip)
                .count();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
                area.name(),
                results.len()
            );
            for result in results {
                let _ = write!(
                    xml,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                    area.name(),
                    escape(&result.id),
                    result.millis as f64 / 1000.0
                );
                let requirement = format!(
                    "{} {}: {}",
                    result.requirement.revision, result.requirement.page, result.requirement.text
                );
                match result.verdict {
                    Verdict::Fail if !result.expected => {
                        let _ = write!(
                            xml,
                            "<failure message=\"{}\">{}</failure>",
                            escape(&result.detail),
                            escape(&requirement)
                        );
                    }
                    Verdict::Skip => {
                        let _ = write!(xml, "<skipped message=\"{}\"/>", escape(&result.detail));
                    }
                    Verdict::Fail | Verdict::Warning => {
                        let _ = write!(
                            xml,
                            "<system-out>{}: {}</system-out>",
                            result.verdict.label(),
                            escape(&result.detail)
                        );
                    }
                    Verdict::Pass => {}
                }
                xml.push_str("</testcase>\n");
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

/// Escapes text for XML attributes and content.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// The checks a run expects to fail, each with its reason: a JSON object from check id to
/// reason. Strict: a listed check that passes, warns, is skipped or does not run makes the
/// run fail, so the file never hides a fixed defect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Baseline {
    /// Check id to reason.
    pub expected: BTreeMap<String, String>,
}

impl Baseline {
    /// Parses a baseline file's text.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        serde_json::from_str(text).map_err(|error| format!("the baseline is not valid: {error}"))
    }

    /// Marks the expected failures of `report` and lists its stale entries.
    pub fn apply(&self, report: &mut Report) {
        for (id, reason) in &self.expected {
            match report.results.iter_mut().find(|result| &result.id == id) {
                Some(result) if result.verdict == Verdict::Fail => result.expected = true,
                Some(result) => report.stale_baseline.push(format!(
                    "`{id}` is listed as an expected failure ({reason}) but its verdict is {}; remove the entry",
                    result.verdict.label()
                )),
                None => report.stale_baseline.push(format!(
                    "`{id}` is listed as an expected failure ({reason}) but no such check ran; remove the entry"
                )),
            }
        }
    }
}
