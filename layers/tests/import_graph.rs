//! One owner per concept: no layer's code names another layer's module. What layers share
//! lives in the shared modules (`ext`, `delivery`, `classify`, `body`, `redact`, `origin`,
//! `redis_name`).

use std::fs;
use std::path::Path;

const LAYERS: [&str; 8] = [
    "auth",
    "buffer",
    "cookie",
    "headers",
    "ratelimit",
    "redirect",
    "retry",
    "timeout",
];

/// The code of a file with its comments (line and doc comments) left out.
fn code(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| l.split(" // ").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_layer_imports_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for layer in LAYERS {
        for entry in fs::read_dir(src.join(layer)).unwrap() {
            let path = entry.unwrap().path();
            let text = code(&path);
            for other in LAYERS.iter().filter(|o| **o != layer) {
                for pattern in [
                    format!("crate::{other}::"),
                    format!("super::super::{other}"),
                ] {
                    if text.contains(&pattern) {
                        found.push(format!("{} uses {pattern}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "layers importing each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_an_import() {
    // The checker itself: a line naming another layer is found, a comment is not.
    let dir = std::env::temp_dir().join(format!("import-graph-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.rs");
    fs::write(
        &file,
        "// crate::retry::X in a comment\nuse crate::retry::RetryError;\n",
    )
    .unwrap();
    let text = code(&file);
    assert!(text.contains("crate::retry::"));
    assert_eq!(text.matches("crate::retry::").count(), 1);
    let _ = fs::remove_dir_all(&dir);
}
