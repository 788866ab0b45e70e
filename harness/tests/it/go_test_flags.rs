//! go test's habits on a `test:` probe, end to end with the real toolchain,
//! natively and under qemu-user:
//!
//! - `test:` takes a list of patterns;
//! - `go_test:` takes go test's flags by name (run, skip, short, count, cpu,
//!   shuffle, failfast, timeout, bench, benchtime) and hands them to the test
//!   binary as `go test` does (`-test.run=…`);
//! - `args:` reaches the test binary after them, as `go test -args` passes
//!   it;
//! - anything else is refused at its line and column;
//! - `run: false` builds and inspects a command without running it.

use crate::common::{self, CellExt, Test};
use std::collections::BTreeMap;

use crossprobe::model::{Outcome, PhaseName, TestOutcome};

const A_TEST: &str = r#"package a

import (
	"flag"
	"runtime"
	"testing"
)

var greeting = flag.String("greeting", "", "set through args:")

func TestFast(t *testing.T) {}

func TestSlow(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	t.Fatal("ran in full although go_test says short")
}

func TestLeftOutByRun(t *testing.T) { t.Fatal("go_test run leaves this out") }

func TestLeftOutBySkip(t *testing.T) { t.Fatal("go_test skip leaves this out") }

func TestArgs(t *testing.T) {
	if *greeting != "hi" {
		t.Fatalf("-greeting=%q, want hi (args: reaches the test binary)", *greeting)
	}
}

func TestCPU(t *testing.T) {
	t.Logf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0))
}

func BenchmarkSum(b *testing.B) {
	s := 0
	for i := 0; i < b.N; i++ {
		s += i
	}
	_ = s
}
"#;

