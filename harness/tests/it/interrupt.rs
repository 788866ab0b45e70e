//! Ctrl-C and SIGTERM in the middle of a run: reports for everything done,
//! the rest marked interrupted, the right exit code, nothing left running.
#![cfg(unix)]

use crate::common;

use std::time::{Duration, Instant};

fn interrupted_run(signal: i32, want_code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("cp-int-{}-{signal}", std::process::id());
    let marker = dir.path().join("started");
    let yaml = format!(
        "name: intr\nprobes:\n  - hello\n  - name: sleepy\n    source: |\n      package main\n      import (\"os\"; \"time\")\n      func main() {{ os.WriteFile(os.Getenv(\"CP_MARKER\"), nil, 0o644); time.Sleep(time.Hour) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env:\n    CP_MARKER: [\"{}\"]\n    CP_TOKEN: [\"{token}\"]\nrun:\n  timeout: 10m\n",
        marker.display()
    );
    std::fs::write(dir.path().join("matrix.yaml"), yaml).unwrap();
    let mut child = common::cmd(dir.path(), &["run", "@", "-j2"])
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !marker.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the sleepy probe never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the hello cell finish too.
    std::thread::sleep(Duration::from_millis(1500));
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
    let res: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("results.json")).unwrap()).unwrap();
    assert_eq!(res["interrupted"], true);
    let cells = res["cells"].as_array().unwrap();
    let find = |p: &str| cells.iter().find(|c| c["cell"]["probe"] == p).unwrap();
    assert_eq!(find("hello")["outcome"], "pass", "{:#}", find("hello"));
    assert_eq!(find("sleepy")["outcome"], "interrupted");

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
