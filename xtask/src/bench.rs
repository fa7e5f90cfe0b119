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
    let sdk = sdk_package(metadata)?;
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
        let mut features = strings(&dep["features"]);
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

#[derive(Clone, Copy)]
struct Built {
    time: Duration,
    crates: usize,
}

/// A profile the dependent crates are built in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    Release,
    Debug,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// What `cargo xtask bench --build` measures.
#[derive(Debug, PartialEq)]
struct BuildOptions {
    /// The profiles to build in; the SDK against its dependencies is
    /// measured only in release.
    profiles: Vec<Profile>,
    /// The TLS features to measure; `None` for every one the SDK has.
    tls: Option<Vec<String>>,
}

impl BuildOptions {
    fn parse(args: &[&str]) -> Result<Self, String> {
        let usage =
            "usage: cargo xtask bench --build [--profile release|debug]... [--tls FEATURE]...";
        let mut profiles = Vec::new();
        let mut tls: Option<Vec<String>> = None;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let value = rest
                .next()
                .ok_or_else(|| format!("{arg} needs a value\n{usage}"))?;
            match *arg {
                "--profile" => profiles.push(match *value {
                    "release" => Profile::Release,
                    "debug" => Profile::Debug,
                    other => return Err(format!("unknown profile {other:?}\n{usage}")),
                }),
                "--tls" => tls.get_or_insert_with(Vec::new).push(value.to_string()),
                other => return Err(format!("unknown argument {other:?}\n{usage}")),
            }
        }
        if profiles.is_empty() {
            profiles = vec![Profile::Release, Profile::Debug];
        }
        Ok(BuildOptions { profiles, tls })
    }
}

