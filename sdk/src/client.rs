//! The client: construction, auth, and the policies every request goes
//! through (tracking IDs, timeouts, retries, the rate limiter, a cap on
//! requests in flight, tracing).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderValue};
use serde::Serialize;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::{ApiError, Error, GaveUp, InvalidInput, Violation};
use crate::limiter::{ClientLimiter, RateLimiter};
use crate::observe::{EventKind, Events, Observer};
use crate::runtime::{self, CallOptions, Operation, Response};

/// One call on its way, from [`Client::execute`]: every attempt, wait and
/// retry until the call's outcome.
pub(crate) type Call = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send>>;

/// The header that carries a call's tracking ID, both ways. Named once, so
/// that no call parses the name.
const TRACKING_ID: header::HeaderName = header::HeaderName::from_static("trackingid");

/// Bodies larger than this do not grow the buffer every later body starts
/// with.
const MAX_BODY_SIZE_HINT: usize = 64 * 1024;

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

/// How failed attempts are retried.
///
/// An attempt is retried on `429`, `423`, `502`, `503` and `504`, on
/// connection failures and on timeouts, and never on any other status. The
/// wait before a retry is the answer's `Retry-After` when it has a usable
/// one, else exponential backoff with jitter.
///
/// Waiting is not failing: a `429` uses up no attempt, only time. A call
/// refused for rate keeps its place until its [`budget`](Self::budget)
/// runs out (default 5 minutes, enough for a bulk job to queue behind the
/// client's pace), and fails at once when a `Retry-After` asks for more
/// time than the budget has left. Errors (`423`, `5xx`, transport failures,
/// timeouts) stop the call after [`max_attempts`](Self::max_attempts).
///
/// A failure that leaves the outcome unknown (a `502`, a `504`, a timeout, a
/// connection lost once the request was written) is retried only when the
/// spec declares the request safe to apply twice; otherwise the call ends
/// with [`Error::OutcomeUnknown`].
///
/// A `429` also holds the whole client back, whether or not the call that
/// got it retries: no clone of the client sends anything until its wait is
/// over (see [`RateLimiter`]).
///
/// ```
/// use std::time::Duration;
/// use webex_calling::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(8)
///     .budget(Duration::from_secs(120));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    budget: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    /// Whether a call refused for rate waits and tries again.
    waits_when_throttled: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            budget: Duration::from_secs(300),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(300),
            waits_when_throttled: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt per call: retries switched off, a `429` included. The
    /// `429` still holds the rest of the client back for its `Retry-After`.
    pub fn none() -> Self {
        Self {
            waits_when_throttled: false,
            ..Self::default().max_attempts(1)
        }
    }

    /// Attempts per call that may end in an error, the first included (at
    /// least 1; default 4). Refusals for rate (`429`) are not counted: the
    /// budget bounds them.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The most time one call may take, its retries and waits included
    /// (default 5 minutes). A retry whose wait would end after it is not
    /// made. Time spent queued behind the client's pace counts.
    #[must_use]
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The backoff before the first retry, doubled each time up to
    /// `max` (defaults 250 ms and 8 s). Each wait is jittered down by up to
    /// half.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest wait one `429` imposes on the whole client (default
    /// 300 s). The call that was refused waits its own `Retry-After` in
    /// full, or fails at once when that is longer than its budget has left.
    #[must_use]
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    fn backoff_for(&self, retry: u32, salt: u64) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let full = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        // Full wait minus up to half of it, so clones that failed together
        // do not come back together.
        let half = full / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if nanos == 0 {
            0
        } else {
            runtime::random_u64(salt) % nanos
        };
        full - Duration::from_nanos(jitter)
    }
}

/// Why the client asks a [`TokenProvider`] for a token.
///
/// Every attempt of a call asks for the token to send
/// ([`is_refresh`](Self::is_refresh) is `false`), so a provider that caches
/// its token can answer from the cache. After the service refused a token
/// with `401 Unauthorized`, the client asks once more with `is_refresh`
/// `true` and [`refused_token`](Self::refused_token) set to the token that
/// was refused: the provider should get a new one rather than answer from
/// its cache. However many calls saw the `401` for that token, one of them
/// asks for the refresh; the others wait for it and then ask for the token
/// to send as usual, which a caching provider answers with the new one.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequest {
    refused: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A token is never shown, not even one that was refused.
        f.debug_struct("TokenRequest")
            .field("refresh", &self.is_refresh())
            .finish()
    }
}

impl TokenRequest {
    /// A request for the token to send, which may come from a cache.
    pub const fn new() -> Self {
        Self { refused: None }
    }

    /// A request made after the service refused `refused` with `401`: the
    /// cached token, if it is that one, should be replaced.
    pub fn refresh(refused: impl Into<String>) -> Self {
        Self {
            refused: Some(refused.into()),
        }
    }

    /// Whether the service refused a token with `401`, so that a provider
    /// with a cache should fetch a new token.
    pub const fn is_refresh(&self) -> bool {
        self.refused.is_some()
    }

    /// The token the service refused, as the provider gave it (without
    /// `Bearer `), when this is a refresh. A provider that already replaced
    /// it (its cache holds another token) may answer with the new one
    /// without fetching again.
    pub fn refused_token(&self) -> Option<&str> {
        self.refused.as_deref()
    }
}

/// What a [`TokenProvider`] returns: a future of the access token (without
/// `Bearer `), or of why there is none.
pub type TokenFuture<'a> = Pin<
    Box<dyn Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync>>> + Send + 'a>,
>;

/// Gives the client the access token to send, for a service whose tokens
/// expire or rotate; set it with [`ClientBuilder::token_provider`].
///
/// The client asks before every request it sends, retries included, so the
/// provider decides how long a token is used; answer from a cache unless
/// [`TokenRequest::is_refresh`] says the service refused the last token.
/// Any closure `Fn(TokenRequest) -> impl Future<Output = Result<T, E>>`
/// is a provider, where `T` is a `String` or `&'static str` and `E` is any
/// error that is `Send + Sync + 'static` (or a `String`); implement the
/// trait for a type of your own when the provider keeps state.
///
/// ```
/// use std::sync::Arc;
/// use tokio::sync::Mutex;
/// use webex_calling::{TokenFuture, TokenProvider, TokenRequest};
///
/// /// Fetches a token when it has none, or when the last one was refused.
/// struct Cached {
///     token: Mutex<Option<String>>,
/// }
///
/// impl TokenProvider for Cached {
///     fn token(&self, request: TokenRequest) -> TokenFuture<'_> {
///         Box::pin(async move {
///             let mut token = self.token.lock().await;
///             if request.is_refresh() || token.is_none() {
///                 *token = Some(fetch_token().await?);
///             }
///             Ok(token.clone().unwrap_or_default())
///         })
///     }
/// }
///
/// async fn fetch_token() -> Result<String, std::io::Error> {
///     // An OAuth refresh, a secrets manager, a file that another process rewrites...
///     Ok("a-webex-access-token".to_string())
/// }
///
/// let client = webex_calling::Client::builder()
///     .token_provider(Cached { token: Mutex::new(None) })
///     .build()?;
/// # let _ = client;
/// # let _: Arc<dyn TokenProvider> = Arc::new(Cached { token: Mutex::new(None) });
/// # Ok::<(), webex_calling::Error>(())
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// The access token to send with the next request, without `Bearer `.
    /// Surrounding whitespace is trimmed. An error ends the call with
    /// [`Error::TokenProvider`], which carries it as its source.
    fn token(&self, request: TokenRequest) -> TokenFuture<'_>;
}

