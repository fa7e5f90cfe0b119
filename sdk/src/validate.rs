//! The rule checks that generated `Validate` impls call.
//!
//! Paths are built lazily as a chain of borrowed frames, so a valid request
//! allocates nothing here but the matcher's state of a `pattern` check;
//! text is only made for a broken rule.

use std::fmt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::error::{Error, InvalidInput, Violation};

/// Where a value sits in a request, as a chain of frames.
#[derive(Clone, Copy, Debug)]
pub enum Path<'a> {
    /// The request itself (its body's top level).
    Root,
    /// A named field of the parent.
    Field(&'a Path<'a>, &'static str),
    /// An item of the parent list.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The field `name` below this path.
    pub fn field(&'a self, name: &'static str) -> Path<'a> {
        Path::Field(self, name)
    }

    /// The list item `index` below this path.
    pub fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The rules of one generated type, implemented by generated code. The
/// trait is public only inside this private module, which seals
/// [`Validate`].
pub trait Rules {
    /// Records every broken rule of `self`, which sits at `at`.
    fn check(&self, at: &Path<'_>, out: &mut Violations);
}

/// A type that holds itself (a tree) does so through a box, with the
/// rules of what it holds.
impl<T: Rules + ?Sized> Rules for Box<T> {
    fn check(&self, at: &Path<'_>, out: &mut Violations) {
        (**self).check(at, out);
    }
}

/// Checks a value against every rule of the spec, as `send()` does before
/// sending. Implemented by every request and response type.
///
/// ```
/// use webex_calling::Validate;
/// use webex_calling::types::UpdateCallPickupRequest;
///
/// let body = UpdateCallPickupRequest::new().name("x".repeat(81));
/// let error = body.validate().unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "invalid request, nothing was sent: name: at most 80 characters, got 81"
/// );
/// ```
pub trait Validate: Rules {
    /// `Ok` when no rule is broken, else every broken rule with its path.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] listing every broken rule.
    fn validate(&self) -> Result<(), Error> {
        let mut violations = Violations::default();
        self.check(&Path::Root, &mut violations);
        violations.into_result()
    }
}

impl<T: Rules> Validate for T {}

/// A pattern from the spec, compiled on first use.
///
/// OpenAPI takes a `pattern` to be an ECMA-262 regular expression, so it is
/// compiled by `regress`, an ECMA-262 engine (the one progenitor's types
/// use): look-around and back-references mean what they mean in
/// JavaScript, and a value matches when the pattern matches anywhere in it
/// (anchors are the pattern's own). Like JavaScript's engines, `regress`
/// backtracks: a pattern with nested repetition (`(a+)+$`) takes time
/// exponential in the length of a value it refuses, so a spec's patterns
/// should not nest repetition.
pub struct Pattern {
    source: &'static str,
    rule: Option<&'static str>,
    compiled: OnceLock<Option<regress::Regex>>,
}

impl Pattern {
    /// A pattern that compiles when first checked, and the rule it states in
    /// words (the spec's `x-pattern-rule`), which a broken pattern is
    /// reported with when there is one.
    pub const fn new(source: &'static str, rule: Option<&'static str>) -> Self {
        Self {
            source,
            rule,
            compiled: OnceLock::new(),
        }
    }

    fn is_match(&self, value: &str) -> bool {
        // The generator refuses patterns `regress` cannot compile, so a
        // failure to compile cannot happen; if it did, the value is refused
        // rather than sent unchecked.
        self.compiled
            .get_or_init(|| regress::Regex::new(self.source).ok())
            .as_ref()
            .is_some_and(|re| re.find(value).is_some())
    }
}

/// The broken rules found so far.
#[derive(Debug, Default)]
pub struct Violations {
    list: Vec<Violation>,
}

impl Violations {
    fn push(&mut self, at: &Path<'_>, rule: String) {
        self.list.push(Violation::new(at.to_string(), rule));
    }

    /// Passes a required builder field through, recording that it is
    /// required when it was not set.
    pub fn require<T>(&mut self, at: &Path<'_>, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.push(at, "is required".to_string());
        }
        value
    }

    /// `minLength` and `maxLength`, counted in characters.
    pub fn length(&mut self, at: &Path<'_>, value: &str, min: Option<usize>, max: Option<usize>) {
        // Bytes bound characters from above: only count when it matters.
        if max.is_none_or(|max| value.len() <= max) && min.is_none_or(|min| value.len() >= min * 4)
        {
            return;
        }
        let count = value.chars().count();
        if let Some(min) = min
            && count < min
        {
            let unit = if min == 1 { "character" } else { "characters" };
            self.push(at, format!("at least {min} {unit}, got {count}"));
        }
        if let Some(max) = max
            && count > max
        {
            self.push(at, format!("at most {max} characters, got {count}"));
        }
    }

