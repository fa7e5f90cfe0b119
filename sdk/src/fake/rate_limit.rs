//! The fake's rate limit: a token bucket per bearer token, answering `429`
//! with `Retry-After` the way Webex does.

use std::collections::HashMap;
use std::time::Duration;

// Tokio's clock, so that a test under `tokio::time::pause()` sees blocks
// pass as its client's waits do.
use tokio::time::Instant;

/// How many requests per second the fake lets through for each bearer
/// token, and how it refuses the rest. Set it with
/// [`FakeWebexBuilder::rate_limit`](super::FakeWebexBuilder::rate_limit) or
/// [`FakeWebex::set_rate_limit`](super::FakeWebex::set_rate_limit).
///
/// Each token presented in `Authorization` has a bucket of its own that
/// starts full with [`burst`](Self::burst) tokens and refills continuously
/// at [`per_second`](Self::per_second), never above the burst. A request
/// that finds a whole token in the bucket takes it and is handled normally.
/// A request that finds none is answered `429` with a Webex-shaped error
/// body and `Retry-After`, and starts a block: until the `Retry-After` has
/// passed, every request with that token is answered `429` again, as on
/// Webex. Answers within a block do not extend it, and the bucket keeps
/// refilling while it lasts.
///
/// ```
/// use std::time::Duration;
/// use webex_calling::fake::RateLimit;
///
/// // 50 requests a second after a burst of 10; past that, `429` with
/// // `Retry-After: 1`, and one second of `429`s for that token.
/// let webex_like = RateLimit::per_second(50.0).burst(10).retry_after("1");
/// // A value Webex has been seen to send: it blocks for one second.
/// let odd = RateLimit::per_second(20.0).retry_after("rand(30),add(30)");
/// // Requests more than 250 ms after a `429` count as early.
/// let strict = RateLimit::per_second(50.0).grace(Duration::from_millis(250));
/// // A service far away that says `Retry-After: 0` and blocks for a second.
/// let far = RateLimit::per_second(30.0)
///     .burst(6)
///     .retry_after("0")
///     .block(Duration::from_secs(1))
///     .latency(Duration::from_millis(100));
/// // A `429` with no `Retry-After` at all.
/// let silent = RateLimit::per_second(30.0).without_retry_after();
/// # let _ = (webex_like, odd, strict, far, silent);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    rate: f64,
    burst: u32,
    retry_after: Option<String>,
    grace: Duration,
    block: Option<Duration>,
    latency: Duration,
}

/// What a [`RateLimit`] has done since the fake started, or since
/// [`FakeWebex::reset_rate_limit_stats`](super::FakeWebex::reset_rate_limit_stats).
///
/// Only requests that reach the limit are counted: those with the right
/// token that no scripted [`Fault`](super::Fault) answered first, while a
/// rate limit is set. Requests answered `401` are not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStats {
    /// Requests that found a token in their bucket, took it and were
    /// handled normally, whatever their answer (`200`, `204`, `400`,
    /// `404`, …).
    pub accepted: u64,
    /// Requests answered `429` by the limit: those that started a block
    /// and those that arrived during one.
    pub throttled: u64,
    /// Blocks started: requests that found their bucket empty outside a
    /// block. Each of them is also counted in `throttled`.
    pub blocks: u64,
    /// Requests that arrived during a block more than the
    /// [`grace`](RateLimit::grace) after the `429` that started it: sent
    /// without waiting out that `Retry-After`. Each of them is also counted
    /// in `throttled`. Requests within the grace were already in flight
    /// when the `429` was answered, and are not counted here.
    pub early: u64,
}

/// The grace after a `429` within which requests are not counted as early.
const DEFAULT_GRACE: Duration = Duration::from_millis(100);

/// How long a `Retry-After` that is not delta-seconds blocks for.
const NON_NUMERIC_BLOCK: Duration = Duration::from_secs(1);

/// A bucket holding this much less than a whole token still lets a request
/// through, so that rounding in the refill never refuses a request that
/// arrives exactly on time.
const EPSILON: f64 = 1e-9;

impl RateLimit {
    /// Tokens refill at `rate` per second, with a burst of 1 and
    /// `Retry-After: 1`. A rate that is zero, negative or NaN never
    /// refills: once the burst is spent, every request is refused.
    pub fn per_second(rate: f64) -> Self {
        Self {
            rate: sanitize_rate(rate),
            burst: 1,
            retry_after: Some("1".to_string()),
            grace: DEFAULT_GRACE,
            block: None,
            latency: Duration::ZERO,
        }
    }

