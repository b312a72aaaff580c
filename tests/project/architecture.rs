//! The shape of `src/`: the modules depend on each other in one direction (no import
//! cycle, so each file can be read after the ones it names), no file holds more than 500
//! lines of code outside its tests and no function more than 120, and the gate's
//! orchestrator stays short.
//!
//! A module's dependencies are the crate modules its non-test code names in `use`
//! declarations and `crate::`/`super::` paths; comments and doc links do not count.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module path of a source file: `src/gate/mod.rs` is `gate`, `src/gate/key.rs`
/// is `gate::key`, `src/lib.rs` is the crate root.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        return "crate".into();
    }
    parts.join("::")
}

/// A file's code outside its `#[cfg(test)]` part, without comments.
fn production_code(text: &str) -> String {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn source_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(source_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Whether a file of `src/` holds only tests (a `tests.rs` module, `*_tests.rs`, the
/// tests' fixtures, or anything in a `tests/` folder).
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name == "tests.rs"
        || name == "test_support.rs"
        || name.ends_with("_tests.rs")
        || path
            .parent()
            .is_some_and(|p| p.file_name().is_some_and(|n| n == "tests"))
}

/// Each module and the crate modules it names.
fn dependencies(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = source_files(src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let code = production_code(&std::fs::read_to_string(file).unwrap());
        // `super` is the parent module, for `a/b.rs` and `a/b/mod.rs` alike.
        let mut parent: Vec<&str> = module.split("::").collect();
        parent.pop();
        let mut named = BTreeSet::new();
        for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
            for (at, _) in code.match_indices(prefix) {
                let preceded_by_path = code[..at].ends_with("::");
                if preceded_by_path {
                    continue;
                }
                let rest: String = code[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut path: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                path.extend(rest.split("::").filter(|s| !s.is_empty()).map(String::from));
                // The longest prefix of the path that is a module of the crate.
                while !path.is_empty() && !modules.contains(&path.join("::")) {
                    path.pop();
                }
                if !path.is_empty() {
                    named.insert(path.join("::"));
                }
            }
        }
        named.remove(&module);
        // A module's own submodules are its parts, not its dependencies.
        named.retain(|n| !n.starts_with(&format!("{module}::")) || module == "crate");
        graph.insert(module, named);
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn no_import_cycle_between_files_of_src() {
    let graph = dependencies(&common::repo_path("src"));
    assert!(graph.len() > 20, "only {} modules found", graph.len());
    // The decision depends on the issue text, never the other way round.
    assert!(graph["gate::decide"].contains("gate::issue"));
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
}

/// Lines of code of a source file outside its tests: not blank, not a comment.
fn lines_of_code(text: &str) -> usize {
    production_code(text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Each function of a file's production code longer than `max` lines (comments and blank
/// lines not counted), with its length: a function runs from its `fn` line to the first
/// line that closes it at its own indentation.
fn long_functions(text: &str, max: usize) -> Vec<(String, usize)> {
    let code = production_code(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let is_fn = [
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "const fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if !is_fn || trimmed.ends_with(';') {
            continue;
        }
        let close = format!("{}}}", " ".repeat(indent));
        let Some(end) = lines[i..].iter().position(|l| l.trim_end() == close) else {
            continue;
        };
        let length = lines[i..=i + end]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .count();
        if length > max {
            let name: String = trimmed
                .split("fn ")
                .nth(1)
                .unwrap_or_default()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push((name, length));
        }
    }
    found
}

#[test]
fn no_function_of_src_runs_past_120_lines() {
    let src = common::repo_path("src");
    let mut too_long = Vec::new();
    for file in source_files(&src) {
        for (name, n) in long_functions(&std::fs::read_to_string(&file).unwrap(), 120) {
            too_long.push(format!("{}::{name} ({n})", file.display()));
        }
    }
    assert!(too_long.is_empty(), "split into steps: {too_long:?}");
    let sample = "fn short() {\n    1\n}\n\npub fn long() {\n    a();\n    b();\n}\n";
    assert_eq!(long_functions(sample, 3), vec![("long".to_owned(), 4)]);
}

#[test]
fn the_gate_s_orchestrator_stays_short() {
    let text = std::fs::read_to_string(common::repo_path("src/gate/mod.rs")).unwrap();
    let lines = text[..text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len())]
        .lines()
        .count();
    assert!(
        lines <= 250,
        "src/gate/mod.rs has {lines} lines: rules belong in decide, reads in read, writes in write"
    );
}

#[test]
fn no_source_file_holds_more_than_500_lines_of_code() {
    let src = common::repo_path("src");
    let mut too_long = Vec::new();
    for file in source_files(&src) {
        let n = lines_of_code(&std::fs::read_to_string(&file).unwrap());
        if n > 500 {
            too_long.push(format!("{} ({n})", file.display()));
        }
    }
    assert!(
        too_long.is_empty(),
        "split along responsibilities: {too_long:?}"
    );
    assert_eq!(
        lines_of_code("// a\n\nfn f() {}\n    // b\nlet x = 1;\n#[cfg(test)]\nmod tests {}\n"),
        2
    );
}
