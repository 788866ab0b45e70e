//! Emulation at the CPU floor, fact expectations and strict expected
//! failures, through the real binary and real qemu.

use crate::common::{self, CellExt};

use crossprobe::model::{CellResult, Exit, Outcome, PhaseName, Runner};
use serde_json::Value;

fn run_exit(c: &CellResult) -> Exit {
    c.commands_of(PhaseName::Run)
        .first()
        .map(|c| c.exit.clone())
        .unwrap_or_default()
}

#[test]
fn cpu_floor_reproduces_the_three_failures() {
    let r = common::Test::new().shipped("cpu-floor").run();
    let cells = r.cells("cpu-floor");
    let v3 = &cells["linux/amd64/GOAMD64=v3/cgo0/cpu=Nehalem/hello"];
    assert_eq!(v3.outcome, Outcome::RunFail);
    assert!(
        v3.reason
            .as_deref()
            .unwrap()
            .contains("v3 microarchitecture support"),
        "{v3:#?}"
    );
    assert!(
        matches!(&v3.cell.runner, Runner::Qemu { cpu: Some(c), .. } if c == "Nehalem"),
        "{:?}",
        v3.cell.runner
    );
    assert_eq!(
        cells["linux/amd64/GOAMD64=v1/cgo0/cpu=Nehalem/hello"].outcome,
        Outcome::Pass
    );

    let armv7 = &cells["linux/arm/GOARM=7/cgo0/cpu=arm926/hello"];
    assert_eq!(armv7.outcome, Outcome::RunFail);
    assert_eq!(
        run_exit(armv7).signal.as_deref(),
        Some("SIGILL"),
        "the signal is reported by name: {armv7:#?}"
    );
    assert_eq!(
        cells["linux/arm/GOARM=5/cgo0/cpu=arm926/hello"].outcome,
        Outcome::Pass
    );
    assert_eq!(
        cells["linux/arm/GOARM=7/cgo0/cpu=cortex-a15/hello"].outcome,
        Outcome::Pass
    );

    let hard = &cells["linux/mipsle/GOMIPS=hardfloat/cgo0/cpu=24Kc/hello"];
    assert_eq!(
        run_exit(hard).signal.as_deref(),
        Some("SIGILL"),
        "{hard:#?}"
    );
    assert_eq!(
        cells["linux/mipsle/GOMIPS=softfloat/cgo0/cpu=24Kc/hello"].outcome,
        Outcome::Pass
    );
    common::validate_junit(&r.reports("cpu-floor").join("junit.xml"));
}

#[test]
fn a_failed_fact_expectation_shows_expected_and_actual() {
    let r = common::Test::new().matrix("name: facts\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: amd64}\n    facts:\n      binary.static: false\n      buildinfo.CGO_ENABLED: \"0\"\n      probe.ptr_size: \">= 8\"\n").failure().run();
    let c = &r.cells("facts")["linux/amd64/cgo0/hello"];
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(!c.verdict.met);
    assert_eq!(
        c.verdict.message,
        "fact binary.static: expected false, got true"
    );
    assert!(
        r.stdout()
            .contains("fact binary.static: expected false, got true"),
        "{}",
        r.stdout()
    );
    common::validate_junit(&r.reports("facts").join("junit.xml"));
}

#[test]
fn an_expectation_that_matches_nothing_warns_and_strict_refuses() {
    let yaml = "name: s\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: arm64}\n    outcome: run-fail\n    reason: https://github.com/golang/go/issues/599\n";
    let r = common::Test::new().matrix(yaml).args(["plan", "@"]).run();
    assert!(
        r.stderr()
            .contains("warning: matrix.yaml:7:5: this expect entry matches no cell"),
        "{}",
        r.stderr()
    );
    let e = common::Test::new()
        .matrix(yaml)
        .args(["run", "@", "--strict"])
        .refuse();
    assert!(
        e.contains("matrix.yaml:7:5: this expect entry matches no cell"),
        "{e}"
    );
}

#[test]
fn a_bad_fact_expression_is_an_input_error() {
    let e = common::Test::new().matrix("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: amd64}\n    facts:\n      binary.max_glibc: \"<= banana\"\n").args(["plan", "@"]).refuse();
    assert!(e.contains("matrix.yaml:8:25"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn inspect_command_agrees_with_go_version_m() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/p\n\ngo 1.21\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("main.go"), "package main\nfunc main() {}\n").unwrap();
    common::go_build(
        dir.path(),
        "linux",
        "arm",
        &[("GOARM", "6")],
        &["-o", "p", "-ldflags=-s -w", "-tags=netgo", "."],
    );
    let bin = dir.path().join("p");
    let r = common::Test::at(dir.path())
        .args(["inspect", "--json"])
        .arg(&bin)
        .run();
    let v: Value = serde_json::from_slice(&r.out.stdout).unwrap();
    let facts = &v[bin.to_str().unwrap()]["facts"];
    let gov = std::process::Command::new("go")
        .args(["version", "-m"])
        .arg(&bin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&gov.stdout);
    let mut n = 0;
    for line in text.lines() {
        let mut parts = line.trim().splitn(2, '\t');
        if parts.next() == Some("build") {
            let (k, v) = parts.next().unwrap().split_once('=').unwrap();
            let v = v.trim_matches('"');
            assert_eq!(
                facts[format!("buildinfo.{k}")],
                Value::String(v.to_string()),
                "{k}"
            );
            n += 1;
        }
    }
    assert!(n >= 6, "go version -m printed {n} settings:\n{text}");
    assert_eq!(facts["binary.stripped"], true);
    // A plain text file is refused with a reason, not a panic.
    common::Test::at(dir.path())
        .file("notes.txt", "hello")
        .args(["inspect", "notes.txt"])
        .refuse();
}
