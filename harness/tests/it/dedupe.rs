//! Build dedupe: cells that differ only in how they run share one build.
#![cfg(target_os = "linux")]

// Runs pass --no-sandbox: their probes leave marks in the test's own
// directory, which a sandboxed probe cannot write.
use crate::common::{self, CellExt, Test};

use crossprobe::model::{CellResult, Outcome, Phase, PhaseName};

#[test]
fn cells_that_differ_only_in_their_cpu_share_one_build() {
    let r = Test::new().matrix("name: d\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cpu: [cortex-a53, cortex-a72, max]\n").run();
    let results = r.results("d");
    let cells = &results.cells;
    assert_eq!(cells.len(), 3);
    let perf = results.perf.as_ref().expect("the run's cost");
    assert_eq!(perf.builds, 1, "{perf:#?}");
    assert_eq!(perf.builds_shared, 2);

    let phase = |c: &CellResult, name: PhaseName| -> Phase {
        phase(&c.phases, name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name:?} phase: {c:#?}"))
    };
    let builder: Vec<&CellResult> = cells.iter().filter(|c| c.build_of.is_none()).collect();
    assert_eq!(builder.len(), 1, "exactly one cell built");
    let builder = builder[0];
    let build = phase(builder, PhaseName::Build).commands[0].clone();
    for c in cells {
        assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
        assert_eq!(
            phase(c, PhaseName::Build).commands[0],
            build,
            "one build command"
        );
        if let Some(of) = &c.build_of {
            assert_eq!(of, &builder.cell.id);
        }
        // Each ran under its own CPU model (after bwrap's part of argv).
        let argv = &phase(c, PhaseName::Run).commands[0].argv;
        let at = argv
            .iter()
            .position(|w| w == "-cpu")
            .unwrap_or_else(|| panic!("{argv:?}"));
        assert_eq!(argv[at + 1], c.cell.cpu, "{argv:?}");
        assert_eq!(c.fact("probe.goarch"), "arm64");
    }
    // build_of lives in results.json (above); JUnit keeps only what a CI
    // reader needs (report/junit.rs), and stays valid.
    common::validate_junit(&r.reports("d").join("junit.xml"));
}

fn phase(phases: &[Phase], name: PhaseName) -> Option<&Phase> {
    phases.iter().find(|p| p.name == name)
}

/// `--retries` runs the binary again; it does not build it again.
#[test]
fn a_retry_reuses_the_build() {
    let marks = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: r\nprobes:\n  - name: coin\n    source: |\n      package main\n      import (\"fmt\"; \"os\"; \"path/filepath\")\n      func main() {{\n          mark := filepath.Join(os.Getenv(\"MARKS\"), \"tried\")\n          if _, err := os.Stat(mark); err != nil {{\n              os.WriteFile(mark, nil, 0o644)\n              os.Exit(3)\n          }}\n          fmt.Println(`CROSSPROBE-FACTS: {{}}`)\n      }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env:\n    MARKS: [{:?}]\n",
        marks.path().display().to_string()
    );
    let r = Test::new()
        .matrix(&yaml)
        .args(["run", "@", "--no-sandbox", "--retries", "1"])
        .run();
    let cell = r.cells("r").into_values().next().unwrap();
    let tries = &cell.attempts;
    assert_eq!(tries.len(), 1, "{cell:#?}");
    assert_eq!(tries[0].outcome, Outcome::RunFail);
    assert_eq!(
        phase(&tries[0].phases, PhaseName::Build),
        phase(&cell.phases, PhaseName::Build),
        "the same build, not a second one"
    );
    assert_eq!(r.results("r").perf.expect("the run's cost").builds, 1);
}

/// A build that fails is tried again only when nobody expected it to fail.
#[test]
fn a_failed_build_is_retried_unless_expected() {
    let yaml = |expect: &str| {
        format!("name: b\nprobes:\n  - name: broken\n    source: |\n      package main\n      func main() {{ undefinedThing() }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n{expect}")
    };
    let r = Test::new()
        .matrix(&yaml(""))
        .args(["run", "@", "--no-sandbox", "--retries", "1"])
        .failure()
        .run();
    let cell = r.cells("b").into_values().next().unwrap();
    assert_eq!(cell.outcome, Outcome::BuildFail);
    let tries = &cell.attempts;
    assert_eq!(tries.len(), 1, "{cell:#?}");
    assert_eq!(tries[0].outcome, Outcome::BuildFail);
    assert!(phase(&tries[0].phases, PhaseName::Run).is_none());

    let expected =
        "expect:\n  - when: {probe: broken}\n    outcome: build-fail\n    reason: on purpose\n";
    let r = Test::new()
        .matrix(&yaml(expected))
        .args(["run", "@", "--no-sandbox", "--retries", "1"])
        .run();
    let cell = r.cells("b").into_values().next().unwrap();
    assert!(cell.attempts.is_empty(), "{cell:#?}");
}

/// The same cell in two matrices shares one build, and both run at once
/// from its directory: each run keeps its own output. Each probe prints its
/// pid and stays a while, so the two runs overlap; with shared capture
/// files one would report the other's pid.
#[test]
fn the_same_cell_in_two_matrices_keeps_its_own_output() {
    let probe = "probes:\n  - name: pid\n    source: |\n      package main\n      import (\"fmt\"; \"os\"; \"time\")\n      func main() {\n        fmt.Printf(\"CROSSPROBE-FACTS: {\\\"pid\\\": %d}\\n\", os.Getpid())\n        time.Sleep(time.Second)\n      }\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n";
    let r = ["one", "two"]
        .iter()
        .fold(Test::new(), |t, name| {
            t.file(&format!("{name}.yaml"), format!("name: {name}\n{probe}"))
        })
        .args(["run", "one.yaml", "two.yaml", "--no-sandbox", "-j2"])
        .run();
    let cell = |m: &str| r.results(m).cells.remove(0);
    let (one, two) = (cell("one"), cell("two"));
    assert_eq!(
        one.build_of.is_none() as u8 + two.build_of.is_none() as u8,
        1,
        "one build for both: {one:#?}\n{two:#?}"
    );
    let pid = |c: &CellResult| c.fact("probe.pid").as_u64().unwrap_or(0);
    assert!(pid(&one) > 0 && pid(&two) > 0, "{one:#?}\n{two:#?}");
    assert_ne!(pid(&one), pid(&two), "each run's own output");
}
