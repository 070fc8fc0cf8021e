//! `cargo xtask tidy [--workspace DIR]`: the workspace's structural rules.
//!
//! Over every member that `cargo metadata` lists, tidy checks that:
//!
//! 1. dependencies point only downward in the layer table (normal and build dependencies;
//!    a crate may depend on another crate of its own layer);
//! 2. the crate is in the layer table of `ARCHITECTURE.md`;
//! 3. its `Cargo.toml` opts into the workspace lints (`[lints]` with `workspace = true`);
//! 4. if it is publishable, it has a version, `license`, `rust-version`, `description`, a
//!    `README.md`, and a `CHANGELOG.md` whose first non-empty line is `# Unreleased`;
//! 5. if it lives under `crates/`, its directory is named after the package;
//! 6. its source files import each other in no cycle, unless the cycle is listed in the
//!    baseline `xtask/tidy-cycles-baseline.txt`, and every cycle listed there still exists
//!    (see [`cycles`]).
//!
//! Every violation is printed on its own line, then the command fails with their count.
//!
//! The layer table is the table of the "Layers" section of `<workspace>/ARCHITECTURE.md`, or of
//! the file named by `MCPWIRE_LAYERS_MD`, so the repository alone says how its crates are
//! layered. `--workspace DIR` checks another workspace than this one (the tests point it at a
//! throwaway workspace).

mod cycles;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use cycles::{BASELINE, Baseline, Comparison, Cycle};

/// The environment variable that overrides which file the layer table is read from.
const LAYERS_MD_VARIABLE: &str = "MCPWIRE_LAYERS_MD";

/// The file, relative to the workspace root, whose "Layers" section holds the layer table.
const LAYERS_MD: &str = "ARCHITECTURE.md";

/// The heading of the layer table's section.
const LAYER_SECTION: &str = "## Layers";

/// The first non-empty line every publishable crate's `CHANGELOG.md` starts with.
const UNRELEASED_HEADING: &str = "# Unreleased";

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    let mut workspace_root = root.to_path_buf();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--workspace" => {
                let Some(directory) = arguments.next() else {
                    bail!("`--workspace` needs a directory");
                };
                workspace_root = PathBuf::from(directory);
            }
            other => bail!("unknown argument `{other}`; usage: cargo xtask tidy [--workspace DIR]"),
        }
    }
    let layers_md = layers_md_path(&workspace_root);
    tidy(&workspace_root, &layers_md, &mut std::io::stdout().lock())
}

/// Where the layer table is read from: `MCPWIRE_LAYERS_MD`, else `<root>/ARCHITECTURE.md`.
fn layers_md_path(root: &Path) -> PathBuf {
    match env::var_os(LAYERS_MD_VARIABLE) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => root.join(LAYERS_MD),
    }
}

/// Checks the workspace at `root` against the layer table in `layers_md` and the cycle
/// baseline.
///
/// Writes one `tidy: ` line per violation, a summary of the import cycles, and a summary when
/// there is no violation, to `out`.
///
/// # Errors
///
/// Fails when there are violations, or when the workspace, the table, the baseline or a
/// source file cannot be read.
fn tidy(root: &Path, layers_md: &Path, out: &mut dyn Write) -> Result<()> {
    let markdown = fs::read_to_string(layers_md)
        .with_context(|| format!("reading the layer table from {}", layers_md.display()))?;
    let layers = Layers::parse(&markdown)
        .with_context(|| format!("parsing the layer table of {}", layers_md.display()))?;
    let baseline = Baseline::load(&root.join(BASELINE))?;
    let workspace = Workspace::load(root)?;
    let mut violations = check(&workspace, &layers);
    let cycles = find_import_cycles(root, &workspace)?;
    let found = cycles.len();
    let comparison = cycles::compare(cycles, &baseline);
    violations.extend(cycle_violations(&comparison));
    let checked = workspace.members.len();
    for violation in &violations {
        writeln!(out, "tidy: {violation}")?;
    }
    writeln!(
        out,
        "tidy: import cycles: {checked} crates checked, {found} found, {} baselined",
        comparison.baselined
    )?;
    if violations.is_empty() {
        writeln!(out, "tidy: {checked} crates checked, no violations")?;
        return Ok(());
    }
    let mut by_rule = BTreeMap::<&str, usize>::new();
    for violation in &violations {
        *by_rule.entry(violation.rule.name()).or_default() += 1;
    }
    let breakdown = by_rule
        .iter()
        .map(|(rule, count)| format!("{count} {rule}"))
        .collect::<Vec<_>>()
        .join(", ");
    let count = violations.len();
    let noun = if count == 1 {
        "violation"
    } else {
        "violations"
    };
    bail!("tidy found {count} {noun} in {checked} crates ({breakdown})")
}

