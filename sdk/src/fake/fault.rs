//! Scripted misbehaviour: what the fake does instead of, or before,
//! answering a request normally.

use std::time::Duration;

/// One scripted misbehaviour, consumed by the next request the fake
/// receives, or the next one it is aimed at.
///
/// Queue them with [`FakeWebex::push_fault`](super::FakeWebex::push_fault):
/// each request takes the oldest fault in the queue that applies to it, and
/// requests that find none are answered normally. A fault applies to every
/// request unless [`on_operation`](Fault::on_operation) or
/// [`on_request`](Fault::on_request) aims it. A fault applies whatever the
/// request is, before the token is checked and before any
/// [`RateLimit`](super::RateLimit): a request it answers leaves the state
/// and the rate limit's buckets untouched, unless the fault was made with
/// [`after_applying`](Fault::after_applying).
///
/// ```
/// use std::time::Duration;
/// use webex_calling::fake::Fault;
///
/// // Rate limited for one second, then locked, then a gateway's HTML page,
/// // then a connection closed without an answer, then a slow success, then
/// // an update that is applied although the client gets a 502.
/// let script = [
///     Fault::too_many_requests("1"),
///     Fault::locked("0"),
///     Fault::status(502).body("text/html", "<html><body>Bad Gateway</body></html>"),
///     Fault::drop_connection(),
///     Fault::delay(Duration::from_millis(200)),
///     Fault::status(502).after_applying(),
/// ];
/// # let _ = script;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub(crate) wait: Duration,
    pub(crate) action: Action,
    /// Handle the request normally before acting.
    pub(crate) after_applying: bool,
    /// The requests the fault applies to; every request when `None`.
    pub(crate) target: Option<Target>,
}

