//! What an error tells: each cause once, a message true for the policy the
//! call had, and the questions callers ask most without matching.

use std::error::Error as _;
use std::time::Duration;

use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::UpdateCallPickupRequest;
use webex_calling::{Error, RetryPolicy};

use webex_calling_tests::update_hunt_group;

/// Every message of an error and its sources, in order, as `anyhow` and
/// `eyre` print them.
fn chain(error: &Error) -> Vec<String> {
    let mut out = vec![error.to_string()];
    let mut next = error.source();
    while let Some(error) = next {
        out.push(error.to_string());
        next = error.source();
    }
    out
}

#[tokio::test]
async fn a_transport_error_shows_its_cause_once_in_the_chain() {
    let error = update_hunt_group(&webex_calling_tests::unreachable_client())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let chain = chain(&error);
    assert!(chain.len() >= 2, "the cause is the source: {chain:#?}");
    for (i, outer) in chain.iter().enumerate() {
        for inner in &chain[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{inner:?} is shown twice: {chain:#?}"
            );
        }
    }
    assert!(
        chain[0].contains("could not connect to Webex"),
        "{chain:#?}"
    );
    assert!(chain[0].contains("tracking ID"), "{chain:#?}");
}

#[tokio::test]
async fn an_unknown_outcome_keeps_its_cause_as_the_source_not_in_its_message() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502));
    let error = fake
        .client()
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .body(UpdateCallPickupRequest::new().name("Lobby"))
        .send()
        .await
        .unwrap_err();

    assert!(error.is_outcome_unknown(), "{error:?}");
    let source = error.source().expect("the last attempt's error");
    let text = error.to_string();
    assert!(!text.contains(&source.to_string()), "{text}");
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert_eq!(error.tracking_id(), source_tracking_id(&error));
}

fn source_tracking_id(error: &Error) -> Option<&str> {
    match error {
        Error::OutcomeUnknown { source, .. } => source.tracking_id(),
        _ => None,
    }
}

#[tokio::test]
async fn a_429_under_a_policy_that_does_not_wait_says_so_and_not_that_a_budget_ran_out() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::too_many_requests("1"));
    let client = fake
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let error = update_hunt_group(&client).await.unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("does not wait out a refusal for rate"),
        "{text}"
    );
    assert!(!text.contains("budget"), "{text}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_429_asking_for_more_than_the_budget_has_left_says_so() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::too_many_requests("30"));
    let client = fake
        .client_builder()
        .retry(RetryPolicy::default().budget(Duration::from_secs(5)))
        .build()
        .unwrap();

    let error = update_hunt_group(&client).await.unwrap_err();

    let text = error.to_string();
    assert!(text.contains("asked to wait 30 s"), "{text}");
    assert!(
        text.contains("longer than the call's time budget had left"),
        "{text}"
    );
}

#[tokio::test]
async fn not_found_and_conflict_are_asked_without_matching() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let missing = client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id("no-such-hunt-group")
        .send()
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    assert!(!missing.is_conflict());

    let taken = fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID);
    let other = fake
        .add_call_pickup(
            fixtures::LOCATION_ID,
            "Another group",
            serde_json::json!({}),
        )
        .expect("valid seed settings");
    let name = taken.expect("the fixture call pickup")["name"]
        .as_str()
        .expect("a name")
        .to_string();
    let conflict = client
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(other)
        .body(UpdateCallPickupRequest::new().name(name))
        .send()
        .await
        .unwrap_err();
    assert!(conflict.is_conflict(), "{conflict:?}");
    assert!(!conflict.is_not_found());

    assert!(
        !webex_calling::Client::builder()
            .build()
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn webex_error_codes_are_read_from_the_body_or_its_first_error() {
    let fake = FakeWebex::start().await;
    fake.push_faults([
        Fault::status(400).body(
            "application/json",
            r#"{"message":"Invalid field","errorCode":25008,"errors":[{"description":"Invalid field","errorCode":25009}],"trackingId":"T1"}"#,
        ),
        Fault::status(404).body(
            "application/json",
            r#"{"message":"Not found","errors":[{"description":"no such group","errorCode":"4008"}],"trackingId":"T2"}"#,
        ),
        Fault::status(400).body("application/json", r#"{"message":"No code","trackingId":"T3"}"#),
    ]);
    let client = fake
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let first = update_hunt_group(&client).await.unwrap_err();
    assert_eq!(first.error_code(), Some(25008), "{first:?}");
    let second = update_hunt_group(&client).await.unwrap_err();
    assert_eq!(second.error_code(), Some(4008), "{second:?}");
    assert!(second.is_not_found());
    let third = update_hunt_group(&client).await.unwrap_err();
    assert_eq!(third.error_code(), None, "{third:?}");
    assert_eq!(third.tracking_id(), Some("T3"));
}
