//! The fields of the span each call runs in: OpenTelemetry's names for an
//! HTTP client, with the values a trace backend lines up with the rest of
//! a service's traces.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use webex_calling::RetryPolicy;
use webex_calling::fake::{FakeWebex, Fault, fixtures};
use webex_calling::types::UpdateHuntGroupRequest;

type Fields = BTreeMap<String, String>;

/// Every `webex_calling.call` span's fields, by the tracking ID it was
/// opened with.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<BTreeMap<u64, Fields>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Calls {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "webex_calling.call" {
            let mut fields = Fields::new();
            attrs.record(&mut Collect(&mut fields));
            self.0.lock().unwrap().insert(id.into_u64(), fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(fields) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Collect(fields));
        }
    }
}

fn calls() -> &'static Calls {
    static CALLS: OnceLock<Calls> = OnceLock::new();
    CALLS.get_or_init(|| {
        let calls = Calls::default();
        let subscriber = tracing_subscriber::registry().with(calls.clone());
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        calls
    })
}

/// The fields of the span whose `tracking_id` is `tracking_id`.
fn span_of(tracking_id: &str) -> Fields {
    calls()
        .0
        .lock()
        .unwrap()
        .values()
        .find(|fields| fields.get("tracking_id").map(String::as_str) == Some(tracking_id))
        .cloned()
        .unwrap_or_else(|| panic!("no span for {tracking_id}"))
}

#[tokio::test]
async fn a_call_that_was_resent_has_the_otel_fields_of_its_last_answer() {
    calls();
    let fake = FakeWebex::start().await;
    fake.push_fault(Fault::status(503));
    let client = fake
        .client_builder()
        .retry(RetryPolicy::default().backoff(
            std::time::Duration::from_millis(5),
            std::time::Duration::from_millis(10),
        ))
        .build()
        .unwrap();

    let done = client
        .update_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id(fixtures::HUNT_GROUP_ID)
        .body(UpdateHuntGroupRequest::new().enabled(true))
        .send_with_meta()
        .await
        .unwrap();

    let fields = span_of(fake.requests()[1].header("trackingid").unwrap());
    let port = fake.addr().port();
    let expected = [
        ("http.request.method", "PUT".to_string()),
        (
            "url.full",
            format!(
                "http://127.0.0.1:{port}/v1/telephony/config/locations/{}/huntGroups/{}",
                fixtures::LOCATION_ID,
                fixtures::HUNT_GROUP_ID
            ),
        ),
        ("server.address", "127.0.0.1".to_string()),
        ("http.response.status_code", "204".to_string()),
        ("http.request.resend_count", "1".to_string()),
        ("otel.kind", "client".to_string()),
        ("operation", "updateHuntGroup".to_string()),
    ];
    for (name, value) in expected {
        assert_eq!(fields.get(name), Some(&value), "{name} in {fields:#?}");
    }
    assert!(!fields.contains_key("error.type"), "{fields:#?}");
    assert_eq!(done.attempts(), 2);
}

#[tokio::test]
async fn a_failed_call_names_its_error_type() {
    calls();
    let fake = FakeWebex::start().await;
    let error = fake
        .client()
        .get_hunt_group()
        .location_id(fixtures::LOCATION_ID)
        .hunt_group_id("no-such-group")
        .send()
        .await
        .unwrap_err();

    let sent = fake.requests()[0].header("trackingid").unwrap().to_string();
    let fields = span_of(&sent);
    assert_eq!(
        fields.get("error.type").map(String::as_str),
        Some("404"),
        "{fields:#?}"
    );
    assert_eq!(
        fields.get("http.response.status_code").map(String::as_str),
        Some("404")
    );
    assert!(
        !fields.contains_key("http.request.resend_count"),
        "{fields:#?}"
    );
    assert!(error.is_not_found());
}
