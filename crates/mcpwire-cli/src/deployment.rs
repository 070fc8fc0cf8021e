//! What the instances of one deployment share besides Redis: the `requestState` key, read
//! from a file that every instance is given, the lease of their tasks, and the names a load
//! balancer is reached by.

use std::io;
use std::path::Path;
use std::time::Duration;

/// How long a task of an instance that stopped renewing its lease (it died) stays running in
/// the others' eyes before they answer it as failed
/// (`ServerBuilder::shared_tasks`): long enough for the pauses of a loaded machine.
pub const TASK_LEASE: Duration = Duration::from_secs(10);

/// Reads a `requestState` key (HMAC-SHA256, 32 bytes) from a file of 64 hex digits, white
/// space around them ignored, as `openssl rand -hex 32` writes it; for
/// `ServerBuilder::request_state_key`.
///
/// # Errors
///
/// Fails when the file cannot be read or holds anything else. The error names the file and
/// never quotes it: it holds a secret.
///
/// ```
/// let path = std::env::temp_dir().join(format!("mcpwire-doc-key-{}", std::process::id()));
/// std::fs::write(&path, format!("{}\n", "0f".repeat(32))).expect("writes");
/// let key = mcpwire_cli::deployment::read_request_state_key(&path).expect("a key");
/// assert_eq!(key, [0x0f; 32]);
/// std::fs::remove_file(&path).expect("removes");
/// ```
pub fn read_request_state_key(path: &Path) -> io::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!(
                "reading the request-state key file {}: {error}",
                path.display()
            ),
        )
    })?;
    let digits = text.trim();
    if digits.len() != 64 || !digits.bytes().all(|digit| digit.is_ascii_hexdigit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the request-state key file {} must hold exactly 64 hex digits (a 32-byte key, e.g. from `openssl rand -hex 32`)",
                path.display()
            ),
        ));
    }
    let mut key = [0; 32];
    for (byte, pair) in key.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).expect("hex digits are ASCII");
        *byte = u8::from_str_radix(pair, 16).expect("two hex digits are a byte");
    }
    Ok(key)
}

/// The loopback names, which the HTTP server accepts in `Host` with any port by default.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The `Host` names to accept when `extra` ones are added (`--allowed-host`): the loopback
/// names, which a list of allowed hosts would otherwise replace, then `extra`.
///
/// ```
/// let hosts = mcpwire_cli::deployment::hosts_besides_loopback(["mcp.example".to_owned()]);
/// assert_eq!(hosts, ["127.0.0.1", "localhost", "[::1]", "mcp.example"]);
/// ```
pub fn hosts_besides_loopback(extra: impl IntoIterator<Item = String>) -> Vec<String> {
    LOOPBACK_NAMES
        .map(str::to_owned)
        .into_iter()
        .chain(extra)
        .collect()
}
