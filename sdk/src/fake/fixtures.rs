//! The IDs the fake starts with, the Webex docs' own among them.
//!
//! [`FakeWebex::start`](super::FakeWebex::start) seeds, in the organization
//! [`ORG_ID`]:
//!
//! - the location [`LOCATION_ID`] with the call pickups [`CALL_PICKUP_ID`]
//!   (named [`CALL_PICKUP_NAME`]) and [`SECOND_CALL_PICKUP_ID`] (named
//!   [`SECOND_CALL_PICKUP_NAME`], the ID in the docs' example response), and
//!   the hunt group [`HUNT_GROUP_ID`];
//! - the location [`SECOND_LOCATION_ID`] with a call pickup also named
//!   [`CALL_PICKUP_NAME`], since names are unique only within a location.
//!
//! [`LOCATION_ID`] (named `Alaska`) also has the people, workspace and
//! virtual line of the agent IDs below ([`SECOND_PERSON_ID`] in no call
//! pickup, so available to join one), three unassigned PSTN numbers
//! (`+12056350001` to `+12056350003`, the last inactive) and
//! `+12056350004`, owned by [`PERSON_ID`]. [`SECOND_LOCATION_ID`] is named
//! `Brampton`.
//!
//! The agent IDs are those of the docs' examples.

use serde_json::{Value, json};

use super::spec::Spec;
use super::state::State;
use super::{InvalidSeed, check_seed};

/// The organization every fixture belongs to.
pub const ORG_ID: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81ZjBhNmUyYy0zZDY0LTRjMWUtOWI2Zi0wYTNjOGQyZTdiNDE";

/// A location: `ciscospark://us/LOCATION/31161`.
pub const LOCATION_ID: &str = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYx";

/// A second location: `ciscospark://us/LOCATION/31162`.
pub const SECOND_LOCATION_ID: &str = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYy";

/// The name of the call pickup [`CALL_PICKUP_ID`].
pub const CALL_PICKUP_NAME: &str = "callPickup1";

/// The call pickup named [`CALL_PICKUP_NAME`], in both locations.
pub const CALL_PICKUP_ID: &str = "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0";

/// The name of the call pickup [`SECOND_CALL_PICKUP_ID`].
pub const SECOND_CALL_PICKUP_NAME: &str = "callPickup2";

/// The call pickup named [`SECOND_CALL_PICKUP_NAME`] in [`LOCATION_ID`]:
/// the ID of the docs' example response.
pub const SECOND_CALL_PICKUP_ID: &str =
    "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNEST0";

/// A hunt group in [`LOCATION_ID`]: `ciscospark://us/HUNT_GROUP/huntgroup1`.
pub const HUNT_GROUP_ID: &str = "Y2lzY29zcGFyazovL3VzL0hVTlRfR1JPVVAvaHVudGdyb3VwMQ";

/// A person, from the docs' examples.
pub const PERSON_ID: &str =
    "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTUwMDk1YS1mZjlmLTExZWItODA2NS04ZjhkOWIxNmIzOTQ";

/// A workspace, from the docs' examples.
pub const WORKSPACE_ID: &str =
    "Y2lzY29zcGFyazovL3VzL1BMQUNFLzg0YjQ1OTIyLWZmOWYtMTFlYi1hNGI4LTMzNjI3YmVkNjdiNQ";

/// A second person, in no call pickup: available to join one.
pub const SECOND_PERSON_ID: &str =
    "Y2lzY29zcGFyazovL3VzL1BFT1BMRS83MGY2MzYzMC1mZjlmLTExZWItODU5YS0xZjhiYjRjNzc1MWQ";

/// A virtual line, from the docs' examples.
pub const VIRTUAL_LINE_ID: &str =
    "Y2lzY29zcGFyazovL3VzL1ZJUlRVQUxfTElORS85ODFlNTQ0Yy0xOGI0LTQ2MzItYmFkZi1iYWMwZjFkOGJkYWY=";

/// Puts the fixtures into `state`, under `org_id`, each checked against
/// the spec as seed data from a test is.
pub(crate) fn seed(state: &mut State, spec: &Spec, org_id: &str) -> Result<(), InvalidSeed> {
    let pickups: [(&str, &str, Value); 3] = [
        (
            LOCATION_ID,
            CALL_PICKUP_NAME,
            json!({ "agents": [PERSON_ID] }),
        ),
        (
            LOCATION_ID,
            SECOND_CALL_PICKUP_NAME,
            json!({
                "notificationType": "VISUAL_ONLY",
                "notificationDelayTimerSeconds": 10,
                "agents": [WORKSPACE_ID],
            }),
        ),
        (
            SECOND_LOCATION_ID,
            CALL_PICKUP_NAME,
            json!({ "agents": [VIRTUAL_LINE_ID] }),
        ),
    ];
    for (location, name, settings) in &pickups {
        check_seed(spec, "updateCallPickup", settings)?;
        state.add_call_pickup(org_id, location, name, settings);
    }
    state.name_location(LOCATION_ID, "Alaska");
    state.name_location(SECOND_LOCATION_ID, "Brampton");
    for (id, first, last) in [
        (PERSON_ID, "John", "Brown"),
        (WORKSPACE_ID, "Alaska Office", "Second Floor"),
        (VIRTUAL_LINE_ID, "Alice", "Smith"),
        (SECOND_PERSON_ID, "Christian", "Smith"),
    ] {
        state.add_member(LOCATION_ID, id, first, last);
    }
    for (number, active) in [
        ("+12056350001", true),
        ("+12056350002", true),
        ("+12056350003", false),
    ] {
        state.add_number(LOCATION_ID, number, active, None);
    }
    state.add_number(
        LOCATION_ID,
        "+12056350004",
        true,
        Some(json!({ "id": PERSON_ID, "type": "PEOPLE", "firstName": "John", "lastName": "Brown", "displayName": "John Brown" })),
    );
    let hunt_group = json!({
            "name": "huntgroup1",
            "enabled": true,
            "phoneNumber": "5558675300",
            "extension": "7780",
            "distinctiveRing": false,
            "alternateNumbers": [],
            "languageCode": "en_us",
            "firstName": ".",
            "lastName": "huntgroup1",
            "timeZone": "America/Chicago",
            "callPolicies": {
                "policy": "REGULAR",
                "waitingEnabled": false,
                "groupBusyEnabled": false,
                "allowMembersToControlGroupBusyEnabled": false,
                "noAnswer": {
                    "nextAgentEnabled": true,
                    "nextAgentRings": 3,
                    "forwardEnabled": false,
                    "numberOfRings": 15,
                    "destinationVoicemailEnabled": false,
                },
                "busyRedirect": { "enabled": false, "destinationVoicemailEnabled": false },
                "businessContinuityRedirect": {
                    "enabled": false,
                    "destinationVoicemailEnabled": false,
                },
            },
            "agents": [{ "id": PERSON_ID }, { "id": WORKSPACE_ID }, { "id": VIRTUAL_LINE_ID }],
            "huntGroupCallerIdForOutgoingCallsEnabled": false,
    });
    check_seed(spec, "updateHuntGroup", &hunt_group)?;
    state.add_hunt_group(org_id, LOCATION_ID, HUNT_GROUP_ID, &hunt_group);
    Ok(())
}
