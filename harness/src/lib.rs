//! crossprobe: a declarative test-matrix harness for Go and C
//! cross-compilation.
//!
//! The pipeline, one module a phase:
//! load → expand → render → build → inspect → run → check → report.

pub mod model;
pub mod process;
