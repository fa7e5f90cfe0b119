//! Bulk updates at a service's rate limit: how close a job gets to the
//! pace the limit allows, how many of its calls fail, and how often the
//! service has to refuse it, in the conditions a real service has: a round
//! trip, a `Retry-After` that is absent, `0`, unreadable or long, a burst of
//! one, a limit that rises or drops, an idle gap, and several clients on
//! one token.
//!
//! Each row sends a scenario's updates to a `webex_calling::fake::FakeWebex`
//! with a [`RateLimit`]. The updates alternate between a hunt group
//! (`enabled` toggled) and a call pickup (`notificationDelayTimerSeconds`
//! changed): none renames, so every update is idempotent and the IDs stay
//! valid. They are sent two ways, each against a fake of its own:
//!
//! - SDK: `webex_calling::Client`s built from `fake.client_builder()` with
//!   every default setting, since the defaults are what a bulk job gets;
//!   where a scenario has several clients on one token, they share one
//!   `RateLimiter` handle (as clients in one process can) or each has its
//!   own (as separate processes do);
//! - plain: `reqwest` PUTs with the same headers and bodies, which wait out
//!   each `429`'s `Retry-After` (delta-seconds above zero; 1 s otherwise)
//!   and send again, and fail on any other error.
//!
//! The floor is the least time the limit allows: the calls past the burst
//! at the rate, or at each rate for its share of the calls when the limit
//! changes. An idle gap is not counted in the time. A side still running
//! at 10 times the floor (and at least 30 s) is stopped, and the calls it
//! had left are reported.
//!
//! Usage: `bulk [--calls N] [--scenario NAME[,NAME]...]
//! [--concurrency N[,N]...] [--sdk-only]`; `--help` lists the scenarios.
//! Build it in release:
//! `cargo run --release -p webex-calling-tests --bin bulk`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use webex_calling::RateLimiter;
use webex_calling::fake::{FakeWebex, RateLimit, RateLimitStats, fixtures};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling_tests::machine;
use webex_calling_tests::redis::RedisServer;

/// A side still running at this many times the floor is stopped.
const BOUND: f64 = 10.0;
/// The least time a side is given, so that short runs are not stopped
/// while they wait out a single `Retry-After`.
const MIN_BOUND: Duration = Duration::from_secs(30);

/// The targets of issue 17 for the SDK side: time ÷ floor where the service
/// says how long to wait, and where it does not or the clients are apart.
const TARGET_RATIO: f64 = 1.25;
const TARGET_RATIO_LOOSE: f64 = 1.4;
const TARGET_THROTTLED_PER_100: f64 = 5.0;
/// With the shared store: the time of the fleet's combined calls, and the
/// last client's finish over the first's.
const TARGET_RATIO_STORE: f64 = 1.2;
const TARGET_SPREAD_STORE: f64 = 1.25;

/// The plain side's settings and headers: those of the SDK's defaults.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 5;
const USER_AGENT: &str = concat!("webex-calling-rust/", env!("CARGO_PKG_VERSION"));
const TRACKING_PREFIX: &str = "webex-calling";
/// How long the plain side waits after a `429` without a usable
/// `Retry-After`.
const PLAIN_DEFAULT_WAIT: Duration = Duration::from_secs(1);
/// A request that reaches a block this long after the `429` that started
/// it, plus the round trip, was sent after the client had been told to
/// wait.
const GRACE: Duration = Duration::from_millis(100);

/// How the clients of a scenario share their limiter.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Clients {
    /// One client.
    One,
    /// This many clients built apart with one `RateLimiter` handle.
    Shared(usize),
    /// This many clients with a limiter each, as separate processes.
    Apart(usize),
    /// This many clients with a limiter each, sharing a store in Redis,
    /// as separate processes with the feature `redis`.
    Store(usize),
}

impl Clients {
    fn count(self) -> usize {
        match self {
            Clients::One => 1,
            Clients::Shared(n) | Clients::Apart(n) | Clients::Store(n) => n,
        }
    }
}

/// One rate limit and job to run.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scenario {
    name: &'static str,
    description: &'static str,
    rate: f64,
    burst: u32,
    /// `None`: the `429`s carry no `Retry-After`.
    retry_after: Option<&'static str>,
    /// How long a block lasts when `Retry-After` does not say it right.
    block: Option<Duration>,
    latency: Duration,
    calls: usize,
    /// Workers per client.
    concurrency: usize,
    /// The rate set once this many calls have finished.
    change: Option<(usize, f64)>,
    /// A pause with nothing sent once half the calls have finished.
    idle: Option<Duration>,
    clients: Clients,
    /// Whether the service gives no usable `Retry-After`, or the clients
    /// are apart: the looser time target applies.
    loose: bool,
}

