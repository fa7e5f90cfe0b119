//! The SDK's requests, judged by a validator this project did not write:
//! Stoplight Prism serving `spec/webex-calling.yaml` as a validating mock.
//!
//! Prism is pinned by `tests/conformance/package-lock.json` and installed by
//! `cargo xtask test`. One Prism serves every test in this file. Each SDK
//! test sends through its own recording relay on loopback, so it sees the
//! status Prism answered and Prism's `sl-violations` header, which lists
//! every rule a request broke, even where the SDK would not show them.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use webex_calling::types::{
    AlternateNumber, DirectLineCallerIdName, DirectLineCallerIdSelection, HuntGroupAgent,
    HuntGroupCallPolicies, HuntPolicy, NoAnswerSettings, NoAnswerSettingsRequired,
    RedirectSettings, RingPattern, UpdateCallPickupRequest, UpdateCallPickupResponse,
    UpdateHuntGroupRequest,
};
use webex_calling::{Client, Error, RetryPolicy, parse_body};
use webex_calling_tests::{request_example, spec};

const LOCATION: &str = "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzMxMTYx";
const CALL_PICKUP: &str = "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0";
const HUNT_GROUP: &str = "Y2lzY29zcGFyazovL3VzL0hVTlRfR1JPVVAvaHVudGdyb3VwMQ";
const PERSON: &str =
    "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTUwMDk1YS1mZjlmLTExZWItODA2NS04ZjhkOWIxNmIzOTQ";
const PLACE: &str =
    "Y2lzY29zcGFyazovL3VzL1BMQUNFLzg0YjQ1OTIyLWZmOWYtMTFlYi1hNGI4LTMzNjI3YmVkNjdiNQ";
const TOKEN: &str = "conformance-token";

/// Generous: Node starts Prism in about a second on an idle machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs Prism until this shell's stdin closes, and exits when Prism does.
///
/// The test process holds the other end of stdin and nothing else writes
/// to it, so however that process ends (tests done, a panic, a kill) the
/// pipe closes and Prism is stopped: a process kept in a `static` is never
/// dropped, so a `Drop` impl could not do it.
const SUPERVISOR: &str = r#"
exec 2>&1
exec 3<&0
"$0" "$@" </dev/null 3<&- &
prism=$!
{ cat <&3; kill "$prism"; } >/dev/null 2>&1 &
watcher=$!
exec 3<&-
wait "$prism"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// The running Prism; its process ends when the test process does.
struct Prism {
    url: String,
    _supervisor: Child,
}

static PRISM: OnceLock<Result<Prism, String>> = OnceLock::new();

/// The base URL of the shared Prism, started on first use.
fn prism_url() -> &'static str {
    match PRISM.get_or_init(start_prism) {
        Ok(prism) => &prism.url,
        Err(message) => panic!("{message}"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one level below the workspace root")
        .to_path_buf()
}

fn start_prism() -> Result<Prism, String> {
    let root = workspace_root();
    let bin = root.join("tests/conformance/node_modules/.bin/prism");
    if !bin.exists() {
        return Err(format!(
            "Stoplight Prism is not installed ({} is missing): run `cargo xtask test`, \
             which installs it with `npm ci` from tests/conformance/package-lock.json",
            bin.display()
        ));
    }
    let spec = root.join("spec/webex-calling.yaml");
    let mut output = String::new();
    // The free port is found before Prism binds it, so another process can
    // take it in between; that is retried with a new port.
    for _ in 0..3 {
        match start_prism_once(&bin, &spec)? {
            Ok(prism) => return Ok(prism),
            Err(said) => output = said,
        }
        if !output.contains("EADDRINUSE") {
            break;
        }
    }
    Err(format!(
        "Stoplight Prism ({}) exited before it listened; if it is broken, run \
         `cargo xtask test` to reinstall it. It said:\n{output}",
        bin.display()
    ))
}

/// Starts Prism on a free port: `Ok(Err(output))` when it exited before
/// listening, `Err` when it could not be started or did not listen in time.
fn start_prism_once(bin: &Path, spec: &Path) -> Result<Result<Prism, String>, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
        .port();
    let mut supervisor = Command::new("sh")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(bin)
        .arg("mock")
        .arg(spec)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        // Request violations become error answers listing them.
        .arg("--errors")
        .env("SCARF_ANALYTICS", "false")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start Stoplight Prism through sh: {e}"))?;
    let stdout = supervisor.stdout.take().expect("stdout is piped");
    let started = watch_output(stdout);
    match started.recv_timeout(START_TIMEOUT) {
        Ok(Ok(())) => Ok(Ok(Prism {
            url: format!("http://127.0.0.1:{port}"),
            _supervisor: supervisor,
        })),
        Ok(Err(output)) => {
            let _ = supervisor.wait();
            Ok(Err(output))
        }
        Err(_) => Err(format!(
            "Stoplight Prism did not listen on 127.0.0.1:{port} within {}s",
            START_TIMEOUT.as_secs()
        )),
    }
}

