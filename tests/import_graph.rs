//! The facade's module graph: no import circles, and the client side (client, connectors,
//! proxies, TLS) never reaches the session's error or the session itself: it has its own
//! `BuildError`. Names re-exported at the crate root (`crate::Error`) count as their module.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The modules that make up the client: they may use each other, never what is built on them.
const CLIENT_SIDE: [&str; 9] = [
    "build_error",
    "client",
    "connect",
    "delivery",
    "forward",
    "limit",
    "proxy",
    "resolve",
    "tls",
];
/// What the client side must not reach.
const SESSION_SIDE: [&str; 7] = [
    "error",
    "layer_errors",
    "request",
    "response",
    "session",
    "stack",
    "url_cache",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// A file's code without comments and without its `#[cfg(test)] mod tests`.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| l.split(" // ").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names `lib.rs` re-exports from each module: `pub use module::{A, B};`.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.trim_end_matches(';').split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            names.insert(item.trim().to_string(), module.to_string());
        }
    }
    names
}

/// Module -> the modules its code names through `crate::`.
fn graph(files: &BTreeMap<String, String>, lib: &str) -> Graph {
    let names = reexports(lib);
    let mut graph = Graph::new();
    for (module, text) in files {
        let code = code(text);
        let mut deps = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let target = if files.contains_key(&name) {
                Some(name)
            } else {
                names.get(&name).filter(|m| files.contains_key(*m)).cloned()
            };
            if let Some(target) = target.filter(|t| t != module) {
                deps.insert(target);
            }
            // `use crate::{a, b::C}`: each name in the braces.
            if let Some(list) = rest.strip_prefix('{') {
                let list = list.split('}').next().unwrap_or("");
                for item in list.split(',') {
                    let head = item.trim().split("::").next().unwrap_or("").trim();
                    let target = if files.contains_key(head) {
                        Some(head.to_string())
                    } else {
                        names.get(head).filter(|m| files.contains_key(*m)).cloned()
                    };
                    if let Some(target) = target.filter(|t| t != module) {
                        deps.insert(target);
                    }
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// Everything `from` reaches.
fn reach(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for d in graph.get(&m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

fn problems(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for module in graph.keys() {
        if reach(graph, module).contains(module) {
            found.push(format!("{module} is in an import circle"));
        }
    }
    for module in CLIENT_SIDE.iter().filter(|m| graph.contains_key(**m)) {
        for bad in reach(graph, module) {
            if SESSION_SIDE.contains(&bad.as_str()) {
                found.push(format!("client-side {module} reaches {bad}"));
            }
        }
    }
    found
}

#[test]
fn no_import_circles_and_the_client_side_stays_below_the_session() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            files.insert(name, fs::read_to_string(&path).unwrap());
        }
    }
    for module in CLIENT_SIDE {
        assert!(
            files.contains_key(module),
            "{module}.rs moved: update this test"
        );
    }
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let graph = graph(&files, &lib);
    let found = problems(&graph);
    assert!(found.is_empty(), "{}\n{graph:#?}", found.join("\n"));
}

#[test]
fn the_check_sees_a_circle_and_a_client_reaching_the_error() {
    let lib = "pub use error::{Error, Result};\n";
    let files: BTreeMap<String, String> = [
        ("a", "use crate::{b, c::X};\n// crate::error in a comment\n"),
        ("b", "fn f() -> crate::a::T {}\n"),
        ("c", ""),
        ("error", ""),
        ("proxy", "fn f() -> Result<(), crate::Error> {}\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let graph = graph(&files, lib);
    assert_eq!(graph["a"], ["b", "c"].map(String::from).into());
    let found = problems(&graph);
    assert!(
        found.contains(&"a is in an import circle".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"client-side proxy reaches error".to_string()),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("c ")), "{found:?}");
}