const BASE: Scenario = Scenario {
    name: "",
    description: "",
    rate: 50.0,
    burst: 10,
    retry_after: Some("1"),
    block: None,
    latency: Duration::ZERO,
    calls: 1000,
    concurrency: 32,
    change: None,
    idle: None,
    clients: Clients::One,
    loose: false,
};

const SCENARIOS: [Scenario; 14] = [
    Scenario {
        name: "latency",
        description: "50/s, burst 10, Retry-After 1, 100 ms round trip",
        latency: Duration::from_millis(100),
        calls: 600,
        ..BASE
    },
    Scenario {
        name: "retry-after-0",
        description: "30/s, burst 6, Retry-After 0 (the block lasts 1 s)",
        rate: 30.0,
        burst: 6,
        retry_after: Some("0"),
        block: Some(Duration::from_secs(1)),
        calls: 600,
        loose: true,
        ..BASE
    },
    Scenario {
        name: "no-retry-after",
        description: "30/s, burst 6, no Retry-After (the block lasts 1 s)",
        rate: 30.0,
        burst: 6,
        retry_after: None,
        calls: 600,
        loose: true,
        ..BASE
    },
    Scenario {
        name: "odd-retry-after",
        description: "30/s, burst 6, Retry-After rand(30),add(30) (the block lasts 1 s)",
        rate: 30.0,
        burst: 6,
        retry_after: Some("rand(30),add(30)"),
        calls: 600,
        loose: true,
        ..BASE
    },
    Scenario {
        name: "burst-1",
        description: "5/s, burst 1, Retry-After 1",
        rate: 5.0,
        burst: 1,
        calls: 100,
        concurrency: 8,
        ..BASE
    },
    Scenario {
        name: "long-retry-after",
        description: "20/s, burst 5, Retry-After 10",
        rate: 20.0,
        burst: 5,
        retry_after: Some("10"),
        calls: 805,
        ..BASE
    },
    Scenario {
        name: "rise",
        description: "20/s rising to 50/s after 300 calls, burst 5, Retry-After 1",
        rate: 20.0,
        burst: 5,
        calls: 800,
        change: Some((300, 50.0)),
        ..BASE
    },
    Scenario {
        name: "drop",
        description: "50/s dropping to 25/s after 500 calls, burst 10, Retry-After 1",
        change: Some((500, 25.0)),
        ..BASE
    },
    Scenario {
        name: "idle-gap",
        description: "30/s, burst 6, Retry-After 1, a 20 s idle gap mid-job (not counted)",
        rate: 30.0,
        burst: 6,
        calls: 300,
        idle: Some(Duration::from_secs(20)),
        ..BASE
    },
    Scenario {
        name: "steady",
        description: "50/s, burst 10, Retry-After 1",
        ..BASE
    },
    Scenario {
        name: "two-shared",
        description: "50/s, burst 10, Retry-After 1, two clients sharing one RateLimiter",
        concurrency: 16,
        clients: Clients::Shared(2),
        ..BASE
    },
    Scenario {
        name: "two-apart",
        description: "50/s, burst 10, Retry-After 1, two clients apart (two processes)",
        concurrency: 16,
        clients: Clients::Apart(2),
        loose: true,
        ..BASE
    },
    Scenario {
        name: "four-apart",
        description: "50/s, burst 10, Retry-After 1, four clients apart (four processes, no store)",
        concurrency: 8,
        clients: Clients::Apart(4),
        loose: true,
        ..BASE
    },
    Scenario {
        name: "four-redis",
        description: "50/s, burst 10, Retry-After 1, four clients apart sharing a store in Redis",
        concurrency: 8,
        clients: Clients::Store(4),
        ..BASE
    },
];

impl Scenario {
    /// The least time `calls` calls can take under this limit, in seconds.
    fn floor(&self, calls: usize) -> f64 {
        let calls = calls as f64;
        let burst = f64::from(self.burst);
        match self.change {
            None => (calls - burst) / self.rate,
            Some((after, to)) => {
                let after = (after as f64).min(calls);
                (after - burst) / self.rate + (calls - after) / to
            }
        }
    }

    fn rate_limit(&self) -> RateLimit {
        let limit = RateLimit::per_second(self.rate)
            .burst(self.burst)
            .latency(self.latency)
            .grace(GRACE + self.latency);
        let limit = match self.retry_after {
            Some(value) => limit.retry_after(value),
            None => limit.without_retry_after(),
        };
        match self.block {
            Some(length) => limit.block(length),
            None => limit,
        }
    }

