//! Outcomes and verdicts with inline probes: unexpected passes, build
//! failures, timeouts, silent exits.

use crate::common;

use crossprobe::model::Outcome;

#[test]
fn unexpected_pass_fails_the_run() {
    let r = common::Test::new().matrix("name: xpass\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: amd64}\n    outcome: run-fail\n    reason: https://github.com/golang/go/issues/599\n").status(1).run();
    let c = &r.cells_json("xpass")["linux/amd64/cgo0/hello"];
    assert_eq!(c["outcome"], "pass");
    assert_eq!(c["verdict"]["met"], false);
    assert_eq!(
        c["verdict"]["message"],
        "unexpected pass: https://github.com/golang/go/issues/599 may be fixed"
    );
    assert!(r.stdout().contains("unexpected pass"), "{}", r.stdout());
    common::validate_junit(&r.reports("xpass").join("junit.xml"));
}

#[test]
fn build_failure_is_reported_with_its_first_line() {
    let r = common::Test::new().matrix("name: bf\nprobes:\n  - name: broken\n    source: |\n      package main\n      func main() { undefinedThing() }\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\nexpect:\n  - when: {goarch: arm64}\n    outcome: build-fail\n    match: \"undefined: undefinedThing\"\n    reason: the probe is broken on purpose\n").status(1).run();
    let cells = r.cells_json("bf");
    let amd = &cells["linux/amd64/cgo0/broken"];
    assert_eq!(amd["outcome"], "build-fail");
    assert!(
        amd["reason"]
            .as_str()
            .unwrap()
            .contains("undefined: undefinedThing"),
        "{amd:#}"
    );
    // Failed cells keep their build directory, and say where.
    let dir = amd["dir"].as_str().unwrap();
    assert!(std::path::Path::new(dir).join("main.go").is_file());
    std::fs::remove_dir_all(dir).unwrap();
    let arm = &cells["linux/arm64/cgo0/broken"];
    assert_eq!(arm["verdict"]["met"], true, "{arm:#}");
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
        .status(1)
        .run();
    let c = &r.cells_json("silent")["linux/amd64/cgo0/quiet"];
    assert_eq!(c["outcome"], "run-fail");
    assert!(
        c["reason"].as_str().unwrap().contains("printed no facts"),
        "{c:#}"
    );
}

/// A bug report's program prints no marker. Inline, in Go (cgo 0 and 1) or
/// in C, it passes natively, under qemu and under wine: the started proof
/// comes from a file crossprobe adds. windows/386 without a 32-bit wine
/// never passes.
#[test]
fn plain_programs_pass_in_a_full_matrix() {
    let r = common::Test::new().matrix(PLAIN).status(0).run();
    let cells = r.cells_json("plain");
    assert_eq!(cells.len(), 10, "{:?}", cells.keys());
    for target in ["linux/amd64", "linux/arm64", "windows/amd64"] {
        for probe in ["cgo0/plain-go", "cgo1/plain-go", "cgo0/plain-c"] {
            let c = &cells[&format!("{target}/{probe}")];
            assert_eq!(c["outcome"], "pass", "{c:#}");
            assert_eq!(c["verdict"]["met"], true, "{c:#}");
            assert_eq!(c["facts"]["probe.started"], true, "{c:#}");
        }
        let go = &cells[&format!("{target}/cgo1/plain-go")];
        assert_eq!(go["facts"]["probe.goos"], target.split('/').next().unwrap());
    }
    assert_eq!(
        cells["linux/arm64/cgo0/plain-c"]["cell"]["runner"]["kind"],
        "qemu"
    );
    assert_eq!(
        cells["windows/amd64/cgo0/plain-c"]["cell"]["runner"]["kind"],
        "wine"
    );
    let w386 = &cells["windows/386/cgo0/plain-go"];
    if w386["outcome"] == "pass" {
        // Only a 32-bit wine that really ran it, and said so.
        assert_eq!(w386["facts"]["probe.goarch"], "386", "{w386:#}");
    } else {
        assert_eq!(w386["outcome"], "skip", "{w386:#}");
        assert!(
            w386["reason"].as_str().unwrap().contains("32-bit wine"),
            "{w386:#}"
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
        .status(0)
        .run();
    let c = &r.cells_json("k")["linux/amd64/cgo0/hello"];
    let dir = c["dir"].as_str().expect("--keep records the directory");
    assert!(std::path::Path::new(dir).join("probe").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}