/// The import cycles of every member, crate by crate.
fn find_import_cycles(root: &Path, workspace: &Workspace) -> Result<Vec<Cycle>> {
    let read = |path: &Path| match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    };
    let mut found = Vec::new();
    for member in &workspace.members {
        let directory = root.join(&member.directory);
        found.extend(cycles::find_cycles(
            &member.name,
            &directory,
            &member.source_roots,
            &read,
        )?);
    }
    Ok(found)
}

/// The violations of the import-cycle rule: each cycle the baseline does not list, with the
/// references that make it, and each baseline entry that is no longer a cycle.
fn cycle_violations(comparison: &Comparison) -> Vec<Violation> {
    let mut violations = Vec::new();
    for cycle in &comparison.new {
        let references: String = cycle
            .references
            .iter()
            .map(|reference| format!("\n    {reference}"))
            .collect();
        violations.push(Violation {
            rule: Rule::ImportCycle,
            message: format!(
                "crate {} has an import cycle between {} that is not in {BASELINE}, which may \
                 only shrink; break the cycle at one of these references:{references}",
                cycle.files.crate_name,
                cycle.files.files.join(", "),
            ),
        });
    }
    for entry in &comparison.stale {
        violations.push(Violation {
            rule: Rule::CycleBaseline,
            message: format!(
                "the entry `{}` on line {} of {BASELINE} is no longer an import cycle; remove it \
                 and its comment, since the baseline may only shrink",
                entry.files, entry.line
            ),
        });
    }
    violations
}

/// A layer of the table; later layers rank higher and may depend on earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    L0,
    L1,
    L2,
    L3,
    L4,
    App,
    Tool,
}

impl Layer {
    fn from_label(label: &str) -> Option<Layer> {
        Some(match label {
            "L0" => Layer::L0,
            "L1" => Layer::L1,
            "L2" => Layer::L2,
            "L3" => Layer::L3,
            "L4" => Layer::L4,
            "app" => Layer::App,
            "tool" => Layer::Tool,
            _ => return None,
        })
    }

