//! crossprobe: a declarative test-matrix harness for Go and C
//! cross-compilation.
//!
//! The pipeline, one module a phase:
//! load → expand → probe → build → inspect → run → check → report.
//! `model` holds the plain data that flows between them; `process` is the
//! only place that spawns a child; `pipeline` sequences the phases and
//! `session` is the engine the front ends call.
//!
//! The modules form layers, written down once in [`LAYERS`]: a module
//! imports only modules listed before it there, bottom-up, and front ends
//! never import one another. `tests/it/layers.rs` reads the imports from
//! the source and fails on any that runs upward or in a circle, between
//! top-level modules or between the files of one folder.

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
pub mod escape;
pub mod exit;
pub mod expand;
pub mod fsutil;
pub mod host;
pub mod init;
pub mod inspect;
pub mod load;
pub mod model;
pub mod perf;
pub mod pipeline;
pub mod probe;
pub mod process;
pub mod report;
pub mod repro;
pub mod run;
pub mod schedule;
pub mod session;
pub mod store;
pub mod target;
pub mod templates;
pub mod toolchain;

/// The top-level modules in layers, bottom-up. A module may import the
/// modules listed before it, in its own layer too, and none after it; a
/// front end imports no other front end, but the last, `cli`, the
/// dispatcher, calls them all.
pub const LAYERS: &[(&str, &[&str])] = &[
    // Plain data and the leaves the phases share: the book's addresses,
    // the escaping of a stranger's text for the terminal, the exit codes,
    // errors, files, targets, the model (cell, result, probe), processes,
    // the axis table, the host and its tools, the record store,
    // scheduling, the shipped templates, and the Go and C toolchains.
    (
        "base",
        &[
            "book",
            "escape",
            "exit",
            "errors",
            "fsutil",
            "disk",
            "target",
            "model",
            "process",
            "axis",
            "host",
            "store",
            "schedule",
            "perf",
            "templates",
            "toolchain",
        ],
    ),
    // The phases, in pipeline order. `probe` says what each kind of probe
    // is to a build and a run: it makes the build plan, which `build` runs;
    // `cache` keys a cell on its build plan and judges a hit by `check`.
    (
        "phases",
        &[
            "load", "expand", "probe", "build", "inspect", "run", "check", "cache", "report",
        ],
    ),
    // The engine: the pipeline takes cells through the phases; the session
    // prepares a run and drives it.
    ("engine", &["pipeline", "session"]),
    // What a user runs: each turns its input into cells for the session.
    ("front ends", &["doctor", "repro", "ci", "init", "cli"]),
];