/// Reads Prism's output until it ends, so Prism never blocks on a full
/// pipe. Sends `Ok` once Prism listens, or everything it said if it exits
/// first.
fn watch_output(stdout: ChildStdout) -> mpsc::Receiver<Result<(), String>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut said = String::new();
        let mut listening = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if listening {
                continue;
            }
            let text = String::from_utf8_lossy(&line);
            said.push_str(&text);
            if text.contains("Prism is listening on") {
                listening = true;
                let _ = sender.send(Ok(()));
            }
        }
        if !listening {
            let _ = sender.send(Err(said));
        }
    });
    receiver
}

/// One request as Prism received it, and Prism's verdict.
#[derive(Debug)]
struct Exchange {
    method: String,
    target: String,
    body: Value,
    status: u16,
    /// The `sl-violations` header: every rule the request broke.
    violations: Option<String>,
}

/// A relay on loopback in front of the shared Prism that records every
/// request it passes on and what Prism answered.
struct Relay {
    url: String,
    exchanges: Arc<Mutex<Vec<Result<Exchange, String>>>>,
}

impl Relay {
    async fn start() -> Relay {
        let upstream = prism_url().to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let url = format!("http://{}", listener.local_addr().expect("relay address"));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&exchanges);
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("relay client");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, http, record) = (upstream.clone(), http.clone(), record.clone());
                tokio::spawn(async move {
                    let exchange = relay(stream, &upstream, &http).await;
                    record.lock().expect("relay record").push(exchange);
                });
            }
        });
        Relay { url, exchanges }
    }

    /// An SDK client that sends through this relay, without retries so a
    /// refusal shows as it is.
    fn client(&self) -> Client {
        Client::builder()
            .token(TOKEN)
            .base_url(&self.url)
            .retry(RetryPolicy::none())
            .build()
            .expect("client")
    }

    /// Asserts that Prism received exactly one `PUT`, found no violation
    /// in it and answered `status`; returns that request.
    fn conforming_exchange(&self, status: u16) -> Exchange {
        self.conforming_exchange_of("PUT", status)
    }

    /// Asserts that Prism received exactly one request with `method`, found
    /// no violation in it and answered `status`; returns that request.
    fn conforming_exchange_of(&self, method: &str, status: u16) -> Exchange {
        let mut exchanges = self.exchanges.lock().expect("relay record");
        assert_eq!(exchanges.len(), 1, "requests relayed: {exchanges:?}");
        let exchange = exchanges
            .pop()
            .expect("one request")
            .unwrap_or_else(|e| panic!("the relay failed: {e}"));
        assert_eq!(
            exchange.violations, None,
            "Prism found violations in {exchange:#?}"
        );
        assert_eq!(exchange.status, status, "{exchange:#?}");
        assert_eq!(exchange.method, method, "{exchange:#?}");
        exchange
    }
}