/// The SDK's TLS features: those that turn on a TLS backend of reqwest.
fn tls_features(sdk: &Value) -> Vec<String> {
    let mut out: Vec<String> = sdk["features"]
        .as_object()
        .map(|features| {
            features
                .iter()
                .filter(|(_, enables)| {
                    enables.as_array().is_some_and(|list| {
                        list.iter().filter_map(Value::as_str).any(|entry| {
                            let Some(feature) = entry
                                .strip_prefix("reqwest/")
                                .or_else(|| entry.strip_prefix("reqwest?/"))
                            else {
                                return false;
                            };
                            feature.starts_with("rustls") || feature.starts_with("native-tls")
                        })
                    })
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The SDK's default features.
fn default_features(sdk: &Value) -> Vec<String> {
    strings(&sdk["features"]["default"])
}

/// The strings of a JSON array; none when it is not one.
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Why the native-tls row cannot be built here, if it cannot: on Linux and
/// the BSDs it needs OpenSSL's development files.
fn native_tls_missing() -> Option<String> {
    if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "windows"
    )) {
        return None;
    }
    let found = Command::new("pkg-config")
        .args(["--exists", "openssl"])
        .status()
        .is_ok_and(|status| status.success());
    (!found).then(|| {
        "OpenSSL's development files were not found (`pkg-config --exists openssl` failed; install libssl-dev or openssl-devel, and pkg-config)".to_string()
    })
}

/// One-file dependents of the SDK, built cold, each feature set and profile
/// once per run.
struct Dependents<'a> {
    root: &'a Path,
    scratch: &'a Path,
    /// The dependents' tokio line.
    tokio: String,
    /// Whether every dependency came from the local registry cache.
    offline: bool,
    /// Builds measured so far: sorted features, profile, outcome.
    builds: Vec<(Vec<String>, Profile, Built)>,
}

impl Dependents<'_> {
    /// The cold build of a dependent of the SDK with exactly `features`
    /// (default features off).
    fn build(&mut self, features: &[String], profile: Profile) -> Result<Built, String> {
        let mut key = features.to_vec();
        key.sort();
        key.dedup();
        if let Some((_, _, built)) = self
            .builds
            .iter()
            .find(|(k, p, _)| *k == key && *p == profile)
        {
            return Ok(*built);
        }
        // A package name: letters, digits, `-` and `_`.
        let name = if key.is_empty() {
            "sdk-no-features".to_string()
        } else {
            format!("sdk-{}", key.join("_"))
        };
        let dir = self.scratch.join(&name);
        if !dir.exists() {
            let quoted: Vec<String> = key.iter().map(|f| format!("{f:?}")).collect();
            let manifest = format!(
                "{}webex-calling = {{ path = {:?}, default-features = false, features = [{}] }}\n{}",
                manifest_head(&name),
                self.root.join("sdk").display().to_string(),
                quoted.join(", "),
                self.tokio
            );
            write_crate(self.scratch, &name, &manifest, SDK_MAIN, self.root)?;
            self.offline &= fetch(&dir)?;
        }
        let target = self
            .scratch
            .join(format!("target-{name}-{}", profile.name()));
        let built = cold_build(&dir, &target, profile);
        // Only the figures are kept: a cold target directory is large.
        let _ = std::fs::remove_dir_all(&target);
        let built = built?;
        self.builds.push((key, profile, built));
        Ok(built)
    }
}

/// `cargo xtask bench --build`: cold builds of one-file dependent crates,
/// each in a fresh target directory, with the workspace's lock file so
/// versions match. In release, the SDK with its default features against
/// the SDK's HTTP, runtime and JSON crates with the features the SDK turns
/// on; then, in each profile, the SDK with each TLS feature against the
/// SDK with none.
pub fn build(root: &Path, args: &[&str]) -> Result<String, String> {
    let options = BuildOptions::parse(args)?;
    let started = Instant::now();
    let metadata = cargo_metadata(root)?;
    let sdk = sdk_package(&metadata)?;
    let dependencies = sdk_dependencies(&metadata)?;
    let tokio = dependencies
        .iter()
        .find(|d| d.name == "tokio")
        .ok_or("no tokio dependency")?;
    let scratch = Scratch(
        std::env::temp_dir().join(format!("webex-calling-build-bench-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&scratch.0);
    let mut dependents = Dependents {
        root,
        scratch: &scratch.0,
        tokio: tokio.toml(&MAIN_TOKIO_FEATURES),
        offline: true,
        builds: Vec::new(),
    };

    let mut report = String::new();
    if options.profiles.contains(&Profile::Release) {
        against_dependencies(
            &mut dependents,
            &dependencies,
            &default_features(sdk),
            &mut report,
        )?;
        report.push('\n');
    }
    tls_rows(&mut dependents, sdk, &options, &mut report)?;
    let _ = writeln!(
        report,
        "dependencies {}",
        if dependents.offline {
            "came from the local registry cache (--offline)"
        } else {
            "were fetched from the registry first (not timed)"
        }
    );
    let _ = write!(
        report,
        "build bench finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(report)
}

/// The SDK with its default features against the program written on the
/// SDK's own dependencies, both in release.
fn against_dependencies(
    dependents: &mut Dependents<'_>,
    dependencies: &[Dependency],
    defaults: &[String],
    report: &mut String,
) -> Result<(), String> {
    let mut baseline_manifest = manifest_head("baseline");
    for dep in dependencies {
        let extra: &[&str] = if dep.name == "tokio" {
            &MAIN_TOKIO_FEATURES
        } else {
            &[]
        };
        baseline_manifest.push_str(&dep.toml(extra));
    }
    let baseline_dir = write_crate(
        dependents.scratch,
        "baseline",
        &baseline_manifest,
        BASELINE_MAIN,
        dependents.root,
    )?;
    dependents.offline &= fetch(&baseline_dir)?;

    let _ = writeln!(report, "cold release build of a one-file dependent crate");
    let _ = writeln!(
        report,
        "baseline dependencies (the SDK's own, with the features it turns on; both crates also turn on tokio's {} for their async main):",
        MAIN_TOKIO_FEATURES.join(", ")
    );
    for dep in dependencies {
        let _ = write!(report, "  {}", dep.toml(&[]));
    }
    // The baseline goes first so that whatever the machine's page cache
    // holds from it can only help the SDK's build, not hurt it.
    let baseline_target = dependents.scratch.join("target-baseline");
    let baseline = cold_build(&baseline_dir, &baseline_target, Profile::Release)?;
    let _ = std::fs::remove_dir_all(&baseline_target);
    let with_sdk = dependents.build(defaults, Profile::Release)?;
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
    let _ = writeln!(
        report,
        "ratio      {ratio:.3}  (target <= 1.15: {})",
        if ratio <= 1.15 { "met" } else { "MISSED" }
    );
    Ok(())
}

/// In each profile, the SDK with no TLS feature, then with each TLS
/// feature alone beside its other default features; each row's ratio is to
/// the row without TLS.
fn tls_rows(
    dependents: &mut Dependents<'_>,
    sdk: &Value,
    options: &BuildOptions,
    report: &mut String,
) -> Result<(), String> {
    let all_tls = tls_features(sdk);
    let defaults = default_features(sdk);
    let tls = match &options.tls {
        None => all_tls.clone(),
        Some(chosen) => {
            if let Some(unknown) = chosen.iter().find(|f| !all_tls.contains(f)) {
                return Err(format!(
                    "{unknown:?} is not a TLS feature of the SDK; those are {}",
                    all_tls.join(", ")
                ));
            }
            chosen.clone()
        }
    };
    let others: Vec<String> = defaults
        .iter()
        .filter(|f| !all_tls.contains(f))
        .cloned()
        .collect();
    let native_missing = native_tls_missing();
    let _ = writeln!(
        report,
        "cold build of a one-file dependent of the SDK by TLS backend: default features off, then {} and the TLS feature named",
        if others.is_empty() {
            "nothing".to_string()
        } else {
            others.join(", ")
        }
    );
    let _ = writeln!(
        report,
        "{:<8} {:<22} {:>8} {:>7} {:>9}",
        "profile", "TLS", "time", "crates", "ratio"
    );
    for &profile in &options.profiles {
        let none = dependents.build(&others, profile)?;
        let _ = writeln!(
            report,
            "{:<8} {:<22} {:>6.1} s {:>7} {:>9}",
            profile.name(),
            "none (the baseline)",
            none.time.as_secs_f64(),
            none.crates,
            "1.000"
        );
        for feature in &tls {
            let label = if defaults.contains(feature) {
                format!("{feature} (default)")
            } else {
                feature.clone()
            };
            if feature.starts_with("native-tls")
                && let Some(reason) = &native_missing
            {
                let _ = writeln!(
                    report,
                    "{:<8} {label:<22} skipped: {reason}",
                    profile.name()
                );
                continue;
            }
            let mut features = others.clone();
            features.push(feature.clone());
            match dependents.build(&features, profile) {
                Ok(built) => {
                    let _ = writeln!(
                        report,
                        "{:<8} {label:<22} {:>6.1} s {:>7} {:>9.3}",
                        profile.name(),
                        built.time.as_secs_f64(),
                        built.crates,
                        built.time.as_secs_f64() / none.time.as_secs_f64()
                    );
                }
                Err(log) => {
                    eprintln!("{log}");
                    let _ = writeln!(
                        report,
                        "{:<8} {label:<22} FAILED to build here (its log is above)",
                        profile.name()
                    );
                }
            }
        }
    }
    Ok(())
}

/// The SDK's entry in the output of `cargo metadata`.
pub(crate) fn sdk_package(metadata: &Value) -> Result<&Value, String> {
    metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "webex-calling"))
        .ok_or_else(|| "cargo metadata lists no package webex-calling".to_string())
}

/// `cargo metadata` of the workspace at `root`, without dependencies.
pub(crate) fn cargo_metadata(root: &Path) -> Result<Value, String> {
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

/// A build in a target directory of its own, with no compiler wrapper, so
/// that nothing is reused from earlier builds.
fn cold_build(dir: &Path, target: &Path, profile: Profile) -> Result<Built, String> {
    eprintln!("==> cold {} build of {}", profile.name(), dir.display());
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(["build", "--offline"]);
    if profile == Profile::Release {
        command.arg("--release");
    }
    let started = Instant::now();
    let output = command
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

    #[test]
    fn tls_features_are_those_that_turn_on_a_tls_backend_of_reqwest() {
        let sdk = serde_json::json!({
            "features": {
                "default": ["rustls", "http2"],
                "rustls": ["reqwest/rustls"],
                "rustls-ring": ["reqwest/rustls-no-provider", "dep:rustls", "rustls?/ring"],
                "native-tls": ["reqwest?/native-tls"],
                "http2": ["reqwest/http2"],
                "fake": ["dep:hyper"]
            }
        });
        assert_eq!(tls_features(&sdk), ["native-tls", "rustls", "rustls-ring"]);
        assert_eq!(default_features(&sdk), ["rustls", "http2"]);
        let metadata = cargo_metadata(&crate::root()).expect("cargo metadata");
        let real = tls_features(sdk_package(&metadata).expect("the SDK"));
        assert_eq!(real, ["native-tls", "rustls", "rustls-ring"]);
    }

    #[test]
    fn build_options_default_to_both_profiles_and_every_tls_feature() {
        assert_eq!(
            BuildOptions::parse(&[]).unwrap(),
            BuildOptions {
                profiles: vec![Profile::Release, Profile::Debug],
                tls: None
            }
        );
        assert_eq!(
            BuildOptions::parse(&["--profile", "debug", "--tls", "rustls-ring"]).unwrap(),
            BuildOptions {
                profiles: vec![Profile::Debug],
                tls: Some(vec!["rustls-ring".into()])
            }
        );
        assert!(
            BuildOptions::parse(&["--profile", "fast"])
                .unwrap_err()
                .contains("unknown profile")
        );
        assert!(
            BuildOptions::parse(&["--tls"])
                .unwrap_err()
                .contains("needs a value")
        );
    }
}
