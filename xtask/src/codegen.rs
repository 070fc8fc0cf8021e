//! `cargo xtask codegen [--check] [--schema-dir DIR]`: the MCP schema modules.
//!
//! Reads the official `schema.json` of every revision (and of the tasks extension), generates
//! one Rust module each into `crates/mcpwire-schema/src/generated/`, and formats it with
//! rustfmt. With `--check`, nothing is written: the command fails and names every file whose
//! committed content differs from what would be generated.

mod emit;
mod overrides;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::{env, fs, io::Write as _};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

/// One generated module and where its input comes from.
struct Input {
    module: &'static str,
    title: &'static str,
    /// The schema reference page for doc links.
    revision: Option<&'static str>,
    /// Candidate locations relative to the schema directory, first existing wins.
    candidates: &'static [&'static str],
}

const INPUTS: &[Input] = &[
    Input {
        module: "v2024_11_05",
        title: "revision 2024-11-05",
        revision: Some("2024-11-05"),
        candidates: &["2024-11-05/schema.json"],
    },
    Input {
        module: "v2025_03_26",
        title: "revision 2025-03-26",
        revision: Some("2025-03-26"),
        candidates: &["2025-03-26/schema.json"],
    },
    Input {
        module: "v2025_06_18",
        title: "revision 2025-06-18",
        revision: Some("2025-06-18"),
        candidates: &["2025-06-18/schema.json"],
    },
    Input {
        module: "v2025_11_25",
        title: "revision 2025-11-25",
        revision: Some("2025-11-25"),
        candidates: &["2025-11-25/schema.json"],
    },
    Input {
        module: "v2026_07_28",
        title: "revision 2026-07-28",
        revision: Some("2026-07-28"),
        candidates: &["2026-07-28/schema.json"],
    },
    Input {
        module: "ext_tasks",
        title: "tasks extension (draft)",
        revision: None,
        candidates: &[
            "ext-tasks/schema.json",
            "../mcp-spec/ext-tasks/schema/draft/schema.json",
        ],
    },
];

/// Where generated modules go, relative to the workspace root.
pub(crate) const OUTPUT_DIR: &str = "crates/mcpwire-schema/src/generated";

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    let mut check = false;
    let mut schema_dir = env::var_os("MCPWIRE_SCHEMA_DIR").map(PathBuf::from);
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--check" => check = true,
            "--schema-dir" => {
                schema_dir = Some(PathBuf::from(
                    arguments.next().context("--schema-dir needs a directory")?,
                ));
            }
            other => bail!("unknown codegen argument `{other}`"),
        }
    }
    let schema_dir = schema_dir.unwrap_or_else(|| root.join("../shared/mcp-schema"));
    let outputs = generate_all(root, &schema_dir)?;

    let mut stale = Vec::new();
    for (path, content) in &outputs {
        let full = root.join(path);
        let current = fs::read_to_string(&full).unwrap_or_default();
        if current != *content {
            if check {
                stale.push(path.clone());
            } else {
                fs::create_dir_all(full.parent().context("output has a parent")?)?;
                fs::write(&full, content).with_context(|| format!("writing {path}"))?;
                println!("codegen: wrote {path}");
            }
        }
    }
    if !stale.is_empty() {
        let list: Vec<String> = stale
            .iter()
            .map(|path| format!("  stale: {path}"))
            .collect();
        bail!(
            "{} generated file(s) are stale; run `cargo xtask codegen`:\n{}",
            stale.len(),
            list.join("\n")
        );
    }
    if check {
        println!("codegen: {} generated files are up to date", outputs.len());
    }
    Ok(())
}

