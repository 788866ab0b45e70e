//! The plain data that flows between phases, and the versioned schema of
//! `results.json`.
//!
//! A [`Cell`] is what expand produces: everything needed to build and run one
//! probe on one target. A [`CellResult`] is what the pipeline makes of it.
//! Every reporter (summary, JUnit, JSON, HTML, diff) reads these types and
//! nothing else, so a fact computed once reads the same everywhere. An
//! expectation's fact expressions ([`FactExpr`]) are parsed by load and
//! judged by check, so they live here, below both.
//!
//! Compatibility: fields may be added with `#[serde(default)]`; renaming or
//! removing one bumps [`SCHEMA_VERSION`].

mod cell;
mod cell_result;
mod facts;
mod outcome;
mod probe;
mod results;

pub use cell::*;
pub use cell_result::*;
pub use facts::FactExpr;
pub use outcome::*;
pub use probe::*;
pub use results::*;

/// Version of the results.json format. Readers refuse any other.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit codes of `crossprobe`, documented in `--help` and the book (docs/src/commands.md).
pub mod exit {
    /// Every cell met its expectation.
    pub const OK: i32 = 0;
    /// At least one cell did not meet its expectation.
    pub const UNMET: i32 = 1;
    /// A usage or input error: nothing was built.
    pub const INPUT: i32 = 2;
    /// The reports could not be written, or the disk filled up during the
    /// run; what finished is in the reports or in their journal.
    pub const IO: i32 = 3;
    /// Nothing ran: no cell was built and run (every C compiler missing,
    /// every runner `none`), and no cell of a build-only target was even
    /// built. `--allow-missing` (or `run.allow_missing: true`) accepts it.
    pub const NOTHING_RAN: i32 = 4;
    /// Interrupted by SIGINT (128 + 2).
    pub const SIGINT: i32 = 130;
    /// Interrupted by SIGTERM (128 + 15).
    pub const SIGTERM: i32 = 143;
}
