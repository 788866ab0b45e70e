//! `--retries`: a cell that fails and then passes is flaky, reported as a
//! JUnit flakyFailure and never counted as a pass.

// Runs pass --no-sandbox: their probes leave marks in the test's own
// directory, which a sandboxed probe cannot write.
use crate::common;

use crossprobe::model::Outcome;

/// A probe that fails the first time it runs and passes after: it leaves a
/// mark in the directory FLAKY_DIR names (a cell env axis, so the run gets
/// it too).
fn flaky_yaml(dir: &std::path::Path) -> String {
    format!(
        r#"name: flaky
probes:
  - name: coin
    source: |
      package main

      import (
          "fmt"
          "os"
          "path/filepath"
      )

      func main() {{
          mark := filepath.Join(os.Getenv("FLAKY_DIR"), "tried")
          if _, err := os.Stat(mark); err != nil {{
              os.WriteFile(mark, nil, 0o644)
              fmt.Fprintln(os.Stderr, "first try fails")
              os.Exit(3)
          }}
          fmt.Println(`CROSSPROBE-FACTS: {{"tries": 2}}`)
      }}
  - hello
matrix:
  goos: [linux]
  goarch: [amd64]
  env:
    FLAKY_DIR: ["{}"]
"#,
        dir.display()
    )
}

#[test]
fn a_cell_that_fails_then_passes_is_flaky() {
    let marks = tempfile::tempdir().unwrap();
    // Flaky does not fail the run: the cell met its expectation in the end.
    let r = common::Test::new()
        .matrix(&flaky_yaml(marks.path()))
        .args(["run", "@", "--no-sandbox", "--retries", "2", "-j1"])
        .run();
    let cells = r.cells("flaky");
    let coin = cells.values().find(|c| c.cell.probe == "coin").unwrap();
    assert_eq!(coin.outcome, Outcome::Pass);
    let attempts = &coin.attempts;
    assert_eq!(attempts.len(), 1, "one failed try, then a pass: {coin:#?}");
    assert_eq!(attempts[0].outcome, Outcome::RunFail);
    // The steady cell is tried once.
    let hello = cells.values().find(|c| c.cell.probe == "hello").unwrap();
    assert!(hello.attempts.is_empty(), "{hello:#?}");

    let out = r.stdout();
    assert!(
        out.contains("1 passed,") && out.contains(", 1 flaky"),
        "{out}"
    );
    assert!(out.contains("FLAKY"), "{out}");

    let junit_path = r.reports("flaky").join("junit.xml");
    common::validate_junit(&junit_path);
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    assert_eq!(junit.matches("<flakyFailure").count(), 1, "{junit}");
    assert!(
        junit.contains("message=\"try 1 of 2: first try fails (exit status 3)\""),
        "{junit}"
    );
    assert!(!junit.contains("<failure"), "{junit}");

    let html = std::fs::read_to_string(r.reports("flaky").join("report.html")).unwrap();
    assert!(
        html.contains(r#""status":"flaky""#),
        "the grid colours it apart"
    );
}

#[test]
fn without_retries_the_first_failure_stands() {
    let marks = tempfile::tempdir().unwrap();
    let r = common::Test::new()
        .matrix(&flaky_yaml(marks.path()))
        .args(["run", "@", "--no-sandbox", "-j1"])
        .failure()
        .run();
    let cells = r.cells("flaky");
    let coin = cells.values().find(|c| c.cell.probe == "coin").unwrap();
    assert_eq!(coin.outcome, Outcome::RunFail);
    assert!(coin.attempts.is_empty());
}