/// Passes one request from `stream` to Prism and Prism's answer back.
async fn relay(
    stream: tokio::net::TcpStream,
    upstream: &str,
    http: &reqwest::Client,
) -> Result<Exchange, String> {
    let mut stream = tokio::io::BufReader::new(stream);
    let mut request_line = String::new();
    stream
        .read_line(&mut request_line)
        .await
        .map_err(|e| format!("reading the request line: {e}"))?;
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("not an HTTP request line: {request_line:?}"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream
            .read_line(&mut line)
            .await
            .map_err(|e| format!("reading the headers: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("not a header line: {line:?}"));
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
        match name.as_str() {
            "content-length" => {
                length = value
                    .parse()
                    .map_err(|_| format!("bad content-length {value:?}"))?;
            }
            "transfer-encoding" => return Err("a chunked body, which the SDK never sends".into()),
            "host" | "connection" | "keep-alive" => {}
            _ => headers.push((name, value)),
        }
    }
    let mut body = vec![0; length];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    let mut request = http.request(
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?,
        format!("{upstream}{target}"),
    );
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let answer = request
        .body(body.clone())
        .send()
        .await
        .map_err(|e| format!("sending to Prism: {e}"))?;
    let status = answer.status();
    let mut head = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "connection" | "keep-alive" | "transfer-encoding"
        ) {
            head.push_str(&format!(
                "{name}: {}\r\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
    }
    let violations = answer
        .headers()
        .get("sl-violations")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let answer_body = answer
        .bytes()
        .await
        .map_err(|e| format!("reading Prism's answer: {e}"))?;
    if status != reqwest::StatusCode::NO_CONTENT {
        head.push_str(&format!("content-length: {}\r\n", answer_body.len()));
    }
    head.push_str("\r\n");
    let stream = stream.get_mut();
    let written = match stream.write_all(head.as_bytes()).await {
        Ok(()) => stream.write_all(&answer_body).await,
        Err(e) => Err(e),
    };
    written.map_err(|e| format!("answering the SDK: {e}"))?;
    let _ = stream.shutdown().await;
    Ok(Exchange {
        method,
        target,
        // A read sends no body.
        body: if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| format!("the SDK sent a body that is not JSON: {e}"))?
        },
        status: status.as_u16(),
        violations,
    })
}

fn call_pickup_path() -> String {
    format!("/telephony/config/locations/{LOCATION}/callPickups/{CALL_PICKUP}")
}

fn hunt_group_path() -> String {
    format!("/telephony/config/locations/{LOCATION}/huntGroups/{HUNT_GROUP}")
}

// These return the SDK's result for the test to check after the relay's
// record, which names the violations where the SDK's error would not.

async fn send_call_pickup(
    relay: &Relay,
    body: UpdateCallPickupRequest,
) -> Result<UpdateCallPickupResponse, Error> {
    relay
        .client()
        .update_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(CALL_PICKUP)
        .body(body)
        .send()
        .await
}

async fn send_hunt_group(relay: &Relay, body: UpdateHuntGroupRequest) -> Result<(), Error> {
    relay
        .client()
        .update_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(body)
        .send()
        .await
}

/// The paths of every property the schema `schema` of `spec` defines that
/// `value` leaves out, looking into every object and every list item.
fn unset_fields(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return unset_fields(spec, &spec["components"]["schemas"][name], value, at);
    }
    let mut unset = Vec::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            match value.get(name) {
                Some(field) => unset.extend(unset_fields(spec, property, field, &path)),
                None => unset.push(path),
            }
        }
    }
    if let Some(items) = schema.get("items") {
        match value.as_array() {
            Some(list) if !list.is_empty() => {
                for (index, item) in list.iter().enumerate() {
                    unset.extend(unset_fields(spec, items, item, &format!("{at}[{index}]")));
                }
            }
            _ => unset.push(format!("{at}[]")),
        }
    }
    unset
}

#[tokio::test]
async fn the_docs_call_pickup_example_passes_prism() {
    let example = request_example("updateCallPickup");
    let body: UpdateCallPickupRequest = parse_body(&example.to_string()).expect("the example");
    let relay = Relay::start().await;

    let sent = send_call_pickup(&relay, body).await;

    let exchange = relay.conforming_exchange(200);
    assert_eq!(exchange.target, call_pickup_path());
    assert_eq!(exchange.body, example);
    let id = sent.expect("the SDK reads Prism's answer").id;
    // Prism answers with the spec's response example, which the SDK read.
    let answer = &spec()["paths"]["/telephony/config/locations/{locationId}/callPickups/{callPickupId}"]
        ["put"]["responses"]["200"]["content"]["application/json"]["example"];
    assert_eq!(Some(id.as_str()), answer["id"].as_str());
}

#[tokio::test]
async fn the_docs_hunt_group_example_passes_prism() {
    let example = request_example("updateHuntGroup");
    let body: UpdateHuntGroupRequest = parse_body(&example.to_string()).expect("the example");
    let relay = Relay::start().await;

    let sent = send_hunt_group(&relay, body).await;

    let exchange = relay.conforming_exchange(204);
    assert_eq!(exchange.target, hunt_group_path());
    assert_eq!(exchange.body, example);
    sent.expect("the SDK takes Prism's 204");
}

