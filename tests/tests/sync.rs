//! Checks 3 and 5 of `cargo xtask check`: they pass on the real spec and
//! types, and each step fails on a broken copy.

use serde_json::{Value, json};
use webex_calling::types::UpdateCallPickupRequest;
use webex_calling_tests::sync::{self, Example};

fn spec() -> Value {
    sync::load_spec(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/webex-calling.yaml"),
    )
    .unwrap()
}

fn pickup_example(value: Value) -> Example {
    Example {
        at: "PUT callPickups request".into(),
        schema: "UpdateCallPickupRequest".into(),
        value,
    }
}

#[test]
fn every_example_of_the_spec_is_true() {
    let summary = sync::check_examples(&spec()).unwrap();
    assert!(summary.starts_with("22 examples"), "{summary}");
}

#[test]
fn the_schema_step_fails_on_an_example_that_breaks_its_schema() {
    let error = sync::schema_step(&spec(), &pickup_example(json!({ "name": 5 }))).unwrap_err();
    assert!(error.contains("the example breaks its schema"), "{error}");
    assert!(error.contains("/name"), "{error}");
}

#[test]
fn the_deserialize_step_fails_on_a_fractional_count() {
    let example = pickup_example(json!({ "notificationDelayTimerSeconds": 20.5 }));
    let error = sync::typed_steps::<UpdateCallPickupRequest>(&example).unwrap_err();
    assert!(
        error.contains("does not deserialize into the SDK's type"),
        "{error}"
    );
}

#[test]
fn the_rules_step_fails_on_a_name_too_long() {
    let example = pickup_example(json!({ "name": "n".repeat(81) }));
    let error = sync::typed_steps::<UpdateCallPickupRequest>(&example).unwrap_err();
    assert!(error.contains("breaks the SDK's rules"), "{error}");
    assert!(
        error.contains("name: at most 80 characters, got 81"),
        "{error}"
    );
}

#[test]
fn the_round_trip_step_fails_on_a_field_the_type_drops() {
    let example = pickup_example(json!({ "name": "Front desk", "colour": "blue" }));
    let error = sync::typed_steps::<UpdateCallPickupRequest>(&example).unwrap_err();
    assert!(
        error.contains("does not carry the example back unchanged"),
        "{error}"
    );
}

#[test]
fn a_broken_example_in_a_copy_of_the_spec_fails_the_check_with_the_fix() {
    let mut spec = spec();
    let example = spec
        .pointer_mut("/paths/~1telephony~1config~1locations~1{locationId}~1huntGroups~1{huntGroupId}/put/requestBody/content/application~1json/example")
        .unwrap();
    example["callPolicies"]["policy"] = json!("ROUND_ROBIN");
    let error = sync::check_examples(&spec).unwrap_err();
    assert!(
        error.contains(
            "PUT /telephony/config/locations/{locationId}/huntGroups/{huntGroupId} request"
        ),
        "{error}"
    );
    assert!(
        error.contains("fix the example in spec/webex-calling.yaml"),
        "{error}"
    );
}

#[test]
fn every_generated_type_matches_its_schema() {
    let summary = sync::check_types(&spec()).unwrap();
    assert!(summary.contains("generated types match"), "{summary}");
}

#[test]
fn a_spec_edit_without_regeneration_fails_the_type_check_naming_the_property() {
    let mut spec = spec();
    spec["components"]["schemas"]["UpdateCallPickupRequest"]["properties"]["name"]["maxLength"] =
        json!(79);
    spec["components"]["schemas"]["HuntGroupAgent"]["required"] = json!(["id", "weight"]);
    let error = sync::check_types(&spec).unwrap_err();
    assert!(
        error.contains(
            "UpdateCallPickupRequest.name: maxLength is Some(79.0) in the spec but Some(80.0)"
        ),
        "{error}"
    );
    assert!(
        error.contains("HuntGroupAgent: the required fields differ"),
        "{error}"
    );
    assert!(error.contains("cargo xtask codegen"), "{error}");
}

/// A copy of the generated call pickup body with a hand edit: a longer name
/// and an extra field.
#[allow(dead_code)]
#[derive(schemars::JsonSchema)]
struct HandEditedPickup {
    #[schemars(length(min = 1, max = 81))]
    name: Option<String>,
    #[serde(rename = "notificationType")]
    notification_type: Option<webex_calling::types::CallPickupNotificationType>,
    #[serde(rename = "notificationDelayTimerSeconds")]
    #[schemars(range(min = 0))]
    notification_delay_timer_seconds: Option<i32>,
    #[schemars(inner(length(min = 1)))]
    agents: Option<Vec<String>>,
    colour: Option<String>,
}

#[test]
fn a_hand_edited_type_fails_the_type_check_naming_the_property() {
    let derived = serde_json::to_value(schemars::schema_for!(HandEditedPickup)).unwrap();
    let problems = sync::compare_type(&spec(), "UpdateCallPickupRequest", &derived);
    assert_eq!(
        problems,
        [
            "UpdateCallPickupRequest.colour: in the SDK's type but not in the spec",
            "UpdateCallPickupRequest.name: maxLength is Some(80.0) in the spec but Some(81.0) in the SDK's type",
        ]
    );
}
