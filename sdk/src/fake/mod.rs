//! A fake Webex Calling service on loopback, for testing code that uses
//! this crate without a Webex organization. Needs the cargo feature `fake`.
//!
//! [`FakeWebex::start`] starts an HTTP server on `127.0.0.1`, on a random
//! port, in the current Tokio runtime; it stops when the [`FakeWebex`] is
//! dropped. For the operations of this crate it behaves as Webex does:
//!
//! - It serves all 21 operations of the spec from its state, so a change
//!   is what the next read returns: a call pickup's members come back as
//!   objects with their `type`, a hunt group's `noAnswer` carries
//!   `systemMaxNumberOfRings`, and a renamed call pickup is read at its new
//!   ID and is `404` at the old one. Created groups appear in the lists and
//!   deleted ones answer `404`.
//! - Lists are paged with `max` (at most and by default 2000) and `start`;
//!   the hunt group list, as on Webex, answers a page that has more after
//!   it with `Link: <...>; rel="next"`.
//! - Selective forwarding rules get IDs made from their names, as call
//!   pickups do: a rule update answers `201` with the rule's ID, new when
//!   the rule was renamed, and the old ID answers `404` from then on.
//! - Seed data ([`FakeWebex::add_call_pickup`],
//!   [`FakeWebex::add_hunt_group`]) is checked against the spec: a field it
//!   does not declare is an [`InvalidSeed`] error, not stored.
//! - It holds locations, call pickups and hunt groups in memory, starting
//!   with the [`fixtures`] (the Webex docs' IDs among them). Tests add more
//!   with [`FakeWebex::add_call_pickup`] and [`FakeWebex::add_hunt_group`],
//!   and read the state with [`FakeWebex::call_pickup`] and
//!   [`FakeWebex::hunt_group`].
//! - It requires `Authorization: Bearer <token>` with [`FakeWebex::token`],
//!   and answers `401` otherwise. To test a client whose token expires,
//!   [`FakeWebex::accept_token`] accepts another token and
//!   [`FakeWebex::revoke_token`] refuses one from then on, as Webex does
//!   with a token that expired or was revoked.
//! - It checks each body against the request schema of the spec this crate
//!   embeds and answers `400`, one
//!   `errors[].description` per problem, each naming the field path.
//! - It answers `404` for an unknown location, call pickup or hunt group
//!   (or a location of another organization when `orgId` is sent), and
//!   `409` when a call pickup is renamed to a name already used in its
//!   location.
//! - Renaming a call pickup changes its ID (see [`call_pickup_id`]): the
//!   answer carries the new ID and the old one answers `404` from then on.
//! - A hunt group update answers `204` and changes only the fields sent:
//!   objects merge field by field, lists replace the stored list.
//! - Every error body is Webex-shaped,
//!   `{"message", "errors": [{"description"}], "trackingId"}`, and every
//!   answer has a `TrackingID` header. Both echo the request's `TrackingID`
//!   header when it has one.
//! - With a [`RateLimit`], it limits each token's requests as Webex does:
//!   `429` with `Retry-After` past the limit, and `429` again for every
//!   request until the `Retry-After` has passed (see
//!   [Rate limits](#rate-limits)).
//!
//! Tests script misbehaviour with [`Fault`]s (rate limits, locks, server
//! errors, non-JSON bodies, delays, dropped connections, and updates that
//! are applied although the client gets an error, with
//! [`Fault::after_applying`]), queued for the next requests or aimed at one
//! operation ([`Fault::on_operation`]) or method and path
//! ([`Fault::on_request`]), and assert on what was sent with
//! [`FakeWebex::requests`].
//!
//! # Testing your own service
//!
//! In your crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! webex-calling = { version = "0.1", features = ["fake"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Then hand your code a client bound to the fake. This is a complete test
//! file; in your crate, `main` is a `#[tokio::test] async fn`.
//!
//! ```
//! use webex_calling::fake::{FakeWebex, Fault, call_pickup_id, fixtures};
//! use webex_calling::types::UpdateCallPickupRequest;
//! use webex_calling::{Client, Error};
//!
//! // The code under test: it takes the client it should use.
//! async fn rename_front_desk(client: &Client, location: &str, pickup: &str) -> Result<String, Error> {
//!     let body = UpdateCallPickupRequest::new().name("Front desk");
//!     let updated = client
//!         .update_call_pickup()
//!         .location_id(location)
//!         .call_pickup_id(pickup)
//!         .body(body)
//!         .send()
//!         .await?;
//!     Ok(updated.id)
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let fake = FakeWebex::start().await;
//!     // Webex is busy at first: the client waits as told and tries again.
//!     fake.push_fault(Fault::too_many_requests("0"));
//!
//!     let new_id = rename_front_desk(&fake.client(), fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
//!         .await
//!         .expect("renamed");
//!
//!     assert_eq!(new_id, call_pickup_id("Front desk"));
//!     let stored = fake.call_pickup(fixtures::LOCATION_ID, &new_id).expect("stored under its new ID");
//!     assert_eq!(stored["name"], "Front desk");
//!     let sent = fake.requests();
//!     assert_eq!(sent.len(), 2);
//!     let body = sent[1].json().expect("a JSON body");
//!     assert_eq!(body["name"], "Front desk");
//!     assert_eq!(body.as_object().map(|fields| fields.len()), Some(1), "only the name was sent");
//!
//!     // The old ID is gone, as on Webex.
//!     let error = rename_front_desk(&fake.client(), fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
//!         .await
//!         .unwrap_err();
//!     assert_eq!(error.status(), Some(404));
//! }
//! ```
//!
//! # Rate limits
//!
//! Webex publishes no rate limits: a job that updates hundreds of groups
//! meets `429 Too Many Requests` with `Retry-After` as a matter of course,
//! and every request with the token is refused until that `Retry-After` has
//! passed. [`FakeWebexBuilder::rate_limit`] makes the fake behave so, with a
//! token bucket per bearer token, to test a bulk job against:
//!
//! - Each token's bucket starts full with [`RateLimit::burst`] tokens and
//!   refills continuously at [`RateLimit::per_second`], never above the
//!   burst. A request that finds a whole token takes it and is handled
//!   normally.
//! - A request that finds none is answered `429` with a Webex-shaped error
//!   body and the [`RateLimit::retry_after`] value, and starts a block:
//!   until that many seconds have passed, every request with the token is
//!   answered `429`, with `Retry-After` the seconds left, rounded up. These
//!   answers do not extend the block; the bucket refills meanwhile.
//! - A request with a wrong token is answered `401` and touches no bucket.
//!   Scripted [`Fault`]s apply first: a request a fault answers takes no
//!   token.
//! - [`FakeWebex::set_rate`] changes the rate while the fake runs (Webex's
//!   limits move with load), and [`FakeWebex::set_rate_limit`] replaces or
//!   removes the limit.
//! - [`FakeWebex::rate_limit_stats`] counts requests let through, `429`s,
//!   blocks, and requests sent during a block without waiting out its
//!   `Retry-After` ([`RateLimitStats`] says exactly what each counts).
//!
//! ```
//! use webex_calling::fake::{FakeWebex, RateLimit, fixtures};
//! use webex_calling::types::UpdateHuntGroupRequest;
//! use webex_calling::{Client, Error};
//!
//! // The code under test: a bulk job that switches hunt groups on or off.
//! async fn set_enabled(client: &Client, location: &str, groups: &[(&str, bool)]) -> Result<(), Error> {
//!     for (group, enabled) in groups {
//!         let body = UpdateHuntGroupRequest::new().enabled(*enabled);
//!         client
//!             .update_hunt_group()
//!             .location_id(location)
//!             .hunt_group_id(*group)
//!             .body(body)
//!             .send()
//!             .await?;
//!     }
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     // 50 requests a second after a burst of 10, then `429` with
//!     // `Retry-After: 1`.
//!     let fake = FakeWebex::builder()
//!         .rate_limit(RateLimit::per_second(50.0).burst(10).retry_after("1"))
//!         .start()
//!         .await
//!         .expect("the fake started");
//!     let groups: Vec<(&str, bool)> = (0..12).map(|i| (fixtures::HUNT_GROUP_ID, i % 2 == 0)).collect();
//!
//!     set_enabled(&fake.client(), fixtures::LOCATION_ID, &groups).await.expect("every update landed");
//!
//!     let stats = fake.rate_limit_stats();
//!     assert_eq!(stats.accepted, 12, "each update was let through once");
//!     assert_eq!(stats.early, 0, "nothing was sent before a Retry-After had passed");
//!     println!("{} answers were 429, in {} blocks", stats.throttled, stats.blocks);
//!
//!     // Webex is busier now: half the rate, from this request on.
//!     fake.set_rate(25.0);
//!     fake.reset_rate_limit_stats();
//! }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod fault;
pub mod fixtures;
mod ids;
mod log;
pub(crate) mod rate_limit;
mod server;
mod spec;
mod state;
#[cfg(test)]
mod tests;

