//! `cargo xtask interop-setup`: installs the third-party MCP peers of the interop tests.
//!
//! - `interop/node_modules/` from `interop/package-lock.json` (`npm ci`): the TypeScript SDK
//!   and `@modelcontextprotocol/server-everything`;
//! - a Python virtual environment at `<target dir>/interop/venv` with
//!   `interop/requirements.txt` installed: the Python SDK 1.x (`mcp`), the legacy-era peers;
//! - a second one at `<target dir>/interop/venv2` with `interop/requirements-v2.txt`
//!   installed: the Python SDK 2.x, which speaks both the legacy and the modern (2026-07-28)
//!   era;
//! - `redis-server` and `haproxy`, from Debian's packages, for the tests of
//!   `mcpwire-store-redis` (which start their own servers, and their own balancer in front of
//!   several instances): installed with `apt-get` when they are not on the `PATH`.
//!
//! It is idempotent: each install leaves a stamp holding the SHA-256 of the files it installed
//! from, and is skipped while the stamp matches. Concurrent runs (test binaries call it too)
//! take turns through a lock file. The target dir is the one `cargo metadata` reports; the
//! interop tests find the venvs the same way.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

/// The directory of the peers' manifests and scripts, relative to the workspace root.
const INTEROP_DIR: &str = "interop";

/// The files `npm ci` installs from; a change to either reinstalls.
const NPM_INPUTS: &[&str] = &["package.json", "package-lock.json"];

/// The stamp `npm ci` leaves, inside `node_modules/` so that removing the modules removes it.
const NPM_STAMP: &str = "node_modules/.mcpwire-interop-stamp";

/// The Python venvs: each one's directory under `<target dir>/interop` and the requirements
/// file (in `interop/`) pip installs into it.
const VENVS: &[Venv] = &[
    Venv {
        directory: "venv",
        requirements: "requirements.txt",
    },
    Venv {
        directory: "venv2",
        requirements: "requirements-v2.txt",
    },
];

/// The stamp pip leaves, inside the venv.
const PIP_STAMP: &str = ".mcpwire-interop-stamp";

/// One Python venv of the interop peers.
struct Venv {
    /// The venv's directory, relative to `<target dir>/interop`.
    directory: &'static str,
    /// The requirements file, relative to `interop/`; a change to it reinstalls.
    requirements: &'static str,
}

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    if let Some(argument) = arguments.first() {
        bail!("`interop-setup` takes no arguments, got `{argument}`");
    }
    let interop = root.join(INTEROP_DIR);
    let state = target_dir(root)?.join("interop");
    fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;

    // Held until this function returns; dropping the file releases the lock.
    let lock_path = state.join("setup.lock");
    let lock =
        File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;

    setup_debian_servers()?;
    setup_node(&interop)?;
    for venv in VENVS {
        setup_python(&interop, &state.join(venv.directory), venv.requirements)?;
    }
    Ok(())
}

/// The cargo target directory, honouring `CARGO_TARGET_DIR` and config files.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let directory = metadata["target_directory"]
        .as_str()
        .context("cargo metadata names no target_directory")?;
    Ok(PathBuf::from(directory))
}

/// The servers from Debian's packages that tests start themselves: the command that runs
/// each (asked for its version to tell whether it is installed) and its package.
const DEBIAN_SERVERS: &[(&str, &str, &str)] = &[
    // The tests of mcpwire-store-redis start their own Redis servers.
    ("redis-server", "--version", "redis-server"),
    // The tests of many instances behind a load balancer start their own HAProxy.
    ("haproxy", "-v", "haproxy"),
];

/// Installs the servers of [`DEBIAN_SERVERS`] that are missing, with one `apt-get install`;
/// none is started (the Debian packages' own services stay down without an init system).
pub(crate) fn setup_debian_servers() -> Result<()> {
    let mut missing = Vec::new();
    for (command, version, package) in DEBIAN_SERVERS {
        let present = Command::new(command)
            .arg(version)
            .output()
            .is_ok_and(|output| output.status.success());
        if present {
            println!("interop-setup: {command} is installed");
        } else {
            missing.push(*package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    println!("interop-setup: installing {packages} with apt-get");
    run_command(
        Command::new("apt-get").args(["update", "-qq"]),
        &format!("apt-get update (installing {packages} needs Debian's packages and root)"),
    )?;
    run_command(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {packages}"),
    )?;
    Ok(())
}

fn setup_node(interop: &Path) -> Result<()> {
    let stamp = interop.join(NPM_STAMP);
    let digest = digest_of(interop, NPM_INPUTS)?;
    if fs::read_to_string(&stamp).is_ok_and(|content| content == digest) {
        println!("interop-setup: interop/node_modules is up to date with package-lock.json");
        return Ok(());
    }
    println!("interop-setup: npm ci in interop/");
    // Lifecycle scripts of dependencies are not needed and not run.
    run_command(
        Command::new(npm())
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(interop),
        "npm (Node.js 20 or newer is needed for the interop tests)",
    )?;
    fs::write(&stamp, digest).with_context(|| format!("writing {}", stamp.display()))
}

fn setup_python(interop: &Path, venv: &Path, requirements: &str) -> Result<()> {
    let python = venv_python(venv);
    let stamp = venv.join(PIP_STAMP);
    let digest = digest_of(interop, &[requirements])?;
    let venv_works = Command::new(&python)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if venv_works && fs::read_to_string(&stamp).is_ok_and(|content| content == digest) {
        println!(
            "interop-setup: the Python venv {} is up to date with {requirements}",
            venv.display()
        );
        return Ok(());
    }
    if !venv_works {
        println!("interop-setup: creating the Python venv {}", venv.display());
        run_command(
            Command::new(system_python()).args([
                OsStr::new("-m"),
                OsStr::new("venv"),
                OsStr::new("--clear"),
                venv.as_os_str(),
            ]),
            "python3 (Python 3.10 or newer with the venv module is needed for the interop tests)",
        )?;
    }
    println!("interop-setup: pip install -r interop/{requirements}");
    run_command(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(interop.join(requirements)),
        "pip in the interop venv",
    )?;
    fs::write(&stamp, digest).with_context(|| format!("writing {}", stamp.display()))
}

/// The SHA-256 of `files` (in `directory`), in order, as hex.
pub(crate) fn digest_of(directory: &Path, files: &[&str]) -> Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        let path = directory.join(file);
        let content = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        hasher.update(file.as_bytes());
        hasher.update(content.len().to_le_bytes());
        hasher.update(&content);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

pub(crate) fn run_command(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {what}: is it installed and on PATH?"))?;
    if !status.success() {
        bail!("{what} exited with {status}");
    }
    Ok(())
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

pub(crate) fn npm() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

fn system_python() -> &'static str {
    if cfg!(windows) { "python" } else { "python3" }
}

/// Whether cargo-nextest is installed, which the test runs prefer.
pub(crate) fn has_nextest(root: &Path) -> bool {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args(["nextest", "--version"])
        .current_dir(root)
        .output()
        .is_ok_and(|output| output.status.success())
}
