//! `cargo xtask check`: the spec, the generated code and the doc examples
//! agree, and the public API changes only with a CHANGELOG entry. One line
//! per check; each failure says what to run or fix.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{codegen, public_api};

/// The outcome of one check.
pub struct Outcome {
    /// The check's short name.
    pub name: &'static str,
    /// What was found: a summary when it passed, the failure otherwise.
    pub result: Result<String, String>,
}

/// A check: its short name, and what it runs on the workspace at a root.
pub type Check = (&'static str, fn(&Path) -> Result<String, String>);

/// The checks, in the order they run and are printed.
pub const CHECKS: &[Check] = &[
    ("spec", spec),
    ("generated", |root| {
        codegen::run_in(root, codegen::Mode::Check)
    }),
    ("examples", |root| sdk_check(root, "examples")),
    ("docs", docs),
    ("types", |root| sdk_check(root, "types")),
    ("snapshots", snapshots),
    ("public API", public_api::check),
];

/// The width of the name column of the report: the longest name.
pub const NAME_WIDTH: usize = 10;

/// Runs every check on the workspace at `root` and prints one line each.
pub fn run(root: &Path) -> Result<String, String> {
    let outcomes: Vec<Outcome> = CHECKS
        .iter()
        .map(|&(name, check)| Outcome {
            name,
            result: check(root),
        })
        .collect();
    let (lines, result) = report(&outcomes);
    for line in lines {
        println!("{line}");
    }
    result
}

/// The report of a run: one line per check (`ok` or `FAIL`, the name, what
/// was found; a failure's further lines indented under its first), then the
/// count for the last line.
pub fn report(outcomes: &[Outcome]) -> (Vec<String>, Result<String, String>) {
    let indent = " ".repeat(6 + NAME_WIDTH + 1);
    let mut lines = Vec::new();
    let mut failed = 0;
    for outcome in outcomes {
        match &outcome.result {
            Ok(summary) => lines.push(format!("ok    {:<NAME_WIDTH$} {summary}", outcome.name)),
            Err(message) => {
                failed += 1;
                lines.push(format!(
                    "FAIL  {:<NAME_WIDTH$} {}",
                    outcome.name,
                    message.replace('\n', &format!("\n{indent}"))
                ));
            }
        }
    }
    let result = if failed == 0 {
        Ok(format!("all {} checks passed", outcomes.len()))
    } else {
        Err(format!("{failed} of {} checks failed", outcomes.len()))
    };
    (lines, result)
}

/// Check 1: the spec parses as OpenAPI 3.0.x, progenitor accepts it, and it
/// meets the project's lint.
pub fn spec(root: &Path) -> Result<String, String> {
    let text = fs::read_to_string(root.join(codegen::SPEC))
        .map_err(|e| format!("cannot read {}: {e}", codegen::SPEC))?;
    let spec =
        webex_calling_codegen::parse_spec(&text).map_err(|e| format!("{}: {e}", codegen::SPEC))?;
    let problems = webex_calling_codegen::lint::lint(&spec);
    if !problems.is_empty() {
        return Err(format!(
            "{} breaks {} rule(s); fix them in the spec:\n{}",
            codegen::SPEC,
            problems.len(),
            problems.join("\n")
        ));
    }
    webex_calling_codegen::generate(&text).map_err(|e| format!("{}: {e}", codegen::SPEC))?;
    let operations = spec
        .paths
        .iter()
        .filter_map(|(_, i)| i.as_item())
        .map(|i| i.iter().count())
        .sum::<usize>();
    let schemas = spec.components.as_ref().map_or(0, |c| c.schemas.len());
    Ok(format!(
        "OpenAPI {} parses, progenitor accepts it, lint clean ({operations} operations, {schemas} schemas)",
        spec.openapi
    ))
}

/// Checks 3 and 5 need the SDK's types, so they run in the tests crate,
/// which depends on the SDK; `cargo xtask codegen` itself never does.
fn sdk_check(root: &Path, which: &str) -> Result<String, String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--locked",
            "-p",
            "webex-calling-tests",
            "--bin",
            "sync-check",
            "--",
        ])
        .arg(root)
        .arg(which)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if output.status.success() {
        Ok(stdout)
    } else if stdout.is_empty() {
        Err(format!("the {which} check did not run:\n{stderr}"))
    } else {
        Err(stdout)
    }
}