pub use fault::Fault;

/// The request example the spec gives for the operation `operation_id`
/// (such as `"updateHuntGroup"`), as JSON: the body Webex's own page shows.
/// `None` when the spec has no such operation or no example for it.
///
/// ```
/// use webex_calling::types::UpdateHuntGroupRequest;
///
/// let example = webex_calling::fake::request_example("updateHuntGroup").unwrap();
/// let body: UpdateHuntGroupRequest = webex_calling::parse_body(&example.to_string()).unwrap();
/// assert!(body.agents.is_some());
/// ```
pub fn request_example(operation_id: &str) -> Option<Value> {
    let spec: Value = serde_json::from_str(crate::generated::spec::OPENAPI_JSON).ok()?;
    spec["paths"]
        .as_object()?
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .find(|operation| operation["operationId"] == operation_id)
        .map(|operation| operation["requestBody"]["content"]["application/json"]["example"].clone())
        .filter(|example| !example.is_null())
}
pub use ids::call_pickup_id;
pub use log::RecordedRequest;
pub use rate_limit::{RateLimit, RateLimitStats};

use server::{Shared, lock};

/// Seed data that the spec refuses, from [`FakeWebex::add_call_pickup`]
/// or [`FakeWebex::add_hunt_group`]: nothing was stored.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fake = webex_calling::fake::FakeWebex::start().await;
/// let typo = fake.add_hunt_group("my-location", "my-group", serde_json::json!({ "enabeld": true }));
/// assert_eq!(typo.unwrap_err().problems(), ["enabeld: is not a field of the spec"]);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSeed {
    problems: Vec<String>,
}

