//! The import-cycle rule of tidy: within a crate, no source file depends on itself through
//! other files.
//!
//! The graph of a crate has one node per module file: each file under `src/` that its library
//! and binary targets reach through `mod` declarations (`foo.rs`, `foo/mod.rs`, or a
//! `#[path]`; tests, examples and benches are not part of it). File A points at file B when
//! code in A names an item of B through a path starting with `crate`, `$crate`, `self` or
//! `super`, in a `use` declaration or anywhere else in code. Paths are resolved through the
//! module tree the way rustc does, as far as a scanner can:
//!
//! - a module maps to its file, and an inline `mod x { }` block belongs to the file it is in;
//! - re-exports are followed, so `use crate::Error` points at the file that defines `Error`,
//!   not at the `lib.rs` that re-exports it;
//! - a path the scanner cannot follow further (an associated item, an enum variant, a macro
//!   exported at the crate root) points at the file of the deepest module it reached;
//! - a path leading out of the crate points nowhere.
//!
//! The scanner is a small tokenizer, not a parser: it skips comments (doc comments included,
//! so intra-doc links make no edge), string and character literals, and every item under
//! `#[cfg(test)]`. Paths with a bare first segment (`session::Session`) make no edge of their
//! own, but re-exports written that way (`pub use error::Error;` in `lib.rs`) are followed.
//!
//! The strongly connected components of the graph with more than one file (Tarjan's
//! algorithm) are the crate's import cycles. A cycle that is tolerated for now is listed in
//! the baseline, [`BASELINE`], which may only shrink: see [`compare`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// The baseline of tolerated import cycles, relative to the workspace root.
pub(crate) const BASELINE: &str = "xtask/tidy-cycles-baseline.txt";

/// How many re-exports and glob imports a path is followed through before giving up; real
/// chains are two or three long, so this only stops a runaway chain (which rustc would reject).
const RESOLUTION_BUDGET: usize = 16;

/// A crate's cycle as the baseline names it: the crate, and the files of the cycle relative to
/// the crate's directory, `/`-separated and sorted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CycleFiles {
    pub(crate) crate_name: String,
    pub(crate) files: Vec<String>,
}

impl fmt::Display for CycleFiles {
    /// The baseline's line for this cycle: the crate name, then the files, space-separated.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.crate_name, self.files.join(" "))
    }
}

/// An import cycle found in a crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cycle {
    pub(crate) files: CycleFiles,
    /// Every reference from one file of the cycle to another, at the first line where it
    /// occurs: where the cycle can be cut.
    pub(crate) references: Vec<FileReference>,
}

/// A file naming an item of another file, at a line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FileReference {
    pub(crate) from: String,
    pub(crate) line: usize,
    pub(crate) to: String,
}

impl fmt::Display for FileReference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{} -> {}", self.from, self.line, self.to)
    }
}

/// Reads a source file: its text, or `None` when it does not exist.
pub(crate) type ReadSource<'read> = &'read dyn Fn(&Path) -> Result<Option<String>>;

/// Finds the import cycles among the module files of one crate.
///
/// `directory` is the crate's directory and `roots` are the root files of its library and
/// binary targets, relative to it (`src/lib.rs`, `src/bin/tool.rs`). Returns the cycles
/// ordered by their files.
///
/// # Errors
///
/// Fails when `read` fails, or when a root file does not exist.
pub(crate) fn find_cycles(
    crate_name: &str,
    directory: &Path,
    roots: &[String],
    read: ReadSource<'_>,
) -> Result<Vec<Cycle>> {
    let mut tree = ModuleTree::new(directory, read);
    for root in roots {
        tree.add_target(&directory.join(root))
            .with_context(|| format!("reading the module tree of {crate_name} from {root}"))?;
    }
    let references = tree.references();
    let mut edges = vec![BTreeSet::new(); tree.files.len()];
    for reference in &references {
        edges[reference.from].insert(reference.to);
    }
    let mut cycles = Vec::new();
    for component in strongly_connected_components(&edges) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let mut files: Vec<String> = component
            .iter()
            .map(|&file| tree.files[file].name.clone())
            .collect();
        files.sort();
        // The first line of each file that names each other file of the cycle.
        let mut first_lines = BTreeMap::<(usize, usize), usize>::new();
        for reference in &references {
            if members.contains(&reference.from) && members.contains(&reference.to) {
                let line = first_lines
                    .entry((reference.from, reference.to))
                    .or_insert(reference.line);
                *line = (*line).min(reference.line);
            }
        }
        let mut cycle_references: Vec<FileReference> = first_lines
            .into_iter()
            .map(|((from, to), line)| FileReference {
                from: tree.files[from].name.clone(),
                line,
                to: tree.files[to].name.clone(),
            })
            .collect();
        cycle_references.sort();
        cycles.push(Cycle {
            files: CycleFiles {
                crate_name: crate_name.to_owned(),
                files,
            },
            references: cycle_references,
        });
    }
    cycles.sort_by(|left, right| left.files.cmp(&right.files));
    Ok(cycles)
}

/// The baseline: the import cycles tidy tolerates for now, each with the reason why.
///
/// One entry per line: the crate name, then the files of the cycle (relative to the crate's
/// directory, sorted), separated by spaces. Lines starting with `#` are comments, and every
/// entry needs one directly above it: the reason the cycle exists and how it will be split.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    entries: Vec<BaselineEntry>,
}

/// One entry of the baseline, with its line number for messages.
#[derive(Clone, Debug)]
pub(crate) struct BaselineEntry {
    pub(crate) files: CycleFiles,
    pub(crate) line: usize,
}

