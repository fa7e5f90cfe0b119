//! The rate limiter's shared store in Redis (the feature `redis`): one
//! floor, one pace and one schedule for every process that uses the same
//! key, so that a fleet on one token paces as one client.
//!
//! Each operation is one call of one Lua script (`EVALSHA`, loaded with
//! `SCRIPT LOAD` when Redis does not know it), so it is atomic, and its
//! times are Redis's own clock (`TIME`), so the processes' clocks need not
//! agree. The schedule is GCRA's: a theoretical arrival time that every
//! request moves on by one interval of the pace, never earlier than the
//! floor. The learning is the same as a local limiter's: the process that
//! gets the first refusal of a phase takes the requests accepted in it,
//! fleet-wide, fits the rate and writes it back.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The script behind every operation. `KEYS[1]` is the hash of the state,
/// `KEYS[2]` the list of accepted send times of the phase; `ARGV[1]` the
/// operation. Times are microseconds of Redis's clock.
const SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local op = ARGV[1]
local s = redis.call('HMGET', KEYS[1], 'floor', 'tat', 'kind', 'rate', 'fitted', 'credit', 'phase', 'burst', 'wait', 'hold')
local floor = tonumber(s[1]) or 0
local tat = tonumber(s[2]) or 0
local kind = tonumber(s[3]) or 0
local rate = tonumber(s[4]) or 0
local fitted = tonumber(s[5]) or 0
local credit = tonumber(s[6]) or 0
local phase = tonumber(s[7]) or 0
local burst = tonumber(s[8]) or 0
local wait = tonumber(s[9]) or 0
local hold = tonumber(s[10]) or 10
local ttl = 3600000
if op == 'take' then
  local slot = math.max(now, floor)
  if kind > 0 and rate > 0 then
    local interval = 1000000 / rate
    if tat > slot then slot = tat end
    redis.call('HSET', KEYS[1], 'tat', tostring(slot + interval))
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return {tostring(slot - now), tostring(now), kind, tostring(rate)}
elseif op == 'accepted' then
  local sent = tonumber(ARGV[2])
  if sent < phase then return 0 end
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], -4096, -1)
  redis.call('PEXPIRE', KEYS[2], ttl)
  if kind == 1 then
    rate = rate * 2 ^ (1 / math.max(rate * 0.25, 1))
  elseif kind == 2 then
    credit = credit + 1 / fitted
    local x = math.min(math.max(credit - hold, 0), 1000)
    rate = fitted * 0.97 * (1 + 0.02 * x * x * x)
  end
  if kind > 0 and rate > 10000 then kind = 0 end
  redis.call('HSET', KEYS[1], 'kind', kind, 'rate', tostring(rate), 'credit', tostring(credit))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
elseif op == 'throttled' then
  local sent = tonumber(ARGV[2])
  local until_ = now + tonumber(ARGV[3])
  if until_ > floor then floor = until_ end
  redis.call('HSET', KEYS[1], 'floor', tostring(floor))
  redis.call('PEXPIRE', KEYS[1], ttl)
  if sent < phase then return {0} end
  local accepts = redis.call('LRANGE', KEYS[2], 0, -1)
  redis.call('DEL', KEYS[2])
  local resume = math.max(floor, now)
  redis.call('HSET', KEYS[1], 'phase', tostring(resume), 'tat', '0', 'wait', tostring(resume - now))
  return {1, tostring(now), tostring(phase), tostring(resume), tostring(wait), tostring(burst), kind, tostring(rate), tostring(fitted), tostring(credit), accepts}
elseif op == 'set' then
  if tonumber(ARGV[2]) ~= phase then return 0 end
  redis.call('HSET', KEYS[1], 'kind', ARGV[3], 'rate', ARGV[4], 'fitted', ARGV[5], 'credit', '0', 'hold', ARGV[6], 'burst', ARGV[7])
  return 1
end
return redis.error_reply('unknown operation ' .. op)
"#;

