//! The SDK against the fake Webex, through the public API only: what lands,
//! what is sent, and how every kind of failure reaches the caller.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webex_calling::fake::{FakeWebex, Fault, call_pickup_id, fixtures};
use webex_calling::types::{
    AlternateNumber, CallPickupNotificationType, HuntGroupAgent, UpdateCallPickupRequest,
    UpdateCallPickupResponse, UpdateHuntGroupRequest,
};
use webex_calling::{Client, Error, RetryPolicy, parse_body};
use webex_calling_tests::request_example;

/// Retries with waits of a few milliseconds, so scripted failures resolve
/// fast.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .budget(Duration::from_secs(20))
}

fn client(fake: &FakeWebex) -> Client {
    fake.client_builder()
        .retry(quick_retries())
        .build()
        .expect("a client for the fake")
}

fn client_without_retries(fake: &FakeWebex) -> Client {
    fake.client_builder()
        .retry(RetryPolicy::none())
        .build()
        .expect("a client for the fake")
}

async fn update_pickup(
    client: &Client,
    call_pickup_id: &str,
    body: UpdateCallPickupRequest,
) -> Result<UpdateCallPickupResponse, Error> {
    client
        .update_call_pickup()
        .location_id(fixtures::LOCATION_ID)
        .call_pickup_id(call_pickup_id)
        .body(body)
        .send()
        .await
}

async fn update_hunt_group(client: &Client, body: UpdateHuntGroupRequest) -> Result<(), Error> {
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(body)
        .send()
        .await
}

fn stored_hunt_group(fake: &FakeWebex) -> Value {
    fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
        .expect("the fixture hunt group")
}

/// The `TrackingID` header of the `index`th request the fake received.
fn sent_tracking_id(fake: &FakeWebex, index: usize) -> String {
    fake.requests()[index]
        .header("trackingid")
        .expect("a TrackingID header")
        .to_string()
}

