//! What one call through the SDK costs on top of the HTTP stack it uses.
//!
//! A minimal HTTP server on loopback answers every request at once (`200`
//! with `{"id": …}` for a call pickup, `204` for a hunt group). Against it,
//! in one process and in alternating rounds, the benchmark sends each
//! operation two ways: through `webex_calling::Client`, and as a hand-written
//! `reqwest` PUT of the same bytes with the same headers and client settings.
//! It prints throughput, latency, client CPU per call and their ratios, then
//! the peak memory of each side measured in a child process of its own.
//!
//! Usage: `overhead [--calls N] [--rounds N] [--warmup N] [--rss-calls N]
//! [--client-threads N] [--server-threads N]`. Build it in release:
//! `cargo run --release -p webex-calling-tests --bin overhead`.
//!
//! To profile one side alone (for instance under
//! `valgrind --tool=callgrind`), start `overhead --serve`, which prints the
//! address it listens on and serves until its standard input closes, then
//! run `overhead --client sdk|raw,pickup|hunt,ADDR [--calls N] [--warmup N]
//! [--concurrency N]` against it. `--client` prints its peak RSS; it is also
//! how the benchmark measures each side's memory.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::header::{self, HeaderValue};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling_tests::machine;

/// The settings both sides are built with: the SDK's defaults, spelled out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_IN_FLIGHT: usize = 64;
const MAX_REDIRECTS: usize = 5;
const USER_AGENT: &str = concat!("webex-calling-rust/", env!("CARGO_PKG_VERSION"));
const TRACKING_PREFIX: &str = "webex-calling";
const TOKEN: &str = "benchmark-token";
const LOCATION_ID: &str = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYx";
const CALL_PICKUP_ID: &str = "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0";
const HUNT_GROUP_ID: &str = "Y2lzY29zcGFyazovL3VzL0hVTlRfR1JPVVAvaHVudGdyb3VwMQ";
const CONCURRENCIES: [usize; 2] = [1, 64];

type BoxError = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------- settings

#[derive(Clone, Debug)]
struct Settings {
    calls: usize,
    rounds: usize,
    warmup: usize,
    rss_calls: usize,
    client_threads: usize,
    server_threads: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            calls: 100_000,
            rounds: 20,
            warmup: 5_000,
            rss_calls: 50_000,
            client_threads: 1,
            server_threads: 1,
        }
    }
}

/// What the command line asks for.
enum Mode {
    Benchmark(Settings),
    /// Only the server, until standard input closes.
    Serve(Settings),
    /// One side alone against a running server; prints VmHWM.
    Client {
        side: Side,
        op: Op,
        addr: SocketAddr,
        concurrency: usize,
        settings: Settings,
    },
}

