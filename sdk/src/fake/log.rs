//! The record of every request the fake received.

use std::time::Instant;

use serde_json::Value;

use super::ids::{percent_decode, query_pairs};

/// One request as the fake received it, before any fault or check applied.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) received_at: Instant,
}

impl RecordedRequest {
    /// The method, such as `PUT`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path as sent, still percent-encoded, such as
    /// `/v1/telephony/config/locations/L/huntGroups/a%2Fb`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path's segments, percent-decoded (a segment that does not decode
    /// is kept as sent).
    pub fn path_segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false).unwrap_or_else(|| s.to_string()))
            .collect()
    }

    /// The query string as sent, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The first value of the query parameter `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.as_deref()?)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, names in lower case, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// When the request's body had been read in full.
    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}
