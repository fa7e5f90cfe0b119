//! Bulk updates at a service's rate limit: how close a job gets to the
//! pace the limit allows, how many of its calls fail, and how often the
//! service has to refuse it.
//!
//! Each row sends `--calls` updates, `concurrency` at a time, to a
//! `webex_calling::fake::FakeWebex` with a [`RateLimit`]. The updates
//! alternate between a hunt group (`enabled` toggled) and a call pickup
//! (`notificationDelayTimerSeconds` changed): none renames, so every update
//! is idempotent and the IDs stay valid. They are sent two ways, each
//! against a fake of its own:
//!
//! - SDK: one `webex_calling::Client` built from `fake.client_builder()`
//!   with every default setting, since the defaults are what a bulk job
//!   gets;
//! - plain: `reqwest` PUTs with the same headers and bodies, which wait out
//!   each `429`'s `Retry-After` (delta-seconds; 1 s when unreadable) and
//!   send again, and fail on any other error.
//!
//! Every row and both of its sides run at the same time, so the run takes
//! as long as its slowest side. The floor is the least time the limit
//! allows: (calls − burst) / rate, or for the scenario whose rate drops
//! from 50/s to 25/s when half the calls have finished,
//! (calls/2 − burst) / 50 + (calls/2) / 25. A side still running at 10
//! times the floor (and at least 30 s) is stopped, and the calls it had
//! left are reported.
//!
//! Usage: `bulk [--calls N] [--scenario NAME[,NAME]...]
//! [--concurrency N[,N]...]`, scenarios `steady-50`, `steady-20` and
//! `drop-50-25`. Build it in release:
//! `cargo run --release -p webex-calling-tests --bin bulk`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use webex_calling::fake::{FakeWebex, RateLimit, RateLimitStats, fixtures};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling_tests::machine;

const DEFAULT_CALLS: usize = 1000;
const CONCURRENCIES: [usize; 3] = [1, 8, 64];
/// A side still running at this many times the floor is stopped.
const BOUND: f64 = 10.0;
/// The least time a side is given, so that short runs are not stopped
/// while they wait out a single `Retry-After`.
const MIN_BOUND: Duration = Duration::from_secs(30);

/// The targets of issue 9 for the SDK side.
const TARGET_RATIO: f64 = 1.15;
const TARGET_THROTTLED_PER_100: f64 = 5.0;

/// The plain side's settings and headers: those of the SDK's defaults.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 5;
const USER_AGENT: &str = concat!("webex-calling-rust/", env!("CARGO_PKG_VERSION"));
const TRACKING_PREFIX: &str = "webex-calling";
/// How long the plain side waits after a `429` without a readable
/// `Retry-After`.
const PLAIN_DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// One rate limit to run the job against.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scenario {
    name: &'static str,
    description: &'static str,
    rate: f64,
    burst: u32,
    retry_after: &'static str,
    /// The rate set when half the calls have finished.
    drop_to: Option<f64>,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "steady-50",
        description: "50/s, burst 10, Retry-After 1",
        rate: 50.0,
        burst: 10,
        retry_after: "1",
        drop_to: None,
    },
    Scenario {
        name: "steady-20",
        description: "20/s, burst 5, Retry-After 2",
        rate: 20.0,
        burst: 5,
        retry_after: "2",
        drop_to: None,
    },
    Scenario {
        name: "drop-50-25",
        description: "50/s then 25/s, burst 10, Retry-After 1",
        rate: 50.0,
        burst: 10,
        retry_after: "1",
        drop_to: Some(25.0),
    },
];

impl Scenario {
    /// The least time `calls` calls can take under this limit, in seconds.
    fn floor(&self, calls: usize) -> f64 {
        let calls = calls as f64;
        let burst = f64::from(self.burst);
        match self.drop_to {
            None => (calls - burst) / self.rate,
            Some(to) => (calls / 2.0 - burst) / self.rate + (calls / 2.0) / to,
        }
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit::per_second(self.rate)
            .burst(self.burst)
            .retry_after(self.retry_after)
    }
}