/// Generates every module, returning (path relative to the root, formatted content).
fn generate_all(root: &Path, schema_dir: &Path) -> Result<Vec<(String, String)>> {
    let mut outputs = Vec::new();
    for input in INPUTS {
        let (relative, path) = input
            .candidates
            .iter()
            .map(|candidate| (*candidate, schema_dir.join(candidate)))
            .find(|(_, path)| path.is_file())
            .with_context(|| {
                format!(
                    "no schema for {} under {} (tried {:?})",
                    input.title,
                    schema_dir.display(),
                    input.candidates
                )
            })?;
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let document: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("parsing {}", path.display()))?;
        let spec = emit::ModuleSpec {
            module: input.module,
            title: input.title,
            link_base: input.revision.map(|revision| {
                format!("https://modelcontextprotocol.io/specification/{revision}/schema")
            }),
        };
        let body = emit::generate(&spec, &document)
            .with_context(|| format!("generating {}", input.module))?;
        let input_name = input_label(relative);
        let source = format!(
            "// @generated by `cargo xtask codegen`; do not edit by hand.\n// input: {input_name} sha256:{hex}\n// Corrections to the input are listed in xtask/src/codegen/overrides.rs.\n\n//! MCP schema types of the {}.\n//!\n//! Generated from the official JSON Schema; see the crate documentation for how unions,\n//! open enums and constant members are represented.\n\n{body}",
            input.title
        );
        let formatted =
            rustfmt(root, &source).with_context(|| format!("formatting {}", input.module))?;
        outputs.push((format!("{OUTPUT_DIR}/{}.rs", input.module), formatted));
    }
    Ok(outputs)
}

/// Names an input independently of where the schema directory is on this machine.
fn input_label(relative: &str) -> String {
    match relative.strip_prefix("../") {
        Some(rest) => rest.to_owned(),
        None => format!("mcp-schema/{relative}"),
    }
}

fn rustfmt(root: &Path, source: &str) -> Result<String> {
    let mut child = Command::new(env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned()))
        .args(["--edition", "2024", "--emit", "stdout", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir(root)
        .spawn()
        .context("starting rustfmt")?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().context("waiting for rustfmt")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("rustfmt writer panicked"))??;
    if !output.status.success() {
        bail!(
            "rustfmt failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt output is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch copy of the parts of the workspace that codegen reads and writes.
    struct ScratchRoot(PathBuf);

    impl Drop for ScratchRoot {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn real_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }

    #[test]
    fn check_names_a_file_edited_by_one_byte() {
        let real = real_root();
        let scratch = ScratchRoot(
            env::temp_dir().join(format!("mcpwire-codegen-check-{}", std::process::id())),
        );
        let root = &scratch.0;
        fs::create_dir_all(root.join(OUTPUT_DIR)).expect("scratch output dir");
        fs::copy(real.join("rustfmt.toml"), root.join("rustfmt.toml")).expect("rustfmt.toml");
        for entry in fs::read_dir(real.join(OUTPUT_DIR)).expect("generated dir") {
            let path = entry.expect("entry").path();
            fs::copy(
                &path,
                root.join(OUTPUT_DIR).join(path.file_name().expect("name")),
            )
            .expect("copy");
        }
        let schema_dir = env::var_os("MCPWIRE_SCHEMA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| real.join("../shared/mcp-schema"));
        let arguments = [
            "--check".to_owned(),
            "--schema-dir".to_owned(),
            schema_dir.display().to_string(),
        ];

        run(root, &arguments).expect("the committed files are current");

        let edited = root.join(OUTPUT_DIR).join("v2025_11_25.rs");
        let mut bytes = fs::read(&edited).expect("read");
        let position = bytes
            .iter()
            .position(|byte| *byte == b'{')
            .expect("a brace");
        bytes[position] = b'(';
        fs::write(&edited, bytes).expect("write");

        let error = run(root, &arguments)
            .expect_err("an edited file is stale")
            .to_string();
        assert!(
            error.contains("stale: crates/mcpwire-schema/src/generated/v2025_11_25.rs"),
            "{error}"
        );
        assert!(
            error.starts_with("1 generated file(s) are stale"),
            "{error}"
        );

        // Regenerating repairs it.
        run(root, &arguments[1..]).expect("regenerates");
        run(root, &arguments).expect("current again");
    }
}