fn api_error(error: Error) -> webex_calling::ApiError {
    match error {
        Error::Api(api) => *api,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

// Happy paths.

#[tokio::test]
async fn the_docs_call_pickup_example_renames_the_pickup_and_returns_its_new_id() {
    let fake = FakeWebex::start().await;
    let example = request_example("updateCallPickup");
    let body: UpdateCallPickupRequest = parse_body(&example.to_string()).expect("the example");

    let updated = update_pickup(&client(&fake), fixtures::CALL_PICKUP_ID, body)
        .await
        .expect("the update");

    assert_eq!(updated.id, call_pickup_id("South Alaska-Group"));
    let stored = fake
        .call_pickup(fixtures::LOCATION_ID, &updated.id)
        .expect("stored under the new ID");
    for (field, value) in example.as_object().expect("an object") {
        assert_eq!(&stored[field], value, "{field}");
    }
    let sent = &fake.requests()[0];
    assert_eq!(sent.method(), "PUT");
    assert_eq!(sent.json(), Some(example));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {}", fake.token()).as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_docs_hunt_group_example_updates_the_fields_it_sends_and_keeps_the_rest() {
    let fake = FakeWebex::start().await;
    let before = stored_hunt_group(&fake);
    let example = request_example("updateHuntGroup");
    let body: UpdateHuntGroupRequest = parse_body(&example.to_string()).expect("the example");

    update_hunt_group(&client(&fake), body)
        .await
        .expect("the update");

    let after = stored_hunt_group(&fake);
    for (field, value) in example.as_object().expect("an object") {
        assert_eq!(&after[field], value, "{field}");
    }
    assert_eq!(after["timeZone"], before["timeZone"]);
    assert_eq!(after["languageCode"], before["languageCode"]);
    assert_eq!(fake.requests()[0].json(), Some(example));
}

// What goes on the wire.

#[tokio::test]
async fn only_the_fields_set_are_sent_and_changed() {
    let fake = FakeWebex::start().await;
    let before = stored_hunt_group(&fake);

    update_hunt_group(&client(&fake), UpdateHuntGroupRequest::new().enabled(false))
        .await
        .expect("the update");

    assert_eq!(fake.requests()[0].body(), br#"{"enabled":false}"#);
    let mut expected = before;
    expected["enabled"] = json!(false);
    assert_eq!(stored_hunt_group(&fake), expected);
}

#[tokio::test]
async fn a_call_pickup_update_without_a_name_keeps_its_id() {
    let fake = FakeWebex::start().await;
    let body =
        UpdateCallPickupRequest::new().notification_type(CallPickupNotificationType::AudioOnly);

    let updated = update_pickup(&client(&fake), fixtures::CALL_PICKUP_ID, body)
        .await
        .expect("the update");

    assert_eq!(updated.id, fixtures::CALL_PICKUP_ID);
    assert_eq!(
        fake.requests()[0].json(),
        Some(json!({ "notificationType": "AUDIO_ONLY" }))
    );
    let stored = fake
        .call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
        .expect("still there");
    assert_eq!(stored["notificationType"], "AUDIO_ONLY");
    assert_eq!(stored["agents"], json!([fixtures::PERSON_ID]));
}

#[tokio::test]
async fn clearing_hunt_group_agents_sends_an_empty_list_and_empties_them() {
    let fake = FakeWebex::start().await;
    assert_ne!(stored_hunt_group(&fake)["agents"], json!([]));

    let body = UpdateHuntGroupRequest::new().agents(Vec::<HuntGroupAgent>::new());
    update_hunt_group(&client(&fake), body)
        .await
        .expect("the update");

    assert_eq!(fake.requests()[0].body(), br#"{"agents":[]}"#);
    assert_eq!(stored_hunt_group(&fake)["agents"], json!([]));
}

#[tokio::test]
async fn clearing_call_pickup_agents_sends_an_empty_list_and_empties_them() {
    let fake = FakeWebex::start().await;
    let body = UpdateCallPickupRequest::new().agents(Vec::<String>::new());

    update_pickup(&client(&fake), fixtures::CALL_PICKUP_ID, body)
        .await
        .expect("the update");

    assert_eq!(fake.requests()[0].body(), br#"{"agents":[]}"#);
    let stored = fake
        .call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
        .expect("still there");
    assert_eq!(stored["agents"], json!([]));
}

#[tokio::test]
async fn a_list_that_is_sent_replaces_the_stored_one() {
    let fake = FakeWebex::start().await;
    let body = UpdateHuntGroupRequest::new().agents([HuntGroupAgent::new("agent-new")]);

    update_hunt_group(&client(&fake), body)
        .await
        .expect("the update");

    assert_eq!(
        stored_hunt_group(&fake)["agents"],
        json!([{ "id": "agent-new" }])
    );
}

#[tokio::test]
async fn ids_with_slash_plus_and_equals_reach_the_right_group() {
    let fake = FakeWebex::start().await;
    let location = "bG9j/YXRpb24+=";
    let hunt_group = "aHVu/dGdy+b3Vw==";
    fake.add_hunt_group(location, hunt_group, json!({ "name": "before" }))
        .expect("valid seed");

    client(&fake)
        .update_hunt_group()
        .location_id(location)
        .hunt_group_id(hunt_group)
        .body(UpdateHuntGroupRequest::new().name("after"))
        .send()
        .await
        .expect("the update");

    assert_eq!(
        fake.hunt_group(location, hunt_group).expect("stored")["name"],
        "after"
    );
}

#[tokio::test]
async fn the_org_id_is_sent_as_a_query_parameter_and_must_own_the_location() {
    let fake = FakeWebex::start().await;
    let client = client(&fake);
    // The future outlives the closure's argument, so it takes the org ID
    // by value.
    let update = |org: &str| {
        client
            .update_hunt_group()
            .location_id(fixtures::LOCATION_ID)
            .hunt_group_id(fixtures::HUNT_GROUP_ID)
            .org_id(org.to_string())
            .body(UpdateHuntGroupRequest::new().enabled(true))
            .send()
    };

    update(fake.org_id()).await.expect("the owner's update");
    assert_eq!(
        fake.requests()[0].query_param("orgId").as_deref(),
        Some(fake.org_id())
    );

    let error = update("another-org").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
}

// Renames.

#[tokio::test]
async fn a_rename_returns_the_new_id_and_the_old_one_then_answers_404() {
    let fake = FakeWebex::start().await;
    let client = client(&fake);

    let updated = update_pickup(
        &client,
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("Front desk"),
    )
    .await
    .expect("the rename");
    assert_eq!(updated.id, call_pickup_id("Front desk"));

    let error = update_pickup(
        &client,
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().notification_delay_timer_seconds(10),
    )
    .await
    .unwrap_err();
    let api = api_error(error);
    assert_eq!(api.status, 404);
    assert!(api.message.is_some_and(|m| m.contains("not found")));
    assert_eq!(api.attempts, 1, "a 404 is not retried");

    update_pickup(
        &client,
        &updated.id,
        UpdateCallPickupRequest::new().notification_delay_timer_seconds(10),
    )
    .await
    .expect("the new ID resolves");
}

#[tokio::test]
async fn renaming_to_a_name_used_in_the_location_is_a_409_conflict() {
    let fake = FakeWebex::start().await;
    let body = UpdateCallPickupRequest::new().name(fixtures::SECOND_CALL_PICKUP_NAME);

    let error = update_pickup(&client(&fake), fixtures::CALL_PICKUP_ID, body)
        .await
        .unwrap_err();

    let api = api_error(error);
    assert_eq!(api.status, 409);
    assert!(
        api.message
            .as_deref()
            .is_some_and(|m| m.contains(fixtures::SECOND_CALL_PICKUP_NAME))
    );
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
            .is_some(),
        "the pickup kept its name and ID"
    );
}

#[tokio::test]
async fn an_unknown_location_or_hunt_group_is_a_404() {
    let fake = FakeWebex::start().await;
    let client = client(&fake);
    let unknown_group = client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id("no-such-group")
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(api_error(unknown_group).status, 404);

    let unknown_location = client
        .update_call_pickup()
        .location_id("no-such-location")
        .call_pickup_id(fixtures::CALL_PICKUP_ID)
        .body(UpdateCallPickupRequest::new())
        .send()
        .await
        .unwrap_err();
    assert_eq!(api_error(unknown_location).status, 404);
}

// Errors.

#[tokio::test]
async fn a_wrong_token_is_a_401_api_error_that_is_not_retried() {
    let fake = FakeWebex::start().await;
    let client = Client::builder()
        .base_url(fake.base_url())
        .token("not-the-token")
        .retry(quick_retries())
        .build()
        .expect("client");

    let error = update_hunt_group(&client, UpdateHuntGroupRequest::new().enabled(true))
        .await
        .unwrap_err();

    assert!(!error.is_retryable());
    let api = api_error(error);
    assert_eq!(api.status, 401);
    assert!(api.message.is_some_and(|m| m.contains("access token")));
    assert_eq!(api.attempts, 1);
    assert_eq!(api.tracking_id, sent_tracking_id(&fake, 0));
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn each_documented_error_status_maps_to_the_right_error() {
    let fake = FakeWebex::start().await;
    let client = client_without_retries(&fake);
    let statuses = [
        400, 401, 403, 404, 405, 409, 410, 415, 423, 428, 429, 500, 502, 503, 504,
    ];
    for (index, status) in statuses.into_iter().enumerate() {
        fake.push_fault(Fault::status(status));

        let error = update_hunt_group(&client, UpdateHuntGroupRequest::new().enabled(true))
            .await
            .unwrap_err();

        assert_eq!(error.status(), Some(status));
        assert_eq!(
            error.is_retryable(),
            matches!(status, 423 | 429 | 502..=504),
            "{status}"
        );
        let api = match error {
            Error::RateLimited(api) if status == 429 => api,
            Error::Api(api) if status != 429 => api,
            other => panic!("{status} became {other:?}"),
        };
        let message = api.message.expect("the body's message");
        assert!(!message.is_empty(), "{status}");
        assert_eq!(api.details, vec![message], "{status}");
        // The fake answers with the tracking ID the client sent.
        assert_eq!(api.tracking_id, sent_tracking_id(&fake, index), "{status}");
        assert_eq!(api.attempts, 1, "{status}");
    }
    assert_eq!(fake.requests().len(), statuses.len());
}

#[tokio::test]
async fn a_non_json_error_body_is_an_unreadable_response_with_its_start() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502).body("text/html", "<html><body>Bad Gateway</body></html>"));

    let error = update_hunt_group(
        &client_without_retries(&fake),
        UpdateHuntGroupRequest::new().enabled(true),
    )
    .await
    .unwrap_err();

    assert!(error.is_retryable());
    match &error {
        Error::UnreadableResponse {
            status,
            snippet,
            tracking_id,
            ..
        } => {
            assert_eq!(*status, 502);
            assert!(snippet.contains("Bad Gateway"), "{snippet}");
            assert_eq!(*tracking_id, sent_tracking_id(&fake, 0));
        }
        other => panic!("expected an unreadable response, got {other:?}"),
    }
    assert!(error.to_string().contains("Bad Gateway"), "{error}");
}

#[tokio::test]
async fn an_error_with_no_body_is_an_api_error_without_a_message() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(500).empty_body());

    let error = update_hunt_group(
        &client_without_retries(&fake),
        UpdateHuntGroupRequest::new().enabled(true),
    )
    .await
    .unwrap_err();

    let api = api_error(error);
    assert_eq!(api.status, 500);
    assert_eq!(api.message, None);
    assert!(api.details.is_empty());
    assert_eq!(api.tracking_id, sent_tracking_id(&fake, 0));
}

