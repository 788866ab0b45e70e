//! `report merge` and `report diff` on real runs, and the bad input each
//! meets: a corrupt results.json, mixed schema versions, unrelated runs.

use crate::common::{self, Test};

use std::path::Path;

/// Two native cells; `steady` fails when CROSSPROBE_TEST_BREAK is set in
/// crossprobe's environment, which its children inherit. The cell ids stay
/// the same, so a diff pairs them up.
const MATRIX: &str = r#"name: nightly
probes:
  - hello
  - name: steady
    source: |
      package main

      import (
          "fmt"
          "os"
      )

      func main() {
          if os.Getenv("CROSSPROBE_TEST_BREAK") != "" {
              fmt.Fprintln(os.Stderr, "panic: broken on purpose")
              os.Exit(2)
          }
          fmt.Println(`CROSSPROBE-FACTS: {"steady": true}`)
      }
matrix:
  goos: [linux]
  goarch: [amd64]
"#;

/// crossprobe in `dir`, with the probe `steady` broken or not.
fn crossprobe(dir: &Path, args: &[&str], broken: bool) -> Test {
    let t = Test::at(dir).args(args);
    if broken {
        t.env("CROSSPROBE_TEST_BREAK", "1")
    } else {
        t.env_remove("CROSSPROBE_TEST_BREAK")
    }
}

/// base/nightly/results.json from a good run, head/... from a broken one.
fn base_and_head() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), MATRIX).unwrap();
    crossprobe(dir.path(), &["run", "m.yaml", "--out", "base"], false).run();
    crossprobe(dir.path(), &["run", "m.yaml", "--out", "head"], true)
        .failure()
        .run();
    dir
}

#[test]
fn a_cell_made_to_fail_is_one_regression() {
    let dir = base_and_head();
    let (base, head) = ("base/nightly/results.json", "head/nightly/results.json");
    // A regression exits 1.
    let out = crossprobe(dir.path(), &["report", "diff", base, head], false)
        .failure()
        .run()
        .stdout();
    assert!(
        out.starts_with("1 regression: 1 newly failing, 0 newly flaky, 0 fixed"),
        "{out}"
    );
    assert!(
        out.contains("Newly failing (1):\n  linux/amd64/cgo0/steady"),
        "{out}"
    );
    assert!(out.contains("pass → run-fail"), "{out}");
    assert!(
        out.contains("panic: broken on purpose"),
        "the reason is shown: {out}"
    );

    let md = crossprobe(
        dir.path(),
        &["report", "diff", base, head, "--markdown"],
        false,
    )
    .failure()
    .run()
    .stdout();
    assert!(md.starts_with("### ❌ crossprobe: 1 regression"), "{md}");
    assert!(
        md.contains("| `linux/amd64/cgo0/steady` | nightly | pass | run-fail |"),
        "{md}"
    );

    // The other way round it is a fix, and no regression.
    crossprobe(dir.path(), &["report", "diff", head, base], false)
        .stdout_contains("Fixed (1):")
        .run();
}