    fn target(&self) -> f64 {
        if matches!(self.clients, Clients::Store(_)) {
            TARGET_RATIO_STORE
        } else if self.loose {
            TARGET_RATIO_LOOSE
        } else {
            TARGET_RATIO
        }
    }

    /// Whether a request sent into a block counts against the SDK: only
    /// when the service said how long to wait.
    fn says_how_long(&self) -> bool {
        self.block.is_none()
            && self
                .retry_after
                .is_some_and(|value| value.trim().parse::<u64>().is_ok_and(|s| s > 0))
    }
}

#[derive(Debug, PartialEq)]
struct Settings {
    /// Overrides each scenario's number of calls.
    calls: Option<usize>,
    scenarios: Vec<Scenario>,
    /// Overrides each scenario's concurrency per client.
    concurrencies: Option<Vec<usize>>,
    /// Whether the plain client's rows run too (`--sdk-only`: not).
    plain: bool,
}

fn usage() -> String {
    let mut text = String::from(
        "usage: bulk [--calls N] [--scenario NAME[,NAME]...] [--concurrency N[,N]...] [--sdk-only]\nscenarios (every one by default, each with its own calls and concurrency):\n",
    );
    for scenario in SCENARIOS {
        let _ = writeln!(
            text,
            "  {:<18} {} ({} calls, concurrency {})",
            scenario.name, scenario.description, scenario.calls, scenario.concurrency
        );
    }
    text
}

