#![doc = include_str!("../../README.md")]
//!
//! # How this crate is organised
//!
//! - [`types`] and [`builder`] are generated from `spec/webex-calling.yaml`
//!   by `cargo xtask codegen` and committed under `src/generated/`. Never edit
//!   them by hand: change the spec or the generator and regenerate.
//! - [`Client`], [`Error`] and the runtime (retries, rate limits, tracking
//!   IDs, tracing, URL encoding) are written by hand beside them.
//! - Every request is checked against every rule of the spec before it is
//!   sent; a broken request fails with [`Error::InvalidInput`] and nothing
//!   leaves the machine.
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

// The fake names this crate by its public name, so that the quickstart
// example can compile the same source without the feature.
#[cfg(feature = "fake")]
extern crate self as webex_calling;

mod client;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
#[rustfmt::skip]
mod generated;
mod runtime;
mod validate;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub use error::{ApiError, Error, InvalidInput, Violation};
pub use generated::{builder, spec, types};
pub use validate::{Validate, parse_body};
