//! The limiter against the fake's rate limit in virtual time: workers, the
//! in-flight cap, the queue and the service's bucket and blocks, as a client
//! runs them, with no sockets. A scenario of a minute runs in a fraction of
//! a second and the same way every time, so the tests below can count what
//! the limiter did (refusals, requests sent into a block) across many
//! limits, latencies and `Retry-After`s, not only the benchmark's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::{ClientLimiter, RateLimiter};
use crate::fake::RateLimit;
use crate::fake::rate_limit::{Admission, Limiter as Service};

/// One job: a limit, how the clients share it, and the calls to make.
#[derive(Clone, Copy, Debug)]
pub(super) struct Job {
    pub rate: f64,
    pub burst: u32,
    /// `None`: no `Retry-After`.
    pub retry_after: Option<&'static str>,
    pub block: Option<Duration>,
    pub latency: Duration,
    /// The most a request's way to the service, and again its way back,
    /// takes beyond `latency / 2`: arrivals spread in time (scheduling, the
    /// server's own threads, the network), so two requests paced one
    /// interval apart may reach the service's bucket closer than that.
    pub jitter: Duration,
    /// The most the way back takes beyond that: a service that works
    /// unevenly after its bucket, which spreads the round trips but not
    /// the arrivals.
    pub work: Duration,
    pub calls: usize,
    pub concurrency: usize,
    /// The rate set once this many calls have finished.
    pub change: Option<(usize, f64)>,
    /// A pause once half the calls have finished.
    pub idle: Option<Duration>,
    /// Clients on the token, each with `concurrency` workers.
    pub clients: usize,
    /// Whether the clients share one limiter.
    pub shared: bool,
}

impl Job {
    pub(super) const fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst,
            retry_after: Some("1"),
            block: None,
            latency: Duration::ZERO,
            jitter: LOOPBACK_JITTER,
            work: Duration::ZERO,
            calls: 1000,
            concurrency: 32,
            change: None,
            idle: None,
            clients: 1,
            shared: false,
        }
    }

    /// The least time the limit allows for the calls, in seconds.
    pub(super) fn floor(&self) -> f64 {
        let calls = self.calls as f64;
        let burst = f64::from(self.burst);
        match self.change {
            None => (calls - burst) / self.rate,
            Some((after, to)) => {
                let after = (after as f64).min(calls);
                (after - burst) / self.rate + (calls - after) / to
            }
        }
    }

    /// The same job with every way there and back taking exactly
    /// `latency / 2`.
    pub(super) const fn without_jitter(self) -> Self {
        Self {
            jitter: Duration::ZERO,
            work: Duration::ZERO,
            ..self
        }
    }

    fn limit(&self) -> RateLimit {
        // Requests in flight when a block starts may reach it up to the
        // longest round trip later without having been sent into it.
        let limit = RateLimit::per_second(self.rate)
            .burst(self.burst)
            .latency(self.latency)
            .grace(Duration::from_millis(100) + self.latency + self.jitter * 2 + self.work);
        let limit = match self.retry_after {
            Some(value) => limit.retry_after(value),
            None => limit.without_retry_after(),
        };
        match self.block {
            Some(length) => limit.block(length),
            None => limit,
        }
    }
}

/// The default [`Job::jitter`]: loopback on a busy 2-core machine, where
/// the client's tasks, the server's thread and other work share two cores.
pub(super) const LOOPBACK_JITTER: Duration = Duration::from_millis(4);

/// The extra delays of one worker's requests: a small xorshift, seeded per
/// job and worker, so that a job runs the same way every time.
struct Spread {
    state: u64,
    most: Duration,
}

