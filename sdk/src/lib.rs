#![doc = include_str!("../README.md")]
//!
//! # How this crate is organised
//!
//! - [`Client`] opens one builder per operation ([`builder`]); request and
//!   response bodies are the types of [`types`]. Both are generated from
//!   the crate's OpenAPI spec, so their docs carry the spec's descriptions
//!   and rules.
//! - [`Error`] is the one error type of every call; [`RetryPolicy`],
//!   [`RateLimiter`], [`TokenProvider`] and [`Observer`] set how calls are
//!   retried, paced, authorized and watched.
//! - Every request is checked against every rule of the spec before it is
//!   sent; a broken request fails with [`Error::InvalidInput`] and nothing
//!   leaves the machine.
//! - With the feature `fake`, [`fake`](crate::fake) is a fake Webex to test
//!   against.
//!
//! # Construction and auth
//!
//! A [`Client`] needs a bearer token: a Webex access token with the scope
//! `spark-admin:telephony_config_write`. [`Client::from_env`] reads it from
//! `WEBEX_TOKEN` (else `WEBEX_ACCESS_TOKEN`) and the base URL from
//! `WEBEX_BASE_URL` (default `https://webexapis.com/v1`); [`Client::builder`]
//! sets everything in code.
//!
//! ```no_run
//! use std::time::Duration;
//! use webex_calling::Client;
//!
//! # fn main() -> Result<(), webex_calling::Error> {
//! let from_env = Client::from_env()?;
//! let spelled_out = Client::builder()
//!     .token(std::env::var("SYNC_WEBEX_TOKEN").unwrap_or_default())
//!     .base_url("https://webexapis.com/v1")
//!     .user_agent("billing-sync/2.1")
//!     .max_in_flight(8)
//!     .build()?;
//! // Clones are cheap: they share one connection pool, one cap on requests
//! // in flight and one rate limiter.
//! let for_a_task = spelled_out.clone();
//! # let _ = (from_env, for_a_task);
//! # Ok(())
//! # }
//! ```
//!
//! A token given to [`ClientBuilder::token`] is checked when the client is
//! built, not by a `401` later, and no token is ever shown: not by `Debug`,
//! not in errors, not in logs. A base URL in plain `http` is refused unless
//! its host is loopback, so the token never crosses a network in clear text;
//! and when the service redirects to another host, the `Authorization`
//! header is not sent there. An `https` base URL needs TLS: the feature
//! `rustls` (a default), `rustls-ring` or `native-tls`; built with none of
//! them, the client refuses it with [`Error::Config`].
//!
//! ## Tokens that expire
//!
//! Access tokens expire. A service that runs longer than its token lives
//! gives the builder a [`TokenProvider`] instead, with
//! [`ClientBuilder::token_provider`]: any async closure that takes a
//! [`TokenRequest`] and returns the token, or a type of your own. The client
//! asks it for the token before every request it sends, retries included,
//! so the same client (its connection pool, its rate limiter, its cap on
//! requests in flight) keeps working across token changes. When the service
//! answers `401`, the client asks the provider once more, with
//! [`TokenRequest::is_refresh`] `true` and the refused token in
//! [`TokenRequest::refused_token`], and sends the request again with the
//! new token; a second `401` ends the call. When many calls in flight see
//! the `401` for the same token, one of them asks for the refresh and the
//! others wait for it, so the provider fetches one new token, not one per
//! call. That resend is not a retry: it
//! uses up none of [`RetryPolicy::max_attempts`]. A provider that fails ends
//! the call with [`Error::TokenProvider`], its error as the source. A client
//! built with [`ClientBuilder::token`] sends the same token for its whole
//! life and never sends a request again after a `401`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use tokio::sync::RwLock;
//! use webex_calling::{Client, TokenRequest};
//!
//! # async fn refresh_with_your_identity_provider() -> Result<String, std::io::Error> { Ok(String::new()) }
//! # fn main() -> Result<(), webex_calling::Error> {
//! // The token in force, which a task of the service replaces before it
//! // expires.
//! let current = Arc::new(RwLock::new(std::env::var("WEBEX_TOKEN").unwrap_or_default()));
//! let client = Client::builder()
//!     .token_provider(move |request: TokenRequest| {
//!         let current = Arc::clone(&current);
//!         async move {
//!             if request.is_refresh() {
//!                 // Refused with 401: get a new one now.
//!                 let token = refresh_with_your_identity_provider().await?;
//!                 *current.write().await = token;
//!             }
//!             Ok::<_, std::io::Error>(current.read().await.clone())
//!         }
//!     })
//!     .build()?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! ```
//! use webex_calling::{Client, Error};
//!
//! let no_token = Client::builder().build();
//! assert!(matches!(no_token, Err(Error::Config(_))));
//!
//! let clear_text = Client::builder()
//!     .token("a-webex-access-token")
//!     .base_url("http://webexapis.com/v1")
//!     .build();
//! assert!(matches!(clear_text, Err(Error::Config(_))));
//!
//! let local = Client::builder()
//!     .token("a-webex-access-token")
//!     .base_url("http://127.0.0.1:4010/v1")
//!     .build();
//! assert!(local.is_ok());
//! ```
//!
//! # Errors
//!
//! Every call ends in `Ok` or in one [`Error`]: invalid input (nothing was
//! sent), an error answer from the service ([`ApiError`]: status, Webex's
//! `message`, every `errors[].description`, its `errorCode`, tracking ID),
//! rate limited or locked, a timeout, a transport failure, or an answer
//! whose body could not be read. Its `Display` is one sentence to act on;
//! a cause (the transport's error, the token provider's) is its
//! [`source`](std::error::Error::source), not repeated in the sentence. The
//! accessors ([`Error::is_not_found`], [`Error::is_conflict`],
//! [`Error::error_code`], [`Error::status`], [`Error::is_retryable`], ...)
//! work on every variant, so most callers never need to match.
//!
//! ```no_run
//! use webex_calling::Error;
//!
//! # async fn example(client: &webex_calling::Client) {
//! let outcome = client
//!     .update_call_pickup()
//!     .location_id("location-id")
//!     .call_pickup_id("call-pickup-id")
//!     .body(webex_calling::types::UpdateCallPickupRequest::new().name("Front desk"))
//!     .send()
//!     .await;
//! match outcome {
//!     Ok(updated) => println!("the call pickup's ID is now {}", updated.id),
//!     Err(Error::InvalidInput(input)) => {
//!         for violation in input.violations() {
//!             eprintln!("fix {}: {}", violation.path(), violation.rule());
//!         }
//!     }
//!     Err(error) if error.is_not_found() => eprintln!("no such call pickup: {error}"),
//!     Err(error) if error.is_conflict() => eprintln!("that name is taken: {error}"),
//!     Err(error) if error.is_retryable() => eprintln!("try again later: {error}"),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # }
//! ```
//!
//! # Tracking IDs
//!
//! Every call sends a `TrackingID` header, unique per call and the same on
//! each of its retries, so the service's logs show them as one call. It
//! starts with a prefix you choose (default `webex-calling`). An error
//! carries the service's tracking ID, from the body or else the response
//! headers; when the service sent none, it carries the one the client sent.
//! `Display` always names it: it is what Webex support asks for.
//!
//! ```no_run
//! # async fn example() -> Result<(), webex_calling::Error> {
//! let client = webex_calling::Client::builder()
//!     .token("a-webex-access-token")
//!     .tracking_id_prefix("billing-sync")
//!     .build()?;
//! let outcome = client
//!     .update_hunt_group()
//!     .location_id("location-id")
//!     .hunt_group_id("hunt-group-id")
//!     .body(webex_calling::types::UpdateHuntGroupRequest::new().enabled(false))
//!     .send()
//!     .await;
//! if let Err(error) = outcome {
//!     eprintln!("give Webex support this ID: {:?}", error.tracking_id());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A successful call tells the same with `send_with_meta()` in place of
//! `send()`: a [`Response`] that dereferences to the value and also has
//! [`Response::tracking_id`], [`Response::status`] and
//! [`Response::attempts`].
//!
//! # Spawning calls
//!
//! A builder holds a clone of its [`Client`] (one reference count), not a
//! borrow. With owned arguments, `send()` is a `Send + 'static` future that
//! `tokio::spawn` takes; borrowed arguments (`.body(&update)`,
//! `.location_id(&id)`) still work, without copies, where the future is
//! awaited in place.
//!
//! ```no_run
//! use webex_calling::types::UpdateHuntGroupRequest;
//!
//! # async fn example(client: &webex_calling::Client, groups: Vec<(String, String)>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut tasks = Vec::new();
//! for (location_id, hunt_group_id) in groups {
//!     tasks.push(tokio::spawn(
//!         client
//!             .update_hunt_group()
//!             .location_id(location_id)
//!             .hunt_group_id(hunt_group_id)
//!             .body(UpdateHuntGroupRequest::new().enabled(true))
//!             .send(),
//!     ));
//! }
//! for task in tasks {
//!     task.await??;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Retries
//!
//! A call is retried on `429`, `423`, `502`, `503` and `504`, when the
//! connection fails and when an attempt times out; never on any other
//! status. The wait before a retry is the answer's `Retry-After`
//! (delta-seconds or an HTTP-date) when it has a usable one; a malformed or
//! negative value falls back to exponential backoff with jitter.
//!
//! Waiting is not failing. A `429` uses up no attempt: a call refused for
//! rate keeps its place until [`RetryPolicy::budget`] runs out (5 minutes by
//! default, so that a bulk job can queue behind the client's pace), and fails
//! at once, with the wait in the error, when a `Retry-After` asks for more
//! than the budget has left. Errors (`423`, `5xx`, transport failures,
//! timeouts) stop a call after [`RetryPolicy::max_attempts`]. When a call
//! does fail for rate, [`Error::RateLimited`] says how many refusals it saw
//! and how long it waited.
//!
//! A `502`, a `504`, a timeout or a connection lost once the request was
//! written leaves the outcome unknown: the update may have been applied. The
//! spec declares for each operation whether sending it again is safe
//! (`x-idempotent`). A hunt group update is, and is retried. A call pickup
//! update that sets a name is not: a rename that was applied changes the
//! group's ID, and the same request to the old ID would answer `404` and
//! lose the new ID. Such a call ends with [`Error::OutcomeUnknown`], which
//! says what to check.
//!
//! Redirects are followed only when they keep the method and the origin (a
//! `307` or `308` to the same host); a `303`, which would turn an update
//! into a `GET`, or a redirect to another host ends the call with
//! [`Error::Redirect`], naming the status and the `Location`.
//!
//! # Rate limits
//!
//! Webex publishes no rate limits and sends no quota headers; the only
//! signal is a `429` with `Retry-After`, and until that wait has passed every
//! request with the token is refused again. Each client (and every clone of
//! it) has a [`RateLimiter`]:
//!
//! - A `Retry-After` is a floor: nothing is sent with the token before it has
//!   passed, from any clone. The client-wide wait is capped at
//!   [`RetryPolicy::max_retry_after`]; the refused call itself waits its own
//!   `Retry-After` in full.
//! - A `429` without a usable `Retry-After` (absent, `0`, unreadable) holds
//!   the client back by the [`RetryPolicy`] backoff, which doubles with each
//!   such refusal in a row, client-wide, and is jittered.
//! - [`RateLimiter::adaptive`] (the default) learns the rate the service
//!   accepts for this token from the requests it sent and the service
//!   accepted before each refusal, and paces requests to just under it, so
//!   that a bulk job runs at the limit instead of bouncing off it. Its
//!   learning moves with accepted requests, not with the clock, so latency
//!   and idle gaps teach it nothing false; a fitted rate is held, then
//!   probed upwards along a cubic curve, so that a limit that rose is found.
//!   Until the first refusal nothing is paced and the limiter costs nothing
//!   measurable.
//! - [`RateLimiter::fixed`] paces at a rate you know; [`RateLimiter::none`]
//!   only keeps the floor.
//!
//! A [`RateLimiter`] is a handle: clients built with clones of one handle
//! share one floor, one pace and one queue, as a token's limit is shared.
//! Calls that wait leave in the order they started waiting, one by one at
//! the pace, never all at once when a wait ends; a call refused and sent
//! again keeps its place, and after a wait the first request goes alone.
//! [`Client::paced_rate`] tells the current pace.
//! [`ClientBuilder::max_in_flight`] caps the requests the client and its
//! clones have in flight at once. Time is tokio's clock, so a test under
//! `tokio::time::pause()` waits in virtual time.
//!
//! ```
//! use std::time::Duration;
//! use webex_calling::{Client, RetryPolicy};
//!
//! let patient = Client::builder()
//!     .token("a-webex-access-token")
//!     .retry(
//!         RetryPolicy::default()
//!             .max_attempts(6)
//!             .budget(Duration::from_secs(120))
//!             .backoff(Duration::from_millis(500), Duration::from_secs(16)),
//!     )
//!     .max_in_flight(4)
//!     .build()?;
//! let one_shot = Client::builder()
//!     .token("a-webex-access-token")
//!     .retry(RetryPolicy::none())
//!     .build()?;
//! # let _ = (patient, one_shot);
//! # Ok::<(), webex_calling::Error>(())
//! ```
//!
//! # Timeouts
//!
//! Connecting may take 10 s and each attempt 30 s, from sending the request
//! to the end of the answer's body; the retry budget (5 minutes) bounds the
//! whole call, waits included. A timeout is its own error, [`Error::Timeout`], and is retried like
//! a failed connection.
//!
//! # Settings of one call
//!
//! Every builder takes `retry`, `budget` and `timeout` for that call alone,
//! in place of the client's: an interactive path fails fast while a batch
//! job on the same client waits out the rate limit. The call still goes
//! through the client's connection pool, rate limiter and cap on requests
//! in flight, so a `429` one path gets holds the other back too. A budget or
//! timeout of zero is refused, naming it, and nothing is sent. Here the
//! answer is slower than the call allows:
//!
//! ```
//! use std::time::Duration;
//! use webex_calling::types::UpdateCallPickupRequest;
//! use webex_calling::{Error, RetryPolicy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let fake = webex_calling::fake::FakeWebex::builder().token("a-webex-access-token").start().await?;
//! # fake.push_fault(webex_calling::fake::Fault::delay(Duration::from_millis(500)));
//! # let (location_id, call_pickup_id) = (webex_calling::fake::fixtures::LOCATION_ID, webex_calling::fake::fixtures::CALL_PICKUP_ID);
//! let client = webex_calling::Client::builder()
//!     .token("a-webex-access-token")
//! #   .base_url(fake.base_url())
//!     .connect_timeout(Duration::from_secs(3))
//!     .timeout(Duration::from_secs(10))
//!     .build()?;
//! let outcome = client
//!     .update_call_pickup()
//!     .location_id(location_id)
//!     .call_pickup_id(call_pickup_id)
//!     .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(10))
//!     // An interactive request: one attempt, answered within 100 ms.
//!     .retry(RetryPolicy::none())
//!     .timeout(Duration::from_millis(100))
//!     .send()
//!     .await;
//! match outcome {
//!     Err(error @ Error::Timeout { .. }) => eprintln!("Webex is slow today: {error}"),
//! #   Ok(_) => unreachable!("the fake answers after 500 ms"),
//!     other => {
//!         other?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The client's `orgId` (set with `ClientBuilder::org_id`, for a partner
//! administrator acting on one customer's organization) is sent by every
//! call that does not set its own.
//!
//! # Metrics
//!
//! [`ClientBuilder::observer`] is told of every attempt, refusal for rate
//! (`429`), retry and finished call, with the waits and the outcome: the
//! place to hang counters and histograms (see [`Observer`]).
//!
//! # Tracing
//!
//! Each call runs in a [`tracing`](https://docs.rs/tracing) span named
//! `webex_calling.call` whose fields follow OpenTelemetry's semantic
//! conventions for HTTP clients, so it lines up with the rest of a
//! service's traces: `http.request.method`, `url.full`, `server.address`,
//! `http.response.status_code`, `http.request.resend_count` (from the second
//! request on), `error.type` (the status, or `timeout`, `transport`, ...,
//! when the call fails) and `otel.kind`, beside `operation`, `tracking_id`
//! and `elapsed_ms`. Each failed attempt and the outcome are `DEBUG` events
//! inside it. The request body is logged only at `TRACE`.
//! The token is never logged at any level. The span nests in whatever span
//! the caller is in:
//!
//! ```no_run
//! use tracing::Instrument;
//!
//! # async fn example(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {
//! client
//!     .update_hunt_group()
//!     .location_id("location-id")
//!     .hunt_group_id("hunt-group-id")
//!     .body(webex_calling::types::UpdateHuntGroupRequest::new().enabled(true))
//!     .send()
//!     .instrument(tracing::info_span!("nightly_sync", batch = 7))
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Safe URLs and input
//!
//! Each path parameter is percent-encoded as exactly one URL segment, so an
//! ID containing `/`, `?`, `#`, `%` or `..` can never change which URL is
//! called, and `orgId` is encoded as a query value. An empty `locationId`,
//! `callPickupId` or `huntGroupId`, or one that is `.` or `..`, is refused
//! before anything is sent.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Nothing listens on this port: a request that was sent would fail to
//! // connect, so the refusal shows nothing left.
//! let client = webex_calling::Client::builder()
//!     .token("a-webex-access-token")
//!     .base_url("http://127.0.0.1:9")
//!     .build()
//!     .unwrap();
//! let error = client
//!     .update_call_pickup()
//!     .location_id("")
//!     .call_pickup_id("Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL2E=")
//!     .send()
//!     .await
//!     .unwrap_err();
//! let broken = &error.invalid_input().unwrap().violations()[0];
//! assert_eq!(broken.path(), "locationId");
//! assert_eq!(error.attempts(), 0);
//! # }
//! ```
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;
#[cfg(test)]
mod fixture_tests;
#[rustfmt::skip]
mod generated;
mod limiter;
mod observe;
mod paging;
mod response;
mod runtime;
#[cfg(feature = "redis")]
mod store;
mod tls;
mod validate;

pub use client::{Client, ClientBuilder, RetryPolicy, TokenFuture, TokenProvider, TokenRequest};
pub use error::{ApiError, Error, InvalidInput, Violation};
pub use generated::{builder, types};
pub use limiter::RateLimiter;
pub use observe::{Event, EventKind, Observer};
pub use paging::Items;
pub use response::Response;
pub use validate::{Validate, parse_body};
