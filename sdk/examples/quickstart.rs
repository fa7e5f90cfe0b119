//! The SDK end to end in one command: the Webex docs' two example updates,
//! sent through the SDK.
//!
//! With no `WEBEX_TOKEN`, they go to a fake Webex started in this process:
//!
//! ```sh
//! cargo run -p webex-calling --example quickstart
//! ```
//!
//! With `WEBEX_TOKEN` set, they go to Webex (`WEBEX_BASE_URL`, default
//! `https://webexapis.com/v1`), for the groups named on the command line:
//!
//! ```sh
//! WEBEX_TOKEN=... cargo run -p webex-calling --example quickstart -- \
//!     --location LOCATION_ID --call-pickup CALL_PICKUP_ID --hunt-group HUNT_GROUP_ID [--org ORG_ID]
//! ```

use std::process::ExitCode;

use serde_json::Value;
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling::{Client, Error};

// The fake is compiled from its source here so that the quickstart runs
// without `--features fake`; its dependencies are dev-dependencies of the
// crate for that reason.
#[allow(dead_code, unused_imports)]
#[path = "../src/fake/mod.rs"]
mod fake;

const USAGE: &str = "\
usage: cargo run -p webex-calling --example quickstart
           (no WEBEX_TOKEN: the updates go to a fake Webex started in-process)
       WEBEX_TOKEN=... cargo run -p webex-calling --example quickstart -- \\
           --location LOCATION_ID --call-pickup CALL_PICKUP_ID --hunt-group HUNT_GROUP_ID [--org ORG_ID]
           (the updates go to WEBEX_BASE_URL, default https://webexapis.com/v1)

The updates are the Webex docs' examples: the call pickup is renamed
\"South Alaska-Group\" and the hunt group's settings and agents are replaced.";

/// The groups to update on Webex.
#[derive(Debug, Default)]
struct Targets {
    location: String,
    call_pickup: String,
    hunt_group: String,
    org: Option<String>,
}

/// What the command line asked for.
enum Request {
    Help,
    Fake,
    Webex(Targets),
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let token_set = ["WEBEX_TOKEN", "WEBEX_ACCESS_TOKEN"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    let request = match parse(&args, token_set) {
        Ok(request) => request,
        Err(problem) => {
            eprintln!("{problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match request {
        Request::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Request::Fake => on_the_fake().await,
        Request::Webex(targets) => on_webex(&targets).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String], token_set: bool) -> Result<Request, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Request::Help);
    }
    if !token_set {
        return if args.is_empty() {
            Ok(Request::Fake)
        } else {
            Err(format!(
                "{} was given but WEBEX_TOKEN is not set: set it to update groups on Webex, or pass nothing to use the fake",
                args.join(" ")
            ))
        };
    }
    let mut targets = Targets::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let slot = match name {
            "--location" => &mut targets.location,
            "--call-pickup" => &mut targets.call_pickup,
            "--hunt-group" => &mut targets.hunt_group,
            "--org" => targets.org.get_or_insert_with(String::new),
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))?,
        };
        if value.trim().is_empty() {
            return Err(format!("{name} needs a value"));
        }
        *slot = value;
    }
    let missing: Vec<&str> = [
        ("--location", &targets.location),
        ("--call-pickup", &targets.call_pickup),
        ("--hunt-group", &targets.hunt_group),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_empty())
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "WEBEX_TOKEN is set, so the updates go to Webex: pass {} with the IDs of the groups to update",
            missing.join(", ")
        ));
    }
    Ok(Request::Webex(targets))
}

/// The request example of `operation_id` in the spec the SDK embeds.
fn example(operation_id: &str) -> Result<String, Error> {
    let missing = || {
        Error::Config(format!(
            "the spec has no request example for {operation_id}"
        ))
    };
    let spec: Value = serde_json::from_str(webex_calling::spec::OPENAPI_JSON)
        .map_err(|e| Error::Config(format!("the embedded spec is not JSON: {e}")))?;
    let operations = spec["paths"]
        .as_object()
        .ok_or_else(missing)?
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values());
    for operation in operations {
        if operation["operationId"] == operation_id {
            let example = &operation["requestBody"]["content"]["application/json"]["example"];
            return if example.is_null() {
                Err(missing())
            } else {
                Ok(example.to_string())
            };
        }
    }
    Err(missing())
}

