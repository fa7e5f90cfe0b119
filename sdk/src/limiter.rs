//! The client-side rate limiter: paces requests to the rate the service
//! accepts for this token, and holds every request back until a
//! `Retry-After` has passed.
//!
//! Webex publishes no numbers and sends no quota headers: the only signal is
//! a `429` with `Retry-After`, and until that wait is over every request with
//! the token is refused again. A refusal therefore costs a whole
//! `Retry-After` of throughput, and the limiter's job is to need as few as
//! possible. It learns the rate from what the service accepted:
//!
//! 1. Until the first refusal nothing is paced, and the cost is two atomic
//!    loads and a clock read per call. Requests in flight start from a
//!    small window that grows by one with every answer, so that a cold start
//!    at high concurrency does not send dozens of requests into a limit it
//!    knows nothing about.
//! 2. The first refusal ends a burst: the requests the service accepted just
//!    before it estimate the size of its bucket. After the `Retry-After`, the
//!    rate starts from two such bursts spread over the wait and doubles
//!    every quarter second until the next refusal.
//! 3. At every later refusal the limiter fits a token bucket to what the
//!    service accepted since the previous wait ended (when its bucket was
//!    full again): midway between the lowest refill rate that explains every
//!    accepted request and the highest that explains the refusal. It then
//!    paces at 99 % of that rate. A limit that dropped under a pace that
//!    used to hold is fitted this way too, at the cost of a second refusal:
//!    the first fit is close to the old pace, and the second, over a phase
//!    that starts with a full bucket, is close to the new limit.
//! 4. The rate is held for a minute, then rises by 1 % a second, so that a
//!    limit that went up is found again at the cost of one refusal a minute
//!    at most.
//!
//! Requests wait in a first-in, first-out queue. Only the request at its
//! head watches the clock, so a change of rate or a new `Retry-After` applies
//! to the very next request, and the requests released at the end of a wait
//! leave one by one at the learned pace, never all at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::runtime;

/// How a [`Client`](crate::Client) paces its requests. Set it with
/// [`ClientBuilder::rate_limiter`](crate::ClientBuilder::rate_limiter).
///
/// Whatever the choice, a `429`'s `Retry-After` is a floor: no request with
/// the client's token is sent before it has passed (up to
/// [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after)
/// for the client as a whole; the call that was refused waits its own
/// `Retry-After` in full, within its budget).
///
/// ```
/// use webex_calling::{Client, RateLimiter};
///
/// // The default: learn the rate the service accepts.
/// let adaptive = Client::builder().token("t").rate_limiter(RateLimiter::adaptive()).build()?;
/// // A quota you know: never more than 5 requests a second.
/// let fixed = Client::builder().token("t").rate_limiter(RateLimiter::fixed(5.0)).build()?;
/// // No pacing: only the `Retry-After` floor.
/// let none = Client::builder().token("t").rate_limiter(RateLimiter::none()).build()?;
/// # let _ = (adaptive, fixed, none);
/// # Ok::<(), webex_calling::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiter {
    mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Adaptive,
    Fixed(f64),
    Off,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::adaptive()
    }
}

impl RateLimiter {
    /// Learns the rate the service accepts for this token and paces
    /// requests to it (the default). Nothing is paced until the service
    /// first refuses a request with `429`.
    pub fn adaptive() -> Self {
        Self {
            mode: Mode::Adaptive,
        }
    }

    /// At most `per_second` requests a second, spaced evenly, for a quota
    /// you know. A rate that is not a positive number is taken as no
    /// pacing at all.
    pub fn fixed(per_second: f64) -> Self {
        if per_second.is_finite() && per_second > 0.0 {
            Self {
                mode: Mode::Fixed(per_second),
            }
        } else {
            Self::none()
        }
    }

    /// No pacing: requests go out as soon as a slot under
    /// [`max_in_flight`](crate::ClientBuilder::max_in_flight) is free. The
    /// `Retry-After` floor still holds, and the calls it held back leave
    /// spread over a tenth of the wait rather than at the same instant.
    pub fn none() -> Self {
        Self { mode: Mode::Off }
    }
}

