//! Helpers of mcpwire's own tests, shared by the workspace's crates as a dev-dependency.
//!
//! - [`replay_corpus`] replays the fuzz corpora (below);
//! - [`recording_listener`] is a loopback HTTP endpoint that notes the first line of every
//!   connection and answers `404`: a place that a test's requests must, or must not, reach;
//! - [`rng`]: a seeded random number generator, so that a randomized test names the seed
//!   that reproduces its failure;
//! - `proxy` (feature `proxy`): a TCP fault proxy on loopback that resets, stalls, or writes
//!   one byte at a time;
//! - `hostile` (feature `hostile`): a server whose handlers panic, return huge or deeply
//!   nested values, flood logs and progress, or run forever;
//! - `redis` (feature `redis`): a real `redis-server` on a Unix socket of the test's own;
//! - `balancer` (feature `balancer`): a real HAProxy balancing round-robin over server
//!   instances on loopback;
//! - `raw_http` (feature `raw-http`): HTTP requests to one server written and read by hand,
//!   SSE answers read event by event.
//!
//! The fault scenarios of the workspace's tests (`tests/faults.rs` of several crates) are built
//! from these.
//!
//! [`replay_corpus`] runs a fuzz target's committed seeds, and the crashes fuzzing left in
//! `fuzz/artifacts/`, through the target's entry point on stable: each crate's
//! `tests/fuzz_corpus.rs` calls it, so that the normal test run checks exactly what the fuzzer
//! checks, and a crash, once its input is in the corpus, stays fixed.

#[cfg(feature = "balancer")]
pub mod balancer;
#[cfg(feature = "hostile")]
pub mod hostile;
#[cfg(feature = "oauth-mock")]
pub mod oauth;
#[cfg(feature = "proxy")]
pub mod proxy;
#[cfg(feature = "raw-http")]
pub mod raw_http;
#[cfg(feature = "redis")]
pub mod redis;
pub mod rng;

use std::fs;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

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
    let mut ran = 0;
    for path in corpus.iter().chain(&artifacts) {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            // A fuzzer running beside the tests replaces inputs as it reduces them.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("reading {}: {error}", path.display()),
        };
        ran += 1;
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
    ran
}

/// A listener on a loopback port that records the first line of every connection (the
/// request line of an HTTP request), answers `404 Not Found` and hangs up; it takes at most
/// `limit` connections. Returns its address and the lines recorded so far.
///
/// # Panics
///
/// Panics when no loopback port can be bound.
pub async fn recording_listener(limit: usize) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("a bound address");
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        for _ in 0..limit {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut head = vec![0; 4096];
            let read = stream.read(&mut head).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&head[..read])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            record
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(line);
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (address, seen)
}

/// A new directory under the system's temporary directory for a server of `kind`, named for
/// this process and a counter.
#[cfg(any(feature = "redis", feature = "balancer"))]
fn fresh_directory(kind: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "mcpwire-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let directory = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    directory
}