/// The docs' two example bodies.
fn bodies() -> Result<(UpdateCallPickupRequest, UpdateHuntGroupRequest), Error> {
    Ok((
        webex_calling::parse_body(&example("updateCallPickup")?)?,
        webex_calling::parse_body(&example("updateHuntGroup")?)?,
    ))
}

/// Sends both updates; returns the call pickup's ID after its update.
async fn send_both(
    client: &Client,
    location: &str,
    call_pickup: &str,
    hunt_group: &str,
    org: Option<&str>,
) -> Result<String, Error> {
    let (pickup_body, hunt_body) = bodies()?;
    let mut pickup = client
        .update_call_pickup()
        .location_id(location)
        .call_pickup_id(call_pickup)
        .body(pickup_body);
    let mut hunt = client
        .update_hunt_group()
        .location_id(location)
        .hunt_group_id(hunt_group)
        .body(hunt_body);
    if let Some(org) = org {
        pickup = pickup.org_id(org);
        hunt = hunt.org_id(org);
    }
    let updated = pickup.send().await?;
    hunt.send().await?;
    Ok(updated.id)
}

async fn on_the_fake() -> Result<(), Error> {
    let fake = fake::FakeWebex::start().await;
    let location = fake::fixtures::LOCATION_ID;
    println!(
        "No WEBEX_TOKEN set: sending the Webex docs' two example updates to a fake Webex at {}.",
        fake.base_url()
    );
    let client = fake.client();
    let old_id = fake::fixtures::CALL_PICKUP_ID;
    let new_id = send_both(
        &client,
        location,
        old_id,
        fake::fixtures::HUNT_GROUP_ID,
        None,
    )
    .await?;

    let pickup = fake.call_pickup(location, &new_id).unwrap_or_default();
    println!();
    println!(
        "Call pickup {:?} is now {:?}: {} notifications after {} s, {} agents.",
        fake::fixtures::CALL_PICKUP_NAME,
        text(&pickup["name"]),
        text(&pickup["notificationType"]),
        text(&pickup["notificationDelayTimerSeconds"]),
        count(&pickup["agents"]),
    );
    println!("  Renaming it changed its ID, as Webex does:");
    println!("    was {old_id}");
    println!("    now {new_id}");

    let hunt = fake
        .hunt_group(location, fake::fixtures::HUNT_GROUP_ID)
        .unwrap_or_default();
    let policies = &hunt["callPolicies"];
    println!();
    println!(
        "Hunt group {} answered 204 and now reads:",
        fake::fixtures::HUNT_GROUP_ID
    );
    println!(
        "  name {:?}, number {}, extension {}, {}",
        text(&hunt["name"]),
        text(&hunt["phoneNumber"]),
        text(&hunt["extension"]),
        if hunt["enabled"] == true {
            "enabled"
        } else {
            "disabled"
        },
    );
    println!(
        "  policy {}, next agent after {} rings, {} agents",
        text(&policies["policy"]),
        text(&policies["noAnswer"]["nextAgentRings"]),
        count(&hunt["agents"]),
    );
    println!(
        "  busy redirect to {}, business continuity redirect to {}",
        text(&policies["busyRedirect"]["destination"]),
        text(&policies["businessContinuityRedirect"]["destination"]),
    );
    println!();
    println!(
        "{} requests reached the fake. Set WEBEX_TOKEN to send the same updates to Webex (--help for how).",
        fake.requests().len()
    );
    Ok(())
}

async fn on_webex(targets: &Targets) -> Result<(), Error> {
    let client = Client::from_env()?;
    println!(
        "Sending the Webex docs' two example updates to {}.",
        client.base_url()
    );
    let new_id = send_both(
        &client,
        &targets.location,
        &targets.call_pickup,
        &targets.hunt_group,
        targets.org.as_deref(),
    )
    .await?;
    println!("Call pickup updated: its ID is now {new_id}.");
    if new_id != targets.call_pickup {
        println!("  It changed because the name did; use the new ID from now on.");
    }
    println!("Hunt group {} updated.", targets.hunt_group);
    Ok(())
}

/// A JSON value as plain text, without the quotes of a string.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

fn count(list: &Value) -> usize {
    list.as_array().map_or(0, Vec::len)
}