impl InvalidSeed {
    /// Each problem, as `field path: what is wrong`.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for InvalidSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the seed data breaks the spec: {}",
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for InvalidSeed {}

/// Checks seed `settings` as the body of `operation_id` (`null`: none).
pub(crate) fn check_seed(
    spec: &spec::Spec,
    operation_id: &str,
    settings: &Value,
) -> Result<(), InvalidSeed> {
    if settings.is_null() {
        return Ok(());
    }
    let operation = spec.operation(operation_id).ok_or_else(|| InvalidSeed {
        problems: vec![format!("the spec has no operation {operation_id}")],
    })?;
    if !settings.is_object() {
        return Err(InvalidSeed {
            problems: vec!["the settings: must be a JSON object or null".to_string()],
        });
    }
    operation
        .check_seed(settings)
        .map_err(|problems| InvalidSeed { problems })
}

/// The token [`FakeWebex::start`] requires.
pub const DEFAULT_TOKEN: &str = "fake-webex-token";

/// A running fake Webex. Dropping it stops the server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fake = webex_calling::fake::FakeWebex::start().await;
/// assert!(fake.base_url().starts_with("http://127.0.0.1:"));
/// let client = fake.client();
/// # let _ = client;
/// # }
/// ```
pub struct FakeWebex {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    server: JoinHandle<()>,
}

impl fmt::Debug for FakeWebex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeWebex")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeWebex {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts a [`FakeWebex`] with other settings. Start with
/// [`FakeWebex::builder`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = webex_calling::fake::FakeWebex::builder()
///     .token("another-token")
///     .without_fixtures()
///     .start()
///     .await?;
/// fake.add_hunt_group("my-location", "my-hunt-group", serde_json::json!({ "name": "Sales" }));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct FakeWebexBuilder {
    token: String,
    org_id: String,
    fixtures: bool,
    rate_limit: Option<RateLimit>,
    addr: SocketAddr,
}

