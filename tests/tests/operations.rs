//! Every operation of the spec, called through the SDK against the fake:
//! lists, creates, reads, updates and deletes of both features, call
//! forwarding and its selective rules, the operating mode switch, and the
//! lists of available agents and numbers.

use serde_json::json;
use webex_calling::fake::{FakeWebex, call_pickup_id, fixtures};
use webex_calling::types::{
    CallsFromSelection, CreateCallPickupRequest, CreateHuntGroupRequest,
    CreateSelectiveForwardingRuleRequest, ForwardToSelection, ForwardingDestination,
    ForwardingRuleState, HuntGroupCallForwardingUpdate, NumberOwnerType, RuleCallsFrom,
    RuleCallsTo, RuleCustomNumbers, RuleCustomNumbersRequired, RuleForwardTo,
    UpdateCallPickupRequest, UpdateHuntGroupCallForwardingRequest, UpdateHuntGroupRequest,
    UpdateSelectiveForwardingRuleRequest,
};
use webex_calling::{Client, parse_body};
use webex_calling_tests::request_example;

const LOCATION: &str = fixtures::LOCATION_ID;
const HUNT_GROUP: &str = fixtures::HUNT_GROUP_ID;

fn example<T: webex_calling::Validate + serde::de::DeserializeOwned>(operation_id: &str) -> T {
    parse_body(&request_example(operation_id).to_string()).expect("the spec's example parses")
}

async fn call_pickup_names(client: &Client) -> Vec<String> {
    client
        .list_call_pickups()
        .location_id(LOCATION)
        .send()
        .await
        .expect("listed")
        .call_pickups
        .into_iter()
        .map(|item| item.name)
        .collect()
}

#[tokio::test]
async fn call_pickups_are_listed_by_name_with_their_location() {
    let fake = FakeWebex::start().await;

    let list = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .send()
        .await
        .unwrap();

    let names: Vec<&str> = list
        .call_pickups
        .iter()
        .map(|item| item.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            fixtures::CALL_PICKUP_NAME,
            fixtures::SECOND_CALL_PICKUP_NAME
        ]
    );
    assert_eq!(list.call_pickups[0].id, fixtures::CALL_PICKUP_ID);
    assert_eq!(list.call_pickups[0].location_id, LOCATION);
    assert_eq!(list.call_pickups[0].location_name, "Alaska");
    let filtered = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .name("Pickup2")
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.call_pickups.len(), 1);
    assert_eq!(filtered.call_pickups[0].id, fixtures::SECOND_CALL_PICKUP_ID);
}

#[tokio::test]
async fn a_created_call_pickup_answers_201_and_is_listed_and_read() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let body: CreateCallPickupRequest = example("createCallPickup");

    let created = client
        .create_call_pickup()
        .location_id(LOCATION)
        .body(&body)
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(created.status(), 201);
    assert_eq!(created.id, call_pickup_id("South Alaska-Group"));
    assert!(
        call_pickup_names(&client)
            .await
            .contains(&"South Alaska-Group".to_string())
    );
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(read.agents.map(|agents| agents.len()), Some(3));
    let again = client
        .create_call_pickup()
        .location_id(LOCATION)
        .body(&body)
        .send()
        .await;
    assert_eq!(
        again.unwrap_err().status(),
        Some(409),
        "names are unique in a location"
    );
}

#[tokio::test]
async fn a_deleted_call_pickup_answers_404_and_leaves_the_list() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let deleted = client
        .delete_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .send()
        .await;
    assert_eq!(read.unwrap_err().status(), Some(404));
    assert_eq!(
        call_pickup_names(&client).await,
        [fixtures::SECOND_CALL_PICKUP_NAME]
    );
}

#[tokio::test]
async fn a_call_pickup_is_read_and_updated() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let updated = client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(30))
        .send()
        .await
        .unwrap();
    let read = client
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(&updated.id)
        .send()
        .await
        .unwrap();

    assert_eq!(updated.id, fixtures::CALL_PICKUP_ID);
    assert_eq!(read.notification_delay_timer_seconds, Some(30));
}

#[tokio::test]
async fn available_agents_are_the_members_in_no_call_pickup() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let agents = client
        .list_call_pickup_available_agents()
        .location_id(LOCATION)
        .send()
        .await
        .unwrap()
        .agents;

    let mut ids: Vec<&str> = agents.iter().map(|agent| agent.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = [fixtures::SECOND_PERSON_ID, fixtures::VIRTUAL_LINE_ID];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let for_pickup = client
        .list_call_pickup_available_agents()
        .location_id(LOCATION)
        .call_pickup_name(fixtures::CALL_PICKUP_NAME)
        .name("John")
        .send()
        .await
        .unwrap()
        .agents;
    assert_eq!(for_pickup.len(), 1, "its own member is available to it");
    assert_eq!(for_pickup[0].id, fixtures::PERSON_ID);
}