/// Requests in flight before the service has answered any, in adaptive mode.
const INITIAL_WINDOW: usize = 4;
/// Accepted requests remembered per phase, for the fit.
const MAX_ACCEPTS: usize = 4096;
/// The share of the fitted rate the limiter paces at.
const MARGIN: f64 = 0.99;
/// The rate a search starts from, in bursts per `Retry-After`: the
/// service refilled at least that much during the wait, most likely more.
const RAMP_START: f64 = 2.0;
/// How often the rate doubles while it is searched for.
const RAMP_DOUBLING: Duration = Duration::from_millis(250);
/// How long a fitted rate is held before it is probed upwards.
const HOLD: Duration = Duration::from_secs(60);
/// How fast a held rate rises once the hold is over, per second.
const PROBE_GROWTH: f64 = 0.01;
/// Above this rate pacing costs more than it saves: the limiter stops
/// pacing until the next refusal.
const MAX_PACED_RATE: f64 = 10_000.0;
/// The window before the first refusal whose accepted requests estimate
/// the service's burst.
const BURST_WINDOW: Duration = Duration::from_millis(250);

/// The limiter of one client and its clones.
pub(crate) struct Limiter {
    mode: Mode,
    started: Instant,
    /// Nanoseconds since `started` before which nothing is sent: the
    /// client-wide `Retry-After` floor.
    floor: AtomicU64,
    /// Whether requests are paced right now. When not, and no floor is in
    /// force, a request goes out without touching the queue.
    paced: AtomicBool,
    /// The requests waiting for their turn, in order.
    queue: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    /// The in-flight window of a cold start (adaptive mode): permits held
    /// back from the client's semaphore, given back one per answer.
    held_back: AtomicUsize,
}

struct State {
    /// The pace, when there is one.
    rate: Rate,
    /// When the queue may let the next request go: the pace's schedule,
    /// kept on its grid even when a timer fires late.
    next_slot: Option<Instant>,
    /// When the current phase began: the end of the last wait, when the
    /// service's bucket is full again.
    phase_start: Instant,
    /// Send times of the requests the service accepted in this phase.
    accepts: VecDeque<Instant>,
    /// The estimated size of the service's bucket.
    burst: Option<f64>,
    /// After the first refusal: the send times between which an accepted
    /// request still counts towards the burst (up to the refusal's arrival:
    /// requests on other connections may reach the service in another order
    /// than they were sent, and be answered later), and the wait the ramp
    /// spreads the burst over.
    burst_window: Option<(Instant, Instant, f64)>,
}

#[derive(Clone, Copy, Debug)]
enum Rate {
    Unpaced,
    Fixed(f64),
    /// Doubling from `from` since `since`, until a refusal.
    Ramp {
        from: f64,
        since: Instant,
    },
    /// Fitted: `rate` from `since`, held, then rising slowly.
    Fitted {
        rate: f64,
        since: Instant,
    },
}

impl Rate {
    fn per_second(self, now: Instant) -> Option<f64> {
        match self {
            Rate::Unpaced => None,
            Rate::Fixed(rate) => Some(rate),
            Rate::Ramp { from, since } => {
                let doublings = now.saturating_duration_since(since).as_secs_f64()
                    / RAMP_DOUBLING.as_secs_f64();
                Some(from * doublings.min(64.0).exp2())
            }
            Rate::Fitted { rate, since } => {
                let probing = now
                    .saturating_duration_since(since)
                    .saturating_sub(HOLD)
                    .as_secs_f64();
                Some(rate * (1.0 + PROBE_GROWTH).powf(probing.min(10_000.0)))
            }
        }
    }
}

/// Why a call could not get its turn.
pub(crate) struct OutOfTime;

impl Limiter {
    pub(crate) fn new(limiter: &RateLimiter, max_in_flight: usize, in_flight: &Semaphore) -> Self {
        let now = Instant::now();
        let rate = match limiter.mode {
            Mode::Fixed(rate) => Rate::Fixed(rate),
            Mode::Adaptive | Mode::Off => Rate::Unpaced,
        };
        let held_back = if limiter.mode == Mode::Adaptive {
            let held = max_in_flight.saturating_sub(INITIAL_WINDOW);
            match u32::try_from(held)
                .ok()
                .and_then(|n| in_flight.try_acquire_many(n).ok())
            {
                Some(permits) => {
                    permits.forget();
                    held
                }
                None => 0,
            }
        } else {
            0
        };
        Self {
            mode: limiter.mode,
            started: now,
            floor: AtomicU64::new(0),
            paced: AtomicBool::new(matches!(rate, Rate::Fixed(_))),
            queue: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                rate,
                next_slot: None,
                phase_start: now,
                accepts: VecDeque::new(),
                burst: None,
                burst_window: None,
            }),
            held_back: AtomicUsize::new(held_back),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The end of the client-wide `Retry-After` floor, if it is later than
    /// `now`.
    pub(crate) fn floor_after(&self, now: Instant) -> Option<Instant> {
        let floor = self.floor.load(Ordering::Acquire);
        (floor > self.nanos(now)).then(|| self.started + Duration::from_nanos(floor))
    }

