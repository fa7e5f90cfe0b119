//! What the fake holds: locations, their call pickups and hunt groups, and
//! the rules an update follows.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::ids::{base64, call_pickup_id};

/// An error answer: status, Webex's `message`, and `errors[].description`.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) details: Vec<String>,
}

impl Problem {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            details: vec![message.clone()],
            message,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    locations: BTreeMap<String, Location>,
}

#[derive(Debug)]
struct Location {
    org_id: String,
    /// Call pickups by ID; each holds its settings, `name` among them.
    call_pickups: BTreeMap<String, Map<String, Value>>,
    /// Hunt groups by ID.
    hunt_groups: BTreeMap<String, Map<String, Value>>,
}

impl State {
    pub(crate) fn add_location(&mut self, org_id: &str, location_id: &str) {
        self.locations
            .entry(location_id.to_string())
            .or_insert_with(|| Location {
                org_id: org_id.to_string(),
                call_pickups: BTreeMap::new(),
                hunt_groups: BTreeMap::new(),
            });
    }

    pub(crate) fn add_call_pickup(
        &mut self,
        org_id: &str,
        location_id: &str,
        name: &str,
        settings: &Value,
    ) -> String {
        self.add_location(org_id, location_id);
        let mut stored = json_object(json!({
            "name": name,
            "notificationType": "NONE",
            "notificationDelayTimerSeconds": 6,
            "agents": [],
        }));
        if let Value::Object(settings) = settings {
            merge(&mut stored, settings);
        }
        stored.insert("name".into(), Value::String(name.to_string()));
        let id = call_pickup_id(name);
        if let Some(location) = self.locations.get_mut(location_id) {
            location.call_pickups.insert(id.clone(), stored);
        }
        id
    }

    pub(crate) fn add_hunt_group(
        &mut self,
        org_id: &str,
        location_id: &str,
        hunt_group_id: &str,
        settings: &Value,
    ) {
        self.add_location(org_id, location_id);
        let mut stored = json_object(json!({
            "enabled": true,
            "alternateNumbers": [],
            "agents": [],
        }));
        if let Value::Object(settings) = settings {
            merge(&mut stored, settings);
        }
        stored.remove("id");
        if let Some(location) = self.locations.get_mut(location_id) {
            location
                .hunt_groups
                .insert(hunt_group_id.to_string(), stored);
        }
    }

    pub(crate) fn call_pickup(&self, location_id: &str, call_pickup_id: &str) -> Option<Value> {
        let stored = self
            .locations
            .get(location_id)?
            .call_pickups
            .get(call_pickup_id)?;
        Some(with_id(call_pickup_id, stored))
    }

