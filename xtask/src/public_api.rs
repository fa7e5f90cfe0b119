//! `cargo xtask public-api`: the public API of the `webex-calling` crate, one
//! line per item, read from its source with `syn` (no build, no nightly), and
//! the "public API" check of `cargo xtask check`.
//!
//! # The listing
//!
//! The crate is read from `sdk/src/lib.rs`, following `mod` declarations to
//! their files (`foo.rs`, `foo/mod.rs`, `#[path]`). Every item a user can
//! name from outside is listed under the path they name it by, `pub use`
//! re-exports of private modules' items resolved. Each line is
//! `path: declaration`, for example
//!
//! ```text
//! webex_calling::ApiError: #[non_exhaustive] pub struct ApiError { /* private fields */ }
//! webex_calling::ApiError::status: pub status: u16
//! webex_calling::Client::get_hunt_group: pub fn get_hunt_group(&self) -> webex_calling::builder::GetHuntGroup<'_>
//! webex_calling::fake::FakeWebex: [feature = "fake"] pub struct FakeWebex { /* private fields */ }
//! webex_calling::types::AgentType: impl std::fmt::Display for webex_calling::types::AgentType
//! ```
//!
//! - public modules, structs (generics, `pub` fields; `{..}`/`(..)` when every
//!   field is listed, `{ /* private fields */ }` when some are not), enums and
//!   their variants, unions, traits and their items, type aliases, consts,
//!   statics, functions, `#[macro_export]` macros;
//! - the `pub` functions and consts of inherent `impl` blocks, with the block's
//!   generics when it has any (`impl<'a> X<'a> { pub fn ... }`);
//! - every trait impl of a listed type (or of a listed trait), written or
//!   derived, as `impl Trait for Type` with its associated types: removing a
//!   derive is as breaking as removing the impl;
//! - the attributes that change what users can do: `#[non_exhaustive]`,
//!   `#[repr]`, `#[deprecated]`;
//! - `#[cfg(...)]` on an item or a module around it as a `[predicate]` prefix
//!   of the declaration; items under `#[cfg(test)]` or `#[doc(hidden)]`, and
//!   `pub(crate)`, `pub(super)` and private items, are left out.
//!
//! Paths in signatures are resolved the way the compiler would: a local type
//! is written as the path users name it by, an imported one by its full path
//! (`std::time::Duration`), and the standard prelude's by its name (`Option`,
//! `String`), so moving an import or spelling `::std::option::Option` does
//! not change a line. A trait users cannot name (public in a private module,
//! like the supertrait of `Validate`) is written by its path in the source.
//! Argument names are kept; `mut` on an argument is not.
//!
//! What the listing does not see: items a macro expands to (other than
//! `#[macro_export]` macros themselves), what a glob `pub use` of another
//! crate brings, auto traits (`Send`, `Sync`, `Unpin`: they follow from the
//! fields, which it does not list when private), impls that other crates'
//! blanket impls give, the values of consts, the bodies of functions, and
//! which cfg predicates hold (every feature's items are listed, each with
//! its predicate).
//!
//! # The check
//!
//! `sdk/public-api.txt` holds the listing as of the last release (before the
//! first release: of the commit that added it). Every line added to or
//! removed from it must be named in the `## [Unreleased]` section of
//! `CHANGELOG.md`; a changed signature is a removed and an added line, and
//! both must be. A line is named by a code span (in backticks) of that
//! section that is
//!
//! - its path, or the end of its path: `Client::get_hunt_group`,
//!   `get_hunt_group`, `webex_calling::types::NoAnswerSettings` (`()` or
//!   `<...>` after the name are ignored, so `to_update()` names `to_update`);
//! - or its type's: `NoAnswerSettings` names its fields, variants, methods and
//!   trait impls.
//!
//! A module's name alone (`types`) names nothing in it. One more way covers
//! what is usually done to many items at once: an attribute added or removed
//! (the same line but for `#[non_exhaustive]`) or a trait impl added or
//! removed (`impl Clone for ...`, derived or written) is named by one entry of
//! the section (a list item) that has in backticks both the attribute, as it
//! is listed (`#[non_exhaustive]`), or the trait (`Clone`), and the item's
//! module or one around it (`types`, `webex_calling`). [`RULE`] says the same
//! in the check's failure.
//!
//! So after changing the API: add a changelog entry; nothing is regenerated.
//! The baseline is rewritten only when a release is cut (`cargo xtask
//! public-api --bless`, in the commit that moves `[Unreleased]` under the
//! version's heading).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

