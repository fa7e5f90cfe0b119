//! The checks of `cargo xtask check` that need the SDK's types: every
//! example of the spec is true (check 3), and the generated types say what
//! the spec says (check 5).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An example of the spec and the component schema it illustrates.
#[derive(Clone, Debug)]
pub struct Example {
    /// Where the example is, for messages.
    pub at: String,
    /// The component schema it is an instance of.
    pub schema: String,
    /// The example itself.
    pub value: Value,
}

/// Reads the spec (YAML) into JSON.
pub fn load_spec(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn component_of(schema: &Value) -> Option<String> {
    schema["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_string)
}

fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(pointer) => spec.pointer(&format!("/{pointer}")).unwrap_or(value),
        None => value,
    }
}

/// Every request and response example of every operation.
pub fn examples(spec: &Value) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    let paths = spec["paths"].as_object().ok_or("the spec has no paths")?;
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let at = format!("{} {path}", method.to_uppercase());
            let mut media = vec![(
                format!("{at} request"),
                &operation["requestBody"]["content"]["application/json"],
            )];
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let response = resolve(spec, response);
                media.push((
                    format!("{at} {status}"),
                    &response["content"]["application/json"],
                ));
            }
            for (at, media) in media {
                let Some(example) = media.get("example") else {
                    continue;
                };
                let schema = component_of(&media["schema"]).ok_or_else(|| {
                    format!("{at}: the example's schema is not a component reference")
                })?;
                out.push(Example {
                    at,
                    schema,
                    value: example.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Step 1: the example is valid against its schema, by an independent JSON
/// Schema validator.
pub fn schema_step(spec: &Value, example: &Example) -> Result<(), String> {
    let root = serde_json::json!({
        "$ref": format!("#/components/schemas/{}", example.schema),
        "components": spec["components"],
    });
    let validator = jsonschema::draft4::new(&root)
        .map_err(|e| format!("{}: the schema does not compile: {e}", example.at))?;
    let errors: Vec<String> = validator
        .iter_errors(&example.value)
        .map(|e| format!("{} at `{}`", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: the example breaks its schema: {}",
            example.at,
            errors.join("; ")
        ))
    }
}

/// Steps 2 to 4 for one SDK type: deserialize, pass the SDK's rules,
/// serialize back to the same JSON.
pub fn typed_steps<T>(example: &Example) -> Result<(), String>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
    T: webex_calling::Validate,
{
    let typed: T = serde_json::from_value(example.value.clone()).map_err(|e| {
        format!(
            "{}: the example does not deserialize into the SDK's type: {e}",
            example.at
        )
    })?;
    // The rules alone: a field the type does not have is the round trip's
    // to find, and a response example may carry fields no schema declares.
    typed
        .validate()
        .map_err(|e| format!("{}: the example breaks the SDK's rules: {e}", example.at))?;
    let back = serde_json::to_value(&typed)
        .map_err(|e| format!("{}: cannot serialize: {e}", example.at))?;
    // A response example is Webex's own answer: it may spell a field
    // another way (`x-aliases`) or carry fields no schema declares, which a
    // read ignores. What the SDK writes of it must still read back the same.
    let is_response = !example.at.ends_with(" request");
    if is_response && back != example.value {
        let again: T = serde_json::from_value(back.clone()).map_err(|e| {
            format!(
                "{}: what the SDK writes does not read back: {e}",
                example.at
            )
        })?;
        if again != typed {
            return Err(format!(
                "{}: the SDK's type does not read back what it writes:\n  read:  {typed:?}\n  again: {again:?}",
                example.at
            ));
        }
        return Ok(());
    }
    if back != example.value {
        return Err(format!(
            "{}: the SDK's type does not carry the example back unchanged:\n  spec: {}\n  sdk:  {}",
            example.at, example.value, back
        ));
    }
    Ok(())
}

macro_rules! for_sdk_type {
    ($name:expr, $call:ident, $($args:expr),*) => {{
        use webex_calling::types::*;
        match $name {
            "AgentNumber" => $call::<AgentNumber>($($args),*),
            "AlternateNumber" => $call::<AlternateNumber>($($args),*),
            "CallPickupAgent" => $call::<CallPickupAgent>($($args),*),
            "CallPickupDetails" => $call::<CallPickupDetails>($($args),*),
            "HuntGroupAgentDetails" => $call::<HuntGroupAgentDetails>($($args),*),
            "HuntGroupCallPoliciesDetails" => $call::<HuntGroupCallPoliciesDetails>($($args),*),
            "HuntGroupDetails" => $call::<HuntGroupDetails>($($args),*),
            "NoAnswerDetails" => $call::<NoAnswerDetails>($($args),*),
            "DirectLineCallerIdName" => $call::<DirectLineCallerIdName>($($args),*),
            "HuntGroupAgent" => $call::<HuntGroupAgent>($($args),*),
            "HuntGroupCallPolicies" => $call::<HuntGroupCallPolicies>($($args),*),
            "NoAnswerSettings" => $call::<NoAnswerSettings>($($args),*),
            "RedirectSettings" => $call::<RedirectSettings>($($args),*),
            "UpdateCallPickupRequest" => $call::<UpdateCallPickupRequest>($($args),*),
            "UpdateCallPickupResponse" => $call::<UpdateCallPickupResponse>($($args),*),
            "UpdateHuntGroupRequest" => $call::<UpdateHuntGroupRequest>($($args),*),
            "AvailableNumber" => $call::<AvailableNumber>($($args),*),
            "AvailableNumbersResponse" => $call::<AvailableNumbersResponse>($($args),*),
            "CallForwardAvailableNumber" => $call::<CallForwardAvailableNumber>($($args),*),
            "CallForwardAvailableNumbersResponse" => $call::<CallForwardAvailableNumbersResponse>($($args),*),
            "CallPickupListItem" => $call::<CallPickupListItem>($($args),*),
            "CallsToNumber" => $call::<CallsToNumber>($($args),*),
            "CreateCallPickupRequest" => $call::<CreateCallPickupRequest>($($args),*),
            "CreateHuntGroupRequest" => $call::<CreateHuntGroupRequest>($($args),*),
            "CreateSelectiveForwardingRuleRequest" => $call::<CreateSelectiveForwardingRuleRequest>($($args),*),
            "CreatedId" => $call::<CreatedId>($($args),*),
            "ForwardingDestination" => $call::<ForwardingDestination>($($args),*),
            "ForwardingRuleState" => $call::<ForwardingRuleState>($($args),*),
            "ForwardingRuleSummary" => $call::<ForwardingRuleSummary>($($args),*),
            "HuntGroupCallForwarding" => $call::<HuntGroupCallForwarding>($($args),*),
            "HuntGroupCallForwardingSettings" => $call::<HuntGroupCallForwardingSettings>($($args),*),
            "HuntGroupCallForwardingUpdate" => $call::<HuntGroupCallForwardingUpdate>($($args),*),
            "HuntGroupListItem" => $call::<HuntGroupListItem>($($args),*),
            "ListCallPickupAvailableAgentsResponse" => $call::<ListCallPickupAvailableAgentsResponse>($($args),*),
            "ListCallPickupsResponse" => $call::<ListCallPickupsResponse>($($args),*),
            "ListHuntGroupsResponse" => $call::<ListHuntGroupsResponse>($($args),*),
            "NumberOwner" => $call::<NumberOwner>($($args),*),
            "OperatingModeDetails" => $call::<OperatingModeDetails>($($args),*),
            "OperatingModeForwardTo" => $call::<OperatingModeForwardTo>($($args),*),
            "OperatingModeForwardToDetails" => $call::<OperatingModeForwardToDetails>($($args),*),
            "OperatingModeUpdate" => $call::<OperatingModeUpdate>($($args),*),
            "OperatingModesDetails" => $call::<OperatingModesDetails>($($args),*),
            "OperatingModesUpdate" => $call::<OperatingModesUpdate>($($args),*),
            "RuleCallsFrom" => $call::<RuleCallsFrom>($($args),*),
            "RuleCallsTo" => $call::<RuleCallsTo>($($args),*),
            "RuleCustomNumbers" => $call::<RuleCustomNumbers>($($args),*),
            "RuleForwardTo" => $call::<RuleForwardTo>($($args),*),
            "SelectiveForwardingRule" => $call::<SelectiveForwardingRule>($($args),*),
            "UpdateHuntGroupCallForwardingRequest" => $call::<UpdateHuntGroupCallForwardingRequest>($($args),*),
            "UpdateSelectiveForwardingRuleRequest" => $call::<UpdateSelectiveForwardingRuleRequest>($($args),*),
            other => Err(format!(
                "the spec's component {other} has no entry in tests/src/sync.rs; add its SDK type there"
            )),
        }
    }};
}

macro_rules! for_sdk_schema {
    ($name:expr) => {{
        use webex_calling::types::*;
        match $name {
            "AgentNumber" => Some(schemars::schema_for!(AgentNumber)),
            "AgentType" => Some(schemars::schema_for!(AgentType)),
            "AlternateNumber" => Some(schemars::schema_for!(AlternateNumber)),
            "CallPickupAgent" => Some(schemars::schema_for!(CallPickupAgent)),
            "CallPickupDetails" => Some(schemars::schema_for!(CallPickupDetails)),
            "HuntGroupAgentDetails" => Some(schemars::schema_for!(HuntGroupAgentDetails)),
            "HuntGroupCallPoliciesDetails" => {
                Some(schemars::schema_for!(HuntGroupCallPoliciesDetails))
            }
            "HuntGroupDetails" => Some(schemars::schema_for!(HuntGroupDetails)),
            "NoAnswerDetails" => Some(schemars::schema_for!(NoAnswerDetails)),
            "CallPickupNotificationType" => Some(schemars::schema_for!(CallPickupNotificationType)),
            "DirectLineCallerIdName" => Some(schemars::schema_for!(DirectLineCallerIdName)),
            "DirectLineCallerIdSelection" => {
                Some(schemars::schema_for!(DirectLineCallerIdSelection))
            }
            "HuntGroupAgent" => Some(schemars::schema_for!(HuntGroupAgent)),
            "HuntGroupCallPolicies" => Some(schemars::schema_for!(HuntGroupCallPolicies)),
            "HuntPolicy" => Some(schemars::schema_for!(HuntPolicy)),
            "NoAnswerSettings" => Some(schemars::schema_for!(NoAnswerSettings)),
            "RedirectSettings" => Some(schemars::schema_for!(RedirectSettings)),
            "RingPattern" => Some(schemars::schema_for!(RingPattern)),
            "UpdateCallPickupRequest" => Some(schemars::schema_for!(UpdateCallPickupRequest)),
            "UpdateCallPickupResponse" => Some(schemars::schema_for!(UpdateCallPickupResponse)),
            "UpdateHuntGroupRequest" => Some(schemars::schema_for!(UpdateHuntGroupRequest)),
            "AvailableNumber" => Some(schemars::schema_for!(AvailableNumber)),
            "AvailableNumbersResponse" => Some(schemars::schema_for!(AvailableNumbersResponse)),
            "CallForwardAvailableNumber" => Some(schemars::schema_for!(CallForwardAvailableNumber)),
            "CallForwardAvailableNumbersResponse" => {
                Some(schemars::schema_for!(CallForwardAvailableNumbersResponse))
            }
            "CallPickupListItem" => Some(schemars::schema_for!(CallPickupListItem)),
            "CallsFromSelection" => Some(schemars::schema_for!(CallsFromSelection)),
            "CallsToNumber" => Some(schemars::schema_for!(CallsToNumber)),
            "CallsToNumberType" => Some(schemars::schema_for!(CallsToNumberType)),
            "CreateCallPickupRequest" => Some(schemars::schema_for!(CreateCallPickupRequest)),
            "CreateHuntGroupRequest" => Some(schemars::schema_for!(CreateHuntGroupRequest)),
            "CreateSelectiveForwardingRuleRequest" => {
                Some(schemars::schema_for!(CreateSelectiveForwardingRuleRequest))
            }
            "CreatedId" => Some(schemars::schema_for!(CreatedId)),
            "ForwardToSelection" => Some(schemars::schema_for!(ForwardToSelection)),
            "ForwardingDestination" => Some(schemars::schema_for!(ForwardingDestination)),
            "ForwardingRuleState" => Some(schemars::schema_for!(ForwardingRuleState)),
            "ForwardingRuleSummary" => Some(schemars::schema_for!(ForwardingRuleSummary)),
            "HuntGroupCallForwarding" => Some(schemars::schema_for!(HuntGroupCallForwarding)),
            "HuntGroupCallForwardingSettings" => {
                Some(schemars::schema_for!(HuntGroupCallForwardingSettings))
            }
            "HuntGroupCallForwardingUpdate" => {
                Some(schemars::schema_for!(HuntGroupCallForwardingUpdate))
            }
            "HuntGroupListItem" => Some(schemars::schema_for!(HuntGroupListItem)),
            "ListCallPickupAvailableAgentsResponse" => {
                Some(schemars::schema_for!(ListCallPickupAvailableAgentsResponse))
            }
            "ListCallPickupsResponse" => Some(schemars::schema_for!(ListCallPickupsResponse)),
            "ListHuntGroupsResponse" => Some(schemars::schema_for!(ListHuntGroupsResponse)),
            "NumberOwner" => Some(schemars::schema_for!(NumberOwner)),
            "NumberOwnerType" => Some(schemars::schema_for!(NumberOwnerType)),
            "NumberState" => Some(schemars::schema_for!(NumberState)),
            "OperatingModeDetails" => Some(schemars::schema_for!(OperatingModeDetails)),
            "OperatingModeExceptionType" => Some(schemars::schema_for!(OperatingModeExceptionType)),
            "OperatingModeForwardTo" => Some(schemars::schema_for!(OperatingModeForwardTo)),
            "OperatingModeForwardToDetails" => {
                Some(schemars::schema_for!(OperatingModeForwardToDetails))
            }
            "OperatingModeLevel" => Some(schemars::schema_for!(OperatingModeLevel)),
            "OperatingModeType" => Some(schemars::schema_for!(OperatingModeType)),
            "OperatingModeUpdate" => Some(schemars::schema_for!(OperatingModeUpdate)),
            "OperatingModesDetails" => Some(schemars::schema_for!(OperatingModesDetails)),
            "OperatingModesUpdate" => Some(schemars::schema_for!(OperatingModesUpdate)),
            "RuleCallsFrom" => Some(schemars::schema_for!(RuleCallsFrom)),
            "RuleCallsTo" => Some(schemars::schema_for!(RuleCallsTo)),
            "RuleCustomNumbers" => Some(schemars::schema_for!(RuleCustomNumbers)),
            "RuleForwardTo" => Some(schemars::schema_for!(RuleForwardTo)),
            "SelectiveForwardingRule" => Some(schemars::schema_for!(SelectiveForwardingRule)),
            "TelephonyType" => Some(schemars::schema_for!(TelephonyType)),
            "UpdateHuntGroupCallForwardingRequest" => {
                Some(schemars::schema_for!(UpdateHuntGroupCallForwardingRequest))
            }
            "UpdateSelectiveForwardingRuleRequest" => {
                Some(schemars::schema_for!(UpdateSelectiveForwardingRuleRequest))
            }
            _ => None,
        }
    }};
}

/// Check 3: every example passes all four steps.
pub fn check_examples(spec: &Value) -> Result<String, String> {
    let examples = examples(spec)?;
    let mut problems = Vec::new();
    for example in &examples {
        if let Err(e) = schema_step(spec, example) {
            problems.push(e);
            continue;
        }
        if let Err(e) = for_sdk_type!(example.schema.as_str(), typed_steps, example) {
            problems.push(e);
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} examples validate against their schemas, deserialize into the SDK's types, pass its rules and round-trip",
            examples.len()
        ))
    } else {
        Err(format!(
            "{}\nfix the example in spec/webex-calling.yaml, or the spec's schema and run `cargo xtask codegen`",
            problems.join("\n")
        ))
    }
}