fn parse_args(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings {
        calls: None,
        scenarios: SCENARIOS.to_vec(),
        concurrencies: None,
        plain: true,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .map(String::as_str)
                .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))
        };
        match flag.as_str() {
            "--calls" => {
                settings.calls = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--calls: {e}\n{}", usage()))?,
                );
            }
            "--scenario" => {
                settings.scenarios = value()?
                    .split(',')
                    .map(|name| {
                        SCENARIOS
                            .iter()
                            .find(|s| s.name == name.trim())
                            .copied()
                            .ok_or_else(|| format!("no scenario {name:?}\n{}", usage()))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--concurrency" => {
                settings.concurrencies = Some(
                    value()?
                        .split(',')
                        .map(|n| match n.trim().parse::<usize>() {
                            Ok(n) if n > 0 => Ok(n),
                            _ => Err(format!(
                                "--concurrency: {n:?} is not a positive number\n{}",
                                usage()
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                );
            }
            "--sdk-only" => settings.plain = false,
            "--help" | "-h" => return Err(usage()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    for scenario in &settings.scenarios {
        let calls = settings.calls.unwrap_or(scenario.calls);
        let least = 2 * scenario.burst as usize + 2;
        if scenario.floor(calls) <= 0.0 || calls < least {
            return Err(format!(
                "--calls {calls} leaves nothing past the burst of {}: use at least {least}",
                scenario.name
            ));
        }
    }
    Ok(settings)
}

/// The rows to run: each scenario with its calls, at each concurrency.
fn cells(settings: &Settings) -> Vec<Scenario> {
    settings
        .scenarios
        .iter()
        .flat_map(|scenario| {
            let concurrencies = settings
                .concurrencies
                .clone()
                .unwrap_or_else(|| vec![scenario.concurrency]);
            concurrencies.into_iter().map(move |concurrency| Scenario {
                calls: settings.calls.unwrap_or(scenario.calls),
                concurrency,
                ..*scenario
            })
        })
        .collect()
}

// ---------------------------------------------------------------- calls

/// The `i`th update of the job: neither renames, so both are idempotent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Update {
    HuntGroup { enabled: bool },
    CallPickup { delay_seconds: i32 },
}

fn update(i: usize) -> Update {
    if i.is_multiple_of(2) {
        Update::HuntGroup {
            enabled: i.is_multiple_of(4),
        }
    } else {
        Update::CallPickup {
            delay_seconds: i32::try_from(i % 30).unwrap_or(6),
        }
    }
}

fn hunt_group_body(enabled: bool) -> UpdateHuntGroupRequest {
    UpdateHuntGroupRequest::new().enabled(enabled)
}

fn call_pickup_body(delay_seconds: i32) -> UpdateCallPickupRequest {
    UpdateCallPickupRequest::new().notification_delay_timer_seconds(delay_seconds)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Sdk,
    Plain,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Sdk => "SDK",
            Side::Plain => "plain",
        }
    }
}

enum Caller {
    Sdk(webex_calling::Client),
    Plain(Plain),
}

impl Caller {
    async fn call(&self, i: usize) -> Result<(), String> {
        match self {
            Caller::Sdk(client) => sdk_call(client, i).await,
            Caller::Plain(plain) => plain.call(i).await,
        }
    }
}

/// The call as an SDK user writes it.
async fn sdk_call(client: &webex_calling::Client, i: usize) -> Result<(), String> {
    match update(i) {
        Update::HuntGroup { enabled } => client
            .update_hunt_group()
            .location_id(fixtures::LOCATION_ID)
            .hunt_group_id(fixtures::HUNT_GROUP_ID)
            .body(hunt_group_body(enabled))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Update::CallPickup { delay_seconds } => client
            .update_call_pickup()
            .location_id(fixtures::LOCATION_ID)
            .call_pickup_id(fixtures::CALL_PICKUP_ID)
            .body(call_pickup_body(delay_seconds))
            .send()
            .await
            .map(|updated| {
                std::hint::black_box(updated.id);
            })
            .map_err(|e| e.to_string()),
    }
}

/// A hand-written client: the SDK's headers and reqwest settings, and the
/// simplest honest handling of a rate limit.
struct Plain {
    http: reqwest::Client,
    base_url: String,
    auth: HeaderValue,
    seed: u64,
    calls: AtomicU64,
}

/// What the plain side decodes from a call pickup's answer.
#[derive(serde::Deserialize)]
struct PickupAnswer {
    id: String,
}

impl Plain {
    fn new(fake: &FakeWebex) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|e| e.to_string())?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", fake.token()))
            .map_err(|e| e.to_string())?;
        auth.set_sensitive(true);
        Ok(Self {
            http,
            base_url: fake.base_url().to_string(),
            auth,
            seed: std::hash::BuildHasher::hash_one(
                &std::collections::hash_map::RandomState::new(),
                0u64,
            ),
            calls: AtomicU64::new(0),
        })
    }

    /// One update: sent again after each `429`, once its `Retry-After`
    /// has passed; any other failure fails the call.
    async fn call(&self, i: usize) -> Result<(), String> {
        let location = fixtures::LOCATION_ID;
        let (url, body, success) = match update(i) {
            Update::HuntGroup { enabled } => (
                format!(
                    "{}/telephony/config/locations/{location}/huntGroups/{}",
                    self.base_url,
                    fixtures::HUNT_GROUP_ID
                ),
                serde_json::to_vec(&hunt_group_body(enabled)).map_err(|e| e.to_string())?,
                StatusCode::NO_CONTENT,
            ),
            Update::CallPickup { delay_seconds } => (
                format!(
                    "{}/telephony/config/locations/{location}/callPickups/{}",
                    self.base_url,
                    fixtures::CALL_PICKUP_ID
                ),
                serde_json::to_vec(&call_pickup_body(delay_seconds)).map_err(|e| e.to_string())?,
                StatusCode::OK,
            ),
        };
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let tracking_id =
            HeaderValue::from_str(&format!("{TRACKING_PREFIX}_{:016x}-{call:x}", self.seed))
                .map_err(|e| e.to_string())?;
        loop {
            let response = self
                .http
                .put(url.as_str())
                .header(header::AUTHORIZATION, self.auth.clone())
                .header(header::USER_AGENT, HeaderValue::from_static(USER_AGENT))
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .header(header::ACCEPT, HeaderValue::from_static("application/json"))
                .header("TrackingID", tracking_id.clone())
                .timeout(TIMEOUT)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .filter(|seconds| *seconds > 0)
                    .map_or(PLAIN_DEFAULT_WAIT, Duration::from_secs);
                // Read to the end so that the connection can be reused.
                let _ = response.bytes().await;
                tokio::time::sleep(wait).await;
                continue;
            }
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            if status != success {
                return Err(format!("unexpected status {status}"));
            }
            if success == StatusCode::OK {
                let answer: PickupAnswer =
                    serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                std::hint::black_box(answer.id);
            }
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------- runs

/// What one side of one row did.
#[derive(Debug, Default)]
struct Outcome {
    /// The job's time, an idle gap left out.
    elapsed: Duration,
    succeeded: usize,
    failed: usize,
    /// Calls not finished when the side was stopped at its bound.
    left: usize,
    stats: RateLimitStats,
    /// The latency of every finished call, failed ones included.
    latencies: Vec<Duration>,
    first_error: Option<String>,
    /// When each client finished its share, from the start.
    finishes: Vec<Duration>,
}

impl Outcome {
    fn finished(&self) -> usize {
        self.succeeded + self.failed
    }

    fn throttled_per_100(&self) -> f64 {
        if self.stats.accepted == 0 {
            return 0.0;
        }
        self.stats.throttled as f64 * 100.0 / self.stats.accepted as f64
    }

    fn p99(&self) -> Option<Duration> {
        percentile(&self.latencies, 0.99)
    }

    /// The last client's finish over the first's.
    fn spread(&self) -> Option<f64> {
        let first = self.finishes.iter().min()?;
        let last = self.finishes.iter().max()?;
        (self.finishes.len() > 1 && !first.is_zero())
            .then(|| last.as_secs_f64() / first.as_secs_f64())
    }
}

/// The nearest-rank percentile `q` of `values`.
fn percentile(values: &[Duration], q: f64) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

/// What one worker did.
#[derive(Default)]
struct Tally {
    succeeded: usize,
    failed: usize,
    latencies: Vec<Duration>,
    first_error: Option<String>,
    /// When its last call ended.
    ended: Option<Instant>,
}

/// The callers of one side: a client each, built as the scenario says,
/// with `redis` the store's URL where they share one.
fn callers(
    side: Side,
    scenario: &Scenario,
    fake: &FakeWebex,
    redis: Option<&str>,
) -> Result<Vec<Arc<Caller>>, String> {
    let shared = RateLimiter::adaptive();
    // A key of this run's own, so that rows do not share a pace.
    let key = format!("bulk:{}:{:?}", scenario.name, Instant::now());
    (0..scenario.clients.count())
        .map(|_| {
            Ok(Arc::new(match side {
                // Every default setting but the fake's URL and token, and
                // the limiter handle where clients share one.
                Side::Sdk => {
                    let builder = fake.client_builder();
                    let builder = match (scenario.clients, redis) {
                        (Clients::Shared(_), _) => builder.rate_limiter(shared.clone()),
                        (Clients::Store(_), Some(url)) => {
                            builder.rate_limiter(RateLimiter::redis(url, &key))
                        }
                        _ => builder,
                    };
                    Caller::Sdk(builder.build().map_err(|e| e.to_string())?)
                }
                Side::Plain => Caller::Plain(Plain::new(fake)?),
            }))
        })
        .collect()
}

/// One side's job against a fake of its own with the scenario's limit:
/// each client sends its share of the calls (every n-th),
/// `scenario.concurrency` at a time.
async fn run_side(side: Side, scenario: Scenario) -> Result<Outcome, String> {
    let fake = Arc::new(
        FakeWebex::builder()
            .rate_limit(scenario.rate_limit())
            .start()
            .await
            .map_err(|e| format!("the fake did not start: {e}"))?,
    );
    // The store's own server, for this side alone.
    let redis = matches!(scenario.clients, Clients::Store(_)).then(RedisServer::start);
    let callers = callers(
        side,
        &scenario,
        &fake,
        redis.as_ref().map(|r| r.url()).as_deref(),
    )?;
    let calls = scenario.calls;
    let idle = scenario.idle.unwrap_or(Duration::ZERO);
    let bound = Duration::from_secs_f64(scenario.floor(calls) * BOUND).max(MIN_BOUND) + idle;
    // With an idle gap, the job runs in two halves with the pause between.
    let stages = if scenario.idle.is_some() {
        vec![(0, calls / 2), (calls / 2, calls)]
    } else {
        vec![(0, calls)]
    };
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + bound;
    // `BULK_TRACE=1`: every client's pace and the calls done, twice a
    // second, on stderr.
    let trace = std::env::var_os("BULK_TRACE").map(|_| {
        let (callers, finished, fake) = (callers.clone(), Arc::clone(&finished), Arc::clone(&fake));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let paces: Vec<String> = callers
                    .iter()
                    .map(|caller| match &**caller {
                        Caller::Sdk(client) => {
                            format!("{:6.1}/s", client.paced_rate().unwrap_or(0.0))
                        }
                        Caller::Plain(_) => "-".to_string(),
                    })
                    .collect();
                let stats = fake.rate_limit_stats();
                eprintln!(
                    "    {:7.3}s {} done {} accepted {} refused {} blocks {}",
                    started.elapsed().as_secs_f64(),
                    paces.join(" "),
                    finished.load(Ordering::Relaxed),
                    stats.accepted,
                    stats.throttled,
                    stats.blocks,
                );
            }
        })
    });
    let mut outcome = Outcome::default();
    let mut ends = vec![None::<Instant>; callers.len()];
    for (stage, (start, end)) in stages.into_iter().enumerate() {
        if stage > 0 {
            tokio::time::sleep(idle).await;
        }
        let mut workers = Vec::new();
        for (client, caller) in callers.iter().enumerate() {
            // This client's share of the stage: every n-th call.
            let next = Arc::new(AtomicUsize::new(start + client));
            for _ in 0..scenario.concurrency {
                let (fake, caller, next, finished) = (
                    Arc::clone(&fake),
                    Arc::clone(caller),
                    Arc::clone(&next),
                    Arc::clone(&finished),
                );
                let step = callers.len();
                workers.push((
                    client,
                    tokio::spawn(async move {
                        let mut tally = Tally::default();
                        loop {
                            let i = next.fetch_add(step, Ordering::Relaxed);
                            if i >= end {
                                break;
                            }
                            let call_started = Instant::now();
                            let Ok(result) =
                                tokio::time::timeout_at(deadline, caller.call(i)).await
                            else {
                                break;
                            };
                            tally.latencies.push(call_started.elapsed());
                            tally.ended = Some(Instant::now());
                            match result {
                                Ok(()) => tally.succeeded += 1,
                                Err(e) => {
                                    tally.failed += 1;
                                    tally.first_error.get_or_insert(e);
                                }
                            }
                            let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                            if let Some((after, to)) = scenario.change
                                && done == after
                            {
                                fake.set_rate(to);
                            }
                        }
                        tally
                    }),
                ));
            }
        }
        for (client, worker) in workers {
            let tally = worker.await.map_err(|e| format!("a worker failed: {e}"))?;
            outcome.succeeded += tally.succeeded;
            outcome.failed += tally.failed;
            outcome.latencies.extend(tally.latencies);
            if outcome.first_error.is_none() {
                outcome.first_error = tally.first_error;
            }
            ends[client] = ends[client].max(tally.ended);
        }
    }
    if let Some(trace) = trace {
        trace.abort();
    }
    // The job's time leaves the idle gap out.
    let job = |end: Option<Instant>| {
        end.map(|end| end.saturating_duration_since(started).saturating_sub(idle))
    };
    outcome.elapsed = job(Some(Instant::now())).unwrap_or_default();
    outcome.finishes = ends.into_iter().filter_map(job).collect();
    outcome.left = calls - outcome.finished();
    outcome.stats = fake.rate_limit_stats();
    Ok(outcome)
}

