//! The fake's own behaviour, seen through raw HTTP on loopback so that
//! requests the SDK would never send can be sent.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn hunt_group_path(location: &str, hunt_group: &str) -> String {
    format!("/v1/telephony/config/locations/{location}/huntGroups/{hunt_group}")
}

fn call_pickup_path(location: &str, call_pickup: &str) -> String {
    format!("/v1/telephony/config/locations/{location}/callPickups/{call_pickup}")
}

async fn send(
    fake: &FakeWebex,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(fake.addr()).await.expect("connect");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        fake.addr(),
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a full answer");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A PUT with the fake's token and a JSON content type.
async fn put(fake: &FakeWebex, target: &str, body: &str) -> Answer {
    let auth = format!("Bearer {}", fake.token());
    send(
        fake,
        "PUT",
        target,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await
}

fn assert_webex_error(answer: &Answer) {
    let body = answer.json();
    assert!(body["message"].is_string(), "{body}");
    assert!(body["errors"][0]["description"].is_string(), "{body}");
    assert!(body["trackingId"].is_string(), "{body}");
    assert_eq!(
        answer.header("trackingid"),
        body["trackingId"].as_str(),
        "the header and the body carry the same tracking ID"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_token_answers_401_with_a_webex_error() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    let missing = send(
        &fake,
        "PUT",
        &target,
        &[("Content-Type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(missing.status, 401);
    assert_webex_error(&missing);
    let wrong = send(
        &fake,
        "PUT",
        &target,
        &[
            ("Authorization", "Bearer not-the-token"),
            ("Content-Type", "application/json"),
        ],
        "{}",
    )
    .await;
    assert_eq!(wrong.status, 401);
    let right = put(&fake, &target, "{}").await;
    assert_eq!(right.status, 204, "{}", right.body);
}

#[tokio::test]
async fn the_request_tracking_id_is_echoed_in_the_header_and_the_body() {
    let fake = FakeWebex::start().await;
    let answer = send(
        &fake,
        "PUT",
        &hunt_group_path(fixtures::LOCATION_ID, "no-such-group"),
        &[
            ("Authorization", &format!("Bearer {}", fake.token())),
            ("Content-Type", "application/json"),
            ("TrackingID", "my-service_1234"),
        ],
        "{}",
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("trackingid"), Some("my-service_1234"));
    assert_eq!(answer.json()["trackingId"], "my-service_1234");
}

#[tokio::test]
async fn every_answer_has_a_tracking_id_even_a_success() {
    let fake = FakeWebex::start().await;
    let answer = put(
        &fake,
        &hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
        r#"{"enabled": false}"#,
    )
    .await;
    assert_eq!(answer.status, 204);
    assert!(answer.header("trackingid").is_some_and(|t| !t.is_empty()));
    assert_eq!(answer.body, "");
}

#[tokio::test]
async fn a_body_breaking_the_spec_answers_400_naming_each_field() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    let before = fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    let answer = put(
        &fake,
        &target,
        r#"{"agents": [{"id": "a", "weight": "101"}], "callPolicies": {"policy": "RANDOM", "noAnswer": {}}}"#,
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_webex_error(&answer);
    let descriptions: Vec<String> = answer.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["description"].as_str().unwrap_or_default().to_string())
        .collect();
    for path in [
        "agents[0].weight: ",
        "callPolicies.policy: ",
        "callPolicies.noAnswer: ",
    ] {
        assert!(
            descriptions.iter().any(|d| d.starts_with(path)),
            "{path} in {descriptions:?}"
        );
    }
    assert_eq!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
        before,
        "nothing was applied"
    );
}

#[tokio::test]
async fn a_count_sent_as_a_float_answers_400() {
    let fake = FakeWebex::start().await;
    let answer = put(
        &fake,
        &call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        r#"{"notificationDelayTimerSeconds": 20.0}"#,
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("notificationDelayTimerSeconds: ")),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_or_missing_answers_400() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    let answer = put(&fake, &target, "{not json").await;
    assert_eq!(answer.status, 400);
    assert_webex_error(&answer);
    let answer = put(&fake, &target, "").await;
    assert_eq!(answer.status, 400);
    assert_webex_error(&answer);
}

#[tokio::test]
async fn a_body_not_sent_as_json_answers_415() {
    let fake = FakeWebex::start().await;
    let answer = send(
        &fake,
        "PUT",
        &hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
        &[
            ("Authorization", &format!("Bearer {}", fake.token())),
            ("Content-Type", "text/plain"),
        ],
        "{}",
    )
    .await;
    assert_eq!(answer.status, 415);
    assert_webex_error(&answer);
}

#[tokio::test]
async fn unknown_paths_answer_404_and_other_methods_405() {
    let fake = FakeWebex::start().await;
    let auth = format!("Bearer {}", fake.token());
    let answer = put(&fake, "/v1/telephony/config/locations/L/queues/Q", "{}").await;
    assert_eq!(answer.status, 404);
    assert_webex_error(&answer);
    // The operations live under the server URL's `/v1`.
    let answer = put(
        &fake,
        &format!(
            "/telephony/config/locations/{}/huntGroups/{}",
            fixtures::LOCATION_ID,
            fixtures::HUNT_GROUP_ID
        ),
        "{}",
    )
    .await;
    assert_eq!(answer.status, 404);
    let answer = send(
        &fake,
        "PATCH",
        &hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(answer.status, 405);
    assert_webex_error(&answer);
}

#[tokio::test]
async fn unknown_locations_and_groups_answer_404() {
    let fake = FakeWebex::start().await;
    for target in [
        hunt_group_path("nowhere", fixtures::HUNT_GROUP_ID),
        hunt_group_path(fixtures::LOCATION_ID, "nothing"),
        call_pickup_path("nowhere", fixtures::CALL_PICKUP_ID),
        call_pickup_path(fixtures::LOCATION_ID, "nothing"),
        // The hunt group's ID is not a call pickup's.
        call_pickup_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
    ] {
        let answer = put(&fake, &target, "{}").await;
        assert_eq!(answer.status, 404, "{target}");
        assert_webex_error(&answer);
    }
}

#[tokio::test]
async fn an_org_that_does_not_own_the_location_answers_404() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    let answer = put(&fake, &format!("{target}?orgId=another-org"), "{}").await;
    assert_eq!(answer.status, 404);
    let answer = put(&fake, &format!("{target}?orgId={}", fixtures::ORG_ID), "{}").await;
    assert_eq!(answer.status, 204);
}

#[tokio::test]
async fn percent_encoded_ids_with_slash_plus_and_equals_are_decoded() {
    let fake = FakeWebex::start().await;
    fake.add_hunt_group("loc/1+=", "a/b+c=", json!({}))
        .expect("valid seed");
    let answer = put(
        &fake,
        &hunt_group_path("loc%2F1%2B%3D", "a%2Fb%2Bc%3D"),
        r#"{"name": "decoded"}"#,
    )
    .await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(
        fake.hunt_group("loc/1+=", "a/b+c=").unwrap()["name"],
        "decoded"
    );
}

#[tokio::test]
async fn a_rename_answers_the_new_id_and_the_old_one_then_404s() {
    let fake = FakeWebex::start().await;
    let old = call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID);
    let answer = put(&fake, &old, r#"{"name": "Front desk"}"#).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({ "id": call_pickup_id("Front desk") }));
    assert_eq!(put(&fake, &old, "{}").await.status, 404);
}

#[tokio::test]
async fn a_name_used_in_the_location_answers_409() {
    let fake = FakeWebex::start().await;
    let answer = put(
        &fake,
        &call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        &json!({ "name": fixtures::SECOND_CALL_PICKUP_NAME }).to_string(),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_webex_error(&answer);
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
            .is_some()
    );
}

#[tokio::test]
async fn fields_the_spec_does_not_declare_are_not_stored() {
    let fake = FakeWebex::start().await;
    let answer = put(
        &fake,
        &hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID),
        r#"{"id": "forged", "color": "red"}"#,
    )
    .await;
    assert_eq!(answer.status, 204);
    let stored = fake
        .hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
        .unwrap();
    assert_eq!(stored["id"], fixtures::HUNT_GROUP_ID);
    assert!(stored.get("color").is_none());
}

#[tokio::test]
async fn every_request_is_logged_as_received() {
    let fake = FakeWebex::start().await;
    let target = format!(
        "{}?orgId=o%2B1",
        hunt_group_path(fixtures::LOCATION_ID, "a%2Fb")
    );
    send(&fake, "PUT", &target, &[("X-Probe", "yes")], r#"{"x":1}"#).await;
    let log = fake.requests();
    assert_eq!(log.len(), 1);
    let request = &log[0];
    assert_eq!(request.method(), "PUT");
    assert_eq!(
        request.path(),
        hunt_group_path(fixtures::LOCATION_ID, "a%2Fb")
    );
    assert_eq!(
        request.path_segments().last().map(String::as_str),
        Some("a/b")
    );
    assert_eq!(request.query(), Some("orgId=o%2B1"));
    assert_eq!(request.query_param("orgId").as_deref(), Some("o+1"));
    assert_eq!(request.header("x-probe"), Some("yes"));
    assert_eq!(request.body(), br#"{"x":1}"#);
    assert_eq!(request.json(), Some(json!({ "x": 1 })));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn faults_are_taken_in_order_one_per_request() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    fake.push_faults([
        Fault::too_many_requests("7"),
        Fault::status(502).body("text/html", "<html>Bad Gateway</html>"),
        Fault::status(503).empty_body(),
    ]);
    assert_eq!(fake.pending_faults(), 3);

    let limited = put(&fake, &target, "{}").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert_webex_error(&limited);

    let gateway = put(&fake, &target, "{}").await;
    assert_eq!(gateway.status, 502);
    assert_eq!(gateway.header("content-type"), Some("text/html"));
    assert_eq!(gateway.body, "<html>Bad Gateway</html>");
    assert!(gateway.header("trackingid").is_some());

    let empty = put(&fake, &target, "{}").await;
    assert_eq!(empty.status, 503);
    assert_eq!(empty.body, "");

    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    assert_eq!(fake.pending_faults(), 0);
    assert_eq!(fake.requests().len(), 4, "faulted requests are logged too");
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer_at_all() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::drop_connection());
    let mut stream = TcpStream::connect(fake.addr()).await.expect("connect");
    let request = format!(
        "PUT {} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}",
        hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    // A reset is as good as a close here: either way no answer came.
    let _ = stream.read_to_end(&mut raw).await;
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_at_start() {
    let error = FakeWebex::builder().token("two words").start().await;
    assert_eq!(
        error.map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn without_fixtures_the_fake_starts_empty() {
    let fake = FakeWebex::builder()
        .without_fixtures()
        .start()
        .await
        .unwrap();
    assert!(fake.call_pickups(fixtures::LOCATION_ID).is_empty());
    assert!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
            .is_none()
    );
}

/// A fake with this rate limit. Most tests use a rate of zero, so that what
/// is answered does not depend on how fast the test runs.
async fn rate_limited(limit: RateLimit) -> FakeWebex {
    FakeWebex::builder()
        .rate_limit(limit)
        .start()
        .await
        .expect("the fake started")
}

#[tokio::test]
async fn past_its_burst_a_token_gets_429_with_retry_after_and_a_webex_error() {
    let fake = rate_limited(RateLimit::per_second(0.0).burst(2).retry_after("30")).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    let refused = put(&fake, &target, r#"{"enabled": false}"#).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("30"));
    assert_webex_error(&refused);
    assert_eq!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
            .unwrap()["enabled"],
        true,
        "a refused update is not applied"
    );
    let stats = fake.rate_limit_stats();
    assert_eq!((stats.accepted, stats.throttled, stats.blocks), (2, 1, 1));
}

#[tokio::test]
async fn a_block_refuses_every_request_with_the_token_until_it_ends() {
    let fake = rate_limited(
        RateLimit::per_second(0.0)
            .retry_after("60")
            .grace(std::time::Duration::ZERO),
    )
    .await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    let first = put(&fake, &target, "{}").await;
    assert_eq!(first.header("retry-after"), Some("60"));
    // Any request with the token: another path, an unknown group.
    for target in [
        call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        hunt_group_path(fixtures::LOCATION_ID, "no-such-group"),
    ] {
        let again = put(&fake, &target, "{}").await;
        assert_eq!(again.status, 429);
        let left: u64 = again.header("retry-after").unwrap().parse().unwrap();
        assert!((59..=60).contains(&left), "{left}");
        assert_webex_error(&again);
    }
    let stats = fake.rate_limit_stats();
    assert_eq!(
        (stats.accepted, stats.throttled, stats.blocks, stats.early),
        (1, 3, 1, 2)
    );
}

#[tokio::test]
async fn a_non_numeric_retry_after_is_sent_as_given_during_the_block() {
    let fake = rate_limited(RateLimit::per_second(0.0).retry_after("rand(30),add(30)")).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    for _ in 0..2 {
        let refused = put(&fake, &target, "{}").await;
        assert_eq!(refused.status, 429);
        assert_eq!(refused.header("retry-after"), Some("rand(30),add(30)"));
    }
}

#[tokio::test]
async fn a_wrong_token_gets_401_and_takes_nothing_from_the_bucket() {
    let fake = rate_limited(RateLimit::per_second(0.0)).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    for _ in 0..3 {
        let wrong = send(
            &fake,
            "PUT",
            &target,
            &[
                ("Authorization", "Bearer not-the-token"),
                ("Content-Type", "application/json"),
            ],
            "{}",
        )
        .await;
        assert_eq!(wrong.status, 401);
    }
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
    let stats = fake.rate_limit_stats();
    assert_eq!((stats.accepted, stats.throttled), (1, 1));
}

#[tokio::test]
async fn a_scripted_fault_answers_before_the_rate_limit_and_takes_no_token() {
    let fake = rate_limited(RateLimit::per_second(0.0)).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    fake.push_fault(Fault::status(503));
    assert_eq!(put(&fake, &target, "{}").await.status, 503);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    fake.push_fault(Fault::status(502));
    assert_eq!(put(&fake, &target, "{}").await.status, 502);
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
    assert_eq!(fake.rate_limit_stats().accepted, 1);
}

#[tokio::test]
async fn the_rate_limit_can_be_set_and_removed_while_the_fake_runs() {
    let fake = FakeWebex::start().await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    for _ in 0..5 {
        assert_eq!(put(&fake, &target, "{}").await.status, 204);
    }
    assert_eq!(
        fake.rate_limit_stats(),
        RateLimitStats::default(),
        "nothing is counted without a limit"
    );
    fake.set_rate_limit(Some(RateLimit::per_second(0.0).burst(1)));
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
    fake.set_rate_limit(None);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    let stats = fake.rate_limit_stats();
    assert_eq!((stats.accepted, stats.throttled), (1, 1));
    fake.reset_rate_limit_stats();
    assert_eq!(fake.rate_limit_stats(), RateLimitStats::default());
}

#[tokio::test]
async fn raising_the_rate_while_the_fake_runs_keeps_the_block_in_force() {
    let fake = rate_limited(RateLimit::per_second(0.0).retry_after("60")).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    assert_eq!(put(&fake, &target, "{}").await.status, 204);
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
    fake.set_rate(1_000_000.0);
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
}

#[tokio::test]
async fn a_client_waits_out_the_rate_limit_and_every_call_lands() {
    let fake = rate_limited(RateLimit::per_second(100.0).burst(3).retry_after("1")).await;
    let client = fake.client();
    for enabled in [true, false, true, false, true] {
        client
            .update_hunt_group()
            .location_id(fixtures::LOCATION_ID)
            .hunt_group_id(fixtures::HUNT_GROUP_ID)
            .body(crate::types::UpdateHuntGroupRequest::new().enabled(enabled))
            .send()
            .await
            .expect("the update landed");
    }
    let stats = fake.rate_limit_stats();
    assert_eq!(stats.accepted, 5);
    assert_eq!(stats.early, 0);
}

#[tokio::test]
async fn a_fault_after_applying_renames_the_call_pickup_then_answers_502() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502).after_applying());
    let old = call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID);
    let answer = put(&fake, &old, r#"{"name": "Front desk"}"#).await;
    assert_eq!(answer.status, 502);
    assert_webex_error(&answer);
    let new_id = call_pickup_id("Front desk");
    assert_eq!(
        fake.call_pickup(fixtures::LOCATION_ID, &new_id).unwrap()["name"],
        "Front desk"
    );
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
            .is_none()
    );
    assert_eq!(
        put(&fake, &old, r#"{"name": "Front desk"}"#).await.status,
        404
    );
}

#[tokio::test]
async fn a_dropped_connection_after_applying_applies_the_update_and_answers_nothing() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::drop_connection().after_applying());
    let mut stream = TcpStream::connect(fake.addr()).await.expect("connect");
    let body = r#"{"name": "Front desk"}"#;
    let request = format!(
        "PUT {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        fake.token(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    // A reset is as good as a close here: either way no answer came.
    let _ = stream.read_to_end(&mut raw).await;
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, &call_pickup_id("Front desk"))
            .is_some()
    );
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
            .is_none()
    );
}

