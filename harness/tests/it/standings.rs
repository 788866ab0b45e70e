//! One classification: a matrix built to hold each standing (passed,
//! expected failure, unmet, built and not run, both kinds of skip, flaky,
//! cached), run for real, and every reporter read back: the progress
//! lines, the summary, JUnit, the HTML grid, results.json's `standing`,
//! diff, repro's verdict lines and the exit code.
//! All of them must say what `CellResult::standing` says, cell by cell.

// Runs pass --no-sandbox: their probes leave marks in the test's own
// directory, which a sandboxed probe cannot write.
use crate::common::Test;

use std::collections::BTreeMap;
use std::path::Path;

use crossprobe::model::{CellResult, Results, SkipKind, Standing};
use crossprobe::report::summary::mark;

/// linux/amd64 and windows/amd64 builds (warm), plus two cgo cells with no
/// cross gcc: s390x (allowed to be missing) and mips64le (not allowed). Go
/// is asked first, so they stop when runtime/cgo wants the compiler.
const MATRIX: &str = r#"name: standings
probes:
  - hello
  - atomic64
  - name: fails
    source: |
      package main

      import "os"

      func main() { os.Exit(3) }
  - name: cgo
    source: |
      package main

      // int two(void) { return 2; }
      import "C"

      import "fmt"

      func main() { fmt.Println("CROSSPROBE-FACTS: {}", C.two()) }
  - name: flaky
    source: |
      package main

      import (
      	"fmt"
      	"os"
      )

      // Fails the first time it runs, passes the second.
      func main() {
      	mark := os.Getenv("MARK")
      	if _, err := os.Stat(mark); err != nil {
      		os.WriteFile(mark, nil, 0o644)
      		os.Exit(1)
      	}
      	fmt.Println("CROSSPROBE-FACTS: {}")
      }
matrix:
  goos: [linux]
  goarch: [amd64]
  exclude:
    - {probe: atomic64}
    - {probe: cgo}
  include:
    - {goos: linux, goarch: amd64, probe: flaky, MARK: "@MARK@"}
    - {goos: windows, goarch: amd64, probe: hello}
    - {goos: windows, goarch: amd64, probe: atomic64}
    - {goos: linux, goarch: s390x, cgo: "1", cc: gcc, probe: cgo}
    - {goos: linux, goarch: mips64le, cgo: "1", cc: gcc, probe: cgo}
    - {goos: linux, goarch: arm64, cgo: "1", cc: crossprobe-no-such-cc, probe: cgo}
run:
  runners: {"windows/*": none}
  allow_missing: [s390x-linux-gnu-gcc]
expect:
  - when: {probe: fails}
    outcome: run-fail
    reason: it exits 3
  # Built, not run, and a fact that does not hold: unmet, never a skip.
  - when: {goos: windows, probe: atomic64}
    facts: {binary.format: elf}
  # A compiler nobody can install: never built, a plain skip.
  - when: {cc: crossprobe-no-such-cc}
    outcome: skip
"#;

/// What each cell was built to be, by the end of its id.
const WANT: [(&str, Standing); 8] = [
    ("linux/amd64/cgo0/hello", Standing::Passed),
    ("linux/amd64/cgo0/fails", Standing::ExpectedFailure),
    ("cgo0/flaky", Standing::Flaky),
    ("windows/amd64/cgo0/hello", Standing::BuiltNotRun),
    (
        "linux/arm64/cgo1/cc=crossprobe-no-such-cc/cgo",
        Standing::Skipped(SkipKind::Structural),
    ),
    ("windows/amd64/cgo0/atomic64", Standing::Unmet),
    (
        "linux/s390x/cgo1/cc=gcc/cgo",
        Standing::Skipped(SkipKind::Environmental),
    ),
    ("linux/mips64le/cgo1/cc=gcc/cgo", Standing::Unmet),
];

fn want(id: &str) -> Standing {
    WANT.iter()
        .find(|(end, _)| id.ends_with(end))
        .unwrap_or_else(|| panic!("no standing planned for {id}"))
        .1
}

struct Ran {
    stdout: String,
    stderr: String,
    results: Results,
    junit: String,
    html: String,
    /// results.json as written, for its `standing` fields.
    json: serde_json::Value,
}

/// A run with the result cache of the test's own; unmet cells fail it
/// (exit 1).
fn run(dir: &Path) -> Ran {
    let out = Test::at(dir)
        .args(["run", "@", "--no-sandbox", "--retries", "1"])
        .result_cache(dir.join("xdg"))
        .failure()
        .run();
    let reports = out.reports("standings");
    let read = |f: &str| std::fs::read_to_string(reports.join(f)).unwrap();
    Ran {
        stdout: out.stdout(),
        stderr: out.stderr(),
        results: crossprobe::report::read_results(&reports.join("results.json")).unwrap(),
        junit: read("junit.xml"),
        html: read("report.html"),
        json: serde_json::from_str(&read("results.json")).unwrap(),
    }
}

