//! A client whose token comes from a `TokenProvider`, against the fake
//! Webex: the provider is asked before every attempt, a `401` makes the
//! client ask it once for a new token, its failures end the call with their
//! source, and the token is never shown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::UpdateHuntGroupRequest;
use webex_calling::{
    Client, ClientBuilder, Error, RetryPolicy, TokenFuture, TokenProvider, TokenRequest,
};

/// Every token in this file contains this marker, so one search of what
/// was shown or logged covers them all.
const SECRET_MARKER: &str = "s3cr3t";
const OLD_TOKEN: &str = "s3cr3t-old-token";
const NEW_TOKEN: &str = "s3cr3t-new-token";

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Short waits, so retries take milliseconds.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .budget(Duration::from_secs(20))
}

/// A fake that accepts `OLD_TOKEN` only.
async fn fake() -> FakeWebex {
    webex_calling_tests::logs::capture();
    FakeWebex::builder()
        .token(OLD_TOKEN)
        .start()
        .await
        .expect("the fake started")
}

/// A builder for the fake with no token set.
fn builder(fake: &FakeWebex) -> ClientBuilder {
    Client::builder()
        .base_url(fake.base_url())
        .retry(quick_retries())
}

async fn update_hunt_group(client: &Client, enabled: bool) -> Result<(), Error> {
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(UpdateHuntGroupRequest::new().enabled(enabled))
        .send()
        .await
}

/// The `Authorization` header of every request the fake received.
fn sent_tokens(fake: &FakeWebex) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|request| request.header("authorization").unwrap_or("").to_string())
        .collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// What a provider was asked, in order: whether each was a refresh.
#[derive(Clone, Default)]
struct Asked(Arc<Mutex<Vec<TokenRequest>>>);

impl Asked {
    fn record(&self, request: TokenRequest) {
        lock(&self.0).push(request);
    }

    fn refreshes(&self) -> Vec<bool> {
        lock(&self.0).iter().map(TokenRequest::is_refresh).collect()
    }
}

/// A closure provider that always gives `token`, recording what it is
/// asked.
fn always(token: &'static str, asked: &Asked) -> impl TokenProvider {
    let asked = asked.clone();
    move |request: TokenRequest| {
        asked.record(request);
        async move { Ok::<_, std::convert::Infallible>(token) }
    }
}

/// An identity service: hands out whatever token is current, and counts
/// how often it was asked.
#[derive(Clone)]
struct Identity {
    current: Arc<Mutex<String>>,
    fetched: Arc<Mutex<u32>>,
}

impl Identity {
    fn new(token: &str) -> Self {
        Self {
            current: Arc::new(Mutex::new(token.to_string())),
            fetched: Arc::new(Mutex::new(0)),
        }
    }

    fn rotate(&self, token: &str) {
        *lock(&self.current) = token.to_string();
    }

    fn fetched(&self) -> u32 {
        *lock(&self.fetched)
    }

    async fn fetch(&self) -> Result<String, std::io::Error> {
        tokio::task::yield_now().await;
        *lock(&self.fetched) += 1;
        Ok(lock(&self.current).clone())
    }
}

/// A provider that caches the token and fetches a new one only when it has
/// none or when asked to refresh, as a real service's would.
struct Caching {
    identity: Identity,
    cached: tokio::sync::Mutex<Option<String>>,
    asked: Asked,
}

impl Caching {
    /// A provider with an empty cache, fetching from `identity`.
    fn new(identity: &Identity, asked: &Asked) -> Self {
        Self {
            identity: identity.clone(),
            cached: tokio::sync::Mutex::new(None),
            asked: asked.clone(),
        }
    }
}

impl TokenProvider for Caching {
    fn token(&self, request: TokenRequest) -> TokenFuture<'_> {
        self.asked.record(request.clone());
        Box::pin(async move {
            let mut cached = self.cached.lock().await;
            if request.is_refresh() || cached.is_none() {
                *cached = Some(self.identity.fetch().await?);
            }
            Ok(cached.clone().unwrap_or_default())
        })
    }
}

