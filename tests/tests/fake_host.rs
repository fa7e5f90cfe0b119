//! Reaching a fake Webex on another host over plain `http`, as a
//! docker-compose test setup does: refused unless the builder names the
//! host, and then only that host.

use webex_calling::Client;
use webex_calling::fake::{FakeWebex, fixtures};

/// Reads the fixture hunt group through `client`, which must reach the fake.
async fn assert_reads_the_fixture(client: &Client) {
    let group = client
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(group.id, fixtures::HUNT_GROUP_ID);
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_by_default() {
    let error = Client::builder()
        .token("a-token")
        .base_url("http://webex-fake:8080/v1")
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("clear text"), "{text}");
    assert!(text.contains("danger_allow_http_host"), "{text}");
}

#[test]
fn naming_a_host_allows_that_host_only() {
    let other = Client::builder()
        .token("a-token")
        .base_url("http://webex-fake.example.com:8080/v1")
        .danger_allow_http_host("webex-fake")
        .build();
    assert!(other.is_err(), "{other:?}");
    let named = Client::builder()
        .token("a-token")
        .base_url("http://Webex-Fake:8080/v1")
        .danger_allow_http_host("webex-fake")
        .build();
    assert!(named.is_ok(), "{named:?}");
}

#[tokio::test]
async fn a_client_reaches_the_fake_by_a_host_name_it_was_allowed() {
    let fake = FakeWebex::start().await;
    // The name resolves to the fake's loopback address, as a compose
    // network resolves a service's name.
    let http = reqwest::Client::builder()
        .resolve("webex-fake", fake.addr())
        .build()
        .unwrap();
    let client = Client::builder()
        .token(fake.token())
        .base_url(format!("http://webex-fake:{}/v1", fake.addr().port()))
        .danger_allow_http_host("webex-fake")
        .http_client(http)
        .build()
        .unwrap();

    assert_reads_the_fixture(&client).await;
    assert_eq!(
        fake.requests()[0].header("host"),
        Some(format!("webex-fake:{}", fake.addr().port()).as_str())
    );
}

#[tokio::test]
async fn a_fake_listens_where_it_is_bound() {
    let fake = FakeWebex::builder()
        .bind(([127, 0, 0, 2], 0).into())
        .start()
        .await
        .unwrap();

    assert_eq!(fake.addr().ip().to_string(), "127.0.0.2");
    assert_reads_the_fixture(&fake.client()).await;
}