    /// The rate requests are paced at now, if they are.
    pub(crate) fn rate(&self) -> Option<f64> {
        if !self.paced.load(Ordering::Acquire) {
            return None;
        }
        self.state().rate.per_second(Instant::now())
    }

    /// Waits for this call's turn to send. `Err` when the turn would come
    /// after `deadline`.
    pub(crate) async fn turn(&self, deadline: Option<Instant>) -> Result<(), OutOfTime> {
        let now = Instant::now();
        let floor = self.floor_after(now);
        if floor.is_none() && !self.paced.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.mode == Mode::Off {
            return self.wait_out_floor(deadline).await;
        }
        let _head = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), self.queue.lock())
                .await
                .map_err(|_| OutOfTime)?,
            None => self.queue.lock().await,
        };
        // At the head of the queue: wait for the floor and the pace, looking
        // again after every sleep, since either may have moved meanwhile.
        loop {
            let now = Instant::now();
            let target = {
                let mut state = self.state();
                let target = [self.floor_after(now), state.next_slot]
                    .into_iter()
                    .flatten()
                    .max()
                    .filter(|target| *target > now);
                if target.is_none() {
                    state.next_slot = state.rate.per_second(now).map(|rate| {
                        let interval = Duration::from_secs_f64(1.0 / rate);
                        // A release that came late (timers fire a little
                        // after their deadline) does not push the whole
                        // schedule back; one interval of it is made up.
                        let on_grid = state.next_slot.map_or(now, |slot| {
                            slot.max(now.checked_sub(interval).unwrap_or(now))
                        });
                        on_grid + interval
                    });
                }
                target
            };
            let Some(target) = target else {
                return Ok(());
            };
            if deadline.is_some_and(|deadline| target >= deadline) {
                return Err(OutOfTime);
            }
            tokio::time::sleep_until(target.into()).await;
        }
    }

    /// Without pacing: waits out the floor, then a random share of a tenth
    /// of it, so that the calls it held back do not all leave at once.
    async fn wait_out_floor(&self, deadline: Option<Instant>) -> Result<(), OutOfTime> {
        while let Some(floor) = self.floor_after(Instant::now()) {
            let left = floor.saturating_duration_since(Instant::now());
            let spread = u64::try_from((left / 10).as_nanos()).unwrap_or(u64::MAX);
            let jitter = if spread == 0 {
                0
            } else {
                runtime::random_u64(self.nanos(floor)) % spread
            };
            let until = floor + Duration::from_nanos(jitter);
            if deadline.is_some_and(|deadline| until >= deadline) {
                return Err(OutOfTime);
            }
            tokio::time::sleep_until(until.into()).await;
        }
        Ok(())
    }

    /// The service answered a request sent at `sent` with anything but a
    /// refusal for rate.
    pub(crate) fn accepted(&self, sent: Instant, in_flight: &Semaphore) {
        if self.held_back.load(Ordering::Relaxed) > 0 {
            self.widen(in_flight);
        }
        if self.mode != Mode::Adaptive {
            return;
        }
        let mut state = self.state();
        if sent < state.phase_start {
            self.late_burst(&mut state, sent);
            return;
        }
        if state.accepts.len() == MAX_ACCEPTS {
            // The fit assumes a full bucket at the phase's start; moving the
            // start past the forgotten requests keeps that close enough.
            if let Some(oldest) = state.accepts.pop_front() {
                state.phase_start = oldest;
            }
        }
        state.accepts.push_back(sent);
        if state
            .rate
            .per_second(sent)
            .is_some_and(|rate| rate > MAX_PACED_RATE)
        {
            state.rate = Rate::Unpaced;
            self.paced.store(false, Ordering::Release);
        }
    }

    /// Counts towards the burst a request accepted before the first
    /// refusal whose answer came after it, and starts the ramp from it.
    fn late_burst(&self, state: &mut State, sent: Instant) {
        let Some((from, to, wait)) = state.burst_window else {
            return;
        };
        if sent < from || sent > to {
            return;
        }
        let burst = state.burst.unwrap_or(0.0) + 1.0;
        state.burst = Some(burst);
        if let Rate::Ramp { since, .. } = state.rate {
            state.rate = Rate::Ramp {
                from: (RAMP_START * burst / wait).max(0.1),
                since,
            };
        }
    }

    /// Gives one held-back permit to the in-flight window.
    fn widen(&self, in_flight: &Semaphore) {
        let taken = self
            .held_back
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_sub(1)
            });
        if taken.is_ok() {
            in_flight.add_permits(1);
        }
    }

    /// The service refused a request sent at `sent` for rate, asking to
    /// wait `wait` (already capped for the client as a whole).
    pub(crate) fn throttled(
        &self,
        sent: Instant,
        received: Instant,
        wait: Duration,
        in_flight: &Semaphore,
    ) {
        let until = received.checked_add(wait).unwrap_or(received);
        self.floor.fetch_max(self.nanos(until), Ordering::AcqRel);
        // A refusal opens the whole window: the pace governs from now on.
        let held = self.held_back.swap(0, Ordering::AcqRel);
        if held > 0 {
            in_flight.add_permits(held);
        }
        if self.mode != Mode::Adaptive {
            return;
        }
        let mut state = self.state();
        if sent < state.phase_start {
            // Sent before the last wait ended: the refusal belongs to a
            // phase already accounted for.
            return;
        }
        let now = received;
        let resume = self.floor_after(now).unwrap_or(now);
        let sent_rate = state.rate.per_second(sent);
        let accepts: Vec<Instant> = state.accepts.drain(..).collect();
        let next = match state.burst {
            None => {
                // The first refusal: the requests accepted just before it
                // are the service's burst.
                let window_start = sent.checked_sub(BURST_WINDOW).unwrap_or(sent);
                let burst = accepts
                    .iter()
                    .filter(|a| **a >= window_start)
                    .count()
                    .max(1) as f64;
                state.burst = Some(burst);
                let wait = wait.as_secs_f64().max(0.001);
                state.burst_window = Some((window_start, received, wait));
                Rate::Ramp {
                    from: (RAMP_START * burst / wait).max(0.1),
                    since: resume,
                }
            }
            Some(burst) => {
                state.burst_window = None;
                let fitted = fit_rate(state.phase_start, &accepts, sent, burst);
                let ceiling = sent_rate.unwrap_or(f64::INFINITY);
                match fitted.filter(|rate| *rate > 0.0) {
                    Some(rate) => Rate::Fitted {
                        rate: (rate * MARGIN).min(ceiling * MARGIN).max(0.01),
                        since: resume,
                    },
                    // Nothing was accepted since the last wait: halve the
                    // pace, or start one from the burst if there was none.
                    None => match sent_rate {
                        Some(rate) => Rate::Fitted {
                            rate: (rate / 2.0).max(0.01),
                            since: resume,
                        },
                        None => Rate::Ramp {
                            from: (RAMP_START * burst / wait.as_secs_f64().max(0.001)).max(0.1),
                            since: resume,
                        },
                    },
                }
            }
        };
        state.rate = next;
        state.phase_start = resume;
        state.next_slot = None;
        self.paced.store(true, Ordering::Release);
        tracing::debug!(
            rate = next.per_second(resume).unwrap_or(0.0),
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "rate limited: pacing requests"
        );
    }
}