mod listing;

pub use listing::listing;

/// The crate's library root, relative to the workspace root.
pub const LIB: &str = "sdk/src/lib.rs";
/// The crate's name in paths.
pub const CRATE: &str = "webex_calling";
/// The listing as of the last release, relative to the workspace root.
pub const BASELINE: &str = "sdk/public-api.txt";
/// The changelog, relative to the workspace root.
pub const CHANGELOG: &str = "CHANGELOG.md";

/// What names a change in the `[Unreleased]` section, as the check's
/// failure says it.
pub const RULE: &str = "\
A line is named when the [Unreleased] section has, in backticks, its path or the end of it
(`Client::get_hunt_group`, `get_hunt_group`; `()` or `<...>` after a name are ignored), or its
type's (`NoAnswerSettings` names its fields, variants, methods and impls). A module's name alone
(`types`) names nothing in it, but an attribute or a trait impl added to or removed from items
(`#[non_exhaustive]` on structs, a derived `Clone`) is also named by one entry (one list item)
that has both the attribute or trait (`#[non_exhaustive]`, `Clone`) and the module or one
around it (`types`, `webex_calling`) in backticks.";

const HEADER: &str = "\
// The public API of the webex-calling crate as of its last release, one line per item
// (before the first release: the API that [Unreleased], the first release's entries,
// describes as a whole); `cargo xtask public-api` prints the current one. `cargo xtask
// check` fails when the two differ in a line that the [Unreleased] section of
// CHANGELOG.md does not name. Rewritten by `cargo xtask public-api --bless` only when a
// release is cut, in the commit that moves [Unreleased] under the version's heading.
";

/// `cargo xtask public-api [--diff|--bless]` on the workspace at `root`.
pub fn run(root: &Path, args: &[&str]) -> Result<String, String> {
    let current = current(root)?;
    match args {
        [] => Ok(current.join("\n")),
        ["--diff"] => {
            let changes = diff(&baseline(root)?, &current);
            if changes.is_empty() {
                return Ok(format!("no change since {BASELINE}"));
            }
            let lines: Vec<String> = changes.iter().map(Change::to_string).collect();
            Ok(format!(
                "{}\n{} line(s) changed since {BASELINE}",
                lines.join("\n"),
                changes.len()
            ))
        }
        ["--bless"] => {
            fs::write(
                root.join(BASELINE),
                format!("{HEADER}{}\n", current.join("\n")),
            )
            .map_err(|e| format!("cannot write {BASELINE}: {e}"))?;
            Ok(format!("wrote {BASELINE} ({} lines)", current.len()))
        }
        _ => Err("usage: cargo xtask public-api [--diff|--bless]".to_string()),
    }
}

/// The check: every line that differs from the baseline is named in the
/// changelog's `[Unreleased]` section.
pub fn check(root: &Path) -> Result<String, String> {
    let current = current(root)?;
    let old = baseline(root)?;
    let changes = diff(&old, &current);
    if changes.is_empty() {
        return Ok(format!(
            "{} lines, as in {BASELINE} (the last release)",
            current.len()
        ));
    }
    let changelog = fs::read_to_string(root.join(CHANGELOG))
        .map_err(|e| format!("cannot read {CHANGELOG}: {e}"))?;
    let missing = uncovered(&old, &current, &changelog);
    if missing.is_empty() {
        return Ok(format!(
            "{} lines; the {} changed since {BASELINE} are named under [Unreleased] in {CHANGELOG}",
            current.len(),
            changes.len()
        ));
    }
    let lines: Vec<String> = missing.iter().map(|c| c.to_string()).collect();
    Err(format!(
        "{} public API line(s) changed since {BASELINE} (the last release) without a {CHANGELOG} entry; add a CHANGELOG.md entry under [Unreleased] naming it:\n{}\n{RULE}\n(`cargo xtask public-api --diff` shows every change; {BASELINE} is rewritten only when a release is cut.)",
        missing.len(),
        lines.join("\n")
    ))
}

/// The listing of the crate in the workspace at `root`.
pub fn current(root: &Path) -> Result<Vec<String>, String> {
    listing(&root.join(LIB), CRATE)
}

/// The baseline's lines, without its comments.
pub fn baseline(root: &Path) -> Result<Vec<String>, String> {
    let text = fs::read_to_string(root.join(BASELINE)).map_err(|e| {
        format!("cannot read {BASELINE}: {e}; write it with `cargo xtask public-api --bless`")
    })?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .map(str::to_string)
        .collect())
}

