//! The SDK end to end in one command: the location's call pickups and hunt
//! groups are listed, then one of each is read, updated with the Webex
//! docs' example, and read again, and what changed is printed.
//!
//! With no `WEBEX_TOKEN`, they go to a fake Webex started in this process:
//!
//! ```sh
//! cargo run -p webex-calling --example quickstart
//! ```
//!
//! With `WEBEX_TOKEN` set, they go to Webex (`WEBEX_BASE_URL`, default
//! `https://webexapis.com/v1`), for the location named on the command line
//! and its first call pickup and hunt group, or the ones named:
//!
//! ```sh
//! WEBEX_TOKEN=... cargo run -p webex-calling --example quickstart -- \
//!     --location LOCATION_ID [--call-pickup CALL_PICKUP_ID] [--hunt-group HUNT_GROUP_ID] [--org ORG_ID]
//! ```

use std::process::ExitCode;

use futures_util::StreamExt;
use serde_json::Value;
use webex_calling::fake::{FakeWebex, fixtures};
use webex_calling::types::{UpdateCallPickupRequest, UpdateHuntGroupRequest};
use webex_calling::{Client, Error};

const USAGE: &str = "\
usage: cargo run -p webex-calling --example quickstart
           (no WEBEX_TOKEN: the updates go to a fake Webex started in-process)
       WEBEX_TOKEN=... cargo run -p webex-calling --example quickstart -- \\
           --location LOCATION_ID [--call-pickup CALL_PICKUP_ID] [--hunt-group HUNT_GROUP_ID] [--org ORG_ID]
           (the updates go to WEBEX_BASE_URL, default https://webexapis.com/v1)

The location's call pickups and hunt groups are listed; the first of each
(or the one named) is read, updated with the Webex docs' example (the call
pickup is renamed \"South Alaska-Group\", the hunt group's settings and
agents are replaced) and read again; what changed is printed.";

/// The groups to update on Webex: the location's first of each when not
/// named.
#[derive(Debug, Default)]
struct Targets {
    location: String,
    call_pickup: Option<String>,
    hunt_group: Option<String>,
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
            "--call-pickup" => targets.call_pickup.get_or_insert_with(String::new),
            "--hunt-group" => targets.hunt_group.get_or_insert_with(String::new),
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
    if targets.location.is_empty() {
        return Err(
            "WEBEX_TOKEN is set, so the updates go to Webex: pass --location with the ID of the location whose groups to update"
                .to_string(),
        );
    }
    Ok(Request::Webex(targets))
}

/// The request example of `operation_id` in the spec the SDK embeds.
fn example(operation_id: &str) -> Result<String, Error> {
    webex_calling::fake::request_example(operation_id)
        .map(|example| example.to_string())
        .ok_or_else(|| {
            Error::Config(format!(
                "the spec has no request example for {operation_id}"
            ))
        })
}

/// The docs' two example bodies.
fn bodies() -> Result<(UpdateCallPickupRequest, UpdateHuntGroupRequest), Error> {
    Ok((
        webex_calling::parse_body(&example("updateCallPickup")?)?,
        webex_calling::parse_body(&example("updateHuntGroup")?)?,
    ))
}

