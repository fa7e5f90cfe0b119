//! `cargo xtask test`: every test and check, as CI runs them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// One step of the run: a name and the command.
struct Step {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const STEPS: &[Step] = &[
    Step {
        name: "format",
        program: "cargo",
        args: &["fmt", "--all", "--check"],
        env: &[],
    },
    Step {
        name: "tests",
        program: "cargo",
        args: &["test", "--workspace", "--locked"],
        env: &[],
    },
    Step {
        name: "lints",
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
    Step {
        name: "docs",
        program: "cargo",
        args: &["doc", "--workspace", "--no-deps", "--locked"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

/// Runs every step from the workspace root, stopping at the first failure,
/// and ends with one line that adds up every test run.
pub fn run(root: &Path) -> Result<String, String> {
    crate::prism::install(root)?;
    let mut totals = Totals::default();
    for step in STEPS {
        eprintln!(
            "==> {}: {} {}",
            step.name,
            step.program,
            step.args.join(" ")
        );
        let mut child = Command::new(step.program)
            .args(step.args)
            .envs(step.env.iter().copied())
            .current_dir(root)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: cannot run {}: {e}", step.name, step.program))?;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let line = line.map_err(|e| format!("{}: cannot read output: {e}", step.name))?;
                totals.add(&line);
                println!("{line}");
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("{}: cannot wait for {}: {e}", step.name, step.program))?;
        if !status.success() {
            return Err(format!(
                "{} failed ({status}); {}",
                step.name,
                totals.line()
            ));
        }
    }
    if totals.passed == 0 {
        return Err("no test ran".to_string());
    }
    Ok(totals.line())
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
    use super::Totals;

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
}
