//! The client runtime against a scripted server on loopback: headers,
//! retries, rate limits, timeouts, tracking IDs, secrets, URLs and
//! construction.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use webex_calling::types::{
    UpdateCallPickupRequest, UpdateCallPickupResponse, UpdateHuntGroupRequest,
};
use webex_calling::{Client, ClientBuilder, Error, RetryPolicy};
use webex_calling_tests::scripted::{Reply, Script, ScriptedServer};

/// Every token in this file contains this marker, so one search of the
/// captured logs covers them all.
const SECRET_MARKER: &str = "s3cr3t";
const TOKEN: &str = "s3cr3t-token-for-runtime-tests";
const LOCATION: &str = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYx";
const PICKUP: &str = "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0";
const PICKUP_PATH: &str = "/v1/telephony/config/locations/Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYx/callPickups/Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0";

/// Short waits, so retries take milliseconds; a test that is about the
/// wait sets its own.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_millis(10), Duration::from_millis(40))
        .budget(Duration::from_secs(20))
}

/// Retries whose backoff alone could never fit in the budget: a retry
/// only happens when a `Retry-After` says how long to wait.
fn retries_only_on_retry_after() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_secs(60), Duration::from_secs(60))
        .budget(Duration::from_secs(10))
}

fn builder(server: &ScriptedServer) -> ClientBuilder {
    webex_calling_tests::logs::capture();
    Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .retry(quick_retries())
}

fn client(server: &ScriptedServer) -> Client {
    builder(server).build().expect("client")
}

async fn update_pickup(client: &Client) -> Result<UpdateCallPickupResponse, Error> {
    client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(PICKUP)
        .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(20))
        .send()
        .await
}

fn ok() -> Reply {
    Reply::json(200, json!({ "id": "new-id" }))
}

fn webex_error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "message": message,
            "errors": [{ "description": message }],
            "trackingId": "ROUTER_0123456789",
        }),
    )
}

/// The time between the arrival of request `i` and the one after it.
fn gap(server: &ScriptedServer, i: usize) -> Duration {
    let requests = server.requests();
    requests[i + 1].received - requests[i].received
}

// Headers.

#[tokio::test]
async fn every_request_carries_exactly_the_expected_headers() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;
    update_pickup(&client(&server)).await.unwrap();

    let requests = server.requests();
    let request = &requests[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.header_names(),
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "trackingid",
            "user-agent"
        ]
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("application/json"));
    let user_agent = request.header("user-agent").unwrap();
    assert!(
        user_agent.starts_with("webex-calling-rust/"),
        "{user_agent}"
    );
    let tracking_id = request.header("trackingid").unwrap();
    assert!(tracking_id.starts_with("webex-calling_"), "{tracking_id}");
    assert_eq!(
        request.body_text(),
        r#"{"notificationDelayTimerSeconds":20}"#
    );
}

#[tokio::test]
async fn no_api_version_header_is_sent() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;
    update_pickup(&client(&server)).await.unwrap();

    assert_eq!(server.requests()[0].header("api-version"), None);
}

#[tokio::test]
async fn the_user_agent_and_the_tracking_id_prefix_are_configurable() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;
    let client = builder(&server)
        .user_agent("billing-sync/2.1")
        .tracking_id_prefix("billing-sync")
        .build()
        .unwrap();
    update_pickup(&client).await.unwrap();

    let request = &server.requests()[0];
    assert_eq!(request.header("user-agent"), Some("billing-sync/2.1"));
    let tracking_id = request.header("trackingid").unwrap();
    assert!(tracking_id.starts_with("billing-sync_"), "{tracking_id}");
}

// Retries.

#[tokio::test]
async fn a_retry_waits_for_a_retry_after_in_seconds() {
    let server = ScriptedServer::start(
        Script::new()
            .then(webex_error(429, "Too many requests").header("Retry-After", "1"))
            .then(ok()),
    )
    .await;
    let client = builder(&server)
        .retry(retries_only_on_retry_after())
        .build()
        .unwrap();

    let updated = update_pickup(&client).await.unwrap();

    assert_eq!(updated.id, "new-id");
    assert_eq!(server.requests().len(), 2);
    assert!(
        gap(&server, 0) >= Duration::from_millis(950),
        "{:?}",
        gap(&server, 0)
    );
}