    fn label(self) -> &'static str {
        match self {
            Layer::L0 => "L0",
            Layer::L1 => "L1",
            Layer::L2 => "L2",
            Layer::L3 => "L3",
            Layer::L4 => "L4",
            Layer::App => "app",
            Layer::Tool => "tool",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// The layer table of `ARCHITECTURE.md`: crate name to layer.
#[derive(Debug, Default)]
struct Layers {
    by_crate: BTreeMap<String, Layer>,
}

impl Layers {
    /// Parses the markdown table in the "Layers" section of `markdown`.
    ///
    /// The section runs from its `## Layers` heading to the next heading of level one or two;
    /// tables of other sections are ignored.
    fn parse(markdown: &str) -> Result<Layers> {
        let mut lines = markdown
            .lines()
            .skip_while(|line| line.trim_end() != LAYER_SECTION);
        if lines.next().is_none() {
            bail!("there is no `{LAYER_SECTION}` section");
        }
        let mut layers = Layers::default();
        for line in lines.take_while(|line| !line.starts_with("# ") && !line.starts_with("## ")) {
            let line = line.trim();
            let Some(row) = line.strip_prefix('|') else {
                continue;
            };
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let [label, crates, ..] = cells.as_slice() else {
                continue;
            };
            // The header row and the `|---|---|` separator row name no layer.
            if label.eq_ignore_ascii_case("layer") || label.starts_with(['-', ':']) {
                continue;
            }
            let Some(layer) = Layer::from_label(label) else {
                bail!("unknown layer `{label}` in row `{line}`");
            };
            let names = crate_names(crates);
            if names.is_empty() {
                bail!("row `{line}` names no crate");
            }
            for name in names {
                if let Some(previous) = layers.by_crate.insert(name.clone(), layer)
                    && previous != layer
                {
                    bail!("crate {name} is listed in both layer {previous} and layer {layer}");
                }
            }
        }
        if layers.by_crate.is_empty() {
            bail!("the `{LAYER_SECTION}` section has no table rows");
        }
        Ok(layers)
    }

    fn layer_of(&self, name: &str) -> Option<Layer> {
        self.by_crate.get(name).copied()
    }
}

/// The crates a cell of the table's crate column names.
///
/// These are the backticked names starting with `mcpwire`, except the name of a binary
/// (`` `mcpwire-cli` (binary `mcpwire`) `` names the crate `mcpwire-cli`, and `mcpwire` is the
/// L4 facade). A cell naming only a directory (`` `xtask/` ``) names the crate of that
/// directory; `` `conformance/` (`mcpwire-conformance`) `` names its crate in parentheses.
fn crate_names(cell: &str) -> Vec<String> {
    // Splitting on backticks alternates prose (even pieces) and code spans (odd pieces).
    let pieces: Vec<&str> = cell.split('`').collect();
    let mut crates = Vec::new();
    let mut directories = Vec::new();
    for index in (1..pieces.len()).step_by(2) {
        let code = pieces[index].trim();
        if pieces[index - 1].trim_end().ends_with("binary") {
            continue;
        }
        if code.starts_with("mcpwire") {
            crates.push(code.to_owned());
        } else if let Some(directory) = code.strip_suffix('/') {
            directories.push(directory.to_owned());
        }
    }
    if crates.is_empty() {
        directories
    } else {
        crates
    }
}

/// The members of a workspace, with what the checks need of each.
#[derive(Debug, Default)]
struct Workspace {
    members: Vec<Member>,
}

/// One workspace member.
#[derive(Clone, Debug, Default)]
struct Member {
    name: String,
    /// The directory of its `Cargo.toml`, relative to the workspace root, `/`-separated.
    directory: String,
    version: String,
    license: Option<String>,
    rust_version: Option<String>,
    description: Option<String>,
    /// False for `publish = false` (metadata `"publish": []`).
    publishable: bool,
    dependencies: Vec<Dependency>,
    /// The text of its `Cargo.toml`.
    manifest: String,
    has_readme: bool,
    /// The text of its `CHANGELOG.md`, if it has one.
    changelog: Option<String>,
    /// The root files of its library and binary targets under `src/`, relative to its
    /// directory, `/`-separated.
    source_roots: Vec<String>,
}

#[derive(Clone, Debug)]
struct Dependency {
    /// The package name (not the name it is renamed to).
    name: String,
    kind: DependencyKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DependencyKind {
    Normal,
    Build,
    Dev,
}

impl Workspace {
    /// Reads the workspace at `root` with `cargo metadata --no-deps`, and each member's files.
    fn load(root: &Path) -> Result<Workspace> {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--manifest-path",
            ])
            .arg(root.join("Cargo.toml"))
            .output()
            .context("running cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).context("parsing cargo metadata's output")?;
        Workspace::from_metadata(&metadata)
    }

    fn from_metadata(metadata: &Value) -> Result<Workspace> {
        let workspace_root = PathBuf::from(string_field(metadata, "workspace_root")?);
        let member_ids: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .context("cargo metadata has no `workspace_members`")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let packages = metadata["packages"]
            .as_array()
            .context("cargo metadata has no `packages`")?;
        let mut members = Vec::new();
        for package in packages {
            if !member_ids.contains(string_field(package, "id")?) {
                continue;
            }
            members.push(Member::load(package, &workspace_root)?);
        }
        Ok(Workspace { members })
    }
}

impl Member {
    fn load(package: &Value, workspace_root: &Path) -> Result<Member> {
        let name = string_field(package, "name")?.to_owned();
        let manifest_path = PathBuf::from(string_field(package, "manifest_path")?);
        let directory_path = manifest_path
            .parent()
            .with_context(|| format!("the manifest of {name} has no parent directory"))?;
        let directory = slash_path(
            directory_path
                .strip_prefix(workspace_root)
                .unwrap_or(directory_path),
        );
        let optional = |key: &str| package[key].as_str().map(str::to_owned);
        let publishable = match &package["publish"] {
            Value::Array(registries) => !registries.is_empty(),
            _ => true,
        };
        let mut dependencies = Vec::new();
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let kind = match dependency["kind"].as_str() {
                Some("dev") => DependencyKind::Dev,
                Some("build") => DependencyKind::Build,
                _ => DependencyKind::Normal,
            };
            dependencies.push(Dependency {
                name: string_field(dependency, "name")?.to_owned(),
                kind,
            });
        }
        let mut source_roots = Vec::new();
        for target in package["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            // Tests, examples, benches and build scripts are not the crate's module files.
            if kinds
                .iter()
                .any(|kind| matches!(*kind, "test" | "example" | "bench" | "custom-build"))
            {
                continue;
            }
            let source = PathBuf::from(string_field(target, "src_path")?);
            if let Ok(relative) = source.strip_prefix(directory_path)
                && relative.starts_with("src")
            {
                source_roots.push(slash_path(relative));
            }
        }
        let manifest = fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading the manifest of {name}"))?;
        let changelog_path = directory_path.join("CHANGELOG.md");
        let changelog = if changelog_path.is_file() {
            Some(
                fs::read_to_string(&changelog_path)
                    .with_context(|| format!("reading the CHANGELOG.md of {name}"))?,
            )
        } else {
            None
        };
        Ok(Member {
            version: string_field(package, "version")?.to_owned(),
            license: optional("license"),
            rust_version: optional("rust_version"),
            description: optional("description"),
            has_readme: directory_path.join("README.md").is_file(),
            name,
            directory,
            publishable,
            dependencies,
            manifest,
            changelog,
            source_roots,
        })
    }
}

/// A relative path with `/` between its components, on every platform.
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn string_field<'value>(object: &'value Value, key: &str) -> Result<&'value str> {
    object[key]
        .as_str()
        .with_context(|| format!("cargo metadata: `{key}` is missing or not a string"))
}