/// Check 5: the JSON Schema derived from each generated type has the spec's
/// properties, JSON types, required sets, enums and bounds.
pub fn check_types(spec: &Value) -> Result<String, String> {
    let components = spec["components"]["schemas"]
        .as_object()
        .ok_or("the spec has no component schemas")?;
    let mut problems = Vec::new();
    for (name, schema) in components {
        // Such a schema documents a shape the runtime reads by hand (the
        // error body): it has no generated type to compare.
        if schema["x-documentation-only"] == true {
            if for_sdk_schema!(name.as_str()).is_some() {
                problems.push(format!(
                    "{name}: marked x-documentation-only, but tests/src/sync.rs lists a generated type for it"
                ));
            }
            continue;
        }
        match for_sdk_schema!(name.as_str()) {
            Some(derived) => {
                let derived = serde_json::to_value(derived).map_err(|e| e.to_string())?;
                problems.extend(compare_type(spec, name, &derived));
            }
            None => problems.push(format!(
                "{name}: no generated type is listed for this component in tests/src/sync.rs"
            )),
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} generated types match their schemas in the spec",
            components.len()
        ))
    } else {
        Err(format!(
            "{}\nregenerate with `cargo xtask codegen` (generated code must never be edited by hand)",
            problems.join("\n")
        ))
    }
}