#[derive(Debug)]
struct FetchError;

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the identity service is unreachable")
    }
}

impl std::error::Error for FetchError {}

#[tokio::test]
async fn the_provider_is_asked_before_every_attempt_retries_included() {
    let fake = fake().await;
    fake.accept_token("s3cr3t-2");
    fake.accept_token("s3cr3t-3");
    fake.push_faults([Fault::status(503), Fault::status(502)]);
    let asked = Asked::default();
    let provider = {
        let asked = asked.clone();
        move |request: TokenRequest| {
            asked.record(request);
            let token = match lock(&asked.0).len() {
                1 => OLD_TOKEN.to_string(),
                n => format!("s3cr3t-{n}"),
            };
            async move { Ok::<_, FetchError>(token) }
        }
    };
    let client = builder(&fake).token_provider(provider).build().unwrap();

    update_hunt_group(&client, false).await.unwrap();

    assert_eq!(asked.refreshes(), [false, false, false]);
    assert_eq!(
        sent_tokens(&fake),
        [bearer(OLD_TOKEN), bearer("s3cr3t-2"), bearer("s3cr3t-3")]
    );
    assert_eq!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
            .unwrap()["enabled"],
        false
    );
}

#[tokio::test]
async fn after_a_401_the_provider_is_asked_to_refresh_and_the_call_succeeds_with_the_new_token() {
    let fake = fake().await;
    let identity = Identity::new(OLD_TOKEN);
    let asked = Asked::default();
    // No retries at all: the request sent again after a 401 is not one.
    let client = builder(&fake)
        .retry(RetryPolicy::none())
        .token_provider(Caching::new(&identity, &asked))
        .build()
        .unwrap();
    update_hunt_group(&client, false).await.unwrap();

    // The token expires, and the identity service hands out a new one.
    fake.accept_token(NEW_TOKEN);
    fake.revoke_token(OLD_TOKEN);
    identity.rotate(NEW_TOKEN);
    update_hunt_group(&client, true).await.unwrap();
    // The new token is cached: the next call sends it at once.
    update_hunt_group(&client, false).await.unwrap();

    assert_eq!(asked.refreshes(), [false, false, true, false]);
    assert_eq!(identity.fetched(), 2, "fetched at first and on the refresh");
    assert_eq!(
        sent_tokens(&fake),
        [
            bearer(OLD_TOKEN),
            bearer(OLD_TOKEN),
            bearer(NEW_TOKEN),
            bearer(NEW_TOKEN)
        ]
    );
    let requests = fake.requests();
    assert_eq!(
        requests[1].header("trackingid"),
        requests[2].header("trackingid"),
        "the request sent again is the same call"
    );
    assert_eq!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
            .unwrap()["enabled"],
        false
    );
}

#[tokio::test]
async fn a_second_401_fails_with_401_and_the_provider_was_asked_exactly_twice() {
    let fake = fake().await;
    fake.revoke_token(OLD_TOKEN);
    let asked = Asked::default();
    let client = builder(&fake)
        .token_provider(always(OLD_TOKEN, &asked))
        .build()
        .unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert!(matches!(error, Error::Api(_)), "{error:?}");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.attempts(), 2, "{error}");
    assert_eq!(asked.refreshes(), [false, true]);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn the_refresh_after_a_401_happens_once_per_call_and_again_in_the_next_call() {
    let fake = fake().await;
    fake.accept_token(NEW_TOKEN);
    // A 401 on the first attempt, then a 503 and a 401 after the refresh.
    fake.push_faults([Fault::status(401), Fault::status(503), Fault::status(401)]);
    let asked = Asked::default();
    let client = builder(&fake)
        .token_provider(always(NEW_TOKEN, &asked))
        .build()
        .unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(error.attempts(), 3, "{error}");
    assert_eq!(asked.refreshes(), [false, true, false]);

    fake.push_fault(Fault::status(401));
    update_hunt_group(&client, false).await.unwrap();
    assert_eq!(asked.refreshes(), [false, true, false, false, true]);
}

