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

/// A unified line diff of `old` against `new` (two lines of context), cut
/// after a bound so a huge change stays readable.
pub fn diff(old: &str, new: &str) -> String {
    const MAX_LINES: usize = 80;
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("on disk", "generated")
        .to_string();
    let total = text.lines().count();
    if total <= MAX_LINES {
        return text;
    }
    let mut out: String = text
        .lines()
        .take(MAX_LINES)
        .flat_map(|line| [line, "\n"])
        .collect();
    out.push_str(&format!(
        "... and {} more lines of diff\n",
        total - MAX_LINES
    ));
    out
}
