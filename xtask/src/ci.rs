//! `cargo xtask ci`: everything CI runs, in order, stopping at the first failure.
//!
//! formatting, generated code freshness, workspace structure, clippy with warnings denied,
//! the interop peers' installation (`interop-setup`), the test suites (cargo-nextest when
//! installed, else `cargo test`), doc tests, the API docs with warnings denied, and the
//! official conformance suite (`cargo xtask conformance`, both roles, both pinned suite
//! versions, against `conformance/expected-failures.json`). Each step prints its duration.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

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
    step("clippy", || {
        cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )
    })?;
    step("interop setup", || crate::interop::run(root, &[]))?;
    step("tests", || {
        if has_nextest(root) {
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
    step("conformance", || crate::conformance::run(root, &[]))?;
    println!("ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
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

fn has_nextest(root: &Path) -> bool {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args(["nextest", "--version"])
        .current_dir(root)
        .output()
        .is_ok_and(|output| output.status.success())
}