/// What the store held when a refusal began a new phase.
pub(crate) struct Phase {
    /// Redis's clock when the refusal was recorded.
    pub(crate) now: u64,
    pub(crate) start: u64,
    pub(crate) resume: u64,
    pub(crate) last_wait: u64,
    pub(crate) burst: f64,
    pub(crate) kind: u8,
    pub(crate) rate: f64,
    pub(crate) fitted: f64,
    pub(crate) credit: f64,
    pub(crate) accepts: Vec<u64>,
}

/// One connection to Redis and the names of the state's keys.
pub(crate) struct Store {
    address: String,
    db: Option<u32>,
    state_key: String,
    accepts_key: String,
    sha: String,
    connection: Mutex<Option<BufReader<TcpStream>>>,
    /// Redis's clock against tokio's, from the last answer that carried it.
    clock: std::sync::Mutex<Option<(u64, Instant)>>,
}

/// One value of a Redis answer.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply {
    Status(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    fn text(&self) -> Option<String> {
        match self {
            Reply::Status(text) => Some(text.clone()),
            Reply::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Reply::Integer(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn number(&self) -> Option<f64> {
        self.text()?.trim().parse().ok()
    }
}

/// Why `url` is not a Redis URL the store can use.
pub(crate) fn parse_url(url: &str) -> Result<(String, Option<u32>), String> {
    let rest = url.strip_prefix("redis://").ok_or_else(|| {
        format!("rate_limiter: the Redis URL {url:?} must start with redis:// (TLS and sockets are not supported)")
    })?;
    let (address, db) = match rest.split_once('/') {
        Some((address, "")) => (address, None),
        Some((address, db)) => (
            address,
            Some(db.parse::<u32>().map_err(|_| {
                format!("rate_limiter: the Redis URL {url:?} names a database that is not a number")
            })?),
        ),
        None => (rest, None),
    };
    if address.contains('@') {
        return Err(format!(
            "rate_limiter: the Redis URL {url:?} has credentials, which are not supported"
        ));
    }
    if address.is_empty() {
        return Err(format!("rate_limiter: the Redis URL {url:?} names no host"));
    }
    let address = if address
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        address.to_string()
    } else {
        format!("{address}:6379")
    };
    Ok((address, db))
}

impl Store {
    pub(crate) fn new(url: &str, key: &str) -> Result<Self, String> {
        let (address, db) = parse_url(url)?;
        if key.is_empty() {
            return Err("rate_limiter: the Redis key is empty".to_string());
        }
        Ok(Self {
            address,
            db,
            // One hash slot for both keys, as Redis Cluster wants.
            state_key: format!("{{{key}}}:state"),
            accepts_key: format!("{{{key}}}:accepts"),
            sha: sha1_hex(SCRIPT.as_bytes()),
            connection: Mutex::new(None),
            clock: std::sync::Mutex::new(None),
        })
    }

    /// Runs the script with `args` after the keys, loading it first if
    /// Redis does not know it.
    async fn script(&self, args: &[&str]) -> Result<Reply, String> {
        let mut command = vec![
            "EVALSHA",
            self.sha.as_str(),
            "2",
            &self.state_key,
            &self.accepts_key,
        ];
        command.extend_from_slice(args);
        match self.command(&command).await {
            Err(error) if error.starts_with("NOSCRIPT") => {
                self.command(&["SCRIPT", "LOAD", SCRIPT]).await?;
                self.command(&command).await
            }
            other => other,
        }
    }

    /// Sends one command on the connection, opening it if needed; an error
    /// closes it, so the next command opens a new one.
    async fn command(&self, args: &[&str]) -> Result<Reply, String> {
        let mut connection = self.connection.lock().await;
        if connection.is_none() {
            let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(&self.address))
                .await
                .map_err(|_| format!("Redis at {} did not answer", self.address))?
                .map_err(|e| format!("cannot connect to Redis at {}: {e}", self.address))?;
            let _ = stream.set_nodelay(true);
            let mut stream = BufReader::new(stream);
            if let Some(db) = self.db {
                exchange(&mut stream, &["SELECT", &db.to_string()]).await?;
            }
            *connection = Some(stream);
        }
        let Some(stream) = connection.as_mut() else {
            return Err("no connection to Redis".to_string());
        };
        let reply = tokio::time::timeout(TIMEOUT, exchange(stream, args))
            .await
            .unwrap_or_else(|_| Err(format!("Redis at {} did not answer", self.address)));
        if reply.as_ref().is_err_and(|e| !e.starts_with("NOSCRIPT")) {
            *connection = None;
        }
        reply
    }

    /// Redis's clock at `at`, from the last time it was read.
    pub(crate) fn micros(&self, at: Instant) -> Option<u64> {
        let clock = *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (micros, instant) = clock?;
        let offset = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Some(if at >= instant {
            micros.saturating_add(offset(at - instant))
        } else {
            micros.saturating_sub(offset(instant - at))
        })
    }

    /// tokio's clock at Redis's `micros`.
    pub(crate) fn instant(&self, micros: u64) -> Option<Instant> {
        let clock = *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (base, instant) = clock?;
        Some(if micros >= base {
            instant + Duration::from_micros(micros - base)
        } else {
            instant
                .checked_sub(Duration::from_micros(base - micros))
                .unwrap_or(instant)
        })
    }

    fn set_clock(&self, micros: u64, at: Instant) {
        *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((micros, at));
    }

    /// Reserves the next slot of the fleet's schedule: how long to wait
    /// for it, and the pace in force, if any.
    pub(crate) async fn take(&self) -> Result<(Duration, Option<f64>), String> {
        let asked = Instant::now();
        let reply = self.script(&["take"]).await?;
        let answered = Instant::now();
        let Reply::Array(values) = reply else {
            return Err(format!("unexpected answer from Redis: {reply:?}"));
        };
        let wait = values
            .first()
            .and_then(Reply::number)
            .unwrap_or(0.0)
            .max(0.0);
        if let Some(now) = values.get(1).and_then(Reply::number) {
            // Redis read its clock somewhere between asking and answering.
            self.set_clock(now as u64, asked + (answered - asked) / 2);
        }
        let kind = values.get(2).and_then(Reply::number).unwrap_or(0.0);
        let rate = values.get(3).and_then(Reply::number).unwrap_or(0.0);
        Ok((
            Duration::from_micros(wait as u64),
            (kind > 0.0 && rate > 0.0).then_some(rate),
        ))
    }

    /// Records a request sent at Redis's `sent` that was accepted.
    pub(crate) async fn accepted(&self, sent: u64) -> Result<(), String> {
        self.script(&["accepted", &sent.to_string()])
            .await
            .map(drop)
    }

    /// Records a refusal of a request sent at `sent` that holds the fleet
    /// back for `wait`; the phase it ended, when it was the first refusal
    /// of that phase.
    pub(crate) async fn throttled(
        &self,
        sent: u64,
        wait: Duration,
    ) -> Result<Option<Phase>, String> {
        let wait = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX / 2);
        let reply = self
            .script(&["throttled", &sent.to_string(), &wait.to_string()])
            .await?;
        let Reply::Array(values) = reply else {
            return Err(format!("unexpected answer from Redis: {reply:?}"));
        };
        if values.first().and_then(Reply::number) != Some(1.0) {
            return Ok(None);
        }
        let number = |i: usize| values.get(i).and_then(Reply::number).unwrap_or(0.0);
        let accepts = match values.get(10) {
            Some(Reply::Array(accepts)) => accepts
                .iter()
                .filter_map(|a| a.number().map(|n| n as u64))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Some(Phase {
            now: number(1) as u64,
            start: number(2) as u64,
            resume: number(3) as u64,
            last_wait: number(4) as u64,
            burst: number(5),
            kind: number(6) as u8,
            rate: number(7),
            fitted: number(8),
            credit: number(9),
            accepts,
        }))
    }

    /// Sets the pace learnt at the end of the phase that resumes at
    /// `resume`, unless another phase has begun since.
    pub(crate) async fn set(
        &self,
        resume: u64,
        kind: u8,
        rate: f64,
        fitted: f64,
        hold: f64,
        burst: f64,
    ) -> Result<(), String> {
        self.script(&[
            "set",
            &resume.to_string(),
            &kind.to_string(),
            &rate.to_string(),
            &fitted.to_string(),
            &hold.to_string(),
            &burst.to_string(),
        ])
        .await
        .map(drop)
    }
}