    pub(crate) fn call_pickups(&self, location_id: &str) -> Vec<Value> {
        self.locations
            .get(location_id)
            .map(|location| {
                location
                    .call_pickups
                    .iter()
                    .map(|(id, stored)| with_id(id, stored))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn hunt_group(&self, location_id: &str, hunt_group_id: &str) -> Option<Value> {
        let stored = self
            .locations
            .get(location_id)?
            .hunt_groups
            .get(hunt_group_id)?;
        Some(with_id(hunt_group_id, stored))
    }

    fn location(
        &mut self,
        location_id: &str,
        org_id: Option<&str>,
    ) -> Result<&mut Location, Problem> {
        match self.locations.get_mut(location_id) {
            Some(location) if org_id.is_none_or(|org| org == location.org_id) => Ok(location),
            _ => Err(Problem::new(
                404,
                format!("Location {location_id} was not found in the organization."),
            )),
        }
    }

    /// Applies a call pickup update and returns the pickup's ID after it.
    pub(crate) fn update_call_pickup(
        &mut self,
        location_id: &str,
        call_pickup_id_now: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<String, Problem> {
        let location = self.location(location_id, org_id)?;
        if !location.call_pickups.contains_key(call_pickup_id_now) {
            return Err(Problem::new(
                404,
                format!(
                    "Call pickup {call_pickup_id_now} was not found in location {location_id}."
                ),
            ));
        }
        let mut id = call_pickup_id_now.to_string();
        if let Some(name) = fields.get("name").and_then(Value::as_str) {
            let taken = location.call_pickups.iter().any(|(other, stored)| {
                other != call_pickup_id_now
                    && stored.get("name").and_then(Value::as_str) == Some(name)
            });
            if taken {
                return Err(Problem::new(
                    409,
                    format!(
                        "A call pickup named {name:?} already exists in location {location_id}."
                    ),
                ));
            }
            id = call_pickup_id(name);
        }
        let Some(mut stored) = location.call_pickups.remove(call_pickup_id_now) else {
            return Err(Problem::new(
                404,
                format!(
                    "Call pickup {call_pickup_id_now} was not found in location {location_id}."
                ),
            ));
        };
        merge(&mut stored, fields);
        location.call_pickups.insert(id.clone(), stored);
        Ok(id)
    }

    /// Applies a hunt group update.
    pub(crate) fn update_hunt_group(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<(), Problem> {
        let location = self.location(location_id, org_id)?;
        let Some(stored) = location.hunt_groups.get_mut(hunt_group_id) else {
            return Err(Problem::new(
                404,
                format!("Hunt group {hunt_group_id} was not found in location {location_id}."),
            ));
        };
        merge(stored, fields);
        Ok(())
    }
}

/// The largest `numberOfRings` the fake allows, as its reads report.
const SYSTEM_MAX_NUMBER_OF_RINGS: i64 = 20;

impl State {
    /// A call pickup as `GET` answers it: each member as an object.
    pub(crate) fn read_call_pickup(
        &mut self,
        location_id: &str,
        call_pickup_id: &str,
        org_id: Option<&str>,
    ) -> Result<Value, Problem> {
        let location = self.location(location_id, org_id)?;
        let Some(stored) = location.call_pickups.get(call_pickup_id) else {
            return Err(Problem::new(
                404,
                format!("Call pickup {call_pickup_id} was not found in location {location_id}."),
            ));
        };
        let mut out = json_object(with_id(call_pickup_id, stored));
        if let Some(Value::Array(agents)) = out.get_mut("agents") {
            for agent in agents.iter_mut() {
                let id = agent.as_str().unwrap_or_default().to_string();
                let mut member = Map::new();
                if let Some(kind) = member_type(&id) {
                    member.insert("type".into(), Value::from(kind));
                }
                member.insert("id".into(), Value::String(id));
                member.insert("phoneNumber".into(), json!([]));
                *agent = Value::Object(member);
            }
        }
        Ok(Value::Object(out))
    }

    /// A hunt group as `GET` answers it: every field Webex always sends,
    /// with the read-only ones beside what was stored.
    pub(crate) fn read_hunt_group(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<Value, Problem> {
        let location = self.location(location_id, org_id)?;
        let Some(stored) = location.hunt_groups.get(hunt_group_id) else {
            return Err(Problem::new(
                404,
                format!("Hunt group {hunt_group_id} was not found in location {location_id}."),
            ));
        };
        let mut out = json_object(json!({
            "name": hunt_group_id,
            "enabled": true,
            "distinctiveRing": false,
            "alternateNumbers": [],
            "callPolicies": {
                "policy": "REGULAR",
                "noAnswer": {
                    "nextAgentEnabled": false,
                    "nextAgentRings": 5,
                    "forwardEnabled": false,
                    "numberOfRings": 15,
                    "destinationVoicemailEnabled": false,
                },
            },
            "agents": [],
        }));
        merge(&mut out, stored);
        let mut out = json_object(with_id(hunt_group_id, &out));
        if out
            .get("languageCode")
            .and_then(Value::as_str)
            .is_some_and(|code| code.starts_with("en"))
        {
            out.insert("language".into(), Value::from("English"));
        }
        if let Some(Value::Object(no_answer)) = out
            .get_mut("callPolicies")
            .and_then(|policies| policies.get_mut("noAnswer"))
        {
            no_answer.insert(
                "systemMaxNumberOfRings".into(),
                Value::from(SYSTEM_MAX_NUMBER_OF_RINGS),
            );
        }
        if let Some(Value::Array(agents)) = out.get_mut("agents") {
            for agent in agents.iter_mut() {
                if let Value::Object(agent) = agent
                    && let Some(kind) = agent
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(member_type)
                {
                    agent.insert("type".into(), Value::from(kind));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// The kind of member an ID names, read from its `ciscospark://` URI.
fn member_type(id: &str) -> Option<&'static str> {
    [
        ("ciscospark://us/PEOPLE/", "PEOPLE"),
        ("ciscospark://us/PLACE/", "PLACE"),
        ("ciscospark://us/VIRTUAL_LINE/", "VIRTUAL_LINE"),
    ]
    .into_iter()
    .find(|(prefix, _)| {
        // Only whole groups of three bytes encode the same whatever follows.
        let whole = prefix.len() / 3 * 3;
        id.starts_with(&base64(&prefix.as_bytes()[..whole], false))
    })
    .map(|(_, kind)| kind)
}

/// Applies `patch` to `target`: objects merge field by field, everything
/// else (lists included) replaces what was there.
fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (name, value) in patch {
        match (target.get_mut(name), value) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            _ => {
                target.insert(name.clone(), value.clone());
            }
        }
    }
}

fn with_id(id: &str, stored: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id.to_string()));
    out.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
    Value::Object(out)
}

fn json_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "org";

    fn fields(value: Value) -> Map<String, Value> {
        json_object(value)
    }

    #[test]
    fn a_rename_moves_the_pickup_to_its_new_id() {
        let mut state = State::default();
        let old = state.add_call_pickup(ORG, "L", "callPickup1", &Value::Null);
        let new = state
            .update_call_pickup("L", &old, None, &fields(json!({"name": "callPickup2"})))
            .unwrap();
        assert_eq!(new, call_pickup_id("callPickup2"));
        assert!(state.call_pickup("L", &old).is_none());
        assert_eq!(state.call_pickup("L", &new).unwrap()["name"], "callPickup2");
        let again = state.update_call_pickup("L", &old, None, &Map::new());
        assert_eq!(again.unwrap_err().status, 404);
    }

    #[test]
    fn keeping_the_name_keeps_the_id() {
        let mut state = State::default();
        let id = state.add_call_pickup(ORG, "L", "a", &Value::Null);
        let after = state
            .update_call_pickup(
                "L",
                &id,
                None,
                &fields(json!({"name": "a", "agents": ["x"]})),
            )
            .unwrap();
        assert_eq!(after, id);
        assert_eq!(state.call_pickup("L", &id).unwrap()["agents"], json!(["x"]));
    }

    #[test]
    fn a_name_taken_in_the_location_conflicts_but_not_elsewhere() {
        let mut state = State::default();
        let a = state.add_call_pickup(ORG, "L", "a", &Value::Null);
        state.add_call_pickup(ORG, "L", "b", &Value::Null);
        state.add_call_pickup(ORG, "M", "c", &Value::Null);
        let conflict = state.update_call_pickup("L", &a, None, &fields(json!({"name": "b"})));
        assert_eq!(conflict.unwrap_err().status, 409);
        assert!(state.call_pickup("L", &a).is_some());
        let c = call_pickup_id("c");
        assert!(
            state
                .update_call_pickup("M", &c, None, &fields(json!({"name": "a"})))
                .is_ok()
        );
    }

    #[test]
    fn a_location_of_another_org_is_not_found() {
        let mut state = State::default();
        let a = state.add_call_pickup(ORG, "L", "a", &Value::Null);
        let error = state
            .update_call_pickup("L", &a, Some("other-org"), &Map::new())
            .unwrap_err();
        assert_eq!(error.status, 404);
        assert!(
            state
                .update_call_pickup("L", &a, Some(ORG), &Map::new())
                .is_ok()
        );
    }

    #[test]
    fn hunt_group_updates_merge_objects_and_replace_lists() {
        let mut state = State::default();
        state.add_hunt_group(
            ORG,
            "L",
            "H",
            &json!({
                "name": "main",
                "callPolicies": {"policy": "REGULAR", "waitingEnabled": true},
                "agents": [{"id": "a"}, {"id": "b"}],
            }),
        );
        state
            .update_hunt_group(
                "L",
                "H",
                None,
                &fields(json!({"callPolicies": {"policy": "WEIGHTED"}, "agents": [{"id": "c"}]})),
            )
            .unwrap();
        let stored = state.hunt_group("L", "H").unwrap();
        assert_eq!(stored["name"], "main");
        assert_eq!(
            stored["callPolicies"],
            json!({"policy": "WEIGHTED", "waitingEnabled": true})
        );
        assert_eq!(stored["agents"], json!([{"id": "c"}]));
    }
}