/// One scenario at one concurrency, both sides.
struct Row {
    scenario: Scenario,
    floor: f64,
    sdk: Outcome,
    /// `None` with `--sdk-only`.
    plain: Option<Outcome>,
}

fn report_side(side: Side, scenario: &Scenario, outcome: &Outcome, started: Instant) {
    eprintln!(
        "  {} at concurrency {}, {}: {:.1} s (floor {:.1} s; {:.0} s so far)",
        scenario.name,
        scenario.concurrency,
        side.name(),
        outcome.elapsed.as_secs_f64(),
        scenario.floor(scenario.calls),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------- output

fn ratio_cell(outcome: &Outcome, floor: f64) -> String {
    let ratio = outcome.elapsed.as_secs_f64() / floor;
    if outcome.left > 0 {
        format!("stopped at {ratio:.2}, {} calls left", outcome.left)
    } else {
        format!("{ratio:.2}")
    }
}

fn latency_cell(latency: Option<Duration>) -> String {
    match latency {
        None => "-".into(),
        Some(d) if d < Duration::from_secs(1) => format!("{:.0} ms", d.as_secs_f64() * 1000.0),
        Some(d) => format!("{:.2} s", d.as_secs_f64()),
    }
}

fn spread_cell(outcome: &Outcome) -> String {
    outcome
        .spread()
        .map_or_else(|| "–".to_string(), |spread| format!("{spread:.2}"))
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | calls | concurrency | floor | time ÷ floor (SDK / plain) | failed calls (SDK / plain) | 429s per 100 accepted (SDK / plain) | sent into a block (SDK / plain) | last client ÷ first (SDK / plain) | p99 latency (SDK / plain) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---|---|---|---|---|");
    for row in rows {
        // The plain client's cell, or a dash when it was not run.
        let plain = |cell: &dyn Fn(&Outcome) -> String| {
            row.plain.as_ref().map_or_else(|| "–".to_string(), cell)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} s | {} / {} | {} / {} | {:.1} / {} | {} / {} | {} / {} | {} / {} |",
            row.scenario.description,
            row.scenario.calls,
            row.scenario.concurrency,
            row.floor,
            ratio_cell(&row.sdk, row.floor),
            plain(&|o| ratio_cell(o, row.floor)),
            row.sdk.failed,
            plain(&|o| o.failed.to_string()),
            row.sdk.throttled_per_100(),
            plain(&|o| format!("{:.1}", o.throttled_per_100())),
            row.sdk.stats.early,
            plain(&|o| o.stats.early.to_string()),
            spread_cell(&row.sdk),
            plain(&spread_cell),
            latency_cell(row.sdk.p99()),
            plain(&|o| latency_cell(o.p99())),
        );
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The SDK side of each row against the targets.
fn verdicts(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let sdk = &row.sdk;
        let scenario = &row.scenario;
        let ratio = sdk.elapsed.as_secs_f64() / row.floor;
        let per_100 = sdk.throttled_per_100();
        let time_met = sdk.left == 0
            && ratio <= scenario.target()
            && (!matches!(scenario.clients, Clients::Store(_))
                || sdk
                    .spread()
                    .is_some_and(|spread| spread <= TARGET_SPREAD_STORE));
        // Requests sent into a block count only where the service said
        // how long it lasts.
        let early_met = !scenario.says_how_long() || sdk.stats.early == 0;
        let all_met =
            time_met && sdk.failed == 0 && per_100 <= TARGET_THROTTLED_PER_100 && early_met;
        let _ = writeln!(
            out,
            "{}, concurrency {}: {} (time ÷ floor {ratio:.2} ≤ {} {}{}, failed {} {}, 429s per 100 accepted {per_100:.1} {}, sent into a block {} {})",
            scenario.description,
            scenario.concurrency,
            if all_met { "PASS" } else { "FAIL" },
            scenario.target(),
            verdict(time_met),
            if sdk.left > 0 {
                format!(", stopped with {} calls left", sdk.left)
            } else {
                String::new()
            },
            sdk.failed,
            verdict(sdk.failed == 0),
            verdict(per_100 <= TARGET_THROTTLED_PER_100),
            sdk.stats.early,
            if scenario.says_how_long() {
                verdict(early_met)
            } else {
                "not judged: no usable Retry-After"
            },
        );
    }
    out
}

/// The first error of each side that had failures, to say why.
fn errors(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let sides = [
            (Side::Sdk, Some(&row.sdk)),
            (Side::Plain, row.plain.as_ref()),
        ];
        for (side, outcome) in sides
            .into_iter()
            .filter_map(|(side, outcome)| Some((side, outcome?)))
        {
            if let Some(error) = &outcome.first_error {
                let _ = writeln!(
                    out,
                    "{}, concurrency {}, {}: {} failed; the first: {error}",
                    row.scenario.description,
                    row.scenario.concurrency,
                    side.name(),
                    outcome.failed
                );
            }
        }
    }
    out
}

/// The current UTC time, to the minute.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let rest = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(0),
        u32::try_from(day).unwrap_or(0),
    )
}