/// Which rule a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Layering,
    LayerTable,
    Lints,
    Metadata,
    Directory,
    ImportCycle,
    CycleBaseline,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::Layering => "layering",
            Rule::LayerTable => "layer table",
            Rule::Lints => "lints",
            Rule::Metadata => "metadata",
            Rule::Directory => "directory",
            Rule::ImportCycle => "import cycle",
            Rule::CycleBaseline => "cycle baseline",
        }
    }
}

/// One broken rule, with a message naming the crate.
#[derive(Debug)]
struct Violation {
    rule: Rule,
    message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

/// Every violation of the rules in `workspace`, in member order.
fn check(workspace: &Workspace, layers: &Layers) -> Vec<Violation> {
    let member_names: BTreeSet<&str> = workspace
        .members
        .iter()
        .map(|member| member.name.as_str())
        .collect();
    let mut violations = Vec::new();
    for member in &workspace.members {
        let name = &member.name;
        let mut report = |rule, message: String| violations.push(Violation { rule, message });

        match layers.layer_of(name) {
            None => report(
                Rule::LayerTable,
                format!("crate {name} is not in the layer table of {LAYERS_MD}"),
            ),
            Some(own_layer) => {
                let mut reported = BTreeSet::new();
                for dependency in &member.dependencies {
                    // Dev-dependencies are exempt: tests and examples may use higher layers
                    // (a server crate's tests may drive it with the client crate).
                    if dependency.kind == DependencyKind::Dev
                        || !member_names.contains(dependency.name.as_str())
                    {
                        continue;
                    }
                    if let Some(their_layer) = layers.layer_of(&dependency.name)
                        && their_layer > own_layer
                        && reported.insert(dependency.name.as_str())
                    {
                        report(
                            Rule::Layering,
                            format!(
                                "crate {name} ({own_layer}) depends on {} ({their_layer}), a higher \
                                 layer; dependencies must point downward",
                                dependency.name
                            ),
                        );
                    }
                }
            }
        }

        if !opts_into_workspace_lints(&member.manifest) {
            report(
                Rule::Lints,
                format!(
                    "crate {name} does not opt into the workspace lints: its Cargo.toml needs \
                     `[lints]` with `workspace = true`"
                ),
            );
        }

        if member.publishable {
            let is_blank =
                |value: &Option<String>| value.as_deref().is_none_or(|v| v.trim().is_empty());
            let mut missing = Vec::new();
            if member.version.trim().is_empty() {
                missing.push("`version`");
            }
            if is_blank(&member.license) {
                missing.push("`license`");
            }
            if is_blank(&member.rust_version) {
                missing.push("`rust-version`");
            }
            if is_blank(&member.description) {
                missing.push("`description`");
            }
            if !missing.is_empty() {
                report(
                    Rule::Metadata,
                    format!(
                        "crate {name} is publishable but its Cargo.toml has no {}",
                        missing.join(", ")
                    ),
                );
            }
            if !member.has_readme {
                report(
                    Rule::Metadata,
                    format!(
                        "crate {name} is publishable but has no README.md next to its Cargo.toml"
                    ),
                );
            }
            match &member.changelog {
                None => report(
                    Rule::Metadata,
                    format!(
                        "crate {name} is publishable but has no CHANGELOG.md next to its Cargo.toml"
                    ),
                ),
                Some(changelog) if !changelog_starts_unreleased(changelog) => report(
                    Rule::Metadata,
                    format!(
                        "the CHANGELOG.md of crate {name} must start with `{UNRELEASED_HEADING}`"
                    ),
                ),
                Some(_) => {}
            }
        }

        if let Some(directory_name) = member.directory.strip_prefix("crates/")
            && directory_name != name
        {
            report(
                Rule::Directory,
                format!(
                    "crate {name} lives in {}; its directory must be crates/{name}",
                    member.directory
                ),
            );
        }
    }
    violations
}

/// Whether a `Cargo.toml` has `[lints]` with `workspace = true` (or the dotted or inline form).
///
/// A line-based reading, not a TOML parser: it ignores `#` comments and whitespace, which is
/// enough for the headers and keys this looks at.
fn opts_into_workspace_lints(manifest: &str) -> bool {
    // The header of the current table, whitespace removed; empty for the root table.
    let mut table = String::new();
    for line in manifest.lines() {
        let without_comment = line.split('#').next().unwrap_or_default();
        let compact: String = without_comment
            .chars()
            .filter(|character| !character.is_whitespace())
            .collect();
        if compact.starts_with('[') {
            table = compact;
            continue;
        }
        let opted_in = match table.as_str() {
            "[lints]" => compact == "workspace=true",
            "" => compact == "lints.workspace=true" || compact == "lints={workspace=true}",
            _ => false,
        };
        if opted_in {
            return true;
        }
    }
    false
}

/// Whether the first non-empty line of a changelog is exactly `# Unreleased`.
fn changelog_starts_unreleased(changelog: &str) -> bool {
    changelog
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim_end)
        .find(|line| !line.is_empty())
        == Some(UNRELEASED_HEADING)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
# Architecture

## Layers

Dependencies point only downward.

| layer | crate | responsibility |
|---|---|---|
| L0 | `mcpwire-jsonrpc` | JSON-RPC envelope: `Message`, `RequestId`. |
| L0 | `mcpwire-schema` | Generated types. |
| L1 | `mcpwire-transport` | The `Transport` trait. |
| L2 | `mcpwire-rpc` | The peer engine. |
| L3 | `mcpwire-ext-client-credentials`, `mcpwire-ext-enterprise-auth` | Auth extensions. |
| L3 | `mcpwire-server` | Server role. |
| L4 | `mcpwire` | Facade. |
| app | `mcpwire-cli` (binary `mcpwire`) | `serve`, `call`. |
| tool | `conformance/` (`mcpwire-conformance`) | Our conformance suite. |
| tool | `xtask/` | `codegen`, `tidy`. |

A row marked planned names a crate that does not exist yet.

## Code map

| L1 | `mcpwire-not-a-crate` | A table of another section. |
";

