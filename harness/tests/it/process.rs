//! `process::run` against real misbehaving children. The children are /bin/sh
//! scripts here only; crossprobe itself never runs a shell.

use crate::process_support;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crossprobe::process::{self, hard_limit, run};
use process_support::{assert_gone, case, run_in_thread, sh, MARKER_VAR};

#[test]
fn records_exit_code_argv_env_and_output() {
    let c = sh("echo out; echo err >&2; exit 3");
    let cmd = run(&c.spec).unwrap();
    assert_eq!(cmd.exit.code, Some(3));
    assert_eq!(cmd.exit.signal, None);
    assert!(!cmd.exit.timed_out);
    assert!(process::started(&cmd));
    assert_eq!(cmd.argv, c.spec.argv);
    assert_eq!(cmd.env, c.spec.env);
    assert_eq!(cmd.cwd, None);
    assert_eq!((cmd.stdout.text.as_str(), cmd.stdout.bytes), ("out\n", 4));
    assert_eq!((cmd.stderr.text.as_str(), cmd.stderr.dropped), ("err\n", 0));
    assert_eq!(std::fs::read_to_string(c.log("stdout")).unwrap(), "out\n");
    assert_eq!(std::fs::read_to_string(c.log("stderr")).unwrap(), "err\n");
    assert_gone(&c.marker);
}

#[test]
fn names_the_signal_that_killed_the_child() {
    for (sig, name) in [("ILL", "SIGILL"), ("SEGV", "SIGSEGV"), ("ABRT", "SIGABRT")] {
        let c = sh(&format!("kill -{sig} $$"));
        let cmd = run(&c.spec).unwrap();
        assert_eq!(cmd.exit.signal.as_deref(), Some(name));
        assert_eq!(cmd.exit.code, None);
        assert!(!cmd.exit.timed_out);
        assert_gone(&c.marker);
    }
}

#[test]
fn kills_a_grandchild_left_behind_by_a_clean_exit() {
    // The grandchild also holds stdout open: with a pipe, reading to EOF
    // would wait for it.
    let c = sh("sleep 1000 & echo started; exit 0");
    let t = Instant::now();
    let cmd = run(&c.spec).unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(cmd.exit.success(), "{}", cmd.exit);
    assert_eq!(cmd.stdout.text, "started\n");
    assert_gone(&c.marker);
}

#[test]
fn timeout_kills_the_group() {
    let mut c = sh("sleep 1000 & sleep 1000");
    c.spec.timeout = Duration::from_secs(1);
    let t = Instant::now();
    let cmd = run(&c.spec).unwrap();
    let took = t.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(cmd.exit.timed_out);
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGTERM"));
    assert!(!cmd.exit.success());
    assert_gone(&c.marker);
}

#[test]
fn timeout_escalates_to_sigkill_when_sigterm_is_ignored() {
    // An ignored signal stays ignored across exec, so `sleep` ignores it too.
    let mut c = sh("trap '' TERM; sleep 1000 & sleep 1000");
    c.spec.timeout = Duration::from_secs(1);
    let t = Instant::now();
    let cmd = run(&c.spec).unwrap();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert!(cmd.exit.timed_out);
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    assert_gone(&c.marker);
}

#[test]
fn runaway_output_is_stopped_and_capped() {
    let c = sh("echo START; head -c 1000000000 /dev/zero | tr '\\0' x; echo END");
    let cap = c.spec.cap as u64;
    let limit = hard_limit(c.spec.cap);
    let t = Instant::now();
    let cmd = run(&c.spec).unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    assert!(!cmd.exit.timed_out);

    let out = &cmd.stdout;
    assert!(
        out.bytes > limit && out.bytes < 1_000_000_000,
        "{}",
        out.bytes
    );
    assert_eq!(out.dropped, out.bytes - cap);
    let note = format!("\n[... {} bytes dropped ...]\n", out.dropped);
    let (head, tail) = out.text.split_once(&note).expect("dropped note");
    assert!(head.starts_with("START\nxxx"), "{:?}", &head[..20]);
    assert_eq!(head.len() as u64, cap / 2);
    assert_eq!(tail, "x".repeat((cap - cap / 2) as usize));
    assert!(
        cmd.stderr.text.ends_with(&format!(
            "[crossprobe: stdout exceeded {limit} bytes; process group killed]\n"
        )),
        "{:?}",
        cmd.stderr.text
    );
    // The file is kept whole; a dying writer may have added a last block.
    assert!(std::fs::metadata(c.log("stdout")).unwrap().len() >= out.bytes);
    assert_gone(&c.marker);
}

