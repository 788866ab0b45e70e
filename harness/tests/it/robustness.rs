//! Hostile sizes and broken state (issue 24): every input crossprobe reads
//! is read with a bound and refused by name in milliseconds; a YAML error
//! at any column is an error, not a panic inside miette; a corrupt journal
//! is kept aside and the run goes on.

use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::Test;

/// Runs `c` with its address space capped at 1 GiB and killed after 60 s:
/// a crossprobe that reads without bound fails here (out of memory, or
/// killed), rather than taking the machine's memory. Returns what it said
/// and how long it took.
fn bounded(mut c: Command, stdin: Option<Vec<u8>>) -> (Output, Duration) {
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = c.spawn().unwrap();
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            // A reader that stops early closes the pipe: that is fine.
            let _ = pipe.write_all(&bytes);
        })
    });
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        // Only this test's own child, and only if it still runs.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    let took = t0.elapsed();
    drop(watchdog);
    if let Some(f) = feeder {
        let _ = f.join();
    }
    (out, took)
}

#[track_caller]
fn assert_refused(what: &str, (out, took): (Output, Duration), words: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: {:?} after {took:?}\n{err}",
        out.status
    );
    assert!(!err.contains("panicked at"), "{what}: {err}");
    // miette wraps a long message: its words, as one line.
    let flat = err.replace("\n  │ ", " ");
    for w in words {
        assert!(flat.contains(w), "{what}: no {w:?} in\n{err}");
    }
    // Read with a bound, not until the memory ran out.
    assert!(!err.contains("out of memory"), "{what}: {err}");
    // Refused as soon as the bound is passed, not after reading it all.
    assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
    // The input is never echoed whole.
    assert!(err.len() < 20_000, "{what}: {} bytes of error", err.len());
    err
}

/// repro reads its snippet with the same bound as run reads a matrix:
/// `/dev/zero`, a 50 MB file, and 50 MB on stdin are refused at once, with
/// what a matrix may hold, and the input is not echoed back.
#[test]
fn repro_reads_its_snippet_with_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let repro = |arg: &str| Test::at(dir.path()).args(["repro", arg]).command();
    assert_refused(
        "repro /dev/zero",
        bounded(repro("/dev/zero"), None),
        &["/dev/zero", "at most 1024 KiB"],
    );
    let big = dir.path().join("big.yaml");
    let mut text = String::from("name: big\ngoos: linux\ngoarch: amd64\nsource: |\n");
    while text.len() < 50 << 20 {
        text.push_str("  // padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, &text).unwrap();
    assert_refused(
        "repro big.yaml",
        bounded(repro(big.to_str().unwrap()), None),
        &["big.yaml", "50.0 MiB", "at most 1024 KiB"],
    );
    assert_refused(
        "repro - (50 MB)",
        bounded(repro("-"), Some(text.into_bytes())),
        &["<stdin>", "at most 1024 KiB"],
    );
    // One line of 2 MB on stdin: not echoed inside the error.
    let line = format!("name: x\ntitle: {}\n", "y".repeat(2 << 20));
    assert_refused(
        "repro - (one long line)",
        bounded(repro("-"), Some(line.into_bytes())),
        &["<stdin>"],
    );
}

/// `--durations` and report's inputs (merge, diff, html) are read with a
/// bound too, and something that is no results.json at all is refused at
/// its first byte.
#[test]
fn durations_and_reports_read_with_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("matrix.yaml"),
        "name: m\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n",
    )
    .unwrap();
    let cmd = |args: &[&str]| Test::at(dir.path()).args(args).command();
    // Sparse: 2 GiB on disk in name only.
    let huge = std::fs::File::create(dir.path().join("huge.json")).unwrap();
    huge.set_len(2 << 30).unwrap();
    drop(huge);
    for input in ["/dev/zero", "huge.json"] {
        for args in [
            &[
                "plan",
                "matrix.yaml",
                "--shard",
                "1/2",
                "--durations",
                input,
            ][..],
            &["run", "matrix.yaml", "--shard", "1/2", "--durations", input][..],
            &["report", "diff", input, input][..],
            &["report", "merge", input, "--out", "merged"][..],
            &["report", "html", input, "--out", "r.html"][..],
        ] {
            let err = assert_refused(&args.join(" "), bounded(cmd(args), None), &[input]);
            let flat = err.replace("\n  │ ", " ");
            assert!(
                flat.contains("not valid JSON") || flat.contains("2.0 GiB"),
                "{}: {err}",
                args.join(" ")
            );
        }
    }
    // A journal that never ends: /dev/zero behind a .jsonl name.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("z.jsonl")).unwrap();
    let err = assert_refused(
        "report html z.jsonl",
        bounded(cmd(&["report", "html", "z.jsonl", "--out", "r.html"]), None),
        &["z.jsonl"],
    );
    assert!(!err.contains("out of memory"), "{err}");
}

