//! What a successful call tells besides its value.

use std::ops::Deref;

use reqwest::header::HeaderMap;

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
#[derive(Clone, Debug)]
pub struct Response<T> {
    value: T,
    status: u16,
    headers: HeaderMap,
    tracking_id: String,
    attempts: u32,
}

impl<T: PartialEq> PartialEq for Response<T> {
    /// Two answers are equal when their values, statuses, tracking IDs,
    /// attempts and headers are.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
            && self.status == other.status
            && self.tracking_id == other.tracking_id
            && self.attempts == other.attempts
            && self.headers == other.headers
    }
}

impl<T> Response<T> {
    pub(crate) fn new(
        value: T,
        status: u16,
        headers: HeaderMap,
        tracking_id: String,
        attempts: u32,
    ) -> Self {
        Self {
            value,
            status,
            headers,
            tracking_id,
            attempts,
        }
    }

    /// The same answer with its value changed by `f`.
    #[allow(
        dead_code,
        reason = "used by the runtime for operations that answer JSON of several schemas"
    )]
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            status: self.status,
            headers: self.headers,
            tracking_id: self.tracking_id,
            attempts: self.attempts,
        }
    }

    /// The headers of the answer: a `Link` to the next page, a `Location`,
    /// or any header the spec declares for the operation.
    ///
    /// ```no_run
    /// # async fn example(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {
    /// let answer = client
    ///     .get_hunt_group()
    ///     .location_id("location-id")
    ///     .hunt_group_id("hunt-group-id")
    ///     .send_with_meta()
    ///     .await?;
    /// if let Some(link) = answer.headers().get("link") {
    ///     println!("more at {link:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The answer's `Link` header, for the paging of list operations.
    pub(crate) fn link(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::LINK)
            .and_then(|value| value.to_str().ok())
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