fn parse_args(args: &[String]) -> Result<Mode, String> {
    let mut settings = Settings::default();
    let mut child: Option<(Side, Op, SocketAddr)> = None;
    let mut serve = false;
    let mut concurrency = 64;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .ok_or_else(|| format!("{flag} needs a value"))
                .cloned()
        };
        let number = |text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag} needs a positive whole number, got {text:?}"))
        };
        match flag.as_str() {
            "--calls" => settings.calls = number(value()?)?,
            "--rounds" => settings.rounds = number(value()?)?,
            "--warmup" => settings.warmup = number(value()?)?,
            "--rss-calls" => settings.rss_calls = number(value()?)?,
            "--client-threads" => settings.client_threads = number(value()?)?,
            "--server-threads" => settings.server_threads = number(value()?)?,
            "--concurrency" => concurrency = number(value()?)?,
            "--serve" => serve = true,
            "--client" => {
                let spec = value()?;
                let mut parts = spec.split(',');
                let (Some(side), Some(op), Some(addr), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(format!("--client takes side,op,addr; got {spec:?}"));
                };
                let side = match side {
                    "sdk" => Side::Sdk,
                    "raw" => Side::Raw,
                    other => return Err(format!("unknown side {other:?}")),
                };
                let op = match op {
                    "pickup" => Op::CallPickup,
                    "hunt" => Op::HuntGroup,
                    other => return Err(format!("unknown operation {other:?}")),
                };
                let addr = addr
                    .parse()
                    .map_err(|e| format!("bad address {addr:?}: {e}"))?;
                child = Some((side, op, addr));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if settings.calls < settings.rounds {
        return Err("--calls must be at least --rounds".into());
    }
    Ok(match (child, serve) {
        (Some(_), true) => return Err("--serve and --client exclude each other".into()),
        (Some((side, op, addr)), false) => Mode::Client {
            side,
            op,
            addr,
            concurrency,
            settings,
        },
        (None, true) => Mode::Serve(settings),
        (None, false) => Mode::Benchmark(settings),
    })
}

// ---------------------------------------------------------------- CPU clocks

/// The CPU clock of the calling thread, readable from any thread.
fn current_thread_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self` is always a valid thread of this process and
    // `clock` is a valid place to write to.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    assert_eq!(rc, 0, "pthread_getcpuclockid failed");
    clock
}

/// Nanoseconds of `clock`, or `None` when it cannot be read.
fn clock_nanos(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid place to write to.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| {
        u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000
            + u64::try_from(ts.tv_nsec).unwrap_or(0)
    })
}

/// CPU time of the whole process and of the server's threads. The client's
/// share is the difference: it counts every thread that is not the server's
/// (the client runtime's workers, the driving thread, any thread that came
/// and went), which per-thread sums of live threads would miss.
struct CpuClocks {
    server_threads: Arc<Mutex<Vec<libc::clockid_t>>>,
}

#[derive(Clone, Copy, Default)]
struct CpuSample {
    process: u64,
    server: u64,
}

impl CpuClocks {
    fn sample(&self) -> CpuSample {
        let server = self
            .server_threads
            .lock()
            .expect("clock list")
            .iter()
            .map(|clock| clock_nanos(*clock).expect("a server thread ended"))
            .sum();
        CpuSample {
            process: clock_nanos(libc::CLOCK_PROCESS_CPUTIME_ID).expect("process CPU clock"),
            server,
        }
    }
}

impl std::ops::Sub for CpuSample {
    type Output = CpuSample;
    fn sub(self, earlier: CpuSample) -> CpuSample {
        CpuSample {
            process: self.process.saturating_sub(earlier.process),
            server: self.server.saturating_sub(earlier.server),
        }
    }
}

impl std::ops::AddAssign for CpuSample {
    fn add_assign(&mut self, other: CpuSample) {
        self.process += other.process;
        self.server += other.server;
    }
}

impl CpuSample {
    fn client(&self) -> u64 {
        self.process.saturating_sub(self.server)
    }
}

/// The peak resident set of this process, in KiB, from `/proc/self/status`.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

// ---------------------------------------------------------------- server

/// One request as the server saw it, for the check that both sides send
/// the same thing.
#[derive(Debug)]
struct Seen {
    method: String,
    target: String,
    headers: HeaderMap,
    body: Bytes,
}

struct ServerState {
    served: AtomicU64,
    pickup_answer: Bytes,
    capture: AtomicBool,
    seen: Mutex<Vec<Seen>>,
}

async fn answer(
    request: Request<Incoming>,
    state: Arc<ServerState>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    // The body is read in full, as any server must to keep the connection.
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    state.served.fetch_add(1, Ordering::Relaxed);
    let path = parts.uri.path();
    let (status, answer) = if path.contains("/callPickups/") {
        (StatusCode::OK, state.pickup_answer.clone())
    } else if path.contains("/huntGroups/") {
        (StatusCode::NO_CONTENT, Bytes::new())
    } else {
        (StatusCode::NOT_FOUND, Bytes::new())
    };
    if state.capture.load(Ordering::Relaxed) {
        state.seen.lock().expect("seen").push(Seen {
            method: parts.method.to_string(),
            target: parts
                .uri
                .path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
            headers: parts.headers,
            body,
        });
    }
    let mut response = Response::new(Full::new(answer));
    *response.status_mut() = status;
    if status == StatusCode::OK {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(response)
}

/// Starts the server on its own runtime and threads; returns the runtime
/// (which must outlive the benchmark), the address and the state.
fn start_server(
    threads: usize,
    pickup_answer: Bytes,
    clocks: &CpuClocks,
) -> Result<(tokio::runtime::Runtime, SocketAddr, Arc<ServerState>), BoxError> {
    let registered = Arc::clone(&clocks.server_threads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("server")
        .enable_all()
        .on_thread_start(move || {
            registered
                .lock()
                .expect("clock list")
                .push(current_thread_clock());
        })
        .build()?;
    let state = Arc::new(ServerState {
        served: AtomicU64::new(0),
        pickup_answer,
        capture: AtomicBool::new(false),
        seen: Mutex::new(Vec::new()),
    });
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let accept_state = Arc::clone(&state);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(&accept_state);
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(request, Arc::clone(&state)));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    // Worker threads register their clocks as they start; wait for all of
    // them so that no server CPU is counted as the client's.
    let started = Instant::now();
    while clocks.server_threads.lock().expect("clock list").len() < threads {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("the server's threads did not start".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok((runtime, addr, state))
}

// ---------------------------------------------------------------- the two sides

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Sdk,
    Raw,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Sdk => "sdk",
            Side::Raw => "raw",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    CallPickup,
    HuntGroup,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::CallPickup => "call pickup",
            Op::HuntGroup => "hunt group",
        }
    }

    fn arg(self) -> &'static str {
        match self {
            Op::CallPickup => "pickup",
            Op::HuntGroup => "hunt",
        }
    }
}

/// The docs' example bodies, parsed once into serde structs. Both sides start
/// every call from them by reference: the SDK borrows them, and the
/// hand-written side serializes them itself, as any caller holding the update
/// as a struct must.
struct Bodies {
    pickup: UpdateCallPickupRequest,
    hunt: UpdateHuntGroupRequest,
}

impl Bodies {
    fn from_spec() -> Result<Self, BoxError> {
        let pickup: UpdateCallPickupRequest = webex_calling::parse_body(
            &webex_calling_tests::request_example("updateCallPickup").to_string(),
        )?;
        let hunt: UpdateHuntGroupRequest = webex_calling::parse_body(
            &webex_calling_tests::request_example("updateHuntGroup").to_string(),
        )?;
        Ok(Self { pickup, hunt })
    }
}

/// The call pickup's example answer, from the spec.
fn pickup_answer() -> Result<Bytes, BoxError> {
    let spec = webex_calling_tests::spec();
    let example = &spec["paths"]["/telephony/config/locations/{locationId}/callPickups/{callPickupId}"]
        ["put"]["responses"]["200"]["content"]["application/json"]["example"];
    if !example.is_object() {
        return Err("the spec has no example answer for updateCallPickup".into());
    }
    Ok(serde_json::to_vec(example)?.into())
}

/// What a hand-written caller decodes from the call pickup's answer.
#[derive(serde::Deserialize)]
struct PickupAnswer {
    id: String,
}

/// Everything the sides need to make calls. A process measuring one side's
/// memory builds only that side's client.
struct Caller {
    sdk: Option<webex_calling::Client>,
    http: Option<reqwest::Client>,
    base_url: String,
    auth: HeaderValue,
    seed: u64,
    raw_calls: AtomicU64,
    bodies: Bodies,
}

impl Caller {
    fn new(addr: SocketAddr, bodies: Bodies, sides: &[Side]) -> Result<Self, BoxError> {
        let base_url = format!("http://{addr}/v1");
        let sdk = webex_calling::Client::builder()
            .token(TOKEN)
            .base_url(&base_url)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .max_in_flight(MAX_IN_FLIGHT)
            .user_agent(USER_AGENT)
            .tracking_id_prefix(TRACKING_PREFIX)
            // The default: retries on. The server never fails, so none happen;
            // the request count check below proves it.
            .retry(webex_calling::RetryPolicy::default());
        let sdk = if sides.contains(&Side::Sdk) {
            Some(sdk.build()?)
        } else {
            None
        };
        // The same reqwest settings the SDK builds its client with.
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS));
        let http = if sides.contains(&Side::Raw) {
            Some(http.build()?)
        } else {
            None
        };
        let mut auth = HeaderValue::from_str(&format!("Bearer {TOKEN}"))?;
        auth.set_sensitive(true);
        Ok(Self {
            sdk,
            http,
            base_url,
            auth,
            seed: std::hash::BuildHasher::hash_one(
                &std::collections::hash_map::RandomState::new(),
                0u64,
            ),
            raw_calls: AtomicU64::new(0),
            bodies,
        })
    }

    async fn call(&self, side: Side, op: Op) -> Result<(), String> {
        match (side, &self.sdk, &self.http) {
            (Side::Sdk, Some(sdk), _) => Self::sdk_call(sdk, &self.bodies, op).await,
            (Side::Raw, _, Some(http)) => self.raw_call(http, op).await,
            _ => Err(format!("no {} client was built", side.name())),
        }
    }

    /// The call as an SDK user writes it, borrowing the body parsed up
    /// front, as the hand-written side does.
    async fn sdk_call(sdk: &webex_calling::Client, bodies: &Bodies, op: Op) -> Result<(), String> {
        match op {
            Op::CallPickup => {
                let updated = sdk
                    .update_call_pickup()
                    .location_id(LOCATION_ID)
                    .call_pickup_id(CALL_PICKUP_ID)
                    .body(&bodies.pickup)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(updated.id);
            }
            Op::HuntGroup => {
                sdk.update_hunt_group()
                    .location_id(LOCATION_ID)
                    .hunt_group_id(HUNT_GROUP_ID)
                    .body(&bodies.hunt)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The same call written by hand with reqwest: same URL, headers, body
    /// (serialized from the same struct on every call) and timeout, a tracking ID made the same way, the answer's
    /// status checked and the call pickup's ID decoded.
    async fn raw_call(&self, http: &reqwest::Client, op: Op) -> Result<(), String> {
        let (url, body, success) = match op {
            Op::CallPickup => (
                format!(
                    "{}/telephony/config/locations/{LOCATION_ID}/callPickups/{CALL_PICKUP_ID}",
                    self.base_url
                ),
                serde_json::to_vec(&self.bodies.pickup).map_err(|e| e.to_string())?,
                StatusCode::OK,
            ),
            Op::HuntGroup => (
                format!(
                    "{}/telephony/config/locations/{LOCATION_ID}/huntGroups/{HUNT_GROUP_ID}",
                    self.base_url
                ),
                serde_json::to_vec(&self.bodies.hunt).map_err(|e| e.to_string())?,
                StatusCode::NO_CONTENT,
            ),
        };
        let call = self.raw_calls.fetch_add(1, Ordering::Relaxed);
        let tracking_id =
            HeaderValue::from_str(&format!("{TRACKING_PREFIX}_{:016x}-{call:x}", self.seed))
                .map_err(|e| e.to_string())?;
        let response = http
            .put(url.as_str())
            .header(header::AUTHORIZATION, self.auth.clone())
            .header(header::USER_AGENT, HeaderValue::from_static(USER_AGENT))
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .header("TrackingID", tracking_id)
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if status != success {
            return Err(format!("unexpected status {status}"));
        }
        if op == Op::CallPickup {
            let answer: PickupAnswer = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            std::hint::black_box(answer.id);
        }
        Ok(())
    }
}

/// `calls` calls of one side, `concurrency` at a time; the latency of each
/// in nanoseconds.
async fn run_calls(
    caller: &Arc<Caller>,
    side: Side,
    op: Op,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<u64>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let caller = Arc::clone(caller);
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(calls / concurrency + 1);
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let started = Instant::now();
                caller.call(side, op).await?;
                latencies.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(calls);
    for task in tasks {
        all.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

// ---------------------------------------------------------------- measuring

#[derive(Default)]
struct Totals {
    wall: Duration,
    cpu: CpuSample,
    latencies: Vec<u64>,
}

struct Figures {
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    client_cpu_us: f64,
    server_cpu_us: f64,
}

impl Totals {
    fn figures(&mut self) -> Figures {
        self.latencies.sort_unstable();
        let n = self.latencies.len().max(1);
        let at = |q: f64| {
            // The smallest latency with at least q of the calls at or below it.
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            self.latencies.get(rank - 1).copied().unwrap_or(0) as f64 / 1_000.0
        };
        Figures {
            ops_per_sec: self.latencies.len() as f64 / self.wall.as_secs_f64(),
            p50_us: at(0.50),
            p99_us: at(0.99),
            client_cpu_us: self.cpu.client() as f64 / n as f64 / 1_000.0,
            server_cpu_us: self.cpu.server as f64 / n as f64 / 1_000.0,
        }
    }
}

struct Row {
    op: Op,
    concurrency: usize,
    sdk: Figures,
    raw: Figures,
}

/// One operation at one concurrency: a warm-up of each side, then rounds
/// that alternate the sides (SDK first in even rounds, raw first in odd
/// ones) so that drift in the machine's load falls on both alike.
async fn measure(
    caller: &Arc<Caller>,
    clocks: &CpuClocks,
    op: Op,
    concurrency: usize,
    settings: &Settings,
) -> Result<Row, String> {
    for side in [Side::Sdk, Side::Raw] {
        run_calls(caller, side, op, settings.warmup, concurrency).await?;
    }
    let per_round = settings.calls / settings.rounds;
    let mut sdk = Totals::default();
    let mut raw = Totals::default();
    for round in 0..settings.rounds {
        let order = if round % 2 == 0 {
            [Side::Sdk, Side::Raw]
        } else {
            [Side::Raw, Side::Sdk]
        };
        for side in order {
            let totals = match side {
                Side::Sdk => &mut sdk,
                Side::Raw => &mut raw,
            };
            let cpu_before = clocks.sample();
            let started = Instant::now();
            let latencies = run_calls(caller, side, op, per_round, concurrency).await?;
            totals.wall += started.elapsed();
            totals.cpu += clocks.sample() - cpu_before;
            totals.latencies.extend(latencies);
        }
    }
    Ok(Row {
        op,
        concurrency,
        sdk: sdk.figures(),
        raw: raw.figures(),
    })
}

/// Sends one call of each side for each operation and checks that the
/// server saw the same request from both, but for the tracking ID's value.
async fn check_same_requests(caller: &Arc<Caller>, server: &ServerState) -> Result<(), String> {
    for op in [Op::CallPickup, Op::HuntGroup] {
        server.capture.store(true, Ordering::SeqCst);
        caller.call(Side::Sdk, op).await?;
        caller.call(Side::Raw, op).await?;
        server.capture.store(false, Ordering::SeqCst);
        let seen: Vec<Seen> = std::mem::take(&mut *server.seen.lock().expect("seen"));
        let [sdk, raw] = <[Seen; 2]>::try_from(seen)
            .map_err(|seen| format!("expected 2 requests, the server saw {}", seen.len()))?;
        let differences = request_differences(&sdk, &raw);
        if !differences.is_empty() {
            return Err(format!(
                "{}: the SDK and the hand-written call sent different requests, so comparing them would mislead:\n  {}",
                op.name(),
                differences.join("\n  ")
            ));
        }
    }
    Ok(())
}

fn request_differences(sdk: &Seen, raw: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    if sdk.method != raw.method {
        out.push(format!("method: sdk {} raw {}", sdk.method, raw.method));
    }
    if sdk.target != raw.target {
        out.push(format!("target: sdk {} raw {}", sdk.target, raw.target));
    }
    if sdk.body != raw.body {
        out.push(format!("body: sdk {:?} raw {:?}", sdk.body, raw.body));
    }
    let mut names: Vec<&str> = sdk
        .headers
        .keys()
        .chain(raw.headers.keys())
        .map(|name| name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let a: Vec<&HeaderValue> = sdk.headers.get_all(name).iter().collect();
        let b: Vec<&HeaderValue> = raw.headers.get_all(name).iter().collect();
        let same = if name == "trackingid" {
            // Unique per call on both sides; the same length and form.
            a.len() == 1
                && b.len() == 1
                && a[0].len() == b[0].len()
                && a[0].as_bytes().starts_with(TRACKING_PREFIX.as_bytes())
                && b[0].as_bytes().starts_with(TRACKING_PREFIX.as_bytes())
        } else {
            a == b
        };
        if !same {
            out.push(format!("header {name}: sdk {a:?} raw {b:?}"));
        }
    }
    out
}

// ---------------------------------------------------------------- output

fn ratio_verdict(ratio: f64, target: f64, at_least: bool) -> &'static str {
    let met = if at_least {
        ratio >= target
    } else {
        ratio <= target
    };
    if met { "met" } else { "MISSED" }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>4} {:<7} {:>9} {:>9} {:>9} {:>13} {:>13}",
        "operation", "conc", "side", "ops/s", "p50 µs", "p99 µs", "client CPU µs", "server CPU µs"
    );
    for row in rows {
        for (side, f) in [("sdk", &row.sdk), ("raw", &row.raw)] {
            let _ = writeln!(
                out,
                "{:<12} {:>4} {:<7} {:>9.0} {:>9.1} {:>9.1} {:>13.2} {:>13.2}",
                row.op.name(),
                row.concurrency,
                side,
                f.ops_per_sec,
                f.p50_us,
                f.p99_us,
                f.client_cpu_us,
                f.server_cpu_us
            );
        }
        let _ = writeln!(
            out,
            "{:<12} {:>4} {:<7} {:>9.3} {:>9.3} {:>9.3} {:>13.3} {:>13.3}",
            row.op.name(),
            row.concurrency,
            "sdk/raw",
            row.sdk.ops_per_sec / row.raw.ops_per_sec,
            row.sdk.p50_us / row.raw.p50_us,
            row.sdk.p99_us / row.raw.p99_us,
            row.sdk.client_cpu_us / row.raw.client_cpu_us,
            row.sdk.server_cpu_us / row.raw.server_cpu_us,
        );
    }
    out
}

fn verdicts(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let throughput = row.sdk.ops_per_sec / row.raw.ops_per_sec;
        let cpu = row.sdk.client_cpu_us / row.raw.client_cpu_us;
        let _ = writeln!(
            out,
            "{:<12} conc {:>2}: throughput sdk/raw {throughput:.3} (target >= 0.95: {}), client CPU/call sdk/raw {cpu:.3} (target <= 1.10: {}), +{:.2} µs CPU per call",
            row.op.name(),
            row.concurrency,
            ratio_verdict(throughput, 0.95, true),
            ratio_verdict(cpu, 1.10, false),
            row.sdk.client_cpu_us - row.raw.client_cpu_us,
        );
    }
    out
}

// ---------------------------------------------------------------- main

fn client_runtime(threads: usize) -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("client")
        .enable_all()
        .build()?)
}

fn benchmark(settings: &Settings) -> Result<(), BoxError> {
    let clocks = CpuClocks {
        server_threads: Arc::new(Mutex::new(Vec::new())),
    };
    let (_server_runtime, addr, server) =
        start_server(settings.server_threads, pickup_answer()?, &clocks)?;
    let client = client_runtime(settings.client_threads)?;
    let caller = Arc::new(Caller::new(
        addr,
        Bodies::from_spec()?,
        &[Side::Sdk, Side::Raw],
    )?);

    println!("per-call overhead: webex_calling::Client vs hand-written reqwest, loopback HTTP/1.1");
    println!("machine: {}", machine());
    println!(
        "setup: server on {} thread(s) of its own tokio runtime; client on a tokio runtime with {} worker thread(s); both in this process",
        settings.server_threads, settings.client_threads
    );
    println!(
        "calls: {} measured per side per row in {} alternating rounds, after {} warm-up calls per side",
        settings.calls, settings.rounds, settings.warmup
    );
    println!(
        "client CPU = process CPU (CLOCK_PROCESS_CPUTIME_ID) minus the server threads' CPU clocks, per call; it includes the kernel's loopback send path"
    );

    client.block_on(check_same_requests(&caller, &server))?;
    println!(
        "wire check: both sides send the same method, URL, headers and body bytes (the TrackingID differs per call on both)"
    );
    let served_before = server.served.load(Ordering::SeqCst);
    let started = Instant::now();
    let mut rows = Vec::new();
    for op in [Op::CallPickup, Op::HuntGroup] {
        for concurrency in CONCURRENCIES {
            let row = client.block_on(measure(&caller, &clocks, op, concurrency, settings))?;
            eprintln!(
                "  measured {} at concurrency {concurrency} ({:.0} s so far)",
                op.name(),
                started.elapsed().as_secs_f64()
            );
            rows.push(row);
        }
    }
    let made = (CONCURRENCIES.len() * 2 * 2) as u64
        * (settings.warmup + settings.calls / settings.rounds * settings.rounds) as u64;
    let served = server.served.load(Ordering::SeqCst) - served_before;
    if served != made {
        return Err(format!(
            "the server answered {served} requests for {made} calls: a retry or a lost call skews the figures"
        )
        .into());
    }
    println!("requests served = calls made ({made}): no retries, no lost calls");
    println!();
    print!("{}", table(&rows));
    println!();
    print!("{}", verdicts(&rows));

    println!();
    println!(
        "peak RSS (VmHWM) of a child process making {} calls at concurrency 64 (after {} warm-up) against this server:",
        settings.rss_calls, settings.warmup
    );
    let exe = std::env::current_exe()?;
    for op in [Op::CallPickup, Op::HuntGroup] {
        let mut kib = [0u64; 2];
        for (slot, side) in [Side::Sdk, Side::Raw].into_iter().enumerate() {
            let output = Command::new(&exe)
                .args([
                    "--client",
                    &format!("{},{},{addr}", side.name(), op.arg()),
                    "--calls",
                    &settings.rss_calls.to_string(),
                    "--concurrency",
                    "64",
                    "--warmup",
                    &settings.warmup.to_string(),
                    "--client-threads",
                    &settings.client_threads.to_string(),
                ])
                .output()?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            kib[slot] = stdout
                .lines()
                .find_map(|line| line.strip_prefix("vmhwm_kib="))
                .and_then(|value| value.trim().parse().ok())
                .ok_or_else(|| {
                    format!(
                        "the {} child for {} failed ({}): {}{}",
                        side.name(),
                        op.name(),
                        output.status,
                        stdout,
                        String::from_utf8_lossy(&output.stderr)
                    )
                })?;
        }
        println!(
            "{:<12} sdk {:>6} KiB   raw {:>6} KiB   sdk/raw {:.3}   ({:+} KiB)",
            op.name(),
            kib[0],
            kib[1],
            kib[0] as f64 / kib[1] as f64,
            kib[0] as i64 - kib[1] as i64
        );
    }
    Ok(())
}

/// One side alone, for its peak memory (the client and nothing else) or
/// for a profiler.
fn client_only(
    side: Side,
    op: Op,
    addr: SocketAddr,
    concurrency: usize,
    settings: &Settings,
) -> Result<(), BoxError> {
    let client = client_runtime(settings.client_threads)?;
    let caller = Arc::new(Caller::new(addr, Bodies::from_spec()?, &[side])?);
    client.block_on(async {
        run_calls(&caller, side, op, settings.warmup, concurrency).await?;
        run_calls(&caller, side, op, settings.calls, concurrency).await
    })?;
    println!(
        "vmhwm_kib={}",
        vm_hwm_kib().ok_or("no VmHWM in /proc/self/status")?
    );
    Ok(())
}

/// The server alone, until standard input closes.
fn serve_only(settings: &Settings) -> Result<(), BoxError> {
    let clocks = CpuClocks {
        server_threads: Arc::new(Mutex::new(Vec::new())),
    };
    let (_runtime, addr, server) =
        start_server(settings.server_threads, pickup_answer()?, &clocks)?;
    println!("{addr}");
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
    eprintln!("served {} requests", server.served.load(Ordering::SeqCst));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&args) {
        Ok(Mode::Benchmark(settings)) => benchmark(&settings),
        Ok(Mode::Serve(settings)) => serve_only(&settings),
        Ok(Mode::Client {
            side,
            op,
            addr,
            concurrency,
            settings,
        }) => client_only(side, op, addr, concurrency, &settings),
        Err(message) => Err(message.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overhead: {e}");
            ExitCode::FAILURE
        }
    }
}