#[tokio::test]
async fn a_created_hunt_group_answers_200_and_is_listed_then_deleted() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let body: CreateHuntGroupRequest = example("createHuntGroup");

    let created = client
        .create_hunt_group()
        .location_id(LOCATION)
        .body(&body)
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(
        created.status(),
        200,
        "Webex answers a hunt group's create with 200"
    );
    let listed = client
        .list_hunt_groups()
        .location_id(LOCATION)
        .send()
        .await
        .unwrap();
    let item = listed
        .hunt_groups
        .iter()
        .find(|item| item.id == created.id)
        .expect("the new group is listed");
    assert_eq!(item.name, "5714328359");
    assert_eq!(item.location_name, "Alaska");
    assert_eq!(item.phone_number.as_deref(), Some("+15558675309"));
    let read = client
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(read.agents.len(), 3);

    let deleted = client
        .delete_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(&created.id)
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    let gone = client
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(&created.id)
        .send()
        .await;
    assert_eq!(gone.unwrap_err().status(), Some(404));
    let listed = client.list_hunt_groups().send().await.unwrap();
    assert!(listed.hunt_groups.iter().all(|item| item.id != created.id));
}

#[tokio::test]
async fn a_hunt_group_is_read_and_updated() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    client
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(UpdateHuntGroupRequest::new().enabled(false))
        .send()
        .await
        .unwrap();
    let read = client
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await
        .unwrap();

    assert!(!read.enabled);
}

#[tokio::test]
async fn call_forwarding_is_read_and_updated() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let always = ForwardingDestination::new()
        .enabled(true)
        .destination("+15558675399");

    client
        .update_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(
            UpdateHuntGroupCallForwardingRequest::new()
                .call_forwarding(HuntGroupCallForwardingUpdate::new().always(always)),
        )
        .send()
        .await
        .unwrap();
    let read = client
        .get_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await
        .unwrap();

    let always = read.call_forwarding.always;
    assert_eq!(always.enabled, Some(true));
    assert_eq!(always.destination.as_deref(), Some("+15558675399"));
    assert_eq!(
        always.ring_reminder_enabled,
        Some(false),
        "fields not sent are kept"
    );
    assert_eq!(read.call_forwarding.selective.enabled, Some(false));
}

fn rule_body(name: &str) -> CreateSelectiveForwardingRuleRequest {
    let custom = RuleCustomNumbers::new(RuleCustomNumbersRequired {
        private_number_enabled: true,
        unavailable_number_enabled: false,
    })
    .numbers(["2025551212".to_string()]);
    CreateSelectiveForwardingRuleRequest::new(
        name,
        RuleCallsFrom::new(CallsFromSelection::Custom, custom),
        RuleCallsTo::new(),
    )
    .forward_to(
        RuleForwardTo::new(ForwardToSelection::ForwardToSpecifiedNumber)
            .phone_number("+12056350001"),
    )
}

