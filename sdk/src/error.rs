//! The one error type of the crate.

use std::fmt;
use std::time::Duration;

/// Everything a call can end with other than success.
///
/// Every variant's [`Display`](fmt::Display) is one sentence a person can act
/// on, and names the tracking ID whenever one exists: give it to Webex
/// support. The accessors ([`status`](Error::status),
/// [`tracking_id`](Error::tracking_id), [`is_retryable`](Error::is_retryable),
/// [`is_not_found`](Error::is_not_found), [`is_conflict`](Error::is_conflict),
/// [`error_code`](Error::error_code), [`attempts`](Error::attempts),
/// [`retry_after`](Error::retry_after)) work on every variant, so most
/// callers never need to match.
///
/// A variant with a cause ([`Transport`](Error::Transport),
/// [`TokenProvider`](Error::TokenProvider),
/// [`OutcomeUnknown`](Error::OutcomeUnknown)) returns it from
/// [`source`](std::error::Error::source) and leaves it out of its own
/// message, so a report that walks the chain (`anyhow`'s `{:#}`, `eyre`)
/// shows each cause once.
///
/// ```
/// # fn handle(error: webex_calling::Error) {
/// if error.is_not_found() {
///     eprintln!("gone, perhaps renamed: {error}");
/// } else if error.is_retryable() {
///     eprintln!("try again later: {error}");
/// } else {
///     eprintln!("{error}");
///     let mut cause = std::error::Error::source(&error);
///     while let Some(error) = cause {
///         eprintln!("  because: {error}");
///         cause = error.source();
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A parameter or the body broke a rule of the spec, or a setting of
    /// the call (its `budget` or `timeout`) is out of range. Nothing was
    /// sent.
    InvalidInput(InvalidInput),
    /// The client could not be built: no token, a base URL that is not
    /// allowed, a setting out of range.
    Config(String),
    /// The service answered with an error status.
    Api(Box<ApiError>),
    /// The service answered `429 Too Many Requests` and the call did not
    /// wait again: its time budget ran out, the wait asked for was longer
    /// than the budget had left, or its retry policy does not wait out a
    /// `429` ([`RetryPolicy::none`](crate::RetryPolicy::none)). [`ApiError::retry_after`] is the wait the last answer asked
    /// for, when it gave a usable one; [`ApiError::throttled`] and
    /// [`ApiError::waited`] say how many refusals the call saw and how long
    /// it waited.
    RateLimited(Box<ApiError>),
    /// The service answered with a redirect the client does not follow:
    /// one that would change the method (a `303`, or a `301`/`302` after
    /// which clients send a `GET`) or leave the base URL's origin.
    #[non_exhaustive]
    Redirect {
        /// The HTTP status of the answer.
        status: u16,
        /// The answer's `Location` header, if it had one.
        location: Option<String>,
        /// The tracking ID of the request.
        tracking_id: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// The last attempt failed in a way that leaves its outcome unknown (a
    /// `502`, a `504`, a timeout, or a connection lost once the request was
    /// written), and the request was not sent again because applying it
    /// twice is not safe: the spec declares it so, such as a call pickup
    /// update that renames the group. Check the service's state before
    /// trying again; `check` says what to look at.
    #[non_exhaustive]
    OutcomeUnknown {
        /// What ended the last attempt.
        source: Box<Error>,
        /// What to check before trying again.
        check: &'static str,
    },
    /// The request, or the whole call with its retries, ran out of time.
    /// With 0 attempts, the call's budget ran out before it could be sent,
    /// while it waited for its turn under the rate limiter or for a free slot.
    #[non_exhaustive]
    Timeout {
        /// Attempts made, the last one included.
        attempts: u32,
        /// Time spent on the call.
        elapsed: Duration,
        /// The tracking ID the client sent.
        tracking_id: String,
    },
    /// The request could not be sent or its answer not received.
    #[non_exhaustive]
    Transport {
        /// Attempts made, the last one included.
        attempts: u32,
        /// The tracking ID the client sent.
        tracking_id: String,
        /// The underlying failure.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The token provider (see
    /// [`ClientBuilder::token_provider`](crate::ClientBuilder::token_provider))
    /// gave no token, so the attempt was not sent: it failed, it returned a
    /// token that is empty or has characters not allowed in a header, or it
    /// did not answer before the call's time budget ran out. `source` says
    /// which, and is the provider's own error when it failed. The client
    /// cannot tell whether the provider would succeed later:
    /// [`is_retryable`](Error::is_retryable) is `false`.
    #[non_exhaustive]
    TokenProvider {
        /// Requests sent by earlier attempts of the call; 0 when nothing
        /// was sent.
        attempts: u32,
        /// The tracking ID of the call.
        tracking_id: String,
        /// The provider's error, or what was wrong with its token (never
        /// the token itself).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The service answered, but the body could not be read as expected,
    /// such as an HTML page from a gateway instead of a Webex error body.
    #[non_exhaustive]
    UnreadableResponse {
        /// The HTTP status of the answer.
        status: u16,
        /// The first bytes of the body, as text.
        snippet: String,
        /// Why it could not be read.
        reason: String,
        /// The tracking ID of the request.
        tracking_id: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// An operation that switches protocols (a WebSocket) was answered
    /// with a success status other than `101 Switching Protocols`: the
    /// service did not hand over the connection.
    #[non_exhaustive]
    NotUpgraded {
        /// The HTTP status of the answer.
        status: u16,
        /// The tracking ID of the request.
        tracking_id: String,
        /// Attempts made, the last one included.
        attempts: u32,
    },
}

impl Error {
    /// The HTTP status the service answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) | Error::RateLimited(api) => Some(api.status),
            Error::UnreadableResponse { status, .. }
            | Error::Redirect { status, .. }
            | Error::NotUpgraded { status, .. } => Some(*status),
            Error::OutcomeUnknown { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The tracking ID to give Webex support: the service's when it sent one,
    /// else the one the client sent. `None` when nothing was sent.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) | Error::RateLimited(api) => Some(&api.tracking_id),
            Error::Timeout { tracking_id, .. }
            | Error::Transport { tracking_id, .. }
            | Error::TokenProvider { tracking_id, .. }
            | Error::UnreadableResponse { tracking_id, .. }
            | Error::NotUpgraded { tracking_id, .. }
            | Error::Redirect { tracking_id, .. } => Some(tracking_id),
            Error::OutcomeUnknown { source, .. } => source.tracking_id(),
            Error::InvalidInput(_) | Error::Config(_) => None,
        }
    }

    /// Whether the same call may succeed if made again later. `false` when
    /// the outcome is unknown: check first (see [`Error::OutcomeUnknown`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => matches!(api.status, 423 | 502..=504),
            Error::RateLimited(_) | Error::Timeout { .. } => true,
            // A request that could not be built, or a redirect loop, fails the
            // same way every time.
            Error::Transport { source, .. } => !source
                .downcast_ref::<reqwest::Error>()
                .is_some_and(|e| e.is_builder() || e.is_redirect()),
            Error::UnreadableResponse { status, .. } => matches!(status, 423 | 429 | 502..=504),
            Error::InvalidInput(_)
            | Error::Config(_)
            | Error::TokenProvider { .. }
            | Error::Redirect { .. }
            | Error::NotUpgraded { .. }
            | Error::OutcomeUnknown { .. } => false,
        }
    }

    /// Whether the service answered `404 Not Found`: the location or group
    /// does not exist, or no longer does (a renamed call pickup has a new
    /// ID).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether the service answered `409 Conflict`, such as a call pickup
    /// renamed to a name its location already uses.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// Webex's `errorCode` of the error answer, when its body had one (see
    /// [`ApiError::error_code`]).
    pub fn error_code(&self) -> Option<i64> {
        match self {
            Error::Api(api) | Error::RateLimited(api) => api.error_code,
            Error::OutcomeUnknown { source, .. } => source.error_code(),
            _ => None,
        }
    }

    /// Whether the last attempt may or may not have been applied, and the
    /// request was not sent again (see [`Error::OutcomeUnknown`]).
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// How many attempts were made; 0 when nothing was sent.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api(api) | Error::RateLimited(api) => api.attempts,
            Error::Timeout { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::TokenProvider { attempts, .. }
            | Error::UnreadableResponse { attempts, .. }
            | Error::NotUpgraded { attempts, .. }
            | Error::Redirect { attempts, .. } => *attempts,
            Error::OutcomeUnknown { source, .. } => source.attempts(),
            Error::InvalidInput(_) | Error::Config(_) => 0,
        }
    }

    /// The `Retry-After` of the last answer, when it carried a usable one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) | Error::RateLimited(api) => api.retry_after,
            Error::OutcomeUnknown { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// This error, saying why a call refused for rate stopped.
    pub(crate) fn gave_up(mut self, why: GaveUp) -> Self {
        if let Error::RateLimited(api) = &mut self {
            api.gave_up = Some(why);
        }
        self
    }

    /// What kind of error this is, for the `error.type` of a trace: the
    /// status when the service answered with one, else a short name.
    pub(crate) fn type_name(&self) -> String {
        match self {
            Error::Api(api) | Error::RateLimited(api) => api.status.to_string(),
            Error::UnreadableResponse { status, .. }
            | Error::Redirect { status, .. }
            | Error::NotUpgraded { status, .. } => status.to_string(),
            Error::OutcomeUnknown { source, .. } => source.type_name(),
            Error::InvalidInput(_) => "invalid_input".into(),
            Error::Config(_) => "config".into(),
            Error::Timeout { .. } => "timeout".into(),
            Error::Transport { .. } => "transport".into(),
            Error::TokenProvider { .. } => "token_provider".into(),
        }
    }

    /// Counts `attempts` attempts, for an error carried over from an earlier
    /// attempt to the end of the call.
    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        match self {
            Error::Api(api) | Error::RateLimited(api) => api.attempts = attempts,
            Error::Timeout { attempts: n, .. }
            | Error::Transport { attempts: n, .. }
            | Error::TokenProvider { attempts: n, .. }
            | Error::UnreadableResponse { attempts: n, .. }
            | Error::NotUpgraded { attempts: n, .. }
            | Error::Redirect { attempts: n, .. } => *n = attempts,
            Error::OutcomeUnknown { source, .. } => source.set_attempts(attempts),
            Error::InvalidInput(_) | Error::Config(_) => {}
        }
    }

    /// The broken rules, when the request was refused before sending.
    pub fn invalid_input(&self) -> Option<&InvalidInput> {
        match self {
            Error::InvalidInput(input) => Some(input),
            _ => None,
        }
    }
}