    fn layers() -> Layers {
        Layers::parse(TABLE).unwrap()
    }

    /// A member that passes every check, with the given normal dependencies.
    fn member(name: &str, dependencies: &[&str]) -> Member {
        Member {
            name: name.to_owned(),
            directory: format!("crates/{name}"),
            version: "0.1.0".to_owned(),
            license: Some("Apache-2.0 OR MIT".to_owned()),
            rust_version: Some("1.95".to_owned()),
            description: Some("A crate.".to_owned()),
            publishable: true,
            dependencies: dependencies
                .iter()
                .map(|dependency| Dependency {
                    name: (*dependency).to_owned(),
                    kind: DependencyKind::Normal,
                })
                .collect(),
            manifest: "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n".to_owned(),
            has_readme: true,
            changelog: Some("# Unreleased\n\n- Added things.\n".to_owned()),
            source_roots: vec!["src/lib.rs".to_owned()],
        }
    }

    fn rules(violations: &[Violation]) -> Vec<Rule> {
        violations.iter().map(|violation| violation.rule).collect()
    }

    #[test]
    fn table_parser_reads_every_row_of_the_section() {
        let layers = layers();
        let expected = [
            ("mcpwire-jsonrpc", Layer::L0),
            ("mcpwire-schema", Layer::L0),
            ("mcpwire-transport", Layer::L1),
            ("mcpwire-rpc", Layer::L2),
            ("mcpwire-ext-client-credentials", Layer::L3),
            ("mcpwire-ext-enterprise-auth", Layer::L3),
            ("mcpwire-server", Layer::L3),
            ("mcpwire", Layer::L4),
            ("mcpwire-cli", Layer::App),
            ("mcpwire-conformance", Layer::Tool),
            ("xtask", Layer::Tool),
        ];
        let parsed: Vec<(&str, Layer)> = layers
            .by_crate
            .iter()
            .map(|(name, layer)| (name.as_str(), *layer))
            .collect();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn table_parser_keeps_the_facade_in_l4_despite_the_cli_binary_name() {
        // `mcpwire-cli` (binary `mcpwire`) must not put the facade crate into the app layer.
        assert_eq!(layers().layer_of("mcpwire"), Some(Layer::L4));
        assert_eq!(layers().layer_of("mcpwire-cli"), Some(Layer::App));
    }

    #[test]
    fn table_parser_ignores_tables_of_other_sections() {
        assert_eq!(layers().layer_of("mcpwire-not-a-crate"), None);
    }

    #[test]
    fn table_parser_ranks_layers_in_order() {
        assert!(Layer::L0 < Layer::L1);
        assert!(Layer::L3 < Layer::L4);
        assert!(Layer::L4 < Layer::App);
        assert!(Layer::App < Layer::Tool);
    }

    #[test]
    fn table_parser_rejects_a_missing_section() {
        let error =
            Layers::parse("# Architecture\n\n| L0 | `mcpwire-jsonrpc` | x |\n").unwrap_err();
        assert!(error.to_string().contains("## Layers"), "{error}");
    }

    #[test]
    fn table_parser_rejects_an_unknown_layer() {
        let markdown = "## Layers\n\n| layer | crate |\n|---|---|\n| L9 | `mcpwire-x` |\n";
        let error = Layers::parse(markdown).unwrap_err();
        assert!(error.to_string().contains("L9"), "{error}");
    }

    #[test]
    fn table_parser_rejects_a_crate_in_two_layers() {
        let markdown = "## Layers\n\n| L0 | `mcpwire-x` |\n| L2 | `mcpwire-x` |\n";
        let error = Layers::parse(markdown).unwrap_err();
        assert!(error.to_string().contains("mcpwire-x"), "{error}");
    }

    #[test]
    fn table_parser_reads_the_repository_architecture_md() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root");
        let markdown = fs::read_to_string(root.join(LAYERS_MD)).unwrap();
        let layers = Layers::parse(&markdown).unwrap();
        assert_eq!(layers.layer_of("mcpwire-jsonrpc"), Some(Layer::L0));
        assert_eq!(layers.layer_of("mcpwire-server"), Some(Layer::L3));
        assert_eq!(layers.layer_of("mcpwire-store-redis"), Some(Layer::L3));
        assert_eq!(layers.layer_of("mcpwire"), Some(Layer::L4));
        assert_eq!(layers.layer_of("mcpwire-cli"), Some(Layer::App));
        assert_eq!(layers.layer_of("xtask"), Some(Layer::Tool));
    }