#[tokio::test]
async fn a_static_token_answered_401_is_not_sent_again() {
    let fake = fake().await;
    fake.revoke_token(OLD_TOKEN);
    let client = builder(&fake).token(OLD_TOKEN).build().unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert!(matches!(error, Error::Api(_)), "{error:?}");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.attempts(), 1);
    assert_eq!(sent_tokens(&fake), [bearer(OLD_TOKEN)]);
}

#[tokio::test]
async fn a_provider_error_ends_the_call_with_its_source_and_nothing_is_sent() {
    let fake = fake().await;
    let asked = Asked::default();
    let provider = {
        let asked = asked.clone();
        move |request: TokenRequest| {
            asked.record(request);
            async move { Err::<String, _>(FetchError) }
        }
    };
    let client = builder(&fake).token_provider(provider).build().unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert!(matches!(error, Error::TokenProvider { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("the token provider gave no token"), "{text}");
    assert!(text.contains("nothing was sent"), "{text}");
    // The cause is the source, and only the source: a report that walks
    // the chain shows it once.
    assert!(
        !text.contains("the identity service is unreachable"),
        "{text}"
    );
    let source = std::error::Error::source(&error).expect("a source");
    assert!(source.downcast_ref::<FetchError>().is_some(), "{source:?}");
    assert!(
        source
            .to_string()
            .contains("the identity service is unreachable"),
        "{source}"
    );
    assert_eq!(error.attempts(), 0);
    assert_eq!(error.status(), None);
    assert!(!error.is_retryable());
    assert!(error.tracking_id().is_some());
    assert_eq!(asked.refreshes(), [false], "asked once, not retried");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_provider_that_fails_on_a_retry_ends_the_call_counting_what_was_sent() {
    let fake = fake().await;
    fake.push_fault(Fault::status(503));
    let asked = Asked::default();
    let provider = {
        let asked = asked.clone();
        move |request: TokenRequest| {
            asked.record(request);
            let first = lock(&asked.0).len() == 1;
            async move {
                if first {
                    Ok(OLD_TOKEN)
                } else {
                    Err(FetchError)
                }
            }
        }
    };
    let client = builder(&fake).token_provider(provider).build().unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert!(matches!(error, Error::TokenProvider { .. }), "{error:?}");
    assert_eq!(error.attempts(), 1);
    assert!(error.to_string().contains("after 1 attempt"), "{error}");
    assert_eq!(
        error.tracking_id(),
        fake.requests()[0].header("trackingid"),
        "the call's tracking ID"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_token_that_cannot_be_sent_is_an_error_naming_the_rule_not_the_token() {
    let fake = fake().await;
    for (token, rule) in [
        (
            "s3cr3t\nwith a line break",
            "characters not allowed in a header",
        ),
        ("s3cr3t-\u{7f}-delete", "characters not allowed in a header"),
        (" \t ", "empty"),
    ] {
        let asked = Asked::default();
        let client = builder(&fake)
            .token_provider(always(token, &asked))
            .build()
            .unwrap();

        let error = update_hunt_group(&client, false).await.unwrap_err();

        assert!(matches!(error, Error::TokenProvider { .. }), "{error:?}");
        let source = std::error::Error::source(&error).expect("what was wrong");
        for shown in [source.to_string(), format!("{error:?}")] {
            assert!(shown.contains(rule), "{shown}");
            assert!(!shown.contains(SECRET_MARKER), "{shown}");
        }
        assert!(!error.to_string().contains(SECRET_MARKER), "{error}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_provider_that_never_answers_ends_the_call_when_its_budget_runs_out() {
    let fake = fake().await;
    let client = builder(&fake)
        .retry(RetryPolicy::default().budget(Duration::from_millis(200)))
        .token_provider(|_: TokenRequest| {
            std::future::pending::<Result<String, std::convert::Infallible>>()
        })
        .build()
        .unwrap();
    let started = Instant::now();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(error, Error::TokenProvider { .. }), "{error:?}");
    let source = std::error::Error::source(&error).expect("why there is no token");
    assert!(source.to_string().contains("time budget"), "{source}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_token_or_provider_set_last_is_the_one_used() {
    let fake = fake().await;
    fake.accept_token(NEW_TOKEN);

    let asked = Asked::default();
    let static_last = builder(&fake)
        .token_provider(always(NEW_TOKEN, &asked))
        .token(OLD_TOKEN)
        .build()
        .unwrap();
    update_hunt_group(&static_last, false).await.unwrap();
    assert!(asked.refreshes().is_empty(), "the provider was replaced");

    let provider_last = builder(&fake)
        .token(OLD_TOKEN)
        .token_provider(always(NEW_TOKEN, &asked))
        .build()
        .unwrap();
    update_hunt_group(&provider_last, false).await.unwrap();
    assert_eq!(asked.refreshes(), [false]);

    assert_eq!(sent_tokens(&fake), [bearer(OLD_TOKEN), bearer(NEW_TOKEN)]);
}

#[tokio::test]
async fn clones_share_the_provider() {
    let fake = fake().await;
    let asked = Asked::default();
    let client = builder(&fake)
        .token_provider(always(OLD_TOKEN, &asked))
        .build()
        .unwrap();
    let clone = client.clone();

    update_hunt_group(&client, false).await.unwrap();
    update_hunt_group(&clone, true).await.unwrap();

    assert_eq!(asked.refreshes(), [false, false]);
}

#[tokio::test]
async fn debug_display_and_logs_never_show_a_provided_token() {
    let fake = fake().await;
    fake.revoke_token(OLD_TOKEN);
    let asked = Asked::default();
    let builder = builder(&fake).token_provider(always(OLD_TOKEN, &asked));
    let client = builder.clone().build().unwrap();

    let error = update_hunt_group(&client, false).await.unwrap_err();

    assert_eq!(asked.refreshes(), [false, true]);
    let shown = [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.clone()),
        format!("{error:?}"),
        format!("{error}"),
    ];
    for text in shown {
        assert!(!text.contains(SECRET_MARKER), "{text}");
    }
    assert!(
        format!("{client:?}").contains("token provider"),
        "{client:?}"
    );
    let logs = webex_calling_tests::logs::captured();
    let tracking_id = fake.requests()[0].header("trackingid").unwrap().to_string();
    assert!(logs.contains(&tracking_id), "the call was logged: {logs}");
    assert!(!logs.contains(SECRET_MARKER), "{logs}");
}

#[tokio::test]
async fn a_token_refused_by_many_calls_at_once_is_refreshed_once() {
    let fake = fake().await;
    let identity = Identity::new(OLD_TOKEN);
    let asked = Asked::default();
    let client = builder(&fake)
        .token_provider(Caching::new(&identity, &asked))
        .build()
        .unwrap();
    update_hunt_group(&client, true).await.unwrap();
    // The token expires; Webex has issued the next one.
    fake.revoke_token(OLD_TOKEN);
    fake.accept_token(NEW_TOKEN);
    identity.rotate(NEW_TOKEN);
    fake.clear_requests();

    let calls: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { update_hunt_group(&client, i % 2 == 0).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    let refused = sent_tokens(&fake)
        .iter()
        .filter(|token| **token == bearer(OLD_TOKEN))
        .count();
    assert!(refused >= 2, "the calls did overlap: {refused} saw the 401");
    assert_eq!(identity.fetched(), 2, "the first fetch, then one refresh");
    let refreshes: Vec<Option<String>> = lock(&asked.0)
        .iter()
        .filter(|request| request.is_refresh())
        .map(|request| request.refused_token().map(str::to_string))
        .collect();
    assert_eq!(refreshes, [Some(OLD_TOKEN.to_string())]);
}