impl FakeWebexBuilder {
    /// The address to listen on (default `127.0.0.1` on a free port). A
    /// fake that runs as a service of its own, such as a docker-compose
    /// service that other containers reach by its name, listens on
    /// `0.0.0.0:PORT`; the clients under test then name its host to
    /// [`ClientBuilder::danger_allow_http_host`](crate::ClientBuilder::danger_allow_http_host).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = webex_calling::fake::FakeWebex::builder()
    ///     .bind(([127, 0, 0, 2], 0).into())
    ///     .start()
    ///     .await?;
    /// assert!(fake.base_url().starts_with("http://127.0.0.2:"));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The bearer token the fake requires (default [`DEFAULT_TOKEN`]).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The organization that owns every location (default
    /// [`fixtures::ORG_ID`]). A request whose `orgId` names another
    /// organization finds no location.
    #[must_use]
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = org_id.into();
        self
    }

    /// Starts with no locations at all instead of the [`fixtures`].
    #[must_use]
    pub fn without_fixtures(mut self) -> Self {
        self.fixtures = false;
        self
    }

    /// Limits each bearer token's requests with a token bucket (default: no
    /// limit). See [`RateLimit`] and [Rate limits](self#rate-limits).
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Starts the server on its [`bind`](Self::bind) address (`127.0.0.1`,
    /// on a free port, unless set), in the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// When the token is empty or not visible ASCII, or no port could be
    /// bound on loopback.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime.
    pub async fn start(self) -> io::Result<FakeWebex> {
        if self.token.is_empty() || !self.token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the fake's token must be non-empty visible ASCII",
            ));
        }
        let spec = spec::Spec::load().map_err(io::Error::other)?;
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let mut state = state::State::default();
        if self.fixtures {
            fixtures::seed(&mut state, &spec, &self.org_id).map_err(io::Error::other)?;
        }
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let shared = Arc::new(Shared {
            accepted: std::sync::Mutex::new(vec![self.token.clone()]),
            token: self.token,
            org_id: self.org_id,
            spec,
            state: std::sync::Mutex::new(state),
            log: std::sync::Mutex::new(Vec::new()),
            faults: std::sync::Mutex::new(VecDeque::new()),
            rate_limit: std::sync::Mutex::new(rate_limit::Limiter::new(self.rate_limit)),
            tracking_prefix: format!("FAKEWEBEX_{started:x}-{}", addr.port()),
            requests: AtomicU64::new(0),
        });
        let server = tokio::spawn(server::serve(listener, Arc::clone(&shared)));
        let base_url = base_url_for(addr);
        Ok(FakeWebex {
            shared,
            addr,
            base_url,
            server,
        })
    }
}

/// The base URL a client in this process reaches a fake listening on
/// `addr` with: a fake listening on every interface is reached on
/// loopback, which a client accepts in plain http. The spec's server URL
/// has the path `/v1`, and the fake serves under it as Webex does.
pub(crate) fn base_url_for(addr: SocketAddr) -> String {
    let local = if addr.ip().is_unspecified() {
        let loopback = match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from(Ipv4Addr::LOCALHOST),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        };
        SocketAddr::new(loopback, addr.port())
    } else {
        addr
    };
    format!("http://{local}/v1")
}

