//! What the generated `send` functions call: one request, sent with the
//! client's policies, and the pieces it is made of.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// What the generated code knows about an operation.
#[derive(Debug)]
pub struct Operation {
    /// The spec's `operationId`.
    pub id: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The success status the spec declares (the first, when it declares
    /// several). Any `2xx` is taken as success; this one names the
    /// operation's contract in traces.
    pub success: u16,
    /// The media types the answer is asked for (`Accept`).
    pub accept: &'static str,
    /// The media type of the request body (`Content-Type`).
    pub content_type: &'static str,
    /// Whether the request may be sent again after a failure that leaves
    /// its outcome unknown (a `502`, a `504`, a timeout, a connection lost
    /// once the request was written): the spec's `x-idempotent`.
    pub resend: Resend,
    /// What the caller should check when the outcome is unknown and the
    /// request was not sent again, from the spec.
    pub if_unknown: &'static str,
}

impl Operation {
    /// Whether the spec declares `101 Switching Protocols` as the answer:
    /// the request asks for a WebSocket, and success is the connection.
    pub(crate) fn switches_protocols(&self) -> bool {
        self.success == 101
    }
}

/// A request body a builder holds: borrowed, or owned and boxed. Either
/// way it is a pointer, so the builder stays a few words long however large
/// the body is: a builder is moved by every setter and by `send()`.
#[derive(Clone, Debug)]
pub enum Body<'a, T> {
    /// The caller's, sent as many times as it likes without a copy.
    Borrowed(&'a T),
    /// Moved in by the caller.
    Owned(Box<T>),
}

impl<T> std::ops::Deref for Body<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Body::Borrowed(value) => value,
            Body::Owned(value) => value,
        }
    }
}

impl<'a, T: Clone> From<std::borrow::Cow<'a, T>> for Body<'a, T> {
    fn from(value: std::borrow::Cow<'a, T>) -> Self {
        match value {
            std::borrow::Cow::Borrowed(value) => Body::Borrowed(value),
            std::borrow::Cow::Owned(value) => Body::Owned(Box::new(value)),
        }
    }
}

/// What one call overrides of its client's settings: set by the builders'
/// `retry`, `budget` and `timeout`. The call still shares the client's
/// connection pool, rate limiter and cap on requests in flight.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    pub(crate) retry: Option<crate::RetryPolicy>,
    pub(crate) budget: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
}

impl CallOptions {
    /// This call's retry policy in place of the client's.
    pub fn set_retry(&mut self, policy: crate::RetryPolicy) {
        self.retry = Some(policy);
    }

    /// This call's time budget in place of its retry policy's.
    pub fn set_budget(&mut self, budget: Duration) {
        self.budget = Some(budget);
    }

    /// This call's per-attempt timeout in place of the client's.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }
}

/// When an operation may be sent again after an ambiguous failure.
#[derive(Debug)]
pub enum Resend {
    /// Applying it twice is the same as applying it once.
    Always,
    /// Applying it twice may differ from applying it once.
    Never,
    /// Safe to send again unless the body sets one of these properties.
    #[allow(
        dead_code,
        reason = "made by the generated code of operations declared x-idempotent with unless-body-sets"
    )]
    UnlessBodySets(&'static [&'static str]),
}

impl Resend {
    /// Whether `body`, the JSON sent, may be sent again.
    pub(crate) fn allows(&self, body: &[u8]) -> bool {
        match self {
            Resend::Always => true,
            Resend::Never => false,
            Resend::UnlessBodySets(names) => {
                match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
                    Ok(fields) => !names.iter().any(|name| fields.contains_key(*name)),
                    // A body that is not an object sets none of them.
                    Err(_) => !body.iter().any(|b| !b.is_ascii_whitespace()),
                }
            }
        }
    }
}

