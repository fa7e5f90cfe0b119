//! Walking every page of a list as one stream, against the fake: the hunt
//! group list follows Webex's `Link` header, the call pickup list counts
//! with `max` and `start`, stopping early sends nothing more, and each page
//! is an ordinary call that the retry policy and rate limiter handle.

use futures_util::StreamExt;
use serde_json::json;
use webex_calling::Error;
use webex_calling::fake::{FakeWebex, Fault, RateLimit, RecordedRequest, fixtures};
use webex_calling::types::{CallPickupListItem, HuntGroupListItem};

const LOCATION: &str = fixtures::LOCATION_ID;

async fn fake_with_hunt_groups(count: usize) -> FakeWebex {
    let fake = FakeWebex::builder()
        .without_fixtures()
        .start()
        .await
        .unwrap();
    for i in 0..count {
        fake.add_hunt_group(
            LOCATION,
            &format!("group-{i:03}"),
            json!({ "name": format!("group {i:03}") }),
        )
        .expect("valid seed");
    }
    fake
}

async fn fake_with_call_pickups(count: usize) -> FakeWebex {
    let fake = FakeWebex::builder()
        .without_fixtures()
        .start()
        .await
        .unwrap();
    for i in 0..count {
        fake.add_call_pickup(LOCATION, &format!("pickup {i:03}"), json!(null))
            .expect("valid seed");
    }
    fake
}

/// The `start` and `max` each request sent.
fn pages(requests: &[RecordedRequest]) -> Vec<(String, String)> {
    requests
        .iter()
        .map(|request| {
            let query = request.query().unwrap_or_default();
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                    .unwrap_or("-")
                    .to_string()
            };
            (param("start"), param("max"))
        })
        .collect()
}

#[tokio::test]
async fn two_hundred_fifty_hunt_groups_at_pages_of_100_take_three_requests() {
    let fake = fake_with_hunt_groups(250).await;

    let groups: Vec<HuntGroupListItem> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .stream()
        .map(|group| group.expect("a hunt group"))
        .collect()
        .await;

    assert_eq!(groups.len(), 250);
    assert_eq!(groups[0].name, "group 000");
    assert_eq!(groups[249].name, "group 249");
    let sent = fake.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        pages(&sent),
        [("0", "100"), ("100", "100"), ("200", "100")].map(|(s, m)| (s.to_string(), m.to_string()))
    );
}

