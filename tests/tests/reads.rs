//! Reading the groups: Webex's answers are read as they come, and a read
//! turns into the update that writes it back.

use serde_json::{Value, json};
use webex_calling::Error;
use webex_calling::fake::{FakeWebex, call_pickup_id, fixtures};
use webex_calling::types::{
    AgentType, CallPickupDetails, CallPickupNotificationType, HuntGroupAgent, HuntGroupDetails,
    HuntPolicy, UpdateCallPickupRequest,
};
use webex_calling_tests::{response_example, unreachable_client};

fn violations(error: &Error) -> Vec<String> {
    error
        .invalid_input()
        .unwrap_or_else(|| panic!("expected invalid input, got {error}"))
        .violations()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn pickup_example() -> Value {
    response_example("getCallPickup")
}

fn hunt_group_example() -> Value {
    response_example("getHuntGroup")
}

#[test]
fn webex_call_pickup_example_reads_with_its_numbers_list() {
    let read: CallPickupDetails = serde_json::from_value(pickup_example()).unwrap();
    assert_eq!(read.name, "South Alaska-Group");
    assert_eq!(
        read.notification_type,
        Some(CallPickupNotificationType::AudioOnly)
    );
    assert_eq!(read.notification_delay_timer_seconds, Some(20));
    let agents = read.agents.unwrap();
    assert_eq!(agents[0].type_, Some(AgentType::People));
    let numbers = agents[0].phone_number.as_ref().unwrap();
    assert_eq!(numbers[0].external.as_deref(), Some("+19075552859"));
    assert_eq!(numbers[0].primary.as_deref(), Some("true"));
}

#[test]
fn a_call_pickup_agent_numbers_list_reads_under_its_schema_name_too() {
    let mut example = pickup_example();
    let numbers = example["agents"][0]
        .as_object_mut()
        .unwrap()
        .remove("numbers")
        .unwrap();
    example["agents"][0]["phoneNumber"] = numbers;
    let read: CallPickupDetails = serde_json::from_value(example).unwrap();
    let from_example: CallPickupDetails = serde_json::from_value(pickup_example()).unwrap();
    assert_eq!(read, from_example);
    assert!(read.agents.unwrap()[0].phone_number.is_some());
}

#[test]
fn webex_hunt_group_example_reads_with_its_singular_max_rings_and_undeclared_fields() {
    let example = hunt_group_example();
    assert!(example["callingFirstName"].is_string());
    assert!(example["callPolicies"]["noAnswer"]["systemMaxNumberOfRing"].is_number());
    let read: HuntGroupDetails = serde_json::from_value(example).unwrap();
    assert_eq!(read.call_policies.policy, HuntPolicy::Uniform);
    assert_eq!(
        read.call_policies.no_answer.system_max_number_of_rings,
        Some(15)
    );
    assert_eq!(read.language.as_deref(), Some("English"));
    assert_eq!(read.agents[0].weight.as_deref(), Some("50"));
}

#[test]
fn the_plural_spelling_of_system_max_number_of_rings_reads_the_same() {
    let mut example = hunt_group_example();
    let no_answer = example["callPolicies"]["noAnswer"].as_object_mut().unwrap();
    let max = no_answer.remove("systemMaxNumberOfRing").unwrap();
    no_answer.insert("systemMaxNumberOfRings".into(), max);
    let read: HuntGroupDetails = serde_json::from_value(example).unwrap();
    assert_eq!(
        read.call_policies.no_answer.system_max_number_of_rings,
        Some(15)
    );
}

#[test]
fn a_hunt_group_read_becomes_an_update_with_agents_cut_to_id_and_weight() {
    let read: HuntGroupDetails = serde_json::from_value(hunt_group_example()).unwrap();
    let update = serde_json::to_value(read.to_update()).unwrap();
    let example = hunt_group_example();
    assert_eq!(
        update["agents"],
        json!([{ "id": example["agents"][0]["id"], "weight": "50" }])
    );
    assert_eq!(update["callPolicies"]["noAnswer"]["numberOfRings"], 15);
    assert!(
        update["callPolicies"]["noAnswer"]
            .get("systemMaxNumberOfRings")
            .is_none(),
        "{update}"
    );
    for read_only in ["id", "language", "callingFirstName", "callingLastName"] {
        assert!(update.get(read_only).is_none(), "{read_only} in {update}");
    }
    assert_eq!(
        update["alternateNumbers"],
        json!([{ "phoneNumber": "+15558675310", "ringPattern": "NORMAL" }])
    );
    assert_eq!(update["name"], example["name"]);
}

#[test]
fn a_call_pickup_read_becomes_an_update_with_agents_as_ids() {
    let read: CallPickupDetails = serde_json::from_value(pickup_example()).unwrap();
    let update: UpdateCallPickupRequest = read.to_update();
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({
            "name": "South Alaska-Group",
            "notificationType": "AUDIO_ONLY",
            "notificationDelayTimerSeconds": 20,
            "agents": [pickup_example()["agents"][0]["id"]],
        })
    );
}

