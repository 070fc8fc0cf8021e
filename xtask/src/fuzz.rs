//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/`.
//!
//! - `cargo xtask fuzz <target> [--time SECONDS] [-- LIBFUZZER_OPTION...]` runs one target on
//!   nightly for SECONDS (default 60), with its seed corpus `fuzz/corpus/<target>/`. New
//!   inputs libFuzzer finds are written to that directory too, named by their SHA-1; the
//!   `.gitignore` there keeps them out of commits. A crash fails the command and leaves the
//!   input in `fuzz/artifacts/<target>/`.
//! - `cargo xtask fuzz --all [--time SECONDS] [--min-cpu SECONDS]` runs every target in turn
//!   (or, given several targets instead of `--all`, those),
//!   each for SECONDS of wall-clock time; with `--min-cpu`, a target whose run used less CPU
//!   time than that (on a busy machine) runs again from its corpus until it has. A summary
//!   table follows: CPU time, executions, executions per second, coverage and peak memory of
//!   each target. The command fails if any target found a crash, a timeout or a memory
//!   failure, after running the others.
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
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
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

/// libFuzzer's time limit for one input, in seconds: an input that takes longer is a finding
/// (libFuzzer's own default, 20 minutes, would hide slowness).
const INPUT_TIMEOUT_SECONDS: u32 = 10;

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
    let mut named = Vec::new();
    let mut seconds = DEFAULT_SECONDS;
    let mut min_cpu = None;
    let mut all = false;
    let mut list = false;
    let mut seed = false;
    let mut check = false;
    let mut schema_dir = env::var_os("MCPWIRE_SCHEMA_DIR").map(PathBuf::from);
    let mut libfuzzer_options = Vec::new();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--list" => list = true,
            "--all" => all = true,
            "--min-cpu" => {
                let value = arguments
                    .next()
                    .context("--min-cpu needs a number of seconds")?;
                min_cpu =
                    Some(value.parse::<u64>().with_context(|| {
                        format!("--min-cpu: `{value}` is not a number of seconds")
                    })?);
            }
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
            other => named.push(other.to_owned()),
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
    if let Some(unknown) = named.iter().find(|target| !targets.contains(target)) {
        bail!(
            "no fuzz target `{unknown}`; targets: {}",
            targets.join(", ")
        );
    }
    if all {
        if !named.is_empty() {
            bail!("--all runs every target; name targets without it to run some");
        }
        return run_all(&fuzz_dir, &targets, seconds, min_cpu, &libfuzzer_options);
    }
    if named.len() > 1 || min_cpu.is_some() {
        return run_all(&fuzz_dir, &named, seconds, min_cpu, &libfuzzer_options);
    }
    let Some(target) = named.pop() else {
        bail!(
            "usage: cargo xtask fuzz <target> [--time SECONDS] [-- LIBFUZZER_OPTION...] | --all | <target> <target>... [--time SECONDS] [--min-cpu SECONDS] | --list | --seed [--check]\ntargets: {}",
            targets.join(", ")
        );
    };
    run_target(&fuzz_dir, &target, seconds, &libfuzzer_options).map(drop)
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

/// What one run of a target measured.
#[derive(Debug, Default)]
struct RunStats {
    /// CPU time of the run and everything it started, in seconds.
    cpu_seconds: f64,
    /// Wall-clock time, in seconds.
    wall_seconds: f64,
    /// Inputs executed (libFuzzer's `stat::number_of_executed_units`).
    executions: u64,
    /// Edges covered at the end (the `cov:` of libFuzzer's last status line).
    coverage: Option<u64>,
    /// Features at the end (`ft:`).
    features: Option<u64>,
    /// Peak resident memory, in MiB (`stat::peak_rss_mb`).
    peak_rss_mb: Option<u64>,
}

/// How a target is started.
enum Runner {
    /// `cargo +nightly fuzz run`, which builds the target first.
    Cargo,
    /// The target's libFuzzer binary, built before: no build between runs, and the CPU time
    /// is the fuzzer's alone.
    Binary(PathBuf),
}

