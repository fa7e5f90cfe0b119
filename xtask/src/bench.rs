//! `cargo xtask bench`: what the SDK costs per call and per body, how a bulk
//! job fares at a rate limit, and with `--build`, what the SDK adds to a
//! dependent's cold build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The per-call overhead benchmark, then the body micro-benchmarks, then
/// the bulk benchmark, their tables printed as they come. `overhead_args`
/// go to the overhead binary (`--calls N`, `--rounds N`, …).
pub fn run(root: &Path, overhead_args: &[&str]) -> Result<String, String> {
    let started = Instant::now();
    eprintln!("==> per-call overhead (release build of tests/src/bin/overhead.rs)");
    let mut overhead = cargo(root);
    overhead
        .args([
            "run",
            "--release",
            "--locked",
            "--quiet",
            "--package",
            "webex-calling-tests",
            "--bin",
            "overhead",
            "--",
        ])
        .args(overhead_args);
    let overhead_time = run_step("overhead", &mut overhead)?;

    eprintln!("\n==> body cost (tests/benches/bodies.rs)");
    let mut bodies = cargo(root);
    bodies.args([
        "bench",
        "--locked",
        "--quiet",
        "--package",
        "webex-calling-tests",
        "--bench",
        "bodies",
    ]);
    let bodies_time = run_step("bodies", &mut bodies)?;

    eprintln!("\n==> bulk updates at a rate limit (release build of tests/src/bin/bulk.rs)");
    let bulk_time = run_step("bulk", &mut bulk_command(root, &[]))?;

    Ok(format!(
        "bench finished in {:.0} s (overhead {:.1} s, bodies {:.1} s, bulk {:.1} s, builds included)",
        started.elapsed().as_secs_f64(),
        overhead_time.as_secs_f64(),
        bodies_time.as_secs_f64(),
        bulk_time.as_secs_f64()
    ))
}

/// `cargo xtask bench --bulk`: the bulk benchmark alone. `args` go to the
/// bulk binary (`--calls N`, `--scenario NAME`, `--concurrency N`).
pub fn bulk(root: &Path, args: &[&str]) -> Result<String, String> {
    eprintln!("==> bulk updates at a rate limit (release build of tests/src/bin/bulk.rs)");
    let time = run_step("bulk", &mut bulk_command(root, args))?;
    Ok(format!(
        "bulk bench finished in {:.0} s, build included",
        time.as_secs_f64()
    ))
}

fn bulk_command(root: &Path, args: &[&str]) -> Command {
    let mut command = cargo(root);
    command
        .args([
            "run",
            "--release",
            "--locked",
            "--quiet",
            "--package",
            "webex-calling-tests",
            "--bin",
            "bulk",
            "--",
        ])
        .args(args);
    command
}

/// Runs a step with its output passed through; its wall time.
fn run_step(name: &str, command: &mut Command) -> Result<Duration, String> {
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|e| format!("{name}: cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("{name} failed ({status})"));
    }
    Ok(started.elapsed())
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

/// The dependencies of the SDK that the baseline crate uses, and what the
/// SDK turns on in them.
const BASELINE_DEPENDENCIES: [&str; 4] = ["reqwest", "tokio", "serde", "serde_json"];

/// What both one-file crates add to run a request from `main`: the same
/// for both, so it cancels out of the ratio.
const MAIN_TOKIO_FEATURES: [&str; 2] = ["rt", "macros"];

/// One dependency line as the SDK declares it.
#[derive(Debug, PartialEq)]
struct Dependency {
    name: String,
    req: String,
    default_features: bool,
    features: Vec<String>,
}

impl Dependency {
    fn toml(&self, extra_features: &[&str]) -> String {
        let mut features: Vec<&str> = self.features.iter().map(String::as_str).collect();
        features.extend_from_slice(extra_features);
        features.sort_unstable();
        features.dedup();
        let features: Vec<String> = features.iter().map(|f| format!("{f:?}")).collect();
        format!(
            "{} = {{ version = {:?}, default-features = {}, features = [{}] }}\n",
            self.name,
            self.req,
            self.default_features,
            features.join(", ")
        )
    }
}

/// The SDK's normal dependencies named in [`BASELINE_DEPENDENCIES`], with the
/// features its default features turn on in them, from `cargo metadata`.
fn sdk_dependencies(metadata: &Value) -> Result<Vec<Dependency>, String> {
    let sdk = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "webex-calling"))
        .ok_or("cargo metadata lists no package webex-calling")?;
    let sdk_features = &sdk["features"];
    let defaults: Vec<&str> = sdk_features["default"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // Features reached from the defaults, following features of the SDK
    // that turn on other features of the SDK.
    let mut reached: Vec<&str> = Vec::new();
    let mut todo = defaults;
    while let Some(feature) = todo.pop() {
        if reached.contains(&feature) {
            continue;
        }
        reached.push(feature);
        if let Some(list) = sdk_features[feature].as_array() {
            todo.extend(list.iter().filter_map(Value::as_str));
        }
    }
    let mut out = Vec::new();
    for name in BASELINE_DEPENDENCIES {
        let dep = sdk["dependencies"]
            .as_array()
            .and_then(|deps| {
                deps.iter()
                    .find(|d| d["name"] == name && d["kind"].is_null() && d["optional"] == false)
            })
            .ok_or_else(|| format!("webex-calling has no normal dependency {name}"))?;
        let mut features: Vec<String> = dep["features"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for feature in &reached {
            let enabled = feature
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix("?/").or_else(|| rest.strip_prefix('/')));
            if let Some(enabled) = enabled {
                features.push(enabled.to_string());
            }
        }
        features.sort_unstable();
        features.dedup();
        out.push(Dependency {
            name: name.to_string(),
            req: dep["req"].as_str().unwrap_or("*").to_string(),
            default_features: dep["uses_default_features"] != false,
            features,
        });
    }
    Ok(out)
}

