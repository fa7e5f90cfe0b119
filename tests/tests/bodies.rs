//! Request bodies: what goes on the wire, and what is refused before it.

use serde_json::{Value, json};
use webex_calling::types::{
    AlternateNumber, CallPickupDetails, HuntGroupAgent, HuntGroupCallPolicies, HuntPolicy,
    NoAnswerSettings, NoAnswerSettingsRequired, UpdateCallPickupRequest, UpdateHuntGroupRequest,
};
use webex_calling::{Error, Validate, parse_body};
use webex_calling_tests::{request_example, unreachable_client};

fn violations(error: &Error) -> Vec<String> {
    error
        .invalid_input()
        .unwrap_or_else(|| panic!("expected invalid input, got {error}"))
        .violations()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn agents_set_to_an_empty_list_are_sent_as_an_empty_array() {
    let body = UpdateCallPickupRequest::new().agents(Vec::<String>::new());
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({ "agents": [] })
    );
}

#[test]
fn agents_left_unset_are_not_sent_at_all() {
    let body = UpdateCallPickupRequest::new().name("Front desk");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({ "name": "Front desk" })
    );
    let body = UpdateHuntGroupRequest::new();
    assert_eq!(serde_json::to_string(&body).unwrap(), "{}");
}

#[test]
fn counts_are_sent_as_integers_and_weights_as_strings() {
    let body = UpdateHuntGroupRequest::new()
        .call_policies(HuntGroupCallPolicies::new(
            HuntPolicy::Weighted,
            NoAnswerSettings::new(NoAnswerSettingsRequired {
                next_agent_enabled: true,
                next_agent_rings: 5,
                forward_enabled: false,
                number_of_rings: 0,
                destination_voicemail_enabled: false,
            }),
        ))
        .agents([HuntGroupAgent::new("agent").weight("50")]);
    let text = serde_json::to_string(&body).unwrap();
    assert!(text.contains(r#""nextAgentRings":5"#), "{text}");
    assert!(text.contains(r#""weight":"50""#), "{text}");
}

fn assert_round_trip<T>(operation_id: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let example = request_example(operation_id);
    let typed: T = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), example);
}

#[test]
fn the_call_pickup_example_survives_a_round_trip_through_the_types() {
    assert_round_trip::<UpdateCallPickupRequest>("updateCallPickup");
}

#[test]
fn the_hunt_group_example_survives_a_round_trip_through_the_types() {
    assert_round_trip::<UpdateHuntGroupRequest>("updateHuntGroup");
}

#[test]
fn the_examples_pass_every_rule() {
    let pickup = request_example("updateCallPickup").to_string();
    parse_body::<UpdateCallPickupRequest>(&pickup).unwrap();
    let hunt = request_example("updateHuntGroup").to_string();
    parse_body::<UpdateHuntGroupRequest>(&hunt).unwrap();
}

async fn refused_pickup(body: UpdateCallPickupRequest) -> Error {
    unreachable_client()
        .update_call_pickup()
        .location_id("location")
        .call_pickup_id("pickup")
        .body(body)
        .send()
        .await
        .unwrap_err()
}

async fn send_hunt(body: UpdateHuntGroupRequest) -> Result<(), Error> {
    unreachable_client()
        .update_hunt_group()
        .location_id("location")
        .hunt_group_id("hunt")
        .body(body)
        .send()
        .await
}

#[tokio::test]
async fn a_name_of_81_characters_is_refused_before_sending() {
    let error = refused_pickup(UpdateCallPickupRequest::new().name("a".repeat(81))).await;
    assert_eq!(violations(&error), ["name: at most 80 characters, got 81"]);
    assert_eq!(error.attempts(), 0);
}

#[tokio::test]
async fn names_are_counted_in_characters_not_bytes() {
    // 80 emoji are 320 bytes but 80 characters: allowed, so the request is
    // sent (and fails to connect, which proves it got past validation).
    let error = refused_pickup(UpdateCallPickupRequest::new().name("📞".repeat(80))).await;
    assert!(error.invalid_input().is_none(), "{error}");
    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error}"
    );
    let error = refused_pickup(UpdateCallPickupRequest::new().name("📞".repeat(81))).await;
    assert_eq!(violations(&error), ["name: at most 80 characters, got 81"]);
}

#[tokio::test]
async fn eleven_alternate_numbers_are_refused_before_sending() {
    let numbers = (0..11).map(|i| AlternateNumber::new(format!("+1555000{i:04}")));
    let error = send_hunt(UpdateHuntGroupRequest::new().alternate_numbers(numbers))
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        ["alternateNumbers: at most 10 items, got 11"]
    );
}