/// Runs `target` for `seconds` and returns what it measured, or the error of a finding.
fn run_target(
    fuzz_dir: &Path,
    target: &str,
    seconds: u64,
    libfuzzer_options: &[String],
) -> Result<RunStats> {
    ensure_cargo_fuzz()?;
    run_with(&Runner::Cargo, fuzz_dir, target, seconds, libfuzzer_options)
}

/// Runs `target` with `runner` for `seconds` (see [`run_target`]).
fn run_with(
    runner: &Runner,
    fuzz_dir: &Path,
    target: &str,
    seconds: u64,
    libfuzzer_options: &[String],
) -> Result<RunStats> {
    let corpus = Path::new("corpus").join(target);
    fs::create_dir_all(fuzz_dir.join(&corpus))
        .with_context(|| format!("creating {FUZZ_DIR}/corpus/{target}"))?;
    let artifacts = Path::new("artifacts").join(target);
    fs::create_dir_all(fuzz_dir.join(&artifacts))
        .with_context(|| format!("creating {FUZZ_DIR}/artifacts/{target}"))?;
    println!("fuzz: running {target} for {seconds} s");
    let mut command = match runner {
        Runner::Cargo => {
            let mut command = nightly_cargo();
            command.args(["fuzz", "run", target]).arg(&corpus).arg("--");
            command
        }
        Runner::Binary(binary) => {
            let mut command = Command::new(binary);
            // What `cargo fuzz run` passes: where crash inputs go.
            command
                .arg(format!("-artifact_prefix={}/", artifacts.display()))
                .arg(&corpus);
            command
        }
    };
    command
        .current_dir(fuzz_dir)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1");
    let dictionary = fuzz_dir.join("mcp.dict");
    if dictionary.is_file() {
        command.arg("-dict=mcp.dict");
    }
    command.args(libfuzzer_options).stderr(Stdio::piped());
    let cpu_before = children_cpu_seconds()?;
    let started = Instant::now();
    let mut child = command
        .spawn()
        .context("running `cargo +nightly fuzz run`")?;
    // libFuzzer reports on stderr: pass every line on, and keep what the summary needs.
    let mut stats = RunStats::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).split(b'\n') {
            let line = line.context("reading the fuzzer's output")?;
            // A crash report may quote the input's bytes: never fail on them.
            let line = String::from_utf8_lossy(&line);
            eprintln!("{line}");
            read_stat_line(&line, &mut stats);
        }
    }
    let status = child
        .wait()
        .context("waiting for `cargo +nightly fuzz run`")?;
    stats.wall_seconds = started.elapsed().as_secs_f64();
    stats.cpu_seconds = children_cpu_seconds()? - cpu_before;
    if !status.success() {
        bail!(
            "fuzz target {target} failed ({status}); the input is in {FUZZ_DIR}/artifacts/{target}/; reproduce with `cargo +nightly fuzz run {target} <input>` in {FUZZ_DIR}/"
        );
    }
    println!(
        "fuzz: {target} found no crash in {:.0} s ({:.0} CPU-seconds)",
        stats.wall_seconds, stats.cpu_seconds
    );
    Ok(stats)
}

/// The binary `cargo fuzz build` made for `target`: `target/<triple>/release/<target>` under
/// the fuzz workspace, the newest if several triples have one.
fn built_binary(fuzz_dir: &Path, target: &str) -> Result<PathBuf> {
    let build_dir = fuzz_dir.join("target");
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in
        fs::read_dir(&build_dir).with_context(|| format!("reading {}", build_dir.display()))?
    {
        let binary = entry?.path().join("release").join(target);
        if let Ok(modified) = fs::metadata(&binary).and_then(|metadata| metadata.modified())
            && newest.as_ref().is_none_or(|(time, _)| modified > *time)
        {
            newest = Some((modified, binary));
        }
    }
    newest
        .map(|(_, binary)| binary)
        .with_context(|| format!("no binary of {target} under {}", build_dir.display()))
}

