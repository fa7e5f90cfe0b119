//! `cargo xtask codegen [--check]`: regenerate `sdk/src/generated/`, or
//! check that it is what the generator would write now.

use std::fs;
use std::path::Path;

/// The spec, relative to the workspace root.
pub const SPEC: &str = "spec/webex-calling.yaml";
/// The folder of generated files, relative to the workspace root.
pub const GENERATED: &str = "sdk/src/generated";

/// Whether to write the files or only compare them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write every generated file and remove stale ones.
    Write,
    /// Change nothing; fail with a diff when any file is stale.
    Check,
}

/// Runs the task on the workspace at [`crate::root`].
pub fn run(mode: Mode) -> Result<String, String> {
    run_in(&crate::root(), mode)
}

/// Runs the task on the workspace at `root`.
pub fn run_in(root: &Path, mode: Mode) -> Result<String, String> {
    let spec_path = root.join(SPEC);
    let spec = fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let files = webex_calling_codegen::generate(&spec).map_err(|e| format!("{SPEC}: {e}"))?;
    let dir = root.join(GENERATED);
    let mut stale = Vec::new();
    for file in &files {
        let path = dir.join(file.name);
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current != file.contents {
            stale.push((file.name.to_string(), diff(&current, &file.contents)));
        }
    }
    let expected: Vec<&str> = files.iter().map(|f| f.name).collect();
    let mut extra = Vec::new();
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !expected.contains(&name.as_str()) {
                extra.push(name);
            }
        }
    }
    extra.sort();
    match mode {
        Mode::Check => {
            if stale.is_empty() && extra.is_empty() {
                return Ok(format!(
                    "{GENERATED}/ is up to date with {SPEC} ({} files)",
                    files.len()
                ));
            }
            let mut message = String::new();
            for (name, diff) in &stale {
                message.push_str(&format!("{GENERATED}/{name} is stale:\n{diff}\n"));
            }
            for name in &extra {
                message.push_str(&format!(
                    "{GENERATED}/{name} is not made by the generator\n"
                ));
            }
            message.push_str("run `cargo xtask codegen` and commit the result");
            Err(message)
        }
        Mode::Write => {
            fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            for file in &files {
                let path = dir.join(file.name);
                fs::write(&path, &file.contents)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            for name in &extra {
                let path = dir.join(name);
                fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
            Ok(format!(
                "wrote {} files to {GENERATED}/ ({} changed, {} removed)",
                files.len(),
                stale.len(),
                extra.len()
            ))
        }
    }
}

/// A line diff of `old` against `new`: changed lines with `-`/`+`, each
/// hunk headed by its line number, bounded so a huge change stays readable.
pub fn diff(old: &str, new: &str) -> String {
    const MAX_LINES: usize = 60;
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let a = &old[prefix..old.len() - suffix];
    let b = &new[prefix..new.len() - suffix];
    // Longest common subsequence of the changed middle; a middle too large
    // for that is shown as removed then added.
    let ops: Vec<(char, &str, usize)> = if a.len().saturating_mul(b.len()) <= 20_000_000 {
        let mut table = vec![0u32; (a.len() + 1) * (b.len() + 1)];
        let width = b.len() + 1;
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                table[i * width + j] = if a[i] == b[j] {
                    table[(i + 1) * width + j + 1] + 1
                } else {
                    table[(i + 1) * width + j].max(table[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let mut ops = Vec::new();
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                i += 1;
                j += 1;
            } else if i < a.len()
                && (j == b.len() || table[(i + 1) * width + j] >= table[i * width + j + 1])
            {
                ops.push(('-', a[i], prefix + i + 1));
                i += 1;
            } else {
                ops.push(('+', b[j], prefix + j + 1));
                j += 1;
            }
        }
        ops
    } else {
        a.iter()
            .enumerate()
            .map(|(i, line)| ('-', *line, prefix + i + 1))
            .chain(
                b.iter()
                    .enumerate()
                    .map(|(j, line)| ('+', *line, prefix + j + 1)),
            )
            .collect()
    };
    let mut out = String::new();
    let mut last_line = None;
    for (shown, (sign, line, number)) in ops.iter().enumerate() {
        if shown == MAX_LINES {
            out.push_str(&format!(
                "... and {} more changed lines\n",
                ops.len() - MAX_LINES
            ));
            break;
        }
        if last_line.is_none_or(|last: usize| number.abs_diff(last) > 1) {
            out.push_str(&format!("@@ line {number} @@\n"));
        }
        last_line = Some(*number);
        out.push_str(&format!("{sign}{line}\n"));
    }
    out
}
