//! Development tasks for the mcpwire workspace, run as `cargo xtask <task>`.
//!
//! - `codegen [--check] [--schema-dir DIR]`: generate the schema modules (or check they are current).
//! - `tidy`: check the workspace's structural rules (layering, lints, crate metadata, import
//!   cycles).
//! - `fuzz <target> [--time SECONDS]`: run a cargo-fuzz target on nightly.
//! - `interop-setup`: install the third-party MCP peers of the interop tests (npm, two Python venvs).
//! - `conformance [--leg server|client|reference|mcpwire|all] [--suite NAME]`: run the official
//!   MCP conformance suite against the fixtures of `conformance/`, and mcpwire's own suite
//!   (`mcpwire conform`) beside it, with the agreement of both on the official scenarios.
//! - `scale [--suite NAME] [--instances N]`: the suite's server scenarios through HAProxy,
//!   against several fixture servers sharing one Redis (not yet part of `ci`).
//! - `bench [--suite scale|core|all] [--runs N] [--quick]`: release builds measured side by
//!   side, interleaved, with a table of medians (a benchmark, never part of `ci`).
//! - `deps`: the resolved versions of the workspace's direct dependencies.
//! - `min-versions`: check that the workspace builds with the lowest versions its manifests
//!   allow (needs the nightly toolchain to resolve them).
//! - `ci`: everything CI runs.

mod bench;
mod ci;
mod codegen;
mod conformance;
mod deployment;
mod deps;
mod fuzz;
mod interop;
mod own_suite;
mod scale;
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let Some((task, rest)) = arguments.split_first() else {
        bail!(
            "usage: cargo xtask <codegen|tidy|fuzz|interop-setup|conformance|scale|bench|deps|min-versions|ci> [options]"
        );
    };
    match task.as_str() {
        "codegen" => codegen::run(&root, rest),
        "tidy" => tidy::run(&root, rest),
        "fuzz" => fuzz::run(&root, rest),
        "interop-setup" => interop::run(&root, rest),
        "conformance" => conformance::run(&root, rest, own_suite::run),
        "scale" => scale::run(&root, rest),
        "bench" => bench::run(&root, rest),
        "deps" => deps::run(&root, rest),
        "min-versions" => deps::min_versions(&root, rest),
        "ci" => ci::run(&root, rest),
        other => bail!(
            "unknown task `{other}`; tasks: codegen, tidy, fuzz, interop-setup, conformance, scale, bench, deps, min-versions, ci"
        ),
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
