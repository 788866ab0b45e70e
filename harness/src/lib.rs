//! crossprobe: a declarative test-matrix harness for Go and C
//! cross-compilation.
//!
//! The pipeline, one module a phase:
//! load → expand → probe → build → inspect → run → check → report.
//! `model` holds the plain data that flows between them; `process` is the
//! only place that spawns a child; `pipeline` sequences the phases and
//! `session` is the engine the front ends call.
//!
//! The modules below are declared in layers, bottom-up, and this order is
//! the one the code keeps: a module imports only modules declared before
//! it (tests/it/layers.rs reads this file and the imports, and fails on an
//! import that runs upward or in a circle). Within a layer, too, a module
//! sees only those above it in the list. Front ends never import one
//! another; `cli`, the dispatcher, comes last.

// Base: plain data and the leaves every phase reads.
pub mod axis;
pub mod book;
pub mod disk;
pub mod errors;
pub mod fsutil;
pub mod host;
pub mod model;
pub mod perf;
pub mod process;
pub mod schedule;
pub mod store;
pub mod target;
pub mod templates;
pub mod toolchain;

// Phases, in pipeline order. `probe` says what each kind of probe is to a
// build and a run, over `build`'s commands, so it sits above `build`.
pub mod build;
pub mod cache;
pub mod check;
pub mod expand;
pub mod inspect;
pub mod load;
pub mod probe;
pub mod report;
pub mod run;

// The engine: the pipeline sequences the phases for a set of cells; the
// session prepares a run and drives it.
pub mod pipeline;
pub mod session;

// Front ends.
pub mod ci;
pub mod cli;
pub mod doctor;
pub mod init;
pub mod repro;
