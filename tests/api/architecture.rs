//! The architecture, kept by CI: which part of `src/` may use which. Read from the source
//! text (every `crate::…` path and `use crate::{…}` group), so a forbidden import fails here
//! the day it is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (file or folder under `src/`, a module it must never use, why).
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("routes", "graph", "pages reach Meta only through services"),
    ("routes", "crypto", "only services open tokens"),
    ("routes", "startup", "startup builds the application; nothing imports it back"),
    ("routes", "sync", "pages start and read syncs through the sync service"),
    ("routes", "simulator", "the simulator is for tests, the demo and benchmarks"),
    ("auth", "startup", "startup builds the application; nothing imports it back"),
    ("auth", "routes", "the web layer depends on auth, not the other way"),
    ("telemetry", "startup", "startup builds the application; nothing imports it back"),
    ("services", "startup", "startup builds the application; nothing imports it back"),
    ("services", "routes", "services know nothing of HTTP pages"),
    ("analytics", "db", "analytics are pure functions over plain data"),
    ("analytics", "routes", "analytics are pure functions over plain data"),
    ("analytics", "services", "analytics are pure functions over plain data"),
    ("graph", "db", "the Graph client knows nothing of storage"),
    ("domain", "db", "ids and states are the vocabulary every part shares"),
];

/// Modules that may import `startup`: the commands that start the application.
const MAY_START: &[&str] = &["cli"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a piece of source names through `crate::`.
fn used_modules(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `crate::{a, b::c, d}`: the first name of each item at the top level of the braces.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            used.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                used.insert(name);
            }
        }
        rest = after;
    }
    used
}

/// Top-level module → the top-level modules it uses (itself excluded).
type ModuleGraph = BTreeMap<String, BTreeSet<String>>;

/// One file: its path under `src/`, its top-level module, the modules it uses.
type FileUses = (String, String, BTreeSet<String>);

fn dependencies() -> (ModuleGraph, Vec<FileUses>) {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut modules = ModuleGraph::new();
    let mut per_file = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if relative == "lib.rs" || relative == "main.rs" {
            continue;
        }
        let module = relative.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        // Comments may name other modules freely.
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let mut used = used_modules(&code);
        used.remove(&module);
        modules.entry(module.clone()).or_default().extend(used.iter().cloned());
        per_file.push((relative, module, used));
    }
    (modules, per_file)
}

#[test]
fn no_part_of_src_imports_what_the_architecture_forbids() {
    let (_, files) = dependencies();
    let mut broken = Vec::new();
    for (file, module, used) in &files {
        for (from, to, why) in FORBIDDEN {
            if module == from && used.contains(*to) {
                broken.push(format!("src/{file} uses crate::{to}: {why}"));
            }
        }
        if used.contains("startup") && !MAY_START.contains(&module.as_str()) {
            broken.push(format!("src/{file} uses crate::startup: only {MAY_START:?} start the application"));
        }
    }
    assert!(broken.is_empty(), "forbidden imports:\n{}", broken.join("\n"));
}

#[test]
fn the_modules_of_src_import_each_other_without_a_cycle() {
    let (modules, _) = dependencies();
    // Depth-first search for a back edge; the path to it is the cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in modules.keys() {
        if let Some(cycle) = visit(module, &modules, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}\nall edges: {modules:#?}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let used = used_modules("use crate::{db, routes::x, auth::{a, b}};\nlet x = crate::graph::Flavour::Instagram;");
    assert_eq!(used, ["auth", "db", "graph", "routes"].into_iter().map(String::from).collect());
}

#[test]
fn no_handler_holds_a_database_connection_or_a_diesel_query() {
    let root = src().join("routes");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let holds = ["diesel", "mut conn", "pool.get", "db::Pool", "AsyncPgConnection"];
            if holds.iter().any(|word| code.contains(word)) {
                found.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "handlers call services, which hold the database:\n{}", found.join("\n"));
}

/// The container builds from what the Dockerfile copies: every file the code compiles in
/// (`include_str!`, `include_bytes!`, the migrations), the build script and every target the
/// manifest declares must sit under a path it copies.
#[test]
fn the_dockerfile_copies_everything_the_build_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let copied: BTreeSet<String> = dockerfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("COPY "))
        .filter(|l| !l.starts_with("--from"))
        .flat_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            parts[..parts.len() - 1].iter().map(|p| p.trim_end_matches('/').to_owned()).collect::<Vec<_>>()
        })
        .collect();
    let mut needed = BTreeSet::from(["Cargo.toml".to_owned(), "Cargo.lock".to_owned(), "migrations".to_owned()]);
    if root.join("build.rs").exists() {
        needed.insert("build.rs".to_owned());
    }
    if std::fs::read_to_string(root.join("Cargo.toml")).unwrap().contains("[[bench]]") {
        needed.insert("benches".to_owned());
    }
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for marker in ["include_str!(\"", "include_bytes!(\""] {
            for piece in text.split(marker).skip(1) {
                let relative = &piece[..piece.find('"').unwrap()];
                let path = file.parent().unwrap().join(relative);
                let path =
                    std::fs::canonicalize(&path).unwrap_or_else(|_| panic!("{} names {relative}", file.display()));
                let top = path.strip_prefix(std::fs::canonicalize(root).unwrap()).unwrap().components().next().unwrap();
                needed.insert(top.as_os_str().to_string_lossy().into_owned());
            }
        }
    }
    let missing: Vec<&String> = needed.iter().filter(|n| !copied.contains(*n)).collect();
    assert!(missing.is_empty(), "the Dockerfile does not copy {missing:?} (it copies {copied:?})");
}
