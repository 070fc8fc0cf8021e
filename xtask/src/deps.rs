//! `cargo xtask deps`: the versions of the direct dependencies that this checkout resolved.
//!
//! `Cargo.lock` is not committed, so every clean clone resolves the newest versions that the
//! manifests allow, and a dependency's new release reaches CI with no change on our side.
//! `cargo xtask ci` prints this table first, so a run that a new release broke shows which
//! version it built with. Each row is a package outside the workspace that a workspace crate
//! depends on directly (with every feature on, for every target): its resolved version(s),
//! the requirement(s) the manifests state, and how it is used (normal, build, dev).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

/// One external package, as the workspace's crates depend on it.
#[derive(Default)]
struct Direct {
    versions: BTreeSet<String>,
    requirements: BTreeSet<String>,
    kinds: BTreeSet<&'static str>,
}

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    if let Some(argument) = arguments.first() {
        bail!("`deps` takes no arguments, got `{argument}`");
    }
    let direct = resolve(root)?;
    let width = direct.keys().map(String::len).max().unwrap_or(0);
    println!(
        "{} direct dependencies, resolved (version, manifest requirement, use):",
        direct.len()
    );
    for (name, package) in &direct {
        println!(
            "  {name:<width$}  {:<10}  {:<12}  {}",
            join(&package.versions),
            join(&package.requirements),
            join(&package.kinds),
        );
    }
    Ok(())
}

fn join<T: AsRef<str>>(items: &BTreeSet<T>) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The direct dependencies of the workspace's crates, by package name.
fn resolve(root: &Path) -> Result<BTreeMap<String, Direct>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--all-features"])
        .current_dir(root)
        .output()
        .context("starting cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
    let members: HashSet<&str> = strings(&metadata["workspace_members"]).collect();
    let packages: HashMap<&str, &Value> = metadata["packages"]
        .as_array()
        .context("cargo metadata lists no packages")?
        .iter()
        .filter_map(|package| Some((package["id"].as_str()?, package)))
        .collect();

    let mut direct: BTreeMap<String, Direct> = BTreeMap::new();
    for id in &members {
        let Some(package) = packages.get(id) else {
            continue;
        };
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            // Path dependencies have no source: they are the workspace's own crates.
            if dependency["source"].is_null() {
                continue;
            }
            let (Some(name), Some(requirement)) =
                (dependency["name"].as_str(), dependency["req"].as_str())
            else {
                continue;
            };
            let entry = direct.entry(name.to_owned()).or_default();
            entry.requirements.insert(requirement.to_owned());
            entry.kinds.insert(kind(&dependency["kind"]));
        }
    }
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .context("cargo metadata has no resolve graph")?;
    for node in nodes {
        if !node["id"].as_str().is_some_and(|id| members.contains(id)) {
            continue;
        }
        for dependency in node["deps"].as_array().into_iter().flatten() {
            let Some(id) = dependency["pkg"].as_str() else {
                continue;
            };
            if members.contains(id) {
                continue;
            }
            let Some(package) = packages.get(id) else {
                continue;
            };
            let (Some(name), Some(version)) =
                (package["name"].as_str(), package["version"].as_str())
            else {
                continue;
            };
            direct
                .entry(name.to_owned())
                .or_default()
                .versions
                .insert(version.to_owned());
        }
    }
    Ok(direct)
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn kind(value: &Value) -> &'static str {
    match value.as_str() {
        Some("dev") => "dev",
        Some("build") => "build",
        _ => "normal",
    }
}

/// `cargo xtask min-versions`: checks that the workspace builds with the lowest versions its
/// manifests allow for its direct dependencies (`-Z direct-minimal-versions`, which needs the
/// nightly toolchain to resolve; the check itself runs on the pinned toolchain). The lock file
/// it resolves is set aside in `target/min-versions/` and the checkout's own is restored, so
/// the next build resolves as before.
pub(crate) fn min_versions(root: &Path, arguments: &[String]) -> Result<()> {
    if let Some(argument) = arguments.first() {
        bail!("`min-versions` takes no arguments, got `{argument}`");
    }
    let lock = root.join("Cargo.lock");
    let target = root.join("target").join("min-versions");
    std::fs::create_dir_all(&target).context("creating target/min-versions")?;
    let saved = std::fs::read(&lock).ok();
    let outcome = resolve_minimal_and_check(root, &target);
    if let Ok(minimal) = std::fs::read(&lock) {
        std::fs::write(target.join("Cargo.lock"), minimal).context("keeping the minimal lock")?;
    }
    match saved {
        Some(saved) => std::fs::write(&lock, saved).context("restoring Cargo.lock")?,
        None => std::fs::remove_file(&lock).context("removing the minimal Cargo.lock")?,
    }
    outcome?;
    println!("min-versions: the workspace builds with the lowest direct dependency versions");
    Ok(())
}

fn resolve_minimal_and_check(root: &Path, target: &Path) -> Result<()> {
    let status = crate::fuzz::nightly_cargo()
        .args(["generate-lockfile", "-Z", "direct-minimal-versions"])
        .current_dir(root)
        .status()
        .context("starting cargo +nightly generate-lockfile")?;
    if !status.success() {
        bail!("no resolution with the lowest allowed versions (cargo exited with {status})");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "check",
            "--locked",
            "--workspace",
            "--all-targets",
            "--all-features",
        ])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(root)
        .status()
        .context("starting cargo check")?;
    if !status.success() {
        bail!("the workspace does not build with its lowest allowed versions ({status})");
    }
    Ok(())
}
