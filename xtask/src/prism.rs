//! The validating mock the conformance tests run requests through:
//! Stoplight Prism, pinned by `tests/conformance/package-lock.json` and
//! installed with `npm ci` into `tests/conformance/node_modules`.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

/// The npm project that pins Prism, relative to the workspace root.
pub const DIR: &str = "tests/conformance";
/// Prism's command, relative to [`DIR`].
pub const BIN: &str = "node_modules/.bin/prism";

/// Installs Prism from the lock file unless the installed copy is at least
/// as new as the lock file.
///
/// # Errors
///
/// When npm cannot be run or `npm ci` fails; the message says what to do.
pub fn install(root: &Path) -> Result<(), String> {
    let dir = root.join(DIR);
    if !needs_install(&dir) {
        return Ok(());
    }
    eprintln!("==> conformance: npm ci --no-audit --no-fund (in {DIR})");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        // Prism's analytics would otherwise phone home on install and start.
        .env("SCARF_ANALYTICS", "false")
        .current_dir(&dir)
        .status()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => "npm was not found: the conformance tests run requests \
                 through Stoplight Prism, installed with npm; install Node.js 18.20 or newer \
                 (with npm) and run `cargo xtask test` again"
                .to_string(),
            _ => format!("cannot run npm: {e}"),
        })?;
    if !status.success() {
        return Err(format!(
            "`npm ci` in {DIR} failed ({status}); it installs Stoplight Prism from \
             {DIR}/package-lock.json and needs access to the npm registry"
        ));
    }
    if !dir.join(BIN).exists() {
        return Err(format!(
            "`npm ci` in {DIR} succeeded but did not install {DIR}/{BIN}"
        ));
    }
    Ok(())
}

/// Whether `dir`'s `node_modules` is missing, lacks Prism, or is older than
/// `dir`'s lock file.
pub fn needs_install(dir: &Path) -> bool {
    if !dir.join(BIN).exists() {
        return true;
    }
    // npm rewrites this file on every install, so its age is the install's.
    let installed = modified(&dir.join("node_modules/.package-lock.json"))
        .or_else(|| modified(&dir.join("node_modules")));
    let locked = modified(&dir.join("package-lock.json"));
    match (installed, locked) {
        (Some(installed), Some(locked)) => installed < locked,
        _ => true,
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    /// An npm project folder in the temporary directory, with a lock file
    /// and, when `installed`, a Prism command and npm's installed-state file.
    fn project(name: &str, installed: bool) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("webex-calling-prism-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("node_modules/.bin")).unwrap();
        fs::write(dir.join("package-lock.json"), "{}").unwrap();
        if installed {
            fs::write(dir.join(BIN), "").unwrap();
            fs::write(dir.join("node_modules/.package-lock.json"), "{}").unwrap();
        }
        dir
    }

    fn set_modified(path: &Path, time: SystemTime) {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    #[test]
    fn a_missing_prism_is_installed() {
        let dir = project("missing", false);
        assert!(needs_install(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_install_newer_than_the_lock_file_is_kept() {
        let dir = project("fresh", true);
        let now = SystemTime::now();
        set_modified(
            &dir.join("package-lock.json"),
            now - Duration::from_secs(60),
        );
        set_modified(&dir.join("node_modules/.package-lock.json"), now);
        assert!(!needs_install(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_install_older_than_the_lock_file_is_redone() {
        let dir = project("stale", true);
        let now = SystemTime::now();
        set_modified(
            &dir.join("node_modules/.package-lock.json"),
            now - Duration::from_secs(60),
        );
        set_modified(&dir.join("package-lock.json"), now);
        assert!(needs_install(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }
}