#[tokio::test]
#[allow(
    deprecated,
    reason = "every field is set, the ones Webex deprecates included: they are still accepted"
)]
async fn a_hunt_group_body_with_every_field_set_passes_prism() {
    let body = UpdateHuntGroupRequest::new()
        .enabled(true)
        .name("Support line")
        .phone_number("+15558675309")
        .extension("7781")
        .distinctive_ring(true)
        .alternate_numbers([
            AlternateNumber::new("+15558675310").ring_pattern(RingPattern::LongLong),
            AlternateNumber::new("7782").ring_pattern(RingPattern::ShortShortLong),
        ])
        .language_code("en_us")
        .first_name("Hakim")
        .last_name("Smith")
        .time_zone("America/Chicago")
        .call_policies(
            HuntGroupCallPolicies::new(
                HuntPolicy::Weighted,
                NoAnswerSettings::new(NoAnswerSettingsRequired {
                    next_agent_enabled: true,
                    next_agent_rings: 5,
                    forward_enabled: true,
                    number_of_rings: 3,
                    destination_voicemail_enabled: true,
                })
                .destination("7037344403"),
            )
            .waiting_enabled(true)
            .group_busy_enabled(false)
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
                    .destination_voicemail_enabled(true),
            ),
        )
        .agents([
            HuntGroupAgent::new(PERSON).weight("70"),
            HuntGroupAgent::new(PLACE).weight("30"),
        ])
        .hunt_group_caller_id_for_outgoing_calls_enabled(true)
        .direct_line_caller_id_name(
            DirectLineCallerIdName::new(DirectLineCallerIdSelection::CustomName)
                .custom_name("Support"),
        )
        .dial_by_name("Support");
    let relay = Relay::start().await;

    let sent = send_hunt_group(&relay, body).await;

    let exchange = relay.conforming_exchange(204);
    sent.expect("the SDK takes Prism's 204");
    let schema = json!({ "$ref": "#/components/schemas/UpdateHuntGroupRequest" });
    assert_eq!(
        unset_fields(&spec(), &schema, &exchange.body, ""),
        Vec::<String>::new(),
        "fields of the spec the body left out"
    );
}

#[tokio::test]
async fn an_empty_call_pickup_body_passes_prism() {
    let relay = Relay::start().await;

    let sent = send_call_pickup(&relay, UpdateCallPickupRequest::new()).await;

    assert_eq!(relay.conforming_exchange(200).body, json!({}));
    sent.expect("the SDK reads Prism's answer");
}

#[tokio::test]
async fn an_empty_hunt_group_body_passes_prism() {
    let relay = Relay::start().await;

    let sent = send_hunt_group(&relay, UpdateHuntGroupRequest::new()).await;

    assert_eq!(relay.conforming_exchange(204).body, json!({}));
    sent.expect("the SDK takes Prism's 204");
}

#[tokio::test]
async fn hunt_group_lists_emptied_to_remove_every_entry_pass_prism() {
    let relay = Relay::start().await;
    let body = UpdateHuntGroupRequest::new()
        .agents(Vec::<HuntGroupAgent>::new())
        .alternate_numbers(Vec::<AlternateNumber>::new());

    let sent = send_hunt_group(&relay, body).await;

    assert_eq!(
        relay.conforming_exchange(204).body,
        json!({ "agents": [], "alternateNumbers": [] })
    );
    sent.expect("the SDK takes Prism's 204");
}

#[tokio::test]
async fn call_pickup_agents_emptied_to_remove_every_member_pass_prism() {
    let relay = Relay::start().await;
    let body = UpdateCallPickupRequest::new().agents(Vec::<String>::new());

    let sent = send_call_pickup(&relay, body).await;

    assert_eq!(relay.conforming_exchange(200).body, json!({ "agents": [] }));
    sent.expect("the SDK reads Prism's answer");
}