#[derive(Debug, PartialEq)]
struct Settings {
    calls: usize,
    scenarios: Vec<Scenario>,
    concurrencies: Vec<usize>,
    /// Whether the plain client's rows run too (`--sdk-only`: not).
    plain: bool,
}

const USAGE: &str =
    "usage: bulk [--calls N] [--scenario NAME[,NAME]...] [--concurrency N[,N]...] [--sdk-only]
scenarios: steady-50 (50/s, burst 10, Retry-After 1), steady-20 (20/s, burst 5, Retry-After 2),
           drop-50-25 (50/s, burst 10, Retry-After 1, 25/s once half the calls have finished)
defaults: --calls 1000, every scenario, concurrency 1, 8 and 64";

fn parse_args(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings {
        calls: DEFAULT_CALLS,
        scenarios: SCENARIOS.to_vec(),
        concurrencies: CONCURRENCIES.to_vec(),
        plain: true,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .map(String::as_str)
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--calls" => {
                settings.calls = value()?
                    .parse()
                    .map_err(|e| format!("--calls: {e}\n{USAGE}"))?;
            }
            "--scenario" => {
                settings.scenarios = value()?
                    .split(',')
                    .map(|name| {
                        SCENARIOS
                            .iter()
                            .find(|s| s.name == name.trim())
                            .copied()
                            .ok_or_else(|| format!("no scenario {name:?}\n{USAGE}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--concurrency" => {
                settings.concurrencies = value()?
                    .split(',')
                    .map(|n| match n.trim().parse::<usize>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(format!(
                            "--concurrency: {n:?} is not a positive number\n{USAGE}"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--sdk-only" => settings.plain = false,
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    for scenario in &settings.scenarios {
        if scenario.floor(settings.calls) <= 0.0 || settings.calls < 2 * scenario.burst as usize + 2
        {
            return Err(format!(
                "--calls {} leaves nothing past the burst of {}: use at least {}",
                settings.calls,
                scenario.name,
                2 * scenario.burst + 2
            ));
        }
    }
    Ok(settings)
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
    elapsed: Duration,
    succeeded: usize,
    failed: usize,
    /// Calls not finished when the side was stopped at its bound.
    left: usize,
    stats: RateLimitStats,
    /// The latency of every finished call, failed ones included.
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

impl Outcome {
    fn finished(&self) -> usize {
        self.succeeded + self.failed
    }

    fn throttled_per_100(&self) -> f64 {
        if self.finished() == 0 {
            return 0.0;
        }
        self.stats.throttled as f64 * 100.0 / self.finished() as f64
    }

    fn p99(&self) -> Option<Duration> {
        percentile(&self.latencies, 0.99)
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
}

/// `calls` updates from one side, `concurrency` at a time, against a fake
/// of its own with the scenario's rate limit.
async fn run_side(
    side: Side,
    scenario: Scenario,
    calls: usize,
    concurrency: usize,
) -> Result<Outcome, String> {
    let fake = Arc::new(
        FakeWebex::builder()
            .rate_limit(scenario.rate_limit())
            .start()
            .await
            .map_err(|e| format!("the fake did not start: {e}"))?,
    );
    let caller = Arc::new(match side {
        // Every default setting: only the fake's URL and token are set.
        Side::Sdk => Caller::Sdk(fake.client_builder().build().map_err(|e| e.to_string())?),
        Side::Plain => Caller::Plain(Plain::new(&fake)?),
    });
    let bound = Duration::from_secs_f64(scenario.floor(calls) * BOUND).max(MIN_BOUND);
    let next = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + bound;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (fake, caller, next, finished) = (
            Arc::clone(&fake),
            Arc::clone(&caller),
            Arc::clone(&next),
            Arc::clone(&finished),
        );
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let call_started = Instant::now();
                let Ok(result) = tokio::time::timeout_at(deadline, caller.call(i)).await else {
                    break;
                };
                tally.latencies.push(call_started.elapsed());
                match result {
                    Ok(()) => tally.succeeded += 1,
                    Err(e) => {
                        tally.failed += 1;
                        tally.first_error.get_or_insert(e);
                    }
                }
                let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(to) = scenario.drop_to
                    && done == calls / 2
                {
                    fake.set_rate(to);
                }
            }
            tally
        }));
    }
    let mut outcome = Outcome::default();
    for worker in workers {
        let tally = worker.await.map_err(|e| format!("a worker failed: {e}"))?;
        outcome.succeeded += tally.succeeded;
        outcome.failed += tally.failed;
        outcome.latencies.extend(tally.latencies);
        if outcome.first_error.is_none() {
            outcome.first_error = tally.first_error;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.left = calls - outcome.finished();
    outcome.stats = fake.rate_limit_stats();
    Ok(outcome)
}

/// One scenario at one concurrency, both sides.
struct Row {
    scenario: Scenario,
    concurrency: usize,
    floor: f64,
    sdk: Outcome,
    /// `None` with `--sdk-only`.
    plain: Option<Outcome>,
}

fn report_side(
    side: Side,
    scenario: Scenario,
    concurrency: usize,
    calls: usize,
    outcome: &Outcome,
    started: Instant,
) {
    eprintln!(
        "  {} at concurrency {concurrency}, {}: {:.1} s (floor {:.1} s; {:.0} s so far)",
        scenario.name,
        side.name(),
        outcome.elapsed.as_secs_f64(),
        scenario.floor(calls),
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

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | concurrency | time ÷ floor (SDK / plain) | failed calls (SDK / plain) | 429s per 100 calls (SDK / plain) | early requests (SDK / plain) | p99 latency (SDK / plain) |"
    );
    let _ = writeln!(out, "|---|---:|---|---|---|---|---|");
    for row in rows {
        // The plain client's cell, or a dash when it was not run.
        let plain = |cell: &dyn Fn(&Outcome) -> String| {
            row.plain.as_ref().map_or_else(|| "–".to_string(), cell)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} / {} | {} / {} | {:.1} / {} | {} / {} | {} / {} |",
            row.scenario.description,
            row.concurrency,
            ratio_cell(&row.sdk, row.floor),
            plain(&|o| ratio_cell(o, row.floor)),
            row.sdk.failed,
            plain(&|o| o.failed.to_string()),
            row.sdk.throttled_per_100(),
            plain(&|o| format!("{:.1}", o.throttled_per_100())),
            row.sdk.stats.early,
            plain(&|o| o.stats.early.to_string()),
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
        let ratio = sdk.elapsed.as_secs_f64() / row.floor;
        let per_100 = sdk.throttled_per_100();
        let all_met = sdk.left == 0
            && ratio <= TARGET_RATIO
            && sdk.failed == 0
            && per_100 <= TARGET_THROTTLED_PER_100;
        let _ = writeln!(
            out,
            "{}, concurrency {}: {} (time ÷ floor {ratio:.2} {}{}, failed {} {}, 429s per 100 calls {per_100:.1} {})",
            row.scenario.description,
            row.concurrency,
            if all_met { "PASS" } else { "FAIL" },
            verdict(sdk.left == 0 && ratio <= TARGET_RATIO),
            if sdk.left > 0 {
                format!(", stopped with {} calls left", sdk.left)
            } else {
                String::new()
            },
            sdk.failed,
            verdict(sdk.failed == 0),
            verdict(per_100 <= TARGET_THROTTLED_PER_100),
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
                    row.concurrency,
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
        "bulk updates at a rate limit: one webex_calling::Client with every default setting vs plain reqwest retrying after Retry-After"
    );
    println!("date: {}", utc_now());
    println!("machine: {}", machine());
    println!(
        "calls: {} per side per row, alternately a hunt group and a call pickup update, each side against a fake Webex of its own; the SDK's rows one at a time, then the plain client's all together",
        settings.calls
    );
    println!(
        "floor = (calls − burst) / rate; with the drop to 25/s once half the calls have finished, (calls/2 − burst) / 50 + (calls/2) / 25"
    );
    println!(
        "a side still running at {BOUND:.0} × its floor (at least {} s) is stopped; its time says how many calls it had left",
        MIN_BOUND.as_secs()
    );
    println!(
        "429s per 100 calls = the fake's 429s per 100 finished calls; early = requests sent while a Retry-After was in force, more than 100 ms after the 429 that set it; latency counts each finished call, waits and retries included"
    );
    let started = Instant::now();
    let rows = runtime.block_on(async {
        let cells: Vec<(Scenario, usize)> = settings
            .scenarios
            .iter()
            .flat_map(|scenario| {
                settings
                    .concurrencies
                    .iter()
                    .map(move |&concurrency| (*scenario, concurrency))
            })
            .collect();
        // The SDK's pace is what is measured: its rows run one at a time,
        // alone on the machine.
        let mut sdk = Vec::with_capacity(cells.len());
        for &(scenario, concurrency) in &cells {
            let outcome = run_side(Side::Sdk, scenario, settings.calls, concurrency).await?;
            report_side(
                Side::Sdk,
                scenario,
                concurrency,
                settings.calls,
                &outcome,
                started,
            );
            sdk.push(outcome);
        }
        // The plain client loses a whole Retry-After per refusal and takes
        // many times as long: its rows run together, afterwards.
        let mut plain = Vec::with_capacity(cells.len());
        if settings.plain {
            let tasks: Vec<_> = cells
                .iter()
                .map(|&(scenario, concurrency)| {
                    tokio::spawn(run_side(Side::Plain, scenario, settings.calls, concurrency))
                })
                .collect();
            for (task, &(scenario, concurrency)) in tasks.into_iter().zip(&cells) {
                let outcome = task.await.map_err(|e| format!("a row failed: {e}"))??;
                report_side(
                    Side::Plain,
                    scenario,
                    concurrency,
                    settings.calls,
                    &outcome,
                    started,
                );
                plain.push(outcome);
            }
        }
        let mut plain = plain.into_iter();
        Ok::<_, String>(
            cells
                .into_iter()
                .zip(sdk)
                .map(|((scenario, concurrency), sdk)| Row {
                    scenario,
                    concurrency,
                    floor: scenario.floor(settings.calls),
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
        "targets for the SDK: time ≤ {TARGET_RATIO} × floor, 0 failed calls, ≤ {TARGET_THROTTLED_PER_100:.0} 429s per 100 calls"
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

    #[test]
    fn the_floors_are_the_least_time_each_limit_allows() {
        let [steady_50, steady_20, drop] = SCENARIOS;
        assert!((steady_50.floor(1000) - 19.8).abs() < 1e-9);
        assert!((steady_20.floor(1000) - 49.75).abs() < 1e-9);
        assert!((drop.floor(1000) - 29.8).abs() < 1e-9);
    }

    #[test]
    fn the_defaults_are_every_scenario_at_1_8_and_64() {
        let settings = parse_args(&[]).expect("defaults");
        assert_eq!(settings.calls, 1000);
        assert_eq!(settings.scenarios, SCENARIOS);
        assert_eq!(settings.concurrencies, [1, 8, 64]);
    }

    #[test]
    fn flags_choose_calls_scenarios_and_concurrencies() {
        let settings = parse_args(&args(
            "--calls 200 --scenario steady-20,drop-50-25 --concurrency 8",
        ))
        .expect("settings");
        assert_eq!(settings.calls, 200);
        assert_eq!(settings.scenarios, [SCENARIOS[1], SCENARIOS[2]]);
        assert_eq!(settings.concurrencies, [8]);
    }

    #[test]
    fn unknown_scenarios_zero_concurrency_and_too_few_calls_are_refused() {
        assert!(parse_args(&args("--scenario steady-10")).is_err());
        assert!(parse_args(&args("--concurrency 0")).is_err());
        assert!(parse_args(&args("--calls 20")).is_err());
        assert!(parse_args(&args("--calls")).is_err());
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