#[tokio::test]
async fn a_retry_waits_until_a_retry_after_http_date() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1));
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(503).header("Retry-After", at))
            .then(ok()),
    )
    .await;
    // Without the date the backoff (a minute) would not fit in the budget,
    // so the retry proves the date was read.
    let client = builder(&server)
        .retry(retries_only_on_retry_after())
        .build()
        .unwrap();

    update_pickup(&client).await.unwrap();

    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_malformed_retry_after_falls_back_to_the_backoff_schedule() {
    let backoff = Duration::from_millis(200);
    for value in ["rand(30),add(30)", "-5", "1.5"] {
        let server = ScriptedServer::start(
            Script::new()
                .then(Reply::status(429).header("Retry-After", value))
                .then(ok()),
        )
        .await;
        let client = builder(&server)
            .retry(quick_retries().backoff(backoff, backoff))
            .build()
            .unwrap();

        update_pickup(&client).await.unwrap();

        assert_eq!(server.requests().len(), 2, "{value}");
        // Backoff is jittered down by at most half; a value read as zero or
        // as its own number would give a different wait.
        assert!(
            gap(&server, 0) >= backoff / 2,
            "{value}: {:?}",
            gap(&server, 0)
        );
    }
}

#[tokio::test]
async fn a_503_is_retried_until_success() {
    let server = ScriptedServer::start(
        Script::new()
            .then(webex_error(503, "Service unavailable"))
            .then(ok()),
    )
    .await;

    update_pickup(&client(&server)).await.unwrap();

    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_423_is_retried_until_success() {
    let server = ScriptedServer::start(
        Script::new()
            .then(webex_error(423, "The hunt group is being changed"))
            .then(ok()),
    )
    .await;

    update_pickup(&client(&server)).await.unwrap();

    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_502_and_a_504_are_retried_until_success() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(502))
            .then(Reply::status(504))
            .then(ok()),
    )
    .await;

    update_pickup(&client(&server)).await.unwrap();

    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn refusals_for_rate_use_up_no_attempts() {
    let mut script = Script::new();
    for _ in 0..5 {
        script = script.then(webex_error(429, "Too many requests").header("Retry-After", "0"));
    }
    let server = ScriptedServer::start(script.otherwise(ok())).await;
    let client = builder(&server)
        .retry(quick_retries().max_attempts(2))
        .build()
        .unwrap();

    update_pickup(&client).await.unwrap();

    assert_eq!(server.requests().len(), 6);
}

#[tokio::test]
async fn errors_other_than_429_still_use_up_the_attempts() {
    let server = ScriptedServer::start(
        Script::new()
            .then(webex_error(429, "Too many requests").header("Retry-After", "0"))
            .then(Reply::status(503))
            .then(webex_error(429, "Too many requests").header("Retry-After", "0"))
            .then(Reply::status(503))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server)
        .retry(quick_retries().max_attempts(2))
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert_eq!(error.status(), Some(503), "{error:?}");
    assert_eq!(server.requests().len(), 4);
    assert_eq!(error.attempts(), 4);
}

#[tokio::test]
async fn a_backoff_waited_out_counts_as_waiting_however_the_slot_is_taken() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::status(503))).await;
    // Nothing paces this client, so the retry takes its slot at once: the
    // backoff before it is still time the call waited.
    let client = builder(&server)
        .rate_limiter(webex_calling::RateLimiter::none())
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .backoff(Duration::from_millis(400), Duration::from_millis(400)),
        )
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert_eq!(error.attempts(), 2);
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    // The backoff is jittered down by at most half.
    assert!(api.waited >= Duration::from_millis(200), "{:?}", api.waited);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_budget_fails_at_once_and_keeps_the_value() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "3600"))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server)
        .retry(quick_retries().budget(Duration::from_secs(60)))
        .build()
        .unwrap();

    let started = Instant::now();
    let error = update_pickup(&client).await.unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);
    // It did not sit out the budget before saying so.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(error.to_string().contains("3600 s"), "{error}");
}

#[tokio::test]
async fn a_retry_after_longer_than_max_retry_after_is_waited_out_when_the_budget_allows() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "1"))
            .otherwise(ok()),
    )
    .await;
    // The client-wide wait is capped at 100 ms; the call itself still waits
    // the whole second it was asked to.
    let client = builder(&server)
        .retry(quick_retries().max_retry_after(Duration::from_millis(100)))
        .build()
        .unwrap();

    update_pickup(&client).await.unwrap();

    assert_eq!(server.requests().len(), 2);
    assert!(
        gap(&server, 0) >= Duration::from_millis(900),
        "{:?}",
        gap(&server, 0)
    );
}

#[tokio::test]
async fn the_client_wide_wait_of_a_long_retry_after_is_capped_not_dropped() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "3600"))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server)
        .retry(RetryPolicy::none().max_retry_after(Duration::from_millis(700)))
        .build()
        .unwrap();

    let limited = update_pickup(&client).await.unwrap_err();
    let limited_at = Instant::now();
    update_pickup(&client.clone()).await.unwrap();

    assert_eq!(limited.retry_after(), Some(Duration::from_secs(3600)));
    let held_back = server.requests()[1].received - limited_at;
    assert!(held_back >= Duration::from_millis(500), "{held_back:?}");
}

