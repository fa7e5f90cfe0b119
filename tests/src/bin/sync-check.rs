//! The checks of `cargo xtask check` that need the SDK's types.
//!
//! Usage: `sync-check <workspace root> examples|types`. Prints one summary
//! line and exits 0, or prints the failure and exits 1.

use std::path::PathBuf;
use std::process::ExitCode;

use webex_calling_tests::sync;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(root), Some(which)) = (args.first(), args.get(1)) else {
        eprintln!("usage: sync-check <workspace root> examples|types");
        return ExitCode::from(2);
    };
    let spec = match sync::load_spec(&PathBuf::from(root).join("spec/webex-calling.yaml")) {
        Ok(spec) => spec,
        Err(message) => {
            println!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match which.as_str() {
        "examples" => sync::check_examples(&spec),
        "types" => sync::check_types(&spec),
        other => Err(format!("unknown check {other:?}; use examples or types")),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("{message}");
            ExitCode::FAILURE
        }
    }
}
