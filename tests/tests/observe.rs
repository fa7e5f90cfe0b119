//! What an observer is told: every attempt, refusal for rate, retry and
//! finished call, in order, with the numbers metrics need.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::UpdateHuntGroupRequest;
use webex_calling::{Event, EventKind, RetryPolicy};

/// One line per event: its kind and the numbers the test checks.
fn describe(event: &Event<'_>) -> String {
    match &event.kind {
        EventKind::Attempt { attempt, .. } => format!("attempt {attempt}"),
        EventKind::Throttled { retry_after, .. } => format!("throttled {retry_after:?}"),
        EventKind::Retry {
            attempt, status, ..
        } => format!("retry after attempt {attempt} ({status:?})"),
        EventKind::Finished {
            attempts, outcome, ..
        } => match outcome {
            Ok(status) => format!("finished {status} after {attempts}"),
            Err(error) => format!("failed {:?} after {attempts}", error.status()),
        },
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn an_observer_sees_attempts_throttling_retries_and_the_outcome() {
    let fake = FakeWebex::start().await;
    fake.push_faults([Fault::too_many_requests("0"), Fault::status(503)]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let operations = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let seen = Arc::clone(&seen);
        let operations = Arc::clone(&operations);
        fake.client_builder()
            .retry(
                RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(10)),
            )
            .observer(move |event: &Event<'_>| {
                seen.lock().unwrap().push(describe(event));
                operations
                    .lock()
                    .unwrap()
                    .push((event.operation.to_string(), event.tracking_id.to_string()));
            })
            .build()
            .unwrap()
    };

    let done = client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(
        *seen.lock().unwrap(),
        [
            "attempt 1",
            "throttled Some(0ns)",
            "retry after attempt 1 (Some(429))",
            "attempt 2",
            "retry after attempt 2 (Some(503))",
            "attempt 3",
            "finished 204 after 3",
        ]
    );
    let operations = operations.lock().unwrap();
    assert!(
        operations
            .iter()
            .all(|(operation, _)| operation == "updateHuntGroup")
    );
    assert_eq!(
        operations.last().map(|(_, id)| id.as_str()),
        Some(done.tracking_id())
    );
}

#[tokio::test]
async fn an_observer_hears_nothing_of_a_call_refused_before_sending() {
    let fake = FakeWebex::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let seen = Arc::clone(&seen);
        fake.client_builder()
            .observer(move |event: &Event<'_>| seen.lock().unwrap().push(describe(event)))
            .build()
            .unwrap()
    };

    // A zero budget of its own: refused before anything is sent.
    client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .budget(Duration::ZERO)
        .send()
        .await
        .unwrap_err();
    client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id("no-such-group")
        .send()
        .await
        .unwrap_err();

    assert_eq!(
        *seen.lock().unwrap(),
        ["attempt 1", "failed Some(404) after 1"]
    );
}