#[tokio::test]
async fn a_429_storm_ends_as_rate_limited_when_the_time_budget_runs_out() {
    let server = ScriptedServer::start(
        Script::new().otherwise(Reply::status(429).header("Retry-After", "1")),
    )
    .await;
    // The first wait (1 s) fits in the budget; the second would end half a
    // second after it, so the call stops there, long before 1000 attempts.
    let client = builder(&server)
        .retry(
            retries_only_on_retry_after()
                .max_attempts(1000)
                .budget(Duration::from_millis(1500)),
        )
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(error.attempts(), 2);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    let Error::RateLimited(api) = &error else {
        unreachable!()
    };
    assert_eq!(api.throttled, 2);
    assert!(api.waited >= Duration::from_millis(900), "{:?}", api.waited);
    let text = error.to_string();
    assert!(
        text.contains("2 times") && text.contains("waited"),
        "{text}"
    );
}

#[tokio::test]
async fn an_attempt_cut_short_by_the_budget_ends_with_what_the_service_said_last() {
    let server =
        ScriptedServer::start(Script::new().then(Reply::status(429)).then(Reply::hang())).await;
    let client = builder(&server)
        .timeout(Duration::from_secs(30))
        .retry(quick_retries().budget(Duration::from_millis(800)))
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(error.attempts(), 2);
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::status(503))).await;
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.attempts(), 1);
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = ScriptedServer::start(
        Script::new().otherwise(webex_error(400, "Invalid value for notificationType")),
    )
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert_eq!(server.requests().len(), 1);
    let Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}")
    };
    assert_eq!(api.status, 400);
    assert_eq!(
        api.message.as_deref(),
        Some("Invalid value for notificationType")
    );
    assert_eq!(api.details, ["Invalid value for notificationType"]);
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn other_error_statuses_are_not_retried() {
    for status in [401, 403, 404, 409, 500] {
        let server =
            ScriptedServer::start(Script::new().otherwise(webex_error(status, "No"))).await;

        let error = update_pickup(&client(&server)).await.unwrap_err();

        assert_eq!(server.requests().len(), 1, "{status}");
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.attempts(), 1);
    }
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let server = ScriptedServer::start(Script::new().then(Reply::close()).then(ok())).await;

    update_pickup(&client(&server)).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_ne!(requests[0].connection, requests[1].connection);
}

#[tokio::test]
async fn a_connection_that_keeps_failing_ends_as_a_transport_error() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::close())).await;
    let client = builder(&server)
        .retry(quick_retries().max_attempts(2))
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert!(
        matches!(error, Error::Transport { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 2);
    assert!(error.is_retryable());
    assert!(error.to_string().contains("after 2 attempts"), "{error}");
}

#[tokio::test]
async fn a_redirect_loop_is_not_retried() {
    let server = ScriptedServer::start(
        Script::new().otherwise(Reply::status(307).header("Location", "/v1/again")),
    )
    .await;
    let client = builder(&server)
        .retry(quick_retries().max_attempts(3))
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("redirect"), "{error}");
    // One attempt follows a handful of redirects; three would triple them.
    let sent = server.requests().len();
    assert!((2..=10).contains(&sent), "{sent} requests");
}

// Timeouts.

#[tokio::test]
async fn an_attempt_that_outlasts_its_timeout_ends_as_a_timeout_error() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::hang())).await;
    let client = builder(&server)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    let Error::Timeout { attempts, .. } = &error else {
        panic!("expected a timeout, got {error:?}")
    };
    assert_eq!(*attempts, 1);
    assert!(error.is_retryable());
    let sent = server.requests()[0]
        .header("trackingid")
        .unwrap()
        .to_string();
    assert_eq!(error.tracking_id(), Some(sent.as_str()));
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let server = ScriptedServer::start(Script::new().then(Reply::hang()).then(ok())).await;
    let client = builder(&server)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();

    update_pickup(&client).await.unwrap();

    assert_eq!(server.requests().len(), 2);
}

// Error bodies.

#[tokio::test]
async fn a_non_json_error_body_is_an_unreadable_response_with_a_bounded_snippet() {
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "upstream connect error ".repeat(400)
    );
    let server =
        ScriptedServer::start(Script::new().otherwise(Reply::text(502, "text/html", page))).await;
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    let Error::UnreadableResponse {
        status, snippet, ..
    } = &error
    else {
        panic!("expected an unreadable response, got {error:?}")
    };
    assert_eq!(*status, 502);
    assert!(
        snippet.starts_with("<html><head><title>502 Bad Gateway"),
        "{snippet}"
    );
    assert!(
        snippet.chars().count() <= 201,
        "{} characters",
        snippet.chars().count()
    );
    assert!(error.to_string().len() < 600, "{error}");
}