#[test]
fn go_test_flags_patterns_and_args_reach_the_test_binary_natively_and_under_qemu() {
    let mut goarch = vec!["amd64"];
    if common::require_tool("qemu-aarch64", "the arm64 cells are left out") {
        goarch.push("arm64");
    }
    let yaml = format!(
        r#"name: flags
probes:
  - name: unit
    test: [./a, ./b]
    args: [-greeting=hi]
    go_test:
      run: ^Test(Fast|Slow|Args|CPU|LeftOutBySkip)$
      skip: ^TestLeftOutBySkip$
      short: true
      count: 2
      cpu: [1, 2]
      shuffle: off
      failfast: true
      timeout: 3m
      bench: ^BenchmarkSum$
      benchtime: 10x
matrix:
  goos: [linux]
  goarch: [{}]
  cgo: ["0"]
"#,
        goarch.join(", ")
    );
    let r = Test::new()
        .file("go.mod", "module example.com/flags\n\ngo 1.21\n")
        .file("a/a.go", "package a\n")
        .file("a/a_test.go", A_TEST)
        // Each package's test binary gets `args:`: b takes the flag too, as
        // `go test ./a ./b -args -greeting=hi` needs.
        .file("b/b_test.go", "package b\n\nimport (\n\t\"flag\"\n\t\"testing\"\n)\n\nvar _ = flag.String(\"greeting\", \"\", \"\")\n\nfunc TestFast(t *testing.T) {}\n")
        // Not named by the patterns: never a cell.
        .file("c/c_test.go", "package c\n\nimport \"testing\"\n\nfunc TestFast(t *testing.T) { t.Fatal(\"c is not a pattern\") }\n")
        .matrix(&yaml)
        .run();
    let cells = r.cells("flags");
    let ids: Vec<&String> = cells.keys().collect();
    let want: Vec<String> = goarch
        .iter()
        .flat_map(|a| {
            [
                format!("linux/{a}/cgo0/unit/a"),
                format!("linux/{a}/cgo0/unit/b"),
            ]
        })
        .collect();
    assert_eq!(ids.len(), want.len(), "{ids:?}");
    for id in &want {
        let c = &cells[id];
        assert_eq!(
            c.outcome,
            Outcome::Pass,
            "{id}: {:?}\n{:#?}",
            c.reason,
            c.tests
        );
        let argv = &c.commands_of(PhaseName::Run)[0].argv;
        for flag in [
            "-test.run=^Test(Fast|Slow|Args|CPU|LeftOutBySkip)$",
            "-test.skip=^TestLeftOutBySkip$",
            "-test.short",
            "-test.count=2",
            "-test.cpu=1,2",
            "-test.shuffle=off",
            "-test.failfast",
            "-test.timeout=180000ms",
            "-test.bench=^BenchmarkSum$",
            "-test.benchtime=10x",
        ] {
            assert!(
                argv.iter().any(|a| a == flag),
                "{id}: no {flag} in {argv:?}"
            );
        }
        // args: after go test's flags, as `go test -args` puts it.
        assert_eq!(
            argv.last().map(String::as_str),
            Some("-greeting=hi"),
            "{argv:?}"
        );
    }
    let arch = goarch.last().unwrap();
    let a = &cells[&format!("linux/{arch}/cgo0/unit/a")];
    let outcome = |name: &str| {
        a.tests
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.outcome)
            .unwrap_or_else(|| panic!("no {name} in {:#?}", a.tests))
    };
    assert_eq!(outcome("TestFast"), TestOutcome::Pass);
    assert_eq!(outcome("TestSlow"), TestOutcome::Skip);
    assert_eq!(outcome("TestArgs"), TestOutcome::Pass);
    // count 2 × cpu [1, 2]: four runs of one test, one result.
    let cpu = a.tests.iter().find(|t| t.name == "TestCPU").unwrap();
    assert_eq!(cpu.outcome, TestOutcome::Pass);
    for procs in ["GOMAXPROCS=1", "GOMAXPROCS=2"] {
        assert_eq!(cpu.output.matches(procs).count(), 2, "{cpu:#?}");
    }
    assert_eq!(outcome("BenchmarkSum"), TestOutcome::Pass);
    let bench = a.tests.iter().find(|t| t.name == "BenchmarkSum").unwrap();
    assert!(bench.output.contains("ns/op"), "{bench:#?}");
    assert!(
        !a.tests.iter().any(|t| t.name.starts_with("TestLeftOut")),
        "{:#?}",
        a.tests
    );
}

#[test]
fn a_failing_run_of_several_fails_the_test_and_failfast_stops_the_rest() {
    let r = Test::new()
        .file("go.mod", "module example.com/ff\n\ngo 1.21\n")
        .file(
            "f/f_test.go",
            "package f\n\nimport \"testing\"\n\nvar n int\n\nfunc TestSecondRunFails(t *testing.T) {\n\tn++\n\tif n == 2 {\n\t\tt.Fatal(\"second run\")\n\t}\n}\n\nfunc TestAfter(t *testing.T) {}\n",
        )
        .matrix("name: ff\nprobes:\n  - name: unit\n    test: ./f\n    go_test: {count: 2, failfast: true}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n")
        .failure()
        .run();
    let c = &r.cells("ff")["linux/amd64/cgo0/unit/f"];
    assert_eq!(c.outcome, Outcome::RunFail, "{c:#?}");
    let t = &c.tests[0];
    assert_eq!(
        (t.name.as_str(), t.outcome),
        ("TestSecondRunFails", TestOutcome::Fail),
        "{:#?}",
        c.tests
    );
    assert!(t.output.contains("second run"), "{t:#?}");
}