/// Check 6: the generator's output for the fixture specs is what
/// `codegen/tests/snapshots/` holds.
fn snapshots(root: &Path) -> Result<String, String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "test",
            "--quiet",
            "--locked",
            "-p",
            "webex-calling-codegen",
            "--test",
            "snapshots",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        let count = fs::read_dir(root.join("codegen/tests/fixtures")).map_or(0, |d| d.count());
        Ok(format!(
            "{count} fixture specs generate their committed snapshots"
        ))
    } else {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let detail: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("snapshot"))
            .take(10)
            .collect();
        Err(format!(
            "the generator's output changed for a fixture spec:\n{}\nif the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p webex-calling-codegen --test snapshots` and commit",
            detail.join("\n")
        ))
    }
}

/// Every example in the spec: request and response bodies, in order.
pub fn spec_examples(spec: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    collect_examples(spec, &mut out);
    out
}

fn collect_examples(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "example" {
                    out.push(child.clone());
                } else if key == "examples" {
                    if let Some(examples) = child.as_object() {
                        out.extend(examples.values().filter_map(|e| e.get("value").cloned()));
                    }
                } else {
                    collect_examples(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_examples(item, out)),
        _ => {}
    }
}

/// A fenced code block found in a document.
#[derive(Debug)]
pub struct Block {
    /// Where it starts, as `file:line`.
    pub at: String,
    /// The words after the opening fence.
    pub info: String,
    /// The text between the fences.
    pub text: String,
}

/// The fenced blocks of Markdown lines, numbered as in their file (for
/// rustdoc, the lines of one doc comment with its markers stripped).
pub fn blocks(file: &str, lines: &[(usize, String)]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (number, line) in lines {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                None => open = Some((*number, info.trim().to_string(), String::new())),
                Some((start, info, text)) => out.push(Block {
                    at: format!("{file}:{start}"),
                    info,
                    text,
                }),
            }
        } else if let Some((_, _, text)) = open.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// The doc-comment lines of a Rust file, with their line numbers.
