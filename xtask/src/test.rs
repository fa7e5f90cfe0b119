//! `cargo xtask test`: every test and check, as CI runs them.

use std::path::Path;
use std::process::Command;

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

/// Runs every step from the workspace root, stopping at the first failure.
pub fn run(root: &Path) -> Result<String, String> {
    crate::prism::install(root)?;
    for step in STEPS {
        eprintln!(
            "==> {}: {} {}",
            step.name,
            step.program,
            step.args.join(" ")
        );
        let status = Command::new(step.program)
            .args(step.args)
            .envs(step.env.iter().copied())
            .current_dir(root)
            .status()
            .map_err(|e| format!("{}: cannot run {}: {e}", step.name, step.program))?;
        if !status.success() {
            return Err(format!("{} failed ({status})", step.name));
        }
    }
    Ok(format!("all {} steps passed", STEPS.len()))
}
