//! The third-party peers of the interop tests: the workspace's paths, the peers' installation
//! (`cargo xtask interop-setup`), and running a command with a time limit.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// How long installing the peers may take: long only on a machine that has never run it,
/// where npm and pip download the pinned packages.
const SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// How long `cargo metadata` may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root: the parent of this crate's directory, `interop/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("interop/ lives in the workspace root")
        .to_path_buf()
}

/// What the installed peers are, found once per test binary.
pub struct Peers {
    /// The venv's Python, with the `mcp` package of `interop/requirements.txt` (1.x, legacy
    /// era only).
    pub python: PathBuf,
    /// The second venv's Python, with the `mcp` package of `interop/requirements-v2.txt` (2.x,
    /// legacy and modern era), for the dual-era peers `interop/py2_*.py`.
    pub python_v2: PathBuf,
    /// The directory of the peer scripts, `interop/`.
    pub scripts: PathBuf,
    /// The entry point of `@modelcontextprotocol/server-everything`, run with `node`.
    pub server_everything: PathBuf,
}

/// Installs the peers (a no-op when they are current) and says where they are. Panics with
/// the installer's output when that fails, for example when node, npm or python3 is missing.
pub async fn peers() -> &'static Peers {
    static PEERS: tokio::sync::OnceCell<Peers> = tokio::sync::OnceCell::const_new();
    PEERS
        .get_or_init(|| async {
            let root = workspace_root();
            let output = run_cargo(&["xtask", "interop-setup"], SETUP_TIMEOUT).await;
            assert!(
                output.status.success(),
                "`cargo xtask interop-setup` failed ({}); the interop tests need node 20+, npm \
                 and python3 with venv on PATH.\nstdout:\n{}\nstderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
            let venvs = target_dir().await.join("interop");
            Peers {
                python: venv_python(&venvs.join("venv")),
                python_v2: venv_python(&venvs.join("venv2")),
                server_everything: root.join(
                    "interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
                ),
                scripts: root.join("interop"),
            }
        })
        .await
}

/// The Python executable of the venv at `venv`.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// The cargo target directory, as `cargo metadata` reports it (so `CARGO_TARGET_DIR` and
/// config files are honoured, as they are by `cargo xtask interop-setup`).
async fn target_dir() -> PathBuf {
    static TARGET_DIR: OnceLock<PathBuf> = OnceLock::new();
    if let Some(directory) = TARGET_DIR.get() {
        return directory.clone();
    }
    let output = run_cargo(
        &["metadata", "--format-version", "1", "--no-deps"],
        METADATA_TIMEOUT,
    )
    .await;
    assert!(output.status.success(), "cargo metadata failed: {output:?}");
    let metadata: Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let directory = PathBuf::from(
        metadata["target_directory"]
            .as_str()
            .expect("cargo metadata names the target directory"),
    );
    TARGET_DIR.get_or_init(|| directory).clone()
}

/// Runs `program` with `arguments` in the workspace root, killing it when it outlives
/// `timeout`, and returns its output.
pub async fn run(program: &Path, arguments: &[&str], timeout: Duration) -> Output {
    let child = tokio::process::Command::new(program)
        .args(arguments)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("starting {}: {error}", program.display()));
    // On timeout the future, and with it the child, is dropped: `kill_on_drop` kills it.
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => {
            output.unwrap_or_else(|error| panic!("waiting for {}: {error}", program.display()))
        }
        Err(_) => panic!(
            "{} {arguments:?} did not finish within {timeout:?}",
            program.display()
        ),
    }
}

/// Runs cargo with `arguments` in the workspace root; see [`run`].
pub async fn run_cargo(arguments: &[&str], timeout: Duration) -> Output {
    run(Path::new(env!("CARGO")), arguments, timeout).await
}