/// Lists the location's call pickups and hunt groups, then reads one of
/// each (the one named, else the first listed), sends the docs' example
/// update to it, reads it again and prints what changed.
async fn list_read_update_read(
    client: &Client,
    location: &str,
    call_pickup: Option<&str>,
    hunt_group: Option<&str>,
    org: Option<&str>,
) -> Result<(), Error> {
    let (pickup_body, hunt_body) = bodies()?;

    let mut list = client.list_call_pickups().location_id(location);
    if let Some(org) = org {
        list = list.org_id(org);
    }
    let pickups = list.send().await?.call_pickups;
    println!();
    println!("The location's call pickups ({}):", pickups.len());
    for pickup in &pickups {
        println!("  {:?} in {}", pickup.name, pickup.location_name);
    }
    let call_pickup = match call_pickup {
        Some(id) => id.to_string(),
        None => pickups
            .first()
            .map(|pickup| pickup.id.clone())
            .ok_or_else(|| Error::Config("the location has no call pickup to update".into()))?,
    };

    // Hunt groups are listed organization-wide, filtered to the location,
    // page after page: `stream()` follows Webex's `Link` header.
    let mut list = client.list_hunt_groups().location_id(location).max(100);
    if let Some(org) = org {
        list = list.org_id(org);
    }
    let groups: Vec<_> = list.stream().collect().await;
    let groups = groups.into_iter().collect::<Result<Vec<_>, Error>>()?;
    println!("The location's hunt groups ({}):", groups.len());
    for group in &groups {
        let state = if group.enabled { "enabled" } else { "disabled" };
        println!("  {:?}, {state}", group.name);
    }
    let hunt_group = match hunt_group {
        Some(id) => id.to_string(),
        None => groups
            .first()
            .map(|group| group.id.clone())
            .ok_or_else(|| Error::Config("the location has no hunt group to update".into()))?,
    };
    let (call_pickup, hunt_group) = (call_pickup.as_str(), hunt_group.as_str());

    let read_pickup = |id: String| {
        let mut get = client
            .get_call_pickup()
            .location_id(location)
            .call_pickup_id(id);
        if let Some(org) = org {
            get = get.org_id(org);
        }
        get.send()
    };
    let before = read_pickup(call_pickup.to_string()).await?;
    println!();
    println!(
        "Call pickup {:?} read (agents: {}).",
        before.name,
        before.agents.as_ref().map_or(0, Vec::len)
    );
    let mut update = client
        .update_call_pickup()
        .location_id(location)
        .call_pickup_id(call_pickup)
        .body(&pickup_body);
    if let Some(org) = org {
        update = update.org_id(org);
    }
    let new_id = update.send().await?.id;
    let after = read_pickup(new_id.clone()).await?;
    println!("Updated with the docs' example, then read again at its new ID:");
    print_changes(&json(&before), &json(&after));
    if new_id != call_pickup {
        println!("  Renaming it changed its ID, as Webex does; use the new ID from now on.");
    }

    let read_hunt = || {
        let mut get = client
            .get_hunt_group()
            .location_id(location)
            .hunt_group_id(hunt_group);
        if let Some(org) = org {
            get = get.org_id(org);
        }
        get.send()
    };
    let before = read_hunt().await?;
    println!();
    println!(
        "Hunt group {:?} read (agents: {}).",
        before.name,
        before.agents.len()
    );
    let mut update = client
        .update_hunt_group()
        .location_id(location)
        .hunt_group_id(hunt_group)
        .body(&hunt_body);
    if let Some(org) = org {
        update = update.org_id(org);
    }
    update.send().await?;
    let after = read_hunt().await?;
    println!("Updated with the docs' example (answer 204), then read again:");
    print_changes(&json(&before), &json(&after));
    Ok(())
}

fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Prints every field whose value differs, objects field by field.
fn print_changes(before: &Value, after: &Value) {
    let mut lines = Vec::new();
    changes("", before, after, &mut lines);
    if lines.is_empty() {
        println!("  nothing changed");
    }
    for line in lines {
        println!("  {line}");
    }
}

fn changes(at: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
            names.sort();
            names.dedup();
            for name in names {
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                changes(
                    &path,
                    old.get(name).unwrap_or(&Value::Null),
                    new.get(name).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(_), _) | (_, Value::Array(_)) => out.push(format!(
            "{at}: {} entries -> {} entries",
            count(before),
            count(after)
        )),
        _ => out.push(format!("{at}: {} -> {}", text(before), text(after))),
    }
}

async fn on_the_fake() -> Result<(), Error> {
    let fake = FakeWebex::start().await;
    println!(
        "No WEBEX_TOKEN set: listing the groups of a location, then reading, updating and reading again one of each on a fake Webex at {}.",
        fake.base_url()
    );
    list_read_update_read(&fake.client(), fixtures::LOCATION_ID, None, None, None).await?;
    println!();
    println!(
        "{} requests reached the fake. Set WEBEX_TOKEN to do the same on Webex (--help for how).",
        fake.requests().len()
    );
    Ok(())
}

async fn on_webex(targets: &Targets) -> Result<(), Error> {
    let client = Client::from_env()?;
    println!(
        "Listing the location's groups, then reading, updating with the Webex docs' examples and reading again one of each on {}.",
        client.base_url()
    );
    list_read_update_read(
        &client,
        &targets.location,
        targets.call_pickup.as_deref(),
        targets.hunt_group.as_deref(),
        targets.org.as_deref(),
    )
    .await
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