/// Progress lines: `[n/N] MARK outcome id (time)`, by id.
fn progress(stderr: &str) -> BTreeMap<String, (String, bool)> {
    stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = w.iter().position(|x| x.ends_with(']')).unwrap();
            (
                w[at + 3].to_string(),
                (w[at + 1].to_string(), l.ends_with("(cached)")),
            )
        })
        .collect()
}

/// The summary's table: `  MARK outcome id ...`, by id; passed cells
/// have no row.
fn summary(stdout: &str, ids: &[String]) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let id = ids.iter().find(|id| w.get(2) == Some(&id.as_str()))?;
            Some((id.clone(), w[0].to_string()))
        })
        .collect()
}

/// JUnit: each testcase's status (`passed`, `failure`, `error`, `skipped`
/// with its type) and its message, by suite (goos/goarch) and case name
/// (the rest of the id).
fn junit(xml: &str) -> BTreeMap<String, (String, String)> {
    let attr = |s: &str, name: &str| {
        let at = s.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        s[at..at + s[at..].find('"').unwrap()].to_string()
    };
    let mut cases = BTreeMap::new();
    for suite in xml.split("<testsuite ").skip(1) {
        let target = attr(&format!(" {suite}"), "name");
        for case in suite.split("<testcase").skip(1) {
            let body = case.split("</testcase>").next().unwrap();
            let status = ["failure", "error", "skipped"]
                .into_iter()
                .find(|tag| body.contains(&format!("<{tag} ")));
            let (status, message) = match status {
                None => ("passed".to_string(), String::new()),
                Some(tag) => {
                    let element = &body[body.find(&format!("<{tag} ")).unwrap()..];
                    let status = match tag {
                        "skipped" => format!("skipped {}", attr(element, "type")),
                        tag => tag.to_string(),
                    };
                    (status, attr(element, "message"))
                }
            };
            let id = format!("{target}/{}", attr(case, "name"));
            cases.insert(id, (status.to_string(), message));
        }
    }
    cases
}