/// Sends `body` to Prism as is, past the SDK and its checks, and returns the
/// status and the violations Prism listed.
#[tokio::test]
async fn a_call_pickup_read_passes_prism_and_its_example_answer_is_read() {
    let relay = Relay::start().await;
    let read = relay
        .client()
        .get_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(CALL_PICKUP)
        .org_id("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8x")
        .send()
        .await
        .unwrap();
    let exchange = relay.conforming_exchange_of("GET", 200);
    assert_eq!(exchange.body, Value::Null);
    assert!(exchange.target.contains("?orgId="), "{exchange:#?}");
    assert_eq!(read.name, "South Alaska-Group");
    let agents = read.agents.unwrap();
    assert!(agents[0].phone_number.is_some(), "{agents:?}");
}

#[tokio::test]
async fn a_hunt_group_read_passes_prism_and_its_example_answer_is_read() {
    let relay = Relay::start().await;
    let read = relay
        .client()
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await
        .unwrap();
    let exchange = relay.conforming_exchange_of("GET", 200);
    assert_eq!(exchange.body, Value::Null);
    assert_eq!(read.call_policies.policy, HuntPolicy::Uniform);
    assert_eq!(
        read.call_policies.no_answer.system_max_number_of_rings,
        Some(15)
    );
}

#[tokio::test]
async fn a_hunt_group_read_written_back_passes_prism() {
    let relay = Relay::start().await;
    let client = relay.client();
    let read = client
        .get_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await
        .unwrap();
    relay.exchanges.lock().expect("relay record").clear();
    send_hunt_group(&relay, read.to_update()).await.unwrap();
    relay.conforming_exchange(204);
}

async fn send_raw(path: &str, body: &Value, token: Option<&str>) -> (u16, Vec<Value>) {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .put(format!("{}{path}", prism_url()))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let answer = request.send().await.expect("Prism answers");
    let violations = answer
        .headers()
        .get("sl-violations")
        .map(|v| serde_json::from_slice(v.as_bytes()).expect("sl-violations is JSON"))
        .unwrap_or_default();
    (answer.status().as_u16(), violations)
}

#[tokio::test]
async fn a_delay_sent_as_text_is_reported_by_prism() {
    let mut body = request_example("updateCallPickup");
    body["notificationDelayTimerSeconds"] = json!("twenty");

    let (status, violations) = send_raw(&call_pickup_path(), &body, Some(TOKEN)).await;

    // Prism answers a broken request with the operation's 400 response.
    assert_eq!(status, 400, "{violations:#?}");
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(
        violations[0]["location"],
        json!(["request", "body", "notificationDelayTimerSeconds"])
    );
    assert_eq!(violations[0]["code"], "type");
    assert_eq!(violations[0]["severity"], "Error");
}

#[tokio::test]
async fn an_unknown_hunt_policy_is_reported_by_prism() {
    let mut body = request_example("updateHuntGroup");
    body["callPolicies"]["policy"] = json!("ROUND_ROBIN");

    let (status, violations) = send_raw(&hunt_group_path(), &body, Some(TOKEN)).await;

    assert_eq!(status, 400, "{violations:#?}");
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(
        violations[0]["location"],
        json!(["request", "body", "callPolicies", "policy"])
    );
    assert_eq!(violations[0]["code"], "enum");
    assert_eq!(violations[0]["severity"], "Error");
}

#[tokio::test]
async fn a_request_without_a_token_is_reported_by_prism() {
    let body = request_example("updateCallPickup");

    let (status, violations) = send_raw(&call_pickup_path(), &body, None).await;

    assert_eq!(status, 401, "{violations:#?}");
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0]["location"], json!(["request"]));
    assert_eq!(violations[0]["severity"], "Error");
}

// The operations beyond the two reads and updates: each is sent by the SDK
// through Prism, which finds no violation and answers with the spec's
// example, which the SDK reads.

const RULE: &str = "Y2lzY29zcGFyazovL3VzL0NBTExfRk9SV0FSRElOR19TRUxFQ1RJVkVfUlVMRS9WMmhsYmxSdg";

fn example_body<T: webex_calling::Validate + serde::de::DeserializeOwned>(operation_id: &str) -> T {
    parse_body(&request_example(operation_id).to_string()).expect("the spec's example parses")
}

