//! The probe library through the real binary: `matrices/pitfalls.yaml` built
//! and run natively, under qemu-user and wine, and built only for darwin.
//!
//! The whole matrix takes about two minutes warm on 2 cores; by default the
//! test runs the slice that still has every kind of runner and the 32-bit
//! layouts (`*/a*64/*` and `linux/386/*`, 51 of its 88 cells).
//! CROSSPROBE_PITFALLS_FULL=1 runs all of it.

use crate::common::{self, CellExt};

use std::collections::{BTreeMap, BTreeSet};

use crossprobe::model::{CellResult, Outcome, RunnerKind};
use serde_json::Value;

const PROBES: [&str; 9] = [
    "align",
    "cpu-features",
    "dualstack",
    "pprof",
    "resolver",
    "signals",
    "stat",
    "syscall",
    "time",
];

fn fact<'a>(cells: &'a BTreeMap<String, CellResult>, id: &str, key: &str) -> &'a Value {
    let c = cells
        .get(id)
        .unwrap_or_else(|| panic!("no cell {id}; cells: {:?}", cells.keys()));
    c.fact(key)
}

/// Runs the matrix (or one slice of it) and checks every cell: a pass with
/// the probe's facts and the emulator the probe detected agreeing with the
/// runner crossprobe chose, or a skip with its reason after a build and an
/// inspection. Returns the cells.
fn run_and_check(filter: Option<&str>) -> BTreeMap<String, CellResult> {
    let args: Vec<&str> = filter.map(|f| vec!["--filter", f]).unwrap_or_default();
    let r = common::Test::new().shipped("pitfalls").args(&args).run();
    common::validate_junit(&r.reports("pitfalls").join("junit.xml"));
    let cells = r.cells("pitfalls");
    for (id, c) in &cells {
        let facts = &c.facts;
        let runner = c.cell.runner.kind();
        match c.outcome {
            Outcome::Pass => {
                let printed = facts.keys().filter(|k| k.starts_with("probe.")).count();
                assert!(printed >= 3, "{id}: only {printed} probe facts: {facts:?}");
                let emu = facts
                    .get("probe.emulator")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{id}: no probe.emulator: {facts:?}"));
                let agrees = match runner {
                    RunnerKind::Native => emu.is_empty(),
                    RunnerKind::Qemu => emu.starts_with("qemu-"),
                    RunnerKind::Wine => emu.starts_with("wine"),
                    _ => false,
                };
                assert!(agrees, "{id}: runner {runner:?}, but the probe saw {emu:?}");
            }
            Outcome::Skip => {
                let why = c.reason.as_deref().unwrap_or("");
                assert!(why.contains("no runner"), "{id}: skipped because {why:?}");
                assert_eq!(runner, RunnerKind::None, "{id}");
                assert!(
                    facts.contains_key("binary.format"),
                    "{id}: built and inspected before the skip: {facts:?}"
                );
            }
            other => panic!("{id}: {other}: {:?}", c.reason),
        }
        assert!(c.verdict.met, "{id}: {}", c.verdict.message);
    }
    cells
}

#[test]
fn every_probe_reports_facts_where_it_runs_and_skips_with_a_reason_elsewhere() {
    let full = std::env::var_os("CROSSPROBE_PITFALLS_FULL").is_some();
    let mut cells = run_and_check((!full).then_some("*/a*64/*"));
    if !full {
        cells.extend(run_and_check(Some("linux/386/*")));
    }

    let probes: BTreeSet<&str> = cells.values().map(|c| c.cell.probe.as_str()).collect();
    assert_eq!(probes, BTreeSet::from(PROBES));
    let runners: BTreeSet<&str> = cells
        .values()
        .map(|c| c.cell.runner.kind().as_str())
        .collect();
    for kind in ["native", "qemu", "wine", "none"] {
        assert!(runners.contains(kind), "no {kind} cell: {runners:?}");
    }

    // The pitfalls themselves, as facts.
    assert_eq!(
        fact(
            &cells,
            "linux/386/cgo0/align",
            "probe.after_uint32.atomic_safe"
        ),
        false
    );
    assert_eq!(
        fact(
            &cells,
            "linux/amd64/cgo0/align",
            "probe.after_uint32.atomic_safe"
        ),
        true
    );
    assert_eq!(
        fact(&cells, "linux/arm64/cgo0/syscall", "probe.sys.getpid"),
        172
    );
    assert_eq!(fact(&cells, "linux/386/cgo0/stat", "probe.go.size"), 96);
    // With cgo, C's own struct stat: the 32-bit off_t layout on 386.
    assert_eq!(fact(&cells, "linux/386/cgo1/stat", "probe.c.size"), 88);
    assert_eq!(
        fact(&cells, "linux/386/cgo1/stat", "probe.layout_matches_c"),
        false
    );
    assert_eq!(
        fact(&cells, "linux/amd64/cgo1/stat", "probe.layout_matches_c"),
        true
    );
    assert_eq!(
        fact(
            &cells,
            "windows/amd64/cgo0/flags=-trimpath/time",
            "probe.tz.berlin"
        ),
        "unknown time zone Europe/Berlin"
    );
    assert_eq!(
        fact(
            &cells,
            "windows/amd64/cgo0/tags=timetzdata/flags=-trimpath/time",
            "probe.tz.source"
        ),
        "embedded"
    );
    assert_eq!(
        fact(&cells, "windows/amd64/cgo0/resolver", "probe.resolver"),
        "windows"
    );
    assert_eq!(
        fact(
            &cells,
            "windows/amd64/cgo0/tags=netgo/resolver",
            "probe.resolver"
        ),
        "go"
    );
    let nehalem = "linux/amd64/cgo0/cpu=Nehalem/cpu-features";
    assert_eq!(fact(&cells, nehalem, "probe.cpuid.amd64_level"), "v2");
    assert!(
        fact(&cells, nehalem, "probe.cpuinfo_overclaims")
            .as_str()
            .unwrap()
            .contains("avx2"),
        "{:#?}",
        cells[nehalem]
    );
}

#[test]
fn list_probes_points_at_a_page_for_every_probe() {
    let text = common::Test::new().arg("list-probes").run().stdout();
    for probe in PROBES.iter().chain(&["hello", "atomic64"]) {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{probe} ")))
            .unwrap_or_else(|| panic!("{probe} is not listed:\n{text}"));
        assert!(line.contains("  go  "), "{line}");
        let see = format!("see https://crossprobe.github.io/crossprobe/probes/{probe}.html");
        assert!(text.contains(&see), "no `{see}`:\n{text}");
        let page =
            std::fs::read_to_string(common::repo().join(format!("docs/src/probes/{probe}.md")))
                .unwrap();
        for part in ["**Why:**", "## Facts", "## Runners"] {
            assert!(
                page.contains(part),
                "docs/src/probes/{probe}.md has no {part}"
            );
        }
    }
}

/// The book has a page for every shipped probe, and none for a probe that
/// is not shipped.
#[test]
fn every_shipped_probe_has_a_page_in_the_book() {
    let text = common::Test::new().arg("list-probes").run().stdout();
    let names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() > 10, "{text}");
    let pages = common::repo().join("docs/src/probes");
    let missing: Vec<&&str> = names
        .iter()
        .filter(|n| !pages.join(format!("{n}.md")).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "no docs/src/probes/NAME.md for {missing:?}"
    );
    for entry in std::fs::read_dir(&pages).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            stem == "index" || names.contains(&stem.as_str()),
            "docs/src/probes/{stem}.md names no shipped probe"
        );
    }
}