#[test]
fn run_false_builds_and_inspects_a_command_without_running_it() {
    let r = Test::new()
        .file("go.mod", "module example.com/tool\n\ngo 1.21\n")
        .file(
            "cmd/needsargs/main.go",
            "package main\n\nimport \"os\"\n\nfunc main() {\n\tif len(os.Args) < 2 {\n\t\tpanic(\"give me a file\")\n\t}\n}\n",
        )
        .matrix("name: tool\nprobes:\n  - name: needsargs\n    package: ./cmd/needsargs\n    run: false\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n")
        .run();
    let c = &r.cells("tool")["linux/amd64/cgo0/needsargs"];
    assert_eq!(c.outcome, Outcome::Skip, "{c:#?}");
    assert_eq!(
        c.reason.as_deref(),
        Some("run: false: built and inspected, not run")
    );
    assert!(c.commands_of(PhaseName::Run).is_empty(), "{c:#?}");
    assert!(!c.commands_of(PhaseName::Build).is_empty(), "{c:#?}");
    assert_eq!(c.fact("binary.arch"), "amd64", "inspected: {c:#?}");
}

/// A `run: false` cell stands built, not run, in its own words in every
/// reporter, apart from a cell with no runner here: the summary counts
/// them apart, JUnit's skip message, results.json's `not_run` and the
/// HTML square's title name why.
#[test]
fn run_false_cells_are_counted_apart_from_cells_with_no_runner_here() {
    let yaml = "name: tool\nprobes:\n  - name: needsargs\n    package: ./cmd/needsargs\n    run: false\n  - name: given\n    package: ./cmd/needsargs\n    args: [a-file]\nmatrix:\n  goos: [linux, darwin]\n  goarch: [amd64]\n  cgo: [\"0\"]\n";
    let r = Test::new()
        .file("go.mod", "module example.com/tool\n\ngo 1.21\n")
        .file(
            "cmd/needsargs/main.go",
            "package main\n\nimport \"os\"\n\nfunc main() {\n\tif len(os.Args) < 2 {\n\t\tpanic(\"give me a file\")\n\t}\n}\n",
        )
        .matrix(yaml)
        .run();
    let out = r.stdout();
    assert!(
        out.contains("1 passed, 0 expected failures, 3 built, not run (1 no runner here, 2 run: false), 0 skipped"),
        "{out}"
    );
    let json = r.results_json("tool");
    let not_run: BTreeMap<String, String> = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let why = c["not_run"].as_str().unwrap_or("-").to_string();
            (c["cell"]["id"].as_str().unwrap().to_string(), why)
        })
        .collect();
    let want: BTreeMap<String, String> = [
        ("darwin/amd64/cgo0/given", "no-runner"),
        ("darwin/amd64/cgo0/needsargs", "run-false"),
        ("linux/amd64/cgo0/given", "-"),
        ("linux/amd64/cgo0/needsargs", "run-false"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .into_iter()
    .collect();
    assert_eq!(not_run, want);
    let junit = std::fs::read_to_string(r.reports("tool").join("junit.xml")).unwrap();
    assert_eq!(
        junit
            .matches("message=\"built, not run (run: false): run: false")
            .count(),
        2,
        "{junit}"
    );
    assert!(
        junit.contains("message=\"built, not run (no runner here): "),
        "{junit}"
    );
    let html = std::fs::read_to_string(r.reports("tool").join("report.html")).unwrap();
    assert_eq!(html.matches("\"not_run\":\"run: false\"").count(), 2);
    assert_eq!(html.matches("\"not_run\":\"no runner here\"").count(), 1);
}

/// A windows/amd64 test binary under wine writes its counters too: the
/// counter directory is a unix path, which the binary reads as rooted on
/// its working directory's drive (Z:, wine's view of `/`), so it lands
/// where crossprobe reads it. The windows-only branch counts for windows
/// alone.
#[test]
fn coverage_is_kept_for_a_windows_target_under_wine() {
    if !common::require_tool("wine64", "the windows coverage test is left out") {
        return;
    }
    let r = Test::new()
        .file("go.mod", "module example.com/cv\n\ngo 1.21\n")
        .file(
            "a/a.go",
            "package a\n\nimport \"runtime\"\n\nfunc Which() string {\n\tif runtime.GOOS == \"windows\" {\n\t\treturn \"win\"\n\t}\n\treturn \"other\"\n}\n",
        )
        .file(
            "a/a_test.go",
            "package a\n\nimport \"testing\"\n\nfunc TestWhich(t *testing.T) {\n\tt.Log(Which())\n}\n",
        )
        .matrix("name: cv\nprobes:\n  - name: unit\n    test: ./a\n    go_test: {cover: true}\nmatrix:\n  goos: [linux, windows]\n  goarch: [amd64]\n  cgo: [\"0\"]\n")
        .run();
    let cov = r.reports("cv").join("coverage");
    let read = |f: &str| {
        std::fs::read_to_string(cov.join(f)).unwrap_or_else(|e| panic!("{f}: {e}\n{}", r.stderr()))
    };
    let windows = read("windows-amd64.out");
    for line in [
        "example.com/cv/a/a.go:6.31,8.3 1 1",
        "example.com/cv/a/a.go:9.2,9.16 1 0",
    ] {
        assert!(
            windows.lines().any(|l| l == line),
            "no {line} in\n{windows}"
        );
    }
    assert_eq!(
        read("by-target.txt"),
        "# Blocks run on some targets only (of linux/amd64, windows/amd64).\n\
         example.com/cv/a/a.go:6.31,8.3: windows/amd64 only\n\
         example.com/cv/a/a.go:9.2,9.16: linux/amd64 only\n"
    );
}

const MODULE: &str = "module example.com/bad\n\ngo 1.21\n";

fn refused(probe: &str) -> String {
    let yaml = format!(
        "name: bad\nprobes:\n  - name: unit\n{probe}matrix:\n  goos: [linux]\n  goarch: [amd64]\n"
    );
    Test::new()
        .file("go.mod", MODULE)
        .file("a/a_test.go", "package a\n")
        .matrix(&yaml)
        .refuse()
}

#[test]
fn an_unknown_go_test_flag_is_refused_at_its_line_and_column() {
    let err = refused("    test: ./...\n    go_test:\n      runn: TestX\n");
    assert!(err.contains("matrix.yaml:6:7"), "{err}");
    assert!(err.contains("unknown field `runn`"), "{err}");
    assert!(err.contains("expected one of run, skip, short"), "{err}");
}

#[test]
fn go_test_values_are_checked_where_they_are_written() {
    for (probe, at, says) in [
        (
            "    test: ./...\n    go_test: {count: 0}\n",
            "matrix.yaml:5:22",
            "go_test count: \"0\" is not a count",
        ),
        (
            "    test: ./...\n    go_test: {run: \"Test(\"}\n",
            "matrix.yaml:5:20",
            "go_test run: \"Test(\" is not a regular expression: unclosed group",
        ),
        (
            "    test: ./...\n    go_test: {shuffle: sometimes}\n",
            "matrix.yaml:5:24",
            "go_test shuffle: \"sometimes\" is not on, off or a seed",
        ),
        (
            "    test: ./...\n    go_test: {timeout: 5 minutes}\n",
            "matrix.yaml:5:24",
            "go_test timeout \"5 minutes\"",
        ),
        (
            "    test: ./...\n    go_test: {benchtime: lots}\n",
            "matrix.yaml:5:26",
            "go_test benchtime: \"lots\" is neither a duration nor a count",
        ),
        (
            "    package: ./a\n    go_test: {short: true}\n",
            "matrix.yaml:5:14",
            "probe \"unit\": go_test is for a `test:` probe",
        ),
        (
            "    module: .\n    source: \"package main\\nfunc main() {}\\n\"\n    vet: true\n",
            "matrix.yaml:6:10",
            "probe \"unit\": vet is for a `package:` or `test:` probe",
        ),
        (
            "    test: []\n",
            "matrix.yaml:4:11",
            "test names no package pattern",
        ),
    ] {
        // miette wraps a long message: read it as one line.
        let err = refused(probe).replace("\n  │ ", " ");
        assert!(
            err.contains(at) && err.contains(says),
            "{probe}: want {at} {says:?}:\n{err}"
        );
    }
}

/// `vet: true`: go vet with each cell's target, as `GOOS=… GOARCH=… go vet`:
/// a mistake in a file only amd64 builds is found on amd64 alone, one only
/// darwin builds on darwin although nothing runs there; each finding is a
/// failing testcase and makes the cell a build-fail, as go test says
/// `[build failed]`, and an expectation can say so.
#[test]
fn vet_runs_with_each_cells_target_and_each_finding_fails_it() {
    let mut goarch = vec!["amd64"];
    if common::require_tool("qemu-aarch64", "the arm64 cell is left out") {
        goarch.push("arm64");
    }
    // A self-assignment: vet's `assign`, which `go test` itself does not
    // run (its vet subset would make the build fail first).
    let assign = |file: &str| {
        format!("package a\n\nfunc same{file}(x int) int {{\n\tx = x\n\treturn x\n}}\n")
    };
    let r = Test::new()
        .file("go.mod", "module example.com/vetted\n\ngo 1.21\n")
        .file("a/a.go", "package a\n\nfunc Add(a, b int) int { return a + b }\n")
        .file("a/bad_amd64.go", assign("AMD64"))
        .file("a/bad_darwin.go", assign("Darwin"))
        .file(
            "a/a_test.go",
            "package a\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal()\n\t}\n}\n",
        )
        .matrix(&format!(
            r#"name: vetted
probes:
  - name: unit
    test: ./a
    vet: true
matrix:
  goos: [linux]
  goarch: [{}]
  cgo: ["0"]
  include:
    - {{goos: darwin, goarch: arm64}}
expect:
  - when: {{goos: darwin}}
    outcome: build-fail
    match: bad_darwin\.go
    reason: sameDarwin assigns x to itself
"#,
            goarch.join(", ")
        ))
        .failure()
        .run();
    let cells = r.cells("vetted");
    let vet_env = |id: &str| {
        let c = &cells[id];
        let vet = c
            .commands_of(PhaseName::Build)
            .into_iter()
            .find(|c| c.argv.iter().any(|a| a == "vet"))
            .unwrap_or_else(|| panic!("{id}: no vet step: {c:#?}"));
        (vet.env["GOOS"].clone(), vet.env["GOARCH"].clone())
    };
    let amd64 = &cells["linux/amd64/cgo0/unit/a"];
    assert_eq!(amd64.outcome, Outcome::BuildFail, "{amd64:#?}");
    assert_eq!(
        amd64.reason.as_deref(),
        Some("go vet: a/bad_amd64.go:4:2: self-assignment of x")
    );
    let names: Vec<(&str, TestOutcome)> = amd64
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.outcome))
        .collect();
    assert_eq!(
        names,
        [
            ("TestAdd", TestOutcome::Pass),
            ("vet/assign/a/bad_amd64.go:4:2", TestOutcome::Fail)
        ],
        "the tests ran too: {amd64:#?}"
    );
    assert!(!amd64.verdict.met);
    assert_eq!(
        vet_env("linux/amd64/cgo0/unit/a"),
        ("linux".into(), "amd64".into())
    );
    if goarch.contains(&"arm64") {
        let arm64 = &cells["linux/arm64/cgo0/unit/a"];
        assert_eq!(arm64.outcome, Outcome::Pass, "{arm64:#?}");
        assert_eq!(
            vet_env("linux/arm64/cgo0/unit/a"),
            ("linux".into(), "arm64".into())
        );
    }
    // Not run on this host, and vetted for its target all the same.
    let darwin = &cells["darwin/arm64/cgo0/unit/a"];
    assert_eq!(darwin.outcome, Outcome::BuildFail, "{darwin:#?}");
    assert!(darwin.verdict.met, "{darwin:#?}");
    assert_eq!(darwin.tests.len(), 1, "{darwin:#?}");
    assert!(darwin.tests[0].met && darwin.tests[0].name.contains("bad_darwin.go"));
}