    /// How many tokens a bucket holds at most, and holds when it is first
    /// used (default 1). Zero is taken as 1.
    #[must_use]
    pub fn burst(mut self, n: u32) -> Self {
        self.burst = n.max(1);
        self
    }

    /// The `Retry-After` value of the `429` that starts a block, sent as
    /// given (default `"1"`). Delta-seconds (`"2"`) are also how long the
    /// block lasts, and the `429`s within it carry the seconds left,
    /// rounded up; any other value (an HTTP-date, `"rand(30),add(30)"`)
    /// blocks for one second and is sent as given on every `429`. A value
    /// that is not valid in a header is left out of the answers.
    #[must_use]
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// The `429`s carry no `Retry-After` at all; a block lasts one second
    /// (or the [`block`](Self::block) set).
    #[must_use]
    pub fn without_retry_after(mut self) -> Self {
        self.retry_after = None;
        self
    }

    /// How long every block lasts, whatever `Retry-After` says: a service
    /// whose `Retry-After` is wrong (`0`, or shorter or longer than the
    /// block). The `429`s within a block still carry the value set with
    /// [`retry_after`](Self::retry_after) as given.
    #[must_use]
    pub fn block(mut self, length: Duration) -> Self {
        self.block = Some(length);
        self
    }

    /// The round trip of a service far away (default none): each request
    /// that reaches the limit meets its bucket half of `latency` after it
    /// arrives, and is answered the other half later. Scripted
    /// [`Fault`](super::Fault)s are not delayed.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// How long after a `429` a request is taken to have been in flight
    /// already when it was answered, rather than sent early (default
    /// 100 ms). See [`RateLimitStats::early`].
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long a block lasts, and whether the `429`s within it count
    /// down the seconds left.
    fn block_length(&self) -> (Duration, bool) {
        let seconds = self
            .retry_after
            .as_deref()
            .and_then(|value| value.trim().parse::<u64>().ok());
        match (self.block, seconds) {
            (Some(length), _) => (length, false),
            (None, Some(seconds)) => (Duration::from_secs(seconds), true),
            (None, None) => (NON_NUMERIC_BLOCK, false),
        }
    }
}

fn sanitize_rate(rate: f64) -> f64 {
    if rate.is_nan() || rate <= 0.0 {
        0.0
    } else {
        // A finite rate keeps `rate * elapsed` a number when no time has
        // passed.
        rate.min(f64::MAX)
    }
}

/// What the limit does with one request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Handle it normally.
    Pass,
    /// Answer `429` with this `Retry-After`, if any.
    Refuse { retry_after: Option<String> },
}

/// Every bucket and the counters, behind the fake's lock. Time is passed in
/// so that the arithmetic can be tested without waiting.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    limit: Option<RateLimit>,
    buckets: HashMap<String, Bucket>,
    stats: RateLimitStats,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    block: Option<Block>,
}

#[derive(Debug)]
struct Block {
    started: Instant,
    until: Instant,
}