impl<F, Fut, T, E> TokenProvider for F
where
    F: Fn(TokenRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<String>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn token(&self, request: TokenRequest) -> TokenFuture<'_> {
        let token = self(request);
        Box::pin(async move { token.await.map(Into::into).map_err(Into::into) })
    }
}

/// Where a builder's token comes from.
#[derive(Clone)]
enum Credentials {
    None,
    Token(String),
    Provider(Arc<dyn TokenProvider>),
}

/// Where a client's `Authorization` header comes from.
enum Auth {
    /// Built once: each attempt clones it, which allocates nothing.
    Static(HeaderValue),
    /// Asked for before each attempt.
    Provider(Arc<dyn TokenProvider>),
}

/// The `Authorization` header for `token`, marked sensitive so that it is
/// never shown. Errors name the rule broken, never the token.
fn bearer(token: &str) -> Result<HeaderValue, &'static str> {
    let token = token.trim();
    if token.is_empty() {
        return Err("the access token is empty");
    }
    let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the access token has characters not allowed in a header")?;
    auth.set_sensitive(true);
    Ok(auth)
}

/// Builds a [`Client`]. Start with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
///
/// let client = webex_calling::Client::builder()
///     .token("a-webex-access-token")
///     .timeout(Duration::from_secs(20))
///     .max_in_flight(16)
///     .build()?;
/// # Ok::<(), webex_calling::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    credentials: Credentials,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    max_in_flight: usize,
    rate_limiter: RateLimiter,
    user_agent: String,
    tracking_prefix: String,
    http: Option<reqwest::Client>,
    observer: Option<Arc<dyn Observer>>,
    /// Client-wide values of parameters, by the name the spec gives the
    /// default (`x-client-default`).
    defaults: Vec<(&'static str, String)>,
    /// Hosts reached over plain `http` although they are not loopback.
    http_hosts: Vec<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "token",
                &match self.credentials {
                    Credentials::None => "<none>",
                    Credentials::Token(_) => "<redacted>",
                    Credentials::Provider(_) => "<from a token provider>",
                },
            )
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limiter", &self.rate_limiter)
            .field("user_agent", &self.user_agent)
            .field("tracking_prefix", &self.tracking_prefix)
            .field("observer", &self.observer.is_some())
            .field("defaults", &self.defaults)
            .field("http_hosts", &self.http_hosts)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: Credentials::None,
            base_url: DEFAULT_BASE_URL.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_in_flight: 64,
            rate_limiter: RateLimiter::default(),
            user_agent: concat!("webex-calling-rust/", env!("CARGO_PKG_VERSION")).to_string(),
            tracking_prefix: "webex-calling".to_string(),
            http: None,
            observer: None,
            defaults: Vec::new(),
            http_hosts: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// The bearer token: a Webex access token with the scope
    /// `spark-admin:telephony_config_write`. This or a
    /// [`token_provider`](Self::token_provider) is required; whichever was
    /// set last is used.
    ///
    /// The token is sent as it is for the client's whole life, and a `401`
    /// answer ends the call. For a service that outlives its token, use a
    /// [`token_provider`](Self::token_provider) instead.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Token(token.into());
        self
    }

    /// Where the access token comes from, for a service that runs longer
    /// than a token lives: the client asks `provider` for the token before
    /// every request it sends, retries included, so the token changes
    /// without building a new client (which would lose the connection pool,
    /// the rate limiter's state and the cap on requests in flight). This or
    /// a [`token`](Self::token) is required; whichever was set last is used.
    ///
    /// When the service answers `401 Unauthorized`, the client asks the
    /// provider once more, with [`TokenRequest::is_refresh`] `true` and the
    /// refused token in [`TokenRequest::refused_token`], and sends the
    /// request again with the new token. When other calls in flight saw the
    /// `401` for the same token, only the first asks for the refresh; the
    /// others wait for it and then ask for the token as usual. The request
    /// is sent again at most once per call: a second `401` ends the call
    /// with [`Error::Api`]. The
    /// request sent again after a `401` is not a retry: it uses up none of
    /// [`RetryPolicy::max_attempts`] (it is made even with
    /// [`RetryPolicy::none`]), though [`Error::attempts`] counts it as a
    /// request sent. It waits for its turn under the rate limiter like any
    /// request, within the call's time budget.
    ///
    /// The provider is asked once the request has its turn and a free
    /// request slot, so the token is as fresh as it can be; a provider that
    /// is slow holds the slot meanwhile, so cache the token. It has until
    /// the call's time budget runs out to answer. When it fails, or returns
    /// a token that is empty or has characters not allowed in a header, the
    /// call ends with [`Error::TokenProvider`]. The token is checked only
    /// when it is asked for, not by [`build`](Self::build), and is never
    /// shown: not by `Debug`, not in errors, not in logs.
    ///
    /// A closure needs its argument's type spelled out:
    ///
    /// ```
    /// use webex_calling::{Client, TokenRequest};
    ///
    /// async fn fetch_token(fresh: bool) -> Result<String, std::io::Error> {
    ///     // An OAuth refresh, a secrets manager, a file that another process rewrites...
    ///     # let _ = fresh;
    ///     Ok("a-webex-access-token".to_string())
    /// }
    ///
    /// let client = Client::builder()
    ///     .token_provider(|request: TokenRequest| async move {
    ///         Ok::<_, std::io::Error>(fetch_token(request.is_refresh()).await?)
    ///     })
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), webex_calling::Error>(())
    /// ```
    #[must_use]
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Credentials::Provider(Arc::new(provider));
        self
    }

    /// The API's base URL (default `https://webexapis.com/v1`). Plain
    /// `http://` is refused unless the host is loopback or was named to
    /// [`danger_allow_http_host`](Self::danger_allow_http_host).
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// How long to wait for a connection (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the body
    /// (default 30 s). The retry budget bounds the whole call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How failed attempts are retried (see [`RetryPolicy`]).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The most requests this client and its clones have in flight at once
    /// (default 64); more wait their turn, within their retry budget.
    #[must_use]
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// How requests are paced under the service's rate limit (default
    /// [`RateLimiter::adaptive`]): see [`RateLimiter`].
    #[must_use]
    pub fn rate_limiter(mut self, rate_limiter: RateLimiter) -> Self {
        self.rate_limiter = rate_limiter;
        self
    }

    /// The `User-Agent` header (default `webex-calling-rust/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The start of every `TrackingID` this client sends (default
    /// `webex-calling`); the rest is unique per call.
    #[must_use]
    pub fn tracking_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tracking_prefix = prefix.into();
        self
    }

    /// Tells `observer` of every attempt, refusal for rate, retry and
    /// finished call of this client and its clones: the place for metrics
    /// (see [`Observer`]).
    #[must_use]
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Allows a base URL in plain `http` to `host`, which is not loopback:
    /// for tests against a fake Webex that runs on another host, such as a
    /// docker-compose service named `webex-fake`. The bearer token then
    /// crosses the network in clear text, so never call it in production
    /// code; without it, plain `http` is refused unless the host is
    /// loopback. Only this exact host name (or address) is allowed, and only
    /// when the base URL names it.
    ///
    /// ```
    /// let client = webex_calling::Client::builder()
    ///     .token("the-fake's-token")
    ///     .base_url("http://webex-fake:8080/v1")
    ///     .danger_allow_http_host("webex-fake")
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    #[must_use]
    pub fn danger_allow_http_host(mut self, host: impl Into<String>) -> Self {
        self.http_hosts.push(host.into());
        self
    }

    /// Sets the client-wide value of the parameter the spec names `name` in
    /// an `x-client-default`; the generated setters (such as `org_id`) call
    /// it.
    pub(crate) fn default_parameter(mut self, name: &'static str, value: String) -> Self {
        self.defaults.retain(|(known, _)| *known != name);
        self.defaults.push((name, value));
        self
    }

    /// Sends through this `reqwest::Client` instead of one built here. Its
    /// own timeouts, redirect and proxy settings then apply; the per-attempt
    /// timeout still does. Build it with
    /// `redirect(reqwest::redirect::Policy::none())` unless its redirect
    /// policy never changes a request's method: reqwest's default turns a
    /// `PUT` into a `GET` after a `301`, `302` or `303`.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when there is neither a token nor a token
    /// provider, the token is empty or not valid in a header, the base URL
    /// is not an `https` URL (or `http` on loopback or a host allowed by
    /// [`danger_allow_http_host`](Self::danger_allow_http_host)), the crate
    /// was built without TLS (none of the features `rustls`, `rustls-ring`
    /// and `native-tls`) and the base URL is `https`, `max_in_flight` is 0
    /// or too large for a semaphore, the timeout or the retry policy's
    /// budget is zero, or the rate limiter's settings cannot be used (a
    /// [`RateLimiter::fixed`] rate that is not a finite number above 0).
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_calling::{Client, RetryPolicy};
    ///
    /// let error = Client::builder()
    ///     .token("a-webex-access-token")
    ///     .retry(RetryPolicy::default().budget(Duration::ZERO))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(error.to_string().contains("budget"), "{error}");
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let no_token = || {
            Error::Config(
                "no access token: pass one to `ClientBuilder::token` or a provider to `ClientBuilder::token_provider`, or set WEBEX_TOKEN".into(),
            )
        };
        let auth = match self.credentials {
            Credentials::None => return Err(no_token()),
            Credentials::Token(token) if token.trim().is_empty() => return Err(no_token()),
            Credentials::Token(token) => {
                Auth::Static(bearer(&token).map_err(|rule| Error::Config(rule.into()))?)
            }
            Credentials::Provider(provider) => Auth::Provider(provider),
        };
        let base_url = check_base_url(&self.base_url, &self.http_hosts)?;
        if self.retry.budget.is_zero() {
            return Err(Error::Config(
                "the retry policy's budget is zero, so every call would fail before it is sent: give `RetryPolicy::budget` a duration of more than zero".into(),
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config(
                "the timeout is zero, so every attempt would time out: give `ClientBuilder::timeout` a duration of more than zero".into(),
            ));
        }
        let server_address = reqwest::Url::parse(&base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default();
        if self.max_in_flight == 0 || self.max_in_flight > Semaphore::MAX_PERMITS {
            return Err(Error::Config(format!(
                "max_in_flight must be between 1 and {}, got {}",
                Semaphore::MAX_PERMITS,
                self.max_in_flight
            )));
        }
        self.rate_limiter.check().map_err(Error::Config)?;
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("the user agent is not valid in a header".into()))?;
        if !self.tracking_prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Config(
                "the tracking ID prefix must be visible ASCII".into(),
            ));
        }
        let http = match self.http {
            Some(http) => http,
            None => crate::tls::http_client_builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(user_agent.clone())
                .redirect(redirect_policy())
                .build()
                .map_err(|e| Error::Config(format!("the HTTP client could not be built: {e}")))?,
        };
        let seed = runtime::random_u64(0);
        let in_flight = Semaphore::new(self.max_in_flight);
        let limiter = ClientLimiter::new(&self.rate_limiter, self.max_in_flight, &in_flight);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                auth,
                user_agent,
                timeout: self.timeout,
                retry: self.retry,
                in_flight,
                limiter,
                tracking_base: format!("{}_{seed:016x}-", self.tracking_prefix),
                seed,
                calls: AtomicU64::new(0),
                body_size_hint: AtomicUsize::new(0),
                observer: self.observer,
                refreshes: Refreshes::default(),
                defaults: self.defaults,
                server_address,
            }),
        })
    }
}

