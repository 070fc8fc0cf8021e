//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/`.
//!
//! - `cargo xtask fuzz <target> [--time SECONDS] [-- LIBFUZZER_OPTION...]` runs one target on
//!   nightly for SECONDS (default 60), with its seed corpus `fuzz/corpus/<target>/`. New
//!   inputs libFuzzer finds are written to that directory too, named by their SHA-1; the
//!   `.gitignore` there keeps them out of commits. A crash fails the command and leaves the
//!   input in `fuzz/artifacts/<target>/`.
//! - `cargo xtask fuzz --list` prints the targets.
//! - `cargo xtask fuzz --seed [--check] [--schema-dir DIR]` regenerates the seeds derived from
//!   the transcripts and the 2026-07-28 examples (files named by the SHA-256 of their content),
//!   and removes what fuzzing added, leaving the committed seed set. Hand-written seeds have
//!   descriptive names and are left alone. With `--check`, nothing is written: the command
//!   fails if a derived seed is missing or stale.
//!
//! cargo-fuzz needs nightly, which the pinned toolchain is not, so every cargo-fuzz command
//! names it (`cargo +nightly fuzz`). When cargo-fuzz is missing, it is installed first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::{env, fs};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

/// The cargo-fuzz workspace, relative to the workspace root.
const FUZZ_DIR: &str = "fuzz";

/// How long a target runs without `--time`, in seconds.
const DEFAULT_SECONDS: u64 = 60;

/// libFuzzer's memory limit per run, in MiB: a parser that allocates more than this on any
/// input is a finding.
const RSS_LIMIT_MB: u32 = 2048;

/// The transcripts of the schema crate, relative to the workspace root.
const TRANSCRIPT_DIR: &str = "crates/mcpwire-schema/tests/transcripts";

/// Where the derived seeds of a target come from.
enum Source {
    /// Every message line of `<TRANSCRIPT_DIR>/<revision>.txt`; no seeds when it is missing.
    Transcript(&'static str),
    /// Every `<schema dir>/<revision>/examples/*/*.json` that is a whole JSON-RPC message.
    Examples(&'static str),
    /// Every `n`th message line of all transcripts together.
    TranscriptSample(usize),
}

/// The derived seeds of every target. Targets not listed have hand-written seeds only.
const SEEDS: &[(&str, &[Source])] = &[
    ("jsonrpc_message", &[Source::TranscriptSample(25)]),
    ("message_v2024_11_05", &[Source::Transcript("2024-11-05")]),
    ("message_v2025_03_26", &[Source::Transcript("2025-03-26")]),
    ("message_v2025_06_18", &[Source::Transcript("2025-06-18")]),
    ("message_v2025_11_25", &[Source::Transcript("2025-11-25")]),
    (
        "message_v2026_07_28",
        &[
            Source::Transcript("2026-07-28"),
            Source::Examples("2026-07-28"),
        ],
    ),
];

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    let fuzz_dir = root.join(FUZZ_DIR);
    let mut target = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut list = false;
    let mut seed = false;
    let mut check = false;
    let mut schema_dir = env::var_os("MCPWIRE_SCHEMA_DIR").map(PathBuf::from);
    let mut libfuzzer_options = Vec::new();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--list" => list = true,
            "--seed" => seed = true,
            "--check" => check = true,
            "--time" => {
                let value = arguments
                    .next()
                    .context("--time needs a number of seconds")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--time: `{value}` is not a number of seconds"))?;
            }
            "--schema-dir" => {
                schema_dir = Some(PathBuf::from(
                    arguments.next().context("--schema-dir needs a directory")?,
                ));
            }
            "--" => libfuzzer_options.extend(arguments.by_ref().cloned()),
            other if other.starts_with('-') => bail!("unknown fuzz argument `{other}`"),
            other => {
                if let Some(previous) = target.replace(other.to_owned()) {
                    bail!("one target at a time: `{previous}` and `{other}`");
                }
            }
        }
    }
    let targets = targets(&fuzz_dir)?;
    if list {
        for target in &targets {
            println!("{target}");
        }
        return Ok(());
    }
    if seed {
        let schema_dir = schema_dir.unwrap_or_else(|| root.join("../shared/mcp-schema"));
        return write_seeds(root, &fuzz_dir, &schema_dir, check);
    }
    let Some(target) = target else {
        bail!(
            "usage: cargo xtask fuzz <target> [--time SECONDS] [-- LIBFUZZER_OPTION...] | --list | --seed [--check]\ntargets: {}",
            targets.join(", ")
        );
    };
    if !targets.contains(&target) {
        bail!("no fuzz target `{target}`; targets: {}", targets.join(", "));
    }
    run_target(&fuzz_dir, &target, seconds, &libfuzzer_options)
}