    #[test]
    fn changelog_must_start_with_unreleased() {
        assert!(changelog_starts_unreleased("# Unreleased\n\n- Added.\n"));
        assert!(changelog_starts_unreleased("\n\n# Unreleased  \r\n"));
        assert!(!changelog_starts_unreleased(""));
        assert!(!changelog_starts_unreleased(
            "# Changelog\n\n# Unreleased\n"
        ));
        assert!(!changelog_starts_unreleased("## Unreleased\n"));
        assert!(!changelog_starts_unreleased("# Unreleased changes\n"));
        assert!(!changelog_starts_unreleased("# 0.1.0\n"));
    }

    #[test]
    fn lints_detection_accepts_the_workspace_opt_in() {
        assert!(opts_into_workspace_lints(
            "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(opts_into_workspace_lints(
            "[ lints ]  # shared\nworkspace=true # all of them\n"
        ));
        assert!(opts_into_workspace_lints(
            "lints.workspace = true\n[package]\nname = \"x\"\n"
        ));
        assert!(opts_into_workspace_lints("lints = { workspace = true }\n"));
    }

    #[test]
    fn lints_detection_rejects_anything_else() {
        assert!(!opts_into_workspace_lints("[package]\nname = \"x\"\n"));
        assert!(!opts_into_workspace_lints("[lints]\nworkspace = false\n"));
        assert!(!opts_into_workspace_lints(
            "[lints.rust]\nunsafe_code = \"forbid\"\n"
        ));
        assert!(!opts_into_workspace_lints("[package]\nworkspace = true\n"));
        assert!(!opts_into_workspace_lints(
            "[lints]\n[dependencies]\nworkspace = true\n"
        ));
        assert!(!opts_into_workspace_lints("[lints]\n# workspace = true\n"));
    }