/// The refill rate of a token bucket holding `burst` tokens, full at
/// `start`, that accepted a request at each of `accepts` and then refused
/// the one sent at `refused`: midway between the lowest rate that explains
/// every accepted request and the highest that explains the refusal. `None`
/// when there is nothing to fit.
fn fit_rate(start: Instant, accepts: &[Instant], refused: Instant, burst: f64) -> Option<f64> {
    // The level of the bucket just after each accepted request (checked
    // against `floor`), then just before the refused one.
    let simulate = |rate: f64, floor: f64| -> Option<f64> {
        let mut level = burst;
        let mut last = start;
        for at in accepts {
            let elapsed = at.saturating_duration_since(last).as_secs_f64();
            level = (level + rate * elapsed).min(burst) - 1.0;
            if level < floor {
                return None;
            }
            last = *at;
        }
        let elapsed = refused.saturating_duration_since(last).as_secs_f64();
        Some((level + rate * elapsed).min(burst))
    };
    // A tenth of a token of slack absorbs the jitter between sending a
    // request and its arrival.
    let explains_accepts = |rate: f64| simulate(rate, -SLACK).is_some();
    if accepts.is_empty() || explains_accepts(0.0) {
        return None;
    }
    let span = refused
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(0.001);
    let mut high = (accepts.len() as f64 / span).max(1.0) * 2.0;
    while !explains_accepts(high) {
        high *= 2.0;
        if high > 1e9 {
            return None;
        }
    }
    let lowest = bisect(0.0, high, explains_accepts);
    // The highest rate at which the refused request still found less than
    // a token.
    let explains_refusal =
        |rate: f64| simulate(rate, f64::NEG_INFINITY).is_some_and(|level| level < 1.0 + SLACK);
    if !explains_refusal(lowest) {
        return Some(lowest);
    }
    let mut top = lowest * 2.0;
    while explains_refusal(top) && top < 1e9 {
        top *= 2.0;
    }
    let highest = lowest + bisect(0.0, top - lowest, |extra| !explains_refusal(lowest + extra));
    Some(lowest + (highest - lowest) * LEAN)
}