/// A line added to or removed from the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Whether the line is new.
    pub added: bool,
    /// The line.
    pub line: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", if self.added { '+' } else { '-' }, self.line)
    }
}

/// The lines only one of the listings has, in the listing's order, a
/// removed line before the added one that replaces it.
pub fn diff(old: &[String], new: &[String]) -> Vec<Change> {
    let old_set: BTreeSet<&String> = old.iter().collect();
    let new_set: BTreeSet<&String> = new.iter().collect();
    let mut changes: Vec<Change> = old_set
        .difference(&new_set)
        .map(|l| Change {
            added: false,
            line: (*l).clone(),
        })
        .chain(new_set.difference(&old_set).map(|l| Change {
            added: true,
            line: (*l).clone(),
        }))
        .collect();
    changes.sort_by(|a, b| {
        let (pa, pb) = (split_line(&a.line).0, split_line(&b.line).0);
        (pa, a.added, &a.line).cmp(&(pb, b.added, &b.line))
    });
    changes
}

// ---------------------------------------------------------------------------
// The changelog rule.

/// The entries of the `## [Unreleased]` section: each list item, heading or
/// paragraph, as one string. `None` when there is no such section.
pub fn unreleased_entries(changelog: &str) -> Option<Vec<String>> {
    let mut lines = changelog.lines();
    lines.find(|l| l.trim_start().starts_with("## [Unreleased]"))?;
    let mut entries = Vec::new();
    let mut current = String::new();
    for line in lines {
        if line.starts_with("## ") {
            break;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let starts_item = indent < 2
            && (trimmed.starts_with("- ")
                || trimmed.starts_with("* ")
                || trimmed.starts_with("+ "));
        if trimmed.is_empty() || trimmed.starts_with('#') || starts_item {
            if !current.trim().is_empty() {
                entries.push(std::mem::take(&mut current));
            }
            current.clear();
            if trimmed.starts_with('#') {
                entries.push(trimmed.to_string());
                continue;
            }
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.trim().is_empty() {
        entries.push(current);
    }
    Some(entries)
}

/// The text of each Markdown code span of `text`.
pub fn code_spans(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let start = i + run;
        let mut j = start;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let close = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                if close == run {
                    closed = Some(j);
                    break;
                }
                j += close;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                out.push(text[start..end].replace('\n', " ").trim().to_string());
                i = end + run;
            }
            None => i = start,
        }
    }
    out
}

/// A code span read as a name: path segments, or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mention {
    /// `Client::get_hunt_group`, `types`, `Clone`.
    Path(Vec<String>),
    /// `#[non_exhaustive]`, without spaces.
    Attribute(String),
}

fn mention(span: &str) -> Option<Mention> {
    if span.starts_with("#[") {
        return Some(Mention::Attribute(span.split_whitespace().collect()));
    }
    let end = span
        .find(|c: char| c == '(' || c == '<' || c == '!' || c.is_whitespace())
        .unwrap_or(span.len());
    let segments: Vec<String> = span[..end].split("::").map(str::to_string).collect();
    let valid = segments.iter().all(|s| {
        let s = s.strip_prefix("r#").unwrap_or(s);
        !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    });
    valid.then_some(Mention::Path(segments))
}

fn ends_with(path: &[&str], suffix: &[String]) -> bool {
    suffix.len() <= path.len()
        && path[path.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(a, b)| a == b)
}

/// One line of a listing, in parts.
struct Parsed<'a> {
    path: Vec<&'a str>,
    /// The `[predicate] ` prefixes.
    cfg: &'a str,
    /// The tracked attributes, without spaces.
    attributes: BTreeSet<String>,
    /// The declaration after the attributes.
    body: &'a str,
}

/// The path and the declaration of a line.
fn split_line(line: &str) -> (&str, &str) {
    line.split_once(": ").unwrap_or((line, ""))
}

/// The end of the bracketed group `text` starts with (just after its `]`).
fn group_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' => depth += 1,
            ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_line(line: &str) -> Parsed<'_> {
    let (path, declaration) = split_line(line);
    let mut rest = declaration;
    let mut cfg_len = 0;
    while rest.starts_with('[') {
        let Some(end) = group_end(rest) else { break };
        cfg_len += end;
        rest = &rest[end..];
        let spaces = rest.len() - rest.trim_start().len();
        cfg_len += spaces;
        rest = rest.trim_start();
    }
    let mut attributes = BTreeSet::new();
    while rest.starts_with("#[") {
        let Some(end) = group_end(&rest[1..]) else {
            break;
        };
        attributes.insert(rest[..end + 1].split_whitespace().collect());
        rest = rest[end + 1..].trim_start();
    }
    Parsed {
        path: path.split("::").collect(),
        cfg: declaration[..cfg_len].trim_end(),
        attributes,
        body: rest,
    }
}