/// A YAML error past column 65,535 made miette panic (exit 101) while it
/// drew the snippet, in plan, run and repro. At any column: exit 2, the
/// position, and a snippet cut to a readable width.
#[test]
fn a_yaml_error_at_any_column_is_an_error() {
    let wide = format!(
        "name: wide\nprobes: [hello]\nmatrix: {{goos: [linux], goarch: [{}amd64], bogus: 1}}\n",
        "amd64, ".repeat(10_000)
    );
    let col = wide.lines().nth(2).unwrap().find("bogus").unwrap() + 1;
    for args in [&["run", "@"][..], &["plan", "@"][..]] {
        let err = Test::new().matrix(&wide).args(args).refuse();
        assert!(err.contains(&format!("matrix.yaml:3:{col}")), "{err}");
        assert!(err.contains("bogus"), "{err}");
        assert!(err.len() < 5_000, "{} bytes of error", err.len());
    }
    let snippet = format!(
        "name: wide\ngoos: linux\ngoarch: amd64\nenv: {{{}BOGUS: [1, 2]}}\nsource: |\n  package main\n  func main() {{}}\n",
        "A: a, ".repeat(12_000)
    );
    let err = Test::new()
        .file("s.yaml", &snippet)
        .args(["repro", "s.yaml"])
        .refuse();
    assert!(err.contains("s.yaml:4:"), "{err}");
    assert!(err.len() < 5_000, "{} bytes of error", err.len());
}

/// A journal that is not one (a crash mid-write of something else, a disk
/// error, a hand edit) blocked its reports directory for good: every later
/// run, with --resume or without, exited 2. It is kept aside, as the
/// README says of an old journal, and the run goes on.
#[test]
fn a_corrupt_journal_is_kept_aside_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: cj\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n";
    let reports = dir.path().join("reports/cj");
    for (corrupt, resume) in [
        (
            &b"{\"journal\": {\"pid\": 1}}\nthis is not json\n{}\n"[..],
            false,
        ),
        (&b"\xff\xfe not utf-8 \x00\x01\n"[..], true),
        (&b"{\"id\": 3}\n{\"id\": 4}\n"[..], true),
    ] {
        std::fs::create_dir_all(&reports).unwrap();
        std::fs::write(reports.join("results.partial.jsonl"), corrupt).unwrap();
        let mut t = Test::at(dir.path()).matrix(yaml);
        if resume {
            t = t.args(["run", "@", "--resume"]);
        }
        let r = t.stderr_contains("kept as").run();
        assert!(
            r.stderr().contains("corrupt") || r.stderr().contains("cannot read"),
            "{}",
            r.stderr()
        );
        let cells = r.cells("cj");
        assert_eq!(cells.len(), 1);
        // The corrupt file is kept, byte for byte, under another name.
        let kept: Vec<_> = std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("results.partial.")
                    && std::fs::read(p).is_ok_and(|b| b == corrupt)
            })
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
    }
}