// Retries.

#[tokio::test]
async fn retries_through_429_423_and_503_end_in_success() {
    let fake = FakeWebex::start().await;
    fake.push_faults([
        Fault::too_many_requests("0"),
        Fault::locked("0"),
        Fault::status(503),
    ]);

    update_hunt_group(
        &client(&fake),
        UpdateHuntGroupRequest::new().name("Support"),
    )
    .await
    .expect("success on the fourth attempt");

    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let first = sent_tracking_id(&fake, 0);
    for request in &requests {
        assert_eq!(request.header("trackingid"), Some(first.as_str()));
        assert_eq!(request.body(), br#"{"name":"Support"}"#);
    }
    assert_eq!(stored_hunt_group(&fake)["name"], "Support");
}

#[tokio::test]
async fn a_rename_answered_502_is_not_sent_again_and_its_outcome_is_unknown() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502));

    let error = update_pickup(
        &client(&fake),
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("Lobby"),
    )
    .await
    .unwrap_err();

    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(error.status(), Some(502));
    assert!(!error.is_retryable());
    let text = error.to_string();
    assert!(text.contains("may or may not have taken effect"), "{text}");
    assert!(
        text.contains("client.list_call_pickups().location_id(location_id).name(new_name)"),
        "{text}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_call_pickup_update_that_keeps_the_name_is_retried_through_a_502() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502));

    let updated = update_pickup(
        &client(&fake),
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().notification_delay_timer_seconds(15),
    )
    .await
    .expect("success on the second attempt");

    assert_eq!(updated.id, fixtures::CALL_PICKUP_ID);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_rename_is_retried_through_a_503_which_is_never_applied() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(503));

    let updated = update_pickup(
        &client(&fake),
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("Lobby"),
    )
    .await
    .expect("success on the second attempt");

    assert_eq!(updated.id, call_pickup_id("Lobby"));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_in_seconds_is_waited_out() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::too_many_requests("1"));

    update_hunt_group(&client(&fake), UpdateHuntGroupRequest::new().enabled(true))
        .await
        .expect("success on the second attempt");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_at() - requests[0].received_at();
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
}

