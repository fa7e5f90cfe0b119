//! The public API listing and the "public API" check of `cargo xtask check`:
//! the listing of a small crate, then changes to a copy of the workspace
//! that fail the check until CHANGELOG.md names them.

use std::fs;
use std::path::Path;

use xtask::check::{self, Outcome};
use xtask::public_api;

mod common;

use common::edit;

/// Copies what the check reads into a scratch folder.
/// A copy of the SDK just after a release: the baseline is its API, and
/// `[Unreleased]` has nothing in it yet.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = common::scratch(
        &format!("api-{name}"),
        &["sdk/src", "sdk/public-api.txt", "CHANGELOG.md"],
    );
    public_api::run(&dir, &["--bless"]).unwrap();
    fs::write(
        dir.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n### Added\n\n## [0.1.0] - 2026-11-27\n\n### Added\n- Everything.\n",
    )
    .unwrap();
    dir
}

/// Adds `entry` under `### Added` in the scratch copy's [Unreleased].
fn add_entry(dir: &Path, entry: &str) {
    edit(
        &dir.join("CHANGELOG.md"),
        "## [Unreleased]\n\n### Added\n",
        &format!("## [Unreleased]\n\n### Added\n{entry}\n"),
    );
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn the_listing_of_a_small_crate_has_every_public_item_and_nothing_else() {
    let dir =
        std::env::temp_dir().join(format!("webex-calling-api-listing-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    write(
        &dir,
        "src/lib.rs",
        r#"//! A small crate.
mod private;
pub mod open;
#[cfg(feature = "extra")]
pub mod extra;
// Never read: only compiled for the crate's own tests.
#[cfg(test)]
mod tests;
#[path = "elsewhere/renamed.rs"]
mod renamed;

pub use open::Public as Alias;
pub use private::{Hidden as _, Kind, Shown, make};
pub use renamed::Renamed;

/// Everything in `private`, again.
pub mod prelude {
    pub use crate::private::*;
}

#[doc(hidden)]
pub fn hidden_fn() {}
pub(crate) fn crate_fn() {}
/// A constant.
pub const LIMIT: usize = 3;
pub type Pair<T> = (T, T);

#[macro_export]
macro_rules! shout {
    () => {};
}
"#,
    );
    write(
        &dir,
        "src/private.rs",
        r#"use std::fmt;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Shown<'a, T: Clone> {
    pub name: &'a str,
    pub value: ::std::option::Option<T>,
    pub(crate) secret: u8,
    #[doc(hidden)]
    pub internal: u8,
}

pub struct Hidden;

#[derive(PartialEq)]
pub enum Kind {
    Unit,
    #[non_exhaustive]
    Tuple(u8, String),
    Named { at: Duration },
    #[doc(hidden)]
    Secret,
}

impl<'a, T: Clone> Shown<'a, T> {
    pub fn new(name: &'a str, mut value: T) -> Self {
        value = value.clone();
        Shown { name, value: Some(value), secret: 0, internal: 0 }
    }
    pub(crate) fn internal(&self) {}
    fn private(&self) {}
    #[doc(hidden)]
    pub fn hidden(&self) {}
    #[cfg(feature = "extra")]
    pub fn extra(&self) -> Option<Duration> {
        None
    }
    #[cfg(test)]
    pub fn test_only(&self) {}
}

impl Kind {
    pub async fn wait(&mut self, _for: Duration) -> Result<(), super::open::Public> {
        Ok(())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("kind")
    }
}

pub fn make() -> Kind {
    Kind::Unit
}

pub(crate) struct CrateOnly;

#[cfg(test)]
mod tests {
    pub struct NotListed;
}
"#,
    );
    write(
        &dir,
        "src/open.rs",
        r#"#[derive(Clone, Debug)]
pub struct Public(pub u32, u32);

pub trait Speak: Clone {
    type Out;
    const LOUD: bool = false;
    fn speak(&self) -> Self::Out;
    fn twice(&self) -> Vec<Self::Out> {
        vec![self.speak(), self.speak()]
    }
}

impl Speak for Public {
    type Out = String;
    fn speak(&self) -> String {
        self.0.to_string()
    }
}
"#,
    );
    write(&dir, "src/extra/mod.rs", "pub struct Extra;\n");
    write(
        &dir,
        "src/elsewhere/renamed.rs",
        r#"#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Renamed {
    pub id: u64,
}
"#,
    );
    let listing = public_api::listing(&dir.join("src/lib.rs"), "small").unwrap();
    let expected = r#"small::Alias: pub use small::open::Public
small::Kind: impl PartialEq for small::Kind
small::Kind: impl std::fmt::Display for small::Kind
small::Kind: pub enum Kind
small::Kind::Named: Named { at: std::time::Duration }
small::Kind::Tuple: #[non_exhaustive] Tuple(u8, String)
small::Kind::Unit: Unit
small::Kind::wait: pub async fn wait(&mut self, _for: std::time::Duration) -> Result<(), small::open::Public>
small::LIMIT: pub const LIMIT: usize
small::Pair: pub type Pair<T> = (T, T)
small::Renamed: [feature = "serde"] impl serde::Serialize for small::Renamed
small::Renamed: pub struct Renamed {..}
small::Renamed::id: pub id: u64
small::Shown: #[non_exhaustive] pub struct Shown<'a, T: Clone> { /* private fields */ }
small::Shown: impl<'a, T: Clone + Clone> Clone for small::Shown<'a, T>
small::Shown: impl<'a, T: Default + Clone> Default for small::Shown<'a, T>
small::Shown: impl<'a, T: std::fmt::Debug + Clone> std::fmt::Debug for small::Shown<'a, T>
small::Shown::extra: [feature = "extra"] impl<'a, T: Clone> small::Shown<'a, T> { pub fn extra(&self) -> Option<std::time::Duration> }
small::Shown::name: pub name: &'a str
small::Shown::new: impl<'a, T: Clone> small::Shown<'a, T> { pub fn new(name: &'a str, value: T) -> Self }
small::Shown::value: pub value: Option<T>
small::extra: [feature = "extra"] pub mod extra
small::extra::Extra: [feature = "extra"] pub struct Extra;
small::make: pub fn make() -> small::Kind
small::open: pub mod open
small::open::Public: impl Clone for small::open::Public
small::open::Public: impl small::open::Speak for small::open::Public { type Out = String; }
small::open::Public: impl std::fmt::Debug for small::open::Public
small::open::Public: pub struct Public(/* private fields */)
small::open::Public::0: pub 0: u32
small::open::Speak: pub trait Speak: Clone
small::open::Speak::LOUD: const LOUD: bool = ..
small::open::Speak::Out: type Out
small::open::Speak::speak: fn speak(&self) -> Self::Out
small::open::Speak::twice: fn twice(&self) -> Vec<Self::Out> { .. }
small::prelude: pub mod prelude
small::prelude::Hidden: pub struct Hidden;
small::prelude::Kind: pub use small::Kind
small::prelude::Shown: pub use small::Shown
small::prelude::make: pub use small::make
small::shout: macro_rules! shout"#;
    assert_eq!(listing.join("\n"), expected);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_workspace_passes_the_check() {
    let summary = public_api::check(&xtask::root()).unwrap();
    assert!(summary.contains("sdk/public-api.txt"), "{summary}");
}

#[test]
fn the_baseline_is_sorted_and_has_no_duplicate_line() {
    let lines = public_api::baseline(&xtask::root()).unwrap();
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(lines, sorted);
}

#[test]
fn a_new_method_fails_the_check_until_the_changelog_names_it() {
    let dir = scratch("new-method");
    edit(
        &dir.join("sdk/src/client.rs"),
        "impl RetryPolicy {\n",
        "impl RetryPolicy {\n    /// Spreads retries out.\n    pub fn jitter(self, on: bool) -> Self {\n        let _ = on;\n        self\n    }\n",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains(
            "\n+ webex_calling::RetryPolicy::jitter: pub fn jitter(self, on: bool) -> Self\n"
        ),
        "{message}"
    );
    assert!(
        message.contains("add a CHANGELOG.md entry under [Unreleased] naming it"),
        "{message}"
    );
    assert!(message.starts_with("1 public API line(s)"), "{message}");

    // The module it is in does not name it.
    add_entry(&dir, "- Retries in `webex_calling` can be spread out.");
    public_api::check(&dir).unwrap_err();
    add_entry(&dir, "- `RetryPolicy::jitter()`: spreads retries out.");
    let summary = public_api::check(&dir).unwrap();
    assert!(summary.contains("the 1 changed since"), "{summary}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_entry_in_a_released_section_names_nothing() {
    let dir = scratch("released");
    edit(
        &dir.join("sdk/src/client.rs"),
        "impl RetryPolicy {\n",
        "impl RetryPolicy {\n    /// Spreads retries out.\n    pub fn jitter(self) -> Self {\n        self\n    }\n",
    );
    let changelog = dir.join("CHANGELOG.md");
    let text = fs::read_to_string(&changelog).unwrap();
    fs::write(
        &changelog,
        format!("{text}\n## [0.0.1] - 2020-01-01\n\n### Added\n- `RetryPolicy::jitter`.\n"),
    )
    .unwrap();
    let message = public_api::check(&dir).unwrap_err();
    assert!(message.contains("RetryPolicy::jitter"), "{message}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_changed_signature_is_a_removed_and_an_added_line() {
    let dir = scratch("signature");
    edit(
        &dir.join("sdk/src/client.rs"),
        "pub fn max_in_flight(mut self, max: usize) -> Self {",
        "pub fn max_in_flight(mut self, max: u32) -> Self {\n        let max = max as usize;",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains(
            "\n- webex_calling::ClientBuilder::max_in_flight: pub fn max_in_flight(self, max: usize) -> Self\n\
             + webex_calling::ClientBuilder::max_in_flight: pub fn max_in_flight(self, max: u32) -> Self\n"
        ),
        "{message}"
    );
    // The type's name covers its methods.
    add_entry(
        &dir,
        "- `ClientBuilder` takes a `u32` for the in-flight limit.",
    );
    public_api::check(&dir).unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn removing_non_exhaustive_from_a_generated_struct_fails_the_check() {
    let dir = scratch("non-exhaustive");
    let types = dir.join("sdk/src/generated/types.rs");
    // The release had it non-exhaustive; now it is not.
    edit(
        &types,
        "#[non_exhaustive]\npub struct NoAnswerSettings {",
        "pub struct NoAnswerSettings {",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains(
            "\n- webex_calling::types::NoAnswerSettings: #[non_exhaustive] pub struct NoAnswerSettings {..}\n\
             + webex_calling::types::NoAnswerSettings: pub struct NoAnswerSettings {..}\n"
        ),
        "{message}"
    );
    add_entry(
        &dir,
        "- `NoAnswerSettings` can be built with a struct literal.",
    );
    public_api::check(&dir).unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn removing_non_exhaustive_from_a_hand_written_struct_fails_the_check() {
    let dir = scratch("non-exhaustive-error");
    edit(
        &dir.join("sdk/src/error.rs"),
        "#[non_exhaustive]\npub struct ApiError {",
        "pub struct ApiError {",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains("- webex_calling::ApiError: #[non_exhaustive] pub struct ApiError"),
        "{message}"
    );
    assert!(
        message.contains("+ webex_calling::ApiError: pub struct ApiError"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_attribute_on_every_struct_of_a_module_is_named_by_one_entry_with_both() {
    let dir = scratch("attribute-module");
    let types = dir.join("sdk/src/generated/types.rs");
    let text = fs::read_to_string(&types).unwrap();
    let count = text.matches("\n#[non_exhaustive]\npub struct ").count();
    assert!(count > 10);
    fs::write(
        &types,
        text.replace("\n#[non_exhaustive]\npub struct ", "\npub struct "),
    )
    .unwrap();
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.starts_with(&format!("{} public API line(s)", count * 2)),
        "{message}"
    );

    // The attribute alone, or the module alone, is not enough; nor are both
    // in different entries.
    add_entry(&dir, "- Structs are `#[non_exhaustive]`.");
    public_api::check(&dir).unwrap_err();
    add_entry(&dir, "- New things in `types`.");
    public_api::check(&dir).unwrap_err();
    add_entry(
        &dir,
        "- No struct in `types` is `#[non_exhaustive]` any more: build them\n  with struct literals.",
    );
    public_api::check(&dir).unwrap();

    // The entry names the attribute, not everything else in the module.
    edit(
        &types,
        "impl NoAnswerSettings {\n",
        "impl NoAnswerSettings {\n    /// Whether it forwards.\n    pub fn forwards(&self) -> bool {\n        true\n    }\n",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains(
            "\n+ webex_calling::types::NoAnswerSettings::forwards: pub fn forwards(&self) -> bool\n"
        ),
        "{message}"
    );
    assert!(message.starts_with("1 public API line(s)"), "{message}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_removed_derive_fails_the_check() {
    let dir = scratch("derive");
    edit(
        &dir.join("sdk/src/generated/types.rs"),
        "#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default, PartialEq)]\n#[cfg_attr(feature = \"schemars\", derive(::schemars::JsonSchema))]\n#[non_exhaustive]\npub struct AgentNumber {",
        "#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default)]\n#[non_exhaustive]\npub struct AgentNumber {",
    );
    let message = public_api::check(&dir).unwrap_err();
    assert!(
        message.contains(
            "\n- webex_calling::types::AgentNumber: [feature = \"schemars\"] impl schemars::JsonSchema for webex_calling::types::AgentNumber\n\
             - webex_calling::types::AgentNumber: impl PartialEq for webex_calling::types::AgentNumber\n"
        ),
        "{message}"
    );
    // A trait and the module, in one entry, name a trait impl too.
    add_entry(
        &dir,
        "- `PartialEq` and `JsonSchema` are gone from `types::AgentNumber`.",
    );
    public_api::check(&dir).unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_trait_named_with_the_module_covers_its_impls_there() {
    let old = [
        "webex_calling::types: pub mod types".to_string(),
        "webex_calling::types::AgentType: impl Copy for webex_calling::types::AgentType"
            .to_string(),
    ];
    let new = &old[..1];
    let entry = |text: &str| format!("# Changelog\n\n## [Unreleased]\n\n### Changed\n{text}\n");
    let named = |text: &str| public_api::uncovered(&old, new, &entry(text)).is_empty();
    assert!(named("- Enums in `types` are no longer `Copy`."));
    assert!(named("- Enums in `webex_calling` are no longer `Copy`."));
    assert!(named("- `AgentType` is no longer `Copy`."));
    assert!(!named("- Enums are no longer `Copy`."));
    assert!(!named("- Enums in `types` are no longer copied."));
    assert!(!named("- Enums in `fake` are no longer `Copy`."));
    assert!(!named(
        "- Enums in `types` changed.\n- They are no longer `Copy`."
    ));
    assert!(!named("No entry names it."));
    // Without an [Unreleased] section nothing is named.
    assert!(!public_api::uncovered(&old, new, "# Changelog\n- `AgentType`\n").is_empty());
    // A module's name alone names nothing in it.
    assert!(!named("- `types` changed."));
}

#[test]
fn the_unreleased_section_is_read_as_entries_and_code_spans() {
    let changelog = "# Changelog\n\n- `Outside`\n\n## [Unreleased]\n\n### Added\n- `A` and\n  ``B::c()``.\n- `D`\n  * `E`, nested\n\nA paragraph with `F`.\n\n## [0.1.0] - 2020-01-01\n- `G`\n";
    let entries = public_api::unreleased_entries(changelog).unwrap();
    let spans: Vec<Vec<String>> = entries.iter().map(|e| public_api::code_spans(e)).collect();
    assert_eq!(
        spans,
        vec![
            vec![],
            vec!["A".to_string(), "B::c()".to_string()],
            vec!["D".to_string(), "E".to_string()],
            vec!["F".to_string()],
        ]
    );
    assert!(public_api::unreleased_entries("# Changelog\n").is_none());
}

#[test]
fn the_diff_puts_a_removed_line_before_the_added_one_that_replaces_it() {
    let old = vec![
        "c::A: pub fn a(x: u8)".to_string(),
        "c::B: pub struct B;".to_string(),
    ];
    let new = vec![
        "c::A: pub fn a(x: u16)".to_string(),
        "c::C: pub struct C;".to_string(),
    ];
    let lines: Vec<String> = public_api::diff(&old, &new)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "- c::A: pub fn a(x: u8)",
            "+ c::A: pub fn a(x: u16)",
            "- c::B: pub struct B;",
            "+ c::C: pub struct C;",
        ]
    );
}

#[test]
fn the_check_report_has_one_line_per_check_and_a_count() {
    let names: Vec<&str> = check::CHECKS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "spec",
            "generated",
            "examples",
            "docs",
            "types",
            "snapshots",
            "public API"
        ]
    );
    assert!(names.iter().all(|n| n.len() <= check::NAME_WIDTH));
    let outcomes: Vec<Outcome> = names
        .iter()
        .map(|&name| Outcome {
            name,
            result: if name == "public API" {
                Err("2 lines\n+ a\n- b".to_string())
            } else {
                Ok(format!("{name} is fine"))
            },
        })
        .collect();
    let (lines, result) = check::report(&outcomes);
    assert_eq!(lines.len(), names.len());
    assert_eq!(lines[0], "ok    spec       spec is fine");
    assert_eq!(lines[5], "ok    snapshots  snapshots is fine");
    assert_eq!(
        lines[6],
        "FAIL  public API 2 lines\n                 + a\n                 - b"
    );
    assert_eq!(result, Err("1 of 7 checks failed".to_string()));
    let passing: Vec<Outcome> = names
        .iter()
        .map(|&name| Outcome {
            name,
            result: Ok(String::new()),
        })
        .collect();
    assert_eq!(
        check::report(&passing).1,
        Ok("all 7 checks passed".to_string())
    );
}