#[tokio::test]
async fn a_call_pickup_list_page_passes_prism() {
    let relay = Relay::start().await;

    let list = relay
        .client()
        .list_call_pickups()
        .location_id(LOCATION)
        .max(50)
        .start(100)
        .order("ASC")
        .name("Alaska")
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("GET", 200);
    assert_eq!(
        exchange.target,
        format!(
            "/telephony/config/locations/{LOCATION}/callPickups?max=50&start=100&order=ASC&name=Alaska"
        )
    );
    assert_eq!(list.unwrap().call_pickups[1].name, "South Alaska-Group");
}

#[tokio::test]
async fn a_call_pickup_create_passes_prism_and_answers_201() {
    let relay = Relay::start().await;
    let body: webex_calling::types::CreateCallPickupRequest = example_body("createCallPickup");

    let created = relay
        .client()
        .create_call_pickup()
        .location_id(LOCATION)
        .body(body)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("POST", 201);
    assert_eq!(exchange.body, request_example("createCallPickup"));
    assert!(!created.unwrap().id.is_empty());
}

#[tokio::test]
async fn a_call_pickup_delete_passes_prism() {
    let relay = Relay::start().await;

    let deleted = relay
        .client()
        .delete_call_pickup()
        .location_id(LOCATION)
        .call_pickup_id(CALL_PICKUP)
        .send()
        .await;

    assert_eq!(
        relay.conforming_exchange_of("DELETE", 204).target,
        call_pickup_path()
    );
    deleted.unwrap();
}

#[tokio::test]
async fn the_available_agents_list_passes_prism_and_reads_a_virtual_line_without_email() {
    let relay = Relay::start().await;

    let agents = relay
        .client()
        .list_call_pickup_available_agents()
        .location_id(LOCATION)
        .call_pickup_name("North Alaska-Pickup")
        .name("John")
        .phone_number("9075552334")
        .order("lname|fname")
        .max(10)
        .send()
        .await;

    relay.conforming_exchange_of("GET", 200);
    let agents = agents.unwrap().agents;
    assert_eq!(agents.len(), 2);
    assert_eq!(agents[1].email, None);
}

#[tokio::test]
async fn a_hunt_group_list_streamed_passes_prism() {
    let relay = Relay::start().await;

    let groups: Vec<_> = futures_util::StreamExt::collect(
        relay
            .client()
            .list_hunt_groups()
            .location_id(LOCATION)
            .name("Support")
            .phone_number("+15558675309")
            .max(2)
            .stream(),
    )
    .await;

    let exchange = relay.conforming_exchange_of("GET", 200);
    assert!(exchange.target.contains("max=2&start=0"), "{exchange:#?}");
    assert_eq!(
        groups.len(),
        2,
        "Prism's example page, and no Link to a next one"
    );
    assert!(groups.iter().all(Result::is_ok), "{groups:?}");
}

#[tokio::test]
async fn a_hunt_group_create_passes_prism_and_answers_200() {
    let relay = Relay::start().await;
    let body: webex_calling::types::CreateHuntGroupRequest = example_body("createHuntGroup");

    let created = relay
        .client()
        .create_hunt_group()
        .location_id(LOCATION)
        .body(body)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("POST", 200);
    assert_eq!(exchange.body, request_example("createHuntGroup"));
    assert!(!created.unwrap().id.is_empty());
}

#[tokio::test]
async fn a_hunt_group_delete_passes_prism() {
    let relay = Relay::start().await;

    let deleted = relay
        .client()
        .delete_hunt_group()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await;

    assert_eq!(
        relay.conforming_exchange_of("DELETE", 204).target,
        hunt_group_path()
    );
    deleted.unwrap();
}

#[tokio::test]
async fn a_call_forwarding_read_passes_prism() {
    let relay = Relay::start().await;

    let read = relay
        .client()
        .get_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await;

    relay.conforming_exchange_of("GET", 200);
    let forwarding = read.unwrap().call_forwarding;
    assert_eq!(forwarding.selective.destination.as_deref(), Some("35556"));
    assert_eq!(forwarding.operating_modes.unwrap().modes.unwrap().len(), 1);
}

#[tokio::test]
async fn the_docs_call_forwarding_update_passes_prism() {
    let relay = Relay::start().await;
    let body: webex_calling::types::UpdateHuntGroupCallForwardingRequest =
        example_body("updateHuntGroupCallForwardingSettings");

    let sent = relay
        .client()
        .update_hunt_group_call_forwarding_settings()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(body)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("PUT", 204);
    assert_eq!(
        exchange.body,
        request_example("updateHuntGroupCallForwardingSettings")
    );
    sent.unwrap();
}