#[tokio::test]
async fn a_body_past_one_mebibyte_is_not_read_into_memory() {
    // Valid JSON, but longer than the client reads: it is cut at the cap and
    // so cannot be decoded, which shows the cap applied.
    let huge = json!({ "id": "x".repeat(2 << 20) });
    let server = ScriptedServer::start(Script::new().otherwise(Reply::json(200, huge))).await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert!(
        matches!(error, Error::UnreadableResponse { status: 200, .. }),
        "{error:?}"
    );
    assert!(error.to_string().len() < 800, "{error}");
}

#[tokio::test]
async fn an_empty_404_is_an_api_error() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::status(404))).await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    let Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}")
    };
    assert_eq!(api.status, 404);
    assert_eq!(api.message, None);
    assert!(api.details.is_empty());
}

#[tokio::test]
async fn a_429_with_an_html_body_is_still_rate_limited() {
    let server = ScriptedServer::start(Script::new().otherwise(
        Reply::text(429, "text/html", "<html>slow down</html>").header("Retry-After", "0"),
    ))
    .await;
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();

    let error = update_pickup(&client).await.unwrap_err();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
}

#[tokio::test]
async fn error_body_fields_of_the_wrong_type_are_skipped() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::json(
        400,
        json!({ "message": "Bad name", "errors": [{ "description": 7 }], "trackingId": 12 }),
    )))
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    let Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}")
    };
    assert_eq!(api.message.as_deref(), Some("Bad name"));
    assert!(api.details.is_empty());
}

#[tokio::test]
async fn a_success_status_with_an_unreadable_body_is_an_unreadable_response() {
    let server =
        ScriptedServer::start(Script::new().then(Reply::text(200, "text/plain", "done"))).await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert!(
        matches!(error, Error::UnreadableResponse { status: 200, .. }),
        "{error:?}"
    );
}

// Tracking IDs.

#[tokio::test]
async fn display_names_the_servers_tracking_id_from_the_body() {
    let server = ScriptedServer::start(
        Script::new().otherwise(
            Reply::json(
                404,
                json!({ "message": "Call pickup not found", "trackingId": "ROUTER_FROM_BODY" }),
            )
            .header("TrackingID", "ROUTER_FROM_HEADER"),
        ),
    )
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert_eq!(error.tracking_id(), Some("ROUTER_FROM_BODY"));
    let text = error.to_string();
    assert!(text.contains("ROUTER_FROM_BODY"), "{text}");
    assert!(text.contains("Call pickup not found"), "{text}");
}

#[tokio::test]
async fn display_names_the_tracking_id_from_the_response_header_when_the_body_has_none() {
    let server = ScriptedServer::start(
        Script::new().otherwise(
            Reply::json(409, json!({ "message": "Conflict" }))
                .header("TrackingID", "ROUTER_FROM_HEADER"),
        ),
    )
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert_eq!(error.tracking_id(), Some("ROUTER_FROM_HEADER"));
    assert!(error.to_string().contains("ROUTER_FROM_HEADER"), "{error}");
}

#[tokio::test]
async fn display_names_the_clients_own_tracking_id_when_the_server_sends_none() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::status(404))).await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    let sent = server.requests()[0]
        .header("trackingid")
        .unwrap()
        .to_string();
    assert_eq!(error.tracking_id(), Some(sent.as_str()));
    assert!(error.to_string().contains(&sent), "{error}");
}

#[tokio::test]
async fn a_success_carries_the_tracking_id_the_service_echoed_else_the_one_sent() {
    let server = ScriptedServer::start(
        Script::new()
            .then(ok().header("TrackingID", "ROUTER_ECHOED"))
            .then(ok()),
    )
    .await;
    let client = client(&server);
    let call = || {
        client
            .update_call_pickup()
            .location_id(LOCATION)
            .call_pickup_id(PICKUP)
            .body(UpdateCallPickupRequest::new().notification_delay_timer_seconds(20))
            .send_with_meta()
    };

    let echoed = call().await.unwrap();
    let silent = call().await.unwrap();

    assert_eq!(echoed.tracking_id(), "ROUTER_ECHOED");
    let sent = server.requests()[1]
        .header("trackingid")
        .unwrap()
        .to_string();
    assert_eq!(silent.tracking_id(), sent);
}

