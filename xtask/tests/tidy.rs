//! `cargo xtask tidy` as a user runs it: the xtask binary, pointed at a throwaway workspace.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::{Direction, TempWorkspace};

/// Runs `xtask tidy --workspace <root>`; `layers_md` sets `MCPWIRE_LAYERS_MD`, `None` unsets it.
fn run_tidy(workspace: &TempWorkspace, layers_md: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("tidy").arg("--workspace").arg(workspace.root());
    match layers_md {
        Some(path) => command.env("MCPWIRE_LAYERS_MD", path),
        None => command.env_remove("MCPWIRE_LAYERS_MD"),
    };
    command.output().expect("the xtask binary runs")
}

#[test]
fn tidy_fails_on_a_deliberately_upward_dependency() {
    let workspace = TempWorkspace::new("bin-upward", Direction::Upward);
    // No `MCPWIRE_LAYERS_MD`: the table is found in `<root>/ARCHITECTURE.md`.
    let output = run_tidy(&workspace, None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "tidy passed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "tidy: crate mcpwire-jsonrpc (L0) depends on mcpwire-server (L3), a higher layer; \
         dependencies must point downward\n\
         tidy: import cycles: 2 crates checked, 0 found, 0 baselined\n",
        "stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("tidy found 1 violation in 2 crates (1 layering)"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn tidy_passes_the_same_workspace_with_the_dependency_pointing_down() {
    let workspace = TempWorkspace::new("bin-downward", Direction::Downward);
    let output = run_tidy(&workspace, None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tidy failed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "tidy: import cycles: 2 crates checked, 0 found, 0 baselined\n\
         tidy: 2 crates checked, no violations\n"
    );
}

#[test]
fn tidy_reads_the_layer_table_from_the_file_the_environment_names() {
    let workspace = TempWorkspace::new("bin-override", Direction::Downward);
    // Moved out of the workspace, the table is found only through `MCPWIRE_LAYERS_MD`.
    let elsewhere = workspace.root().with_file_name("LAYERS.md");
    fs::rename(workspace.architecture_md(), &elsewhere).unwrap();

    let output = run_tidy(&workspace, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "tidy passed without a table");
    assert!(
        stderr.contains("reading the layer table from"),
        "stderr:\n{stderr}"
    );

    let output = run_tidy(&workspace, Some(&elsewhere));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tidy failed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "tidy: import cycles: 2 crates checked, 0 found, 0 baselined\n\
         tidy: 2 crates checked, no violations\n"
    );
}

#[test]
fn tidy_fails_on_an_import_cycle_between_the_files_of_a_crate() {
    let workspace = TempWorkspace::new("bin-cycle", Direction::Downward);
    workspace.write_file(
        "crates/mcpwire-jsonrpc/src/lib.rs",
        "mod id;\nmod message;\n",
    );
    workspace.write_file(
        "crates/mcpwire-jsonrpc/src/id.rs",
        "pub struct RequestId(Box<super::message::Message>);\n",
    );
    workspace.write_file(
        "crates/mcpwire-jsonrpc/src/message.rs",
        "use crate::id::RequestId;\n\npub struct Message(Option<RequestId>);\n",
    );
    let output = run_tidy(&workspace, None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "tidy passed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "tidy: crate mcpwire-jsonrpc has an import cycle between src/id.rs, src/message.rs"
        ),
        "stdout:\n{stdout}"
    );
    assert!(
        stdout.contains("tidy: import cycles: 2 crates checked, 1 found, 0 baselined"),
        "stdout:\n{stdout}"
    );
    assert!(
        stderr.contains("tidy found 1 violation in 2 crates (1 import cycle)"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn tidy_fails_on_a_new_import_cycle_passes_it_baselined_and_fails_on_the_stale_entry() {
    let workspace = TempWorkspace::new("bin-baseline", Direction::Downward);
    workspace.write_file("crates/mcpwire-server/src/lib.rs", "mod a;\nmod b;\n");
    workspace.write_file(
        "crates/mcpwire-server/src/a.rs",
        "use crate::b::B;\n\npub struct A(B);\n",
    );
    workspace.write_file(
        "crates/mcpwire-server/src/b.rs",
        "pub struct B;\n\nfn a() -> crate::a::A {\n    loop {}\n}\n",
    );
    let run = || {
        let output = run_tidy(&workspace, None);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };

    let (success, stdout, stderr) = run();
    assert!(!success, "tidy passed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "tidy: crate mcpwire-server has an import cycle between src/a.rs, src/b.rs that is \
         not in xtask/tidy-cycles-baseline.txt, which may only shrink; break the cycle at \
         one of these references:\n    src/a.rs:1 -> src/b.rs\n    src/b.rs:3 -> src/a.rs\n\
         tidy: import cycles: 2 crates checked, 1 found, 0 baselined\n"
    );
    assert!(
        stderr.contains("tidy found 1 violation in 2 crates (1 import cycle)"),
        "stderr:\n{stderr}"
    );

    workspace.write_file(
        "xtask/tidy-cycles-baseline.txt",
        "# mcpwire-server: a and b share a type.\nmcpwire-server src/a.rs src/b.rs\n",
    );
    let (success, stdout, stderr) = run();
    assert!(success, "tidy failed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "tidy: import cycles: 2 crates checked, 1 found, 1 baselined\n\
         tidy: 2 crates checked, no violations\n"
    );

    workspace.write_file("crates/mcpwire-server/src/b.rs", "pub struct B;\n");
    let (success, stdout, stderr) = run();
    assert!(!success, "tidy passed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("is no longer an import cycle"), "{stdout}");
    assert!(
        stderr.contains("tidy found 1 violation in 2 crates (1 cycle baseline)"),
        "stderr:\n{stderr}"
    );
}
