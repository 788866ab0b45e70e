//! Fuzzing load → expand → plan (and the reports a plan turns into) with
//! proptest, on stable Rust. cargo-fuzz needs a nightly toolchain; proptest
//! runs everywhere `cargo test` does and shrinks what it finds.
//!
//! Inputs come three ways:
//! - matrices built from a grammar of the format, with hostile values
//!   (NUL, `../`, shell and template syntax, odd Unicode, YAML anchors);
//! - real matrices (shipped, the bad corpus) mutated: bytes flipped, ranges
//!   cut and repeated, YAML tokens spliced in;
//! - raw bytes, read through the file path.
//!
//! Each input must give a matrix or an error, never a panic; the error must
//! render; a matrix must expand into at most `--max-cells` cells with unique,
//! path-safe slugs, and its JUnit XML and results.json must be well formed.
//! A watchdog aborts on any input that takes more than [`HANG`], printing it.
//!
//! CI runs a few hundred cases. A long run (see the README's Reliability
//! section):
//!
//! ```sh
//! CROSSPROBE_FUZZ_SECS=600 cargo test --release --test it fuzz:: -- --nocapture
//! ```
//!
//! Inputs that once failed live in `tests/fuzz-regressions/` and are replayed
//! by `regressions_stay_fixed`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossprobe::expand::{self, DEFAULT_MAX_CELLS};
use crossprobe::host::{Host, Tools};
use crossprobe::model::{Cell, CellResult, Runner, RunnerKind};
use crossprobe::toolchain::go::{DistTarget, GoToolchain};
use crossprobe::toolchain::versions;
use crossprobe::{load, probe, report, run};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use crate::fuzz_support;
use fuzz_support::Input;

/// One input may take this long before it counts as a hang (debug build, a
/// busy machine; the slowest real input takes about a second).
const HANG: Duration = Duration::from_secs(30);
const DEFAULT_CASES: u32 = 300;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Go 1.26's `go tool dist list -json`, checked in so that the fuzzer needs
/// no Go and expands the same way everywhere.
fn toolchain() -> GoToolchain {
    let text = std::fs::read_to_string(crate_dir().join("tests/data/go1.26-dist-list.json"))
        .expect("the dist list snapshot");
    let targets: Vec<DistTarget> = serde_json::from_str(&text).unwrap();
    GoToolchain {
        request: "local".into(),
        go: PathBuf::from("/usr/local/go/bin/go"),
        goroot: PathBuf::from("/usr/local/go"),
        version: "go1.26.8".into(),
        targets: targets
            .into_iter()
            .map(|t| (format!("{}/{}", t.goos, t.goarch), t))
            .collect(),
        ..GoToolchain::default()
    }
}

fn host() -> Host {
    Host {
        goos: "linux".into(),
        goarch: "amd64".into(),
        kernel: "6.1".into(),
        cpu: "fuzz".into(),
        runner: String::new(),
    }
}

#[derive(Default)]
struct Stats {
    cases: AtomicU64,
    loaded: AtomicU64,
    expanded: AtomicU64,
    cells: AtomicU64,
    /// The slowest input so far, in microseconds, and the input.
    slowest: Mutex<(u64, Vec<u8>)>,
    /// The first words of each refusal, counted: which checks the inputs
    /// reach. Printed with CROSSPROBE_FUZZ_VERBOSE=1.
    refusals: Mutex<BTreeMap<String, u64>>,
}

/// The input being worked on, for the watchdog to print.
struct Current {
    since: Instant,
    input: Vec<u8>,
    busy: bool,
}

struct Fuzzer {
    go: GoToolchain,
    host: Host,
    tools: Tools,
    stats: Stats,
    current: Arc<Mutex<Current>>,
    scratch: tempfile::TempDir,
}

