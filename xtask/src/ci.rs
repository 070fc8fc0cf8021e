//! `cargo xtask ci`: everything CI runs, in order, stopping at the first failure.
//!
//! formatting, generated code freshness, workspace structure, the resolved versions of the
//! direct dependencies (`deps`), clippy with warnings denied (but for uses of deprecated
//! items, which are listed and do not fail),
//! the interop peers' installation (`interop-setup`), the test suites (cargo-nextest when
//! installed, else `cargo test`), doc tests, the API docs with warnings denied, and the
//! official conformance suite (`cargo xtask conformance`, both roles, both pinned suite
//! versions, against `conformance/expected-failures.json`), and its server scenarios again
//! through three instances behind HAProxy sharing one Redis (`cargo xtask scale`). Each step
//! prints its duration.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    if let Some(argument) = arguments.first() {
        bail!("`ci` takes no arguments, got `{argument}`");
    }
    let started = Instant::now();
    step("fmt", || cargo(root, &["fmt", "--all", "--check"], &[]))?;
    step("codegen --check", || {
        crate::codegen::run(root, &["--check".to_owned()])
    })?;
    step("tidy", || crate::tidy::run(root, &[]))?;
    step("dependencies", || crate::deps::run(root, &[]))?;
    let mut deprecations = Vec::new();
    step("clippy", || {
        deprecations = clippy(root)?;
        Ok(())
    })?;
    step("lean roles", || lean_roles(root))?;
    step("interop setup", || crate::interop::run(root, &[]))?;
    step("tests", || {
        if crate::interop::has_nextest(root) {
            cargo(
                root,
                &[
                    "nextest",
                    "run",
                    "--workspace",
                    "--all-features",
                    "--no-fail-fast",
                    "--cargo-quiet",
                ],
                &[],
            )
        } else {
            cargo(
                root,
                &[
                    "test",
                    "--workspace",
                    "--all-features",
                    "--no-fail-fast",
                    "--lib",
                    "--bins",
                    "--tests",
                ],
                &[],
            )
        }
    })?;
    step("doc tests", || {
        cargo(
            root,
            &["test", "--workspace", "--all-features", "--doc"],
            &[],
        )
    })?;
    step("docs", || {
        cargo(
            root,
            &["doc", "--workspace", "--all-features", "--no-deps"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    step("conformance", || {
        crate::conformance::run(root, &[], crate::own_suite::run)
    })?;
    step("scale", || crate::scale::run(root, &[]))?;
    println!("ci: all steps passed in {:.0?}", started.elapsed());
    if !deprecations.is_empty() {
        println!(
            "ci: WARNING: {} use(s) of items that a dependency deprecated; see `ci: clippy` above",
            deprecations.len()
        );
    }
    Ok(())
}

/// Runs clippy over the workspace with every warning an error but one: a use of a
/// deprecated item stays a warning (`--force-warn`, which no `allow` attribute silences), so
/// that a dependency deprecating an API in a new release does not turn a clean clone red on
/// its own. Such uses are listed loudly and returned, except those acknowledged in the code
/// by an `#[allow(deprecated)]` within the three lines above them, which are counted.
fn clippy(root: &Path) -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut child = Command::new(cargo)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--message-format=json",
            "--",
            "-D",
            "warnings",
            "--force-warn",
            "deprecated",
        ])
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting cargo clippy")?;
    let stdout = child.stdout.take().context("clippy's output")?;
    let mut deprecations = BTreeSet::new();
    let mut acknowledged = BTreeSet::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading clippy's output")?;
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            println!("{line}");
            continue;
        };
        if message["reason"] != "compiler-message" {
            continue;
        }
        let diagnostic = &message["message"];
        if let Some(rendered) = diagnostic["rendered"].as_str() {
            eprint!("{rendered}");
        }
        if diagnostic["code"]["code"] != "deprecated" {
            continue;
        }
        let span = &diagnostic["spans"][0];
        let file = span["file_name"].as_str().unwrap_or("?");
        let line = span["line_start"].as_u64().unwrap_or(0);
        let site = format!(
            "{file}:{line}: {}",
            diagnostic["message"].as_str().unwrap_or("?")
        );
        if allowed_above(&root.join(file), line) {
            acknowledged.insert(site);
        } else {
            deprecations.insert(site);
        }
    }
    let status = child.wait().context("waiting for cargo clippy")?;
    if !acknowledged.is_empty() {
        println!(
            "ci: {} use(s) of deprecated items acknowledged with `#[allow(deprecated)]` and a reason",
            acknowledged.len()
        );
    }
    if !deprecations.is_empty() {
        println!(
            "ci: WARNING: {} use(s) of deprecated items, not failing the build so that an \
             upstream deprecation does not turn CI red by itself; replace them:",
            deprecations.len()
        );
        for deprecation in &deprecations {
            println!("ci:   {deprecation}");
        }
    }
    if !status.success() {
        bail!("cargo clippy exited with {status}");
    }
    Ok(deprecations.into_iter().collect())
}

/// Whether one of the three lines above line `line` (1-based) of `file` allows `deprecated`.
fn allowed_above(file: &Path, line: u64) -> bool {
    let Ok(source) = std::fs::read_to_string(file) else {
        return false;
    };
    let index = usize::try_from(line).unwrap_or(0).saturating_sub(1);
    let lines: Vec<&str> = source.lines().take(index).collect();
    lines[lines.len().saturating_sub(3)..]
        .iter()
        .any(|above| above.contains("allow(deprecated)"))
}

fn step(name: &str, action: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("ci: {name}");
    let started = Instant::now();
    let outcome = action().with_context(|| format!("ci step `{name}` failed"));
    println!(
        "ci: {name}: {} in {:.1?}",
        if outcome.is_ok() { "ok" } else { "FAILED" },
        started.elapsed()
    );
    outcome
}

fn cargo(root: &Path, arguments: &[&str], environment: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(arguments)
        .envs(environment.iter().copied())
        .current_dir(root)
        .status()
        .with_context(|| format!("starting cargo {}", arguments.join(" ")))?;
    if !status.success() {
        bail!("cargo {} exited with {status}", arguments.join(" "));
    }
    Ok(())
}

/// The crates that must build with `--no-default-features`, and the workspace crates that
/// must then stay out of their dependency graph: each role without tasks.
const LEAN_BUILDS: &[(&str, &[&str])] = &[
    ("mcpwire-server", &["mcpwire-ext-tasks"]),
    ("mcpwire-client", &["mcpwire-ext-tasks"]),
];

/// Builds each crate of [`LEAN_BUILDS`] without its default features, and fails when a crate
/// it must do without is still in its normal dependencies.
fn lean_roles(root: &Path) -> Result<()> {
    let cargo_path = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (krate, without) in LEAN_BUILDS {
        cargo(
            root,
            &["check", "-p", krate, "--no-default-features", "--quiet"],
            &[],
        )?;
        let output = Command::new(&cargo_path)
            .args(["tree", "-p", krate, "--no-default-features", "-e", "normal"])
            .args(["--prefix", "none", "--format", "{p}"])
            .current_dir(root)
            .output()
            .with_context(|| format!("starting cargo tree -p {krate}"))?;
        if !output.status.success() {
            bail!(
                "cargo tree -p {krate} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        for unwanted in *without {
            if tree
                .lines()
                .any(|line| line.split_whitespace().next() == Some(unwanted))
            {
                bail!("{krate} --no-default-features still depends on {unwanted}");
            }
        }
        println!(
            "ci: {krate} builds without default features, without {}",
            without.join(", ")
        );
    }
    Ok(())
}