#[tokio::test]
async fn a_malformed_retry_after_falls_back_to_the_backoff() {
    let fake = FakeWebex::start().await;
    fake.push_faults([
        Fault::too_many_requests("rand(30),add(30)"),
        Fault::locked("soon"),
    ]);

    update_hunt_group(&client(&fake), UpdateHuntGroupRequest::new().enabled(true))
        .await
        .expect("success on the third attempt");

    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_run_of_429s_longer_than_the_attempts_is_waited_through() {
    let fake = FakeWebex::start().await;
    fake.push_faults(std::iter::repeat_n(Fault::too_many_requests("0"), 5));

    update_hunt_group(&client(&fake), UpdateHuntGroupRequest::new().enabled(true))
        .await
        .expect("success once the refusals end");

    assert_eq!(fake.requests().len(), 6);
    assert_eq!(fake.pending_faults(), 0);
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_budget_is_not_waited_for() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::too_many_requests("30"));
    let client = fake
        .client_builder()
        .retry(quick_retries().budget(Duration::from_secs(2)))
        .build()
        .expect("client");
    let started = Instant::now();

    let error = update_hunt_group(&client, UpdateHuntGroupRequest::new().enabled(true))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(fake.requests().len(), 1);
    // Generous: the point is that 30 s were not waited.
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn an_answer_slower_than_the_time_budget_ends_as_a_timeout() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::delay(Duration::from_secs(30)));
    let client = fake
        .client_builder()
        .retry(quick_retries().budget(Duration::from_millis(300)))
        .build()
        .expect("client");
    let started = Instant::now();

    let error = update_hunt_group(&client, UpdateHuntGroupRequest::new().enabled(true))
        .await
        .unwrap_err();

    match &error {
        Error::Timeout { tracking_id, .. } => {
            assert_eq!(*tracking_id, sent_tracking_id(&fake, 0));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(error.is_retryable());
    // Generous: the point is that the 30 s answer was not waited for.
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn a_dropped_connection_without_retries_is_a_transport_error() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::drop_connection());

    let error = update_hunt_group(
        &client_without_retries(&fake),
        UpdateHuntGroupRequest::new().enabled(true),
    )
    .await
    .unwrap_err();

    match &error {
        Error::Transport {
            attempts,
            tracking_id,
            ..
        } => {
            assert_eq!(*attempts, 1);
            assert_eq!(*tracking_id, sent_tracking_id(&fake, 0));
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_dropped_connection_is_retried_to_success() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::drop_connection());

    update_hunt_group(
        &client(&fake),
        UpdateHuntGroupRequest::new().name("Retried"),
    )
    .await
    .expect("success on the second attempt");

    assert_eq!(fake.requests().len(), 2);
    assert_eq!(stored_hunt_group(&fake)["name"], "Retried");
}

// Refusals before sending.

#[tokio::test]
async fn invalid_input_sends_nothing() {
    let fake = FakeWebex::start().await;
    let client = client(&fake);

    let long_name = update_pickup(
        &client,
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("x".repeat(81)),
    )
    .await
    .unwrap_err();
    let heavy_agent = update_hunt_group(
        &client,
        UpdateHuntGroupRequest::new().agents([HuntGroupAgent::new("a").weight("101")]),
    )
    .await
    .unwrap_err();
    let eleven_numbers = update_hunt_group(
        &client,
        UpdateHuntGroupRequest::new()
            .alternate_numbers((0..11).map(|i| AlternateNumber::new(format!("555010{i:02}")))),
    )
    .await
    .unwrap_err();
    let empty_id = update_pickup(&client, "", UpdateCallPickupRequest::new())
        .await
        .unwrap_err();

    for (error, path) in [
        (long_name, "name"),
        (heavy_agent, "agents[0].weight"),
        (eleven_numbers, "alternateNumbers"),
        (empty_id, "callPickupId"),
    ] {
        let input = error
            .invalid_input()
            .unwrap_or_else(|| panic!("expected invalid input, got {error}"));
        assert_eq!(input.violations()[0].path(), path);
        assert_eq!(error.attempts(), 0);
    }
    assert!(fake.requests().is_empty(), "nothing reached the fake");
}

// Load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_updates_through_one_client_all_land() {
    let fake = FakeWebex::start().await;
    for i in 0..200 {
        fake.add_hunt_group(fixtures::LOCATION_ID, &format!("hunt-group-{i}"), json!({}))
            .expect("valid seed");
    }
    let client = client(&fake);

    let mut updates = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        updates.spawn(async move {
            client
                .update_hunt_group()
                .location_id(fixtures::LOCATION_ID)
                .hunt_group_id(format!("hunt-group-{i}"))
                .body(
                    UpdateHuntGroupRequest::new()
                        .name(format!("Group {i}"))
                        .agents([HuntGroupAgent::new(format!("agent-{i}"))]),
                )
                .send()
                .await
        });
    }
    let mut landed = 0;
    while let Some(joined) = updates.join_next().await {
        joined.expect("the task").expect("the update");
        landed += 1;
    }

    assert_eq!(landed, 200);
    assert_eq!(fake.requests().len(), 200);
    for i in 0..200 {
        let stored = fake
            .hunt_group(fixtures::LOCATION_ID, &format!("hunt-group-{i}"))
            .expect("stored");
        assert_eq!(stored["name"], format!("Group {i}"), "hunt group {i}");
        assert_eq!(stored["agents"], json!([{ "id": format!("agent-{i}") }]));
    }
}

