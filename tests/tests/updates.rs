//! Read-modify-write that sends only what changed, and finding out what
//! happened to a rename whose outcome is unknown, against the fake.

use serde_json::json;
use webex_calling::Error;
use webex_calling::fake::{FakeWebex, Fault, call_pickup_id, fixtures};
use webex_calling::types::{CallPickupNotificationType, HuntPolicy, UpdateCallPickupRequest};

const LOCATION: &str = fixtures::LOCATION_ID;

#[tokio::test]
async fn a_changed_notification_type_is_all_that_is_sent_and_it_is_retried_through_a_502() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .send()
        .await
        .unwrap();
    let mut changed = read.clone();
    changed.notification_type = Some(CallPickupNotificationType::AudioAndVisual);
    fake.clear_requests();
    fake.push_fault(Fault::status(502).on_operation("updateCallPickup"));

    let updated = client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&read.id)
        .body(changed.changes_since(&read))
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(updated.attempts(), 2, "the 502 was retried");
    assert_eq!(updated.id, fixtures::CALL_PICKUP_ID);
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    for request in &sent {
        assert_eq!(
            request.json().unwrap(),
            json!({ "notificationType": "AUDIO_AND_VISUAL" })
        );
    }
    let stored = fake
        .call_pickup(LOCATION, fixtures::CALL_PICKUP_ID)
        .unwrap();
    assert_eq!(stored["notificationType"], "AUDIO_AND_VISUAL");
}

#[tokio::test]
async fn a_field_left_as_read_does_not_overwrite_a_concurrent_change() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .send()
        .await
        .unwrap();
    // Someone else changes the members meanwhile.
    client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&read.id)
        .body(UpdateCallPickupRequest::new().agents([fixtures::SECOND_PERSON_ID.to_string()]))
        .send()
        .await
        .unwrap();
    let mut changed = read.clone();
    changed.notification_delay_timer_seconds = Some(12);

    client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&read.id)
        .body(changed.changes_since(&read))
        .send()
        .await
        .unwrap();

    let stored = fake
        .call_pickup(LOCATION, fixtures::CALL_PICKUP_ID)
        .unwrap();
    assert_eq!(
        stored["agents"],
        json!([fixtures::SECOND_PERSON_ID]),
        "the other change is kept"
    );
    assert_eq!(stored["notificationDelayTimerSeconds"], 12);
}

#[tokio::test]
async fn nothing_changed_sends_an_empty_update() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .send()
        .await
        .unwrap();

    let mut changed = read.clone();
    let unchanged = changed.changes_since(&read);
    changed.call_policies.policy = HuntPolicy::Weighted;
    let policy_only = changed.changes_since(&read);

    assert_eq!(serde_json::to_value(&unchanged).unwrap(), json!({}));
    let sent = serde_json::to_value(&policy_only).unwrap();
    assert_eq!(
        sent.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["callPolicies"]
    );
    assert_eq!(sent["callPolicies"]["policy"], "WEIGHTED");
    client
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(policy_only)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rename_is_reported_unknown_after_a_502_and_the_documented_recovery_finds_it() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .send()
        .await
        .unwrap();
    let mut renamed = read.clone();
    renamed.name = "Front desk".to_string();
    // The rename lands, then the gateway fails.
    fake.push_fault(
        Fault::status(502)
            .after_applying()
            .on_operation("updateCallPickup"),
    );
    fake.clear_requests();

    let error = client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&read.id)
        .body(renamed.changes_since(&read))
        .send()
        .await
        .unwrap_err();

    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error}");
    assert_eq!(fake.requests().len(), 1, "a rename is not sent again");
    let message = error.to_string();
    let recovery = "client.list_call_pickups().location_id(location_id).name(new_name).send().await?.call_pickups";
    assert!(message.contains(recovery), "{message}");

    // The one line the message gives, with its names bound.
    let (location_id, new_name) = (LOCATION, "Front desk");
    let found = async {
        Ok::<_, Error>(
            client
                .list_call_pickups()
                .location_id(location_id)
                .name(new_name)
                .send()
                .await?
                .call_pickups,
        )
    }
    .await
    .unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Front desk");
    assert_eq!(found[0].id, call_pickup_id("Front desk"));
}