/// Follows a redirect only when it keeps the method and the origin: a `307`
/// or `308` to the same scheme, host and port, five at most. Anything else
/// is handed back as it is, and the call ends with [`Error::Redirect`].
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let keeps_method = matches!(attempt.status().as_u16(), 307 | 308);
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if keeps_method && same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn check_base_url(raw: &str, http_hosts: &[String]) -> Result<String, Error> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::Config(format!("the base URL {raw:?} is not a URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "the base URL {raw:?} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
        "https" => {}
        #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
        "https" => {
            return Err(Error::Config(format!(
                "the base URL {raw:?} is https, but webex-calling was built without TLS: enable its feature `rustls`, `rustls-ring` or `native-tls`"
            )));
        }
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            let allowed = url.host_str().is_some_and(|host| {
                http_hosts.iter().any(|allowed| {
                    allowed
                        .trim_matches(|c| c == '[' || c == ']')
                        .eq_ignore_ascii_case(host.trim_matches(|c| c == '[' || c == ']'))
                })
            });
            if !loopback && !allowed {
                return Err(Error::Config(format!(
                    "the base URL {raw:?} is plain http to a host that is not loopback; the token would travel in clear text: use https (a test against a fake on another host names it to `ClientBuilder::danger_allow_http_host`)"
                )));
            }
        }
        other => {
            return Err(Error::Config(format!(
                "the base URL {raw:?} has scheme {other:?}; use https"
            )));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A Webex Calling client. Cheap to clone: clones share one connection
/// pool, one cap on requests in flight and one rate limiter.
///
/// ```no_run
/// # async fn example() -> Result<(), webex_calling::Error> {
/// let client = webex_calling::Client::from_env()?;
/// let body = webex_calling::types::UpdateCallPickupRequest::new().name("Front desk");
/// let updated = client
///     .update_call_pickup()
///     .location_id("location-id")
///     .call_pickup_id("call-pickup-id")
///     .body(body)
///     .send()
///     .await?;
/// println!("the call pickup's ID is now {}", updated.id);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
    user_agent: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    in_flight: Semaphore,
    limiter: ClientLimiter,
    /// What every tracking ID of this client starts with: the prefix and
    /// the client's seed, written once.
    tracking_base: String,
    seed: u64,
    calls: AtomicU64,
    /// The size of the largest request body serialized so far, up to
    /// [`MAX_BODY_SIZE_HINT`].
    body_size_hint: AtomicUsize,
    observer: Option<Arc<dyn Observer>>,
    refreshes: Refreshes,
    defaults: Vec<(&'static str, String)>,
    /// The base URL's host, for traces.
    server_address: String,
}

/// The token refreshes of a client with a token provider, so that a token
/// refused by many calls at once is refreshed once.
#[derive(Default)]
struct Refreshes {
    /// How many refreshes have succeeded: a token obtained at an earlier
    /// count than the current one has been replaced since.
    generation: AtomicU64,
    /// Held by the call that refreshes; the others wait on it.
    lock: tokio::sync::Mutex<()>,
}

/// A token a call sent, and the refresh count when it was obtained.
struct SentToken {
    token: String,
    generation: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field(
                "token",
                &match self.inner.auth {
                    Auth::Static(_) => "<redacted>",
                    Auth::Provider(_) => "<from a token provider>",
                },
            )
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with every default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from the environment: the token from `WEBEX_TOKEN` (else,
    /// when that is unset or empty, `WEBEX_ACCESS_TOKEN`), the base URL from
    /// `WEBEX_BASE_URL` if set.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when no token is set, or as [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_builder()?.build()
    }

    /// [`Client::from_env`] as a builder, to change more settings.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when no token is set.
    pub fn from_env_builder() -> Result<ClientBuilder, Error> {
        let token = ["WEBEX_TOKEN", "WEBEX_ACCESS_TOKEN"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
            .ok_or_else(|| {
                Error::Config("neither WEBEX_TOKEN nor WEBEX_ACCESS_TOKEN is set".into())
            })?;
        let mut builder = Self::builder().token(token);
        if let Ok(base_url) = std::env::var("WEBEX_BASE_URL")
            && !base_url.trim().is_empty()
        {
            builder = builder.base_url(base_url.trim());
        }
        Ok(builder)
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The client-wide value of the parameter the spec names `name` in an
    /// `x-client-default`, when the builder set one.
    pub(crate) fn default_parameter(&self, name: &str) -> Option<&str> {
        self.inner
            .defaults
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value.as_str())
    }

    /// `{prefix}_{seed:016x}-{call:x}`, written by hand: formatting it
    /// cost more than the rest of starting a call.
    fn next_tracking_id(&self) -> String {
        let call = self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let base = &self.inner.tracking_base;
        let mut id = String::with_capacity(base.len() + 16);
        id.push_str(base);
        runtime::push_hex(&mut id, call);
        id
    }

    /// The rate this client paces its requests at right now, in requests
    /// a second; `None` when it does not pace them (see [`RateLimiter`]).
    /// During the wait a `429` began, the pace from before it: the limiter
    /// learns from the refusal once the wait is over.
    pub fn paced_rate(&self) -> Option<f64> {
        self.inner.limiter.rate()
    }

    /// Waits for a free slot under the in-flight cap, then for this call's
    /// turn under the rate limiter, so that the turn is taken when the
    /// request can leave. `ticket` is the call's place in the limiter's
    /// queue, kept across its attempts. `None` when that would take past
    /// `deadline`.
    async fn slot(
        &self,
        ticket: &mut Option<u64>,
        deadline: Option<Instant>,
    ) -> Option<SemaphorePermit<'_>> {
        // Most of the time a slot is free: take it without arming a timer.
        let permit = match self.inner.in_flight.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                let acquire = self.inner.in_flight.acquire();
                match deadline {
                    Some(deadline) => tokio::time::timeout_at(deadline, acquire)
                        .await
                        .ok()?
                        .ok()?,
                    None => acquire.await.ok()?,
                }
            }
        };
        self.inner.limiter.turn(ticket, deadline).await.ok()?;
        Some(permit)
    }

    /// A slot under the in-flight cap, when one is free and the rate
    /// limiter has nothing to hold the request back for: the turn
    /// [`Self::slot`] would give at once, without its future.
    fn free_slot(&self) -> Option<SemaphorePermit<'_>> {
        // The limiter first: when it holds requests back, no permit is
        // taken only to be given back.
        if !self.inner.limiter.free() {
            return None;
        }
        self.inner.in_flight.try_acquire().ok()
    }

    /// An empty URL buffer holding the base URL, with room for `rest` more
    /// bytes (and a query).
    pub(crate) fn url_buffer(&self, rest: usize) -> String {
        let mut url = String::with_capacity(self.inner.base_url.len() + rest + 64);
        url.push_str(&self.inner.base_url);
        url
    }

    /// Starts one call with every policy of the client: the future ends
    /// with the answer when it has the operation's success status.
    /// `headers` are the operation's header parameters that are set; `body`
    /// is `None` for an operation that takes none (a read, a delete):
    /// nothing is sent. The body is serialized here, so the call holds only
    /// its bytes; an error here is one nothing was sent for.
    pub(crate) fn execute<B: Serialize>(
        self,
        operation: &'static Operation,
        url: String,
        headers: header::HeaderMap,
        body: Option<&B>,
        options: CallOptions,
    ) -> Result<Call, Error> {
        check_call_options(&options)?;
        // Sized from the largest body so far, so serializing seldom regrows.
        let hint = self.inner.body_size_hint.load(Ordering::Relaxed);
        let mut buffer = Vec::with_capacity(if body.is_some() { hint } else { 0 });
        if let Some(body) = body {
            serde_json::to_writer(&mut buffer, body).map_err(|e| {
                Error::Config(format!("the request body could not be serialized: {e}"))
            })?;
        }
        if buffer.len() > hint && buffer.len() <= MAX_BODY_SIZE_HINT {
            self.inner
                .body_size_hint
                .fetch_max(buffer.len(), Ordering::Relaxed);
        }
        Ok(self.run(operation, url, headers, Bytes::from(buffer), options))
    }

    /// A new tracking ID, and the span of the call that sends `body`.
    fn call_span(&self, operation: &Operation, url: &str, body: &[u8]) -> (String, tracing::Span) {
        let tracking_id = self.next_tracking_id();
        // Field names follow OpenTelemetry's semantic conventions for HTTP
        // clients, so the span lines up with the rest of a service's traces.
        let span = tracing::info_span!(
            "webex_calling.call",
            otel.kind = "client",
            operation = operation.id,
            tracking_id = %tracking_id,
            http.request.method = %operation.method,
            url.full = %url,
            server.address = %self.inner.server_address,
            http.request.resend_count = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        tracing::trace!(parent: &span, body = %String::from_utf8_lossy(body), "request body");
        (tracking_id, span)
    }

    /// Starts one call whose body is a URL-encoded form of `body`'s fields,
    /// as [`Self::execute`] does.
    #[allow(
        dead_code,
        reason = "called by the generated code of operations whose body is a form"
    )]
    pub(crate) fn execute_form<B: Serialize>(
        self,
        operation: &'static Operation,
        url: String,
        headers: header::HeaderMap,
        body: Option<&B>,
        options: CallOptions,
    ) -> Result<Call, Error> {
        let form = body.map(runtime::form).transpose()?;
        self.execute_bytes(operation, url, headers, form, options)
    }

    /// Starts one call whose body is given as bytes (none for `None`), as
    /// [`Self::execute`] does.
    #[allow(
        dead_code,
        reason = "called by the generated code of operations whose body is not JSON"
    )]
    pub(crate) fn execute_bytes(
        self,
        operation: &'static Operation,
        url: String,
        headers: header::HeaderMap,
        body: Option<Bytes>,
        options: CallOptions,
    ) -> Result<Call, Error> {
        check_call_options(&options)?;
        Ok(self.run(operation, url, headers, body.unwrap_or_default(), options))
    }

    /// The attempts of one call inside its span, telling the observer how
    /// the call finished. The future owns everything it uses and is boxed
    /// once here: the futures around it (the builder's `send()`, a caller's
    /// own) stay a few words long, so moving them copies next to nothing.
    fn run(
        self,
        operation: &'static Operation,
        url: String,
        headers: header::HeaderMap,
        body: Bytes,
        options: CallOptions,
    ) -> Call {
        let (tracking_id, span) = self.call_span(operation, &url, &body);
        let record = span.clone();
        Box::pin(
            self.attempts(operation, url, headers, body, tracking_id, options, record)
                .instrument(span),
        )
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the call's parts and its settings, each used by every attempt"
    )]
    async fn attempts(
        self,
        operation: &'static Operation,
        url: String,
        parameters: header::HeaderMap,
        body: Bytes,
        tracking_id: String,
        options: CallOptions,
        span: tracing::Span,
    ) -> Result<Response, Error> {
        let events = Events {
            observer: self.inner.observer.as_deref(),
            operation: operation.id,
        };
        let started = Instant::now();
        // One block rather than a function of its own: the call's future
        // then holds the attempts' state once, with nothing nested to move.
        let outcome = 'call: {
            let policy = options.retry.as_ref().unwrap_or(&self.inner.retry);
            let attempt_timeout = options.timeout.unwrap_or(self.inner.timeout);
            // `None` when the budget is too large to be a point in time: no bound.
            let deadline = started.checked_add(options.budget.unwrap_or(policy.budget));
            let Ok(tracking_header) = HeaderValue::from_str(&tracking_id) else {
                break 'call Err(Error::Config(
                    "the tracking ID prefix is not valid in a header".into(),
                ));
            };
            let mut call = Tally::default();
            let mut last_error: Option<Error> = None;
            // The end of this call's last `Retry-After`, which it waits out in
            // full even where the client-wide floor is capped.
            let mut own_floor: Option<Instant> = None;
            // The call's place in the rate limiter's queue, once it has one.
            let mut ticket = None;
            // The first attempt starts when the call does.
            let mut before = Some(started);
            loop {
                let before = before.take().unwrap_or_else(Instant::now);
                let slept = match own_floor.take() {
                    Some(until) => {
                        tokio::time::sleep_until(until).await;
                        true
                    }
                    None => false,
                };
                // Most of the time a slot is free and nothing is limited: that
                // is checked without a future, and without reading the clock
                // again unless a `Retry-After` or a backoff was waited out.
                // Waiting runs in a future of its own, boxed, so the call's
                // future does not carry its room on every call.
                let free = ticket.is_none().then(|| self.free_slot()).flatten();
                let waits = slept || free.is_none();
                let permit = match free {
                    Some(permit) => Some(permit),
                    None => Box::pin(self.slot(&mut ticket, deadline)).await,
                };
                let waited = if waits {
                    before.elapsed()
                } else {
                    Duration::ZERO
                };
                call.waited += waited;
                let Some(permit) = permit else {
                    tracing::debug!("the time budget ran out before the request could be sent");
                    break 'call Err(call.out_of_time(last_error, started, tracking_id));
                };
                let auth = match &self.inner.auth {
                    Auth::Static(auth) => auth.clone(),
                    Auth::Provider(provider) => {
                        let refused = call.refused.take();
                        match Box::pin(self.provider_token(provider.as_ref(), refused, deadline))
                            .await
                        {
                            Ok((auth, sent)) => {
                                call.sent_token = Some(sent);
                                auth
                            }
                            Err(source) => {
                                tracing::debug!("the token provider gave no token");
                                break 'call Err(Error::TokenProvider {
                                    attempts: call.sent,
                                    tracking_id,
                                    source,
                                });
                            }
                        }
                    }
                };
                call.sent += 1;
                if call.sent > 1 {
                    span.record("http.request.resend_count", call.sent - 1);
                }
                events.emit(
                    &tracking_id,
                    EventKind::Attempt {
                        attempt: call.sent,
                        waited,
                    },
                );
                // Read once, after the observer has been told: the attempt's
                // timeout is counted from it, and the limiter takes it as the
                // moment the request left.
                let sent_at = Instant::now();
                let timeout = match deadline {
                    Some(deadline) => {
                        attempt_timeout.min(deadline.saturating_duration_since(sent_at))
                    }
                    None => attempt_timeout,
                };
                let mut request = self
                    .inner
                    .http
                    .request(operation.method.clone(), url.as_str())
                    .header(header::AUTHORIZATION, auth)
                    .header(header::USER_AGENT, self.inner.user_agent.clone());
                // A read sends no body, and so names no content type.
                if !body.is_empty() {
                    request = request.header(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(operation.content_type),
                    );
                }
                // The header parameters are cloned per attempt only when the
                // operation has any.
                if !parameters.is_empty() {
                    request = request.headers(parameters.clone());
                }
                // An operation answered `101` asks for a WebSocket, with the
                // headers a WebSocket server needs to switch protocols.
                if operation.switches_protocols() {
                    request = request
                        .header(header::CONNECTION, HeaderValue::from_static("Upgrade"))
                        .header(header::UPGRADE, HeaderValue::from_static("websocket"))
                        .header(
                            header::SEC_WEBSOCKET_VERSION,
                            HeaderValue::from_static("13"),
                        )
                        .header(header::SEC_WEBSOCKET_KEY, runtime::websocket_key(call.sent));
                }
                let request = request
                    .header(header::ACCEPT, HeaderValue::from_static(operation.accept))
                    .header(TRACKING_ID, tracking_header.clone())
                    .timeout(timeout)
                    .body(body.clone());
                let outcome = match request.send().await {
                    Ok(mut response) => {
                        let status = response.status().as_u16();
                        // The headers are moved out of the answer, not copied:
                        // a success keeps them for the caller, a failure for the
                        // error.
                        let headers = std::mem::take(response.headers_mut());
                        if status == 101 && operation.switches_protocols() {
                            // The connection is the caller's from here on: no
                            // body is read, and it never returns to the pool.
                            Box::pin(response.upgrade()).await.map(|connection| {
                                (status, Answer::Switched(headers, connection), Bytes::new())
                            })
                        } else {
                            let headers = if (200..300).contains(&status) {
                                Answer::Success(headers)
                            } else {
                                Answer::Failure(headers)
                            };
                            runtime::read_body(response, runtime::MAX_BODY_BYTES)
                                .await
                                .map(|bytes| (status, headers, bytes))
                        }
                    }
                    Err(e) => Err(e),
                };
                drop(permit);
                let received = Instant::now();
                if !span.is_disabled() {
                    span.record("elapsed_ms", millis(started.elapsed()));
                }
                let limiter = &self.inner.limiter;
                let in_flight = &self.inner.in_flight;
                let (error, retryable, ambiguous, retry_after) = match outcome {
                    Ok((status, Answer::Switched(headers, connection), _)) => {
                        span.record("http.response.status_code", status);
                        limiter.accepted(sent_at, received, in_flight);
                        tracing::debug!("switched protocols");
                        break 'call Ok(Response {
                            status,
                            tracking_id: answer_tracking_id(&headers, tracking_id),
                            headers,
                            body: Bytes::new(),
                            attempts: call.sent,
                            connection: Some(connection),
                        });
                    }
                    Ok((status, Answer::Success(headers), _)) if operation.switches_protocols() => {
                        // A success that hands over no connection is no success
                        // for an operation that switches protocols, and sending
                        // it again would be answered the same.
                        span.record("http.response.status_code", status);
                        limiter.accepted(sent_at, received, in_flight);
                        break 'call Err(Error::NotUpgraded {
                            status,
                            tracking_id: answer_tracking_id(&headers, tracking_id),
                            attempts: call.sent,
                        });
                    }
                    Ok((status, Answer::Success(headers), bytes)) => {
                        span.record("http.response.status_code", status);
                        if status != operation.success {
                            tracing::debug!(
                                declared = operation.success,
                                "answered with another success status than the spec declares"
                            );
                        }
                        limiter.accepted(sent_at, received, in_flight);
                        tracing::debug!("call succeeded");
                        break 'call Ok(Response {
                            status,
                            tracking_id: answer_tracking_id(&headers, tracking_id),
                            headers,
                            body: bytes,
                            attempts: call.sent,
                            connection: None,
                        });
                    }
                    Ok((status, Answer::Failure(headers), bytes)) => {
                        span.record("http.response.status_code", status);
                        if (300..400).contains(&status) {
                            limiter.accepted(sent_at, received, in_flight);
                            break 'call Err(Error::Redirect {
                                status,
                                location: headers
                                    .get(header::LOCATION)
                                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
                                tracking_id: header_tracking_id(&headers)
                                    .unwrap_or_else(|| tracking_id.clone()),
                                attempts: call.sent,
                            });
                        }
                        let retry_after = runtime::parse_retry_after(&headers, SystemTime::now());
                        if status == 429 {
                            call.throttled += 1;
                            events.emit(&tracking_id, EventKind::Throttled { retry_after });
                        }
                        let error = call.fill(error_from_answer(
                            status,
                            &headers,
                            &bytes,
                            &tracking_id,
                            call.sent,
                            retry_after,
                        ));
                        if status == 401
                            && !call.refreshed
                            && matches!(self.inner.auth, Auth::Provider(_))
                        {
                            // The token expired or was revoked: the provider
                            // gets one chance to replace it, which is not a
                            // retry and uses up no attempt.
                            limiter.accepted(sent_at, received, in_flight);
                            call.refreshed = true;
                            call.refused = call.sent_token.take();
                            last_error = Some(error);
                            tracing::debug!(
                                "the token was refused, asking the token provider for another"
                            );
                            continue;
                        }
                        if status == 429 {
                            // The whole client is over its rate, not only this
                            // call: no clone sends before the wait is over.
                            // Without a usable `Retry-After` the limiter says
                            // how long, from the backoff schedule.
                            let usable = retry_after.filter(|wait| !wait.is_zero());
                            let salt = self.inner.seed ^ u64::from(call.sent);
                            let client_wait = limiter.throttled(
                                sent_at,
                                received,
                                usable.map(|wait| wait.min(policy.max_retry_after)),
                                |run| policy.backoff_for(run, salt),
                                in_flight,
                            );
                            let wait = usable.unwrap_or(client_wait);
                            // Waiting is not failing: a refusal for rate uses
                            // up no attempt, only time.
                            if !policy.waits_when_throttled {
                                tracing::debug!(error = %error, "rate limited, and the policy does not wait");
                                break 'call Err(error.gave_up(GaveUp::DoesNotWait));
                            }
                            if ends_after(wait, deadline) {
                                tracing::debug!(error = %error, "asked to wait past the time budget");
                                break 'call Err(error.gave_up(GaveUp::WaitPastBudget));
                            }
                            tracing::debug!(wait_ms = millis(wait), "rate limited, waiting");
                            events.emit(
                                &tracking_id,
                                EventKind::Retry {
                                    attempt: call.sent,
                                    wait,
                                    status: Some(status),
                                },
                            );
                            own_floor = received.checked_add(wait);
                            last_error = Some(error);
                            continue;
                        }
                        limiter.accepted(sent_at, received, in_flight);
                        (
                            error,
                            is_retryable_status(status),
                            matches!(status, 502 | 504),
                            retry_after,
                        )
                    }
                    Err(e) => {
                        limiter.unanswered(sent_at);
                        // A request that could not be built or a redirect loop
                        // fails the same way every time.
                        let retryable = !(e.is_builder() || e.is_redirect());
                        // Only a failed connection proves nothing was sent.
                        let ambiguous = retryable && !e.is_connect();
                        let cut_short = timeout < attempt_timeout;
                        let error = if e.is_timeout()
                            && cut_short
                            && let Some(mut previous) = last_error.take()
                        {
                            // The budget, not the attempt's own timeout, ended
                            // this attempt: what the service said last is why
                            // the call failed.
                            previous.set_attempts(call.sent);
                            previous.gave_up(GaveUp::BudgetSpent)
                        } else if e.is_timeout() {
                            Error::Timeout {
                                attempts: call.sent,
                                elapsed: started.elapsed(),
                                tracking_id: tracking_id.clone(),
                            }
                        } else {
                            Error::Transport {
                                attempts: call.sent,
                                tracking_id: tracking_id.clone(),
                                source: Box::new(e),
                            }
                        };
                        (error, retryable, ambiguous, None)
                    }
                };
                if ambiguous && !operation.resend.allows(&body) {
                    tracing::debug!(error = %error, "outcome unknown, not sent again");
                    break 'call Err(Error::OutcomeUnknown {
                        source: Box::new(error),
                        check: operation.if_unknown,
                    });
                }
                call.failures += 1;
                let wait = retry_after.unwrap_or_else(|| {
                    policy.backoff_for(call.failures, self.inner.seed ^ u64::from(call.sent))
                });
                if !retryable || call.failures >= policy.max_attempts || ends_after(wait, deadline)
                {
                    tracing::debug!(error = %error, "call failed");
                    break 'call Err(error);
                }
                tracing::debug!(error = %error, wait_ms = millis(wait), "attempt failed, retrying");
                events.emit(
                    &tracking_id,
                    EventKind::Retry {
                        attempt: call.sent,
                        wait,
                        status: error.status(),
                    },
                );
                last_error = Some(error);
                own_floor = Instant::now().checked_add(wait);
            }
        };
        match &outcome {
            // Nothing to tell, and no clock to read, without an observer.
            Ok(_) if events.observer.is_none() => {}
            Ok(response) => events.emit(
                &response.tracking_id,
                EventKind::Finished {
                    attempts: response.attempts,
                    elapsed: started.elapsed(),
                    outcome: Ok(response.status),
                },
            ),
            Err(error) => {
                span.record("error.type", error.type_name().as_str());
                events.emit(
                    error.tracking_id().unwrap_or_default(),
                    EventKind::Finished {
                        attempts: error.attempts(),
                        elapsed: started.elapsed(),
                        outcome: Err(error),
                    },
                );
            }
        }
        outcome
    }
}

