//! Bulk jobs against the fake's rate limit: every call lands, and nothing is
//! sent with the token while a `Retry-After` is in force.

use webex_calling::fake::{FakeWebex, RateLimit, fixtures};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling::{Error, RateLimiter};

const CALLS: usize = 400;
const CONCURRENCY: usize = 64;

/// Runs `calls` updates, alternating hunt group and call pickup updates that
/// keep the IDs, through one client at `CONCURRENCY`; the failures.
async fn bulk_job(client: webex_calling::Client, calls: usize) -> Vec<Error> {
    webex_calling_tests::bulk(&client, calls, CONCURRENCY, |client, call| async move {
        if call.is_multiple_of(2) {
            client
                .update_hunt_group()
                .location_id(fixtures::LOCATION_ID)
                .hunt_group_id(fixtures::HUNT_GROUP_ID)
                .body(UpdateHuntGroupRequest::new().enabled(call.is_multiple_of(4)))
                .send()
                .await
        } else {
            let seconds = i32::try_from(call % 60).unwrap_or(0);
            client
                .update_call_pickup()
                .location_id(fixtures::LOCATION_ID)
                .call_pickup_id(fixtures::CALL_PICKUP_ID)
                .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(seconds))
                .send()
                .await
                .map(drop)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_job_at_concurrency_64_lands_every_call_and_never_sends_during_a_retry_after() {
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(200.0).burst(10).retry_after("1"))
        .start()
        .await
        .expect("the fake");

    let failures = bulk_job(fake.client(), CALLS).await;

    assert!(
        failures.is_empty(),
        "{} failed, the first: {}",
        failures.len(),
        failures[0]
    );
    let stats = fake.rate_limit_stats();
    assert_eq!(stats.accepted, CALLS as u64);
    assert!(stats.blocks >= 1, "the job never met the limit: {stats:?}");
    // Requests already on the wire when a block started are refused too;
    // none may be sent after the client saw the refusal and before the
    // `Retry-After` passed.
    assert_eq!(stats.early, 0, "{stats:?}");
    // A client that resumed everything at once would be refused again and
    // again; the limiter keeps refusals to a few per hundred calls.
    assert!(stats.throttled <= (CALLS as u64) * 5 / 100, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_job_without_pacing_still_waits_out_every_retry_after() {
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(200.0).burst(40).retry_after("1"))
        .start()
        .await
        .expect("the fake");
    let client = fake
        .client_builder()
        .rate_limiter(RateLimiter::none())
        .build()
        .expect("a client");

    // Without pacing every refusal costs a whole second: fewer calls.
    let failures = bulk_job(client, 120).await;

    assert!(
        failures.is_empty(),
        "{} failed, the first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(
        fake.rate_limit_stats().early,
        0,
        "{:?}",
        fake.rate_limit_stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_rate_under_the_limit_is_never_refused() {
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(200.0).burst(5).retry_after("1"))
        .start()
        .await
        .expect("the fake");
    let client = fake
        .client_builder()
        .rate_limiter(RateLimiter::fixed(150.0))
        .build()
        .expect("a client");

    let failures = bulk_job(client, CALLS).await;

    assert!(
        failures.is_empty(),
        "{} failed, the first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(
        fake.rate_limit_stats().throttled,
        0,
        "{:?}",
        fake.rate_limit_stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_built_with_one_limiter_hold_back_together_and_others_do_not() {
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(0.5).burst(1).retry_after("1"))
        .start()
        .await
        .expect("the fake");
    let shared = RateLimiter::adaptive();
    let build = |limiter: RateLimiter| {
        fake.client_builder()
            .rate_limiter(limiter)
            .build()
            .expect("a client")
    };
    let first = build(shared.clone());
    let second = build(shared);
    let apart = build(RateLimiter::adaptive());
    let update = |client: webex_calling::Client| async move {
        webex_calling_tests::update_hunt_group(&client).await
    };

    // The burst, then a refusal: the first client waits a second.
    update(first.clone()).await.expect("the burst");
    update(first.clone()).await.expect("after the wait");

    assert!(first.paced_rate().is_some());
    assert_eq!(second.paced_rate(), first.paced_rate());
    assert_eq!(apart.paced_rate(), None);
    // The second client sends nothing into a block the first was told of.
    update(second).await.expect("the second client");
    let stats = fake.rate_limit_stats();
    assert_eq!(stats.early, 0, "{stats:?}");
    assert_eq!(stats.accepted, 3, "{stats:?}");
}

#[tokio::test]
async fn a_fixed_rate_that_is_not_a_positive_finite_number_is_refused_at_build() {
    for rate in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        let error = webex_calling::Client::builder()
            .token("a-webex-access-token")
            .base_url("http://127.0.0.1:9/v1")
            .rate_limiter(RateLimiter::fixed(rate))
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{rate}: {error:?}");
        let text = error.to_string();
        assert!(
            text.contains("RateLimiter::fixed") && text.contains("above 0"),
            "{rate}: {text}"
        );
    }
}
