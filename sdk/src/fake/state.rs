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
    /// How many hunt groups were created, which names the next one's ID.
    created: u64,
}

#[derive(Debug)]
struct Location {
    org_id: String,
    /// The location's name, as lists show it.
    name: String,
    /// Call pickups by ID; each holds its settings, `name` among them.
    call_pickups: BTreeMap<String, Map<String, Value>>,
    /// Hunt groups by ID.
    hunt_groups: BTreeMap<String, Map<String, Value>>,
    /// Each hunt group's call forwarding, by hunt group ID, as an update
    /// body's `callForwarding` holds it.
    forwarding: BTreeMap<String, Map<String, Value>>,
    /// Each hunt group's selective forwarding rules, by hunt group ID and
    /// then by rule ID.
    rules: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    /// The people, workspaces and virtual lines of the location, by ID,
    /// each as an available agent is listed.
    members: BTreeMap<String, Value>,
    /// The location's PSTN numbers, each with its `owner` when assigned.
    numbers: Vec<Map<String, Value>>,
}

impl State {
    pub(crate) fn add_location(&mut self, org_id: &str, location_id: &str) {
        self.locations
            .entry(location_id.to_string())
            .or_insert_with(|| Location {
                org_id: org_id.to_string(),
                name: location_id.to_string(),
                call_pickups: BTreeMap::new(),
                hunt_groups: BTreeMap::new(),
                forwarding: BTreeMap::new(),
                rules: BTreeMap::new(),
                members: BTreeMap::new(),
                numbers: Vec::new(),
            });
    }

    /// Names a location, as lists show it.
    pub(crate) fn name_location(&mut self, location_id: &str, name: &str) {
        if let Some(location) = self.locations.get_mut(location_id) {
            location.name = name.to_string();
        }
    }

    /// Adds a person, workspace or virtual line to a location, with its
    /// name; its kind is read from its ID.
    pub(crate) fn add_member(&mut self, location_id: &str, id: &str, first: &str, last: &str) {
        if let Some(location) = self.locations.get_mut(location_id) {
            let mut member = Map::new();
            member.insert("id".into(), Value::from(id));
            member.insert("firstName".into(), Value::from(first));
            member.insert("lastName".into(), Value::from(last));
            member.insert("displayName".into(), Value::from(format!("{first} {last}")));
            if let Some(kind) = member_type(id) {
                member.insert("type".into(), Value::from(kind));
            }
            member.insert("phoneNumber".into(), json!([]));
            location
                .members
                .insert(id.to_string(), Value::Object(member));
        }
    }

    /// Adds a PSTN number to a location, owned by `owner` (an object with
    /// `id`, `type` and names) when given.
    pub(crate) fn add_number(
        &mut self,
        location_id: &str,
        number: &str,
        active: bool,
        owner: Option<Value>,
    ) {
        if let Some(location) = self.locations.get_mut(location_id) {
            let mut entry = json_object(json!({
                "phoneNumber": number,
                "state": if active { "ACTIVE" } else { "INACTIVE" },
                "isMainNumber": false,
                "tollFreeNumber": false,
                "telephonyType": "PSTN_NUMBER",
                "isServiceNumber": false,
            }));
            if let Some(owner) = owner {
                entry.insert("owner".into(), owner);
            }
            location.numbers.push(entry);
        }
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
            location
                .forwarding
                .entry(hunt_group_id.to_string())
                .or_insert_with(default_forwarding);
            location.rules.entry(hunt_group_id.to_string()).or_default();
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
        self.location_ref(location_id, org_id)?;
        self.locations
            .get_mut(location_id)
            .ok_or_else(|| location_not_found(location_id))
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

/// The call forwarding a hunt group starts with: nothing forwarded.
fn default_forwarding() -> Map<String, Value> {
    json_object(json!({
        "always": {"enabled": false, "ringReminderEnabled": false, "destinationVoicemailEnabled": false},
        "selective": {"enabled": false, "ringReminderEnabled": false, "destinationVoicemailEnabled": false},
    }))
}

/// The ID Webex gives a selective forwarding rule named `name`: like a call
/// pickup's, it embeds the name, so renaming a rule changes its ID.
fn rule_id(name: &str) -> String {
    let uri = format!(
        "ciscospark://us/CALL_FORWARDING_SELECTIVE_RULE/{}",
        base64(name.as_bytes(), true)
    );
    base64(uri.as_bytes(), false)
}

fn location_not_found(location_id: &str) -> Problem {
    Problem::new(
        404,
        format!("Location {location_id} was not found in the organization."),
    )
}

fn not_found(what: &str, id: &str, location_id: &str) -> Problem {
    Problem::new(
        404,
        format!("{what} {id} was not found in location {location_id}."),
    )
}

fn text<'a>(value: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

/// Whether `value` contains `filter`, ignoring case.
fn contains(value: Option<&str>, filter: &str) -> bool {
    value.is_some_and(|value| value.to_lowercase().contains(&filter.to_lowercase()))
}

/// The filters a list request may carry, by query parameter name.
pub(crate) type Filters<'a> = &'a [(String, String)];

fn filter<'a>(filters: Filters<'a>, name: &str) -> Option<&'a str> {
    filters
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

impl State {
    /// A location of `org_id`, if given, for reading.
    fn location_ref(&self, location_id: &str, org_id: Option<&str>) -> Result<&Location, Problem> {
        match self.locations.get(location_id) {
            Some(location) if org_id.is_none_or(|org| org == location.org_id) => Ok(location),
            _ => Err(location_not_found(location_id)),
        }
    }