    /// `minItems` and `maxItems`.
    pub fn items(&mut self, at: &Path<'_>, len: usize, min: Option<usize>, max: Option<usize>) {
        if let Some(min) = min
            && len < min
        {
            self.push(at, format!("at least {min} items, got {len}"));
        }
        if let Some(max) = max
            && len > max
        {
            self.push(at, format!("at most {max} items, got {len}"));
        }
    }

    /// `minimum` and `maximum`, both inclusive.
    pub fn range(
        &mut self,
        at: &Path<'_>,
        value: impl Into<i64>,
        min: Option<i64>,
        max: Option<i64>,
    ) {
        self.bounds(at, value.into(), min, max);
    }

    /// `minimum` and `maximum` of a number, both inclusive.
    pub fn number_range(&mut self, at: &Path<'_>, value: f64, min: Option<f64>, max: Option<f64>) {
        self.bounds(at, value, min, max);
    }

    fn bounds<T: PartialOrd + fmt::Display>(
        &mut self,
        at: &Path<'_>,
        value: T,
        min: Option<T>,
        max: Option<T>,
    ) {
        if let Some(min) = min
            && value < min
        {
            self.push(at, format!("at least {min}, got {value}"));
        }
        if let Some(max) = max
            && value > max
        {
            self.push(at, format!("at most {max}, got {value}"));
        }
    }

    /// `pattern`.
    pub fn pattern(&mut self, at: &Path<'_>, value: &str, pattern: &Pattern) {
        if !pattern.is_match(value) {
            let rule = match pattern.rule {
                Some(rule) => format!("{rule}, got {value:?}"),
                None => format!("must match `{}`, got {value:?}", pattern.source),
            };
            self.push(at, rule);
        }
    }

    /// A header parameter's value must be one HTTP allows: no control
    /// character but tab.
    pub fn header_value(&mut self, at: &Path<'_>, value: &str) {
        if value.bytes().any(|b| (b < 32 && b != b'\t') || b == 127) {
            self.push(
                at,
                "must not contain control characters, which a header cannot carry".to_string(),
            );
        }
    }

    /// A path parameter must be exactly one URL segment.
    pub fn path_segment(&mut self, at: &Path<'_>, value: &str) {
        if value == "." || value == ".." {
            self.push(
                at,
                format!("must not be {value:?}, which a URL would resolve away"),
            );
        }
    }

    /// A value of an enum that the spec does not list: it may be read, but
    /// it is never sent.
    pub fn unknown_value(&mut self, at: &Path<'_>, value: &str, known: &[&str]) {
        let known: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        self.push(
            at,
            format!(
                "unknown variant `{value}`, expected one of {}",
                known.join(", ")
            ),
        );
    }

    /// The error for a request that cannot be sent: the rules broken so
    /// far, which name every field that was not set.
    pub fn into_error(self) -> Error {
        Error::InvalidInput(InvalidInput::new(self.list))
    }

    /// `Ok` when no rule was broken.
    pub fn into_result(self) -> Result<(), Error> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidInput(InvalidInput::new(self.list)))
        }
    }
}