#[test]
fn stdin_is_closed() {
    // Give this test process a stdin that never ends, so that a child
    // inheriting it (instead of getting /dev/null) would block in `cat`.
    // The write end is leaked on purpose: it must stay open. No other test
    // reads stdin, and libtest does not either.
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two-element array we own; dup2 replaces fd 0,
    // which nothing in this process reads.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        assert_eq!(libc::dup2(fds[0], 0), 0);
    }
    let mut c = case(&["cat"]);
    c.spec.timeout = Duration::from_secs(5);
    let t = Instant::now();
    let cmd = run(&c.spec).unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(cmd.exit.success(), "{}", cmd.exit);
    assert_eq!(cmd.stdout.bytes, 0);
    assert_gone(&c.marker);
}

#[test]
fn env_and_argv_reach_the_child_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let pwned = std::path::Path::new("/tmp").join(format!("pwned-{}", process_support::token()));
    let touch = format!("touch {}", pwned.display());
    let value = format!(
        "$({touch}); rm -rf; 'quote\" \\` *?[] | & ; `{touch}` > {0}/x\n$HOME ~",
        dir.path().display()
    );

    let mut c = case(&["/usr/bin/printenv", "CROSSPROBE_TEST_VALUE"]);
    c.spec
        .env
        .insert("CROSSPROBE_TEST_VALUE".to_string(), value.clone());
    let cmd = run(&c.spec).unwrap();
    assert!(cmd.exit.success(), "{}", cmd.exit);
    assert_eq!(cmd.stdout.text, format!("{value}\n"));
    assert_eq!(cmd.env["CROSSPROBE_TEST_VALUE"], value);

    let c = case(&["/usr/bin/printf", "%s", &value]);
    let cmd = run(&c.spec).unwrap();
    assert_eq!(cmd.stdout.text, value);
    assert_eq!(cmd.argv[2], value);

    assert!(!pwned.exists(), "{} was created", pwned.display());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn env_remove_and_cwd_apply() {
    let (name, _) = std::env::vars()
        .find(|(n, _)| n != MARKER_VAR)
        .expect("the test runs with some environment");
    let mut c = case(&["/usr/bin/env"]);
    c.spec.env_remove = vec![name.clone(), MARKER_VAR.to_string()];
    let cmd = run(&c.spec).unwrap();
    let out = &cmd.stdout.text;
    assert!(
        !out.lines().any(|l| l.starts_with(&format!("{name}="))),
        "{name} kept"
    );
    // A name both set and removed is set.
    assert!(out
        .lines()
        .any(|l| l.starts_with(&format!("{MARKER_VAR}="))));

    let mut c = case(&["/bin/pwd", "-P"]);
    let cwd = c.dir.path().canonicalize().unwrap();
    c.spec.cwd = Some(cwd.clone());
    let cmd = run(&c.spec).unwrap();
    assert_eq!(cmd.stdout.text.trim_end(), cwd.to_str().unwrap());
    assert_eq!(cmd.cwd.as_deref(), cwd.to_str());
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    let missing = format!(
        "/nonexistent/crossprobe-missing-{}",
        process_support::token()
    );
    let c = case(&[&missing, "arg"]);
    let err = run(&c.spec).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&missing), "{err}");

    let bare = format!("crossprobe-no-such-program-{}", process_support::token());
    let err = run(&case(&[&bare]).spec).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&bare), "{err}");
    assert!(err.to_string().contains("PATH"), "{err}");

    let mut c = case(&["/bin/sh", "-c", "true"]);
    c.spec.cwd = Some(c.dir.path().join("no-such-dir"));
    let err = run(&c.spec).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("no-such-dir"), "{err}");

    let mut c = case(&[]);
    c.spec.argv.clear();
    assert_eq!(run(&c.spec).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn a_leader_that_leaves_its_group_is_still_killed() {
    // The child joins the test's own process group, out of reach of the
    // group kill; run must not then wait for it forever.
    let mut c = case(&[
        "/usr/bin/perl",
        "-e",
        "setpgrp(0, getpgrp(getppid())) or die $!; sleep 1000",
    ]);
    c.spec.timeout = Duration::from_secs(1);
    let spec = c.spec.clone();
    let rx = run_in_thread(spec);
    let cmd = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("run did not return")
        .unwrap();
    assert!(cmd.exit.timed_out);
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGTERM"));
    assert_eq!(cmd.stderr.bytes, 0, "{}", cmd.stderr.text);
    assert_gone(&c.marker);
}