/// What one call has been through so far.
#[derive(Default)]
struct Tally {
    /// Requests sent.
    sent: u32,
    /// Attempts that ended in an error other than a refusal for rate.
    failures: u32,
    /// `429` answers.
    throttled: u32,
    /// Whether a `401` has made the client ask the token provider for a
    /// new token, which it does once per call.
    refreshed: bool,
    /// The token the last attempt sent, when a provider gave it.
    sent_token: Option<SentToken>,
    /// The token the service refused, which the next attempt has
    /// refreshed (unless another call already has).
    refused: Option<SentToken>,
    /// Time spent waiting for a turn, a slot, a `Retry-After` or a backoff.
    waited: Duration,
}

impl Tally {
    /// `error` with this call's refusals and waiting time.
    fn fill(&self, mut error: Error) -> Error {
        if let Error::Api(api) | Error::RateLimited(api) = &mut error {
            api.throttled = self.throttled;
            api.waited = self.waited;
        }
        error
    }

    /// The error of a call whose budget ran out before it could send again.
    fn out_of_time(&self, last: Option<Error>, started: Instant, tracking_id: String) -> Error {
        match last {
            Some(mut error) => {
                error.set_attempts(self.sent);
                self.fill(error).gave_up(GaveUp::BudgetSpent)
            }
            None => Error::Timeout {
                attempts: self.sent,
                elapsed: started.elapsed(),
                tracking_id,
            },
        }
    }
}