/// Appends `value` in lowercase hexadecimal without leading zeros, as
/// `{:x}` writes it.
pub(crate) fn push_hex(out: &mut String, value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut start = digits.len();
    let mut rest = value;
    loop {
        start -= 1;
        digits[start] = HEX[(rest & 15) as usize];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Appends `value` to `url` as one percent-encoded path segment.
///
/// Every byte but the unreserved characters of RFC 3986 is encoded, so `/`,
/// `?`, `#` and `%` in an ID can never change which URL is called.
pub fn push_segment(url: &mut String, value: &str) {
    // One pass: runs of unreserved bytes are copied as they are, so a value
    // that needs no encoding is one copy.
    // Infallible: writing to a String.
    let _ = encode(value, url);
}

/// Appends the query parameters that are set, each name and value
/// percent-encoded.
pub fn push_query(url: &mut String, query: &[(&str, Option<&str>)]) {
    let mut separator = '?';
    for (name, value) in query {
        if let Some(value) = value {
            url.push(separator);
            separator = '&';
            push_segment(url, name);
            url.push('=');
            push_segment(url, value);
        }
    }
}

/// Appends a query parameter once per item (`name=a&name=b`), after
/// whatever query the URL has.
#[allow(
    dead_code,
    reason = "called by the generated code of operations that have such parameters"
)]
pub fn push_query_list(url: &mut String, name: &str, values: &[String]) {
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for value in values {
        url.push(separator);
        separator = '&';
        push_segment(url, name);
        url.push('=');
        push_segment(url, value);
    }
}

/// Adds a header parameter. The generator only names valid header names,
/// and `send` has checked the value ([`crate::validate::Violations::header_value`]),
/// so neither is ever dropped.
#[allow(
    dead_code,
    reason = "called by the generated code of operations that have such parameters"
)]
pub fn push_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        reqwest::header::HeaderName::from_bytes(name.as_bytes()),
        reqwest::header::HeaderValue::from_str(value),
    ) {
        headers.append(name, value);
    }
}

fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// `A-Z a-z 0-9 - . _ ~`, by byte: one load per byte of a URL's values.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`.
pub(crate) fn encode(value: &str, out: &mut impl fmt::Write) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    // A run that is not empty is unreserved ASCII: it starts at an ASCII
    // byte and ends after one, so both ends are character boundaries and
    // `get` finds it. An empty run may sit inside a multi-byte character,
    // so it is not sliced at all.
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if is_unreserved(byte) {
            continue;
        }
        if start < i {
            out.write_str(value.get(start..i).ok_or(fmt::Error)?)?;
        }
        let encoded = [
            '%',
            char::from(HEX[usize::from(byte >> 4)]),
            char::from(HEX[usize::from(byte & 15)]),
        ];
        for c in encoded {
            out.write_char(c)?;
        }
        start = i + 1;
    }
    out.write_str(value.get(start..).ok_or(fmt::Error)?)
}

/// A finished answer with the success status, body read in full.
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) tracking_id: String,
    pub(crate) attempts: u32,
    /// The connection, when the answer switched protocols.
    pub(crate) connection: Option<reqwest::Upgraded>,
}

impl Response {
    /// Decodes the body as `T`, keeping what is known of the call.
    pub fn json_with_meta<T: DeserializeOwned>(self) -> Result<crate::Response<T>, Error> {
        match serde_json::from_slice(&self.body) {
            Ok(value) => Ok(self.with_value(value)),
            Err(e) => Err(self.unreadable(e)),
        }
    }

