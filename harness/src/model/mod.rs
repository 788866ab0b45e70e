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
pub use facts::{BadFactExpr, FactExpr, Missed};
pub use outcome::*;
pub use probe::*;
pub use results::*;

/// Version of the results.json format. Readers refuse any other.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit codes: the table is [`crate::exit`], below [`crate::errors`], whose
/// `exit_code` reads it; here too, where results are.
pub use crate::exit;