/// `go_test: {cover: true}`: each cell's test binary is built with -cover
/// and keeps its counters; after the run the toolchain merges them per
/// target and over every target, and `by-target.txt` names the blocks only
/// one target ran: a branch on runtime.GOARCH, and each per-arch file.
#[test]
fn coverage_is_kept_per_target_and_merged_with_what_only_one_target_ran() {
    let mut goarch = vec!["amd64"];
    if common::require_tool("qemu-aarch64", "the arm64 cell is left out") {
        goarch.push("arm64");
    }
    let r = Test::new()
        .file("go.mod", "module example.com/cv\n\ngo 1.21\n")
        .file(
            "a/a.go",
            "package a\n\nimport \"runtime\"\n\nfunc Which() string {\n\tif runtime.GOARCH == \"arm64\" {\n\t\treturn \"arm\"\n\t}\n\treturn \"other\"\n}\n",
        )
        .file("a/only_amd64.go", "package a\n\nfunc only() int {\n\treturn 64\n}\n")
        .file("a/only_arm64.go", "package a\n\nfunc only() int {\n\treturn 8\n}\n")
        .file(
            "a/a_test.go",
            "package a\n\nimport \"testing\"\n\nfunc TestWhich(t *testing.T) {\n\tt.Log(Which(), only())\n}\n",
        )
        .matrix(&format!(
            "name: cv\nprobes:\n  - name: unit\n    test: ./a\n    go_test: {{cover: true}}\nmatrix:\n  goos: [linux]\n  goarch: [{}]\n  cgo: [\"0\"]\n",
            goarch.join(", ")
        ))
        .run();
    let cov = r.reports("cv").join("coverage");
    let read = |f: &str| {
        std::fs::read_to_string(cov.join(f)).unwrap_or_else(|e| panic!("{f}: {e}\n{}", r.stderr()))
    };
    let amd64 = read("linux-amd64.out");
    assert!(amd64.starts_with("mode: set\n"), "{amd64}");
    // The branch arm64 takes, not run on amd64; the rest run.
    for line in [
        "example.com/cv/a/a.go:6.31,8.3 1 0",
        "example.com/cv/a/a.go:9.2,9.16 1 1",
        "example.com/cv/a/only_amd64.go:3.17,5.2 1 1",
    ] {
        assert!(amd64.lines().any(|l| l == line), "no {line} in\n{amd64}");
    }
    let cell = &r.cells("cv")["linux/amd64/cgo0/unit/a"];
    let build = cell.commands_of(PhaseName::Build);
    assert!(
        build.iter().any(|c| c.argv.iter().any(|a| a == "-cover")),
        "{build:#?}"
    );
    if goarch.contains(&"arm64") {
        let merged = read("merged.out");
        for line in [
            "example.com/cv/a/a.go:6.31,8.3 1 1",
            "example.com/cv/a/a.go:9.2,9.16 1 1",
            "example.com/cv/a/only_amd64.go:3.17,5.2 1 1",
            "example.com/cv/a/only_arm64.go:3.17,5.2 1 1",
        ] {
            assert!(merged.lines().any(|l| l == line), "no {line} in\n{merged}");
        }
        assert_eq!(
            read("by-target.txt"),
            "# Blocks run on some targets only (of linux/amd64, linux/arm64).\n\
             example.com/cv/a/a.go:6.31,8.3: linux/arm64 only\n\
             example.com/cv/a/a.go:9.2,9.16: linux/amd64 only\n\
             example.com/cv/a/only_amd64.go:3.17,5.2: linux/amd64 only\n\
             example.com/cv/a/only_arm64.go:3.17,5.2: linux/arm64 only\n"
        );
    }
}
