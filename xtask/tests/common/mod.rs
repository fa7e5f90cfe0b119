//! Scratch copies of the workspace for tests that break an input.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// A fresh scratch folder holding copies of `parts` (files or folders,
/// relative to the workspace root).
pub fn scratch(name: &str, parts: &[&str]) -> PathBuf {
    let root = xtask::root();
    let dir = std::env::temp_dir().join(format!("webex-calling-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for part in parts {
        copy(&root.join(part), &dir.join(part));
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    // Build output and installed npm packages are not part of the sources.
    if from
        .file_name()
        .is_some_and(|name| name == "target" || name == "node_modules")
    {
        return;
    }
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}

/// Replaces the first `from` in the file with `to`; `from` must be there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}