#[tokio::test]
async fn the_hunt_group_list_follows_the_link_header_and_ends_without_one() {
    let fake = fake_with_hunt_groups(5).await;

    let groups: Vec<_> = fake
        .client()
        .list_hunt_groups()
        .max(2)
        .stream()
        .collect()
        .await;

    assert_eq!(groups.len(), 5);
    // Pages of 2, 2 and 1: the third answer names no next page.
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_full_last_page_of_a_linked_list_sends_no_empty_request() {
    let fake = fake_with_hunt_groups(200).await;

    let groups: Vec<_> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .stream()
        .collect()
        .await;

    assert_eq!(groups.len(), 200);
    assert_eq!(
        fake.requests().len(),
        2,
        "the second answer has no Link, so the list ends"
    );
}

#[tokio::test]
async fn stopping_after_the_first_page_sends_one_request() {
    let fake = fake_with_hunt_groups(250).await;

    let first: Vec<_> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .stream()
        .take(100)
        .collect()
        .await;

    assert_eq!(first.len(), 100);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn dropping_a_stream_mid_page_sends_nothing_more() {
    let fake = fake_with_call_pickups(250).await;
    let mut stream = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .max(100)
        .stream();

    let first = stream
        .next()
        .await
        .expect("an item")
        .expect("a call pickup");
    drop(stream);

    assert_eq!(first.name, "pickup 000");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn call_pickups_are_paged_by_offset_until_a_short_page() {
    let fake = fake_with_call_pickups(250).await;

    let pickups: Vec<CallPickupListItem> = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .max(100)
        .stream()
        .map(|pickup| pickup.expect("a call pickup"))
        .collect()
        .await;

    assert_eq!(pickups.len(), 250);
    let sent = fake.requests();
    assert_eq!(
        pages(&sent),
        [("0", "100"), ("100", "100"), ("200", "100")].map(|(s, m)| (s.to_string(), m.to_string()))
    );
    assert!(
        sent.iter().all(|r| r.path().contains(LOCATION)),
        "every page keeps the list's own parameters"
    );
}

#[tokio::test]
async fn without_max_pages_hold_100_items() {
    let fake = fake_with_call_pickups(150).await;

    let pickups: Vec<_> = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .stream()
        .collect()
        .await;

    assert_eq!(pickups.len(), 150);
    assert_eq!(
        pages(&fake.requests()),
        [("0", "100"), ("100", "100")].map(|(s, m)| (s.to_string(), m.to_string()))
    );
}

#[tokio::test]
async fn a_page_refused_for_rate_is_waited_for_and_sent_again() {
    let fake = fake_with_hunt_groups(250).await;
    fake.push_fault(Fault::too_many_requests("0").on_operation("listHuntGroups"));

    let groups: Vec<_> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .stream()
        .collect()
        .await;

    assert_eq!(groups.len(), 250);
    assert!(groups.iter().all(Result::is_ok));
    assert_eq!(
        fake.requests().len(),
        4,
        "three pages, the first refused once"
    );
}

#[tokio::test]
async fn every_page_goes_through_the_rate_limiter() {
    let fake = FakeWebex::builder()
        .without_fixtures()
        .rate_limit(RateLimit::per_second(20.0).burst(1).retry_after("1"))
        .start()
        .await
        .unwrap();
    for i in 0..250 {
        fake.add_hunt_group(LOCATION, &format!("group-{i:03}"), json!(null))
            .expect("valid seed");
    }

    let groups: Vec<_> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .stream()
        .collect()
        .await;

    assert_eq!(groups.len(), 250);
    assert!(groups.iter().all(Result::is_ok));
    let stats = fake.rate_limit_stats();
    assert_eq!(stats.accepted, 3, "each page let through once");
    assert_eq!(
        stats.early, 0,
        "no page was sent before a Retry-After had passed"
    );
}

#[tokio::test]
async fn an_error_ends_the_stream_after_it_is_yielded() {
    let fake = fake_with_hunt_groups(250).await;
    let client = fake
        .client_builder()
        .retry(webex_calling::RetryPolicy::none())
        .build()
        .unwrap();
    fake.push_faults([Fault::delay(std::time::Duration::ZERO), Fault::status(500)]);

    let items: Vec<Result<HuntGroupListItem, Error>> =
        client.list_hunt_groups().max(100).stream().collect().await;

    assert_eq!(items.len(), 101);
    assert!(items[..100].iter().all(Result::is_ok));
    assert_eq!(items[100].as_ref().unwrap_err().status(), Some(500));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_stream_owns_its_arguments_and_can_be_spawned() {
    let fake = fake_with_call_pickups(3).await;
    let location = String::from(LOCATION);
    let stream = fake
        .client()
        .list_call_pickups()
        .location_id(&location)
        .stream();
    drop(location);

    let names = tokio::spawn(async move {
        stream
            .map(|pickup| pickup.map(|pickup| pickup.name))
            .collect::<Vec<_>>()
            .await
    })
    .await
    .unwrap();

    assert_eq!(names.len(), 3);
    assert!(names.iter().all(Result::is_ok));
}

#[tokio::test]
async fn a_bad_page_size_is_refused_before_anything_is_sent() {
    let fake = fake_with_call_pickups(3).await;

    let items: Vec<_> = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .max(0)
        .stream()
        .collect()
        .await;

    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert!(error.to_string().contains("max"), "{error}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_list_builders_retry_policy_applies_to_every_page() {
    let fake = fake_with_hunt_groups(250).await;
    // The client retries a 502; the stream's own policy does not.
    fake.push_faults([Fault::delay(std::time::Duration::ZERO), Fault::status(502)]);

    let items: Vec<Result<HuntGroupListItem, Error>> = fake
        .client()
        .list_hunt_groups()
        .max(100)
        .retry(webex_calling::RetryPolicy::none())
        .stream()
        .collect()
        .await;

    assert_eq!(items.len(), 101);
    assert!(items[..100].iter().all(Result::is_ok));
    assert_eq!(items[100].as_ref().unwrap_err().status(), Some(502));
    assert_eq!(fake.requests().len(), 2, "the second page was not retried");
}

#[tokio::test]
async fn a_list_builders_zero_budget_is_refused_before_anything_is_sent() {
    let fake = fake_with_call_pickups(3).await;

    let items: Vec<_> = fake
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .budget(std::time::Duration::ZERO)
        .stream()
        .collect()
        .await;

    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert!(error.to_string().contains("budget"), "{error}");
    assert!(fake.requests().is_empty());
}