/// Parses a request body from JSON and checks it against every rule of the
/// spec, naming the field path of each problem.
///
/// Use it for bodies that come from configuration or another service; bodies
/// built in Rust are checked by `send()` anyway.
///
/// It is strict where reading an answer is lenient: a field the type does
/// not have (a typo such as `notificationTyp`) is a problem, not a silent
/// no-op. Names a field is also read under (an alias) are fields of the
/// type. Every unknown field and every broken rule is reported at once, in
/// the order found; a value that cannot be read at all (a wrong JSON type,
/// an unknown enum value, a missing required field) stops the parse, and is
/// reported after the unknown fields met before it.
///
/// ```
/// use webex_calling::types::{CallPickupNotificationType, UpdateCallPickupRequest};
///
/// let body = webex_calling::parse_body::<UpdateCallPickupRequest>(r#"{
///   "name": "South Alaska-Group",
///   "notificationType": "AUDIO_ONLY",
///   "notificationDelayTimerSeconds": 20,
///   "agents": [
///     "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTUwMDk1YS1mZjlmLTExZWItODA2NS04ZjhkOWIxNmIzOTQ",
///     "Y2lzY29zcGFyazovL3VzL1BMQUNFLzg0YjQ1OTIyLWZmOWYtMTFlYi1hNGI4LTMzNjI3YmVkNjdiNQ",
///     "Y2lzY29zcGFyazovL3VzL1ZJUlRVQUxfTElORS85ODFlNTQ0Yy0xOGI0LTQ2MzItYmFkZi1iYWMwZjFkOGJkYWY="
///   ]
/// }"#)?;
/// assert_eq!(body.notification_type, Some(CallPickupNotificationType::AudioOnly));
///
/// let typo = webex_calling::parse_body::<UpdateCallPickupRequest>(
///     "{\"notificationTyp\": \"AUDIO_ONLY\", \"name\": \"\"}",
/// )
/// .unwrap_err();
/// assert_eq!(
///     typo.to_string(),
///     "invalid request, nothing was sent: \
///      notificationTyp: is not a field of UpdateCallPickupRequest; \
///      name: at least 1 character, got 0"
/// );
/// # Ok::<(), webex_calling::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidInput`] when the JSON has a field the type does not
/// have, does not fit the type (unknown enum value, missing required field,
/// wrong JSON type, text after the value) or breaks a rule.
pub fn parse_body<T: DeserializeOwned + Validate>(json: &str) -> Result<T, Error> {
    let mut violations = Violations::default();
    let mut unknown = |path: serde_ignored::Path<'_>| {
        violations.list.push(Violation::new(
            IgnoredPath(&path).to_string(),
            format!(
                "is not a field of {}",
                short_type_name(std::any::type_name::<T>())
            ),
        ));
    };
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let mut track = serde_path_to_error::Track::new();
    let parsed = T::deserialize(serde_ignored::Deserializer::new(
        serde_path_to_error::Deserializer::new(&mut deserializer, &mut track),
        &mut unknown,
    ));
    let (path, error) = match parsed {
        Ok(value) => match deserializer.end() {
            Ok(()) => {
                value.check(&Path::Root, &mut violations);
                return violations.into_result().map(|()| value);
            }
            // Text after the value.
            Err(e) => (String::new(), e),
        },
        Err(e) => {
            let path = track.path().to_string();
            (if path == "." { String::new() } else { path }, e)
        }
    };
    violations
        .list
        .push(Violation::new(path, error.to_string()));
    Err(violations.into_error())
}

/// A path from `serde_ignored` in the format of [`Path`]: `a.b[0].c`.
struct IgnoredPath<'a>(&'a serde_ignored::Path<'a>);

impl fmt::Display for IgnoredPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            serde_ignored::Path::Root => Ok(()),
            serde_ignored::Path::Seq { parent, index } => {
                write!(f, "{}[{index}]", IgnoredPath(parent))
            }
            serde_ignored::Path::Map { parent, key } => match parent {
                serde_ignored::Path::Root => f.write_str(key),
                _ => write!(f, "{}.{key}", IgnoredPath(parent)),
            },
            // An `Option` or a newtype is no step in the JSON.
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => IgnoredPath(parent).fmt(f),
        }
    }
}