/// Why a token provider gave no token.
type TokenError = Box<dyn std::error::Error + Send + Sync>;

/// What the provider is told when the call's budget ran out first.
const TOKEN_TOO_LATE: &str = "it gave no token before the call's time budget ran out";

impl Client {
    /// The `Authorization` header from the provider's token, and the token,
    /// or why there is none; the provider has until `deadline` to answer.
    /// After a `401` (`refused` is the token refused), the first call to
    /// get here asks the provider for a refresh and the others, which sent
    /// the same token, wait for it and then ask for the token as usual.
    async fn provider_token(
        &self,
        provider: &dyn TokenProvider,
        refused: Option<SentToken>,
        deadline: Option<Instant>,
    ) -> Result<(HeaderValue, SentToken), TokenError> {
        let refreshes = &self.inner.refreshes;
        if let Some(refused) = refused {
            let guard = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, refreshes.lock.lock())
                    .await
                    .map_err(|_| TOKEN_TOO_LATE)?,
                None => refreshes.lock.lock().await,
            };
            if refreshes.generation.load(Ordering::Acquire) == refused.generation {
                let token =
                    provided_token(provider, TokenRequest::refresh(refused.token), deadline)
                        .await?;
                let generation = refreshes.generation.fetch_add(1, Ordering::AcqRel) + 1;
                drop(guard);
                let auth = bearer(&token).map_err(cannot_be_sent)?;
                return Ok((auth, SentToken { token, generation }));
            }
        }
        let generation = refreshes.generation.load(Ordering::Acquire);
        let token = provided_token(provider, TokenRequest::new(), deadline).await?;
        let auth = bearer(&token).map_err(cannot_be_sent)?;
        Ok((auth, SentToken { token, generation }))
    }
}