    /// Decodes the body as `T` when there is one: an operation whose
    /// success statuses answer a body on some and none on others.
    #[allow(
        dead_code,
        reason = "called by the generated code of operations that answer so"
    )]
    pub fn json_or_empty_with_meta<T: DeserializeOwned>(
        self,
    ) -> Result<crate::Response<Option<T>>, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(self.with_value(None));
        }
        match serde_json::from_slice(&self.body) {
            Ok(value) => Ok(self.with_value(Some(value))),
            Err(e) => Err(self.unreadable(e)),
        }
    }

    /// The body as JSON of any shape (`null` when empty): an operation whose
    /// success statuses answer different schemas.
    #[allow(
        dead_code,
        reason = "called by the generated code of operations that answer so"
    )]
    pub fn value_with_meta(self) -> Result<crate::Response<serde_json::Value>, Error> {
        self.json_or_empty_with_meta()
            .map(|response| response.map(Option::unwrap_or_default))
    }

    /// The body as it came: an answer that is not JSON.
    #[allow(
        dead_code,
        reason = "called by the generated code of operations that answer so"
    )]
    pub fn bytes_with_meta(self) -> Result<crate::Response<Bytes>, Error> {
        let body = self.body.clone();
        Ok(self.with_value(body))
    }

    /// The connection the answer switched protocols on: an operation
    /// answered `101` (a WebSocket).
    #[allow(
        dead_code,
        reason = "called by the generated code of operations that switch protocols"
    )]
    pub fn upgraded_with_meta(mut self) -> Result<crate::Response<reqwest::Upgraded>, Error> {
        match self.connection.take() {
            Some(connection) => Ok(self.with_value(connection)),
            None => Err(Error::NotUpgraded {
                status: self.status,
                tracking_id: self.tracking_id,
                attempts: self.attempts,
            }),
        }
    }

    /// The answer of an operation whose success has no body to decode.
    pub fn with_value<T>(self, value: T) -> crate::Response<T> {
        crate::Response::new(
            value,
            self.status,
            self.headers,
            self.tracking_id,
            self.attempts,
        )
    }

    fn unreadable(self, e: serde_json::Error) -> Error {
        Error::UnreadableResponse {
            status: self.status,
            snippet: snippet(&self.body),
            reason: e.to_string(),
            tracking_id: self.tracking_id,
            attempts: self.attempts,
        }
    }
}

/// At most this many characters of a body go into an error.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// The most bytes of an answer's body that are read. The bodies of both
/// operations are a few hundred bytes; a gateway's error page can be any
/// size, and only its start is ever shown.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// Reads at most `max` bytes of a body; the rest is left unread (the
/// connection is then closed instead of reused). A body that arrives in one
/// chunk, as small ones do, is returned without a copy.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Bytes, reqwest::Error> {
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    if first.len() >= max {
        return Ok(first.slice(..max));
    }
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut body = bytes::BytesMut::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let room = max - body.len();
        if chunk.len() >= room {
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok(body.freeze())
}

/// The start of a body as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_CHARS * 4)]);
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if out.len() < text.len() || body.len() > SNIPPET_CHARS * 4 {
        out.push('…');
    }
    out
}

/// Reads a `Retry-After` value: delta-seconds or an HTTP-date. Anything
/// else is `None`, and the caller falls back to its backoff schedule. A long
/// wait is kept as it is: what to do with it is the caller's choice.
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More than 20 digits overflows u64: longer than anyone waits.
        Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    }
}

/// `body` as a URL-encoded form, fields in the order of their names (the
/// order means nothing to a form): each field of the object once, each item
/// of a list as a field of its own (`name=a&name=b`), unset fields left
/// out. The generator takes forms of scalars and lists of scalars only; a
/// nested value that still comes (a free-form field) is sent as its JSON
/// text rather than dropped.
pub(crate) fn form<B: serde::Serialize>(body: &B) -> Result<Bytes, Error> {
    let value = serde_json::to_value(body)
        .map_err(|e| Error::Config(format!("the request body could not be serialized: {e}")))?;
    let serde_json::Value::Object(fields) = value else {
        return Err(Error::Config(
            "the request body is not an object, so it cannot be sent as a form".into(),
        ));
    };
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    // Sorted here, so the order does not depend on how serde_json keeps
    // an object's keys (a feature another crate of a build may turn on).
    let mut fields: Vec<(String, serde_json::Value)> = fields.into_iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &fields {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for item in items.iter().filter(|item| !item.is_null()) {
                    form.append_pair(name, &text(item));
                }
            }
            value => {
                form.append_pair(name, &text(value));
            }
        }
    }
    Ok(Bytes::from(form.finish()))
}

/// A `Sec-WebSocket-Key`: 16 random bytes in base64, as RFC 6455 asks.
pub(crate) fn websocket_key(salt: u32) -> reqwest::header::HeaderValue {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&random_u64(u64::from(salt)).to_le_bytes());
    bytes[8..].copy_from_slice(&random_u64(u64::from(salt) ^ u64::MAX).to_le_bytes());
    reqwest::header::HeaderValue::from_str(&base64(&bytes, true))
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="))
}