#[tokio::test]
async fn every_error_after_sending_names_a_tracking_id_in_display() {
    let cases = [
        ("rate limited", Reply::status(429)),
        ("server error", Reply::status(503)),
        ("unreadable", Reply::text(502, "text/html", "<html></html>")),
        ("transport", Reply::close()),
        ("timeout", Reply::hang()),
    ];
    for (case, reply) in cases {
        let server = ScriptedServer::start(Script::new().otherwise(reply)).await;
        let client = builder(&server)
            .timeout(Duration::from_millis(500))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();

        let error = update_pickup(&client).await.unwrap_err();

        let sent = server.requests()[0]
            .header("trackingid")
            .unwrap()
            .to_string();
        assert_eq!(error.tracking_id(), Some(sent.as_str()), "{case}");
        assert!(error.to_string().contains(&sent), "{case}: {error}");
    }
}

#[tokio::test]
async fn every_attempt_of_one_call_carries_the_same_tracking_id() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(503))
            .then(Reply::close())
            .then(Reply::status(429))
            .then(ok()),
    )
    .await;

    update_pickup(&client(&server)).await.unwrap();

    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("trackingid").unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), 4);
    assert!(sent.iter().all(|id| *id == sent[0]), "{sent:?}");
}

#[tokio::test]
async fn each_call_gets_its_own_tracking_id() {
    let server = ScriptedServer::start(Script::new().otherwise(ok())).await;
    let first = client(&server);
    let second = client(&server);

    update_pickup(&first).await.unwrap();
    update_pickup(&first).await.unwrap();
    update_pickup(&first.clone()).await.unwrap();
    update_pickup(&second).await.unwrap();

    let mut sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("trackingid").unwrap().to_string())
        .collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 4, "{sent:?}");
}

// Secrets and tracing.

#[tokio::test]
async fn debug_and_display_never_show_the_token() {
    let server = ScriptedServer::start(
        Script::new()
            .then(webex_error(
                401,
                "The request requires a valid access token",
            ))
            .then(Reply::close()),
    )
    .await;
    let builder = builder(&server).retry(RetryPolicy::none());
    let client = builder.clone().build().unwrap();
    let api_error = update_pickup(&client).await.unwrap_err();
    let transport_error = update_pickup(&client).await.unwrap_err();
    let config_error = Client::builder()
        .token(TOKEN)
        .base_url("http://example.com")
        .build()
        .unwrap_err();

    let shown = [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.clone()),
        format!("{api_error:?}"),
        format!("{api_error}"),
        format!("{transport_error:?}"),
        format!("{transport_error}"),
        format!("{config_error:?}"),
        format!("{config_error}"),
    ];
    for text in shown {
        assert!(!text.contains(SECRET_MARKER), "{text}");
    }
    assert!(
        matches!(transport_error, Error::Transport { .. }),
        "{transport_error:?}"
    );
}

#[tokio::test]
async fn logs_show_the_call_and_its_body_at_trace_but_never_the_token() {
    let server = ScriptedServer::start(Script::new().then(Reply::status(503)).then(ok())).await;
    let body_marker = "Traced pickup 4f1c";

    client(&server)
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(PICKUP)
        .body(UpdateCallPickupRequest::new().name(body_marker))
        .send()
        .await
        .unwrap();

    let tracking_id = server.requests()[0]
        .header("trackingid")
        .unwrap()
        .to_string();
    let logs = webex_calling_tests::logs::captured();
    assert!(!logs.contains(SECRET_MARKER), "{logs}");
    let ours: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains(&tracking_id))
        .collect();
    let body_line = ours
        .iter()
        .find(|line| line.contains(body_marker))
        .unwrap_or_else(|| panic!("no body in {ours:#?}"));
    assert!(body_line.contains("TRACE"), "{body_line}");
    assert!(
        ours.iter()
            .all(|line| !line.contains(body_marker) || line.contains("TRACE")),
        "{ours:#?}"
    );
    let done = ours
        .iter()
        .find(|line| line.contains("call succeeded"))
        .unwrap_or_else(|| panic!("no success event in {ours:#?}"));
    for field in [
        "updateCallPickup",
        "http.request.method=PUT",
        "url.full=http://127.0.0.1:",
        "server.address=127.0.0.1",
        "http.request.resend_count=1",
        "http.response.status_code=200",
        "elapsed_ms=",
    ] {
        assert!(done.contains(field), "{field} missing from {done}");
    }
}

// Safe URLs and input.