impl Baseline {
    /// Reads the baseline at `path`; a missing file is an empty baseline.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be read or is malformed (see [`Baseline::parse`]).
    pub(crate) fn load(path: &Path) -> Result<Baseline> {
        match std::fs::read_to_string(path) {
            Ok(text) => Baseline::parse(&text)
                .with_context(|| format!("parsing the cycle baseline {}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Baseline::default()),
            Err(error) => {
                Err(error).with_context(|| format!("reading the cycle baseline {}", path.display()))
            }
        }
    }

    /// Parses the text of a baseline.
    ///
    /// # Errors
    ///
    /// Fails on an entry without a reason comment directly above it, an entry naming fewer
    /// than two files, and an entry listed twice.
    pub(crate) fn parse(text: &str) -> Result<Baseline> {
        let mut entries = Vec::<BaselineEntry>::new();
        let mut has_reason = false;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                has_reason = !comment.trim().is_empty();
                continue;
            }
            if line.is_empty() {
                has_reason = false;
                continue;
            }
            let mut words = line.split_whitespace().map(str::to_owned);
            let crate_name = words.next().expect("a non-empty line has a first word");
            let mut files: Vec<String> = words.collect();
            files.sort();
            if files.len() < 2 {
                bail!("line {number}: an entry names a crate and at least two files: `{line}`");
            }
            if !has_reason {
                bail!(
                    "line {number}: the entry `{line}` needs a `#` comment directly above it \
                     saying why the cycle is tolerated"
                );
            }
            let files = CycleFiles { crate_name, files };
            if let Some(previous) = entries.iter().find(|entry| entry.files == files) {
                bail!(
                    "line {number}: the entry `{files}` repeats line {}",
                    previous.line
                );
            }
            entries.push(BaselineEntry {
                files,
                line: number,
            });
        }
        Ok(Baseline { entries })
    }
}

/// The found cycles against the baseline.
#[derive(Debug)]
pub(crate) struct Comparison {
    /// Cycles the baseline does not list: each fails tidy.
    pub(crate) new: Vec<Cycle>,
    /// Baseline entries that are no longer cycles: each fails tidy too, so the baseline shrinks
    /// as soon as a cycle is broken.
    pub(crate) stale: Vec<BaselineEntry>,
    /// How many found cycles the baseline lists.
    pub(crate) baselined: usize,
}

/// Compares the cycles found in the workspace with the baseline.
///
/// A cycle matches an entry when the crate and the files are the same: a cycle that grew or
/// shrank is new, and its old entry stale.
pub(crate) fn compare(found: Vec<Cycle>, baseline: &Baseline) -> Comparison {
    let stale = baseline
        .entries
        .iter()
        .filter(|entry| !found.iter().any(|cycle| cycle.files == entry.files))
        .cloned()
        .collect();
    let (baselined, new): (Vec<Cycle>, Vec<Cycle>) = found.into_iter().partition(|cycle| {
        baseline
            .entries
            .iter()
            .any(|entry| entry.files == cycle.files)
    });
    Comparison {
        new,
        stale,
        baselined: baselined.len(),
    }
}

/// One module of a target's module tree.
#[derive(Debug)]
struct Module {
    /// The index of its file in [`ModuleTree::files`].
    file: usize,
    /// Which inline module of the file it is: indexes into nested `inline_modules`, empty for
    /// the file's top level.
    inline_path: Vec<usize>,
    parent: Option<usize>,
    /// The root module of its target, which `crate` names.
    root: usize,
    children: BTreeMap<String, usize>,
}

/// A scanned source file.
#[derive(Debug)]
struct SourceFile {
    /// Relative to the crate's directory, `/`-separated.
    name: String,
    scope: Scope,
}

/// A reference between two files, by index, at a line of the first.
#[derive(Debug)]
struct Edge {
    from: usize,
    to: usize,
    line: usize,
}

/// Where a module's `mod name;` files are looked for.
struct Places {
    /// The directory of `name.rs` and `name/mod.rs`.
    directory: PathBuf,
    /// The directory a `#[path]` is relative to.
    path_base: PathBuf,
}

/// The state of adding one target's module tree.
struct Walk {
    /// The target's root module.
    root: usize,
    /// The files already in the target's tree; a file is added once.
    visited: BTreeSet<usize>,
}

/// The module trees of a crate's targets, over the files they share.
struct ModuleTree<'read> {
    directory: PathBuf,
    read: ReadSource<'read>,
    files: Vec<SourceFile>,
    file_index: BTreeMap<PathBuf, usize>,
    modules: Vec<Module>,
}

/// What a path names, as far as resolution gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolved {
    Module(usize),
    /// An item defined in this file, or something inside one.
    Item(usize),
    /// Something outside the crate, or nothing the scanner can find.
    Nothing,
}

/// What a name names in a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Module(usize),
    Item(usize),
    /// An import of something outside the crate.
    Outside,
    /// A name the module neither declares, defines nor imports, as far as the scanner sees.
    Unknown,
}

