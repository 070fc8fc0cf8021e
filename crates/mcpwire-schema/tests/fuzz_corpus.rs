//! Replays the seed corpus of every schema fuzz target (`fuzz/corpus/message_<module>/`)
//! through the targets' entry point on stable, so every input decodes without a panic and
//! every message that decodes is stable through decode, encode, decode. A crash that fuzzing
//! finds is kept as a regression by adding its input to the corpus under a descriptive name.

#![cfg(feature = "full")]

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The schema modules with a fuzz target, `message_<module>`.
const MODULES: &[&str] = &[
    "v2024_11_05",
    "v2025_03_26",
    "v2025_06_18",
    "v2025_11_25",
    "v2026_07_28",
    "ext_tasks",
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

/// Runs every input of `dir` through the entry point for `module`; returns how many ran, and
/// adds every input that panicked to `failures`.
fn replay(module: &str, dir: &Path, failures: &mut Vec<String>) -> usize {
    let files = inputs(dir);
    for path in &files {
        let bytes =
            fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            mcpwire_schema::fuzzing::decode_message(module, &bytes)
        }));
        if outcome.is_err() {
            failures.push(format!("{module}: {}", path.display()));
        }
    }
    files.len()
}

#[test]
fn seed_corpora_replay() {
    let mut failures = Vec::new();
    let mut empty = Vec::new();
    for module in MODULES {
        let dir = fuzz_dir().join("corpus").join(format!("message_{module}"));
        let count = replay(module, &dir, &mut failures);
        if count == 0 {
            empty.push(dir.display().to_string());
        }
        println!("replayed {count} inputs of the message_{module} corpus");
    }
    assert!(
        failures.is_empty(),
        "{} input(s) panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        empty.is_empty(),
        "empty or missing corpora:\n{}",
        empty.join("\n")
    );
}