/// Compares the spec's component `name` with a schemars root schema.
pub fn compare_type(spec: &Value, name: &str, derived_root: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let spec_schema = &spec["components"]["schemas"][name];
    compare(
        spec,
        spec_schema,
        derived_root,
        derived_root,
        name,
        &mut problems,
    );
    problems
}

fn derived_resolve<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        Some(name) => &root["definitions"][name],
        None => value,
    }
}

/// The schema as schemars states it, in the spec's terms: the `null` that
/// `Option` adds and the `allOf` that carries a field's docs beside a `$ref`
/// are removed, references resolved, and an enum whose variants are
/// documented (one `oneOf` branch per value) folded back into one `enum`.
fn strip_null(root: &Value, value: &Value) -> Value {
    for key in ["anyOf", "allOf"] {
        if let Some(any) = value[key].as_array() {
            let rest: Vec<&Value> = any.iter().filter(|v| v["type"] != "null").collect();
            if rest.len() == 1 {
                return strip_null(root, rest[0]);
            }
        }
    }
    let value = derived_resolve(root, value);
    if let Some(branches) = value["oneOf"].as_array() {
        let values: Option<Vec<Value>> = branches
            .iter()
            .map(|b| match (b["type"].as_str(), b["enum"].as_array()) {
                (Some("string"), Some(one)) if one.len() == 1 => Some(one[0].clone()),
                _ => None,
            })
            .collect();
        if let Some(values) = values {
            return serde_json::json!({ "type": "string", "enum": values });
        }
    }
    value.clone()
}