impl<'read> ModuleTree<'read> {
    fn new(directory: &Path, read: ReadSource<'read>) -> ModuleTree<'read> {
        ModuleTree {
            directory: normalize(directory),
            read,
            files: Vec::new(),
            file_index: BTreeMap::new(),
            modules: Vec::new(),
        }
    }

    /// Adds the module tree of the target whose root file is `root`.
    fn add_target(&mut self, root: &Path) -> Result<()> {
        let Some(file) = self.load(root)? else {
            bail!("{} does not exist", root.display());
        };
        // A crate root keeps its modules beside it, as a `mod.rs` file does.
        let directory = parent_directory(&normalize(root));
        let mut walk = Walk {
            root: self.modules.len(),
            visited: BTreeSet::from([file]),
        };
        let places = Places {
            path_base: directory.clone(),
            directory,
        };
        self.add_module(file, Vec::new(), None, places, &mut walk)?;
        Ok(())
    }

    /// Adds the module at `inline_path` of `file`, then every module it declares.
    fn add_module(
        &mut self,
        file: usize,
        inline_path: Vec<usize>,
        parent: Option<usize>,
        places: Places,
        walk: &mut Walk,
    ) -> Result<usize> {
        let id = self.modules.len();
        let scope = self.files[file].scope.at(&inline_path);
        let inline_names: Vec<String> = scope
            .inline_modules
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        let declarations = scope.module_files.clone();
        self.modules.push(Module {
            file,
            inline_path: inline_path.clone(),
            parent,
            root: walk.root,
            children: BTreeMap::new(),
        });

        for (position, name) in inline_names.into_iter().enumerate() {
            let mut child_path = inline_path.clone();
            child_path.push(position);
            // An inline module's files, and its `#[path]`s, are in a directory of its name.
            let directory = places.directory.join(&name);
            let child_places = Places {
                path_base: directory.clone(),
                directory,
            };
            let child = self.add_module(file, child_path, Some(id), child_places, walk)?;
            self.modules[id].children.insert(name, child);
        }

        for declaration in declarations {
            let candidates = match &declaration.path_attribute {
                Some(path) => vec![places.path_base.join(path)],
                None => vec![
                    places.directory.join(format!("{}.rs", declaration.name)),
                    places.directory.join(&declaration.name).join("mod.rs"),
                ],
            };
            let mut found = None;
            for candidate in candidates {
                if let Some(child_file) = self.load(&candidate)? {
                    found = Some((child_file, normalize(&candidate)));
                    break;
                }
            }
            // A declared file that does not exist (or lies outside `src/`) is left out: rustc
            // rejects a missing one unless its `mod` is configured away, and then it is not
            // built either.
            let Some((child_file, child_path)) = found else {
                continue;
            };
            if !walk.visited.insert(child_file) {
                continue;
            }
            // `name/mod.rs` and `#[path]` files keep their modules beside them, as a crate root
            // does; `name.rs` keeps them in `name/`.
            let is_mod_rs = declaration.path_attribute.is_some()
                || child_path.file_name().is_some_and(|name| name == "mod.rs");
            let child_places = Places {
                directory: if is_mod_rs {
                    parent_directory(&child_path)
                } else {
                    child_path.with_extension("")
                },
                path_base: parent_directory(&child_path),
            };
            let child = self.add_module(child_file, Vec::new(), Some(id), child_places, walk)?;
            self.modules[id].children.insert(declaration.name, child);
        }
        Ok(id)
    }

    /// Reads and scans the file at `path`, once; `None` when it does not exist or is not under
    /// the crate's `src/`.
    fn load(&mut self, path: &Path) -> Result<Option<usize>> {
        let path = normalize(path);
        if let Some(&index) = self.file_index.get(&path) {
            return Ok(Some(index));
        }
        let Ok(relative) = path.strip_prefix(&self.directory) else {
            return Ok(None);
        };
        if relative.components().next() != Some(Component::Normal("src".as_ref())) {
            return Ok(None);
        }
        let Some(text) = (self.read)(&path)? else {
            return Ok(None);
        };
        let name = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let index = self.files.len();
        self.files.push(SourceFile {
            name,
            scope: scan(&tokenize(&text)),
        });
        self.file_index.insert(path, index);
        Ok(Some(index))
    }

    fn scope(&self, module: usize) -> &Scope {
        let module = &self.modules[module];
        self.files[module.file].scope.at(&module.inline_path)
    }

    /// Every reference from one file to another.
    fn references(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for (id, module) in self.modules.iter().enumerate() {
            for reference in &self.scope(id).references {
                let target = match self.resolve(id, &reference.path, RESOLUTION_BUDGET) {
                    Resolved::Module(target) => self.modules[target].file,
                    Resolved::Item(file) => file,
                    Resolved::Nothing => continue,
                };
                if target != module.file {
                    edges.push(Edge {
                        from: module.file,
                        to: target,
                        line: reference.line,
                    });
                }
            }
        }
        edges
    }

    /// What `path`, written in module `from`, names.
    ///
    /// Each import or glob import followed on the way costs one of `budget`.
    fn resolve(&self, from: usize, path: &[String], budget: usize) -> Resolved {
        let Some((first, rest)) = path.split_first() else {
            return Resolved::Module(from);
        };
        let mut module = match first.as_str() {
            "crate" => self.modules[from].root,
            "self" => from,
            "super" => match self.modules[from].parent {
                Some(parent) => parent,
                None => return Resolved::Nothing,
            },
            // A bare first segment is a name in scope, or else an extern crate.
            name => match self.lookup(from, name, budget) {
                Found::Module(module) => module,
                Found::Item(file) => return Resolved::Item(file),
                Found::Outside | Found::Unknown => return Resolved::Nothing,
            },
        };
        for segment in rest {
            match segment.as_str() {
                "self" => {}
                "super" => match self.modules[module].parent {
                    Some(parent) => module = parent,
                    None => return Resolved::Nothing,
                },
                name => match self.lookup(module, name, budget) {
                    Found::Module(child) => module = child,
                    Found::Item(file) => return Resolved::Item(file),
                    Found::Outside => return Resolved::Nothing,
                    // A name the scanner does not see defined (an item a macro defines, say)
                    // is taken to be in the deepest module reached.
                    Found::Unknown => return Resolved::Item(self.modules[module].file),
                },
            }
        }
        Resolved::Module(module)
    }

    /// What `name` names in `module`: a child module, an import, an item defined there, or
    /// something a glob import brings in.
    fn lookup(&self, module: usize, name: &str, budget: usize) -> Found {
        if let Some(&child) = self.modules[module].children.get(name) {
            return Found::Module(child);
        }
        let scope = self.scope(module);
        if scope.items.contains(name) {
            return Found::Item(self.modules[module].file);
        }
        let Some(budget) = budget.checked_sub(1) else {
            return Found::Unknown;
        };
        if let Some(path) = scope.imports.get(name) {
            return match self.resolve(module, path, budget) {
                Resolved::Module(target) => Found::Module(target),
                Resolved::Item(file) => Found::Item(file),
                Resolved::Nothing => Found::Outside,
            };
        }
        for glob in &scope.globs {
            if let Resolved::Module(source) = self.resolve(module, glob, budget) {
                let found = self.lookup(source, name, budget);
                if found != Found::Unknown {
                    return found;
                }
            }
        }
        Found::Unknown
    }
}

/// What the cycle check needs of one module scope: a file's top level, or an inline
/// `mod name { }` block in it.
#[derive(Debug, Default)]
struct Scope {
    /// The names of the items defined at its top level (modules included).
    items: BTreeSet<String>,
    /// The `use` declarations at its top level: the name each brings in, and its path.
    imports: BTreeMap<String, Vec<String>>,
    /// The paths of its top-level glob imports (`use path::*;`).
    globs: Vec<Vec<String>>,
    /// Its `mod name;` declarations.
    module_files: Vec<ModuleFile>,
    /// Its inline `mod name { }` blocks, in order.
    inline_modules: Vec<(String, Scope)>,
    /// The paths starting with `crate`, `self` or `super` anywhere in it, outside its inline
    /// modules: in `use` declarations (top-level or not) and in code.
    references: Vec<PathReference>,
}

impl Scope {
    /// The scope of the inline module at `inline_path` (indexes into nested `inline_modules`).
    fn at(&self, inline_path: &[usize]) -> &Scope {
        inline_path
            .iter()
            .fold(self, |scope, &position| &scope.inline_modules[position].1)
    }
}

/// A `mod name;` declaration.
#[derive(Clone, Debug)]
struct ModuleFile {
    name: String,
    /// The value of its `#[path = "…"]` attribute.
    path_attribute: Option<String>,
}

/// A path starting with `crate`, `self` or `super`, and its line.
#[derive(Debug)]
struct PathReference {
    path: Vec<String>,
    line: usize,
}

/// A token of Rust source, as far as the scanner needs one.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TokenKind {
    Ident(String),
    /// A string literal, with its text as written (escapes are left alone).
    Str(String),
    /// Any other literal: a number, a character, a byte string.
    Literal,
    /// `::`
    PathSeparator,
    Punct(char),
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    line: usize,
}

