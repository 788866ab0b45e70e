//! Ctrl-C and SIGTERM in the middle of a run: reports for everything done,
//! the rest marked interrupted, the right exit code, nothing left running.
#![cfg(unix)]

use crate::common::{self, Test};

use crossprobe::model::Outcome;

use std::time::{Duration, Instant};

fn interrupted_run(signal: i32, want_code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("cp-int-{}-{signal}", std::process::id());
    let marker = dir.path().join("started");
    let yaml = format!(
        "name: intr\nprobes:\n  - hello\n  - name: sleepy\n    source: |\n      package main\n      import (\"os\"; \"time\")\n      func main() {{ os.WriteFile(os.Getenv(\"CP_MARKER\"), nil, 0o644); time.Sleep(time.Hour) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env:\n    CP_MARKER: [\"{}\"]\n    CP_TOKEN: [\"{token}\"]\nrun:\n  timeout: 10m\n",
        marker.display()
    );
    // Unsandboxed: the probe signals that it started by writing into the
    // test's directory, which a sandboxed probe cannot.
    let mut child = Test::at(dir.path())
        .matrix(&yaml)
        .args(["run", "@", "-j2", "--no-sandbox"])
        .command()
        .spawn()
        .unwrap();
    // No sleeping for a guessed time: the signal comes once the sleepy
    // probe runs and the hello cell is in the journal, finished.
    let journal = dir.path().join("reports/intr/results.partial.jsonl");
    let journaled = |probe: &str| {
        std::fs::read_to_string(&journal).is_ok_and(|j| {
            common::journal_cells(&j)
                .iter()
                .any(|c| c.cell.probe == probe)
        })
    };
    let t0 = Instant::now();
    while !(marker.exists() && journaled("hello")) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the sleepy probe never started, or hello never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!journaled("sleepy"), "the sleepy cell cannot have finished");
    unsafe { libc::kill(child.id() as i32, signal) };
    let t1 = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        t1.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        t1.elapsed()
    );
    assert_eq!(status.code(), Some(want_code));

    let reports = dir.path().join("reports/intr");
    common::validate_junit(&reports.join("junit.xml"));
    // The partial JUnit, read back: the finished cell passed, the other is
    // interrupted, saying so; nothing else is in it.
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    let cases: Vec<&str> = junit.split("<testcase ").skip(1).collect();
    assert_eq!(cases.len(), 2, "{junit}");
    let case = |probe: &str| -> &str {
        let c = cases
            .iter()
            .find(|c| c.contains(&format!("/{probe}\"")))
            .unwrap_or_else(|| panic!("no testcase for {probe}:\n{junit}"));
        c.split("</testcase>").next().unwrap()
    };
    let hello = case("hello");
    assert!(
        !hello.contains("<failure") && !hello.contains("<skipped"),
        "hello passed: {hello}"
    );
    let sleepy = case("sleepy");
    assert!(
        sleepy.contains(
            r#"<error message="interrupted before it finished: the run was stopped (Ctrl-C or SIGTERM)" type="interrupted">"#
        ),
        "the unfinished cell is an error, with the reason: {sleepy}"
    );
    // What CI shows of a job killed at its time limit: a failure, in every
    // consumer, never "1 passed, 1 skipped".
    for (consumer, counts) in crate::junit_consumers::read_all(&reports.join("junit.xml")) {
        assert_eq!(
            counts,
            (2, 1, 0),
            "{consumer} reads tests, failures, skipped"
        );
    }
    let res = common::read_results(&reports);
    assert!(res.interrupted);
    let find = |p: &str| res.cells.iter().find(|c| c.cell.probe == p).unwrap();
    assert_eq!(find("hello").outcome, Outcome::Pass, "{:#?}", find("hello"));
    assert_eq!(find("sleepy").outcome, Outcome::Interrupted);

    #[cfg(target_os = "linux")]
    {
        std::thread::sleep(Duration::from_millis(300));
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(env) = std::fs::read(entry.path().join("environ")) {
                let env = String::from_utf8_lossy(&env);
                assert!(
                    !env.contains(&token),
                    "process {:?} of the run is still alive",
                    entry.file_name()
                );
            }
        }
    }
}

#[test]
fn sigint_writes_partial_reports_and_exits_130() {
    interrupted_run(libc::SIGINT, 130);
}

#[test]
fn sigterm_writes_partial_reports_and_exits_143() {
    interrupted_run(libc::SIGTERM, 143);
}
