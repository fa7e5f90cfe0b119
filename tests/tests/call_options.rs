//! Settings one call overrides (retry policy, budget, timeout) and settings
//! every call shares (the client's `orgId`): a fail-fast path and a
//! patient one on one client, which share its rate limiter.

use std::time::{Duration, Instant};

use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::UpdateHuntGroupRequest;
use webex_calling::{Client, Error, RetryPolicy};

fn update_hunt_group(client: &Client) -> webex_calling::builder::UpdateHuntGroup<'static> {
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(UpdateHuntGroupRequest::new().enabled(true))
}

#[tokio::test]
async fn a_call_fails_fast_on_its_own_policy_and_the_next_call_keeps_the_clients() {
    let fake = FakeWebex::start().await;
    fake.push_faults([Fault::status(503), Fault::status(503)]);
    let client = fake
        .client_builder()
        .retry(RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(10)))
        .build()
        .unwrap();

    let fast = update_hunt_group(&client)
        .retry(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert_eq!(fast.status(), Some(503));
    assert_eq!(fast.attempts(), 1);

    // The client's own policy retries through the second 503.
    let patient = update_hunt_group(&client).send_with_meta().await.unwrap();
    assert_eq!(patient.attempts(), 2);
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_call_that_does_not_wait_out_a_429_still_holds_back_the_clients_other_calls() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::too_many_requests("1"));
    let client = fake.client();

    let fast = update_hunt_group(&client)
        .retry(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(fast, Error::RateLimited(_)), "{fast:?}");

    // One limiter: the next call, on the client's patient policy, waits
    // out the Retry-After the fail-fast call was given.
    let started = Instant::now();
    update_hunt_group(&client).send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_at() - requests[0].received_at();
    assert!(gap >= Duration::from_millis(900), "{gap:?}");
}

#[tokio::test]
async fn a_calls_timeout_and_budget_replace_the_clients() {
    let fake = FakeWebex::start().await;
    fake.push_faults([
        Fault::delay(Duration::from_millis(400)),
        Fault::delay(Duration::from_millis(400)),
    ]);
    let client = fake
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let timed_out = update_hunt_group(&client)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(timed_out, Error::Timeout { .. }), "{timed_out:?}");

    let started = Instant::now();
    let out_of_budget = update_hunt_group(&client)
        .budget(Duration::from_millis(150))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(out_of_budget, Error::Timeout { .. }),
        "{out_of_budget:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(390),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_zero_budget_or_timeout_is_refused_naming_it_and_nothing_is_sent() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let error = update_hunt_group(&client)
        .budget(Duration::ZERO)
        .timeout(Duration::ZERO)
        .retry(RetryPolicy::default().budget(Duration::ZERO))
        .send()
        .await
        .unwrap_err();

    let input = error.invalid_input().expect("refused before sending");
    let paths: Vec<&str> = input.violations().iter().map(|v| v.path()).collect();
    assert_eq!(paths, ["retry.budget", "budget", "timeout"]);
    assert!(input.violations()[0].rule().contains("more than zero"));
    assert!(fake.requests().is_empty());
}

#[test]
fn a_zero_budget_or_timeout_is_refused_when_the_client_is_built() {
    let budget = Client::builder()
        .token("a-webex-access-token")
        .retry(RetryPolicy::none().budget(Duration::ZERO))
        .build()
        .unwrap_err();
    assert!(matches!(budget, Error::Config(_)), "{budget:?}");
    assert!(
        budget.to_string().contains("`RetryPolicy::budget`"),
        "{budget}"
    );

    let timeout = Client::builder()
        .token("a-webex-access-token")
        .timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        timeout.to_string().contains("`ClientBuilder::timeout`"),
        "{timeout}"
    );
}

#[tokio::test]
async fn the_clients_org_id_is_sent_by_every_call_that_does_not_set_its_own() {
    let fake = FakeWebex::start().await;
    let client = fake
        .client_builder()
        .org_id("another-organization")
        .build()
        .unwrap();

    // The fake's locations belong to its own organization: the client's
    // orgId finds none of them.
    let elsewhere = client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .send()
        .await
        .unwrap_err();
    assert!(elsewhere.is_not_found(), "{elsewhere:?}");

    update_hunt_group(&client)
        .org_id(fake.org_id())
        .send()
        .await
        .unwrap();

    let sent: Vec<Option<String>> = fake
        .requests()
        .iter()
        .map(|request| request.query_param("orgId"))
        .collect();
    assert_eq!(
        sent,
        [
            Some("another-organization".to_string()),
            Some(fake.org_id().to_string())
        ]
    );
}

#[tokio::test]
async fn without_a_client_org_id_no_org_id_is_sent() {
    let fake = FakeWebex::start().await;
    update_hunt_group(&fake.client()).send().await.unwrap();
    assert_eq!(fake.requests()[0].query_param("orgId"), None);
}