/// Splits Rust source into tokens, dropping whitespace and comments (doc comments included).
fn tokenize(source: &str) -> Vec<Token> {
    let characters: Vec<char> = source.chars().collect();
    let at = |index: usize| characters.get(index).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut index = 0;
    let mut line = 1;
    while index < characters.len() {
        let character = characters[index];
        let start_line = line;
        let mut push = |kind| {
            tokens.push(Token {
                kind,
                line: start_line,
            });
        };
        if character == '\n' {
            line += 1;
            index += 1;
        } else if character.is_whitespace() {
            index += 1;
        } else if character == '/' && at(index + 1) == '/' {
            while index < characters.len() && characters[index] != '\n' {
                index += 1;
            }
        } else if character == '/' && at(index + 1) == '*' {
            // Block comments nest.
            let mut depth = 0;
            while index < characters.len() {
                if characters[index] == '/' && at(index + 1) == '*' {
                    depth += 1;
                    index += 2;
                } else if characters[index] == '*' && at(index + 1) == '/' {
                    depth -= 1;
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if characters[index] == '\n' {
                        line += 1;
                    }
                    index += 1;
                }
            }
        } else if character == '"' {
            let (text, end) = quoted_string(&characters, index + 1, &mut line);
            push(TokenKind::Str(text));
            index = end;
        } else if character == '\'' {
            if at(index + 1) == '\\' {
                // An escaped character: skip the escape's first character, then to the quote.
                index += 3;
                while index < characters.len() && characters[index] != '\'' {
                    index += 1;
                }
                index += 1;
                push(TokenKind::Literal);
            } else if at(index + 2) == '\'' {
                index += 3;
                push(TokenKind::Literal);
            } else {
                // A lifetime or a label: the quote goes, the name stays an identifier.
                index += 1;
            }
        } else if character == '_' || character.is_alphabetic() {
            let start = index;
            while index < characters.len()
                && (characters[index] == '_' || characters[index].is_alphanumeric())
            {
                index += 1;
            }
            let word: String = characters[start..index].iter().collect();
            let next = at(index);
            let is_raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if word == "r" && next == '#' && (at(index + 1) == '_' || at(index + 1).is_alphabetic())
            {
                // A raw identifier, `r#name`.
                let start = index + 1;
                index = start;
                while index < characters.len()
                    && (characters[index] == '_' || characters[index].is_alphanumeric())
                {
                    index += 1;
                }
                push(TokenKind::Ident(characters[start..index].iter().collect()));
            } else if is_raw_prefix && (next == '"' || next == '#') {
                let (text, end) = raw_string(&characters, index, &mut line);
                push(if word == "r" {
                    TokenKind::Str(text)
                } else {
                    TokenKind::Literal
                });
                index = end;
            } else if matches!(word.as_str(), "b" | "c") && next == '"' {
                let (_, end) = quoted_string(&characters, index + 1, &mut line);
                push(TokenKind::Literal);
                index = end;
            } else if word == "b" && next == '\'' {
                // A byte, `b'x'` or `b'\n'`: skip to the closing quote.
                index += if at(index + 1) == '\\' { 3 } else { 2 };
                while index < characters.len() && characters[index] != '\'' {
                    index += 1;
                }
                index += 1;
                push(TokenKind::Literal);
            } else {
                push(TokenKind::Ident(word));
            }
        } else if character.is_ascii_digit() {
            while index < characters.len()
                && (characters[index] == '_'
                    || characters[index].is_alphanumeric()
                    || (characters[index] == '.' && at(index + 1).is_ascii_digit()))
            {
                index += 1;
            }
            push(TokenKind::Literal);
        } else if character == ':' && at(index + 1) == ':' {
            push(TokenKind::PathSeparator);
            index += 2;
        } else {
            push(TokenKind::Punct(character));
            index += 1;
        }
    }
    tokens
}

/// Reads a string literal whose text starts at `start` (after its opening quote); returns its
/// text and the index after its closing quote.
fn quoted_string(characters: &[char], start: usize, line: &mut usize) -> (String, usize) {
    let mut index = start;
    let mut text = String::new();
    while index < characters.len() {
        match characters[index] {
            '"' => return (text, index + 1),
            '\\' => {
                text.push('\\');
                index += 1;
                if let Some(&escaped) = characters.get(index) {
                    if escaped == '\n' {
                        *line += 1;
                    }
                    text.push(escaped);
                }
            }
            other => {
                if other == '\n' {
                    *line += 1;
                }
                text.push(other);
            }
        }
        index += 1;
    }
    (text, index)
}

