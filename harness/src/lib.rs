//! crossprobe: a declarative test-matrix harness for Go and C
//! cross-compilation.
//!
//! The pipeline, one module a phase:
//! load → expand → render → build → inspect → run → check → report.
//! `model` holds the plain data that flows between them; `process` is the
//! only place that spawns a child; `pipeline` sequences the phases.

pub mod axis;
pub mod book;
pub mod build;
pub mod cache;
pub mod check;
pub mod ci;
pub mod cli;
pub mod disk;
pub mod doctor;
pub mod errors;
pub mod expand;
pub mod fsutil;
pub mod gomod;
pub mod host;
pub mod inspect;
pub mod load;
pub mod model;
pub mod perf;
pub mod pipeline;
pub mod process;
pub mod render;
pub mod report;
pub mod repro;
pub mod run;
pub mod schedule;
pub mod session;
pub mod store;
pub mod target;
pub mod toolchain;