/// Where between the lowest and the highest fitting rate the estimate is.
const LEAN: f64 = 0.5;

/// Tokens of slack in the fit.
const SLACK: f64 = 0.1;

/// The smallest `x` in `[low, high]` for which `holds` is true, where
/// `holds` is false below some point and true above it.
fn bisect(mut low: f64, mut high: f64, holds: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..50 {
        let mid = (low + high) / 2.0;
        if holds(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    high
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Send times of a client pacing at `rate` from `start` for `n` requests.
    fn paced(start: Instant, rate: f64, n: usize) -> Vec<Instant> {
        (0..n)
            .map(|i| start + Duration::from_secs_f64(i as f64 / rate))
            .collect()
    }

    /// What a token bucket (`rate`, `burst`, full at `start`) does with
    /// requests sent at `sends`: the times it accepted, and the first it
    /// refused.
    fn bucket(start: Instant, rate: f64, burst: f64, sends: &[Instant]) -> (Vec<Instant>, Instant) {
        let mut level = burst;
        let mut last = start;
        let mut accepted = Vec::new();
        for at in sends {
            level = (level + rate * (*at - last).as_secs_f64()).min(burst);
            last = *at;
            if level < 1.0 {
                return (accepted, *at);
            }
            level -= 1.0;
            accepted.push(*at);
        }
        panic!("the bucket never ran dry");
    }

    #[test]
    fn the_fit_finds_the_refill_rate_of_a_bucket_drained_by_a_faster_pace() {
        let start = Instant::now();
        for pace in [51.0, 60.0, 80.0] {
            let (accepts, refused) = bucket(start, 50.0, 10.0, &paced(start, pace, 10_000));
            let rate = fit_rate(start, &accepts, refused, 10.0).unwrap();
            assert!((49.0..=51.0).contains(&rate), "pace {pace}: {rate}");
        }
    }

    #[test]
    fn the_fit_finds_the_rate_after_a_ramp_that_started_below_it() {
        let start = Instant::now();
        let ramp = Rate::Ramp {
            from: 10.0,
            since: start,
        };
        let mut sends = vec![start];
        while sends.len() < 10_000 {
            let last = *sends.last().unwrap();
            let rate = ramp.per_second(last).unwrap();
            sends.push(last + Duration::from_secs_f64(1.0 / rate));
        }
        let (accepts, refused) = bucket(start, 50.0, 10.0, &sends);
        let rate = fit_rate(start, &accepts, refused, 10.0).unwrap();
        assert!((48.5..=51.5).contains(&rate), "{rate}");
    }

    #[test]
    fn a_phase_the_burst_alone_explains_fits_nothing() {
        let start = Instant::now();
        let accepts = paced(start, 1000.0, 5);
        let refused = start + Duration::from_millis(5);
        assert!(fit_rate(start, &accepts, refused, 10.0).is_none());
        assert!(fit_rate(start, &[], refused, 10.0).is_none());
    }

    #[test]
    fn a_ramp_doubles_every_quarter_second() {
        let since = Instant::now();
        let ramp = Rate::Ramp { from: 10.0, since };
        let at = |ms| ramp.per_second(since + Duration::from_millis(ms)).unwrap();
        assert!((at(0) - 10.0).abs() < 1e-9);
        assert!((at(250) - 20.0).abs() < 1e-6);
        assert!((at(750) - 80.0).abs() < 1e-6);
    }

    #[test]
    fn a_fitted_rate_is_held_then_rises_slowly() {
        let since = Instant::now();
        let fitted = Rate::Fitted { rate: 50.0, since };
        let at = |s| fitted.per_second(since + Duration::from_secs(s)).unwrap();
        assert!((at(59) - 50.0).abs() < 1e-9);
        assert!(at(70) > 50.0 && at(70) < 56.0, "{}", at(70));
    }
}
