//! The integration tests: one binary, a module per capability (as just lays
//! out its own). Each module runs the real `crossprobe` through
//! [`common::Test`] or calls the library directly. The two process tests
//! that install signal handlers or signal their own process live in binaries
//! of their own (tests/process_interrupt.rs, tests/process_signal.rs).

mod common;
mod fuzz_support;
#[path = "../process_support/mod.rs"]
mod process_support;

mod bad_inputs;
mod cache;
mod cgo;
mod ci;
mod corpora;
mod cpu_floor;
mod dedupe;
mod docs;
mod doctor;
mod errors;
mod escapes;
mod exec;
mod expand;
mod fuzz;
mod go_test_flags;
mod gotest;
mod hostile;
mod html;
mod inspect;
mod install;
mod interrupt;
mod junit;
mod junit_consumers;
mod kill9;
mod layers;
mod matrices;
mod missing_tools;
mod module;
mod nightly_gitlab;
mod orphans;
mod outcomes;
mod pitfalls;
mod process;
mod realmods;
mod release;
mod reports;
mod reports_dir;
mod repro;
mod resume;
mod retries;
mod robustness;
mod runaway;
mod runners;
mod sandbox;
mod shards;
mod snippet_gomod;
mod standings;
mod testkit;
mod verdicts;