/// Takes what the summary needs from one line of libFuzzer's output.
fn read_stat_line(line: &str, stats: &mut RunStats) {
    let number = |text: &str| text.trim().parse::<u64>().ok();
    if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
        stats.executions = number(value).unwrap_or(stats.executions);
    } else if let Some(value) = line.strip_prefix("stat::peak_rss_mb:") {
        stats.peak_rss_mb = number(value).or(stats.peak_rss_mb);
    } else if line.starts_with('#') {
        // A status line: `#1234\tNEW    cov: 812 ft: 2034 corp: ...`.
        let mut words = line.split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "cov:" => stats.coverage = words.next().and_then(number).or(stats.coverage),
                "ft:" => stats.features = words.next().and_then(number).or(stats.features),
                _ => {}
            }
        }
    }
}

/// The CPU time, in seconds, of every child process this one has waited for, and of theirs:
/// the `cutime` and `cstime` of `/proc/self/stat`.
fn children_cpu_seconds() -> Result<f64> {
    let stat = fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("an unexpected /proc/self/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 16 and 17 of stat(5), counted from 1 with the pid first: the third field is the
    // first after the name.
    let ticks = |field: usize| -> Result<f64> {
        let value = fields
            .get(field - 3)
            .context("an unexpected /proc/self/stat")?;
        Ok(value.parse::<f64>()?)
    };
    Ok((ticks(16)? + ticks(17)?) / clock_ticks_per_second())
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be read.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// Runs every target in turn (see the module's documentation) and prints a summary.
fn run_all(
    fuzz_dir: &Path,
    targets: &[String],
    seconds: u64,
    min_cpu: Option<u64>,
    libfuzzer_options: &[String],
) -> Result<()> {
    ensure_cargo_fuzz()?;
    // One build of every target up front; then each runs from its binary, so that a change to
    // the sources during a long campaign neither rebuilds nor mixes versions.
    let status = nightly_cargo()
        .current_dir(fuzz_dir)
        .args(["fuzz", "build"])
        .status()
        .context("running `cargo +nightly fuzz build`")?;
    if !status.success() {
        bail!("`cargo +nightly fuzz build` failed ({status})");
    }
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for target in targets {
        let runner = Runner::Binary(built_binary(fuzz_dir, target)?);
        let mut total = RunStats::default();
        let mut slice = seconds;
        let outcome = loop {
            match run_with(&runner, fuzz_dir, target, slice, libfuzzer_options) {
                Ok(stats) => {
                    total.cpu_seconds += stats.cpu_seconds;
                    total.wall_seconds += stats.wall_seconds;
                    total.executions += stats.executions;
                    total.coverage = stats.coverage.or(total.coverage);
                    total.features = stats.features.or(total.features);
                    total.peak_rss_mb = total.peak_rss_mb.max(stats.peak_rss_mb);
                    let Some(min_cpu) = min_cpu else { break Ok(()) };
                    let missing = min_cpu as f64 - total.cpu_seconds;
                    if missing <= 0.0 {
                        break Ok(());
                    }
                    // Run again from the corpus, for as long as the CPU share seen so far
                    // needs to make up the rest (at least a minute).
                    let share = (total.cpu_seconds / total.wall_seconds.max(1.0)).max(0.05);
                    slice = ((missing / share).ceil() as u64).max(60);
                    println!(
                        "fuzz: {target} has used {:.0} of {min_cpu} CPU-seconds; running it {slice} s more",
                        total.cpu_seconds
                    );
                }
                Err(error) => break Err(error),
            }
        };
        if let Err(error) = &outcome {
            failures.push(format!("{target}: {error:#}"));
        }
        rows.push((target.clone(), total, outcome.is_ok()));
    }
    println!();
    println!(
        "| target | CPU s | wall s | executions | exec/s (CPU) | coverage | features | peak RSS MiB | outcome |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let show = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), |value| value.to_string());
    for (target, stats, clean) in &rows {
        let rate = stats.executions as f64 / stats.cpu_seconds.max(1.0);
        println!(
            "| `{target}` | {:.0} | {:.0} | {} | {rate:.0} | {} | {} | {} | {} |",
            stats.cpu_seconds,
            stats.wall_seconds,
            stats.executions,
            show(stats.coverage),
            show(stats.features),
            show(stats.peak_rss_mb),
            if *clean { "clean" } else { "FINDING" },
        );
    }
    if !failures.is_empty() {
        bail!("fuzzing found something:\n{}", failures.join("\n"));
    }
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
