//! Helpers of mcpwire's own tests, shared by the workspace's crates as a dev-dependency.
//!
//! [`replay_corpus`] runs a fuzz target's committed seeds, and the crashes fuzzing left in
//! `fuzz/artifacts/`, through the target's entry point on stable: each crate's
//! `tests/fuzz_corpus.rs` calls it, so that the normal test run checks exactly what the fuzzer
//! checks, and a crash, once its input is in the corpus, stays fixed.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The cargo-fuzz directory of the workspace.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted by name; none when `dir` does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` through
/// `entry`, and returns how many ran.
///
/// # Panics
///
/// Panics naming every input for which `entry` panicked, and when the corpus is empty or
/// missing.
pub fn replay_corpus(target: &str, entry: impl Fn(&[u8])) -> usize {
    let root = fuzz_dir();
    let corpus = inputs(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "the corpus of `{target}` is empty or missing"
    );
    let artifacts = inputs(&root.join("artifacts").join(target));
    let mut failures = Vec::new();
    for path in corpus.iter().chain(&artifacts) {
        let bytes =
            fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| entry(&bytes))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} input(s) of `{target}` panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
    corpus.len() + artifacts.len()
}