#[tokio::test]
async fn a_selective_rule_is_created_read_renamed_to_a_new_id_and_deleted() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let created = client
        .create_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(rule_body("After hours"))
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let rule = client
        .get_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(rule.name, "After hours");
    assert_eq!(rule.enabled, Some(true));

    let mut renamed = rule.clone();
    renamed.name = "Night".to_string();
    let updated = client
        .update_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&created.id)
        .body(renamed.changes_since(&rule))
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(
        updated.status(),
        201,
        "Webex answers a rule update with 201"
    );
    assert_ne!(updated.id, created.id, "a renamed rule has a new ID");
    let sent = fake.requests().last().unwrap().json().unwrap();
    assert_eq!(sent, json!({ "name": "Night" }), "only the name was sent");
    let old = client
        .get_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&created.id)
        .send()
        .await;
    assert_eq!(old.unwrap_err().status(), Some(404));
    let same_name = client
        .update_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&updated.id)
        .body(UpdateSelectiveForwardingRuleRequest::new().enabled(false))
        .send()
        .await
        .unwrap();
    assert_eq!(same_name.id, updated.id, "without a rename the ID stays");
    let settings = client
        .get_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await
        .unwrap();
    let rules = settings.call_forwarding.rules.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (rules[0].id.as_str(), rules[0].enabled),
        (updated.id.as_str(), Some(false))
    );

    client
        .delete_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&updated.id)
        .send()
        .await
        .unwrap();

    let gone = client
        .get_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&updated.id)
        .send()
        .await;
    assert_eq!(gone.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn rules_are_enabled_through_the_call_forwarding_update() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let id = client
        .create_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(rule_body("Weekend"))
        .send()
        .await
        .unwrap()
        .id;

    client
        .update_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(
            UpdateHuntGroupCallForwardingRequest::new().call_forwarding(
                HuntGroupCallForwardingUpdate::new()
                    .rules([ForwardingRuleState::new(&id).enabled(false)]),
            ),
        )
        .send()
        .await
        .unwrap();

    let rule = client
        .get_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(rule.enabled, Some(false));
    let unknown = client
        .update_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(UpdateHuntGroupCallForwardingRequest::new().call_forwarding(
            HuntGroupCallForwardingUpdate::new().rules([ForwardingRuleState::new("no-such-rule")]),
        ))
        .send()
        .await;
    assert_eq!(unknown.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn the_operating_mode_switch_answers_204_and_sends_no_body() {
    let fake = FakeWebex::start().await;

    let switched = fake
        .client()
        .switch_hunt_group_call_forwarding_mode()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send_with_meta()
        .await
        .unwrap();

    assert_eq!(switched.status(), 204);
    let sent = fake.requests();
    assert_eq!(sent[0].method(), "POST");
    assert!(sent[0].body().is_empty());
    let missing = fake
        .client()
        .switch_hunt_group_call_forwarding_mode()
        .location_id(LOCATION)
        .hunt_group_id("no-such-group")
        .send()
        .await;
    assert_eq!(missing.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn primary_and_alternate_available_numbers_are_the_unassigned_ones() {
    let fake = FakeWebex::start().await;
    let client = fake.client();

    let primary = client
        .get_hunt_group_primary_available_phone_numbers()
        .location_id(LOCATION)
        .send()
        .await
        .unwrap()
        .phone_numbers;
    let alternate = client
        .get_hunt_group_alternate_available_phone_numbers()
        .location_id(LOCATION)
        .phone_number("+12056350002,+12056350003")
        .send()
        .await
        .unwrap()
        .phone_numbers;

    let numbers: Vec<&str> = primary.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(numbers, ["+12056350001", "+12056350002", "+12056350003"]);
    let numbers: Vec<&str> = alternate.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(
        numbers,
        ["+12056350002", "+12056350003"],
        "the comma-separated filter applies"
    );
}

#[tokio::test]
async fn call_forward_available_numbers_are_the_owned_ones_with_their_owner() {
    let fake = FakeWebex::start().await;

    let numbers = fake
        .client()
        .get_hunt_group_call_forward_available_phone_numbers()
        .location_id(LOCATION)
        .owner_name("John")
        .send()
        .await
        .unwrap()
        .phone_numbers;

    assert_eq!(numbers.len(), 1);
    assert_eq!(numbers[0].phone_number.as_deref(), Some("+12056350004"));
    let owner = numbers[0].owner.as_ref().expect("an owner");
    assert_eq!(
        (owner.id.as_str(), &owner.type_),
        (fixtures::PERSON_ID, &NumberOwnerType::People)
    );
}

#[tokio::test]
async fn a_seeded_field_the_spec_does_not_declare_is_refused() {
    let fake = FakeWebex::start().await;

    let typo = fake.add_hunt_group(
        LOCATION,
        "seeded",
        json!({ "callPolicies": { "polciy": "REGULAR" } }),
    );
    let wrong_type = fake.add_call_pickup(
        LOCATION,
        "seeded",
        json!({ "notificationDelayTimerSeconds": "6" }),
    );

    let problems = typo.unwrap_err().problems().to_vec();
    assert!(
        problems.contains(&"callPolicies.polciy: is not a field of the spec".to_string()),
        "{problems:?}"
    );
    assert!(
        fake.hunt_group(LOCATION, "seeded").is_none(),
        "nothing was stored"
    );
    let problems = wrong_type.unwrap_err().problems().to_vec();
    assert!(
        problems[0].starts_with("notificationDelayTimerSeconds:"),
        "{problems:?}"
    );
    assert!(
        fake.call_pickup(LOCATION, &call_pickup_id("seeded"))
            .is_none()
    );
}