impl Fuzzer {
    fn new() -> Fuzzer {
        let current = Arc::new(Mutex::new(Current {
            since: Instant::now(),
            input: Vec::new(),
            busy: false,
        }));
        let watched = Arc::clone(&current);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let c = watched.lock().unwrap_or_else(|e| e.into_inner());
            if c.busy && c.since.elapsed() > HANG {
                let path = std::env::temp_dir().join("crossprobe-fuzz-hang.yaml");
                let _ = std::fs::write(&path, &c.input);
                eprintln!(
                    "fuzz: one input took more than {HANG:?}; saved to {}:\n{}",
                    path.display(),
                    String::from_utf8_lossy(&c.input)
                );
                std::process::abort();
            }
        });
        Fuzzer {
            go: toolchain(),
            host: host(),
            tools: Tools::default(),
            stats: Stats::default(),
            current,
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    fn begin(&self, input: &[u8]) {
        let mut c = self.current.lock().unwrap();
        c.since = Instant::now();
        c.input = input.to_vec();
        c.busy = true;
    }

    fn end(&self) {
        self.current.lock().unwrap().busy = false;
    }

    /// One input through load → expand → plan → reports.
    fn check(&self, input: &Input) -> Result<(), TestCaseError> {
        let bytes = input.bytes();
        self.begin(&bytes);
        let t0 = Instant::now();
        let r = self.check_inner(input, &bytes);
        let us = t0.elapsed().as_micros() as u64;
        self.end();
        let mut slowest = self.stats.slowest.lock().unwrap();
        if us > slowest.0 {
            *slowest = (us, bytes);
        }
        drop(slowest);
        self.stats.cases.fetch_add(1, Ordering::Relaxed);
        r
    }

    /// Every refusal must render the way `main` prints it.
    fn rendered(&self, report: &miette::Report) -> Result<(), TestCaseError> {
        let text = format!("{report:?}");
        prop_assert!(!text.trim().is_empty(), "an empty error");
        let what: String = report
            .to_string()
            .rsplit(": ")
            .next()
            .unwrap_or("")
            .chars()
            .take_while(|c| *c != '"' && *c != '`')
            .take(40)
            .collect();
        *self.stats.refusals.lock().unwrap().entry(what).or_default() += 1;
        Ok(())
    }

    fn check_inner(&self, input: &Input, bytes: &[u8]) -> Result<(), TestCaseError> {
        let loaded = match input {
            // Raw bytes take the path a file takes: size limit, UTF-8.
            Input::Raw(b) => {
                let path = self.scratch.path().join("fuzz.yaml");
                std::fs::write(&path, b).unwrap();
                load::load_file(&path, None)
            }
            _ => load::load_str(
                "fuzz.yaml",
                "fuzz",
                String::from_utf8_lossy(bytes).into_owned(),
                None,
            ),
        };
        let m = match loaded {
            Ok(m) => m,
            Err(report) => return self.rendered(&report),
        };
        self.stats.loaded.fetch_add(1, Ordering::Relaxed);
        prop_assert!(load::check_name(&m.name).is_ok(), "name {:?}", m.name);

        let choose = |cell: &Cell, ov: Option<RunnerKind>| -> Runner {
            run::runners::choose_with(
                ov,
                &cell.goos,
                &cell.goarch,
                &cell.env,
                &self.host,
                &self.tools,
            )
        };
        let opts = expand::Options {
            max_cells: DEFAULT_MAX_CELLS,
            choose_runner: &choose,
        };
        // As `crossprobe run` resolves `go:`, offline: a version that parses
        // gets the local toolchain under its name, as an unavailable one
        // does.
        let mut gos = BTreeMap::new();
        for g in m.values("go") {
            if let Err((message, _)) = versions::parse_request(&g.value) {
                *self
                    .stats
                    .refusals
                    .lock()
                    .unwrap()
                    .entry(message)
                    .or_default() += 1;
                return Ok(());
            }
            let mut tc = self.go.clone();
            tc.request = g.value.clone();
            gos.insert(g.value.clone(), tc);
        }
        let ex = match expand::expand(&m, &gos, &opts) {
            Ok(ex) => ex,
            Err(report) => return self.rendered(&report),
        };
        self.stats.expanded.fetch_add(1, Ordering::Relaxed);
        self.stats
            .cells
            .fetch_add(ex.cells.len() as u64, Ordering::Relaxed);
        prop_assert!(ex.cells.len() <= DEFAULT_MAX_CELLS);

        let mut ids = HashSet::new();
        let mut slugs = HashSet::new();
        let go = &self.go;
        for c in &ex.cells {
            prop_assert!(ids.insert(&c.id), "two cells are {:?}", c.id);
            prop_assert!(slugs.insert(&c.slug), "two cells share slug {:?}", c.slug);
            prop_assert!(path_safe(&c.slug), "slug {:?} of {:?}", c.slug, c.id);
            prop_assert_eq!(&expand::cell_id(c), &c.id);
            prop_assert!(
                go.targets.contains_key(&c.target()),
                "{} is not a target",
                c.target()
            );
            // No C compiler: the plan still has to be well formed.
            let plan = probe::go_plan(
                c,
                go,
                Err(crossprobe::toolchain::cc::NoCompiler::Resolved(
                    "none in the fuzzer".to_string(),
                )),
                None,
                self.scratch.path(),
            );
            for step in plan.steps.iter().flatten() {
                for a in &step.argv {
                    prop_assert!(!a.contains('\0'), "NUL in argv {:?}", step.argv);
                }
                for (k, v) in &step.env {
                    prop_assert!(
                        !k.is_empty() && !k.contains(['=', '\0']) && !v.contains('\0'),
                        "env {k:?}={v:?}"
                    );
                }
            }
        }
        // What `plan --json` prints, and the reports an interrupted run of
        // these cells would write.
        serde_json::to_string(&ex.cells).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let results = results_of(&m.name, ex.cells);
        let json = serde_json::to_string(&results).unwrap();
        let back: crossprobe::model::Results = serde_json::from_str(&json)
            .map_err(|e| TestCaseError::fail(format!("results.json does not read back: {e}")))?;
        prop_assert_eq!(back.cells.len(), results.cells.len());
        well_formed_xml(&report::junit::to_string(&results))?;
        Ok(())
    }
}