    #[test]
    fn check_passes_a_clean_workspace() {
        let workspace = Workspace {
            members: vec![
                member("mcpwire-jsonrpc", &[]),
                member("mcpwire-server", &["mcpwire-jsonrpc"]),
            ],
        };
        assert!(check(&workspace, &layers()).is_empty());
    }

    #[test]
    fn check_reports_an_upward_dependency_naming_both_crates_and_layers() {
        let workspace = Workspace {
            members: vec![
                member("mcpwire-jsonrpc", &["mcpwire-server"]),
                member("mcpwire-server", &[]),
            ],
        };
        let violations = check(&workspace, &layers());
        assert_eq!(rules(&violations), [Rule::Layering]);
        let message = violations[0].to_string();
        assert!(
            message.contains("mcpwire-jsonrpc (L0) depends on mcpwire-server (L3)"),
            "{message}"
        );
    }

    #[test]
    fn check_allows_a_dependency_within_the_same_layer() {
        let workspace = Workspace {
            members: vec![
                member("mcpwire-jsonrpc", &[]),
                member("mcpwire-schema", &["mcpwire-jsonrpc"]),
            ],
        };
        assert!(check(&workspace, &layers()).is_empty());
    }

    #[test]
    fn check_exempts_dev_dependencies_but_not_build_dependencies() {
        let mut jsonrpc = member("mcpwire-jsonrpc", &[]);
        jsonrpc.dependencies.push(Dependency {
            name: "mcpwire-server".to_owned(),
            kind: DependencyKind::Dev,
        });
        let workspace = Workspace {
            members: vec![jsonrpc.clone(), member("mcpwire-server", &[])],
        };
        assert!(check(&workspace, &layers()).is_empty());

        jsonrpc.dependencies.push(Dependency {
            name: "mcpwire-server".to_owned(),
            kind: DependencyKind::Build,
        });
        let workspace = Workspace {
            members: vec![jsonrpc, member("mcpwire-server", &[])],
        };
        assert_eq!(rules(&check(&workspace, &layers())), [Rule::Layering]);
    }

    #[test]
    fn check_ignores_dependencies_outside_the_workspace() {
        // `mcpwire` is in the table but not a member here: a published crate of that name
        // is not a workspace dependency.
        let workspace = Workspace {
            members: vec![member("mcpwire-jsonrpc", &["serde", "mcpwire"])],
        };
        assert!(check(&workspace, &layers()).is_empty());
    }

    #[test]
    fn check_reports_a_crate_missing_from_the_table() {
        let workspace = Workspace {
            members: vec![
                member("mcpwire-unheard-of", &["mcpwire-jsonrpc"]),
                member("mcpwire-jsonrpc", &[]),
            ],
        };
        let violations = check(&workspace, &layers());
        assert_eq!(rules(&violations), [Rule::LayerTable]);
        assert_eq!(
            violations[0].to_string(),
            "crate mcpwire-unheard-of is not in the layer table of ARCHITECTURE.md"
        );
    }

    #[test]
    fn check_reports_a_crate_without_workspace_lints() {
        let mut jsonrpc = member("mcpwire-jsonrpc", &[]);
        jsonrpc.manifest = "[package]\nname = \"mcpwire-jsonrpc\"\n".to_owned();
        let violations = check(
            &Workspace {
                members: vec![jsonrpc],
            },
            &layers(),
        );
        assert_eq!(rules(&violations), [Rule::Lints]);
    }

    #[test]
    fn check_reports_every_missing_piece_of_publishable_metadata() {
        let mut jsonrpc = member("mcpwire-jsonrpc", &[]);
        jsonrpc.license = None;
        jsonrpc.rust_version = None;
        jsonrpc.description = Some("  ".to_owned());
        jsonrpc.has_readme = false;
        jsonrpc.changelog = Some("# Changelog\n".to_owned());
        let mut schema = member("mcpwire-schema", &[]);
        schema.changelog = None;
        let violations = check(
            &Workspace {
                members: vec![jsonrpc, schema],
            },
            &layers(),
        );
        assert_eq!(rules(&violations), [Rule::Metadata; 4]);
        let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(
            messages[0].contains("`license`, `rust-version`, `description`"),
            "{messages:?}"
        );
        assert!(messages[1].contains("README.md"), "{messages:?}");
        assert!(
            messages[2].contains("mcpwire-jsonrpc must start with `# Unreleased`"),
            "{messages:?}"
        );
        assert!(
            messages[3].contains("mcpwire-schema is publishable but has no CHANGELOG.md"),
            "{messages:?}"
        );
    }