#[tokio::test]
async fn ids_with_reserved_characters_arrive_as_one_encoded_segment_each() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;

    client(&server)
        .update_call_pickup()
        .location_id("loc/../../people?max=1")
        .call_pickup_id("a#b%2Fc..d/..")
        .body(UpdateCallPickupRequest::new().name("Front desk"))
        .send()
        .await
        .unwrap();

    assert_eq!(
        server.requests()[0].target,
        "/v1/telephony/config/locations/loc%2F..%2F..%2Fpeople%3Fmax%3D1/callPickups/a%23b%252Fc..d%2F.."
    );
}

#[tokio::test]
async fn ids_with_characters_outside_ascii_are_encoded_byte_by_byte() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;

    client(&server)
        .update_call_pickup()
        .location_id("Zürich/é")
        .call_pickup_id("日本")
        .body(UpdateCallPickupRequest::new().name("Front desk"))
        .send()
        .await
        .unwrap();

    assert_eq!(
        server.requests()[0].target,
        "/v1/telephony/config/locations/Z%C3%BCrich%2F%C3%A9/callPickups/%E6%97%A5%E6%9C%AC"
    );
}

#[tokio::test]
async fn org_id_is_sent_as_an_encoded_query_value() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;

    client(&server)
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(PICKUP)
        .org_id("org/1?x=2&y=#3 4")
        .body(UpdateCallPickupRequest::new().name("Front desk"))
        .send()
        .await
        .unwrap();

    assert_eq!(
        server.requests()[0].target,
        format!("{PICKUP_PATH}?orgId=org%2F1%3Fx%3D2%26y%3D%233%204")
    );
}

#[tokio::test]
async fn empty_or_dot_ids_are_refused_before_anything_is_sent() {
    let server = ScriptedServer::start(Script::new().otherwise(ok())).await;
    let client = client(&server);

    let empty_location = client
        .update_call_pickup()
        .location_id("")
        .call_pickup_id(PICKUP)
        .send()
        .await
        .unwrap_err();
    let dots = client
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id("..")
        .send()
        .await
        .unwrap_err();
    let empty_hunt_group = client
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id("")
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send()
        .await
        .unwrap_err();

    for (error, path) in [
        (&empty_location, "locationId"),
        (&dots, "callPickupId"),
        (&empty_hunt_group, "huntGroupId"),
    ] {
        let input = error
            .invalid_input()
            .unwrap_or_else(|| panic!("expected invalid input, got {error:?}"));
        assert_eq!(input.violations()[0].path(), path, "{error}");
        assert_eq!(error.attempts(), 0);
    }
    assert!(server.requests().is_empty());
}

// Construction and auth.

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_at_build_time() {
    for base_url in [
        "http://webexapis.com/v1",
        "http://192.168.1.10/v1",
        "http://127.0.0.1.example.com/v1",
        "http://[2001:db8::1]/v1",
        "ftp://webexapis.com/v1",
    ] {
        let error = Client::builder()
            .token(TOKEN)
            .base_url(base_url)
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{base_url}: {error:?}");
        assert!(error.to_string().contains(base_url), "{error}");
    }
}

#[test]
fn plain_http_to_loopback_and_https_anywhere_are_accepted() {
    for base_url in [
        "http://127.0.0.1:8080/v1",
        "http://localhost:8080/v1",
        "http://[::1]:8080/v1",
        "https://webexapis.com/v1",
        "https://webexapis.com/v1/",
    ] {
        let client = Client::builder().token(TOKEN).base_url(base_url).build();
        assert!(client.is_ok(), "{base_url}: {client:?}");
    }
    let client = Client::builder().token(TOKEN).build().unwrap();
    assert_eq!(client.base_url(), "https://webexapis.com/v1");
}

#[test]
fn a_missing_or_empty_token_is_refused_at_build_time() {
    let missing = Client::builder().build().unwrap_err();
    let empty = Client::builder().token("").build().unwrap_err();
    let blank = Client::builder().token("  \t ").build().unwrap_err();

    for error in [missing, empty, blank] {
        assert!(matches!(error, Error::Config(_)), "{error:?}");
        assert!(error.to_string().contains("token"), "{error}");
    }
}

#[test]
fn a_max_in_flight_out_of_range_is_refused_at_build_time() {
    for max in [0, usize::MAX] {
        let error = Client::builder()
            .token(TOKEN)
            .max_in_flight(max)
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{max}: {error:?}");
    }
}