#[tokio::test]
async fn a_weight_of_101_is_refused_with_the_agent_named() {
    let agents = [
        HuntGroupAgent::new("a").weight("100"),
        HuntGroupAgent::new("b").weight("101"),
    ];
    let error = send_hunt(UpdateHuntGroupRequest::new().agents(agents))
        .await
        .unwrap_err();
    let found = violations(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            == "agents[1].weight: must be a whole number from \"0\" to \"100\", without leading zeros, got \"101\"",
        "{found:?}"
    );
}

#[test]
fn call_policies_without_number_of_rings_are_refused_with_the_path() {
    let mut body = request_example("updateHuntGroup");
    body["callPolicies"]["noAnswer"]
        .as_object_mut()
        .unwrap()
        .remove("numberOfRings");
    let error = parse_body::<UpdateHuntGroupRequest>(&body.to_string()).unwrap_err();
    let found = violations(&error);
    assert!(
        found[0].starts_with("callPolicies.noAnswer: missing field `numberOfRings`"),
        "{found:?}"
    );
}

#[test]
fn an_unknown_policy_is_refused_with_the_path() {
    let mut body = request_example("updateHuntGroup");
    body["callPolicies"]["policy"] = Value::from("ROUND_ROBIN");
    let error = parse_body::<UpdateHuntGroupRequest>(&body.to_string()).unwrap_err();
    let found = violations(&error);
    assert!(
        found[0].starts_with("callPolicies.policy: unknown variant `ROUND_ROBIN`"),
        "{found:?}"
    );
    assert!("ROUND_ROBIN".parse::<HuntPolicy>().is_err());
}

#[tokio::test]
async fn a_negative_ring_count_is_refused_before_sending() {
    let policies = HuntGroupCallPolicies::new(
        HuntPolicy::Regular,
        NoAnswerSettings::new(NoAnswerSettingsRequired {
            next_agent_enabled: true,
            next_agent_rings: -1,
            forward_enabled: false,
            number_of_rings: 0,
            destination_voicemail_enabled: false,
        }),
    );
    let error = send_hunt(UpdateHuntGroupRequest::new().call_policies(policies))
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        ["callPolicies.noAnswer.nextAgentRings: at least 0, got -1"]
    );
}

#[tokio::test]
async fn missing_and_empty_ids_are_refused_before_sending() {
    let client = unreachable_client();
    let error = client
        .update_hunt_group()
        .hunt_group_id("")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "locationId: is required",
            "huntGroupId: at least 1 character, got 0",
            "body: is required"
        ]
    );
    let error = client
        .update_hunt_group()
        .location_id("..")
        .hunt_group_id("hunt")
        .body(UpdateHuntGroupRequest::new())
        .send()
        .await
        .unwrap_err();
    assert!(
        violations(&error)[0].starts_with("locationId: must not be \"..\""),
        "{error}"
    );
}

#[tokio::test]
async fn an_update_without_a_body_is_refused_like_a_missing_id_and_nothing_is_sent() {
    let fake = webex_calling::fake::FakeWebex::start().await;
    let client = fake.client();
    let error = client
        .update_hunt_group()
        .location_id("location")
        .hunt_group_id("hunt-group")
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["body: is required"]);
    let error = client
        .update_call_pickup()
        .location_id("location")
        .call_pickup_id("call-pickup")
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["body: is required"]);
    assert_eq!(error.attempts(), 0);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn dial_by_name_is_refused_with_a_character_webex_does_not_take() {
    for name in [
        "50% off",
        "+1 line",
        "back\\slash",
        "say \"hi\"",
        "Caf\u{e9}",
        "tab\there",
    ] {
        let error = UpdateHuntGroupRequest::new()
            .dial_by_name(name)
            .validate()
            .unwrap_err();
        let found = violations(&error);
        assert_eq!(found.len(), 1, "{name:?}: {found:?}");
        assert!(
            found[0].starts_with(
                "dialByName: may contain only printable ASCII characters, and none of `%`, `+`, `\\` and `\"`, got "
            ),
            "{name:?}: {found:?}"
        );
    }
}