/// Which requests an aimed fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Requests the spec routes to this operation.
    Operation(String),
    /// Requests with this method whose path, as sent, starts with this.
    Request { method: String, path: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Answer with this instead of handling the request.
    Answer {
        status: u16,
        retry_after: Option<String>,
        body: FaultBody,
    },
    /// Close the connection without answering.
    Drop,
    /// Handle the request normally.
    Proceed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FaultBody {
    /// A Webex-shaped error body.
    Webex,
    /// These bytes, with this content type if any.
    Raw {
        content_type: Option<String>,
        text: String,
    },
}

impl Fault {
    /// Answers `status` with a Webex-shaped error body (`message`,
    /// `errors[].description` and `trackingId`), without handling the
    /// request. A number that is not an HTTP status answers `500`.
    pub fn status(status: u16) -> Self {
        Self {
            wait: Duration::ZERO,
            action: Action::Answer {
                status,
                retry_after: None,
                body: FaultBody::Webex,
            },
            after_applying: false,
            target: None,
        }
    }

    /// `429 Too Many Requests` with this `Retry-After` value, sent as given
    /// (delta-seconds, an HTTP-date, or anything else).
    pub fn too_many_requests(retry_after: impl Into<String>) -> Self {
        Self::status(429).retry_after(retry_after)
    }

    /// `423 Locked` with this `Retry-After` value, sent as given.
    pub fn locked(retry_after: impl Into<String>) -> Self {
        Self::status(423).retry_after(retry_after)
    }

    /// Waits `wait`, then handles the request normally.
    pub fn delay(wait: Duration) -> Self {
        Self {
            wait,
            action: Action::Proceed,
            after_applying: false,
            target: None,
        }
    }

    /// Reads the request, then closes the connection without answering.
    pub fn drop_connection() -> Self {
        Self {
            wait: Duration::ZERO,
            action: Action::Drop,
            after_applying: false,
            target: None,
        }
    }

    /// Adds a `Retry-After` header to the answer, sent as given. No effect
    /// on [`delay`](Fault::delay) and [`drop_connection`](Fault::drop_connection).
    #[must_use]
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let Action::Answer { retry_after, .. } = &mut self.action {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Answers with this body and content type instead of a Webex-shaped
    /// one, such as a gateway's HTML page. No effect on
    /// [`delay`](Fault::delay) and [`drop_connection`](Fault::drop_connection).
    #[must_use]
    pub fn body(mut self, content_type: impl Into<String>, text: impl Into<String>) -> Self {
        if let Action::Answer { body, .. } = &mut self.action {
            *body = FaultBody::Raw {
                content_type: Some(content_type.into()),
                text: text.into(),
            };
        }
        self
    }

    /// Answers with no body at all. No effect on [`delay`](Fault::delay)
    /// and [`drop_connection`](Fault::drop_connection).
    #[must_use]
    pub fn empty_body(mut self) -> Self {
        if let Action::Answer { body, .. } = &mut self.action {
            *body = FaultBody::Raw {
                content_type: None,
                text: String::new(),
            };
        }
        self
    }

    /// Handles the request normally first, then answers with the fault
    /// instead of the real answer: the update is applied (a call pickup
    /// renamed by it has its new ID, and the old one answers `404` from
    /// then on) but the client gets the fault, as when Webex applies an
    /// update and a gateway then fails or the connection is lost. A request
    /// that would not have been applied (a `400`, a `404`, a `429` from the
    /// [`RateLimit`](super::RateLimit)) still changes nothing. With
    /// [`delay`](Fault::delay) this is just the delay.
    ///
    /// ```
    /// use webex_calling::fake::Fault;
    ///
    /// // The update lands; the client sees a 502, then a lost connection.
    /// let script = [
    ///     Fault::status(502).after_applying(),
    ///     Fault::drop_connection().after_applying(),
    /// ];
    /// # let _ = script;
    /// ```
    #[must_use]
    pub fn after_applying(mut self) -> Self {
        self.after_applying = true;
        self
    }

    /// Applies the fault only to a request for the operation with this
    /// `operationId` in the spec (such as `"updateCallPickup"`); other
    /// requests pass it by and leave it queued.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use webex_calling::fake::{FakeWebex, Fault, fixtures};
    ///
    /// let fake = FakeWebex::start().await;
    /// fake.push_fault(Fault::status(503).on_operation("updateHuntGroup"));
    /// // A read passes the fault by; it waits for the update.
    /// let read = fake
    ///     .client()
    ///     .get_hunt_group()
    ///     .location_id(fixtures::LOCATION_ID)
    ///     .hunt_group_id(fixtures::HUNT_GROUP_ID)
    ///     .send()
    ///     .await;
    /// assert!(read.is_ok());
    /// assert_eq!(fake.pending_faults(), 1);
    /// # }
    /// ```
    #[must_use]
    pub fn on_operation(mut self, operation_id: impl Into<String>) -> Self {
        self.target = Some(Target::Operation(operation_id.into()));
        self
    }

    /// Applies the fault only to a request with this method (`"PUT"`) whose
    /// path, as sent (percent-encoded, with the base path `/v1`), starts
    /// with `path_prefix`; other requests pass it by and leave it queued.
    #[must_use]
    pub fn on_request(mut self, method: impl Into<String>, path_prefix: impl Into<String>) -> Self {
        self.target = Some(Target::Request {
            method: method.into().to_ascii_uppercase(),
            path: path_prefix.into(),
        });
        self
    }

    /// Whether the fault applies to a request with `method` and `path`,
    /// which the spec routes to `operation_id`.
    pub(crate) fn applies_to(&self, method: &str, path: &str, operation_id: Option<&str>) -> bool {
        match &self.target {
            None => true,
            Some(Target::Operation(id)) => operation_id == Some(id.as_str()),
            Some(Target::Request {
                method: wanted,
                path: prefix,
            }) => wanted == method && path.starts_with(prefix.as_str()),
        }
    }

    /// Waits `wait` before acting, on top of any wait already set.
    #[must_use]
    pub fn after(mut self, wait: Duration) -> Self {
        self.wait = self.wait.saturating_add(wait);
        self
    }
}