fn cannot_be_sent(rule: &str) -> TokenError {
    format!("it returned a token that cannot be sent: {rule}").into()
}

/// `provider`'s token, trimmed, or why there is none. The provider has
/// until `deadline` to answer.
async fn provided_token(
    provider: &dyn TokenProvider,
    request: TokenRequest,
    deadline: Option<Instant>,
) -> Result<String, TokenError> {
    let token = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, provider.token(request))
            .await
            .map_err(|_| TOKEN_TOO_LATE)??,
        None => provider.token(request).await?,
    };
    Ok(token.trim().to_string())
}

/// Refuses per-call settings that would fail the call before it is sent,
/// naming the setting and the rule.
fn check_call_options(options: &CallOptions) -> Result<(), Error> {
    if options.retry.is_none() && options.budget.is_none() && options.timeout.is_none() {
        return Ok(());
    }
    let mut violations = Vec::new();
    let zero = |path: &str, what: &str| {
        Violation::new(
            path.to_string(),
            format!("must be more than zero, or every {what} would fail before it is sent"),
        )
    };
    if options
        .retry
        .as_ref()
        .is_some_and(|retry| retry.budget.is_zero())
    {
        violations.push(zero("retry.budget", "call"));
    }
    if options.budget.is_some_and(|budget| budget.is_zero()) {
        violations.push(zero("budget", "call"));
    }
    if options.timeout.is_some_and(|timeout| timeout.is_zero()) {
        violations.push(zero("timeout", "attempt"));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidInput(InvalidInput::new(violations)))
    }
}

