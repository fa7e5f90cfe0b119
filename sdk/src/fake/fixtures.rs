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
//! The agent IDs are those of the docs' examples.

use serde_json::json;

use super::state::State;

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

/// A virtual line, from the docs' examples.
pub const VIRTUAL_LINE_ID: &str =
    "Y2lzY29zcGFyazovL3VzL1ZJUlRVQUxfTElORS85ODFlNTQ0Yy0xOGI0LTQ2MzItYmFkZi1iYWMwZjFkOGJkYWY=";

/// Puts the fixtures into `state`, under `org_id`.
pub(crate) fn seed(state: &mut State, org_id: &str) {
    state.add_call_pickup(
        org_id,
        LOCATION_ID,
        CALL_PICKUP_NAME,
        &json!({ "agents": [PERSON_ID] }),
    );
    state.add_call_pickup(
        org_id,
        LOCATION_ID,
        SECOND_CALL_PICKUP_NAME,
        &json!({
            "notificationType": "VISUAL_ONLY",
            "notificationDelayTimerSeconds": 10,
            "agents": [WORKSPACE_ID],
        }),
    );
    state.add_hunt_group(
        org_id,
        LOCATION_ID,
        HUNT_GROUP_ID,
        &json!({
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
        }),
    );
    state.add_call_pickup(
        org_id,
        SECOND_LOCATION_ID,
        CALL_PICKUP_NAME,
        &json!({ "agents": [VIRTUAL_LINE_ID] }),
    );
}