const SDK_MAIN: &str = r#"//! A dependent of webex-calling: one call, as the README shows it.

use webex_calling::types::UpdateCallPickupRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), webex_calling::Error> {
    let client = webex_calling::Client::builder()
        .token("token")
        .base_url("http://127.0.0.1:9/v1")
        .build()?;
    let updated = client
        .update_call_pickup()
        .location_id("location")
        .call_pickup_id("call-pickup")
        .body(UpdateCallPickupRequest::new().name("Front desk"))
        .send()
        .await?;
    println!("{}", updated.id);
    Ok(())
}
"#;

const BASELINE_MAIN: &str = r#"//! The same call with the SDK's own dependencies and nothing else.

#[derive(serde::Serialize)]
struct Update {
    name: String,
}

#[derive(serde::Deserialize)]
struct Updated {
    id: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder().build()?;
    let body = serde_json::to_vec(&Update { name: "Front desk".into() })?;
    let answer = client
        .put("http://127.0.0.1:9/v1/telephony/config/locations/location/callPickups/call-pickup")
        .bearer_auth("token")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let updated: Updated = serde_json::from_slice(&answer)?;
    println!("{}", updated.id);
    Ok(())
}
"#;

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Built {
    time: Duration,
    crates: usize,
}

/// `cargo xtask bench --build`: the cold release build of a one-file crate
/// that depends on the SDK against one that depends only on the SDK's HTTP,
/// runtime and JSON crates with the SDK's features, each in a fresh target
/// directory, with the workspace's lock file so versions match.
pub fn build(root: &Path) -> Result<String, String> {
    let metadata = cargo_metadata(root)?;
    let dependencies = sdk_dependencies(&metadata)?;
    let tokio = dependencies
        .iter()
        .find(|d| d.name == "tokio")
        .ok_or("no tokio dependency")?;
    let scratch = Scratch(
        std::env::temp_dir().join(format!("webex-calling-build-bench-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&scratch.0);

    let sdk_manifest = format!(
        "{}webex-calling = {{ path = {:?} }}\n{}",
        manifest_head("with-sdk"),
        root.join("sdk").display().to_string(),
        tokio.toml(&MAIN_TOKIO_FEATURES)
    );
    let mut baseline_manifest = manifest_head("baseline");
    for dep in &dependencies {
        let extra: &[&str] = if dep.name == "tokio" {
            &MAIN_TOKIO_FEATURES
        } else {
            &[]
        };
        baseline_manifest.push_str(&dep.toml(extra));
    }
    let sdk_dir = write_crate(&scratch.0, "with-sdk", &sdk_manifest, SDK_MAIN, root)?;
    let baseline_dir = write_crate(
        &scratch.0,
        "baseline",
        &baseline_manifest,
        BASELINE_MAIN,
        root,
    )?;

    let mut report = String::new();
    let _ = writeln!(report, "cold release build of a one-file dependent crate");
    let _ = writeln!(
        report,
        "baseline dependencies (the SDK's own, with the features it turns on; both crates also turn on tokio's {} for their async main):",
        MAIN_TOKIO_FEATURES.join(", ")
    );
    for dep in &dependencies {
        let _ = write!(report, "  {}", dep.toml(&[]));
    }
    let offline = fetch(&sdk_dir)? & fetch(&baseline_dir)?;
    let _ = writeln!(
        report,
        "dependencies {}",
        if offline {
            "came from the local registry cache (--offline)"
        } else {
            "were fetched from the registry first (not timed)"
        }
    );
    // The baseline goes first so that whatever the machine's page cache
    // holds from it can only help the SDK's build, not hurt it.
    let baseline = cold_build(&baseline_dir, &scratch.0.join("target-baseline"))?;
    let with_sdk = cold_build(&sdk_dir, &scratch.0.join("target-with-sdk"))?;
    let ratio = with_sdk.time.as_secs_f64() / baseline.time.as_secs_f64();
    let _ = writeln!(
        report,
        "baseline   {:>6.1} s  ({} crates compiled)",
        baseline.time.as_secs_f64(),
        baseline.crates
    );
    let _ = writeln!(
        report,
        "with SDK   {:>6.1} s  ({} crates compiled)",
        with_sdk.time.as_secs_f64(),
        with_sdk.crates
    );
    let _ = write!(
        report,
        "ratio      {ratio:.3}  (target <= 1.15: {})",
        if ratio <= 1.15 { "met" } else { "MISSED" }
    );
    Ok(report)
}

fn cargo_metadata(root: &Path) -> Result<Value, String> {
    let output = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

fn manifest_head(name: &str) -> String {
    format!(
        "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\n"
    )
}

fn write_crate(
    scratch: &Path,
    name: &str,
    manifest: &str,
    main: &str,
    root: &Path,
) -> Result<PathBuf, String> {
    let dir = scratch.join(name);
    let write = |path: PathBuf, text: &[u8]| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(dir.join("Cargo.toml"), manifest.as_bytes())?;
    write(dir.join("src/main.rs"), main.as_bytes())?;
    // The workspace's lock file pins every version the two crates share;
    // cargo drops the entries they do not use.
    let lock = std::fs::read(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    write(dir.join("Cargo.lock"), &lock)?;
    Ok(dir)
}

/// Fetches the crate's dependencies before anything is timed; `true` when
/// the local registry cache had them all.
fn fetch(dir: &Path) -> Result<bool, String> {
    let offline = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["fetch", "--offline"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo fetch: {e}"))?;
    if offline.success() {
        return Ok(true);
    }
    let online = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("fetch")
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run cargo fetch: {e}"))?;
    if !online.status.success() {
        return Err(format!(
            "cargo fetch in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&online.stderr)
        ));
    }
    Ok(false)
}

/// A release build in a target directory of its own, with no compiler
/// wrapper, so that nothing is reused from earlier builds.
fn cold_build(dir: &Path, target: &Path) -> Result<Built, String> {
    eprintln!("==> cold release build of {}", dir.display());
    let started = Instant::now();
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--release", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_INCREMENTAL")
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    let time = started.elapsed();
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("cargo build in {} failed:\n{log}", dir.display()));
    }
    let crates = log
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling "))
        .count();
    Ok(Built { time, crates })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_dependencies_carry_the_features_the_sdk_turns_on() {
        let metadata = serde_json::json!({
            "packages": [{
                "name": "webex-calling",
                "features": {
                    "default": ["rustls", "http2"],
                    "rustls": ["reqwest/rustls"],
                    "http2": ["reqwest?/http2"],
                    "native-tls": ["reqwest/native-tls"]
                },
                "dependencies": [
                    {"name": "reqwest", "req": "^0.13.4", "kind": null, "optional": false,
                     "uses_default_features": false, "features": []},
                    {"name": "tokio", "req": "^1.40", "kind": null, "optional": false,
                     "uses_default_features": true, "features": ["time", "sync"]},
                    {"name": "tokio", "req": "^1.40", "kind": "dev", "optional": false,
                     "uses_default_features": true, "features": ["macros"]},
                    {"name": "serde", "req": "^1.0.226", "kind": null, "optional": false,
                     "uses_default_features": true, "features": ["derive"]},
                    {"name": "serde_json", "req": "^1.0.150", "kind": null, "optional": false,
                     "uses_default_features": true, "features": []}
                ]
            }]
        });
        let deps = sdk_dependencies(&metadata).expect("dependencies");
        assert_eq!(
            deps[0],
            Dependency {
                name: "reqwest".into(),
                req: "^0.13.4".into(),
                default_features: false,
                features: vec!["http2".into(), "rustls".into()],
            }
        );
        assert_eq!(deps[1].features, ["sync", "time"]);
        assert_eq!(deps[2].features, ["derive"]);
        assert!(deps[3].features.is_empty());
    }

    #[test]
    fn dependency_lines_are_toml_with_extra_features_merged() {
        let tokio = Dependency {
            name: "tokio".into(),
            req: "^1.40".into(),
            default_features: true,
            features: vec!["sync".into(), "time".into()],
        };
        assert_eq!(
            tokio.toml(&["rt", "time"]),
            "tokio = { version = \"^1.40\", default-features = true, features = [\"rt\", \"sync\", \"time\"] }\n"
        );
    }

    #[test]
    fn the_real_sdk_manifest_names_every_baseline_dependency() {
        let metadata = cargo_metadata(&crate::root()).expect("cargo metadata");
        let deps = sdk_dependencies(&metadata).expect("dependencies");
        let names: Vec<&str> = deps.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, BASELINE_DEPENDENCIES);
        let reqwest = &deps[0];
        assert!(!reqwest.default_features);
        assert!(
            reqwest.features.iter().any(|f| f == "rustls"),
            "rustls is the SDK's default TLS: {reqwest:?}"
        );
    }
}