/// The HTML grid's status per cell, from the page's embedded data.
fn html(page: &str) -> BTreeMap<String, String> {
    let start = page.find(r#"id="data">"#).unwrap() + r#"id="data">"#.len();
    let end = start + page[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    data["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn junit_status(st: Standing) -> &'static str {
    match st {
        Standing::Unmet => "failure",
        Standing::Interrupted => "error",
        Standing::ExpectedFailure => "skipped pytest.xfail",
        Standing::BuiltNotRun => "skipped built",
        Standing::Skipped(_) => "skipped skip",
        Standing::Passed | Standing::Flaky => "passed",
    }
}

/// repro's verdict line starts with a word that names the standing.
fn repro_agrees(st: Standing, line: &str) -> bool {
    match st {
        Standing::Passed => line.starts_with("passed"),
        Standing::ExpectedFailure => line.starts_with("reproduced"),
        Standing::Unmet => [
            "failed",
            "not run",
            "skipped, but",
            "different",
            "not reproduced",
        ]
        .iter()
        .any(|w| line.starts_with(w)),
        Standing::Skipped(_) => line.starts_with("skipped:"),
        Standing::BuiltNotRun => line.starts_with("built, not run"),
        Standing::Flaky => line.starts_with("flaky"),
        Standing::Interrupted => line.starts_with("interrupted"),
    }
}

/// Diff against a run where every cell passed: it names exactly the cells
/// whose standing is unmet, flaky or skipped, each under its own heading.
fn diff_agrees(results: &Results) {
    let mut base = results.clone();
    for r in &mut base.cells {
        r.outcome = crossprobe::model::Outcome::Pass;
        r.verdict.met = true;
        r.attempts.clear();
        r.missing = None;
    }
    let d = crossprobe::report::diff::diff(&base, results);
    let ids = |v: &[crossprobe::report::diff::Change]| -> Vec<String> {
        v.iter().map(|c| c.id.clone()).collect()
    };
    let of = |f: &dyn Fn(Standing) -> bool| -> Vec<String> {
        results
            .cells
            .iter()
            .filter(|r| f(r.standing()))
            .map(|r| r.cell.id.clone())
            .collect()
    };
    let mut failing = ids(&d.newly_failing);
    failing.sort();
    let mut want_failing = of(&|s| s == Standing::Unmet);
    want_failing.sort();
    assert_eq!(failing, want_failing, "diff's newly failing");
    assert_eq!(ids(&d.newly_flaky), of(&|s| s == Standing::Flaky));
    let mut skipped = ids(&d.newly_skipped);
    skipped.sort();
    let mut want_skipped = of(&|s| matches!(s, Standing::Skipped(_) | Standing::BuiltNotRun));
    want_skipped.sort();
    assert_eq!(skipped, want_skipped, "diff's newly skipped");
}

fn check_agreement(ran: &Ran, planned: bool) {
    let ids: Vec<String> = ran
        .results
        .cells
        .iter()
        .map(|r| r.cell.id.clone())
        .collect();
    assert_eq!(ids.len(), WANT.len(), "{ids:?}");
    let progress = progress(&ran.stderr);
    let summary = summary(&ran.stdout, &ids);
    let junit = junit(&ran.junit);
    let html = html(&ran.html);
    for r in &ran.results.cells {
        let id = &r.cell.id;
        let st = r.standing();
        if planned {
            assert_eq!(st, want(id), "{id} stands as built");
        }
        let (word, cached) = progress
            .get(id)
            .unwrap_or_else(|| panic!("no progress line for {id}:\n{}", ran.stderr));
        assert_eq!(word, mark(st), "progress for {id}");
        assert_eq!(*cached, r.cached, "progress shows {id} cached or not");
        match st {
            Standing::Passed => assert!(!summary.contains_key(id), "a passed cell has no row"),
            _ => assert_eq!(
                summary.get(id).map(String::as_str),
                Some(mark(st)),
                "summary for {id}"
            ),
        }
        let case = junit
            .get(id)
            .unwrap_or_else(|| panic!("no testcase for {id}: {junit:?}"));
        assert_eq!(case.0, junit_status(st), "JUnit for {id}");
        if st == Standing::BuiltNotRun {
            assert_eq!(
                case.1,
                "built, not run (runners: none): runner forced to none"
            );
        }
        let written = ran.json["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cell"]["id"] == id.as_str())
            .unwrap();
        assert_eq!(written["standing"], st.as_str(), "results.json for {id}");
        let html_word = match st {
            Standing::Skipped(_) => "skip",
            st => st.as_str(),
        };
        assert_eq!(html[id], html_word, "HTML for {id}");
        let line = crossprobe::repro::verdict_line(r);
        assert!(
            repro_agrees(st, &line),
            "repro says {line:?} of {id} ({st:?})"
        );
        if let Some(m) = &r.missing {
            if st == Standing::Unmet {
                assert!(
                    case.1.contains(&m.fix),
                    "JUnit's message is doctor's fix: {}",
                    case.1
                );
            }
        }
    }
    diff_agrees(&ran.results);
}

#[test]
fn every_reporter_agrees_on_every_standing() {
    for gcc in ["s390x-linux-gnu-gcc", "mips64el-linux-gnuabi64-gcc"] {
        assert!(
            std::env::split_paths(&std::env::var_os("PATH").unwrap())
                .all(|d| !d.join(gcc).exists()),
            "this test needs {gcc} to be missing, to hold an environmental skip"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mark_file = dir.path().join("flaky-mark");
    std::fs::write(
        dir.path().join("matrix.yaml"),
        MATRIX.replace("@MARK@", mark_file.to_str().unwrap()),
    )
    .unwrap();
    let first = run(dir.path());
    check_agreement(&first, true);
    assert!(
        first.stdout.contains("(1 for a missing tool"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("1 skipped for a missing tool (allowed)"),
        "the summary counts the two kinds of skip apart: {}",
        first.stdout
    );
    assert!(
        first.stdout.contains(
            "1 passed, 1 expected failures, 1 built, not run (runners: none), 1 skipped, 2 not as expected"
        ),
        "the summary counts built cells apart: {}",
        first.stdout
    );

    // Again, with the result cache the first run filled: what was settled
    // comes back cached, and stands as it stood.
    let again = run(dir.path());
    check_agreement(&again, false);
    let cached: Vec<&CellResult> = again.results.cells.iter().filter(|r| r.cached).collect();
    assert!(
        cached.iter().any(|r| r.standing() == Standing::Passed),
        "the passed cell comes from the cache: {:?}",
        again
            .results
            .cells
            .iter()
            .map(|r| (&r.cell.id, r.cached))
            .collect::<Vec<_>>()
    );
    for r in &again.results.cells {
        if r.cell.probe != "flaky" {
            assert_eq!(
                r.standing(),
                want(&r.cell.id),
                "{} stands as before",
                r.cell.id
            );
        }
    }
}
