//! A run SIGKILLed midway (a CI timeout, the OOM killer) leaves its journal.
//! `report merge` and `report html` read it, the unfinished cell marked
//! interrupted; `run --resume` keeps the finished cells, runs only the rest,
//! writes complete reports and says how many it resumed; a run without
//! `--resume` keeps the old journal under another name.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common;

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

fn journal_cells(journal: &Path) -> Vec<serde_json::Value> {
    journal_cells_of(&std::fs::read_to_string(journal).unwrap_or_default())
}

fn results(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn outcomes(res: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = res["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cell"]["probe"].as_str().unwrap().to_string()
                    + c["cell"]["ldflags"].as_str().unwrap(),
                c["outcome"].as_str().unwrap().to_string(),
            )
        })
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
    let reports = dir.path().join("reports/resume");
    let journal = reports.join("results.partial.jsonl");

    // --no-sandbox throughout: the held probe writes its marker into the
    // test's directory, and whether a cell ran sandboxed is part of the key
    // a resume compares.
    let mut first = common::cmd(dir.path(), &["run", "@", "-j2", "--no-sandbox"])
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
    let merged = dir.path().join("merged");
    common::cmd(
        dir.path(),
        &[
            "report",
            "merge",
            journal.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
    )
    .status()
    .unwrap();
    let m = results(&merged.join("results.json"));
    assert_eq!(m["interrupted"], true);
    assert_eq!(
        outcomes(&m),
        [
            ("held".to_string(), "interrupted".to_string()),
            ("hello".into(), "pass".into()),
            ("hello-s -w".into(), "pass".into())
        ]
    );
    let page = dir.path().join("page.html");
    let html = common::cmd(
        dir.path(),
        &[
            "report",
            "html",
            journal.to_str().unwrap(),
            "--out",
            page.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(html.status.success(), "{html:?}");
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains(r#""status":"interrupted""#));

    // --resume: only the held cell runs again.
    std::fs::remove_file(&hold).unwrap();
    let out = common::cmd(dir.path(), &["run", "@", "--resume", "--no-sandbox"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("found the journal of a run that did not finish (pid")
            && stderr.contains("2 of 3 cells finished"),
        "{stderr}"
    );
    assert!(stderr.contains("resumed 2 cells"), "{stderr}");
    let res = results(&reports.join("results.json"));
    assert_eq!(res["interrupted"], false);
    assert!(outcomes(&res).iter().all(|(_, o)| o == "pass"), "{res:#}");
    assert_eq!(outcomes(&res).len(), 3);
    // The resumed cells are the journal's own, not new runs of them.
    for old in journal_cells_of(&saved) {
        let now = res["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cell"]["id"] == old["cell"]["id"])
            .unwrap();
        assert_eq!(*now, old);
    }
    assert!(!journal.exists(), "the journal outlived complete reports");

    // Without --resume, a dead run's journal is kept aside, never deleted.
    std::fs::write(&journal, &saved).unwrap();
    let out = common::cmd(dir.path(), &["run", "@", "--no-sandbox"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("kept as"), "{stderr}");
    let aside: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("results.partial.") && *p != journal)
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read_to_string(&aside[0]).unwrap(), saved);
}

fn journal_cells_of(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("cell").is_some())
        .collect()
}
