//! The `redis-server` the tests of the rate limiter's shared store start:
//! installed from Debian's packages when it is not on `PATH`.

use std::io::ErrorKind;
use std::process::{Command, Stdio};

/// The program the tests run.
pub const SERVER: &str = "redis-server";

/// Installs `redis-server` with `apt-get` unless it runs already.
///
/// # Errors
///
/// When it is missing and `apt-get` cannot install it; the message says
/// what to do.
pub fn install() -> Result<(), String> {
    if runs(SERVER) {
        return Ok(());
    }
    eprintln!("==> redis: apt-get update, then apt-get install -y redis-server");
    for args in [&["update"][..], &["install", "-y", "redis-server"][..]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => "redis-server is not on PATH and apt-get was not found: \
                     the tests of the rate limiter's shared store start a redis-server; \
                     install Redis 6 or newer and run `cargo xtask test` again"
                    .to_string(),
                _ => format!("cannot run apt-get: {e}"),
            })?;
        if !status.success() {
            return Err(format!(
                "`apt-get {}` failed ({status}); the tests of the rate limiter's shared store \
                 need redis-server (as root, with Debian's package registry reachable)",
                args.join(" ")
            ));
        }
    }
    if !runs(SERVER) {
        return Err("apt-get installed redis-server, but it does not run".to_string());
    }
    Ok(())
}

/// Whether `program --version` runs and succeeds.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn a_program_that_is_not_there_does_not_run() {
        assert!(!runs("a-program-that-is-not-installed-anywhere"));
        assert!(runs("cargo"));
    }
}