    /// Every call pickup of a location that the filters keep, sorted by
    /// name as `order` says (`ASC`, the default, or `DSC`).
    pub(crate) fn list_call_pickups(
        &self,
        location_id: &str,
        org_id: Option<&str>,
        filters: Filters<'_>,
    ) -> Result<Vec<Value>, Problem> {
        let location = self.location_ref(location_id, org_id)?;
        let mut out: Vec<Value> = location
            .call_pickups
            .iter()
            .filter(|(_, stored)| {
                filter(filters, "name").is_none_or(|name| contains(text(stored, "name"), name))
            })
            .map(|(id, stored)| {
                json!({
                    "id": id,
                    "name": text(stored, "name").unwrap_or_default(),
                    "locationName": location.name,
                    "locationId": location_id,
                })
            })
            .collect();
        out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        match filter(filters, "order") {
            None | Some("ASC") => {}
            Some("DSC") => out.reverse(),
            Some(other) => {
                return Err(Problem::new(
                    400,
                    format!("order: {other:?} is neither ASC nor DSC."),
                ));
            }
        }
        Ok(out)
    }

    /// Creates a call pickup and returns its ID.
    pub(crate) fn create_call_pickup(
        &mut self,
        location_id: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<String, Problem> {
        let location = self.location(location_id, org_id)?;
        let name = text(fields, "name").unwrap_or_default().to_string();
        if location
            .call_pickups
            .values()
            .any(|stored| text(stored, "name") == Some(name.as_str()))
        {
            return Err(Problem::new(
                409,
                format!("A call pickup named {name:?} already exists in location {location_id}."),
            ));
        }
        let org = location.org_id.clone();
        Ok(self.add_call_pickup(&org, location_id, &name, &Value::Object(fields.clone())))
    }

    pub(crate) fn delete_call_pickup(
        &mut self,
        location_id: &str,
        call_pickup_id: &str,
        org_id: Option<&str>,
    ) -> Result<(), Problem> {
        let location = self.location(location_id, org_id)?;
        location
            .call_pickups
            .remove(call_pickup_id)
            .map(|_| ())
            .ok_or_else(|| not_found("Call pickup", call_pickup_id, location_id))
    }

    /// The location's members that are in no call pickup, or in the one
    /// named `callPickupName`, that the filters keep.
    pub(crate) fn available_agents(
        &self,
        location_id: &str,
        org_id: Option<&str>,
        filters: Filters<'_>,
    ) -> Result<Vec<Value>, Problem> {
        let location = self.location_ref(location_id, org_id)?;
        let pickup_name = filter(filters, "callPickupName");
        let taken: Vec<&str> = location
            .call_pickups
            .values()
            .filter(|stored| pickup_name.is_none_or(|name| text(stored, "name") != Some(name)))
            .filter_map(|stored| stored.get("agents").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        Ok(location
            .members
            .iter()
            .filter(|(id, _)| !taken.contains(&id.as_str()))
            .map(|(_, member)| member)
            .filter(|member| {
                filter(filters, "name").is_none_or(|name| {
                    contains(member["displayName"].as_str(), name)
                        || contains(member["firstName"].as_str(), name)
                        || contains(member["lastName"].as_str(), name)
                })
            })
            .filter(|member| {
                filter(filters, "phoneNumber").is_none_or(|number| {
                    member["phoneNumber"].as_array().is_some_and(|numbers| {
                        numbers
                            .iter()
                            .any(|n| contains(n["external"].as_str(), number))
                    })
                })
            })
            .cloned()
            .collect())
    }

    /// The hunt groups of the organization (or of the `locationId` filter)
    /// that the filters keep, sorted by name, then ID.
    pub(crate) fn list_hunt_groups(&self, org_id: &str, filters: Filters<'_>) -> Vec<Value> {
        let mut out = Vec::new();
        for (location_id, location) in &self.locations {
            if location.org_id != org_id
                || filter(filters, "locationId").is_some_and(|wanted| wanted != location_id)
            {
                continue;
            }
            for (id, stored) in &location.hunt_groups {
                let name = text(stored, "name").unwrap_or(id);
                if filter(filters, "name").is_some_and(|wanted| !contains(Some(name), wanted)) {
                    continue;
                }
                if filter(filters, "phoneNumber").is_some_and(|wanted| {
                    text(stored, "phoneNumber") != Some(wanted)
                        && text(stored, "extension") != Some(wanted)
                }) {
                    continue;
                }
                let mut item = json_object(json!({
                    "id": id,
                    "name": name,
                    "locationName": location.name,
                    "locationId": location_id,
                    "enabled": stored.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                }));
                for field in ["phoneNumber", "extension"] {
                    if let Some(value) = stored.get(field) {
                        item.insert(field.into(), value.clone());
                    }
                }
                out.push(Value::Object(item));
            }
        }
        out.sort_by(|a, b| {
            (a["name"].as_str(), a["id"].as_str()).cmp(&(b["name"].as_str(), b["id"].as_str()))
        });
        out
    }

    /// Creates a hunt group and returns its ID.
    pub(crate) fn create_hunt_group(
        &mut self,
        location_id: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<String, Problem> {
        let location = self.location(location_id, org_id)?;
        let name = text(fields, "name").unwrap_or_default();
        if location
            .hunt_groups
            .values()
            .any(|stored| text(stored, "name") == Some(name))
        {
            return Err(Problem::new(
                409,
                format!("A hunt group named {name:?} already exists in location {location_id}."),
            ));
        }
        if !fields.contains_key("phoneNumber") && !fields.contains_key("extension") {
            return Err(Problem::new(
                400,
                "A hunt group needs a phoneNumber or an extension.",
            ));
        }
        let org = location.org_id.clone();
        self.created += 1;
        let id = base64(
            format!("ciscospark://us/HUNT_GROUP/created{}", self.created).as_bytes(),
            false,
        );
        self.add_hunt_group(&org, location_id, &id, &Value::Object(fields.clone()));
        Ok(id)
    }

    pub(crate) fn delete_hunt_group(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<(), Problem> {
        let location = self.location(location_id, org_id)?;
        location
            .hunt_groups
            .remove(hunt_group_id)
            .ok_or_else(|| not_found("Hunt group", hunt_group_id, location_id))?;
        location.forwarding.remove(hunt_group_id);
        location.rules.remove(hunt_group_id);
        Ok(())
    }

    /// The location of an existing hunt group, for a change.
    fn hunt_group_location(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<&mut Location, Problem> {
        let location = self.location(location_id, org_id)?;
        if !location.hunt_groups.contains_key(hunt_group_id) {
            return Err(not_found("Hunt group", hunt_group_id, location_id));
        }
        Ok(location)
    }

    /// A hunt group's call forwarding as `GET` answers it, each selective
    /// rule summarised.
    pub(crate) fn read_forwarding(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<Value, Problem> {
        let location = self.hunt_group_location(location_id, hunt_group_id, org_id)?;
        let mut forwarding = location
            .forwarding
            .get(hunt_group_id)
            .cloned()
            .unwrap_or_else(default_forwarding);
        let rules: Vec<Value> = location
            .rules
            .get(hunt_group_id)
            .into_iter()
            .flatten()
            .map(|(id, rule)| {
                let mut summary = json_object(
                    json!({ "id": id, "name": rule.get("name").cloned().unwrap_or_default() }),
                );
                summary.insert(
                    "enabled".into(),
                    rule.get("enabled").cloned().unwrap_or(Value::Bool(true)),
                );
                if let Some(number) = rule.get("forwardTo").and_then(|to| to.get("phoneNumber")) {
                    summary.insert("forwardTo".into(), number.clone());
                }
                Value::Object(summary)
            })
            .collect();
        forwarding.insert("rules".into(), Value::Array(rules));
        Ok(json!({ "callForwarding": forwarding }))
    }

    /// Applies a call forwarding update: `always` and `selective` merge,
    /// `rules` set whether each named rule is enabled, `operatingModes`
    /// sets whether forwarding by mode is on and changes the modes named.
    pub(crate) fn update_forwarding(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<(), Problem> {
        let location = self.hunt_group_location(location_id, hunt_group_id, org_id)?;
        let Some(Value::Object(update)) = fields.get("callForwarding") else {
            return Ok(());
        };
        let rules = location.rules.entry(hunt_group_id.to_string()).or_default();
        if let Some(Value::Array(states)) = update.get("rules") {
            for state in states {
                let id = state["id"].as_str().unwrap_or_default();
                if !rules.contains_key(id) {
                    return Err(not_found("Selective forwarding rule", id, location_id));
                }
            }
            for state in states {
                if let (Some(rule), Some(enabled)) = (
                    rules.get_mut(state["id"].as_str().unwrap_or_default()),
                    state.get("enabled"),
                ) {
                    rule.insert("enabled".into(), enabled.clone());
                }
            }
        }
        let stored = location
            .forwarding
            .entry(hunt_group_id.to_string())
            .or_insert_with(default_forwarding);
        for part in ["always", "selective"] {
            if let Some(Value::Object(patch)) = update.get(part) {
                let mut target = stored
                    .get(part)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                merge(&mut target, patch);
                stored.insert(part.into(), Value::Object(target));
            }
        }
        if let Some(Value::Object(modes)) = update.get("operatingModes") {
            let mut target = stored
                .get("operatingModes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            target.insert(
                "enabled".into(),
                modes.get("enabled").cloned().unwrap_or(Value::Bool(false)),
            );
            let known = target
                .get("modes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut changed = known.clone();
            for mode in modes
                .get("modes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = mode["id"].as_str().unwrap_or_default();
                let Some(Value::Object(known)) = changed.iter_mut().find(|m| m["id"] == id) else {
                    return Err(not_found("Operating mode", id, location_id));
                };
                if let Value::Object(patch) = mode {
                    merge(known, patch);
                }
            }
            target.insert("modes".into(), Value::Array(changed));
            stored.insert("operatingModes".into(), Value::Object(target));
        }
        Ok(())
    }

    /// Switches a hunt group's forwarding back to normal operation: the
    /// mode in force no longer runs as an exception.
    pub(crate) fn switch_mode(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<(), Problem> {
        let location = self.hunt_group_location(location_id, hunt_group_id, org_id)?;
        if let Some(Value::Object(modes)) = location
            .forwarding
            .get_mut(hunt_group_id)
            .and_then(|forwarding| forwarding.get_mut("operatingModes"))
        {
            modes.remove("exceptionType");
        }
        Ok(())
    }

    /// Creates a selective forwarding rule and returns its ID.
    pub(crate) fn create_rule(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<String, Problem> {
        let location = self.hunt_group_location(location_id, hunt_group_id, org_id)?;
        let rules = location.rules.entry(hunt_group_id.to_string()).or_default();
        let id = rule_id(text(fields, "name").unwrap_or_default());
        if rules.contains_key(&id) {
            return Err(Problem::new(
                409,
                "A rule with this name already exists in the hunt group.",
            ));
        }
        let mut rule = json_object(json!({ "enabled": true }));
        merge(&mut rule, fields);
        rules.insert(id.clone(), rule);
        Ok(id)
    }

    fn rules_of(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        org_id: Option<&str>,
    ) -> Result<&mut BTreeMap<String, Map<String, Value>>, Problem> {
        let location = self.hunt_group_location(location_id, hunt_group_id, org_id)?;
        Ok(location.rules.entry(hunt_group_id.to_string()).or_default())
    }

    pub(crate) fn read_rule(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        rule: &str,
        org_id: Option<&str>,
    ) -> Result<Value, Problem> {
        let rules = self.rules_of(location_id, hunt_group_id, org_id)?;
        let stored = rules
            .get(rule)
            .ok_or_else(|| not_found("Selective forwarding rule", rule, location_id))?;
        Ok(with_id(rule, stored))
    }

    /// Applies a rule update and returns the rule's ID after it: new when
    /// the rule was renamed, as on Webex, which answers `201` either way.
    pub(crate) fn update_rule(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        rule: &str,
        org_id: Option<&str>,
        fields: &Map<String, Value>,
    ) -> Result<String, Problem> {
        let rules = self.rules_of(location_id, hunt_group_id, org_id)?;
        if !rules.contains_key(rule) {
            return Err(not_found("Selective forwarding rule", rule, location_id));
        }
        let id = text(fields, "name").map_or_else(|| rule.to_string(), rule_id);
        if id != rule && rules.contains_key(&id) {
            return Err(Problem::new(
                409,
                "A rule with this name already exists in the hunt group.",
            ));
        }
        let Some(mut stored) = rules.remove(rule) else {
            return Err(not_found("Selective forwarding rule", rule, location_id));
        };
        // Objects of a rule are replaced whole, as they are sent.
        for (name, value) in fields {
            stored.insert(name.clone(), value.clone());
        }
        rules.insert(id.clone(), stored);
        Ok(id)
    }

    pub(crate) fn delete_rule(
        &mut self,
        location_id: &str,
        hunt_group_id: &str,
        rule: &str,
        org_id: Option<&str>,
    ) -> Result<(), Problem> {
        let rules = self.rules_of(location_id, hunt_group_id, org_id)?;
        rules
            .remove(rule)
            .map(|_| ())
            .ok_or_else(|| not_found("Selective forwarding rule", rule, location_id))
    }

    /// The location's numbers a hunt group can take (`owned` false: no
    /// owner, and not a hunt group's number) or forward to (`owned` true:
    /// those with an owner, hunt groups' own numbers included), that the
    /// filters keep.
    pub(crate) fn available_numbers(
        &self,
        location_id: &str,
        org_id: Option<&str>,
        owned: bool,
        filters: Filters<'_>,
    ) -> Result<Vec<Value>, Problem> {
        let location = self.location_ref(location_id, org_id)?;
        let mut numbers: Vec<Map<String, Value>> = location.numbers.clone();
        for (id, group) in &location.hunt_groups {
            let Some(number) = text(group, "phoneNumber") else {
                continue;
            };
            match numbers
                .iter_mut()
                .find(|n| text(n, "phoneNumber") == Some(number))
            {
                Some(entry) => {
                    entry.insert("owner".into(), json!({ "id": id, "type": "HUNT_GROUP", "displayName": text(group, "name").unwrap_or(id) }));
                }
                None if owned => {
                    let mut entry = json_object(json!({
                        "phoneNumber": number,
                        "state": "ACTIVE",
                        "isMainNumber": false,
                        "tollFreeNumber": false,
                        "telephonyType": "PSTN_NUMBER",
                        "isServiceNumber": false,
                        "owner": { "id": id, "type": "HUNT_GROUP", "displayName": text(group, "name").unwrap_or(id) },
                    }));
                    if let Some(extension) = group.get("extension") {
                        entry.insert("extension".into(), extension.clone());
                    }
                    numbers.push(entry);
                }
                None => {}
            }
        }
        let wanted: Option<Vec<&str>> =
            filter(filters, "phoneNumber").map(|list| list.split(',').map(str::trim).collect());
        Ok(numbers
            .into_iter()
            .filter(|n| n.contains_key("owner") == owned)
            .filter(|n| {
                wanted
                    .as_ref()
                    .is_none_or(|wanted| wanted.iter().any(|w| text(n, "phoneNumber") == Some(*w)))
            })
            .filter(|n| {
                filter(filters, "extension").is_none_or(|e| text(n, "extension") == Some(e))
            })
            .filter(|n| {
                filter(filters, "ownerName").is_none_or(|owner| {
                    n.get("owner").and_then(Value::as_object).is_some_and(|o| {
                        contains(text(o, "displayName"), owner)
                            || contains(text(o, "firstName"), owner)
                            || contains(text(o, "lastName"), owner)
                    })
                })
            })
            .map(Value::Object)
            .collect())
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