    #[test]
    fn check_does_not_require_publishing_metadata_of_unpublished_crates() {
        let mut xtask = member("xtask", &[]);
        xtask.directory = "xtask".to_owned();
        xtask.publishable = false;
        xtask.license = None;
        xtask.has_readme = false;
        xtask.changelog = None;
        assert!(
            check(
                &Workspace {
                    members: vec![xtask]
                },
                &layers()
            )
            .is_empty()
        );
    }

    #[test]
    fn check_reports_a_directory_not_named_after_its_crate() {
        let mut jsonrpc = member("mcpwire-jsonrpc", &[]);
        jsonrpc.directory = "crates/jsonrpc".to_owned();
        let violations = check(
            &Workspace {
                members: vec![jsonrpc],
            },
            &layers(),
        );
        assert_eq!(rules(&violations), [Rule::Directory]);
        assert!(violations[0].to_string().contains("crates/jsonrpc"));
    }

    #[test]
    fn check_reports_all_violations_not_just_the_first() {
        let mut jsonrpc = member("mcpwire-jsonrpc", &["mcpwire-server"]);
        jsonrpc.manifest = String::new();
        jsonrpc.directory = "crates/jsonrpc".to_owned();
        let mut stray = member("stray", &[]);
        stray.directory = "crates/strays".to_owned();
        let workspace = Workspace {
            members: vec![jsonrpc, member("mcpwire-server", &[]), stray],
        };
        assert_eq!(
            rules(&check(&workspace, &layers())),
            [
                Rule::Layering,
                Rule::Lints,
                Rule::Directory,
                Rule::LayerTable,
                Rule::Directory,
            ]
        );
    }

    /// A found cycle of `crate_name` between `files`.
    fn cycle(crate_name: &str, files: &[&str]) -> Cycle {
        Cycle {
            files: cycles::CycleFiles {
                crate_name: crate_name.to_owned(),
                files: files.iter().map(|file| (*file).to_owned()).collect(),
            },
            references: Vec::new(),
        }
    }

    const BASELINE_OF_ONE: &str = "\
# The header.

# mcpwire-server: a and b share a type.
mcpwire-server src/a.rs src/b.rs
";

    #[test]
    fn check_reports_a_cycle_the_baseline_does_not_list() {
        let baseline = Baseline::parse(BASELINE_OF_ONE).unwrap();
        let found = vec![
            cycle("mcpwire-server", &["src/a.rs", "src/b.rs"]),
            cycle("mcpwire-server", &["src/c.rs", "src/d.rs"]),
        ];
        let comparison = cycles::compare(found, &baseline);
        assert_eq!(comparison.baselined, 1);
        let violations = cycle_violations(&comparison);
        assert_eq!(rules(&violations), [Rule::ImportCycle]);
        assert!(
            violations[0].to_string().starts_with(
                "crate mcpwire-server has an import cycle between src/c.rs, src/d.rs that is not \
                 in xtask/tidy-cycles-baseline.txt"
            ),
            "{}",
            violations[0]
        );
    }

    #[test]
    fn check_reports_a_baseline_entry_that_is_no_longer_a_cycle() {
        let baseline = Baseline::parse(BASELINE_OF_ONE).unwrap();
        let comparison = cycles::compare(Vec::new(), &baseline);
        let violations = cycle_violations(&comparison);
        assert_eq!(rules(&violations), [Rule::CycleBaseline]);
        assert_eq!(
            violations[0].to_string(),
            "the entry `mcpwire-server src/a.rs src/b.rs` on line 4 of \
             xtask/tidy-cycles-baseline.txt is no longer an import cycle; remove it and its \
             comment, since the baseline may only shrink"
        );
    }

    #[test]
    fn check_treats_a_cycle_that_grew_as_new_and_its_entry_as_stale() {
        let baseline = Baseline::parse(BASELINE_OF_ONE).unwrap();
        let found = vec![cycle(
            "mcpwire-server",
            &["src/a.rs", "src/b.rs", "src/c.rs"],
        )];
        let comparison = cycles::compare(found, &baseline);
        assert_eq!(comparison.baselined, 0);
        assert_eq!(
            rules(&cycle_violations(&comparison)),
            [Rule::ImportCycle, Rule::CycleBaseline]
        );
    }
}
