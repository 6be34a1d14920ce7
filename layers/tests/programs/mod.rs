//! Programs the tests start (tinyproxy, microsocks, redis-server): where they are installed.
//! Shared by the tests of both crates (`#[path]`).
#![allow(dead_code)]

use std::io::Write;

/// Where `name` is installed, if it is. A test that needs a missing program is skipped with a
/// message, except when `TOWER_REQUESTS_REQUIRE_PROGRAMS` is set (CI sets it) or `CI` is set:
/// there a missing program fails the test.
pub fn find_binary(name: &str) -> Option<String> {
    let path_dirs = std::env::var("PATH").unwrap_or_default();
    let dirs = path_dirs
        .split(':')
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"])
        .filter(|d| !d.is_empty());
    for dir in dirs {
        let path = format!("{dir}/{name}");
        if std::path::Path::new(&path).is_file() {
            return Some(path);
        }
    }
    let required = ["TOWER_REQUESTS_REQUIRE_PROGRAMS", "CI"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty() && v != "0" && v != "false"));
    if required {
        panic!("{name} is not installed and this run requires it: `apt-get install {name}`");
    }
    // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED: {name} is not installed; `bash scripts/test.sh` installs it \
         (or `apt-get install {name}`)"
    );
    None
}