/// The trait of an `impl Trait for Type` line, as path segments.
fn impl_trait(body: &str) -> Option<Vec<String>> {
    let rest = body.strip_prefix("unsafe ").unwrap_or(body);
    let mut rest = rest.strip_prefix("impl")?;
    if rest.starts_with('<') {
        rest = &rest[angle_end(rest)?..];
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('!').unwrap_or(rest);
    // The trait's path, its generic arguments, then ` for `.
    let mut depth = 0usize;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    if !rest[end..].starts_with(" for ") {
        return None;
    }
    let path = &rest[..end];
    let path = &path[..path.find(['<', '(']).unwrap_or(path.len())];
    Some(path.split("::").map(str::to_string).collect())
}

/// The end of the `<...>` group `text` starts with.
fn angle_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            // `->` inside the group is not a closing bracket.
            '>' if previous != '-' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        previous = c;
    }
    None
}

/// The lines that differ between the listings `old` and `new` and that the
/// `[Unreleased]` section of `changelog` does not name (see [`RULE`]).
pub fn uncovered(old: &[String], new: &[String], changelog: &str) -> Vec<Change> {
    let changes = diff(old, new);
    let entries: Vec<Vec<Mention>> = unreleased_entries(changelog)
        .unwrap_or_default()
        .iter()
        .map(|e| code_spans(e).iter().filter_map(|s| mention(s)).collect())
        .collect();
    let names: Vec<&Vec<String>> = entries
        .iter()
        .flatten()
        .filter_map(|m| match m {
            Mention::Path(p) => Some(p),
            Mention::Attribute(_) => None,
        })
        .collect();
    // The modules of either listing; an item's module is the longest one
    // its path starts with (the crate, at least).
    let modules: BTreeSet<Vec<&str>> = old
        .iter()
        .chain(new)
        .map(|l| parse_line(l))
        .filter(|p| p.body.starts_with("pub mod "))
        .map(|p| p.path)
        .collect();
    let module_len = |path: &[&str]| -> usize {
        (2..path.len())
            .rev()
            .find(|&n| modules.contains(&path[..n]))
            .unwrap_or(1)
    };
    let parsed: Vec<Parsed<'_>> = changes.iter().map(|c| parse_line(&c.line)).collect();
    let mut out = Vec::new();
    for (change, line) in changes.iter().zip(&parsed) {
        let path = &line.path;
        let module = &path[..module_len(path)];
        // Its path or the end of it, or its type's.
        let named = names.iter().any(|name| {
            ends_with(path, name)
                || (path.len() >= module.len() + 2 && ends_with(&path[..path.len() - 1], name))
        });
        if named {
            continue;
        }
        // What the change adds or removes besides a name: attributes, when
        // the other side has the same line but for them, or a trait impl.
        let counterpart = changes.iter().zip(&parsed).find(|(other_change, other)| {
            other_change.added != change.added
                && other.path == line.path
                && other.cfg == line.cfg
                && other.body == line.body
        });
        let what: Vec<Mention> = match counterpart {
            Some((_, other)) => line
                .attributes
                .symmetric_difference(&other.attributes)
                .map(|a| Mention::Attribute(a.clone()))
                .collect(),
            None => impl_trait(line.body)
                .map(|t| vec![Mention::Path(t)])
                .unwrap_or_default(),
        };
        // One entry naming all of that and the module or one around it.
        let named_with_module = !what.is_empty()
            && entries.iter().any(|entry| {
                let mentions_what = what.iter().all(|w| {
                    entry.iter().any(|m| match (w, m) {
                        (Mention::Attribute(a), Mention::Attribute(b)) => a == b,
                        (Mention::Path(t), Mention::Path(name)) => {
                            let t: Vec<&str> = t.iter().map(String::as_str).collect();
                            ends_with(&t, name)
                        }
                        _ => false,
                    })
                });
                let mentions_module = entry.iter().any(|m| match m {
                    Mention::Path(name) => {
                        (1..=module.len()).any(|n| ends_with(&module[..n], name))
                    }
                    Mention::Attribute(_) => false,
                });
                mentions_what && mentions_module
            });
        if !named_with_module {
            out.push(change.clone());
        }
    }
    out
}
