//! Replays the corpora of this crate's fuzz targets (`fuzz/corpus/www_authenticate/` and
//! `fuzz/corpus/auth_metadata/`, and whatever a local fuzzing run left in
//! `fuzz/artifacts/<target>/`) through the targets' entry points on stable, so every input
//! keeps passing their checks. A crash that fuzzing finds is kept as a regression by adding
//! its input to the corpus under a descriptive name.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// A fuzz target's entry point.
type Entry = fn(&[u8]);

/// The targets, by name, and their entry points.
const TARGETS: &[(&str, Entry)] = &[
    ("www_authenticate", mcpwire_auth::fuzzing::www_authenticate),
    ("auth_metadata", mcpwire_auth::fuzzing::auth_metadata),
];

/// The cargo-fuzz directory of the workspace.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted by name; none when `dir` does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `dir` through `entry`; returns how many ran, and adds every input
/// that panicked to `failures`.
fn replay(entry: Entry, dir: &Path, failures: &mut Vec<String>) -> usize {
    let files = inputs(dir);
    for path in &files {
        let bytes =
            fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| entry(&bytes))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    files.len()
}

#[test]
fn seed_corpora_and_artifacts_replay() {
    let mut failures = Vec::new();
    for (target, entry) in TARGETS {
        let corpus = fuzz_dir().join("corpus").join(target);
        let count = replay(*entry, &corpus, &mut failures);
        assert!(
            count > 0,
            "the corpus {} is empty or missing",
            corpus.display()
        );
        let artifacts = replay(
            *entry,
            &fuzz_dir().join("artifacts").join(target),
            &mut failures,
        );
        println!("replayed {count} seeds and {artifacts} artifacts of {target}");
    }
    assert!(
        failures.is_empty(),
        "{} input(s) panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
