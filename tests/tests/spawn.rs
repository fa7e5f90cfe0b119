//! Calls as a service spawns them: builders own a clone of the client, so a
//! `send()` future with owned arguments is `Send + 'static`.

use std::future::Future;

use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling::{Client, Error};

/// Compiles only for a future `tokio::spawn` takes; the future is dropped
/// unpolled, so nothing is sent.
fn spawnable<F: Future + Send + 'static>(future: F) {
    drop(future);
}

/// Compiles only for a value that may cross and be shared between threads.
fn send_sync<T: Send + Sync>() {}

#[test]
fn clients_builders_and_errors_cross_threads() {
    send_sync::<Client>();
    send_sync::<Error>();
    send_sync::<webex_calling::builder::UpdateHuntGroup<'static>>();
    send_sync::<webex_calling::builder::UpdateCallPickup<'static>>();
    send_sync::<webex_calling::builder::GetHuntGroup<'static>>();
    send_sync::<webex_calling::builder::GetCallPickup<'static>>();
    send_sync::<webex_calling::Response<webex_calling::types::UpdateCallPickupResponse>>();
}

/// Every operation's future, with owned arguments, outlives the client
/// handle it came from and may be spawned: checked by the compiler.
#[test]
fn every_operation_with_owned_arguments_is_spawnable() {
    let client = &webex_calling_tests::unreachable_client();
    let id = String::from("id");
    spawnable(
        client
            .update_hunt_group()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .body(UpdateHuntGroupRequest::new())
            .retry(webex_calling::RetryPolicy::none())
            .budget(std::time::Duration::from_secs(1))
            .timeout(std::time::Duration::from_secs(1))
            .send(),
    );
    spawnable(
        client
            .update_call_pickup()
            .location_id(id.clone())
            .call_pickup_id(id.clone())
            .body(UpdateCallPickupRequest::new())
            .send_with_meta(),
    );
    spawnable(
        client
            .get_hunt_group()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_call_pickup()
            .location_id(id.clone())
            .call_pickup_id(id.clone())
            .send(),
    );
    // The operations below are checked without a body: the future's type
    // does not depend on it, and nothing is sent.
    spawnable(client.list_call_pickups().location_id(id.clone()).send());
    spawnable(client.create_call_pickup().location_id(id.clone()).send());
    spawnable(
        client
            .delete_call_pickup()
            .location_id(id.clone())
            .call_pickup_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .list_call_pickup_available_agents()
            .location_id(id.clone())
            .send(),
    );
    spawnable(client.list_hunt_groups().send());
    spawnable(client.create_hunt_group().location_id(id.clone()).send());
    spawnable(
        client
            .delete_hunt_group()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_hunt_group_call_forwarding_settings()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .update_hunt_group_call_forwarding_settings()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .create_hunt_group_selective_call_forwarding_rule()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_hunt_group_selective_call_forwarding_rule()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .rule_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .update_hunt_group_selective_call_forwarding_rule()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .rule_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .delete_hunt_group_selective_call_forwarding_rule()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .rule_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .switch_hunt_group_call_forwarding_mode()
            .location_id(id.clone())
            .hunt_group_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_hunt_group_primary_available_phone_numbers()
            .location_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_hunt_group_alternate_available_phone_numbers()
            .location_id(id.clone())
            .send(),
    );
    spawnable(
        client
            .get_hunt_group_call_forward_available_phone_numbers()
            .location_id(id.clone())
            .send(),
    );
}

/// The compile-time check above is only as good as its list: every
/// operation of the spec must be in it (one with the per-call settings),
/// so a future that stops being `Send` (a new operation's included) fails
/// the build of these tests.
#[test]
fn every_operation_of_the_spec_is_checked_for_send() {
    let this_file = include_str!("spawn.rs");
    let checked = &this_file[..this_file
        .find("fn every_operation_of_the_spec_is_checked_for_send")
        .expect("this test")];
    let spec = webex_calling_tests::spec();
    let mut missing = Vec::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let method = snake(id);
            if !checked.contains(&format!(".{method}()")) {
                missing.push(method);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add these operations to every_operation_with_owned_arguments_is_spawnable: {missing:?}"
    );
}

/// An operationId in snake case, as the client's methods are named.
fn snake(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_updates_spawned_with_owned_arguments_land() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let hunt_group = {
        // The builder is made from a client that is dropped before the
        // task runs: the task holds its own clone.
        let client = client.clone();
        tokio::spawn(
            client
                .update_hunt_group()
                .location_id(fixtures::LOCATION_ID.to_string())
                .hunt_group_id(fixtures::HUNT_GROUP_ID.to_string())
                .body(UpdateHuntGroupRequest::new().name("Spawned"))
                .send(),
        )
    };
    let call_pickup = tokio::spawn(
        client
            .update_call_pickup()
            .location_id(fixtures::LOCATION_ID.to_string())
            .call_pickup_id(fixtures::CALL_PICKUP_ID.to_string())
            .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(30))
            .send(),
    );
    hunt_group
        .await
        .expect("the task ran")
        .expect("the hunt group update landed");
    let renamed = call_pickup
        .await
        .expect("the task ran")
        .expect("the call pickup update landed");
    assert_eq!(renamed.id, fixtures::CALL_PICKUP_ID);
    let stored = fake
        .hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
        .expect("the hunt group");
    assert_eq!(stored["name"], "Spawned");
    let stored = fake
        .call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
        .expect("the call pickup");
    assert_eq!(stored["notificationDelayTimerSeconds"], 30);
}

#[tokio::test]
async fn borrowed_arguments_still_work_without_copies() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let location = fixtures::LOCATION_ID.to_string();
    let body = UpdateHuntGroupRequest::new().enabled(false);
    for _ in 0..2 {
        client
            .update_hunt_group()
            .location_id(&location)
            .hunt_group_id(fixtures::HUNT_GROUP_ID)
            .body(&body)
            .send()
            .await
            .expect("the update landed");
    }
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_successful_call_tells_its_tracking_id_and_attempts() {
    let fake = FakeWebex::start().await;
    let client = fake
        .client_builder()
        .tracking_id_prefix("billing-sync")
        .build()
        .unwrap();
    fake.push_fault(Fault::status(503).retry_after("0"));
    let answer = client
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(20))
        .send_with_meta()
        .await
        .expect("the retry landed");
    assert_eq!(answer.attempts(), 2);
    assert_eq!(answer.status(), 200);
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    let sent_id = sent[1]
        .header("trackingid")
        .expect("a tracking ID was sent");
    assert!(sent_id.starts_with("billing-sync"), "{sent_id}");
    assert_eq!(sent[0].header("trackingid"), Some(sent_id));
    // The fake answers with the tracking ID it was sent, as Webex does.
    assert_eq!(answer.tracking_id(), sent_id);
    // The value is there in place, and can be taken out.
    assert_eq!(answer.id, fixtures::CALL_PICKUP_ID);
    assert_eq!(answer.into_value().id, fixtures::CALL_PICKUP_ID);

    let answer = client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send_with_meta()
        .await
        .expect("the update landed");
    assert_eq!(answer.attempts(), 1);
    assert_eq!(*answer.value(), ());
    assert_ne!(answer.tracking_id(), sent_id);
}