/// Held by the tests that change the environment, so they never overlap.
static ENVIRONMENT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn from_env_reads_the_token_and_the_base_url() {
    let _environment = ENVIRONMENT.lock().await;
    let server = ScriptedServer::start(Script::new().otherwise(ok())).await;
    webex_calling_tests::logs::capture();
    let set = |name: &str, value: Option<&str>| {
        // SAFETY: the standard library's own reads of the environment take
        // the same lock as `set_var`, and no test in this binary resolves a
        // host name, which would read it outside that lock: they all connect
        // to 127.0.0.1.
        unsafe {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    };
    let sent_token = async |client: Client| {
        let before = server.requests().len();
        update_pickup(&client).await.unwrap();
        server.requests()[before]
            .header("authorization")
            .unwrap()
            .to_string()
    };

    set("WEBEX_TOKEN", None);
    set("WEBEX_ACCESS_TOKEN", None);
    set("WEBEX_BASE_URL", None);
    let none = Client::from_env().unwrap_err();
    assert!(matches!(none, Error::Config(_)), "{none:?}");
    assert!(none.to_string().contains("WEBEX_TOKEN"), "{none}");

    set("WEBEX_ACCESS_TOKEN", Some("s3cr3t-access-token"));
    assert_eq!(
        Client::from_env().unwrap().base_url(),
        "https://webexapis.com/v1"
    );

    set("WEBEX_BASE_URL", Some(&server.base_url()));
    let client = Client::from_env().unwrap();
    assert_eq!(client.base_url(), server.base_url());
    assert_eq!(sent_token(client).await, "Bearer s3cr3t-access-token");

    set("WEBEX_TOKEN", Some(""));
    let client = Client::from_env().unwrap();
    assert_eq!(sent_token(client).await, "Bearer s3cr3t-access-token");

    set("WEBEX_TOKEN", Some("s3cr3t-webex-token"));
    let client = Client::from_env().unwrap();
    assert_eq!(sent_token(client).await, "Bearer s3cr3t-webex-token");

    set("WEBEX_BASE_URL", Some("http://webexapis.com/v1"));
    let refused = Client::from_env().unwrap_err();
    assert!(matches!(refused, Error::Config(_)), "{refused:?}");

    set("WEBEX_TOKEN", None);
    set("WEBEX_ACCESS_TOKEN", None);
    set("WEBEX_BASE_URL", None);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_and_names_the_location() {
    let other = ScriptedServer::start(Script::new().otherwise(ok())).await;
    let location = format!("http://localhost:{}/v1/moved", other.addr().port());
    let server = ScriptedServer::start(
        Script::new().otherwise(Reply::status(307).header("Location", location.as_str())),
    )
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert!(
        matches!(&error, Error::Redirect { status: 307, location: Some(l), .. } if *l == location),
        "{error:?}"
    );
    assert!(error.to_string().contains(&location), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1);
    assert!(
        other.requests().is_empty(),
        "the token left for another host"
    );
}

#[tokio::test]
async fn a_303_is_not_followed_so_a_put_never_becomes_a_get() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(303).header("Location", "/v1/elsewhere"))
            .otherwise(ok()),
    )
    .await;

    let error = update_pickup(&client(&server)).await.unwrap_err();

    assert_eq!(error.status(), Some(303), "{error:?}");
    assert!(error.to_string().contains("/v1/elsewhere"), "{error}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "PUT");
}

#[tokio::test]
async fn a_307_to_the_same_origin_is_followed_with_the_same_method_and_body() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(307).header("Location", "/v1/moved"))
            .otherwise(ok()),
    )
    .await;

    let updated = update_pickup(&client(&server)).await.unwrap();

    assert_eq!(updated.id, "new-id");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].target, "/v1/moved");
    assert_eq!(requests[1].body, requests[0].body);
}

#[tokio::test]
async fn any_2xx_is_success_for_an_operation_without_a_response_body() {
    let server = ScriptedServer::start(Script::new().then(Reply::json(200, json!({})))).await;

    client(&server)
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id("Y2lzY29zcGFyazovL3VzL0hVTlRfR1JPVVAvaHVudGdyb3VwMQ")
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send()
        .await
        .unwrap();

    assert_eq!(
        server.requests().len(),
        1,
        "a 200 was taken for a failure and retried"
    );
}

// Rate limits and limits shared by clones.

#[tokio::test]
async fn a_429_cools_down_every_clone_of_the_client() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "1"))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();

    let limited = update_pickup(&client).await.unwrap_err();
    let limited_at = Instant::now();
    update_pickup(&client.clone()).await.unwrap();

    assert!(matches!(limited, Error::RateLimited(_)), "{limited:?}");
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(1)));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let held_back = requests[1].received - limited_at;
    // Without the cool-down it would arrive within milliseconds.
    assert!(held_back >= Duration::from_millis(700), "{held_back:?}");
}