#[tokio::test]
async fn a_fault_after_applying_changes_nothing_when_the_update_is_refused() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(502).after_applying());
    let answer = put(
        &fake,
        &call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        r#"{"name": 7}"#,
    )
    .await;
    assert_eq!(answer.status, 502);
    assert!(
        fake.call_pickup(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID)
            .is_some()
    );
}

#[tokio::test]
async fn a_fault_after_applying_takes_a_token_from_the_rate_limit() {
    let fake = rate_limited(RateLimit::per_second(0.0)).await;
    let target = hunt_group_path(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID);
    fake.push_fault(Fault::status(504).after_applying());
    assert_eq!(
        put(&fake, &target, r#"{"enabled": false}"#).await.status,
        504
    );
    assert_eq!(
        fake.hunt_group(fixtures::LOCATION_ID, fixtures::HUNT_GROUP_ID)
            .unwrap()["enabled"],
        false
    );
    assert_eq!(put(&fake, &target, "{}").await.status, 429);
}

#[tokio::test]
async fn a_delay_after_applying_is_just_a_delay() {
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::delay(std::time::Duration::from_millis(5)).after_applying());
    let answer = put(
        &fake,
        &call_pickup_path(fixtures::LOCATION_ID, fixtures::CALL_PICKUP_ID),
        r#"{"name": "Front desk"}"#,
    )
    .await;
    assert_eq!(answer.status, 200);
    // Applied twice, the second time would find the old ID gone.
    assert_eq!(answer.json(), json!({ "id": call_pickup_id("Front desk") }));
}

#[test]
fn a_fake_on_every_interface_is_reached_on_loopback_and_others_where_they_listen() {
    assert_eq!(
        base_url_for(([0, 0, 0, 0], 4010).into()),
        "http://127.0.0.1:4010/v1"
    );
    assert_eq!(
        base_url_for("[::]:4010".parse().unwrap()),
        "http://[::1]:4010/v1"
    );
    assert_eq!(
        base_url_for(([127, 0, 0, 2], 4010).into()),
        "http://127.0.0.2:4010/v1"
    );
}