fn json_type(value: &Value) -> Option<String> {
    match &value["type"] {
        Value::String(t) => Some(t.clone()),
        Value::Array(types) => {
            let rest: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            (rest.len() == 1).then(|| rest[0].to_string())
        }
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64()
}

fn compare(
    spec_root: &Value,
    spec: &Value,
    derived_root: &Value,
    derived: &Value,
    at: &str,
    problems: &mut Vec<String>,
) {
    let spec = resolve(spec_root, spec);
    let derived = &strip_null(derived_root, derived);
    let spec_type = spec["type"].as_str().map(str::to_string);
    let derived_type = json_type(derived);
    if spec_type != derived_type {
        problems.push(format!(
            "{at}: the spec says type {spec_type:?}, the SDK's type says {derived_type:?}"
        ));
        return;
    }
    for bound in [
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
    ] {
        let (a, b) = (number(&spec[bound]), number(&derived[bound]));
        if a != b {
            problems.push(format!(
                "{at}: {bound} is {a:?} in the spec but {b:?} in the SDK's type"
            ));
        }
    }
    if spec["pattern"] != derived["pattern"] {
        problems.push(format!(
            "{at}: pattern is {} in the spec but {} in the SDK's type",
            spec["pattern"], derived["pattern"]
        ));
    }
    let enum_of = |v: &Value| -> Option<BTreeSet<String>> {
        v["enum"].as_array().map(|e| {
            e.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
    };
    if enum_of(spec) != enum_of(derived) {
        problems.push(format!(
            "{at}: the enum values differ: spec {:?}, SDK {:?}",
            enum_of(spec).unwrap_or_default(),
            enum_of(derived).unwrap_or_default()
        ));
    }
    match spec_type.as_deref() {
        Some("object") => {
            let names = |v: &Value| -> BTreeMap<String, Value> {
                v["properties"]
                    .as_object()
                    .map(|p| p.clone().into_iter().collect())
                    .unwrap_or_default()
            };
            let (spec_props, derived_props) = (names(spec), names(derived));
            for key in spec_props
                .keys()
                .filter(|k| !derived_props.contains_key(*k))
            {
                problems.push(format!("{at}.{key}: in the spec but not in the SDK's type"));
            }
            for key in derived_props
                .keys()
                .filter(|k| !spec_props.contains_key(*k))
            {
                problems.push(format!("{at}.{key}: in the SDK's type but not in the spec"));
            }
            let required = |v: &Value| -> BTreeSet<String> {
                v["required"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if required(spec) != required(derived) {
                problems.push(format!(
                    "{at}: the required fields differ: spec {:?}, SDK {:?}",
                    required(spec),
                    required(derived)
                ));
            }
            for (key, spec_prop) in &spec_props {
                if let Some(derived_prop) = derived_props.get(key) {
                    compare(
                        spec_root,
                        spec_prop,
                        derived_root,
                        derived_prop,
                        &format!("{at}.{key}"),
                        problems,
                    );
                }
            }
        }
        Some("array") => compare(
            spec_root,
            &spec["items"],
            derived_root,
            &derived["items"],
            &format!("{at}[]"),
            problems,
        ),
        _ => {}
    }
}