#[tokio::test]
async fn a_call_that_cannot_outwait_a_cool_down_fails_without_being_sent() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "1"))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server)
        .retry(quick_retries().budget(Duration::from_millis(600)))
        .build()
        .unwrap();

    let limited = update_pickup(&client).await.unwrap_err();
    let held_back = update_pickup(&client.clone()).await.unwrap_err();

    assert!(matches!(limited, Error::RateLimited(_)), "{limited:?}");
    assert!(
        matches!(held_back, Error::Timeout { attempts: 0, .. }),
        "{held_back:?}"
    );
    assert!(held_back.to_string().contains("not sent"), "{held_back}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_the_cap() {
    let server =
        ScriptedServer::start(Script::new().otherwise(ok().after(Duration::from_millis(150))))
            .await;
    let client = builder(&server).max_in_flight(2).build().unwrap();

    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { update_pickup(&client).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(server.requests().len(), 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn a_prebuilt_http_client_is_used() {
    let server = ScriptedServer::start(Script::new().then(ok())).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-egress",
        reqwest::header::HeaderValue::from_static("proxy-7"),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = builder(&server).http_client(http).build().unwrap();

    update_pickup(&client).await.unwrap();

    let request = &server.requests()[0];
    assert_eq!(request.header("x-egress"), Some("proxy-7"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn clones_share_one_connection_pool() {
    let server = ScriptedServer::start(Script::new().otherwise(ok())).await;
    let client = client(&server);

    update_pickup(&client).await.unwrap();
    update_pickup(&client.clone()).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].connection, requests[1].connection);
}

#[tokio::test]
async fn an_unbounded_budget_still_retries_and_succeeds() {
    let server = ScriptedServer::start(Script::new().then(Reply::status(503)).then(ok())).await;
    let client = builder(&server)
        .retry(quick_retries().budget(Duration::MAX))
        .build()
        .unwrap();

    update_pickup(&client).await.unwrap();

    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_hunt_group_update_succeeds_on_204() {
    let server = ScriptedServer::start(Script::new().then(Reply::status(204))).await;

    client(&server)
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id("Y2lzY29zcGFyazovL3VzL0hVTlRfR1JPVVAvaHVudGdyb3VwMQ")
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send()
        .await
        .unwrap();

    let request = &server.requests()[0];
    assert!(
        request.target.contains("/huntGroups/"),
        "{}",
        request.target
    );
    assert_eq!(request.body_text(), r#"{"enabled":true}"#);
}

#[tokio::test]
async fn an_attempt_cut_short_by_the_budget_does_not_hold_the_client_back_again() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "1"))
            .then(Reply::hang())
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server)
        .timeout(Duration::from_secs(30))
        .retry(quick_retries().budget(Duration::from_millis(1500)))
        .build()
        .unwrap();

    let error = update_pickup(&client).await.unwrap_err();
    let ended = Instant::now();
    update_pickup(&client.clone()).await.unwrap();

    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // The 429's wait was over when the cut-short attempt ended; taking it
    // up again would hold the next call back for another second.
    let held_back = requests[2].received.saturating_duration_since(ended);
    assert!(held_back < Duration::from_millis(500), "{held_back:?}");
}

/// Calls held back by one `Retry-After`, then released: the arrival times
/// of the requests that follow the refusal.
async fn released_after_a_wait(limiter: webex_calling::RateLimiter) -> Vec<Instant> {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::status(429).header("Retry-After", "1"))
            .otherwise(ok()),
    )
    .await;
    let client = builder(&server).rate_limiter(limiter).build().unwrap();
    // The first call meets the refusal; the others queue behind its wait.
    let first = tokio::spawn({
        let client = client.clone();
        async move { update_pickup(&client).await }
    });
    while server.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { update_pickup(&client).await })
        })
        .collect();
    first.await.unwrap().unwrap();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    server.requests()[1..]
        .iter()
        .map(|request| request.received)
        .collect()
}

fn assert_spread(arrivals: &[Instant]) {
    assert_eq!(arrivals.len(), 7);
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    let closest = sorted
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .min()
        .unwrap();
    // Released together, they would arrive within microseconds of each other.
    assert!(closest >= Duration::from_micros(500), "{closest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_released_by_the_end_of_a_wait_leave_at_the_learned_pace_not_at_once() {
    assert_spread(&released_after_a_wait(webex_calling::RateLimiter::adaptive()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_calls_released_by_the_end_of_a_wait_are_still_spread() {
    let arrivals = released_after_a_wait(webex_calling::RateLimiter::none()).await;
    assert_eq!(arrivals.len(), 7);
    let first = arrivals.iter().min().unwrap();
    let last = arrivals.iter().max().unwrap();
    // Spread at random over a tenth of the one-second wait.
    assert!(
        *last - *first >= Duration::from_millis(10),
        "{:?}",
        *last - *first
    );
}