impl Spread {
    fn new(job_name: &str, worker: usize, most: Duration) -> Self {
        // FNV-1a of the name: the seed is the job's, not the run's.
        let mut state = 0xcbf2_9ce4_8422_2325_u64;
        for byte in job_name.bytes().chain(worker.to_le_bytes()) {
            state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Self {
            state: state | 1,
            most,
        }
    }

    /// The next extra delay, between zero and `most`; small ones are more
    /// likely than large ones, as with a machine that is mostly on time.
    fn next(&mut self) -> Duration {
        if self.most.is_zero() {
            return Duration::ZERO;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let unit = (self.state >> 11) as f64 / (1u64 << 53) as f64;
        self.most.mul_f64(unit * unit)
    }
}

/// What a job took.
#[derive(Debug)]
pub(super) struct Outcome {
    /// Time ÷ floor, the idle gap left out.
    pub ratio: f64,
    pub throttled_per_100: f64,
    /// Requests that reached a block past its grace.
    pub early: u64,
    /// The last client's finish ÷ the first's.
    pub spread: f64,
}

/// The retry policy's backoff for a refusal without a usable
/// `Retry-After`, as the client computes it (without its jitter).
fn backoff(run: u32) -> Duration {
    let full = Duration::from_millis(250)
        .saturating_mul(2u32.saturating_pow(run.saturating_sub(1)))
        .min(Duration::from_secs(8));
    full - full / 4
}

/// Runs `job` under tokio's paused clock (the caller's test must start
/// paused).
pub(super) async fn run(job_name: &str, job: Job) -> Outcome {
    let service = Arc::new(Mutex::new(Service::new(Some(job.limit()))));
    let half = job.latency / 2;
    let shared = RateLimiter::adaptive();
    let clients: Vec<_> = (0..job.clients)
        .map(|_| {
            let limiter = if job.shared {
                shared.clone()
            } else {
                RateLimiter::adaptive()
            };
            let in_flight = Arc::new(Semaphore::new(64));
            let client = Arc::new(ClientLimiter::new(&limiter, 64, &in_flight));
            (client, in_flight)
        })
        .collect();
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let trace = std::env::var("SIM_TRACE").is_ok_and(|name| name == job_name);
    let idle = job.idle.unwrap_or(Duration::ZERO);
    let stages = if job.idle.is_some() {
        vec![(0, job.calls / 2), (job.calls / 2, job.calls)]
    } else {
        vec![(0, job.calls)]
    };
    let mut ends = vec![started; job.clients];
    let done: Arc<Vec<AtomicUsize>> =
        Arc::new((0..job.clients).map(|_| AtomicUsize::new(0)).collect());
    let monitor = trace.then(|| {
        let limiters: Vec<_> = clients
            .iter()
            .map(|(client, _)| Arc::clone(client))
            .collect();
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let line: Vec<String> = limiters
                    .iter()
                    .zip(done.iter())
                    .map(|(limiter, done)| {
                        format!(
                            "{:6.1}/s {:4}",
                            limiter.rate().unwrap_or(0.0),
                            done.load(Ordering::Relaxed)
                        )
                    })
                    .collect();
                eprintln!(
                    "{:7.3}s {}",
                    (Instant::now() - started).as_secs_f64(),
                    line.join(" | ")
                );
            }
        })
    });
    for (stage, (start, end)) in stages.into_iter().enumerate() {
        if stage > 0 {
            tokio::time::sleep(idle).await;
        }
        let mut workers = Vec::new();
        for (index, (client, in_flight)) in clients.iter().enumerate() {
            let next = Arc::new(AtomicUsize::new(start + index));
            for worker in 0..job.concurrency {
                let seed = (stage * job.clients + index) * job.concurrency + worker;
                let mut spread = Spread::new(job_name, seed, job.jitter);
                let mut work = Spread::new(job_name, seed ^ usize::MAX, job.work);
                let done = Arc::clone(&done);
                let (client, in_flight, next, finished, service) = (
                    Arc::clone(client),
                    Arc::clone(in_flight),
                    Arc::clone(&next),
                    Arc::clone(&finished),
                    Arc::clone(&service),
                );
                let step = job.clients;
                workers.push((
                    index,
                    tokio::spawn(async move {
                        let mut ended = None;
                        while next.fetch_add(step, Ordering::Relaxed) < end {
                            let mut ticket = None;
                            let mut own_floor: Option<Instant> = None;
                            let mut attempt = 0u64;
                            loop {
                                if let Some(until) = own_floor.take() {
                                    tokio::time::sleep_until(until).await;
                                }
                                let permit = in_flight.acquire().await.expect("open");
                                if client.turn(&mut ticket, None).await.is_err() {
                                    unreachable!("no deadline");
                                }
                                attempt += 1;
                                let sent = Instant::now();
                                tokio::time::sleep(half + spread.next()).await;
                                let admission = service.lock().await.admit("t", Instant::now());
                                tokio::time::sleep(half + spread.next() + work.next()).await;
                                drop(permit);
                                let received = Instant::now();
                                match admission {
                                    Admission::Pass => {
                                        client.accepted(sent, received, &in_flight);
                                        break;
                                    }
                                    Admission::Refuse { retry_after } => {
                                        let usable = retry_after
                                            .and_then(|v| v.trim().parse::<u64>().ok())
                                            .filter(|s| *s > 0)
                                            .map(Duration::from_secs);
                                        let wait = client.throttled(
                                            sent,
                                            received,
                                            usable,
                                            |run| {
                                                // The client's jitter, made
                                                // repeatable.
                                                let full = backoff(run);
                                                full + full / 3 * u32::from(attempt.is_multiple_of(2))
                                            },
                                            &in_flight,
                                        );
                                        own_floor = Some(received + usable.unwrap_or(wait));
                                        if trace {
                                            let state = client.shared.state();
                                            eprintln!(
                                                "{:7.3}s refused (sent {:7.3}s) wait {:5.2}s rate {:?} burst {:?} accepts {}",
                                                (received - started).as_secs_f64(),
                                                (sent - started).as_secs_f64(),
                                                wait.as_secs_f64(),
                                                state.rate,
                                                state.burst,
                                                state.accepts.len(),
                                            );
                                        }
                                    }
                                }
                            }
                            ended = Some(Instant::now());
                            done[index].fetch_add(1, Ordering::Relaxed);
                            let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                            if let Some((after, to)) = job.change
                                && done == after
                            {
                                service.lock().await.set_rate(to, Instant::now());
                            }
                        }
                        ended
                    }),
                ));
            }
        }
        for (index, worker) in workers {
            if let Some(ended) = worker.await.expect("a worker panicked") {
                ends[index] = ends[index].max(ended);
            }
        }
    }
    if let Some(monitor) = monitor {
        monitor.abort();
    }
    let elapsed = started.elapsed().saturating_sub(idle).as_secs_f64();
    let stats = service.lock().await.stats();
    let times: Vec<f64> = ends
        .iter()
        .map(|end| {
            end.saturating_duration_since(started)
                .saturating_sub(idle)
                .as_secs_f64()
        })
        .collect();
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let last = times.iter().copied().fold(0.0, f64::max);
    Outcome {
        ratio: elapsed / job.floor(),
        throttled_per_100: 100.0 * stats.throttled as f64 / stats.accepted.max(1) as f64,
        early: stats.early,
        spread: last / first.max(1e-9),
    }
}
