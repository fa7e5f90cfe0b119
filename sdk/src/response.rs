//! What a successful call tells besides its value.

use std::ops::Deref;

/// The value of a successful call, with what Webex support asks about it:
/// the tracking ID the call was sent with, the status of the answer and how
/// many attempts it took.
///
/// `send()` returns the value alone; `send_with_meta()` returns this.
/// It dereferences to the value, so its fields can be read in place.
///
/// ```no_run
/// # async fn example(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {
/// use webex_calling::types::UpdateHuntGroupRequest;
///
/// let answer = client
///     .update_hunt_group()
///     .location_id("location-id")
///     .hunt_group_id("hunt-group-id")
///     .body(UpdateHuntGroupRequest::new().enabled(true))
///     .send_with_meta()
///     .await?;
/// tracing::info!(
///     tracking_id = answer.tracking_id(),
///     attempts = answer.attempts(),
///     "hunt group enabled"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Response<T> {
    value: T,
    status: u16,
    tracking_id: String,
    attempts: u32,
    /// The answer's `Link` header, which list operations page with.
    link: Option<String>,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, status: u16, tracking_id: String, attempts: u32) -> Self {
        Self {
            value,
            status,
            tracking_id,
            attempts,
            link: None,
        }
    }

    /// This answer with the `Link` header it came with.
    pub(crate) fn with_link(mut self, link: Option<String>) -> Self {
        self.link = link;
        self
    }

    /// The answer's `Link` header, for the paging of list operations.
    pub(crate) fn link(&self) -> Option<&str> {
        self.link.as_deref()
    }

    /// The decoded answer (`()` for an operation that answers no body).
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded answer, taken out.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The tracking ID: the service's when its answer named one, else the
    /// one the client sent (the same on every attempt of the call).
    pub fn tracking_id(&self) -> &str {
        &self.tracking_id
    }

    /// How many requests the call sent, the successful one included: `1`
    /// when nothing was retried.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