#[tokio::test]
async fn one_update_borrowed_by_many_calls_lands_on_every_hunt_group() {
    let fake = FakeWebex::start().await;
    let groups = ["hunt-a", "hunt-b", "hunt-c"];
    for group in groups {
        fake.add_hunt_group(fixtures::LOCATION_ID, group, json!({ "name": group }))
            .expect("valid seed");
    }
    let shared = UpdateHuntGroupRequest::new()
        .enabled(false)
        .agents([HuntGroupAgent::new("agent-1")]);
    let client = client(&fake);

    for group in groups {
        client
            .update_hunt_group()
            .location_id(fixtures::LOCATION_ID)
            .hunt_group_id(group)
            .body(&shared)
            .send()
            .await
            .unwrap();
    }

    for group in groups {
        let stored = fake.hunt_group(fixtures::LOCATION_ID, group).unwrap();
        assert_eq!(stored["enabled"], json!(false), "{group}: {stored}");
        assert_eq!(
            stored["agents"],
            json!([{ "id": "agent-1" }]),
            "{group}: {stored}"
        );
        assert_eq!(stored["name"], json!(group), "{group}: {stored}");
    }
    // The borrowed update is still the caller's, unchanged.
    assert_eq!(shared.enabled, Some(false));
}

// Failures that leave the outcome unknown.