/// Reads a raw string literal from `start`, at the `#`s or the quote after its `r`; returns its
/// text and the index after it.
fn raw_string(characters: &[char], start: usize, line: &mut usize) -> (String, usize) {
    let mut index = start;
    let mut hashes = 0;
    while characters.get(index) == Some(&'#') {
        hashes += 1;
        index += 1;
    }
    // Past the opening quote (a lone `r#` without one is not valid Rust anyway).
    index += 1;
    let mut text = String::new();
    while index < characters.len() {
        let closes = characters[index] == '"'
            && (1..=hashes).all(|offset| characters.get(index + offset) == Some(&'#'));
        if closes {
            return (text, index + 1 + hashes);
        }
        if characters[index] == '\n' {
            *line += 1;
        }
        text.push(characters[index]);
        index += 1;
    }
    (text, index)
}

/// The keywords after which an item's name follows.
const ITEM_KEYWORDS: &[&str] = &[
    "const", "enum", "fn", "static", "struct", "trait", "type", "union",
];

/// The attributes of the item being scanned that the cycle check cares about.
#[derive(Debug, Default)]
struct Attributes {
    cfg_test: bool,
    path: Option<String>,
}

/// An inline module the scanner is inside, or the file's top level.
struct OpenScope {
    name: String,
    scope: Scope,
    /// The brace depth of its top level.
    depth: usize,
}

/// Reads the module structure, imports, items and paths of one file from its tokens.
fn scan(tokens: &[Token]) -> Scope {
    let kind = |index: usize| tokens.get(index).map(|token| &token.kind);
    let is_punct = |index: usize, punct: char| kind(index) == Some(&TokenKind::Punct(punct));
    let ident = |index: usize| match kind(index) {
        Some(TokenKind::Ident(name)) => Some(name.as_str()),
        _ => None,
    };

    let mut open = vec![OpenScope {
        name: String::new(),
        scope: Scope::default(),
        depth: 0,
    }];
    let mut depth = 0;
    let mut attributes = Attributes::default();
    let mut index = 0;
    while index < tokens.len() {
        // Outer attributes accumulate until the item they belong to; inner ones are skipped.
        if is_punct(index, '#') && is_punct(index + 1, '!') && is_punct(index + 2, '[') {
            index = matching_close(tokens, index + 2);
            continue;
        }
        if is_punct(index, '#') && is_punct(index + 1, '[') {
            let close = matching_close(tokens, index + 1);
            // Empty when the attribute is never closed.
            let inside = tokens.get(index + 2..close - 1).unwrap_or_default();
            read_attribute(inside, &mut attributes);
            index = close;
            continue;
        }
        // A visibility stands between an item's attributes and the item.
        if ident(index) == Some("pub") {
            let restricted = is_punct(index + 1, '(')
                && ((matches!(ident(index + 2), Some("crate" | "self" | "super"))
                    && is_punct(index + 3, ')'))
                    || ident(index + 2) == Some("in"));
            // `pub(in path)` names a module to restrict visibility to, not an item to use.
            index = if restricted {
                matching_close(tokens, index + 1)
            } else {
                index + 1
            };
            continue;
        }
        let item_attributes = std::mem::take(&mut attributes);
        if item_attributes.cfg_test {
            index = skip_item(tokens, index);
            continue;
        }
        let current = open
            .last_mut()
            .expect("the file's own scope is never closed");
        let at_top_level = depth == current.depth;
        let line = tokens[index].line;
        match &tokens[index].kind {
            TokenKind::Punct('{') => {
                depth += 1;
                index += 1;
            }
            TokenKind::Punct('}') => {
                if depth == current.depth && open.len() > 1 {
                    let closed = open.pop().expect("an inline module is open");
                    let parent = open
                        .last_mut()
                        .expect("the file's own scope is never closed");
                    parent
                        .scope
                        .inline_modules
                        .push((closed.name, closed.scope));
                }
                depth = depth.saturating_sub(1);
                index += 1;
            }
            TokenKind::Ident(word) if word == "mod" && ident(index + 1).is_some() => {
                let name = ident(index + 1).expect("checked above").to_owned();
                if is_punct(index + 2, '{') {
                    depth += 1;
                    open.push(OpenScope {
                        name,
                        scope: Scope::default(),
                        depth,
                    });
                    index += 3;
                } else {
                    if is_punct(index + 2, ';') && at_top_level {
                        current.scope.items.insert(name.clone());
                        current.scope.module_files.push(ModuleFile {
                            name,
                            path_attribute: item_attributes.path,
                        });
                    }
                    index += 2;
                }
            }
            TokenKind::Ident(word) if word == "use" => {
                let mut leaves = Vec::new();
                index = read_use_tree(tokens, index + 1, Vec::new(), &mut leaves);
                for leaf in leaves {
                    if starts_locally(&leaf.path) {
                        current.scope.references.push(PathReference {
                            path: leaf.path.clone(),
                            line: leaf.line,
                        });
                    }
                    if !at_top_level {
                        continue;
                    }
                    match leaf.binding {
                        Binding::Name(name) => {
                            current.scope.imports.entry(name).or_insert(leaf.path);
                        }
                        Binding::Glob => current.scope.globs.push(leaf.path),
                        Binding::Anonymous => {}
                    }
                }
            }
            TokenKind::Ident(word) if word == "macro_rules" && is_punct(index + 1, '!') => {
                if let (Some(name), true) = (ident(index + 2), at_top_level) {
                    current.scope.items.insert(name.to_owned());
                }
                index += 2;
            }
            TokenKind::Ident(word) if ITEM_KEYWORDS.contains(&word.as_str()) => {
                let mut name_index = index + 1;
                if word == "static" && ident(name_index) == Some("mut") {
                    name_index += 1;
                }
                // `const fn name` and the like: the name comes after the next keyword.
                let name = ident(name_index).filter(|name| {
                    !matches!(*name, "fn" | "unsafe" | "async" | "extern" | "const" | "_")
                });
                if let (Some(name), true) = (name, at_top_level) {
                    current.scope.items.insert(name.to_owned());
                }
                index += 1;
            }
            TokenKind::Ident(word)
                if matches!(word.as_str(), "crate" | "self" | "super")
                    && kind(index + 1) == Some(&TokenKind::PathSeparator) =>
            {
                let mut path = vec![word.clone()];
                index += 1;
                while kind(index) == Some(&TokenKind::PathSeparator) {
                    let Some(segment) = ident(index + 1) else {
                        break;
                    };
                    path.push(segment.to_owned());
                    index += 2;
                }
                current.scope.references.push(PathReference { path, line });
            }
            _ => index += 1,
        }
    }
    // Close what an unbalanced file left open, so nothing scanned is lost.
    while open.len() > 1 {
        let closed = open.pop().expect("an inline module is open");
        let parent = open
            .last_mut()
            .expect("the file's own scope is never closed");
        parent
            .scope
            .inline_modules
            .push((closed.name, closed.scope));
    }
    open.pop().expect("the file's own scope").scope
}