fn attempts_text(attempts: u32) -> String {
    if attempts == 1 {
        "after 1 attempt".to_string()
    } else {
        format!("after {attempts} attempts")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(input) => write!(f, "{input}"),
            Error::Config(message) => write!(f, "the Webex client is misconfigured: {message}"),
            Error::Api(api) => write!(f, "{api}"),
            Error::RateLimited(api) => {
                let refusals = api.throttled.max(1);
                write!(
                    f,
                    "Webex refused the call for rate {} ({} {}",
                    if refusals == 1 {
                        "once".to_string()
                    } else {
                        format!("{refusals} times")
                    },
                    api.status,
                    reason(api.status),
                )?;
                if let Some(message) = &api.message {
                    write!(f, ": {message}")?;
                }
                f.write_str(")")?;
                let asked = api
                    .retry_after
                    .map(|wait| format!("; its last answer asked to wait {} s", wait.as_secs()))
                    .unwrap_or_default();
                match api.gave_up {
                    Some(GaveUp::DoesNotWait) => write!(
                        f,
                        "{asked}, and the call's retry policy does not wait out a refusal for rate (`RetryPolicy::none`), so it ended at once; use a policy that waits, or slow the job down"
                    )?,
                    Some(GaveUp::WaitPastBudget) => write!(
                        f,
                        " and the call waited {:.1} s in all{asked}, longer than the call's time budget had left; slow the job down or raise `RetryPolicy::budget`",
                        api.waited.as_secs_f64()
                    )?,
                    Some(GaveUp::BudgetSpent) | None => write!(
                        f,
                        " and the call's time budget ran out after it waited {:.1} s in all{asked}; slow the job down or raise `RetryPolicy::budget`",
                        api.waited.as_secs_f64()
                    )?,
                }
                write!(f, " (tracking ID {})", api.tracking_id)
            }
            Error::Redirect {
                status,
                location,
                tracking_id,
                ..
            } => {
                write!(f, "Webex answered {status} {}", reason(*status))?;
                match location {
                    Some(location) => write!(f, " redirecting to {location:?}")?,
                    None => f.write_str(" with no Location")?,
                }
                write!(
                    f,
                    ", which is not followed: it would change the request's method or leave the base URL's host; check the base URL (tracking ID {tracking_id})"
                )
            }
            Error::OutcomeUnknown { source, check } => {
                f.write_str(
                    "the call may or may not have taken effect, and it was not sent again because applying it twice is not safe",
                )?;
                if let Some(status) = source.status() {
                    write!(
                        f,
                        " (its last attempt was answered {status} {})",
                        reason(status)
                    )?;
                }
                write!(f, "; {check}")?;
                match source.tracking_id() {
                    Some(id) => write!(f, " (tracking ID {id})"),
                    None => Ok(()),
                }
            }
            Error::Timeout {
                attempts: 0,
                elapsed,
                tracking_id,
            } => write!(
                f,
                "the call to Webex was not sent: its time budget ran out after {} ms waiting for its turn under the rate limiter or a free request slot; raise the retry budget or `max_in_flight` (tracking ID {tracking_id})",
                elapsed.as_millis()
            ),
            Error::Timeout {
                attempts,
                elapsed,
                tracking_id,
            } => write!(
                f,
                "the call to Webex timed out {} ({} ms in all); check connectivity or raise the timeouts (tracking ID {tracking_id})",
                attempts_text(*attempts),
                elapsed.as_millis()
            ),
            Error::Transport {
                attempts,
                tracking_id,
                source,
            } => {
                // What failed, in words of this crate; the cause itself is
                // the source.
                let failure = source.downcast_ref::<reqwest::Error>();
                let what = if failure.is_some_and(reqwest::Error::is_redirect) {
                    "Webex redirected the call too many times; check the base URL"
                } else if failure.is_some_and(reqwest::Error::is_builder) {
                    "the request to Webex could not be built; check the base URL"
                } else if failure.is_some_and(reqwest::Error::is_connect) {
                    "could not connect to Webex; check connectivity, the base URL and any proxy"
                } else {
                    "the connection to Webex failed before an answer arrived; check connectivity"
                };
                write!(
                    f,
                    "{what} ({}, tracking ID {tracking_id})",
                    attempts_text(*attempts)
                )
            }
            Error::TokenProvider {
                attempts: 0,
                tracking_id,
                ..
            } => write!(
                f,
                "the token provider gave no token, so nothing was sent to Webex (tracking ID {tracking_id})"
            ),
            Error::TokenProvider {
                attempts,
                tracking_id,
                ..
            } => write!(
                f,
                "the token provider gave no token, so the call to Webex ended {} (tracking ID {tracking_id})",
                attempts_text(*attempts),
            ),
            Error::UnreadableResponse {
                status,
                snippet,
                reason: why,
                tracking_id,
                ..
            } => write!(
                f,
                "Webex answered {status} {} with a body that could not be read ({why}): {snippet:?} (tracking ID {tracking_id})",
                reason(*status)
            ),
            Error::NotUpgraded {
                status,
                tracking_id,
                ..
            } => write!(
                f,
                "Webex answered {status} {} where it should have switched protocols (101 Switching Protocols), so no connection was handed over (tracking ID {tracking_id})",
                reason(*status)
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } | Error::TokenProvider { source, .. } => {
                Some(source.as_ref())
            }
            Error::OutcomeUnknown { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The reason phrase of a status, for messages.
pub(crate) fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// An error answer from the service.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Webex's `message`, if the body had one.
    pub message: Option<String>,
    /// Every `errors[].description` of the body.
    pub details: Vec<String>,
    /// Webex's `errorCode`: the body's own, else the first of its
    /// `errors[]` that has one. Webex documents what each code means.
    pub error_code: Option<i64>,
    /// The service's `trackingId` (from the body, else the response
    /// headers), else the one the client sent.
    pub tracking_id: String,
    /// Attempts made, the last one included.
    pub attempts: u32,
    /// The `Retry-After` of this answer, when it carried a usable one.
    pub retry_after: Option<Duration>,
    /// How many `429` answers the call saw, this one included.
    pub throttled: u32,
    /// How long the call waited for its turn: `Retry-After`s, the client's
    /// pace and free request slots.
    pub waited: Duration,
    /// Why a call refused for rate stopped, for its message.
    pub(crate) gave_up: Option<GaveUp>,
}

/// Why a call refused for rate ended rather than waiting again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GaveUp {
    /// Its retry policy does not wait out a `429`.
    DoesNotWait,
    /// The wait asked for would have ended past its time budget.
    WaitPastBudget,
    /// Its time budget ran out while it waited or was being answered.
    BudgetSpent,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Webex answered {} {}", self.status, reason(self.status))?;
        let mut said = Vec::new();
        if let Some(message) = &self.message {
            said.push(message.as_str());
        }
        for detail in &self.details {
            if Some(detail) != self.message.as_ref() {
                said.push(detail.as_str());
            }
        }
        if !said.is_empty() {
            write!(f, ": {}", said.join("; "))?;
        }
        if self.attempts > 1 {
            write!(f, " {}", attempts_text(self.attempts))?;
        }
        if self.status == 423 {
            f.write_str("; the resource is locked by another change, try again later")?;
        }
        write!(f, " (tracking ID {})", self.tracking_id)
    }
}

/// One broken rule: where, and which rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    path: String,
    rule: String,
}

impl Violation {
    pub(crate) fn new(path: String, rule: String) -> Self {
        Self { path, rule }
    }

    /// The field path in the request's JSON names, such as
    /// `callPolicies.noAnswer.numberOfRings` or `agents[2].weight`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The rule that was broken, such as `at most 10 items, got 11`.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.rule)
        } else {
            write!(f, "{}: {}", self.path, self.rule)
        }
    }
}

/// Every rule a request broke. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    violations: Vec<Violation>,
}

impl InvalidInput {
    pub(crate) fn new(violations: Vec<Violation>) -> Self {
        Self { violations }
    }

    /// The broken rules, in the order they were found (at least one).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request, nothing was sent: ")?;
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}