#[tokio::test]
async fn a_rename_applied_then_answered_502_is_reported_unknown_not_retried_into_a_404() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502).after_applying());

    let error = update_pickup(
        &client(&fake),
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("Lobby"),
    )
    .await
    .unwrap_err();

    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(error.status(), Some(502));
    assert_eq!(fake.requests().len(), 1, "the rename was sent again");
    // It was applied: the group is stored under its new ID.
    let renamed = fake.call_pickup(fixtures::LOCATION_ID, &call_pickup_id("Lobby"));
    assert_eq!(renamed.expect("the renamed group")["name"], "Lobby");
}

#[tokio::test]
async fn a_rename_applied_then_cut_off_is_reported_unknown_not_retried_into_a_404() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::drop_connection().after_applying());

    let error = update_pickup(
        &client(&fake),
        fixtures::CALL_PICKUP_ID,
        UpdateCallPickupRequest::new().name("Lobby"),
    )
    .await
    .unwrap_err();

    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(
        matches!(&error, Error::OutcomeUnknown { source, .. } if matches!(**source, Error::Transport { .. })),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1, "the rename was sent again");
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, &call_pickup_id("Lobby"))
            .is_some()
    );
}

#[tokio::test]
async fn a_hunt_group_update_applied_then_answered_502_is_sent_again_and_succeeds() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502).after_applying());

    update_hunt_group(
        &client(&fake),
        UpdateHuntGroupRequest::new().name("Support"),
    )
    .await
    .expect("sent again: a hunt group update is idempotent");

    assert_eq!(fake.requests().len(), 2);
    assert_eq!(stored_hunt_group(&fake)["name"], "Support");
}

#[tokio::test]
async fn a_423_is_described_as_a_lock_not_as_rate_limiting() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::locked("1"));

    let error = update_hunt_group(
        &client_without_retries(&fake),
        UpdateHuntGroupRequest::new().enabled(true),
    )
    .await
    .unwrap_err();

    assert!(matches!(error, Error::Api(_)), "{error:?}");
    let text = error.to_string().to_lowercase();
    assert!(text.contains("locked"), "{text}");
    assert!(!text.contains("rate"), "{text}");
    assert!(error.is_retryable());
}
