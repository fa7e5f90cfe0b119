//! The tasks behind `cargo xtask`, as a library so tests can run them.

pub mod bench;
pub mod check;
pub mod codegen;
pub mod corpus;
pub mod prism;
pub mod public_api;
pub mod redis;
pub mod test;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
