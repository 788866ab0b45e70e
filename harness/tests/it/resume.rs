//! A run SIGKILLed midway (a CI timeout, the OOM killer) leaves its journal.
//! `report merge` and `report html` read it, the unfinished cell marked
//! interrupted; `run --resume` keeps the finished cells, runs only the rest,
//! writes complete reports and says how many it resumed; a run without
//! `--resume` keeps the old journal under another name.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, Test};

use crossprobe::model::{CellResult, Outcome, Results};

/// Two quick cells and one that waits while `CP_HOLD` exists, after
/// saying it started (`CP_MARKER`).
fn matrix(hold: &Path, marker: &Path) -> String {
    format!(
        r#"name: resume
probes:
  - hello
  - name: held
    source: |
      package main

      import (
      	"fmt"
      	"os"
      	"time"
      )

      func main() {{
      	os.WriteFile(os.Getenv("CP_MARKER"), nil, 0o644)
      	for {{
      		if _, err := os.Stat(os.Getenv("CP_HOLD")); err != nil {{
      			break
      		}}
      		time.Sleep(50 * time.Millisecond)
      	}}
      	fmt.Println("CROSSPROBE-FACTS: {{}}")
      }}
matrix:
  goos: [linux]
  goarch: [amd64]
  ldflags: ["", "-s -w"]
  env:
    CP_HOLD: ["{}"]
    CP_MARKER: ["{}"]
  exclude:
    - {{probe: held, ldflags: "-s -w"}}
"#,
        hold.display(),
        marker.display()
    )
}

fn journal_cells(journal: &Path) -> Vec<CellResult> {
    common::journal_cells(&std::fs::read_to_string(journal).unwrap_or_default())
}

fn outcomes(res: &Results) -> Vec<(String, Outcome)> {
    let mut v: Vec<(String, Outcome)> = res
        .cells
        .iter()
        .map(|c| (c.cell.probe.clone() + &c.cell.ldflags, c.outcome))
        .collect();
    v.sort();
    v
}

#[test]
fn a_killed_run_resumes_to_complete_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (hold, marker) = (dir.path().join("hold"), dir.path().join("started"));
    std::fs::write(&hold, "").unwrap();
    std::fs::write(dir.path().join("matrix.yaml"), matrix(&hold, &marker)).unwrap();
    let at = || Test::at(dir.path());
    let reports = dir.path().join("reports/resume");
    let journal = reports.join("results.partial.jsonl");

    // --no-sandbox throughout: the held probe writes its marker into the
    // test's directory, and whether a cell ran sandboxed is part of the key
    // a resume compares.
    let mut first = at()
        .args(["run", "@", "-j2", "--no-sandbox"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !(marker.exists() && journal_cells(&journal).len() == 2) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the quick cells never reached the journal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
    first.wait().unwrap();
    assert!(!reports.join("results.json").exists());
    let saved = std::fs::read_to_string(&journal).unwrap();

    // The journal reads as results: the held cell never finished.
    at().args(["report", "merge"])
        .arg(&journal)
        .args(["--out", "merged"])
        .run();
    let m = common::read_results(&dir.path().join("merged"));
    assert!(m.interrupted);
    assert_eq!(
        outcomes(&m),
        [
            ("held".to_string(), Outcome::Interrupted),
            ("hello".into(), Outcome::Pass),
            ("hello-s -w".into(), Outcome::Pass)
        ]
    );
    let page = dir.path().join("page.html");
    at().args(["report", "html"])
        .arg(&journal)
        .args(["--out", "page.html"])
        .run();
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains(r#""status":"interrupted""#));

    // --resume: only the held cell runs again.
    std::fs::remove_file(&hold).unwrap();
    let r = at()
        .args(["run", "@", "--resume", "--no-sandbox"])
        .stderr_contains("found the journal of a run that did not finish (pid")
        .stderr_contains("2 of 3 cells finished")
        .stderr_contains("resumed 2 cells")
        .run();
    let res = r.results("resume");
    assert!(!res.interrupted);
    assert!(
        outcomes(&res).iter().all(|(_, o)| *o == Outcome::Pass),
        "{res:#?}"
    );
    assert_eq!(outcomes(&res).len(), 3);
    // The resumed cells are the journal's own, not new runs of them.
    for old in common::journal_cells(&saved) {
        let now = res.cells.iter().find(|c| c.cell.id == old.cell.id).unwrap();
        assert_eq!(*now, old);
    }
    assert!(!journal.exists(), "the journal outlived complete reports");

    // Without --resume, a dead run's journal is kept aside, never deleted.
    std::fs::write(&journal, &saved).unwrap();
    at().args(["run", "@", "--no-sandbox"])
        .stderr_contains("kept as")
        .run();
    let aside: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("results.partial.") && *p != journal)
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read_to_string(&aside[0]).unwrap(), saved);
}
