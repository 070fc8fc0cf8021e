//! A throwaway workspace for the tests of `cargo xtask tidy` in `tests/tidy.rs`.
//!
//! Layout, under a fresh directory of the system's temporary directory:
//!
//! - `main/`: a virtual workspace with `crates/mcpwire-jsonrpc` (L0) and
//!   `crates/mcpwire-server` (L3), each with the metadata, README and CHANGELOG tidy asks for,
//!   and one dependency between them;
//! - `main/ARCHITECTURE.md`: the fixture layer table, where tidy looks by default.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{fs, process};

/// The layer table the throwaway workspace is checked against.
const ARCHITECTURE_MD: &str = include_str!("../fixtures/tidy/ARCHITECTURE.md");

/// Which way the one dependency between the two crates points.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    /// `mcpwire-jsonrpc` (L0) depends on `mcpwire-server` (L3): a violation.
    Upward,
    /// `mcpwire-server` (L3) depends on `mcpwire-jsonrpc` (L0): allowed.
    Downward,
}

/// The throwaway directory; removed on drop.
pub(crate) struct TempWorkspace {
    directory: PathBuf,
}

impl TempWorkspace {
    /// Writes a fresh workspace; `tag` keeps concurrent tests' directories apart.
    pub(crate) fn new(tag: &str, direction: Direction) -> TempWorkspace {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let directory = std::env::temp_dir().join(format!(
            "mcpwire-xtask-tidy-{tag}-{}-{nanos}-{}",
            process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let workspace = TempWorkspace { directory };
        let root = workspace.root();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\n\
             resolver = \"3\"\n\
             members = [\"crates/*\"]\n\
             \n\
             [workspace.package]\n\
             edition = \"2024\"\n\
             rust-version = \"1.95\"\n\
             license = \"Apache-2.0 OR MIT\"\n\
             \n\
             [workspace.lints.rust]\n\
             unsafe_code = \"forbid\"\n",
        );
        let (jsonrpc_dependency, server_dependency) = match direction {
            Direction::Upward => ("mcpwire-server = { path = \"../mcpwire-server\" }\n", ""),
            Direction::Downward => ("", "mcpwire-jsonrpc = { path = \"../mcpwire-jsonrpc\" }\n"),
        };
        write_crate(&root, "mcpwire-jsonrpc", jsonrpc_dependency);
        write_crate(&root, "mcpwire-server", server_dependency);
        write(&workspace.architecture_md(), ARCHITECTURE_MD);
        workspace
    }

    /// The workspace root (the directory of its `Cargo.toml`).
    pub(crate) fn root(&self) -> PathBuf {
        self.directory.join("main")
    }

    /// Writes `contents` to the file at `relative` (to the workspace root), creating its
    /// directory.
    pub(crate) fn write_file(&self, relative: &str, contents: &str) {
        write(&self.root().join(relative), contents);
    }

    /// The fixture layer table, at `<root>/ARCHITECTURE.md`.
    pub(crate) fn architecture_md(&self) -> PathBuf {
        self.root().join("ARCHITECTURE.md")
    }
}

impl Drop for TempWorkspace {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temporary directory harms nothing.
        let _ = fs::remove_dir_all(&self.directory);
    }
}

fn write_crate(root: &Path, name: &str, dependencies: &str) {
    let directory = root.join("crates").join(name);
    write(
        &directory.join("Cargo.toml"),
        &format!(
            "[package]\n\
             name = \"{name}\"\n\
             version = \"0.1.0\"\n\
             description = \"Fixture crate {name}\"\n\
             edition.workspace = true\n\
             rust-version.workspace = true\n\
             license.workspace = true\n\
             \n\
             [dependencies]\n\
             {dependencies}\
             \n\
             [lints]\n\
             workspace = true\n"
        ),
    );
    write(
        &directory.join("src").join("lib.rs"),
        "//! A fixture crate.\n",
    );
    write(&directory.join("README.md"), &format!("# {name}\n"));
    write(
        &directory.join("CHANGELOG.md"),
        "# Unreleased\n\n- First release.\n",
    );
}

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().expect("fixture files live in a directory")).unwrap();
    fs::write(path, contents).unwrap();
}
