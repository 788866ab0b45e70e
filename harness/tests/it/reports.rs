//! `report merge` and `report diff` on real runs, and the bad input each
//! meets: a corrupt results.json, mixed schema versions, unrelated runs.

use crate::common;

use std::path::Path;
use std::process::Output;

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

fn crossprobe(dir: &Path, args: &[&str], broken: bool) -> Output {
    let mut c = common::cmd(dir, args);
    if broken {
        c.env("CROSSPROBE_TEST_BREAK", "1");
    } else {
        c.env_remove("CROSSPROBE_TEST_BREAK");
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// base/nightly/results.json from a good run, head/... from a broken one.
fn base_and_head() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), MATRIX).unwrap();
    let o = crossprobe(dir.path(), &["run", "m.yaml", "--out", "base"], false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = crossprobe(dir.path(), &["run", "m.yaml", "--out", "head"], true);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    dir
}

#[test]
fn a_cell_made_to_fail_is_one_regression() {
    let dir = base_and_head();
    let (base, head) = ("base/nightly/results.json", "head/nightly/results.json");
    let o = crossprobe(dir.path(), &["report", "diff", base, head], false);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a regression exits 1\n{}",
        text(&o.stdout)
    );
    let out = text(&o.stdout);
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

    let o = crossprobe(
        dir.path(),
        &["report", "diff", base, head, "--markdown"],
        false,
    );
    assert_eq!(o.status.code(), Some(1));
    let md = text(&o.stdout);
    assert!(md.starts_with("### ❌ crossprobe: 1 regression"), "{md}");
    assert!(
        md.contains("| `linux/amd64/cgo0/steady` | nightly | pass | run-fail |"),
        "{md}"
    );

    // The other way round it is a fix, and no regression.
    let o = crossprobe(dir.path(), &["report", "diff", head, base], false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("Fixed (1):"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn two_runners_merge_into_two_entries_per_cell() {
    let dir = base_and_head();
    let d = dir.path();
    // The same matrix "on another runner": the base run, renamed.
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("base/nightly/results.json")).unwrap(),
    )
    .unwrap();
    v["host"]["runner"] = "macos-14".into();
    std::fs::write(d.join("mac.json"), serde_json::to_string(&v).unwrap()).unwrap();
    let o = crossprobe(
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
    );
    assert_eq!(o.status.code(), Some(0));
    let o = crossprobe(
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
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("merged/results.json")).unwrap())
            .unwrap();
    let mut ids: Vec<&str> = m["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cell"]["id"].as_str().unwrap())
        .collect();
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
    let o = crossprobe(
        d,
        &[
            "report",
            "diff",
            "base/nightly/results.json",
            "merged/results.json",
        ],
        false,
    );
    let out = text(&o.stdout);
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
    let o = crossprobe(d, &["run", "other.yaml", "--out", "other"], false);
    assert_eq!(o.status.code(), Some(0));
    let o = crossprobe(
        d,
        &[
            "report",
            "diff",
            "base/nightly/results.json",
            "other/other/results.json",
        ],
        false,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "new passing cells are no regression"
    );
    let out = text(&o.stdout);
    assert!(
        out.starts_with(
            "warning: BASE and HEAD look unrelated: BASE ran nightly (2 cells), HEAD ran other (2 cells); 0 cells are in both\n"
        ),
        "{out}"
    );
}

fn refuse(dir: &Path, args: &[&str]) -> String {
    let o = crossprobe(dir, args, false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    err
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
    let e = refuse(d, &["report", "diff", "cut.json", "cut.json"]);
    assert!(
        e.contains("cut.json:4:13: not valid JSON: EOF while parsing a value"),
        "{e}"
    );
    insta::assert_snapshot!("corrupt", e);

    std::fs::write(d.join("wrong.json"), "{\"schema\": 1,\n \"cells\": 3}\n").unwrap();
    let e = refuse(d, &["report", "merge", "wrong.json", "--out", "m"]);
    assert!(e.contains("wrong.json:2:"), "{e}");
    assert!(e.contains("not a crossprobe results file"), "{e}");
}

#[test]
fn merging_different_schema_versions_is_refused() {
    let dir = base_and_head();
    let d = dir.path();
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("base/nightly/results.json")).unwrap(),
    )
    .unwrap();
    v["schema"] = 2.into();
    std::fs::write(d.join("future.json"), serde_json::to_string(&v).unwrap()).unwrap();
    let e = refuse(
        d,
        &[
            "report",
            "merge",
            "base/nightly/results.json",
            "future.json",
            "--out",
            "m",
        ],
    );
    assert!(!d.join("m").exists(), "nothing is written");
    insta::assert_snapshot!("schemas", e);
}