/// An answer's headers, by what they are kept for.
enum Answer {
    /// A success status: for the caller ([`crate::Response::headers`]).
    Success(header::HeaderMap),
    /// Any other status: for the error.
    Failure(header::HeaderMap),
    /// `101 Switching Protocols` to an operation that asked for it: the
    /// headers and the connection, for the caller.
    Switched(header::HeaderMap, reqwest::Upgraded),
}

/// Whether a status is worth another attempt of an idempotent request.
fn is_retryable_status(status: u16) -> bool {
    matches!(status, 423 | 429 | 502..=504)
}

/// Whether a wait starting now would end at or after `deadline`.
fn ends_after(wait: Duration, deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| {
        Instant::now()
            .checked_add(wait)
            .is_none_or(|end| end >= deadline)
    })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The service's tracking ID from the response headers, if it sent one.
/// The tracking ID of a call's answer: the one the service echoed, else the
/// one sent. The echo is almost always the ID sent, which is then kept
/// rather than copied.
fn answer_tracking_id(headers: &header::HeaderMap, sent: String) -> String {
    match echoed_tracking_id(headers) {
        Some(echoed) if echoed != sent => echoed.to_string(),
        _ => sent,
    }
}

/// The tracking ID an answer carries, if it carries one.
fn echoed_tracking_id(headers: &header::HeaderMap) -> Option<&str> {
    headers
        .get(TRACKING_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn header_tracking_id(headers: &header::HeaderMap) -> Option<String> {
    echoed_tracking_id(headers).map(str::to_string)
}

/// The error for an answer that is not the success status.
///
/// The body is read leniently: a field of the wrong type is skipped rather
/// than making the whole answer unreadable, because what matters most is the
/// status and the tracking ID.
fn error_from_answer(
    status: u16,
    headers: &header::HeaderMap,
    body: &[u8],
    sent_tracking_id: &str,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Error {
    let header_tracking_id = header_tracking_id(headers);
    // A refusal is a refusal whatever the body says; the wait is what the
    // caller needs.
    let refused = matches!(status, 423 | 429);
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(fields)) => Some(fields),
            _ if refused => None,
            Ok(_) => {
                return Error::UnreadableResponse {
                    status,
                    snippet: runtime::snippet(body),
                    reason: "not a Webex error body: expected a JSON object".into(),
                    tracking_id: header_tracking_id.unwrap_or_else(|| sent_tracking_id.into()),
                    attempts,
                };
            }
            Err(e) => {
                return Error::UnreadableResponse {
                    status,
                    snippet: runtime::snippet(body),
                    reason: format!("not JSON: {e}"),
                    tracking_id: header_tracking_id.unwrap_or_else(|| sent_tracking_id.into()),
                    attempts,
                };
            }
        }
    };
    let text = |value: Option<&serde_json::Value>| {
        value
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    // Webex writes `errorCode` as a number, and some gateways as text.
    let code = |value: Option<&serde_json::Value>| match value? {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    let (message, details, body_tracking_id, error_code) = match &parsed {
        Some(fields) => {
            let errors = fields
                .get("errors")
                .and_then(serde_json::Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            (
                text(fields.get("message")),
                errors
                    .iter()
                    .filter_map(|detail| text(detail.get("description")))
                    .collect(),
                text(fields.get("trackingId")),
                code(fields.get("errorCode")).or_else(|| {
                    errors
                        .iter()
                        .find_map(|detail| code(detail.get("errorCode")))
                }),
            )
        }
        None => (None, Vec::new(), None, None),
    };
    let api = ApiError {
        status,
        message,
        details,
        error_code,
        tracking_id: body_tracking_id
            .or(header_tracking_id)
            .unwrap_or_else(|| sent_tracking_id.to_string()),
        attempts,
        retry_after,
        throttled: 0,
        waited: Duration::ZERO,
        gave_up: None,
    };
    if status == 429 {
        Error::RateLimited(Box::new(api))
    } else {
        Error::Api(Box::new(api))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_is_jittered_down_by_at_most_half() {
        let policy =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(1000));
        let full = [100, 200, 400, 800, 1000, 1000, 1000];
        for (retry, full) in (1..).zip(full) {
            let full = Duration::from_millis(full);
            for salt in 0..50 {
                let wait = policy.backoff_for(retry, salt);
                assert!(wait <= full && wait >= full / 2, "retry {retry}: {wait:?}");
            }
        }
    }

    #[test]
    fn backoff_waits_differ_between_calls() {
        let policy = RetryPolicy::default();
        let waits: std::collections::HashSet<Duration> =
            (0..20).map(|salt| policy.backoff_for(3, salt)).collect();
        assert!(waits.len() > 1, "{waits:?}");
    }

    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
    #[test]
    fn https_is_refused_without_tls_naming_the_features_to_enable() {
        for base_url in [DEFAULT_BASE_URL, "https://127.0.0.1:8443/v1"] {
            let error = Client::builder()
                .token("a-webex-access-token")
                .base_url(base_url)
                .build()
                .unwrap_err();
            assert!(matches!(error, Error::Config(_)), "{error:?}");
            let text = error.to_string();
            assert!(
                text.contains("`rustls`") && text.contains("`native-tls`"),
                "{text}"
            );
        }
        let local = Client::builder()
            .token("a-webex-access-token")
            .base_url("http://127.0.0.1:8080/v1")
            .build();
        assert!(local.is_ok(), "{local:?}");
    }

    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    #[test]
    fn https_is_accepted_with_tls() {
        let client = Client::builder()
            .token("a-webex-access-token")
            .base_url(DEFAULT_BASE_URL)
            .build();
        assert!(client.is_ok(), "{client:?}");
    }

    #[test]
    fn a_token_request_says_whether_it_is_a_refresh() {
        assert!(!TokenRequest::new().is_refresh());
        assert!(!TokenRequest::default().is_refresh());
        let refresh = TokenRequest::refresh("s3cr3t");
        assert!(refresh.is_refresh());
        assert_eq!(refresh.refused_token(), Some("s3cr3t"));
        assert!(!format!("{refresh:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_bearer_header_is_sensitive_and_its_errors_never_show_the_token() {
        let auth = bearer("  s3cr3t  ").unwrap();
        assert_eq!(auth, "Bearer s3cr3t");
        assert!(auth.is_sensitive());
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        for (token, rule) in [
            ("s3cr3t\r\nx", "not allowed"),
            ("s3cr3t\u{7f}", "not allowed"),
            ("", "empty"),
        ] {
            let error = bearer(token).unwrap_err();
            assert!(error.contains(rule) && !error.contains("s3cr3t"), "{error}");
        }
    }

    #[test]
    fn a_huge_retry_number_does_not_overflow() {
        let policy = RetryPolicy::default();
        assert!(policy.backoff_for(u32::MAX, 1) <= Duration::from_secs(8));
    }
}
