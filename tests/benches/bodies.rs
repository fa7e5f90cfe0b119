//! What a request body costs before it is sent: building the docs' example
//! in Rust, checking it against the spec's rules and serializing it, with
//! `serde_json::to_vec` of the same example held as a `serde_json::Value`
//! beside it as the baseline. And what one `pattern` check costs: the
//! spec's patterns matched by `regress`, the SDK's ECMA-262 engine, beside
//! `regex-lite`, the engine it replaced, as the baseline.
//!
//! `cargo bench -p webex-calling-tests --bench bodies`

use divan::{Bencher, black_box};
use serde_json::Value;
use webex_calling::Validate;
use webex_calling::types::{
    CallPickupNotificationType, HuntGroupAgent, HuntGroupCallPolicies, HuntPolicy,
    NoAnswerSettings, NoAnswerSettingsRequired, RedirectSettings, UpdateCallPickupRequest,
    UpdateHuntGroupRequest,
};

fn main() {
    // A benchmark of a body other than the docs' example would mislead:
    // check that the Rust below builds exactly the spec's example.
    assert_eq!(
        serde_json::to_value(build_hunt_group()).expect("serializes"),
        example("updateHuntGroup"),
        "build_hunt_group() must build the spec's example"
    );
    assert_eq!(
        serde_json::to_value(build_call_pickup()).expect("serializes"),
        example("updateCallPickup"),
        "build_call_pickup() must build the spec's example"
    );
    // More samples than divan's default of 100: the whole run still takes
    // seconds, and the medians hold still on a machine shared with builds.
    // Command-line options (`--sample-count`, …) still take precedence.
    divan::Divan::default()
        .sample_count(2_000)
        .config_with_args()
        .main();
}

fn example(operation_id: &str) -> Value {
    webex_calling_tests::request_example(operation_id)
}

/// The spec's hunt group example, as a caller writes it with the builders.
#[allow(
    deprecated,
    reason = "the spec's example, taken from Webex's page, still sets firstName and lastName"
)]
fn build_hunt_group() -> UpdateHuntGroupRequest {
    UpdateHuntGroupRequest::new()
        .name("5714328359")
        .phone_number("5558675309")
        .extension("7781")
        .first_name("Hakim")
        .last_name("Smith")
        .call_policies(
            HuntGroupCallPolicies::new(
                HuntPolicy::Uniform,
                NoAnswerSettings::new(NoAnswerSettingsRequired {
                    next_agent_enabled: false,
                    next_agent_rings: 5,
                    forward_enabled: false,
                    number_of_rings: 0,
                    destination_voicemail_enabled: false,
                }),
            )
            .waiting_enabled(false)
            .group_busy_enabled(true)
            .allow_members_to_control_group_busy_enabled(true)
            .busy_redirect(
                RedirectSettings::new()
                    .enabled(true)
                    .destination("7037344404")
                    .destination_voicemail_enabled(false),
            )
            .business_continuity_redirect(
                RedirectSettings::new()
                    .enabled(true)
                    .destination("7037344405")
                    .destination_voicemail_enabled(false),
            ),
        )
        .agents([
            HuntGroupAgent::new(
                "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTUwMDk1YS1mZjlmLTExZWItODA2NS04ZjhkOWIxNmIzOTQ",
            ),
            HuntGroupAgent::new(
                "Y2lzY29zcGFyazovL3VzL1BMQUNFLzg0YjQ1OTIyLWZmOWYtMTFlYi1hNGI4LTMzNjI3YmVkNjdiNQ",
            ),
        ])
        .enabled(true)
        .hunt_group_caller_id_for_outgoing_calls_enabled(true)
}

/// The spec's call pickup example, as a caller writes it with the builders.
fn build_call_pickup() -> UpdateCallPickupRequest {
    UpdateCallPickupRequest::new()
        .name("South Alaska-Group")
        .notification_type(CallPickupNotificationType::AudioOnly)
        .notification_delay_timer_seconds(20)
        .agents([
            "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTUwMDk1YS1mZjlmLTExZWItODA2NS04ZjhkOWIxNmIzOTQ",
            "Y2lzY29zcGFyazovL3VzL1BMQUNFLzg0YjQ1OTIyLWZmOWYtMTFlYi1hNGI4LTMzNjI3YmVkNjdiNQ",
            "Y2lzY29zcGFyazovL3VzL1ZJUlRVQUxfTElORS85ODFlNTQ0Yy0xOGI0LTQ2MzItYmFkZi1iYWMwZjFkOGJkYWY=",
        ])
}

#[divan::bench_group]
mod hunt_group {
    use super::*;

    /// The baseline: the same JSON serialized from a `serde_json::Value`.
    #[divan::bench]
    fn baseline_value_to_vec(bencher: Bencher) {
        let value = example("updateHuntGroup");
        bencher.bench_local(|| serde_json::to_vec(black_box(&value)));
    }

    #[divan::bench]
    fn build() -> UpdateHuntGroupRequest {
        build_hunt_group()
    }