impl Bucket {
    fn refill(&mut self, limit: &RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + limit.rate * elapsed).min(f64::from(limit.burst));
        self.refilled = self.refilled.max(now);
    }
}

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// Replaces the limit; every bucket starts over full, with no block.
    pub(crate) fn set_limit(&mut self, limit: Option<RateLimit>) {
        self.limit = limit;
        self.buckets.clear();
    }

    /// Changes the rate from `now` on, keeping each bucket's tokens and
    /// block; with no limit set, sets one with this rate.
    pub(crate) fn set_rate(&mut self, rate: f64, now: Instant) {
        match &mut self.limit {
            Some(limit) => {
                // Tokens earned so far are earned at the old rate.
                for bucket in self.buckets.values_mut() {
                    bucket.refill(limit, now);
                }
                limit.rate = sanitize_rate(rate);
            }
            None => self.set_limit(Some(RateLimit::per_second(rate))),
        }
    }

    /// Half the round trip of the limit set, if any.
    pub(crate) fn half_latency(&self) -> Duration {
        self.limit
            .as_ref()
            .map_or(Duration::ZERO, |limit| limit.latency / 2)
    }

    pub(crate) fn stats(&self) -> RateLimitStats {
        self.stats
    }

    pub(crate) fn reset_stats(&mut self) {
        self.stats = RateLimitStats::default();
    }

    /// Takes a token from `key`'s bucket, or refuses the request.
    pub(crate) fn admit(&mut self, key: &str, now: Instant) -> Admission {
        let Some(limit) = &self.limit else {
            return Admission::Pass;
        };
        // Looked up before inserting so that a known token costs no
        // allocation.
        if !self.buckets.contains_key(key) {
            self.buckets.insert(
                key.to_string(),
                Bucket {
                    tokens: f64::from(limit.burst),
                    refilled: now,
                    block: None,
                },
            );
        }
        let Some(bucket) = self.buckets.get_mut(key) else {
            return Admission::Pass;
        };
        bucket.refill(limit, now);
        let (length, numeric) = limit.block_length();
        if let Some(block) = &bucket.block {
            if now < block.until {
                self.stats.throttled += 1;
                if now.saturating_duration_since(block.started) > limit.grace {
                    self.stats.early += 1;
                }
                let retry_after = if numeric {
                    let left = block.until.saturating_duration_since(now);
                    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                    Some(seconds.max(1).to_string())
                } else {
                    limit.retry_after.clone()
                };
                return Admission::Refuse { retry_after };
            }
            bucket.block = None;
        }
        if bucket.tokens + EPSILON >= 1.0 {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
            self.stats.accepted += 1;
            return Admission::Pass;
        }
        self.stats.throttled += 1;
        self.stats.blocks += 1;
        // A block too long to represent lasts as long as an `Instant` can.
        let until = now
            .checked_add(length)
            .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))
            .unwrap_or(now);
        bucket.block = Some(Block {
            started: now,
            until,
        });
        Admission::Refuse {
            retry_after: limit.retry_after.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn refused(retry_after: &str) -> Admission {
        Admission::Refuse {
            retry_after: Some(retry_after.to_string()),
        }
    }

    /// Sends `n` requests at `now`; how many passed.
    fn passed(limiter: &mut Limiter, key: &str, now: Instant, n: usize) -> usize {
        (0..n)
            .filter(|_| limiter.admit(key, now) == Admission::Pass)
            .count()
    }

    #[test]
    fn a_full_bucket_lets_the_burst_through_then_answers_429() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(1.0).burst(3)));
        assert_eq!(passed(&mut limiter, "t", t0, 3), 3);
        assert_eq!(limiter.admit("t", t0), refused("1"));
        assert_eq!(
            limiter.stats(),
            RateLimitStats {
                accepted: 3,
                throttled: 1,
                blocks: 1,
                early: 0
            }
        );
    }

    #[test]
    fn the_defaults_are_a_burst_of_one_and_retry_after_1() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(1.0)));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused("1"));
        assert_eq!(limiter.admit("t", t0 + ms(999)), refused("1"));
        assert_eq!(limiter.admit("t", t0 + ms(1000)), Admission::Pass);
    }

    #[test]
    fn tokens_refill_at_the_rate_and_a_part_of_a_token_is_not_enough() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(10.0).burst(2).retry_after("0")));
        assert_eq!(passed(&mut limiter, "t", t0, 2), 2);
        // Half a token after 50 ms: refused, and `Retry-After: 0` blocks for
        // nothing.
        assert_eq!(limiter.admit("t", t0 + ms(50)), refused("0"));
        // The second half came by 100 ms.
        assert_eq!(limiter.admit("t", t0 + ms(100)), Admission::Pass);
        assert_eq!(limiter.admit("t", t0 + ms(100)), refused("0"));
        // Three tokens' worth of time, two more requests.
        assert_eq!(passed(&mut limiter, "t", t0 + ms(300), 3), 2);
        assert_eq!(limiter.stats().accepted, 5);
        assert_eq!(limiter.stats().throttled, 3);
    }

    #[test]
    fn refill_stops_at_the_burst() {
        let t0 = Instant::now();
        let mut limiter =
            Limiter::new(Some(RateLimit::per_second(100.0).burst(4).retry_after("0")));
        assert_eq!(passed(&mut limiter, "t", t0, 4), 4);
        // An hour idle is worth 360,000 tokens; the bucket holds 4.
        assert_eq!(
            passed(&mut limiter, "t", t0 + Duration::from_secs(3600), 10),
            4
        );
    }

    #[test]
    fn during_a_block_every_request_gets_429_with_the_seconds_left_rounded_up() {
        let t0 = Instant::now();
        let mut limiter =
            Limiter::new(Some(RateLimit::per_second(100.0).burst(1).retry_after("5")));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused("5"));
        // Plenty of tokens refill meanwhile, but the block holds.
        assert_eq!(limiter.admit("t", t0 + ms(1)), refused("5"));
        assert_eq!(limiter.admit("t", t0 + ms(1200)), refused("4"));
        assert_eq!(limiter.admit("t", t0 + ms(4000)), refused("1"));
        assert_eq!(limiter.admit("t", t0 + ms(4999)), refused("1"));
        // The answers within the block did not extend it.
        assert_eq!(limiter.admit("t", t0 + ms(5000)), Admission::Pass);
        let stats = limiter.stats();
        assert_eq!((stats.throttled, stats.blocks), (5, 1));
    }

    #[test]
    fn tokens_keep_refilling_during_a_block() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(1.0).burst(3).retry_after("2")));
        assert_eq!(passed(&mut limiter, "t", t0, 3), 3);
        assert_eq!(limiter.admit("t", t0), refused("2"));
        // Two seconds of block earned two tokens.
        let after = t0 + Duration::from_secs(2);
        assert_eq!(passed(&mut limiter, "t", after, 2), 2);
        assert_eq!(limiter.admit("t", after), refused("2"));
        assert_eq!(limiter.stats().blocks, 2);
    }

    #[test]
    fn a_non_numeric_retry_after_is_sent_as_given_and_blocks_for_one_second() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(
            RateLimit::per_second(100.0).retry_after("rand(30),add(30)"),
        ));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused("rand(30),add(30)"));
        assert_eq!(
            limiter.admit("t", t0 + ms(900)),
            refused("rand(30),add(30)")
        );
        assert_eq!(limiter.admit("t", t0 + ms(1000)), Admission::Pass);
    }

    #[test]
    fn without_retry_after_a_block_lasts_one_second_and_the_429s_carry_none() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(100.0).without_retry_after()));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        let silent = Admission::Refuse { retry_after: None };
        assert_eq!(limiter.admit("t", t0), silent);
        assert_eq!(limiter.admit("t", t0 + ms(999)), silent);
        assert_eq!(limiter.admit("t", t0 + ms(1000)), Admission::Pass);
    }

    #[test]
    fn a_block_set_apart_from_retry_after_lasts_its_own_length() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(
            RateLimit::per_second(100.0)
                .retry_after("0")
                .block(Duration::from_secs(2)),
        ));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused("0"));
        // `Retry-After: 0` said to come back at once; the block holds.
        assert_eq!(limiter.admit("t", t0 + ms(1500)), refused("0"));
        assert_eq!(limiter.admit("t", t0 + ms(2000)), Admission::Pass);
    }

    #[test]
    fn the_latency_is_split_around_the_bucket() {
        let limiter = Limiter::new(Some(
            RateLimit::per_second(1.0).latency(Duration::from_millis(100)),
        ));
        assert_eq!(limiter.half_latency(), ms(50));
        assert_eq!(Limiter::new(None).half_latency(), Duration::ZERO);
    }

    #[test]
    fn changing_the_rate_keeps_the_tokens_earned_at_the_old_rate() {
        let t0 = Instant::now();
        let mut limiter =
            Limiter::new(Some(RateLimit::per_second(10.0).burst(10).retry_after("0")));
        assert_eq!(passed(&mut limiter, "t", t0, 10), 10);
        // 250 ms at 10/s is 2.5 tokens, kept when the rate drops to 1/s.
        limiter.set_rate(1.0, t0 + ms(250));
        assert_eq!(passed(&mut limiter, "t", t0 + ms(250), 3), 2);
        // The half token left needs another half second at the new rate.
        assert_eq!(limiter.admit("t", t0 + ms(700)), refused("0"));
        assert_eq!(limiter.admit("t", t0 + ms(750)), Admission::Pass);
        // Back up to 100/s: 10 ms earns a token.
        limiter.set_rate(100.0, t0 + ms(750));
        assert_eq!(passed(&mut limiter, "t", t0 + ms(760), 2), 1);
    }

    #[test]
    fn changing_the_rate_keeps_a_block_in_force() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(1.0).retry_after("3")));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused("3"));
        limiter.set_rate(1000.0, t0 + ms(10));
        assert_eq!(limiter.admit("t", t0 + ms(2000)), refused("1"));
        assert_eq!(limiter.admit("t", t0 + ms(3000)), Admission::Pass);
    }

    #[test]
    fn requests_in_a_block_later_than_the_grace_count_as_early() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(
            RateLimit::per_second(1.0).retry_after("2").grace(ms(100)),
        ));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0 + ms(10)), refused("2"));
        // In flight when the 429 was answered: not early.
        assert_eq!(limiter.admit("t", t0 + ms(60)), refused("2"));
        assert_eq!(limiter.admit("t", t0 + ms(110)), refused("2"));
        // Sent without waiting out the Retry-After.
        assert_eq!(limiter.admit("t", t0 + ms(111)), refused("2"));
        assert_eq!(limiter.admit("t", t0 + ms(1500)), refused("1"));
        // After the block: not early, whatever the bucket says.
        assert_eq!(limiter.admit("t", t0 + ms(2010)), Admission::Pass);
        assert_eq!(
            limiter.stats(),
            RateLimitStats {
                accepted: 2,
                throttled: 5,
                blocks: 1,
                early: 2
            }
        );
    }

    #[test]
    fn each_token_has_a_bucket_of_its_own() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(1.0).burst(2)));
        assert_eq!(passed(&mut limiter, "a", t0, 3), 2);
        assert_eq!(passed(&mut limiter, "b", t0, 2), 2);
    }

    #[test]
    fn without_a_limit_every_request_passes_and_nothing_is_counted() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(None);
        assert_eq!(passed(&mut limiter, "t", t0, 1000), 1000);
        assert_eq!(limiter.stats(), RateLimitStats::default());
    }

    #[test]
    fn setting_a_rate_without_a_limit_sets_one_with_the_defaults() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(None);
        limiter.set_rate(2.0, t0);
        assert_eq!(passed(&mut limiter, "t", t0, 2), 1);
        assert_eq!(limiter.admit("t", t0 + ms(999)), refused("1"));
        assert_eq!(limiter.admit("t", t0 + ms(1000)), Admission::Pass);
    }

    #[test]
    fn a_new_limit_starts_every_bucket_over_full() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(0.0).retry_after("60")));
        assert_eq!(passed(&mut limiter, "t", t0, 2), 1);
        limiter.set_limit(Some(RateLimit::per_second(0.0).burst(2)));
        assert_eq!(passed(&mut limiter, "t", t0, 3), 2);
        limiter.set_limit(None);
        assert_eq!(passed(&mut limiter, "t", t0, 3), 3);
    }

    #[test]
    fn a_rate_of_zero_negative_or_nan_never_refills_and_a_burst_of_zero_is_one() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(1_000_000);
        for rate in [0.0, -5.0, f64::NAN] {
            let limit = RateLimit::per_second(rate).burst(0).retry_after("0");
            let mut limiter = Limiter::new(Some(limit));
            assert_eq!(passed(&mut limiter, "t", t0, 2), 1, "{rate}");
            assert_eq!(passed(&mut limiter, "t", later, 2), 0, "{rate}");
        }
    }

    #[test]
    fn an_infinite_rate_lets_everything_through() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(f64::INFINITY)));
        assert_eq!(passed(&mut limiter, "t", t0, 1), 1);
        assert_eq!(passed(&mut limiter, "t", t0 + ms(1), 1), 1);
    }

    #[test]
    fn a_huge_retry_after_blocks_without_overflowing() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(
            RateLimit::per_second(1.0).retry_after(u64::MAX.to_string()),
        ));
        assert_eq!(limiter.admit("t", t0), Admission::Pass);
        assert_eq!(limiter.admit("t", t0), refused(&u64::MAX.to_string()));
        assert!(matches!(
            limiter.admit("t", t0 + Duration::from_secs(86_400)),
            Admission::Refuse { .. }
        ));
    }

    #[test]
    fn resetting_the_counters_keeps_the_buckets() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(Some(RateLimit::per_second(0.0).retry_after("60")));
        assert_eq!(passed(&mut limiter, "t", t0, 2), 1);
        limiter.reset_stats();
        assert_eq!(limiter.stats(), RateLimitStats::default());
        assert_eq!(limiter.admit("t", t0), refused("60"));
        assert_eq!(limiter.stats().throttled, 1);
    }
}
