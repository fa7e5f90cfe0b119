//! The rule checks that generated `Validate` impls call.
//!
//! Paths are built lazily as a chain of borrowed frames, so a valid request
//! allocates nothing here; text is only made for a broken rule.

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
pub struct Pattern {
    source: &'static str,
    rule: Option<&'static str>,
    compiled: OnceLock<Option<regex_lite::Regex>>,
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
        // The generator refuses patterns outside the supported syntax, so a
        // failure to compile cannot happen; if it did, the value is refused
        // rather than sent unchecked.
        self.compiled
            .get_or_init(|| regex_lite::Regex::new(self.source).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(value))
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
    pub fn range(&mut self, at: &Path<'_>, value: i64, min: Option<i64>, max: Option<i64>) {
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
/// spec, naming the field path of the first problem.
///
/// Use it for bodies that come from configuration or another service; bodies
/// built in Rust are checked by `send()` anyway.
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
/// # Ok::<(), webex_calling::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidInput`] when the JSON does not fit the type (unknown enum
/// value, missing required field, wrong JSON type) or breaks a rule.
pub fn parse_body<T: DeserializeOwned + Validate>(json: &str) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Error::InvalidInput(InvalidInput::new(vec![Violation::new(
            path,
            e.into_inner().to_string(),
        )]))
    })?;
    value.validate()?;
    Ok(value)
}