pub fn doc_lines(source: &str) -> Vec<Vec<(usize, String)>> {
    let mut groups = Vec::new();
    let mut current: Vec<(usize, String)> = Vec::new();
    let mut in_block = false;
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if in_block {
            let (text, end) = match trimmed.find("*/") {
                Some(at) => (&line[..line.len() - trimmed.len() + at], true),
                None => (line, false),
            };
            current.push((number, text.to_string()));
            if end {
                in_block = false;
                groups.push(std::mem::take(&mut current));
            }
        } else if let Some(rest) = trimmed
            .strip_prefix("/**")
            .or_else(|| trimmed.strip_prefix("/*!"))
        {
            match rest.find("*/") {
                Some(end) => groups.push(vec![(number, rest[..end].to_string())]),
                None => {
                    in_block = true;
                    current.push((number, rest.to_string()));
                }
            }
        } else if let Some(rest) = trimmed
            .strip_prefix("///")
            .or_else(|| trimmed.strip_prefix("//!"))
        {
            current.push((number, rest.strip_prefix(' ').unwrap_or(rest).to_string()));
        } else if !current.is_empty() {
            groups.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

fn is_rust(info: &str) -> bool {
    let words: Vec<&str> = info
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    words.is_empty()
        || words.iter().all(|w| {
            matches!(
                *w,
                "rust"
                    | "no_run"
                    | "should_panic"
                    | "compile_fail"
                    | "ignore"
                    | "edition2021"
                    | "edition2024"
            )
        })
}

/// JSON documents inside raw strings of a Rust block.
fn raw_json_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("r#\"") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("\"#") else { break };
        let inner = after[..end].trim();
        if inner.starts_with('{') || inner.starts_with('[') {
            out.push(inner.to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

/// The Rust files whose docs are published: everything under `sdk/src/`.
fn sdk_sources(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("sdk/src")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The crate's README: the page crates.io shows and the front page of the
/// crate's documentation, so its Rust blocks are doctests.
pub const CRATE_README: &str = "sdk/README.md";

/// The repository's README: the project's page, whose blocks no doctest
/// compiles.
pub const WORKSPACE_README: &str = "README.md";

/// The lines of a Markdown file, numbered from 1.
fn markdown_lines(root: &Path, file: &str) -> Result<Vec<(usize, String)>, String> {
    let text =
        fs::read_to_string(root.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect())
}

/// Check 4: every JSON example in the READMEs and the SDK's rustdoc is one
/// of the spec's, every Rust block of the crate's README is a doctest, the
/// workspace README has no Rust block (nothing would compile it), and no
/// Rust block is kept from compiling.
/// The reference links (`` [`Client`] ``) of a Markdown file that have no
/// link definition: rustdoc resolves them, but crates.io shows the
/// brackets. Code blocks are skipped.
pub fn undefined_links(file: &str, text: &str) -> Vec<String> {
    let mut defined = Vec::new();
    let mut used = Vec::new();
    let mut in_code = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[')
            && let Some((label, target)) = rest.split_once("]:")
            && !target.trim().is_empty()
        {
            defined.push(label.to_string());
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("[`") {
            let after = &rest[start + 1..];
            let Some(end) = after.find("`]") else {
                break;
            };
            let label = &after[..end + 1];
            let next = after[end + 2..].chars().next();
            // `[`x`](url)` and `[`x`][label]` carry their own target.
            if !matches!(next, Some('(' | '[')) {
                used.push((number + 1, label.to_string()));
            }
            rest = &after[end + 2..];
        }
    }
    used.into_iter()
        .filter(|(_, label)| !defined.contains(label))
        .map(|(line, label)| {
            format!(
                "{file}:{line}: [{label}] has no link definition, so crates.io shows the brackets; add `[{label}]: https://docs.rs/...` at the end of the file"
            )
        })
        .collect()
}

pub fn docs(root: &Path) -> Result<String, String> {
    let spec_text = fs::read_to_string(root.join(codegen::SPEC))
        .map_err(|e| format!("cannot read {}: {e}", codegen::SPEC))?;
    let spec: Value =
        serde_yaml::from_str(&spec_text).map_err(|e| format!("{}: {e}", codegen::SPEC))?;
    let examples = spec_examples(&spec);

    let mut problems = Vec::new();
    let lib = fs::read_to_string(root.join("sdk/src/lib.rs")).unwrap_or_default();
    if !lib.contains("#![doc = include_str!(\"../README.md\")]") {
        problems.push(format!(
            "sdk/src/lib.rs must take {CRATE_README} as its docs (`#![doc = include_str!(\"../README.md\")]`) so the README's Rust blocks are doctests"
        ));
    }
    let manifest = fs::read_to_string(root.join("sdk/Cargo.toml")).unwrap_or_default();
    if !manifest
        .lines()
        .any(|l| l.trim() == "readme = \"README.md\"")
    {
        problems.push(format!(
            "sdk/Cargo.toml must name {CRATE_README} as the crate's page (`readme = \"README.md\"`), the README its docs are made of"
        ));
    }
    if !manifest
        .lines()
        .any(|l| l.trim() == "rustdoc-args = [\"--cfg\", \"docsrs\"]")
        || !lib.contains("#![cfg_attr(docsrs, feature(doc_cfg))]")
    {
        problems.push(
            "docs.rs must build with `--cfg docsrs` (`rustdoc-args = [\"--cfg\", \"docsrs\"]` under `[package.metadata.docs.rs]` in sdk/Cargo.toml) and sdk/src/lib.rs must have `#![cfg_attr(docsrs, feature(doc_cfg))]`, so feature-gated items carry their feature's badge".to_string(),
        );
    }
    problems.extend(undefined_links(
        CRATE_README,
        &fs::read_to_string(root.join(CRATE_README)).unwrap_or_default(),
    ));
    let mut all_blocks = blocks(CRATE_README, &markdown_lines(root, CRATE_README)?);
    for block in blocks(WORKSPACE_README, &markdown_lines(root, WORKSPACE_README)?) {
        if is_rust(&block.info) {
            problems.push(format!(
                "{}: a Rust block in the workspace README is never compiled; usage examples go in {CRATE_README}, which is the crate's docs",
                block.at
            ));
        } else {
            all_blocks.push(block);
        }
    }
    for path in sdk_sources(root) {
        let source = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        for group in doc_lines(&source) {
            all_blocks.extend(blocks(&name, &group));
        }
    }

    let (mut json_count, mut rust_count) = (0, 0);
    for block in &all_blocks {
        let mut candidates = Vec::new();
        if block.info == "json" {
            candidates.push(block.text.clone());
        } else if is_rust(&block.info) {
            rust_count += 1;
            if block.info.split(',').any(|w| w.trim() == "ignore") {
                problems.push(format!(
                    "{}: a Rust block marked `ignore` is never compiled; make it compile (`no_run` if it would call the network)",
                    block.at
                ));
            }
            candidates.extend(raw_json_strings(&block.text));
        }
        for candidate in candidates {
            json_count += 1;
            match serde_json::from_str::<Value>(&candidate) {
                Ok(value) if examples.contains(&value) => {}
                Ok(_) => problems.push(format!(
                    "{}: this JSON example is not one of the spec's examples; copy it from {} (or change the spec's example and run `cargo xtask codegen`)",
                    block.at,
                    codegen::SPEC
                )),
                Err(e) => problems.push(format!("{}: a JSON example does not parse: {e}", block.at)),
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{json_count} JSON examples in the READMEs and rustdoc are the spec's; {rust_count} Rust blocks, all doctests, none `ignore`"
        ))
    } else {
        Err(problems.join("\n"))
    }
}