#[test]
fn two_runners_merge_into_two_entries_per_cell() {
    let dir = base_and_head();
    let d = dir.path();
    // The same matrix "on another runner": the base run, renamed.
    let mut v = common::read_results(&d.join("base/nightly/results.json"));
    v.host.runner = "macos-14".into();
    std::fs::write(d.join("mac.json"), serde_json::to_string(&v).unwrap()).unwrap();
    crossprobe(
        d,
        &[
            "run",
            "m.yaml",
            "--out",
            "linux",
            "--runner",
            "ubuntu-latest",
        ],
        false,
    )
    .run();
    crossprobe(
        d,
        &[
            "report",
            "merge",
            "linux/nightly/results.json",
            "mac.json",
            "--out",
            "merged",
        ],
        false,
    )
    .run();
    let m = common::read_results(&d.join("merged/results.json"));
    let mut ids: Vec<&str> = m.cells.iter().map(|c| c.cell.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "linux/amd64/cgo0/hello@macos-14",
            "linux/amd64/cgo0/hello@ubuntu-latest",
            "linux/amd64/cgo0/steady@macos-14",
            "linux/amd64/cgo0/steady@ubuntu-latest"
        ]
    );
    common::validate_junit(&d.join("merged/junit.xml"));
    let junit = std::fs::read_to_string(d.join("merged/junit.xml")).unwrap();
    assert!(junit.contains("name=\"cgo0/hello@macos-14\""), "{junit}");

    // A merged file against a plain one: nothing pairs up, and it says so.
    let out = crossprobe(
        d,
        &[
            "report",
            "diff",
            "base/nightly/results.json",
            "merged/results.json",
        ],
        false,
    )
    .run()
    .stdout();
    assert!(
        out.contains("warning: BASE and HEAD look unrelated"),
        "{out}"
    );
    assert!(
        out.contains("0 cells are in both, all of matrices nightly"),
        "{out}"
    );
    assert!(
        out.contains("diff merged results with merged results"),
        "{out}"
    );
}

#[test]
fn unrelated_matrices_warn_and_show_the_overlap() {
    let dir = base_and_head();
    let d = dir.path();
    std::fs::write(
        d.join("other.yaml"),
        "name: other\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, \"386\"]\n",
    )
    .unwrap();
    crossprobe(d, &["run", "other.yaml", "--out", "other"], false).run();
    // New passing cells are no regression: exit 0.
    let out = crossprobe(
        d,
        &[
            "report",
            "diff",
            "base/nightly/results.json",
            "other/other/results.json",
        ],
        false,
    )
    .run()
    .stdout();
    assert!(
        out.starts_with(
            "warning: BASE and HEAD look unrelated: BASE ran nightly (2 cells), HEAD ran other (2 cells); 0 cells are in both\n"
        ),
        "{out}"
    );
}

#[test]
fn a_corrupt_results_file_is_named_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("cut.json"),
        "{\n  \"schema\": 1,\n  \"cells\": [\n    {\"cell\": ",
    )
    .unwrap();
    let e = crossprobe(d, &["report", "diff", "cut.json", "cut.json"], false).refuse();
    assert!(
        e.contains("cut.json:4:13: not valid JSON: EOF while parsing a value"),
        "{e}"
    );
    insta::assert_snapshot!("corrupt", e);

    std::fs::write(d.join("wrong.json"), "{\"schema\": 1,\n \"cells\": 3}\n").unwrap();
    let e = crossprobe(d, &["report", "merge", "wrong.json", "--out", "m"], false).refuse();
    assert!(e.contains("wrong.json:2:"), "{e}");
    assert!(e.contains("not a crossprobe results file"), "{e}");
}

#[test]
fn merging_different_schema_versions_is_refused() {
    let dir = base_and_head();
    let d = dir.path();
    let mut v = common::read_results(&d.join("base/nightly/results.json"));
    v.schema = 2;
    std::fs::write(d.join("future.json"), serde_json::to_string(&v).unwrap()).unwrap();
    let e = crossprobe(
        d,
        &[
            "report",
            "merge",
            "base/nightly/results.json",
            "future.json",
            "--out",
            "m",
        ],
        false,
    )
    .refuse();
    assert!(!d.join("m").exists(), "nothing is written");
    insta::assert_snapshot!("schemas", e);
}

#[test]
fn merging_one_run_twice_is_refused_naming_both_files() {
    // Its own error, told apart from the other refusals of `report merge`
    // by its code: a shard given twice, or two runners of one name.
    let dir = base_and_head();
    let d = dir.path();
    std::fs::copy(d.join("base/nightly/results.json"), d.join("again.json")).unwrap();
    let e = crossprobe(
        d,
        &[
            "report",
            "merge",
            "base/nightly/results.json",
            "again.json",
            "--out",
            "m",
        ],
        false,
    )
    .refuse();
    assert!(e.contains("crossprobe::merged_twice"), "{e}");
    // miette wraps the line: both parts, each file named once.
    assert!(e.contains("is in both base/nightly/"), "{e}");
    assert!(e.contains("and again.json (runner vm)"), "{e}");
    assert!(!d.join("m").exists(), "nothing is written");
}