#[test]
fn dial_by_name_takes_printable_ascii_and_the_empty_string_that_clears_it() {
    for name in ["", "Support Line 2", "Front-desk (main) #1 & co.'s"] {
        UpdateHuntGroupRequest::new()
            .dial_by_name(name)
            .validate()
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}

#[test]
fn required_fields_of_the_same_type_are_named_where_they_are_set() {
    // Two booleans and two integers: the constructor takes them by name.
    let settings = NoAnswerSettings::new(NoAnswerSettingsRequired {
        next_agent_enabled: true,
        next_agent_rings: 5,
        forward_enabled: false,
        number_of_rings: 0,
        destination_voicemail_enabled: false,
    });
    assert_eq!(
        serde_json::to_value(&settings).unwrap(),
        json!({
            "nextAgentEnabled": true,
            "nextAgentRings": 5,
            "forwardEnabled": false,
            "numberOfRings": 0,
            "destinationVoicemailEnabled": false,
        })
    );
}

// Unknown fields in `parse_body`.

#[test]
fn a_misspelt_field_at_the_top_level_is_reported_with_its_path() {
    let mut body = request_example("updateCallPickup");
    body["notificationTyp"] = Value::from("AUDIO_ONLY");
    let error = parse_body::<UpdateCallPickupRequest>(&body.to_string()).unwrap_err();
    let input = error.invalid_input().expect("invalid input");
    assert_eq!(input.violations().len(), 1, "{error}");
    assert_eq!(input.violations()[0].path(), "notificationTyp");
    assert_eq!(
        input.violations()[0].rule(),
        "is not a field of UpdateCallPickupRequest"
    );
}

#[test]
fn a_misspelt_field_in_a_nested_object_is_reported_with_its_path() {
    let mut body = request_example("updateHuntGroup");
    body["callPolicies"]["noAnswer"]["numberOfRing"] = Value::from(3);
    let error = parse_body::<UpdateHuntGroupRequest>(&body.to_string()).unwrap_err();
    assert_eq!(
        violations(&error),
        ["callPolicies.noAnswer.numberOfRing: is not a field of UpdateHuntGroupRequest"]
    );
}

#[test]
fn a_misspelt_field_in_a_list_item_is_reported_with_its_index() {
    let body = r#"{"agents": [{"id": "a1", "weight": "50"}, {"id": "a2", "weigth": "50"}]}"#;
    let error = parse_body::<UpdateHuntGroupRequest>(body).unwrap_err();
    assert_eq!(
        violations(&error),
        ["agents[1].weigth: is not a field of UpdateHuntGroupRequest"]
    );
}

#[test]
fn every_unknown_field_and_every_broken_rule_are_reported_at_once() {
    let body = r#"{
        "nam": "Sales",
        "name": "",
        "callPolicies": {
            "policy": "WEIGHTED",
            "noAnswer": {
                "nextAgentEnabled": true,
                "nextAgentRings": -1,
                "forwardEnabled": false,
                "numberOfRings": 3,
                "destinationVoicemailEnabled": false,
                "numberOfRing": 3
            },
            "extra": { "nested": { "deeper": true } }
        },
        "agents": [{ "id": "a1", "weigth": "50", "wieght": "60" }],
        "alternateNumbers": [{ "phoneNumber": "+15555550100", "ringPatern": "NORMAL" }]
    }"#;
    let error = parse_body::<UpdateHuntGroupRequest>(body).unwrap_err();
    let found = violations(&error);
    let unknown = |path: &str| format!("{path}: is not a field of UpdateHuntGroupRequest");
    // The unknown fields in the order they come, then the rules.
    assert_eq!(
        found,
        [
            unknown("nam"),
            unknown("callPolicies.noAnswer.numberOfRing"),
            unknown("callPolicies.extra"),
            unknown("agents[0].weigth"),
            unknown("agents[0].wieght"),
            unknown("alternateNumbers[0].ringPatern"),
            "callPolicies.noAnswer.nextAgentRings: at least 0, got -1".to_string(),
            "name: at least 1 character, got 0".to_string(),
        ],
        "{found:#?}"
    );
}

#[test]
fn unknown_fields_found_before_a_value_that_cannot_be_read_are_reported_with_it() {
    let body = r#"{"notificationTyp": "AUDIO_ONLY", "notificationDelayTimerSeconds": "soon"}"#;
    let error = parse_body::<UpdateCallPickupRequest>(body).unwrap_err();
    let found = violations(&error);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0],
        "notificationTyp: is not a field of UpdateCallPickupRequest"
    );
    assert!(
        found[1].starts_with("notificationDelayTimerSeconds: invalid type: string \"soon\""),
        "{found:?}"
    );
}

#[test]
fn text_after_the_body_is_refused() {
    let error =
        parse_body::<UpdateCallPickupRequest>(r#"{"name": "Sales"} {"name": "x"}"#).unwrap_err();
    let found = violations(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("trailing characters"), "{found:?}");
}

#[test]
fn a_field_read_under_its_alias_is_not_unknown() {
    let body = r#"{
        "id": "pickup",
        "name": "Front desk",
        "agents": [{ "id": "agent", "numbers": [{ "external": "+19075552859", "primary": "true" }] }]
    }"#;
    let read = parse_body::<CallPickupDetails>(body).expect("numbers is an alias of phoneNumber");
    let numbers = read.agents.unwrap()[0].phone_number.clone().unwrap();
    assert_eq!(numbers[0].external.as_deref(), Some("+19075552859"));

    let misspelt = body.replace("\"numbers\"", "\"number\"");
    let error = parse_body::<CallPickupDetails>(&misspelt).unwrap_err();
    assert_eq!(
        violations(&error),
        ["agents[0].number: is not a field of CallPickupDetails"]
    );
}
