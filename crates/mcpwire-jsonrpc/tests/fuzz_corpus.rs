//! Replays the seed corpus of the `jsonrpc_message` fuzz target (`fuzz/corpus/jsonrpc_message/`)
//! through the target's entry point on stable, so every input stays parseable without a panic
//! and every message it parses survives a round trip. A crash that fuzzing finds is kept as a
//! regression by adding its input to the corpus under a descriptive name.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

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

/// Runs every input of `dir` through the entry point; returns how many ran, and panics naming
/// every input that panicked.
fn replay(dir: &Path) -> usize {
    let files = inputs(dir);
    let mut failures = Vec::new();
    for path in &files {
        let bytes =
            fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| mcpwire_jsonrpc::fuzz_parse(&bytes))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} input(s) panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn seed_corpus_replays() {
    let dir = fuzz_dir().join("corpus/jsonrpc_message");
    let count = replay(&dir);
    assert!(
        count > 0,
        "the corpus {} is empty or missing",
        dir.display()
    );
    println!("replayed {count} inputs of the jsonrpc_message corpus");
}