/// A type's name without its module paths: `Vec<UpdateHuntGroupRequest>`
/// for `alloc::vec::Vec<webex_calling::types::UpdateHuntGroupRequest>`.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut start = 0;
    let last = |segment: &str| segment.rsplit("::").next().unwrap_or(segment).to_string();
    for (i, c) in full.char_indices() {
        if matches!(c, '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | '&' | ';') {
            out.push_str(&last(&full[start..i]));
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    out.push_str(&last(&full[start..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_lose_their_module_paths_but_keep_their_shape() {
        assert_eq!(
            short_type_name("webex_calling::generated::types::UpdateHuntGroupRequest"),
            "UpdateHuntGroupRequest"
        );
        assert_eq!(
            short_type_name(
                "alloc::vec::Vec<core::option::Option<webex_calling::types::HuntGroupAgent>>"
            ),
            "Vec<Option<HuntGroupAgent>>"
        );
        assert_eq!(
            short_type_name("(a::B, &c::D, [e::F; 2])"),
            "(B, &D, [F; 2])"
        );
        assert_eq!(short_type_name("u32"), "u32");
    }

    #[test]
    fn ignored_paths_are_written_like_rule_paths() {
        use serde_ignored::Path as Ignored;
        let root = Ignored::Root;
        let agents = Ignored::Map {
            parent: &root,
            key: "agents".into(),
        };
        let some = Ignored::Some { parent: &agents };
        let item = Ignored::Seq {
            parent: &some,
            index: 2,
        };
        let weigth = Ignored::Map {
            parent: &item,
            key: "weigth".into(),
        };
        assert_eq!(IgnoredPath(&weigth).to_string(), "agents[2].weigth");
        assert_eq!(IgnoredPath(&agents).to_string(), "agents");
        let rule_root = Path::Root;
        let rule_agents = rule_root.field("agents");
        let rule_item = rule_agents.index(2);
        assert_eq!(
            rule_item.field("weigth").to_string(),
            IgnoredPath(&weigth).to_string()
        );
    }

    fn broken(pattern: &Pattern, value: &str) -> Vec<String> {
        let mut out = Violations::default();
        out.pattern(&Path::Root.field("code"), value, pattern);
        out.list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn patterns_follow_ecma_262_look_around_and_back_references_included() {
        // Look-ahead: must start with a letter, then letters and digits.
        let ahead = Pattern::new("^(?=[A-Z])[A-Z0-9]+$", None);
        assert!(broken(&ahead, "A1").is_empty());
        assert_eq!(
            broken(&ahead, "1A"),
            ["code: must match `^(?=[A-Z])[A-Z0-9]+$`, got \"1A\""]
        );
        // Negative look-ahead.
        let not_admin = Pattern::new("^(?!admin$)[a-z]+$", None);
        assert!(broken(&not_admin, "administrator").is_empty());
        assert_eq!(broken(&not_admin, "admin").len(), 1);
        // Look-behind, positive and negative.
        let after_plus = Pattern::new("(?<=\\+)1\\d{3}$", None);
        assert!(broken(&after_plus, "+1555").is_empty());
        assert_eq!(broken(&after_plus, "01555").len(), 1);
        let no_dollar = Pattern::new("^(?<!\\$)\\d+$", None);
        assert!(broken(&no_dollar, "42").is_empty());
        // A back-reference: the same quote on both sides.
        let quoted = Pattern::new("^(['\"]).*\\1$", None);
        assert!(broken(&quoted, "'a'").is_empty());
        assert!(broken(&quoted, "\"a\"").is_empty());
        assert_eq!(broken(&quoted, "'a\"").len(), 1);
        // A named group and its back-reference.
        let twice = Pattern::new("^(?<w>[a-z]+)-\\k<w>$", None);
        assert!(broken(&twice, "ab-ab").is_empty());
        assert_eq!(broken(&twice, "ab-ba").len(), 1);
    }

    #[test]
    fn a_pattern_matches_anywhere_in_the_value_unless_it_is_anchored() {
        let digit = Pattern::new("[0-9]", None);
        assert!(broken(&digit, "room 7").is_empty());
        assert_eq!(broken(&digit, "room").len(), 1);
    }

    #[test]
    fn a_pattern_that_does_not_compile_refuses_every_value() {
        // An inline flag group is not ECMA-262; the generator refuses such a
        // pattern, and were one to reach the runtime, nothing passes it.
        for source in ["(?i)abc", "^[a-z", "a{2,1}"] {
            assert!(
                regress::Regex::new(source).is_err(),
                "{source} compiles, so it tests nothing here"
            );
            let pattern = Pattern::new(source, Some("must be a code"));
            assert_eq!(
                broken(&pattern, "abc"),
                ["code: must be a code, got \"abc\""]
            );
            assert_eq!(broken(&pattern, "").len(), 1);
        }
    }

    #[test]
    fn the_specs_own_patterns_accept_and_refuse_what_they_did() {
        use crate::Validate;
        use crate::types::{HuntGroupAgent, UpdateHuntGroupRequest};
        let weight = |w: &str| HuntGroupAgent::new("a1").weight(w).validate();
        for good in ["0", "7", "42", "99", "100"] {
            assert!(weight(good).is_ok(), "weight {good:?} was refused");
        }
        for bad in [
            "", "00", "07", "101", "1000", "-1", "5.0", " 5", "5\n", "١٢",
        ] {
            let error = weight(bad).expect_err(bad);
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid request, nothing was sent: weight: must be a whole number from \"0\" to \"100\", without leading zeros, got {bad:?}"
                )
            );
        }
        let dial = |name: &str| UpdateHuntGroupRequest::new().dial_by_name(name).validate();
        for good in [
            "",
            "Sales Team",
            "A-Z (main) #1 & co.",
            "~!'*,;<=>?@[]^_`{|}",
        ] {
            assert!(dial(good).is_ok(), "dialByName {good:?} was refused");
        }
        for bad in [
            "50%",
            "a+b",
            "back\\slash",
            "say \"hi\"",
            "tab\there",
            "café",
            "line\n",
        ] {
            let error = dial(bad).expect_err(bad);
            assert!(
                error.to_string().contains(&format!(
                    "dialByName: may contain only printable ASCII characters, and none of `%`, `+`, `\\` and `\"`, got {bad:?}"
                )),
                "{error}"
            );
        }
    }
}
