//! mcpwire's own peers of the interop tests, built on demand: the `everything` example of
//! `mcpwire-server` and this crate's `interop_peer` example.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::peers::run_cargo;

/// How long building the `everything` example may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// Builds our `everything` example and returns the path of its executable.
pub async fn everything_example() -> &'static Path {
    static EXECUTABLE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    EXECUTABLE.get_or_init(|| build_example("everything")).await
}

/// Builds our `interop_peer` example, the server of the dual-era interop clients, and returns
/// the path of its executable.
pub async fn interop_peer_example() -> &'static Path {
    static EXECUTABLE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    EXECUTABLE
        .get_or_init(|| build_example("interop_peer"))
        .await
}

/// The URL of an external deployment that serves `server` over Streamable HTTP, for the HTTP
/// tests to drive instead of an instance of their own: the value of
/// `MCPWIRE_INTEROP_HTTP_URL_<SERVER>`, `server`'s words upper-cased and joined by `_`
/// (`["everything"]` reads `MCPWIRE_INTEROP_HTTP_URL_EVERYTHING`, `["interop_peer", "both"]`
/// reads `MCPWIRE_INTEROP_HTTP_URL_INTEROP_PEER_BOTH`). Such a deployment, several instances
/// of the example behind a load balancer, is `deploy/run.sh` with `SERVER` naming the example
/// and its arguments (see `interop/README.md`).
pub fn external_http_url(server: &[&str]) -> Option<String> {
    let name = server
        .iter()
        .map(|word| word.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("_");
    std::env::var(format!("MCPWIRE_INTEROP_HTTP_URL_{name}"))
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Builds the workspace's example `name` and returns the path of its executable.
///
/// It is built with the features `cargo xtask ci` tests with (`--workspace --all-features`),
/// so that in CI the build the test run already made is reused rather than redone.
async fn build_example(name: &str) -> PathBuf {
    let output = run_cargo(
        &[
            "build",
            "--workspace",
            "--all-features",
            "--example",
            name,
            "--message-format",
            "json-render-diagnostics",
        ],
        BUILD_TIMEOUT,
    )
    .await;
    assert!(
        output.status.success(),
        "building the {name} example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == name
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reports the {name} example's executable"))
}