impl FakeWebex {
    /// Starts a fake with the [`fixtures`] and the token [`DEFAULT_TOKEN`].
    ///
    /// # Panics
    ///
    /// When no port can be bound on `127.0.0.1`, or outside a Tokio
    /// runtime. Use [`FakeWebex::builder`] to get the error instead.
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(fake) => fake,
            Err(e) => panic!("the fake Webex could not start: {e}"),
        }
    }

    /// A builder to change the token, the organization, the fixtures or the
    /// rate limit.
    pub fn builder() -> FakeWebexBuilder {
        FakeWebexBuilder {
            token: DEFAULT_TOKEN.to_string(),
            org_id: fixtures::ORG_ID.to_string(),
            fixtures: true,
            rate_limit: None,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }

    /// The base URL to give a [`ClientBuilder`](crate::ClientBuilder), such
    /// as `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the fake was started with, which
    /// [`client`](Self::client) sends. It is accepted until
    /// [`revoke_token`](Self::revoke_token) refuses it.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Accepts `token` as well from now on, as when Webex issues a new
    /// access token; the tokens accepted before stay accepted until
    /// revoked.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use webex_calling::fake::{FakeWebex, fixtures};
    ///
    /// let fake = FakeWebex::start().await;
    /// fake.accept_token("the-next-token");
    /// fake.revoke_token(fake.token());
    ///
    /// let read = |client: webex_calling::Client| async move {
    ///     client
    ///         .get_hunt_group()
    ///         .location_id(fixtures::LOCATION_ID)
    ///         .hunt_group_id(fixtures::HUNT_GROUP_ID)
    ///         .send()
    ///         .await
    /// };
    /// let expired = read(fake.client()).await.unwrap_err();
    /// assert_eq!(expired.status(), Some(401));
    /// let client = fake.client_builder().token("the-next-token").build().unwrap();
    /// assert!(read(client).await.is_ok());
    /// # }
    /// ```
    pub fn accept_token(&self, token: impl Into<String>) {
        let token = token.into();
        let mut accepted = lock(&self.shared.accepted);
        if !accepted.contains(&token) {
            accepted.push(token);
        }
    }

    /// Refuses `token` from now on, the one the fake was started with
    /// included: every request that presents it is answered `401`, as
    /// Webex answers a token that expired or was revoked.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.shared.accepted).retain(|t| t != token);
    }

    /// The organization that owns every location.
    pub fn org_id(&self) -> &str {
        &self.shared.org_id
    }

    /// A client builder with the fake's base URL and token set, to change
    /// other settings (retries, timeouts) before building.
    pub fn client_builder(&self) -> crate::ClientBuilder {
        crate::Client::builder()
            .base_url(self.base_url.as_str())
            .token(self.shared.token.as_str())
    }

    /// A client with every default setting, bound to the fake.
    ///
    /// # Panics
    ///
    /// Never in practice: the fake's URL and token are always accepted.
    pub fn client(&self) -> crate::Client {
        match self.client_builder().build() {
            Ok(client) => client,
            Err(e) => panic!("a client for the fake Webex could not be built: {e}"),
        }
    }

    /// Adds an empty location, if it does not exist yet.
    pub fn add_location(&self, location_id: &str) {
        lock(&self.shared.state).add_location(&self.shared.org_id, location_id);
    }

    /// Adds a call pickup named `name` to a location (added if need be),
    /// replacing any of the same name, and returns its ID.
    ///
    /// `settings` holds stored fields other than the name, in the request
    /// body's JSON names (`notificationType`,
    /// `notificationDelayTimerSeconds`, `agents`), or `null` for none. The
    /// defaults are `NONE`, `6` and no agents.
    ///
    /// # Errors
    ///
    /// [`InvalidSeed`] when `settings` breaks the update body's schema in
    /// the spec: a field it does not declare (a typo), a value of the wrong
    /// type or out of bounds. Nothing is stored then.
    pub fn add_call_pickup(
        &self,
        location_id: &str,
        name: &str,
        settings: Value,
    ) -> Result<String, InvalidSeed> {
        check_seed(&self.shared.spec, "updateCallPickup", &settings)?;
        Ok(lock(&self.shared.state).add_call_pickup(
            &self.shared.org_id,
            location_id,
            name,
            &settings,
        ))
    }

    /// Adds a hunt group to a location (added if need be), replacing any
    /// with the same ID.
    ///
    /// `settings` holds its fields in the update body's JSON names, or
    /// `null` for none. The defaults are enabled with no agents and no
    /// alternate numbers.
    ///
    /// # Errors
    ///
    /// [`InvalidSeed`] when `settings` breaks the update body's schema in
    /// the spec: a field it does not declare (a typo), a value of the wrong
    /// type or out of bounds. Nothing is stored then.
    pub fn add_hunt_group(
        &self,
        location_id: &str,
        hunt_group_id: &str,
        settings: Value,
    ) -> Result<(), InvalidSeed> {
        check_seed(&self.shared.spec, "updateHuntGroup", &settings)?;
        lock(&self.shared.state).add_hunt_group(
            &self.shared.org_id,
            location_id,
            hunt_group_id,
            &settings,
        );
        Ok(())
    }

    /// A call pickup as stored: `id`, `name`, `notificationType`,
    /// `notificationDelayTimerSeconds` and `agents`. `None` when there is
    /// none with that ID in that location.
    pub fn call_pickup(&self, location_id: &str, call_pickup_id: &str) -> Option<Value> {
        lock(&self.shared.state).call_pickup(location_id, call_pickup_id)
    }

    /// Every call pickup of a location, by ID.
    pub fn call_pickups(&self, location_id: &str) -> Vec<Value> {
        lock(&self.shared.state).call_pickups(location_id)
    }

    /// A hunt group as stored, its `id` included. `None` when there is none
    /// with that ID in that location.
    pub fn hunt_group(&self, location_id: &str, hunt_group_id: &str) -> Option<Value> {
        lock(&self.shared.state).hunt_group(location_id, hunt_group_id)
    }

    /// Queues a fault for the next request it applies to (every request,
    /// unless it is aimed with [`Fault::on_operation`] or
    /// [`Fault::on_request`]) that finds no earlier fault queued for it.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push_back(fault);
    }

    /// Queues faults, one per request, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.faults).extend(faults);
    }

    /// How many queued faults no request has taken yet.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).len()
    }

    /// Every request received so far, in the order their bodies were read,
    /// those answered by a fault included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Sets, replaces or (with `None`) removes the rate limit. Every
    /// token's bucket starts over full, with no block in force; the
    /// counters are kept.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        lock(&self.shared.rate_limit).set_limit(limit);
    }

    /// Changes the rate of the rate limit from now on, keeping each
    /// bucket's tokens, its burst, its `Retry-After` and any block in
    /// force, as when Webex tightens its limits under load. With no rate
    /// limit set, sets [`RateLimit::per_second`]`(per_second)`.
    pub fn set_rate(&self, per_second: f64) {
        lock(&self.shared.rate_limit).set_rate(per_second, tokio::time::Instant::now());
    }

    /// What the rate limit has done so far; see [`RateLimitStats`] for what
    /// each counter counts.
    pub fn rate_limit_stats(&self) -> RateLimitStats {
        lock(&self.shared.rate_limit).stats()
    }

    /// Sets every rate limit counter back to zero, keeping the buckets and
    /// any block in force.
    pub fn reset_rate_limit_stats(&self) {
        lock(&self.shared.rate_limit).reset_stats();
    }
}