/// A module whose one test package fails TestOld in BASE, and TestOld and
/// then TestNew as well in HEAD: the cell fails in both runs.
const FAILING_MODULE_MATRIX: &str = r#"name: gotests
probes:
  - name: unit
    module: m
    test: ./...
matrix:
  goos: [linux]
  goarch: [amd64]
"#;

fn module_test_file(new_fails: bool) -> String {
    format!(
        r#"package m

import "testing"

func TestOld(t *testing.T) {{ t.Fatal("old: still broken") }}

func TestNew(t *testing.T) {{
	if {new_fails} {{
		t.Fatal("new: broken tonight")
	}}
}}

func TestFine(t *testing.T) {{}}
"#
    )
}

#[test]
fn a_test_newly_failing_in_a_cell_already_failing_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = d.join("m");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("go.mod"), "module example.com/m\n\ngo 1.21\n").unwrap();
    std::fs::write(d.join("matrix.yaml"), FAILING_MODULE_MATRIX).unwrap();
    for (out, new_fails) in [("base", false), ("head", true)] {
        std::fs::write(m.join("m_test.go"), module_test_file(new_fails)).unwrap();
        crossprobe(d, &["run", "matrix.yaml", "--out", out], false)
            .failure()
            .run();
    }
    let (base, head) = ("base/gotests/results.json", "head/gotests/results.json");
    let cell = "linux/amd64/cgo0/unit/m";
    for r in [base, head] {
        let c = &common::read_results(&d.join(r)).cells[0];
        assert_eq!((c.cell.id.as_str(), c.verdict.met), (cell, false), "{c:#?}");
    }

    // The cell failed in BASE and fails in HEAD; TestNew is the regression.
    let out = crossprobe(d, &["report", "diff", base, head], false)
        .failure()
        .run()
        .stdout();
    assert!(
        out.starts_with(
            "1 regression: 0 newly failing, 1 newly failing test (1 in a cell already failing), \
             0 newly flaky, 0 fixed, 0 newly skipped, 0 new, 0 removed, 1 unchanged"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\nNewly failing tests (1):\n  TestNew in example.com/m on {cell}  pass → fail  \
             [regression (its cell already failed)]  m_test.go:9: new: broken tonight\n"
        )),
        "{out}"
    );
    assert!(
        !out.contains("TestOld in"),
        "TestOld failed in BASE too: {out}"
    );
    let md = crossprobe(d, &["report", "diff", base, head, "--markdown"], false)
        .failure()
        .run()
        .stdout();
    assert!(md.starts_with("### ❌ crossprobe: 1 regression"), "{md}");
    assert!(
        md.contains(&format!(
            "| `TestNew` | example.com/m | `{cell}` | gotests | pass | regression (its cell already failed) |"
        )),
        "{md}"
    );

    // The other way round nothing newly fails, and the cell is unchanged.
    crossprobe(d, &["report", "diff", head, base], false)
        .stdout_contains("0 regressions: 0 newly failing, 0 newly flaky")
        .run();

    // report.html --diff rings the cell, which did not change standing.
    let page = d.join("diffed.html");
    crossprobe(d, &["report", "html", head, "--diff", base, "--out"], false)
        .arg(&page)
        .run();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains(r#""kind":"newly-failing-tests","title":"Newly failing tests""#),
        "the cell is not marked"
    );
    assert!(
        html.contains(&format!(r#""label":"TestNew in example.com/m on {cell}""#)),
        "the test is not in the pane"
    );
}