/// Standard base64, with or without `=` padding.
pub(crate) fn base64(bytes: &[u8], pad: bool) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        // A chunk of k bytes carries k + 1 significant characters.
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[index as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// A cheap source of jitter and ID randomness: std's randomly keyed hasher.
pub(crate) fn random_u64(salt: u64) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn segment(value: &str) -> String {
        let mut url = String::new();
        push_segment(&mut url, value);
        url
    }

    #[test]
    fn only_the_query_parameters_that_are_set_are_written() {
        let mut url = String::from("/x");
        push_query(
            &mut url,
            &[("orgId", None), ("a b", Some("c&d=e")), ("z", Some("1"))],
        );
        assert_eq!(url, "/x?a%20b=c%26d%3De&z=1");
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn retry_after_reads_delta_seconds() {
        assert_eq!(
            parse_retry_after(&headers("7"), SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn retry_after_reads_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&headers(&later), now),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&headers(&earlier), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_or_negative_is_ignored() {
        for value in ["rand(30),add(30)", "-5", "1.5", ""] {
            assert_eq!(
                parse_retry_after(&headers(value), SystemTime::now()),
                None,
                "{value}"
            );
        }
    }

    #[test]
    fn a_long_retry_after_is_kept_as_it_is() {
        assert_eq!(
            parse_retry_after(&headers("86400"), SystemTime::now()),
            Some(Duration::from_secs(86400))
        );
        assert_eq!(
            parse_retry_after(&headers("99999999999999999999999"), SystemTime::now()),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn resending_is_refused_when_the_body_sets_a_named_property() {
        let unless_name = Resend::UnlessBodySets(&["name"]);
        assert!(!unless_name.allows(br#"{"name":"x","agents":[]}"#));
        assert!(unless_name.allows(br#"{"agents":[]}"#));
        assert!(unless_name.allows(b"{}"));
        assert!(Resend::Always.allows(br#"{"name":"x"}"#));
        assert!(!Resend::Never.allows(b"{}"));
    }

    #[test]
    fn segments_encode_everything_that_could_change_the_url() {
        assert_eq!(segment("a/b?c#d%e f..+="), "a%2Fb%3Fc%23d%25e%20f..%2B%3D");
        assert_eq!(segment("Y2lz_-~.9"), "Y2lz_-~.9");
        assert_eq!(segment("é"), "%C3%A9");
        // Runs of ASCII between multi-byte characters of every length.
        assert_eq!(segment("aéb/ü"), "a%C3%A9b%2F%C3%BC");
        assert_eq!(segment("日x本"), "%E6%97%A5x%E6%9C%AC");
        assert_eq!(segment("🦀.🦀"), "%F0%9F%A6%80.%F0%9F%A6%80");
        assert_eq!(segment(""), "");
    }

    #[test]
    fn hex_is_written_as_the_formatter_writes_it() {
        for value in [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            4096,
            0xdead_beef,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = String::from("id-");
            push_hex(&mut out, value);
            assert_eq!(out, format!("id-{value:x}"));
        }
    }

    #[test]
    fn a_websocket_key_is_sixteen_bytes_of_base64() {
        let key = websocket_key(1);
        let key = key.to_str().unwrap();
        assert_eq!(key.len(), 24);
        assert!(key.ends_with("=="));
        assert!(
            key[..22]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        assert_ne!(key, websocket_key(1).to_str().unwrap());
    }

    #[test]
    fn a_form_sends_each_set_field_and_each_item_of_a_list() {
        let body = serde_json::json!({
            "name": "a b&c",
            "count": 3,
            "on": true,
            "unset": null,
            "tags": ["x", "y"],
            "nested": {"k": 1}
        });
        assert_eq!(
            form(&body).unwrap(),
            "count=3&name=a+b%26c&nested=%7B%22k%22%3A1%7D&on=true&tags=x&tags=y"
        );
        assert!(matches!(form(&"text"), Err(Error::Config(_))));
    }

    #[test]
    fn snippets_are_bounded() {
        let body = "x".repeat(10_000);
        assert_eq!(snippet(body.as_bytes()).chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(
            snippet(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }
}
