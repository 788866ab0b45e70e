//! The reports directory under stress: locked against a second run, checked
//! writable before anything is built, and a full disk met with a clear error
//! that keeps what finished.
//!
//! A full build disk, a full reports disk and a read-only one mount a small
//! tmpfs, so they need root: without it they say they were skipped, and
//! under CROSSPROBE_REQUIRE_TOOLS (CI) they fail. (A file-size limit would
//! not do for the build disk: crossprobe asks the filesystem whether a
//! failed cell filled it, never the cell's words.)
#![cfg(unix)]

// Runs pass --no-sandbox: their probes leave marks in the test's own
// directory, which a sandboxed probe cannot write.
use crate::common::{self, Test};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crossprobe::model::{exit, CellResult, Outcome};

/// A probe that announces it started (a file) and then sleeps.
fn sleepy(marker: &Path) -> String {
    format!(
        "name: locked\nprobes:\n  - name: sleepy\n    source: |\n      package main\n      import (\"os\"; \"time\")\n      func main() {{ os.WriteFile(os.Getenv(\"CP_MARKER\"), nil, 0o644); time.Sleep(time.Hour) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env:\n    CP_MARKER: [\"{}\"]\nrun:\n  timeout: 10m\n",
        marker.display()
    )
}

#[test]
fn a_second_run_into_the_same_directory_stops_with_the_first_ones_pid() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let run = || {
        Test::at(dir.path())
            .matrix(&sleepy(&marker))
            .args(["run", "@", "--no-sandbox"])
    };
    let mut first = run()
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !marker.exists() {
        assert!(t0.elapsed() < Duration::from_secs(120), "never started");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Refused: nothing built (its TMPDIR stays empty), nothing written.
    let t1 = Instant::now();
    let stderr = run().refuse();
    assert!(t1.elapsed() < Duration::from_secs(30), "{:?}", t1.elapsed());
    assert!(
        stderr.contains(&format!(
            "reports/locked is in use by another crossprobe run (pid {}",
            first.id()
        )),
        "{stderr}"
    );

    unsafe { libc::kill(first.id() as i32, libc::SIGTERM) };
    assert_eq!(first.wait().unwrap().code(), Some(143));
    let reports = dir.path().join("reports/locked");
    common::validate_junit(&reports.join("junit.xml"));
    assert_eq!(common::read_results(&reports).cells.len(), 1);
    assert!(
        !reports.join("results.partial.jsonl").exists(),
        "the journal outlived the reports"
    );

    // The lock went with the first run.
    Test::at(dir.path()).args(["plan", "@"]).run();
}

/// A run into `out`: `Test::refuse` checks that it is refused with nothing
/// built (`TMPDIR`, where every cell's build directory would go, stays
/// empty) and nothing written.
fn run_into(out: &Path) -> Test {
    Test::new()
        .matrix("name: nowhere\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n")
        .args(["run", "@", "--no-sandbox", "--out"])
        .arg(out)
}

#[test]
fn an_unwritable_reports_directory_is_an_error_before_anything_is_built() {
    // A file where a directory should be: refused for root too. Exit 3, as
    // reports that cannot be written after a run: the code says what
    // failed, not when (crossprobe::exit). The OS's words once: in the
    // message, not again as its cause.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let stderr = run_into(&file.join("reports")).refuse_with(exit::IO);
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stderr.contains("not-a-dir/reports"), "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");

    // A read-only directory (a read-only mount for root, whom modes do not
    // stop).
    let ro = tempfile::tempdir().unwrap();
    let _mount = if is_root() {
        match Mount::tmpfs(ro.path(), "size=64k,ro") {
            Some(m) => Some(m),
            None => return common::tool_missing("a tmpfs mount", "the read-only part is skipped"),
        }
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(ro.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        None
    };
    let stderr = run_into(ro.path()).refuse_with(exit::IO);
    assert!(stderr.contains("cannot write"), "{stderr}");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A tmpfs mounted for the length of a test.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, options: &str) -> Option<Mount> {
        if !cfg!(target_os = "linux") || !is_root() {
            return None;
        }
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Six cells, each printing 100 KiB to stdout and to stderr, so that each
/// journal line holds the 2 × 64 KiB kept of them.
const WORDY: &str = "name: wordy\nprobes:\n  - name: wordy\n    source: |\n      package main\n      import (\"fmt\"; \"os\"; \"strings\")\n      var n = \"0\"\n      func main() {\n        s := strings.Repeat(\"y\", 100<<10)\n        fmt.Println(s)\n        fmt.Fprintln(os.Stderr, s)\n        fmt.Printf(\"CROSSPROBE-FACTS: {\\\"n\\\": %q}\\n\", n)\n      }\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  ldflags: [\"-X main.n=1\", \"-X main.n=2\", \"-X main.n=3\", \"-X main.n=4\", \"-X main.n=5\", \"-X main.n=6\"]\n";

#[test]
fn a_full_reports_disk_is_a_clear_error_and_the_finished_cells_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // Room for two journal lines of about 135 KB, not three.
    let Some(_mount) = Mount::tmpfs(&out, "size=320k") else {
        return common::tool_missing("root, to mount a tmpfs", "a full reports disk is not tried");
    };
    let reports = out.join("wordy");
    std::fs::create_dir(&reports).unwrap();
    let earlier = "{\"an earlier run\": true}\n";
    std::fs::write(reports.join("results.json"), earlier).unwrap();

    let r = Test::at(dir.path())
        .matrix(WORDY)
        .args(["run", "@", "--no-sandbox", "-j1", "--out"])
        .arg(&out)
        .status(crossprobe::model::exit::IO)
        .stderr_contains("No space left on device")
        .stderr_contains("the disk filled up during the run")
        // The summary reached the log, with the cells never started.
        .stdout_contains("6 cells in")
        .stdout_contains("interrupted")
        .run();
    let stderr = r.stderr();
    let flat = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("2 of the 4 cells that finished are kept in"),
        "{stderr}"
    );

    // The journal: its header, then two whole lines, each a cell that passed.
    let journal = std::fs::read_to_string(reports.join("results.partial.jsonl")).unwrap();
    let lines: Vec<&str> = journal.lines().skip(1).collect();
    assert!(journal.starts_with(r#"{"journal":"#), "{journal:.200}");
    assert_eq!(lines.len(), 2, "{} bytes", journal.len());
    assert!(journal.ends_with('\n'));
    for l in lines {
        let cell: CellResult = serde_json::from_str(l).unwrap();
        assert_eq!(cell.outcome, Outcome::Pass);
    }
    // The earlier run's reports were not overwritten by half a file.
    assert_eq!(
        std::fs::read_to_string(reports.join("results.json")).unwrap(),
        earlier
    );
    assert!(!reports.join("junit.xml").exists());
    let names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".crossprobe-")),
        "a temporary file was left: {names:?}"
    );
}