/// The targets: the file stems in `fuzz/fuzz_targets/`, sorted.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut targets = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "rs")
            && let Some(stem) = path.file_stem().and_then(|stem| stem.to_str())
        {
            targets.push(stem.to_owned());
        }
    }
    targets.sort();
    Ok(targets)
}

/// A `cargo` command on the nightly toolchain, whatever toolchain runs this xtask (also used
/// by `min-versions`).
pub(crate) fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command.arg("+nightly");
    // Set by the cargo and rustup that run this xtask: they would make cargo-fuzz build with
    // the pinned stable toolchain instead of nightly.
    for variable in [
        "CARGO",
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Whether `cargo +nightly fuzz --version` works.
fn cargo_fuzz_works() -> bool {
    nightly_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Makes sure cargo-fuzz is installed, installing it when it is not.
fn ensure_cargo_fuzz() -> Result<()> {
    if cargo_fuzz_works() {
        return Ok(());
    }
    println!("fuzz: cargo-fuzz is missing; installing it");
    let status = nightly_cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context(
            "running `cargo +nightly install cargo-fuzz`; is the nightly toolchain installed?",
        )?;
    if !status.success() {
        bail!("`cargo +nightly install cargo-fuzz --locked` failed ({status})");
    }
    if !cargo_fuzz_works() {
        bail!("cargo-fuzz was installed, but `cargo +nightly fuzz --version` still fails");
    }
    Ok(())
}

fn run_target(
    fuzz_dir: &Path,
    target: &str,
    seconds: u64,
    libfuzzer_options: &[String],
) -> Result<()> {
    ensure_cargo_fuzz()?;
    let corpus = Path::new("corpus").join(target);
    fs::create_dir_all(fuzz_dir.join(&corpus))
        .with_context(|| format!("creating {FUZZ_DIR}/corpus/{target}"))?;
    println!("fuzz: running {target} for {seconds} s");
    let mut command = nightly_cargo();
    command
        .current_dir(fuzz_dir)
        .args(["fuzz", "run", target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"));
    let dictionary = fuzz_dir.join("mcp.dict");
    if dictionary.is_file() {
        command.arg("-dict=mcp.dict");
    }
    command.args(libfuzzer_options);
    let status = command
        .status()
        .context("running `cargo +nightly fuzz run`")?;
    if !status.success() {
        bail!(
            "fuzz target {target} failed ({status}); the input is in {FUZZ_DIR}/artifacts/{target}/; reproduce with `cargo +nightly fuzz run {target} <input>` in {FUZZ_DIR}/"
        );
    }
    println!("fuzz: {target} found no crash in {seconds} s");
    Ok(())
}

/// Regenerates (or with `check`, checks) the derived seeds of every target, and removes the
/// inputs fuzzing added.
fn write_seeds(root: &Path, fuzz_dir: &Path, schema_dir: &Path, check: bool) -> Result<()> {
    let mut problems = Vec::new();
    for target in targets(fuzz_dir)? {
        let sources = SEEDS
            .iter()
            .find(|(name, _)| *name == target)
            .map_or(&[][..], |(_, sources)| *sources);
        let mut wanted = BTreeMap::new();
        for source in sources {
            for input in source_inputs(root, schema_dir, source)? {
                wanted.insert(hex(&Sha256::digest(&input)), input);
            }
        }
        let dir = fuzz_dir.join("corpus").join(&target);
        let (mut written, mut removed) = (0, 0);
        for name in corpus_names(&dir)? {
            let stale = is_hex(&name, 64) && !wanted.contains_key(&name);
            let found_by_fuzzing = is_hex(&name, 40);
            if check {
                if stale {
                    problems.push(format!("{target}/{name}: stale derived seed"));
                }
            } else if stale || found_by_fuzzing {
                fs::remove_file(dir.join(&name))
                    .with_context(|| format!("removing {target}/{name}"))?;
                removed += 1;
            }
        }
        for (name, input) in &wanted {
            let path = dir.join(name);
            if fs::read(&path).is_ok_and(|present| present == *input) {
                continue;
            }
            if check {
                problems.push(format!("{target}/{name}: missing derived seed"));
            } else {
                fs::create_dir_all(&dir)?;
                fs::write(&path, input).with_context(|| format!("writing {target}/{name}"))?;
                written += 1;
            }
        }
        let total = corpus_names(&dir)?.len();
        if total == 0 {
            problems.push(format!("{target}: no seeds in {FUZZ_DIR}/corpus/{target}/"));
        }
        if !check {
            println!(
                "fuzz: {target}: {total} seeds, {} derived ({written} written, {removed} removed)",
                wanted.len()
            );
        }
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("fuzz: {problem}");
        }
        bail!(
            "{} seed problem(s); run `cargo xtask fuzz --seed`",
            problems.len()
        );
    }
    if check {
        println!("fuzz: derived seeds are up to date");
    }
    Ok(())
}

/// The inputs one source yields, in order.
fn source_inputs(root: &Path, schema_dir: &Path, source: &Source) -> Result<Vec<Vec<u8>>> {
    match source {
        Source::Transcript(revision) => {
            let path = root.join(TRANSCRIPT_DIR).join(format!("{revision}.txt"));
            if !path.is_file() {
                return Ok(Vec::new());
            }
            transcript_messages(&path)
        }
        Source::TranscriptSample(every) => {
            let dir = root.join(TRANSCRIPT_DIR);
            let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
                .with_context(|| format!("reading {TRANSCRIPT_DIR}"))?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()?;
            paths.retain(|path| path.extension().is_some_and(|extension| extension == "txt"));
            paths.sort();
            let mut messages = Vec::new();
            for path in &paths {
                messages.extend(transcript_messages(path)?);
            }
            Ok(messages.into_iter().step_by((*every).max(1)).collect())
        }
        Source::Examples(revision) => {
            let dir = schema_dir.join(revision).join("examples");
            let mut paths = Vec::new();
            for folder in
                fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
            {
                let folder = folder?.path();
                if !folder.is_dir() {
                    continue;
                }
                for file in fs::read_dir(&folder)? {
                    let file = file?.path();
                    if file
                        .extension()
                        .is_some_and(|extension| extension == "json")
                    {
                        paths.push(file);
                    }
                }
            }
            paths.sort();
            let mut messages = Vec::new();
            for path in paths {
                let bytes =
                    fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                let value: serde_json::Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("parsing {}", path.display()))?;
                if value.get("jsonrpc").is_some() {
                    messages.push(bytes);
                }
            }
            Ok(messages)
        }
    }
}

/// The messages of a transcript: every line that starts with `> ` or `< `, without that prefix.
fn transcript_messages(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.strip_prefix("> ").or_else(|| line.strip_prefix("< ")))
        .map(|message| message.as_bytes().to_vec())
        .collect())
}

/// The file names in a corpus directory, sorted; none when it does not exist.
fn corpus_names(dir: &Path) -> Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn is_hex(name: &str, length: usize) -> bool {
    name.len() == length
        && name
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