/// Whether a path starts in this crate: with `crate`, `self` or `super`.
fn starts_locally(path: &[String]) -> bool {
    path.first()
        .is_some_and(|first| matches!(first.as_str(), "crate" | "self" | "super"))
}

/// Reads the tokens between an attribute's brackets.
fn read_attribute(tokens: &[Token], attributes: &mut Attributes) {
    let kinds: Vec<&TokenKind> = tokens.iter().map(|token| &token.kind).collect();
    let ident = |name: &str| TokenKind::Ident(name.to_owned());
    match kinds.as_slice() {
        [cfg, TokenKind::Punct('('), test, TokenKind::Punct(')')]
            if **cfg == ident("cfg") && **test == ident("test") =>
        {
            attributes.cfg_test = true;
        }
        [path, TokenKind::Punct('='), TokenKind::Str(value)] if **path == ident("path") => {
            attributes.path = Some(value.clone());
        }
        _ => {}
    }
}

/// The index after the bracket that closes the one at `open` (of any kind); the end of the
/// tokens if it is never closed.
fn matching_close(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            TokenKind::Punct('(' | '[' | '{') => depth += 1,
            TokenKind::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The index after the item (or statement) that starts at `start`: after its `;`, or after the
/// block that ends it.
///
/// For a field or a match arm, that is the bracket that closes what it is in, so what follows
/// it there is skipped too; that can only lose references, and `#[cfg(test)]` is put on
/// modules and functions in practice.
fn skip_item(tokens: &[Token], start: usize) -> usize {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(start) {
        match token.kind {
            TokenKind::Punct('(' | '[' | '{') => depth += 1,
            TokenKind::Punct(closing @ (')' | ']' | '}')) => {
                let Some(inner) = depth.checked_sub(1) else {
                    return index;
                };
                depth = inner;
                if depth == 0 && closing == '}' {
                    return index + 1;
                }
            }
            TokenKind::Punct(';') if depth == 0 => return index + 1,
            _ => {}
        }
    }
    tokens.len()
}

/// What a leaf of a `use` tree brings into scope.
#[derive(Debug)]
enum Binding {
    Name(String),
    /// `path::*`
    Glob,
    /// `path as _`
    Anonymous,
}

/// A leaf of a `use` tree: the whole path to it, what it binds, and the line of its last
/// segment (a `use` may span many lines).
#[derive(Debug)]
struct UseLeaf {
    path: Vec<String>,
    binding: Binding,
    line: usize,
}

/// Reads the `use` tree starting at `index` below `prefix`, adding its leaves to `leaves`;
/// returns the index after the tree (after the `;` for a whole declaration).
fn read_use_tree(
    tokens: &[Token],
    mut index: usize,
    prefix: Vec<String>,
    leaves: &mut Vec<UseLeaf>,
) -> usize {
    let kind = |index: usize| tokens.get(index).map(|token| &token.kind);
    let line = |index: usize| tokens.get(index).map_or(0, |token| token.line);
    let mut path = prefix;
    if path.is_empty() && kind(index) == Some(&TokenKind::PathSeparator) {
        // A leading `::` names an extern crate; this first segment names nothing in the crate,
        // so the path resolves to nothing.
        path.push("::".to_owned());
        index += 1;
    }
    loop {
        match kind(index) {
            Some(TokenKind::PathSeparator) => index += 1,
            Some(TokenKind::Ident(segment)) => {
                path.push(segment.clone());
                index += 1;
                if kind(index) == Some(&TokenKind::PathSeparator) {
                    continue;
                }
                let leaf_line = line(index - 1);
                let mut binding_name = None;
                if kind(index) == Some(&TokenKind::Ident("as".to_owned())) {
                    if let Some(TokenKind::Ident(alias)) = kind(index + 1) {
                        binding_name = Some(alias.clone());
                    }
                    index += 2;
                }
                // `path::{self}` names `path` itself.
                if path.last().is_some_and(|last| last == "self") && path.len() > 1 {
                    path.pop();
                }
                let name = binding_name.unwrap_or_else(|| path.last().cloned().unwrap_or_default());
                let binding = if name == "_" {
                    Binding::Anonymous
                } else {
                    Binding::Name(name)
                };
                leaves.push(UseLeaf {
                    path,
                    binding,
                    line: leaf_line,
                });
                break;
            }
            Some(TokenKind::Punct('*')) => {
                leaves.push(UseLeaf {
                    path,
                    binding: Binding::Glob,
                    line: line(index),
                });
                index += 1;
                break;
            }
            Some(TokenKind::Punct('{')) => {
                index += 1;
                while let Some(next) = kind(index) {
                    match next {
                        TokenKind::Punct('}') => {
                            index += 1;
                            break;
                        }
                        TokenKind::Punct(',') => index += 1,
                        _ => {
                            let before = index;
                            index = read_use_tree(tokens, index, path.clone(), leaves);
                            if index == before {
                                // Not a use tree after all: stop rather than loop.
                                return index + 1;
                            }
                        }
                    }
                }
                break;
            }
            _ => break,
        }
    }
    if kind(index) == Some(&TokenKind::Punct(';')) {
        index += 1;
    }
    index
}

/// The directory a file is in.
fn parent_directory(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `path` with `.` and `..` components resolved lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Tarjan's strongly connected components of the graph whose node `n` points at `edges[n]`.
///
/// Each component lists its nodes; components come out in reverse topological order.
fn strongly_connected_components(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct Tarjan<'graph> {
        edges: &'graph [BTreeSet<usize>],
        next_index: usize,
        /// The visiting order of each visited node.
        index: Vec<Option<usize>>,
        /// The smallest index reachable from each node through the nodes still on the stack.
        low_link: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        components: Vec<Vec<usize>>,
    }

    impl Tarjan<'_> {
        fn visit(&mut self, node: usize) {
            self.index[node] = Some(self.next_index);
            self.low_link[node] = self.next_index;
            self.next_index += 1;
            self.stack.push(node);
            self.on_stack[node] = true;
            for &next in self.edges[node].iter() {
                match self.index[next] {
                    None => {
                        self.visit(next);
                        self.low_link[node] = self.low_link[node].min(self.low_link[next]);
                    }
                    Some(next_index) if self.on_stack[next] => {
                        self.low_link[node] = self.low_link[node].min(next_index);
                    }
                    Some(_) => {}
                }
            }
            if Some(self.low_link[node]) == self.index[node] {
                let mut component = Vec::new();
                loop {
                    let member = self.stack.pop().expect("the node itself is on the stack");
                    self.on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }

    let count = edges.len();
    let mut tarjan = Tarjan {
        edges,
        next_index: 0,
        index: vec![None; count],
        low_link: vec![0; count],
        stack: Vec::new(),
        on_stack: vec![false; count],
        components: Vec::new(),
    };
    for node in 0..count {
        if tarjan.index[node].is_none() {
            tarjan.visit(node);
        }
    }
    tarjan.components
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate directory the tests' sources live in.
    const CRATE: &str = "/fixture";

    /// The cycles of a crate made of `files` (paths relative to the crate), whose library root
    /// is `src/lib.rs`.
    fn cycles_of(files: &[(&str, &str)]) -> Vec<Cycle> {
        let sources: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(path, text)| (Path::new(CRATE).join(path), (*text).to_owned()))
            .collect();
        let read = |path: &Path| Ok(sources.get(path).cloned());
        find_cycles(
            "fixture",
            Path::new(CRATE),
            &["src/lib.rs".to_owned()],
            &read,
        )
        .unwrap()
    }

    /// The files of each cycle.
    fn files_of(cycles: &[Cycle]) -> Vec<Vec<&str>> {
        cycles
            .iter()
            .map(|cycle| cycle.files.files.iter().map(String::as_str).collect())
            .collect()
    }

    fn references_of(cycle: &Cycle) -> Vec<String> {
        cycle.references.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_cycle_between_two_files_is_found_with_its_references() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            ("src/a.rs", "use crate::b::B;\n\npub struct A(B);\n"),
            (
                "src/b.rs",
                "pub struct B;\n\nfn make() -> crate::a::A {\n    loop {}\n}\n",
            ),
        ]);
        assert_eq!(files_of(&cycles), [["src/a.rs", "src/b.rs"]]);
        assert_eq!(cycles[0].files.crate_name, "fixture");
        assert_eq!(
            references_of(&cycles[0]),
            ["src/a.rs:1 -> src/b.rs", "src/b.rs:3 -> src/a.rs"]
        );
    }

    #[test]
    fn a_graph_without_cycles_passes() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\nmod c;\n\npub use a::A;\n"),
            (
                "src/a.rs",
                "use crate::b::B;\nuse crate::c::C;\n\npub struct A(B, C);\n",
            ),
            ("src/b.rs", "use crate::c::C;\n\npub struct B(C);\n"),
            ("src/c.rs", "pub struct C;\n"),
        ]);
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn a_super_path_points_at_the_parent_module() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod outer;\n"),
            (
                "src/outer.rs",
                "mod inner;\n\npub struct Outer;\n\nfn build() -> self::inner::Inner {\n    loop {}\n}\n",
            ),
            (
                "src/outer/inner.rs",
                "pub struct Inner;\n\nfn parent() -> super::Outer {\n    super::Outer\n}\n",
            ),
        ]);
        assert_eq!(files_of(&cycles), [["src/outer.rs", "src/outer/inner.rs"]]);
        assert_eq!(
            references_of(&cycles[0]),
            [
                "src/outer.rs:5 -> src/outer/inner.rs",
                "src/outer/inner.rs:3 -> src/outer.rs"
            ]
        );
    }

    #[test]
    fn a_path_into_a_directory_module_maps_to_its_mod_rs_unless_a_deeper_file_matches() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod app;\nmod net;\n"),
            (
                "src/app.rs",
                "use crate::net::Config;\nuse crate::net::tcp::Stream;\n\npub struct App;\n",
            ),
            (
                "src/net/mod.rs",
                "pub mod tcp;\n\npub struct Config(Box<crate::app::App>);\n",
            ),
            (
                "src/net/tcp.rs",
                "pub struct Stream;\n\nfn owner() -> crate::app::App {\n    loop {}\n}\n",
            ),
        ]);
        assert_eq!(
            files_of(&cycles),
            [["src/app.rs", "src/net/mod.rs", "src/net/tcp.rs"]]
        );
        // `crate::net::Config` is in net/mod.rs; `crate::net::tcp::Stream` in net/tcp.rs.
        assert_eq!(
            references_of(&cycles[0]),
            [
                "src/app.rs:1 -> src/net/mod.rs",
                "src/app.rs:2 -> src/net/tcp.rs",
                "src/net/mod.rs:3 -> src/app.rs",
                "src/net/tcp.rs:3 -> src/app.rs",
            ]
        );
    }

    #[test]
    fn re_exports_are_followed_to_the_file_that_defines_the_item() {
        let cycles = cycles_of(&[
            (
                "src/lib.rs",
                "mod client;\nmod error;\n\npub use client::Client;\npub use error::Error;\n",
            ),
            ("src/client.rs", "use crate::Error;\n\npub struct Client;\n"),
            ("src/error.rs", "pub struct Error(Box<crate::Client>);\n"),
        ]);
        assert_eq!(files_of(&cycles), [["src/client.rs", "src/error.rs"]]);
    }

    #[test]
    fn an_inline_module_belongs_to_its_file() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            (
                "src/a.rs",
                "pub struct A;\n\nmod helpers {\n    use crate::b::B;\n}\n",
            ),
            ("src/b.rs", "use crate::a::A;\n\npub struct B;\n"),
        ]);
        assert_eq!(files_of(&cycles), [["src/a.rs", "src/b.rs"]]);
    }

    #[test]
    fn a_path_attribute_names_the_module_file() {
        let cycles = cycles_of(&[
            (
                "src/lib.rs",
                "pub mod support;\n\n#[cfg(feature = \"v1\")]\n#[path = \"generated/v1.rs\"]\npub mod v1;\n",
            ),
            (
                "src/generated/v1.rs",
                "pub type Object = crate::support::Object;\n",
            ),
            (
                "src/support.rs",
                "pub struct Object;\n\nfn latest() -> crate::v1::Object {\n    loop {}\n}\n",
            ),
        ]);
        assert_eq!(
            files_of(&cycles),
            [["src/generated/v1.rs", "src/support.rs"]]
        );
    }

    #[test]
    fn tests_comments_and_literals_make_no_reference() {
        let a = r##"
//! Uses [`crate::b::B`] in its docs only.

// use crate::b::B;
/* use crate::b::B; /* nested */ crate::b::B */
pub struct A;

fn text() -> (&'static str, &'static str, char, char) {
    ("crate::b::B", r#"crate::b::B { "#, '{', '"')
}

#[cfg(test)]
mod tests {
    use crate::b::B;
}

#[cfg(test)]
fn helper() -> crate::b::B {
    loop {}
}
"##;
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            ("src/a.rs", a),
            ("src/b.rs", "use crate::a::A;\n\npub struct B;\n"),
        ]);
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn code_after_a_brace_in_a_literal_still_belongs_to_its_module() {
        // If the `'{'` opened a block, the reference would land in the inline module `m`'s
        // scope, and resolve `crate::` the same way; `super::` tells the scopes apart.
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\n\npub struct Root;\n"),
            (
                "src/a.rs",
                "mod m {\n    const BRACE: char = '{';\n}\n\nfn root() -> super::b::B {\n    loop {}\n}\n",
            ),
            (
                "src/b.rs",
                "pub struct B;\n\nfn a() {\n    crate::a::root();\n}\n",
            ),
        ]);
        assert_eq!(files_of(&cycles), [["src/a.rs", "src/b.rs"]]);
    }

    #[test]
    fn a_dollar_crate_path_in_a_macro_counts_and_a_visibility_path_does_not() {
        let cycles = cycles_of(&[
            ("src/lib.rs", "mod a;\nmod b;\n"),
            (
                "src/a.rs",
                "pub struct A;\n\nmacro_rules! make_b {\n    () => {\n        $crate::b::B\n    };\n}\n",
            ),
            (
                "src/b/mod.rs",
                "mod inner;\n\npub struct B(crate::a::A, self::inner::Hidden);\n",
            ),
            // Were `pub(in crate::b)` a reference, inner.rs would join the cycle.
            ("src/b/inner.rs", "pub(in crate::b) struct Hidden;\n"),
        ]);
        assert_eq!(files_of(&cycles), [["src/a.rs", "src/b/mod.rs"]]);
        assert_eq!(
            references_of(&cycles[0]),
            ["src/a.rs:5 -> src/b/mod.rs", "src/b/mod.rs:3 -> src/a.rs"]
        );
    }

    #[test]
    fn tarjan_finds_every_component() {
        // 0 ⇄ 1, 1 → 2, 2 ⇄ 3 ⇄ 4, 5 alone.
        let edges = [
            BTreeSet::from([1]),
            BTreeSet::from([0, 2]),
            BTreeSet::from([3]),
            BTreeSet::from([4]),
            BTreeSet::from([2]),
            BTreeSet::new(),
        ];
        let mut components: Vec<Vec<usize>> = strongly_connected_components(&edges)
            .into_iter()
            .map(|mut component| {
                component.sort();
                component
            })
            .collect();
        components.sort();
        assert_eq!(components, [vec![0, 1], vec![2, 3, 4], vec![5]]);
    }

    #[test]
    fn baseline_reads_entries_with_their_reasons() {
        let baseline = Baseline::parse(
            "# Header.\n\n# fixture: a and b share a type.\nfixture src/b.rs src/a.rs\n",
        )
        .unwrap();
        assert_eq!(baseline.entries.len(), 1);
        assert_eq!(baseline.entries[0].line, 4);
        assert_eq!(
            baseline.entries[0].files.to_string(),
            "fixture src/a.rs src/b.rs"
        );
    }

    #[test]
    fn baseline_rejects_an_entry_without_a_reason() {
        let error = Baseline::parse("# Header.\n\nfixture src/a.rs src/b.rs\n").unwrap_err();
        assert!(error.to_string().contains("line 3"), "{error}");
        assert!(error.to_string().contains("comment"), "{error}");
    }

    #[test]
    fn baseline_rejects_a_malformed_or_repeated_entry() {
        let error = Baseline::parse("# Why.\nfixture src/a.rs\n").unwrap_err();
        assert!(error.to_string().contains("at least two files"), "{error}");
        let error = Baseline::parse(
            "# Why.\nfixture src/a.rs src/b.rs\n# Why.\nfixture src/b.rs src/a.rs\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("repeats line 2"), "{error}");
    }
}