#[test]
fn a_full_build_disk_stops_the_run_and_the_reports_say_why() {
    // A real full filesystem: a tmpfs with room for the sources, not for a
    // linked binary, holding the build directories and go's temporary
    // files. Go's build cache stays the warm one elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let Some(_mount) = Mount::tmpfs(&small, "size=1m") else {
        return common::tool_missing("root, to mount a tmpfs", "a full build disk is not tried");
    };
    std::fs::create_dir(small.join("tmp")).unwrap();
    let o = Test::at(dir.path())
        .matrix(&WORDY.replace("wordy", "cramped"))
        .args(["run", "@", "--no-sandbox", "-j1"])
        .env("XDG_CACHE_HOME", &small)
        .env("TMPDIR", small.join("tmp"))
        .env("GOCACHE", common::gocache())
        .command()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(exit::IO), "{stderr}");
    let flat = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("the disk filled up during the run (cell "),
        "{stderr}"
    );
    // Which filesystem, and how full: asked of it, not read in go's words.
    assert!(
        flat.contains(&format!(": {}/", small.display())),
        "{stderr}"
    );
    assert!(
        flat.contains(" free); cells after it were not started"),
        "{stderr}"
    );
    let reports = dir.path().join("reports/cramped");
    common::validate_junit(&reports.join("junit.xml"));
    let res = common::read_results(&reports);
    assert!(res.interrupted);
    let cells = &res.cells;
    assert_eq!(cells.len(), 6);
    let mut not_started = 0;
    for c in cells {
        let reason = c.reason.as_deref().unwrap_or("");
        match c.outcome {
            Outcome::BuildFail => {
                assert!(reason.contains("no space left on device"), "{c:#?}")
            }
            Outcome::Interrupted => {
                assert_eq!(reason, "not started: the disk filled up during the run");
                not_started += 1;
            }
            other => panic!("{other}: {c:#?}"),
        }
    }
    // The first cell's failure stops the run.
    assert_eq!(not_started, 5);
}

/// A build whose compiler quotes the words of a full disk, and a program
/// that prints them and fails.
const SAYS_FULL: &str = "name: says-full\nprobes:\n  - name: quoted\n    source: |\n      package main\n      var _ = \"write /tmp/a.out: no space left on device\" + 1\n      func main() {}\n  - name: printed\n    source: |\n      package main\n      import (\"fmt\"; \"os\")\n      func main() { fmt.Fprintln(os.Stderr, \"write /tmp/x: no space left on device\"); os.Exit(1) }\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  ldflags: [\"-X main.n=1\", \"-X main.n=2\"]\n";

#[test]
fn a_cell_that_only_says_no_space_left_stops_nothing() {
    // Words are no evidence: a stranger's snippet could stop any run by
    // printing them. Every cell runs, and the run fails as its cells do.
    let r = Test::new()
        .matrix(SAYS_FULL)
        .args(["run", "@", "--no-sandbox", "-j1"])
        .status(exit::UNMET)
        .run();
    let stderr = r.stderr();
    assert!(!stderr.contains("disk filled up"), "{stderr}");
    let res = common::read_results(&r.path().join("reports/says-full"));
    assert!(!res.interrupted);
    // Each cell ran and said the words (which the old text search took
    // for a full disk).
    let mut outcomes: Vec<(String, bool)> = res
        .cells
        .iter()
        .map(|c| {
            let said = serde_json::to_string(c)
                .unwrap()
                .contains("no space left on device");
            (c.outcome.to_string(), said)
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("build-fail".to_string(), true),
            ("build-fail".to_string(), true),
            ("run-fail".to_string(), true),
            ("run-fail".to_string(), true),
        ],
        "{:#?}",
        res.cells
    );
}
