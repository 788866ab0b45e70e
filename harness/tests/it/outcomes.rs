//! Outcomes and verdicts with inline probes: unexpected passes, build
//! failures, timeouts, silent exits.

use crate::common::{self, CellExt};

use crossprobe::model::{Outcome, RunnerKind};

#[test]
fn unexpected_pass_fails_the_run() {
    let r = common::Test::new().matrix("name: xpass\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: amd64}\n    outcome: run-fail\n    reason: https://github.com/golang/go/issues/599\n").failure().run();
    let c = &r.cells("xpass")["linux/amd64/cgo0/hello"];
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(!c.verdict.met);
    assert_eq!(
        c.verdict.message,
        "unexpected pass: https://github.com/golang/go/issues/599 may be fixed"
    );
    assert!(r.stdout().contains("unexpected pass"), "{}", r.stdout());
    common::validate_junit(&r.reports("xpass").join("junit.xml"));
}

#[test]
fn build_failure_is_reported_with_its_first_line() {
    let r = common::Test::new().matrix("name: bf\nprobes:\n  - name: broken\n    source: |\n      package main\n      func main() { undefinedThing() }\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\nexpect:\n  - when: {goarch: arm64}\n    outcome: build-fail\n    match: \"undefined: undefinedThing\"\n    reason: the probe is broken on purpose\n").failure().run();
    let cells = r.cells("bf");
    let amd = &cells["linux/amd64/cgo0/broken"];
    assert_eq!(amd.outcome, Outcome::BuildFail);
    assert!(
        amd.reason
            .as_deref()
            .unwrap()
            .contains("undefined: undefinedThing"),
        "{amd:#?}"
    );
    // Failed cells keep their build directory, and say where.
    let dir = amd.dir.as_deref().unwrap();
    assert!(std::path::Path::new(dir).join("main.go").is_file());
    std::fs::remove_dir_all(dir).unwrap();
    let arm = &cells["linux/arm64/cgo0/broken"];
    assert!(arm.verdict.met, "{arm:#?}");
    common::validate_junit(&r.reports("bf").join("junit.xml"));
}

#[test]
fn a_probe_that_never_ends_times_out() {
    let r = common::Test::new()
        .matrix("name: to\nprobes:\n  - name: forever\n    source: |\n      package main\n      import \"time\"\n      func main() { time.Sleep(time.Hour) }\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  timeout: 2s\nexpect:\n  - when: {probe: forever}\n    outcome: timeout\n    reason: it sleeps for an hour\n")
        .run();
    let c = &r.cells("to")["linux/amd64/cgo0/forever"];
    assert_eq!(c.outcome, Outcome::Timeout, "{c:#?}");
}

/// A shipped-style probe (`--templates`) gets no started proof: one that
/// exits 0 and prints nothing is what an emulator that never ran the binary
/// looks like, and it is never a pass.
#[test]
fn silent_exit_zero_is_not_a_pass() {
    let r = common::Test::new()
        .file(
            "templates/probes/quiet/probe.yaml",
            "summary: prints nothing\n",
        )
        .file(
            "templates/probes/quiet/main.go",
            "package main\n\nfunc main() {}\n",
        )
        .matrix("name: silent\nprobes: [quiet]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n")
        .args(["run", "@", "--templates", "templates"])
        .failure()
        .run();
    let c = &r.cells("silent")["linux/amd64/cgo0/quiet"];
    assert_eq!(c.outcome, Outcome::RunFail);
    assert!(
        c.reason.as_deref().unwrap().contains("printed no facts"),
        "{c:#?}"
    );
}

/// A bug report's program prints no marker. Inline, in Go (cgo 0 and 1) or
/// in C, it passes natively, under qemu and under wine: the started proof
/// comes from a file crossprobe adds. windows/386 without a 32-bit wine
/// never passes.
#[test]
fn plain_programs_pass_in_a_full_matrix() {
    let r = common::Test::new().matrix(PLAIN).run();
    let cells = r.cells("plain");
    assert_eq!(cells.len(), 10, "{:?}", cells.keys());
    for target in ["linux/amd64", "linux/arm64", "windows/amd64"] {
        for probe in ["cgo0/plain-go", "cgo1/plain-go", "cgo0/plain-c"] {
            let c = &cells[&format!("{target}/{probe}")];
            assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
            assert!(c.verdict.met, "{c:#?}");
            assert_eq!(c.fact("probe.started"), true, "{c:#?}");
        }
        let go = &cells[&format!("{target}/cgo1/plain-go")];
        assert_eq!(go.fact("probe.goos"), target.split('/').next().unwrap());
    }
    assert_eq!(
        cells["linux/arm64/cgo0/plain-c"].cell.runner.kind(),
        RunnerKind::Qemu
    );
    assert_eq!(
        cells["windows/amd64/cgo0/plain-c"].cell.runner.kind(),
        RunnerKind::Wine
    );
    let w386 = &cells["windows/386/cgo0/plain-go"];
    if w386.outcome == Outcome::Pass {
        // Only a 32-bit wine that really ran it, and said so.
        assert_eq!(w386.fact("probe.goarch"), "386", "{w386:#?}");
    } else {
        assert_eq!(w386.outcome, Outcome::Skip, "{w386:#?}");
        assert!(
            w386.reason.as_deref().unwrap().contains("32-bit wine"),
            "{w386:#?}"
        );
    }
}

pub const PLAIN: &str = r#"
name: plain
probes:
  - name: plain-go
    source: |
      package main

      import "fmt"

      func main() { fmt.Println("hello, plain world") }
  - name: plain-c
    lang: c
    source: |
      #include <stdio.h>

      int main(void) { puts("hello, plain world"); return 0; }
matrix:
  goos: [linux, windows]
  goarch: [amd64, arm64, "386"]
  cgo: ["0", "1"]
  exclude:
    - {goos: windows, goarch: arm64}
    - {goos: linux, goarch: "386"}
    - {probe: plain-c, cgo: "1"}
    - {goarch: "386", cgo: "1"}
    - {goarch: "386", probe: plain-c}
run:
  timeout: 180s
  # Debian's wine32 cannot be installed here: windows/386 is then a skip.
  allow_missing: [wine32]
expect:
  - match: "hello, plain world"
"#;

#[test]
fn keep_keeps_passing_build_dirs() {
    let r = common::Test::new()
        .matrix("name: k\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n")
        .args(["run", "@", "--keep", "-j1"])
        .run();
    let c = &r.cells("k")["linux/amd64/cgo0/hello"];
    let dir = c.dir.as_deref().expect("--keep records the directory");
    assert!(std::path::Path::new(dir).join("probe").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}
