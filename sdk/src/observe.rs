//! What a client tells an [`Observer`] about each call: the surface to hang
//! metrics on.

use std::time::Duration;

use crate::error::Error;

/// Told of every attempt, refusal for rate, retry and finished call of a
/// client and its clones; set it with
/// [`ClientBuilder::observer`](crate::ClientBuilder::observer).
///
/// It is called on the task that makes the call, in the call's order, so it
/// should return quickly: count, record a histogram sample, or hand the
/// event to a channel. Any closure `Fn(&Event<'_>)` that is `Send + Sync` is
/// an observer.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use webex_calling::{Client, Event, EventKind};
///
/// #[derive(Default)]
/// struct Counts {
///     attempts: AtomicU64,
///     retries: AtomicU64,
///     throttled: AtomicU64,
/// }
///
/// let counts = Arc::new(Counts::default());
/// let seen = Arc::clone(&counts);
/// let client = Client::builder()
///     .token("a-webex-access-token")
///     .observer(move |event: &Event<'_>| {
///         let counter = match event.kind {
///             EventKind::Attempt { .. } => &seen.attempts,
///             EventKind::Retry { .. } => &seen.retries,
///             EventKind::Throttled { .. } => &seen.throttled,
///             _ => return,
///         };
///         counter.fetch_add(1, Ordering::Relaxed);
///     })
///     .build()?;
/// # let _ = client;
/// # Ok::<(), webex_calling::Error>(())
/// ```
pub trait Observer: Send + Sync + 'static {
    /// Called once for each event of a call.
    fn on_event(&self, event: &Event<'_>);
}

impl<F> Observer for F
where
    F: Fn(&Event<'_>) + Send + Sync + 'static,
{
    fn on_event(&self, event: &Event<'_>) {
        self(event);
    }
}

/// One thing that happened to a call.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Event<'a> {
    /// The spec's `operationId` of the call, such as `updateHuntGroup`.
    pub operation: &'a str,
    /// The `TrackingID` the call sends; for
    /// [`Finished`](EventKind::Finished), the one its result carries (the
    /// service's, when it sent one).
    pub tracking_id: &'a str,
    /// What happened.
    pub kind: EventKind<'a>,
}

/// What happened to a call; see [`Event`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum EventKind<'a> {
    /// A request is about to be sent.
    #[non_exhaustive]
    Attempt {
        /// Requests the call has sent, this one included.
        attempt: u32,
        /// How long the call waited before this request: for its turn under
        /// the rate limiter, a free request slot, a `Retry-After` or a
        /// backoff.
        waited: Duration,
    },
    /// The service refused the call for rate (`429`).
    #[non_exhaustive]
    Throttled {
        /// The answer's `Retry-After`, when it had a usable one.
        retry_after: Option<Duration>,
    },
    /// The call sends its request again after a failed attempt or a `429`,
    /// once `wait` has passed.
    #[non_exhaustive]
    Retry {
        /// Requests the call has sent so far.
        attempt: u32,
        /// The wait before the next request.
        wait: Duration,
        /// The status of the failed attempt; `None` when it got no answer
        /// (a timeout, a failed connection).
        status: Option<u16>,
    },
    /// The call is over.
    #[non_exhaustive]
    Finished {
        /// Requests the call sent.
        attempts: u32,
        /// The call's whole time, waits included.
        elapsed: Duration,
        /// The success status, or the error the call ends with.
        outcome: Result<u16, &'a Error>,
    },
}

/// Tells an observer, when the client has one, about one call.
#[derive(Clone, Copy)]
pub(crate) struct Events<'a> {
    pub(crate) observer: Option<&'a dyn Observer>,
    pub(crate) operation: &'a str,
}

impl Events<'_> {
    /// Tells the observer `kind`, for the call with `tracking_id`.
    pub(crate) fn emit(&self, tracking_id: &str, kind: EventKind<'_>) {
        if let Some(observer) = self.observer {
            observer.on_event(&Event {
                operation: self.operation,
                tracking_id,
                kind,
            });
        }
    }
}