fn path_safe(slug: &str) -> bool {
    !slug.is_empty()
        && slug != "."
        && slug != ".."
        && slug.len() <= 130
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._=,".contains(c))
}

/// Results as an interrupted run would write them, built through JSON so
/// that fields added to the model later need no change here.
fn results_of(name: &str, cells: Vec<Cell>) -> crossprobe::model::Results {
    let cells: Vec<_> = cells.into_iter().map(CellResult::interrupted).collect();
    let v = serde_json::json!({
        "schema": crossprobe::model::SCHEMA_VERSION,
        "crossprobe_version": "fuzz",
        "matrices": [name],
        "started_at": "2025-01-01T00:00:00Z",
        "duration_ms": 1,
        "host": {"os": "linux", "arch": "amd64", "kernel": "6.1", "cpu": "fuzz", "runner": "fuzz"},
        "tools": {},
        "interrupted": true,
        "cells": cells,
    });
    serde_json::from_value(v).expect("results from JSON")
}

/// Parses the whole document and checks every character is one XML 1.0
/// allows: what xmllint would refuse first.
fn well_formed_xml(xml: &str) -> Result<(), TestCaseError> {
    if let Some(c) = xml.chars().find(|&c| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }) {
        return Err(TestCaseError::fail(format!(
            "junit.xml holds {c:?}, which XML 1.0 forbids"
        )));
    }
    let mut r = quick_xml::Reader::from_str(xml);
    r.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "junit.xml is not well formed at {}: {e}",
                    r.buffer_position()
                )))
            }
        }
    }
    prop_assert_eq!(depth, 0, "unbalanced junit.xml");
    Ok(())
}

fn cases() -> u32 {
    std::env::var("CROSSPROBE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// `CROSSPROBE_FUZZ_SECS`: keep running batches of cases until this many
/// seconds have passed.
fn seconds() -> Option<u64> {
    std::env::var("CROSSPROBE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
}

#[test]
fn load_expand_plan_never_panic_or_hang() {
    let f = Fuzzer::new();
    let strategy = fuzz_support::input(fuzz_support::seeds(crate_dir()));
    let t0 = Instant::now();
    let until = seconds().map(|s| t0 + Duration::from_secs(s));
    let batch = if until.is_some() { 20_000 } else { cases() };
    let mut batches = 0;
    loop {
        let mut runner = TestRunner::new(Config {
            cases: batch,
            failure_persistence: None,
            // Most inputs are refused early; that is what they are for.
            max_global_rejects: u32::MAX,
            ..Config::default()
        });
        match runner.run(&strategy, |i| f.check(&i)) {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => {
                let path = std::env::temp_dir().join("crossprobe-fuzz-failure.yaml");
                std::fs::write(&path, input.bytes()).unwrap();
                panic!(
                    "{why}\nminimal input (saved to {}; keep it in tests/fuzz-regressions/):\n{}",
                    path.display(),
                    String::from_utf8_lossy(&input.bytes())
                );
            }
            Err(e) => panic!("{e}"),
        }
        batches += 1;
        if until.is_none_or(|u| Instant::now() >= u) {
            break;
        }
    }
    let s = &f.stats;
    let n = s.cases.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "fuzz: {n} executions in {secs:.0}s ({:.0}/s, {batches} batches): {} loaded, {} expanded, {} cells",
        n as f64 / secs,
        s.loaded.load(Ordering::Relaxed),
        s.expanded.load(Ordering::Relaxed),
        s.cells.load(Ordering::Relaxed),
    );
    let (us, input) = s.slowest.lock().unwrap().clone();
    eprintln!("fuzz: the slowest input took {} ms", us / 1000);
    if std::env::var_os("CROSSPROBE_FUZZ_VERBOSE").is_some() {
        eprintln!("{}\n-----", String::from_utf8_lossy(&input));
        let mut by_count: Vec<_> = s.refusals.lock().unwrap().clone().into_iter().collect();
        by_count.sort_by_key(|b| std::cmp::Reverse(b.1));
        for (what, k) in by_count {
            eprintln!("{k:>8}  {what}");
        }
    }
    // The grammar must reach expand often, or the fuzzer tests only the
    // parser's refusals.
    assert!(
        s.expanded.load(Ordering::Relaxed) * 20 >= n,
        "only {} of {n} inputs expanded",
        s.expanded.load(Ordering::Relaxed)
    );
}

/// Inputs the fuzzer once failed on, or that were too slow, kept as files.
#[test]
fn regressions_stay_fixed() {
    let f = Fuzzer::new();
    let dir = crate_dir().join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let input = match std::str::from_utf8(&bytes) {
            Ok(s) => Input::Mutated(s.to_string()),
            Err(_) => Input::Raw(bytes),
        };
        let t0 = Instant::now();
        if let Err(e) = f.check(&input) {
            panic!("{}: {e}", entry.path().display());
        }
        let took = t0.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "{}: took {took:?}",
            entry.path().display()
        );
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