    #[divan::bench]
    fn validate(bencher: Bencher) {
        let body = build_hunt_group();
        bencher.bench_local(|| black_box(&body).validate());
    }

    #[divan::bench]
    fn serialize(bencher: Bencher) {
        let body = build_hunt_group();
        bencher.bench_local(|| serde_json::to_vec(black_box(&body)));
    }

    /// Everything `send()` does to a body built in Rust before it is sent.
    #[divan::bench]
    fn build_validate_serialize() -> Vec<u8> {
        let body = build_hunt_group();
        body.validate().expect("the example keeps every rule");
        serde_json::to_vec(&body).expect("the example serializes")
    }

    /// A body that arrives as JSON: parsed with paths kept for errors, then
    /// checked.
    #[divan::bench]
    fn parse_body(bencher: Bencher) {
        let json = example("updateHuntGroup").to_string();
        bencher
            .bench_local(|| webex_calling::parse_body::<UpdateHuntGroupRequest>(black_box(&json)));
    }
}

#[divan::bench_group]
mod call_pickup {
    use super::*;

    /// The baseline: the same JSON serialized from a `serde_json::Value`.
    #[divan::bench]
    fn baseline_value_to_vec(bencher: Bencher) {
        let value = example("updateCallPickup");
        bencher.bench_local(|| serde_json::to_vec(black_box(&value)));
    }

    #[divan::bench]
    fn build() -> UpdateCallPickupRequest {
        build_call_pickup()
    }

    #[divan::bench]
    fn validate(bencher: Bencher) {
        let body = build_call_pickup();
        bencher.bench_local(|| black_box(&body).validate());
    }

    #[divan::bench]
    fn serialize(bencher: Bencher) {
        let body = build_call_pickup();
        bencher.bench_local(|| serde_json::to_vec(black_box(&body)));
    }

    /// Everything `send()` does to a body built in Rust before it is sent.
    #[divan::bench]
    fn build_validate_serialize() -> Vec<u8> {
        let body = build_call_pickup();
        body.validate().expect("the example keeps every rule");
        serde_json::to_vec(&body).expect("the example serializes")
    }

    /// A body that arrives as JSON: parsed with paths kept for errors, then
    /// checked.
    #[divan::bench]
    fn parse_body(bencher: Bencher) {
        let json = example("updateCallPickup").to_string();
        bencher
            .bench_local(|| webex_calling::parse_body::<UpdateCallPickupRequest>(black_box(&json)));
    }
}

/// The spec's `pattern`s, each with a value it accepts: the longest string
/// of the spec's examples that matches it, so a check reads a real value.
fn patterns() -> Vec<(String, String)> {
    let spec = webex_calling_tests::spec();
    let mut patterns = Vec::new();
    collect_patterns(&spec, &mut patterns);
    patterns.sort();
    patterns.dedup();
    assert!(!patterns.is_empty(), "the spec has no pattern to measure");
    patterns
        .into_iter()
        .map(|pattern| {
            let re = regex_lite::Regex::new(&pattern).expect("the spec's pattern compiles");
            let mut values = Vec::new();
            collect_example_strings(&spec, false, &mut values);
            let value = values
                .into_iter()
                .filter(|v| re.is_match(v))
                .max_by_key(String::len)
                .unwrap_or_else(|| panic!("no example of the spec matches {pattern}"));
            (pattern, value)
        })
        .collect()
}

fn collect_patterns(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(pattern)) = map.get("pattern") {
                out.push(pattern.clone());
            }
            map.values().for_each(|v| collect_patterns(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, out)),
        _ => {}
    }
}

fn collect_example_strings(value: &Value, in_example: bool, out: &mut Vec<String>) {
    match value {
        Value::String(text) if in_example => out.push(text.clone()),
        Value::Object(map) => {
            for (key, child) in map {
                let in_example = in_example || key == "example" || key == "examples";
                collect_example_strings(child, in_example, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_example_strings(v, in_example, out)),
        _ => {}
    }
}

#[divan::bench_group]
mod patterns {
    use super::*;

    /// The baseline: every pattern of the spec matched by `regex-lite`.
    #[divan::bench]
    fn baseline_regex_lite(bencher: Bencher) {
        let compiled: Vec<(regex_lite::Regex, String)> = patterns()
            .into_iter()
            .map(|(p, v)| (regex_lite::Regex::new(&p).expect("compiles"), v))
            .collect();
        bencher.bench_local(|| {
            compiled
                .iter()
                .all(|(re, value)| re.is_match(black_box(value)))
        });
    }

    /// The same with `regress`, as `Validate` does.
    #[divan::bench]
    fn regress(bencher: Bencher) {
        let compiled: Vec<(regress::Regex, String)> = patterns()
            .into_iter()
            .map(|(p, v)| (regress::Regex::new(&p).expect("compiles"), v))
            .collect();
        bencher.bench_local(|| {
            compiled
                .iter()
                .all(|(re, value)| re.find(black_box(value)).is_some())
        });
    }
}