#[test]
fn an_unknown_enum_value_in_a_read_is_kept() {
    let mut example = hunt_group_example();
    example["callPolicies"]["policy"] = Value::from("ROUND_ROBIN");
    example["agents"][0]["type"] = Value::from("ROBOT");
    let read: HuntGroupDetails = serde_json::from_value(example).unwrap();
    assert_eq!(
        read.call_policies.policy,
        HuntPolicy::Unknown("ROUND_ROBIN".into())
    );
    assert_eq!(read.call_policies.policy.as_str(), "ROUND_ROBIN");
    assert!(!read.call_policies.policy.is_known());
    assert_eq!(
        read.agents[0].type_,
        Some(AgentType::Unknown("ROBOT".into()))
    );
    let written = serde_json::to_value(&read).unwrap();
    assert_eq!(written["callPolicies"]["policy"], "ROUND_ROBIN");
}

#[tokio::test]
async fn an_unknown_enum_value_from_a_read_is_refused_in_an_update_naming_the_field() {
    let mut example = pickup_example();
    example["notificationType"] = Value::from("HOLOGRAM");
    let read: CallPickupDetails = serde_json::from_value(example).unwrap();
    let error = unreachable_client()
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(&read.id)
        .body(read.to_update())
        .send()
        .await
        .unwrap_err();
    let found = violations(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("notificationType: unknown variant `HOLOGRAM`"),
        "{found:?}"
    );
}

#[tokio::test]
async fn an_unknown_policy_from_a_read_is_refused_in_a_hunt_group_update() {
    let mut example = hunt_group_example();
    example["callPolicies"]["policy"] = Value::from("ROUND_ROBIN");
    let read: HuntGroupDetails = serde_json::from_value(example).unwrap();
    let error = unreachable_client()
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(&read.id)
        .body(read.to_update())
        .send()
        .await
        .unwrap_err();
    let found = violations(&error);
    assert!(
        found[0].starts_with("callPolicies.policy: unknown variant `ROUND_ROBIN`"),
        "{found:?}"
    );
}

#[tokio::test]
async fn adding_a_hunt_group_agent_by_read_modify_write_keeps_the_others() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(read.agents.len(), 3);
    let mut update = read.to_update();
    let new_agent = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9uZXctYWdlbnQ";
    update
        .agents
        .get_or_insert_with(Vec::new)
        .push(HuntGroupAgent::new(new_agent));
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(&update)
        .send()
        .await
        .unwrap();
    let again = client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = again.agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            fixtures::PERSON_ID,
            fixtures::WORKSPACE_ID,
            fixtures::VIRTUAL_LINE_ID,
            new_agent
        ]
    );
    assert_eq!(again.to_update(), update);
    assert_eq!(
        again.call_policies.no_answer.system_max_number_of_rings,
        Some(20)
    );
}

#[tokio::test]
async fn writing_a_hunt_group_read_back_unchanged_changes_nothing() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let get = || {
        client
            .get_hunt_group()
            .location_id(fixtures::LOCATION_ID)
            .hunt_group_id(fixtures::HUNT_GROUP_ID)
            .send()
    };
    let before = get().await.unwrap();
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(before.to_update())
        .send()
        .await
        .unwrap();
    assert_eq!(get().await.unwrap(), before);
}

#[tokio::test]
async fn renaming_a_call_pickup_by_read_modify_write_keeps_its_settings() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    let read = client
        .get_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(fixtures::SECOND_CALL_PICKUP_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(read.name, fixtures::SECOND_CALL_PICKUP_NAME);
    let update = read.to_update().name("Front desk");
    let updated = client
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(&read.id)
        .body(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.id, call_pickup_id("Front desk"));
    let again = client
        .get_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(&updated.id)
        .send()
        .await
        .unwrap();
    assert_eq!(again.id, updated.id);
    assert_eq!(again.name, "Front desk");
    assert_eq!(
        again.notification_type,
        Some(CallPickupNotificationType::VisualOnly)
    );
    assert_eq!(again.notification_delay_timer_seconds, Some(10));
    assert_eq!(again.to_update(), update);
    let agents = again.agents.unwrap();
    assert_eq!(agents[0].id, fixtures::WORKSPACE_ID);
    assert_eq!(agents[0].type_, Some(AgentType::Place));
}

#[tokio::test]
async fn a_renamed_call_pickup_is_not_found_at_its_old_id() {
    let fake = FakeWebex::start().await;
    let client = fake.client();
    client
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(fixtures::SECOND_CALL_PICKUP_ID)
        .body(UpdateCallPickupRequest::new().name("Front desk"))
        .send()
        .await
        .unwrap();
    let error = client
        .get_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(fixtures::SECOND_CALL_PICKUP_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404), "{error}");
}

#[tokio::test]
async fn a_read_sends_no_body_and_no_content_type() {
    let fake = FakeWebex::start().await;
    fake.client()
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .org_id(fixtures::ORG_ID)
        .send()
        .await
        .unwrap();
    let requests = fake.requests();
    let request = requests.last().unwrap();
    assert_eq!(request.method(), "GET");
    assert!(request.body().is_empty(), "{:?}", request.body());
    assert_eq!(request.header("content-type"), None);
    assert_eq!(
        request.query_param("orgId").as_deref(),
        Some(fixtures::ORG_ID)
    );
}

#[tokio::test]
async fn a_read_without_its_ids_is_refused_naming_both() {
    let error = unreachable_client()
        .get_call_pickup()
        .send()
        .await
        .unwrap_err();
    let found = violations(&error);
    assert_eq!(
        found,
        ["locationId: is required", "callPickupId: is required"],
        "{found:?}"
    );
}