// ---------------------------------------------------------------- main

fn benchmark(settings: &Settings) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    println!(
        "bulk updates at a rate limit: webex_calling::Clients with every default setting vs plain reqwest retrying after Retry-After"
    );
    println!("date: {}", utc_now());
    println!("machine: {}", machine());
    println!(
        "each row: its calls, alternately a hunt group and a call pickup update, each side against a fake Webex of its own; the SDK's rows one at a time, then the plain client's all together"
    );
    println!(
        "floor = (calls − burst) / rate, each rate for its share when the limit changes; an idle gap is not counted in the time"
    );
    println!(
        "a side still running at {BOUND:.0} × its floor (at least {} s) is stopped; its time says how many calls it had left",
        MIN_BOUND.as_secs()
    );
    println!(
        "429s per 100 accepted = the fake's 429s per 100 requests it let through; sent into a block = requests that reached a block more than {} ms plus the round trip after the 429 that started it; last client ÷ first = when the last client finished its share over when the first did; latency counts each finished call, waits and retries included",
        GRACE.as_millis()
    );
    let started = Instant::now();
    let cells = cells(settings);
    let rows = runtime.block_on(async {
        // The SDK's pace is what is measured: its rows run one at a time,
        // alone on the machine.
        let mut sdk = Vec::with_capacity(cells.len());
        for scenario in &cells {
            let outcome = run_side(Side::Sdk, *scenario).await?;
            report_side(Side::Sdk, scenario, &outcome, started);
            sdk.push(outcome);
        }
        // The plain client loses a whole Retry-After per refusal and takes
        // many times as long: its rows run together, afterwards.
        let mut plain = Vec::with_capacity(cells.len());
        if settings.plain {
            let tasks: Vec<_> = cells
                .iter()
                .map(|&scenario| tokio::spawn(run_side(Side::Plain, scenario)))
                .collect();
            for (task, scenario) in tasks.into_iter().zip(&cells) {
                let outcome = task.await.map_err(|e| format!("a row failed: {e}"))??;
                report_side(Side::Plain, scenario, &outcome, started);
                plain.push(outcome);
            }
        }
        let mut plain = plain.into_iter();
        Ok::<_, String>(
            cells
                .iter()
                .zip(sdk)
                .map(|(scenario, sdk)| Row {
                    scenario: *scenario,
                    floor: scenario.floor(scenario.calls),
                    sdk,
                    plain: plain.next(),
                })
                .collect::<Vec<_>>(),
        )
    })?;
    println!();
    print!("{}", table(&rows));
    println!();
    println!(
        "targets for the SDK: time ≤ {TARGET_RATIO} × floor (≤ {TARGET_RATIO_LOOSE} without a usable Retry-After and for clients apart; ≤ {TARGET_RATIO_STORE} with the shared store, the last client done within {TARGET_SPREAD_STORE} × the first), 0 failed calls, ≤ {TARGET_THROTTLED_PER_100:.0} 429s per 100 accepted, none sent into a block the service said the length of"
    );
    print!("{}", verdicts(&rows));
    let errors = errors(&rows);
    if !errors.is_empty() {
        println!();
        print!("{errors}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args).and_then(|settings| benchmark(&settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bulk: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn scenario(name: &str) -> Scenario {
        *SCENARIOS.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn the_floors_are_the_least_time_each_limit_allows() {
        assert!((scenario("latency").floor(600) - 11.8).abs() < 1e-9);
        assert!((scenario("no-retry-after").floor(600) - 19.8).abs() < 1e-9);
        assert!((scenario("burst-1").floor(100) - 19.8).abs() < 1e-9);
        // 295 calls past the burst at 20/s, then 500 at 50/s.
        assert!((scenario("rise").floor(800) - 24.75).abs() < 1e-9);
        assert!((scenario("drop").floor(1000) - 29.8).abs() < 1e-9);
    }

    #[test]
    fn the_defaults_are_every_scenario_with_its_own_calls_and_concurrency() {
        let settings = parse_args(&[]).expect("defaults");
        let cells = cells(&settings);
        assert_eq!(cells, SCENARIOS);
        let names: std::collections::HashSet<_> = SCENARIOS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SCENARIOS.len());
    }

    #[test]
    fn flags_choose_calls_scenarios_and_concurrencies() {
        let settings = parse_args(&args("--calls 200 --scenario rise,drop --concurrency 8,64"))
            .expect("settings");
        let cells = cells(&settings);
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|s| s.calls == 200));
        assert_eq!(
            cells
                .iter()
                .map(|s| (s.name, s.concurrency))
                .collect::<Vec<_>>(),
            [("rise", 8), ("rise", 64), ("drop", 8), ("drop", 64)]
        );
    }

    #[test]
    fn unknown_scenarios_zero_concurrency_and_too_few_calls_are_refused() {
        assert!(parse_args(&args("--scenario steady-10")).is_err());
        assert!(parse_args(&args("--concurrency 0")).is_err());
        assert!(parse_args(&args("--calls 20")).is_err());
        assert!(parse_args(&args("--calls")).is_err());
    }

    #[test]
    fn only_a_retry_after_of_whole_seconds_above_zero_says_how_long_to_wait() {
        assert!(scenario("latency").says_how_long());
        for name in ["retry-after-0", "no-retry-after", "odd-retry-after"] {
            assert!(!scenario(name).says_how_long(), "{name}");
            assert!((scenario(name).target() - TARGET_RATIO_LOOSE).abs() < 1e-9);
        }
    }

    #[test]
    fn the_p99_is_the_nearest_rank() {
        let values: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.99), Some(Duration::from_millis(198)));
        assert_eq!(percentile(&[], 0.99), None);
    }

    #[test]
    fn days_since_1970_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
    }

    #[test]
    fn the_spread_is_the_last_finish_over_the_first() {
        let outcome = Outcome {
            finishes: vec![Duration::from_secs(10), Duration::from_secs(12)],
            ..Outcome::default()
        };
        assert_eq!(outcome.spread(), Some(1.2));
        let alone = Outcome {
            finishes: vec![Duration::from_secs(10)],
            ..Outcome::default()
        };
        assert_eq!(alone.spread(), None);
    }

    #[test]
    fn a_stopped_side_is_marked_with_the_calls_it_had_left() {
        let stopped = Outcome {
            elapsed: Duration::from_secs(100),
            succeeded: 600,
            left: 400,
            ..Outcome::default()
        };
        assert_eq!(
            ratio_cell(&stopped, 10.0),
            "stopped at 10.00, 400 calls left"
        );
        let done = Outcome {
            elapsed: Duration::from_secs(12),
            succeeded: 1000,
            ..Outcome::default()
        };
        assert_eq!(ratio_cell(&done, 10.0), "1.20");
    }
}