/// How long one exchange with Redis may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Writes one command and reads its answer.
async fn exchange(stream: &mut BufReader<TcpStream>, args: &[&str]) -> Result<Reply, String> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    stream
        .get_mut()
        .write_all(&out)
        .await
        .map_err(|e| format!("cannot write to Redis: {e}"))?;
    read_reply(stream).await
}

/// Reads one RESP2 value.
async fn read_reply(stream: &mut BufReader<TcpStream>) -> Result<Reply, String> {
    // Nested arrays are read with an explicit stack rather than recursion.
    let mut stack: Vec<(usize, Vec<Reply>)> = Vec::new();
    loop {
        let mut line = String::new();
        let read = stream
            .read_line(&mut line)
            .await
            .map_err(|e| format!("cannot read from Redis: {e}"))?;
        if read == 0 {
            return Err("Redis closed the connection".to_string());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (kind, rest) = line.split_at(line.len().min(1));
        let count = || {
            rest.parse::<i64>()
                .map_err(|_| format!("unreadable answer from Redis: {line:?}"))
        };
        let value = match kind {
            "+" => Reply::Status(rest.to_string()),
            "-" => return Err(rest.to_string()),
            ":" => Reply::Integer(count()?),
            "$" => {
                let length = count()?;
                if length < 0 {
                    Reply::Bulk(None)
                } else {
                    let length = usize::try_from(length)
                        .map_err(|_| "a bulk string too long".to_string())?;
                    let mut bytes = vec![0; length + 2];
                    tokio::io::AsyncReadExt::read_exact(stream, &mut bytes)
                        .await
                        .map_err(|e| format!("cannot read from Redis: {e}"))?;
                    bytes.truncate(length);
                    Reply::Bulk(Some(bytes))
                }
            }
            "*" => {
                let length = count()?;
                if length <= 0 {
                    Reply::Array(Vec::new())
                } else {
                    let length =
                        usize::try_from(length).map_err(|_| "an array too long".to_string())?;
                    stack.push((length, Vec::with_capacity(length.min(4096))));
                    continue;
                }
            }
            _ => return Err(format!("unreadable answer from Redis: {line:?}")),
        };
        let mut value = value;
        loop {
            match stack.last_mut() {
                None => return Ok(value),
                Some((length, items)) => {
                    items.push(value);
                    if items.len() < *length {
                        break;
                    }
                }
            }
            let Some((_, items)) = stack.pop() else {
                return Err("unreadable answer from Redis".to_string());
            };
            value = Reply::Array(items);
        }
    }
}

/// The SHA-1 of `data`, in hex: the name `EVALSHA` knows a script by.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for chunk in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = next;
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(value);
        }
    }
    h.iter().map(|word| format!("{word:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_known_digests() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn redis_urls_are_read_or_refused_naming_the_setting() {
        assert_eq!(
            parse_url("redis://127.0.0.1:6380"),
            Ok(("127.0.0.1:6380".into(), None))
        );
        assert_eq!(
            parse_url("redis://localhost/2"),
            Ok(("localhost:6379".into(), Some(2)))
        );
        for url in [
            "rediss://host",
            "http://host",
            "redis://user:pw@host",
            "redis://",
            "redis://h/x",
        ] {
            let error = parse_url(url).unwrap_err();
            assert!(error.starts_with("rate_limiter: "), "{error}");
        }
    }
}