#[tokio::test]
async fn a_selective_rule_create_passes_prism_and_answers_201() {
    let relay = Relay::start().await;
    let body: webex_calling::types::CreateSelectiveForwardingRuleRequest =
        example_body("createHuntGroupSelectiveCallForwardingRule");

    let created = relay
        .client()
        .create_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .body(body)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("POST", 201);
    assert_eq!(
        exchange.body,
        request_example("createHuntGroupSelectiveCallForwardingRule")
    );
    assert!(!created.unwrap().id.is_empty());
}

#[tokio::test]
async fn a_selective_rule_read_passes_prism_and_writes_back_what_changed() {
    let relay = Relay::start().await;
    let client = relay.client();
    let rule = client
        .get_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(RULE)
        .send()
        .await;
    relay.conforming_exchange_of("GET", 200);
    let rule = rule.unwrap();
    let mut changed = rule.clone();
    changed.enabled = Some(false);

    let updated = client
        .update_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(RULE)
        .body(changed.changes_since(&rule))
        .send_with_meta()
        .await;

    let exchange = relay.conforming_exchange_of("PUT", 201);
    assert_eq!(exchange.body, json!({ "enabled": false }));
    assert_eq!(updated.unwrap().status(), 201);
}

#[tokio::test]
async fn the_docs_selective_rule_update_passes_prism() {
    let relay = Relay::start().await;
    let body: webex_calling::types::UpdateSelectiveForwardingRuleRequest =
        example_body("updateHuntGroupSelectiveCallForwardingRule");

    let updated = relay
        .client()
        .update_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(RULE)
        .body(body)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("PUT", 201);
    assert_eq!(
        exchange.body,
        request_example("updateHuntGroupSelectiveCallForwardingRule")
    );
    assert!(!updated.unwrap().id.is_empty());
}

#[tokio::test]
async fn a_selective_rule_delete_passes_prism() {
    let relay = Relay::start().await;

    let deleted = relay
        .client()
        .delete_hunt_group_selective_call_forwarding_rule()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .rule_id(RULE)
        .send()
        .await;

    relay.conforming_exchange_of("DELETE", 204);
    deleted.unwrap();
}

#[tokio::test]
async fn the_operating_mode_switch_passes_prism() {
    let relay = Relay::start().await;

    let switched = relay
        .client()
        .switch_hunt_group_call_forwarding_mode()
        .location_id(LOCATION)
        .hunt_group_id(HUNT_GROUP)
        .send()
        .await;

    let exchange = relay.conforming_exchange_of("POST", 204);
    assert_eq!(exchange.body, Value::Null, "no body is sent");
    assert!(
        exchange
            .target
            .ends_with("/callForwarding/actions/switchMode/invoke")
    );
    switched.unwrap();
}

#[tokio::test]
async fn the_three_available_number_lists_pass_prism() {
    let relay = Relay::start().await;
    let client = relay.client();

    let primary = client
        .get_hunt_group_primary_available_phone_numbers()
        .location_id(LOCATION)
        .phone_number("+12056852221,+12056852222")
        .max(5)
        .start(0)
        .send()
        .await;
    let exchange = relay.conforming_exchange_of("GET", 200);
    assert!(
        exchange
            .target
            .contains("phoneNumber=%2B12056852221%2C%2B12056852222"),
        "{exchange:#?}"
    );
    assert_eq!(primary.unwrap().phone_numbers.len(), 3);

    let alternate = client
        .get_hunt_group_alternate_available_phone_numbers()
        .location_id(LOCATION)
        .send()
        .await;
    relay.conforming_exchange_of("GET", 200);
    assert_eq!(alternate.unwrap().phone_numbers.len(), 3);

    let forward = client
        .get_hunt_group_call_forward_available_phone_numbers()
        .location_id(LOCATION)
        .owner_name("Test")
        .extension("1235")
        .send()
        .await;
    relay.conforming_exchange_of("GET", 200);
    let numbers = forward.unwrap().phone_numbers;
    assert_eq!(
        numbers[2].owner.as_ref().map(|owner| &owner.type_),
        Some(&webex_calling::types::NumberOwnerType::CallQueue)
    );
}
