//! `cargo xtask test`: every test and check, as CI runs them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// One step of the run: a name and what it runs.
struct Step {
    name: &'static str,
    action: Action,
}

enum Action {
    /// One command.
    Run {
        program: &'static str,
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
    },
    /// The SDK with no default feature, then with each of its features
    /// alone, warnings denied: see [`feature_commands`].
    EachFeature,
}

const STEPS: &[Step] = &[
    Step {
        name: "format",
        action: Action::Run {
            program: "cargo",
            args: &["fmt", "--all", "--check"],
            env: &[],
        },
    },
    Step {
        name: "tests",
        action: Action::Run {
            program: "cargo",
            args: &["test", "--workspace", "--locked"],
            env: &[],
        },
    },
    Step {
        name: "lints",
        action: Action::Run {
            program: "cargo",
            args: &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            env: &[],
        },
    },
    Step {
        name: "features",
        action: Action::EachFeature,
    },
    Step {
        // The unit tests of the SDK built without TLS: what `build()` says
        // to an `https` base URL then.
        name: "no-tls",
        action: Action::Run {
            program: "cargo",
            args: &[
                "test",
                "--package",
                "webex-calling",
                "--no-default-features",
                "--lib",
                "--locked",
            ],
            env: &[],
        },
    },
    Step {
        // The crate as crates.io would get it, built from the package alone.
        // `--allow-dirty` so that uncommitted work under `sdk/` is what gets
        // packaged and built, rather than a refusal to package it.
        name: "package",
        action: Action::Run {
            program: "cargo",
            args: &[
                "package",
                "--package",
                "webex-calling",
                "--locked",
                "--allow-dirty",
            ],
            env: &[],
        },
    },
    Step {
        name: "docs",
        action: Action::Run {
            program: "cargo",
            args: &["doc", "--workspace", "--no-deps", "--locked"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
    },
    Step {
        // The generator on the real documents of ../shared/corpus/, beside
        // progenitor alone, and the accepted operations of each compiled
        // together. Last, so every other step has reported when it fails.
        name: "corpus",
        action: Action::Run {
            program: "cargo",
            args: &["xtask", "corpus"],
            env: &[],
        },
    },
];

/// Runs every step from the workspace root, stopping at the first failure,
/// and ends with one line that adds up every test run.
pub fn run(root: &Path) -> Result<String, String> {
    crate::prism::install(root)?;
    crate::redis::install()?;
    let mut totals = Totals::default();
    for step in STEPS {
        let commands = match &step.action {
            Action::Run { program, args, env } => {
                let mut command = Command::new(program);
                command.args(*args).envs(env.iter().copied());
                vec![command]
            }
            Action::EachFeature => feature_commands(&sdk_features(root)?),
        };
        for mut command in commands {
            run_command(root, step.name, &mut command, &mut totals)?;
        }
    }
    if totals.passed == 0 {
        return Err("no test ran".to_string());
    }
    Ok(totals.line())
}

/// Runs one command of a step with its output passed through, adding up
/// the test results it prints.
fn run_command(
    root: &Path,
    name: &str,
    command: &mut Command,
    totals: &mut Totals,
) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    eprintln!("==> {name}: {program} {}", args.join(" "));
    let mut child = command
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: cannot run {program}: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("{name}: cannot read output: {e}"))?;
            totals.add(&line);
            println!("{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{name}: cannot wait for {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status}); {}", totals.line()))
    }
}

/// The SDK's features as its manifest declares them today, `default` left
/// out, from `cargo metadata`.
fn sdk_features(root: &Path) -> Result<Vec<String>, String> {
    let metadata = crate::bench::cargo_metadata(root)?;
    let mut features: Vec<String> = crate::bench::sdk_package(&metadata)?["features"]
        .as_object()
        .map(|map| map.keys().filter(|f| *f != "default").cloned().collect())
        .unwrap_or_default();
    features.sort();
    Ok(features)
}

/// `cargo clippy` of the SDK's library with no default feature, then with
/// each feature alone, so that code behind a feature cannot lean on another
/// one. Clippy rather than `cargo check`: `-D warnings` after `--` reaches
/// only the SDK's own compilation, so a warning fails the step without
/// rebuilding the dependencies as `RUSTFLAGS` would, and without reading
/// warnings out of the output.
fn feature_commands(features: &[String]) -> Vec<Command> {
    let sets = std::iter::once(None).chain(features.iter().map(Some));
    sets.map(|feature| {
        let mut command = Command::new("cargo");
        command.args([
            "clippy",
            "--package",
            "webex-calling",
            "--locked",
            "--no-default-features",
        ]);
        if let Some(feature) = feature {
            command.args(["--features", feature]);
        }
        command.args(["--", "-D", "warnings"]);
        command
    })
    .collect()
}

/// The sum of every `test result:` line of the run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    passed: u64,
    failed: u64,
}

impl Totals {
    /// Adds the counts of a libtest summary line; other lines are ignored.
    fn add(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => {}
            }
        }
    }

    fn line(&self) -> String {
        format!("tests: {} passed, {} failed", self.passed, self.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, STEPS, Totals, feature_commands, sdk_features};

    #[test]
    fn the_corpus_runs_last_as_a_step_of_its_own() {
        let last = STEPS.last().expect("steps");
        assert_eq!(last.name, "corpus");
        let Action::Run { program, args, .. } = &last.action else {
            panic!("the corpus step runs one command");
        };
        assert_eq!((*program, *args), ("cargo", &["xtask", "corpus"][..]));
    }

    #[test]
    fn totals_add_up_every_summary_line_and_nothing_else() {
        let mut totals = Totals::default();
        totals.add("test result: ok. 45 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.21s");
        totals.add("test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.00s");
        totals.add("test a_test_named_test_result ... ok");
        totals.add("running 12 tests");
        assert_eq!(
            totals,
            Totals {
                passed: 48,
                failed: 2
            }
        );
        assert_eq!(totals.line(), "tests: 48 passed, 2 failed");
    }

    #[test]
    fn every_feature_of_the_sdk_is_checked_alone_and_none_at_all() {
        let features = sdk_features(&crate::root()).expect("cargo metadata");
        for expected in ["fake", "native-tls", "rustls", "rustls-ring", "schemars"] {
            assert!(features.iter().any(|f| f == expected), "{features:?}");
        }
        assert!(!features.iter().any(|f| f == "default"), "{features:?}");
        let commands: Vec<String> = feature_commands(&["fake".into(), "rustls".into()])
            .iter()
            .map(|c| {
                c.get_args()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            commands,
            [
                "clippy --package webex-calling --locked --no-default-features -- -D warnings",
                "clippy --package webex-calling --locked --no-default-features --features fake -- -D warnings",
                "clippy --package webex-calling --locked --no-default-features --features rustls -- -D warnings",
            ]
        );
    }
}
