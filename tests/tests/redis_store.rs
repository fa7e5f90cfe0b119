//! The rate limiter's shared store in Redis, against a real `redis-server`:
//! limiters that share a key pace as one, across what would be processes.

use webex_calling::fake::{FakeWebex, RateLimit};
use webex_calling::{Client, Error, RateLimiter};
use webex_calling_tests::redis::RedisServer;

/// `calls` hunt group updates through `client`, `concurrency` at a time;
/// the failures.
async fn job(client: Client, calls: usize, concurrency: usize) -> Vec<Error> {
    webex_calling_tests::bulk(&client, calls, concurrency, |client, _| async move {
        webex_calling_tests::update_hunt_group(&client).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiters_sharing_a_redis_key_pace_as_one_and_wait_out_each_others_retry_after() {
    let redis = RedisServer::start();
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(100.0).burst(10).retry_after("1"))
        .start()
        .await
        .expect("the fake");
    // Two limiters made apart, as in two processes, on one key.
    let clients: Vec<Client> = (0..2)
        .map(|_| {
            fake.client_builder()
                .rate_limiter(RateLimiter::redis(&redis.url(), "webex:test-token"))
                .build()
                .expect("a client")
        })
        .collect();

    let jobs: Vec<_> = clients
        .iter()
        .map(|client| tokio::spawn(job(client.clone(), 150, 16)))
        .collect();
    for handle in jobs {
        let failures = handle.await.expect("a job");
        assert!(
            failures.is_empty(),
            "{} failed: {}",
            failures.len(),
            failures[0]
        );
    }

    let stats = fake.rate_limit_stats();
    assert_eq!(stats.accepted, 300, "{stats:?}");
    assert!(stats.blocks >= 1, "the job never met the limit: {stats:?}");
    // Neither sent into a block the other had been told of.
    assert_eq!(stats.early, 0, "{stats:?}");
    // Both learnt the one pace from the store.
    let rates: Vec<Option<f64>> = clients.iter().map(Client::paced_rate).collect();
    assert!(rates.iter().all(Option::is_some), "{rates:?}");
}

#[tokio::test]
async fn an_unusable_redis_url_is_refused_at_build_naming_the_setting() {
    for url in [
        "rediss://127.0.0.1:6379",
        "redis://user:secret@127.0.0.1",
        "127.0.0.1:6379",
    ] {
        let error = Client::builder()
            .token("a-webex-access-token")
            .base_url("http://127.0.0.1:9/v1")
            .rate_limiter(RateLimiter::redis(url, "webex:key"))
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{url}: {error:?}");
        assert!(error.to_string().contains("rate_limiter"), "{url}: {error}");
    }
}

#[tokio::test]
async fn without_redis_a_client_paces_alone_and_its_calls_still_land() {
    let fake = FakeWebex::builder()
        .rate_limit(RateLimit::per_second(200.0).burst(5).retry_after("1"))
        .start()
        .await
        .expect("the fake");
    // Nothing listens on this port.
    let client = fake
        .client_builder()
        .rate_limiter(RateLimiter::redis("redis://127.0.0.1:9", "webex:key"))
        .build()
        .expect("a client");

    let failures = job(client, 40, 4).await;

    assert!(
        failures.is_empty(),
        "{} failed: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(fake.rate_limit_stats().accepted, 40);
}
