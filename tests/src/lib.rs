//! Shared pieces of the tests and benchmarks: the spec's examples, the
//! machine's description.

use serde_json::Value;

pub mod logs;
pub mod redis;
pub mod scripted;
pub mod sync;

/// The spec, parsed from `spec/webex-calling.yaml`.
pub fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/webex-calling.yaml");
    let text = std::fs::read_to_string(path).expect("spec/webex-calling.yaml is readable");
    serde_yaml::from_str(&text).expect("the spec is YAML")
}

/// The request example of the operation `operation_id`.
pub fn request_example(operation_id: &str) -> Value {
    let spec = spec();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("path item").values() {
            if operation["operationId"] == operation_id {
                return operation["requestBody"]["content"]["application/json"]["example"].clone();
            }
        }
    }
    panic!("no operation {operation_id} in the spec")
}

/// The example of the `200` answer of the operation `operation_id`.
pub fn response_example(operation_id: &str) -> Value {
    let spec = spec();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("path item").values() {
            if operation["operationId"] == operation_id {
                return operation["responses"]["200"]["content"]["application/json"]["example"]
                    .clone();
            }
        }
    }
    panic!("no operation {operation_id} in the spec")
}

/// A client whose base URL is a closed port on loopback: a request that was
/// sent would fail to connect, so a refusal proves nothing left.
pub fn unreachable_client() -> webex_calling::Client {
    webex_calling::Client::builder()
        .token("test-token")
        .base_url("http://127.0.0.1:9")
        .retry(webex_calling::RetryPolicy::none())
        .build()
        .expect("client")
}

/// Updates the fake's hunt group (`fixtures`), enabling it: the call most
/// tests make when what they check is not the call itself.
pub async fn update_hunt_group(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {
    use webex_calling::fake::fixtures;
    client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(webex_calling::types::UpdateHuntGroupRequest::new().enabled(true))
        .send()
        .await
}

/// A bulk job: `calls` calls of `call` (given the client and the call's
/// number), `concurrency` at a time through clones of `client`; the errors
/// of those that failed.
pub async fn bulk<F, Fut>(
    client: &webex_calling::Client,
    calls: usize,
    concurrency: usize,
    call: F,
) -> Vec<webex_calling::Error>
where
    F: Fn(webex_calling::Client, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), webex_calling::Error>> + Send,
{
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, call) = (client.clone(), std::sync::Arc::clone(&next), call.clone());
        workers.spawn(async move {
            let mut failures = Vec::new();
            loop {
                let number = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if number >= calls {
                    return failures;
                }
                if let Err(error) = call(client.clone(), number).await {
                    failures.push(error);
                }
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(worker) = workers.join_next().await {
        failures.extend(worker.expect("a worker of the bulk job"));
    }
    failures
}

/// The machine a benchmark ran on, for its report: the number of cores and
/// the CPU's model name.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}
