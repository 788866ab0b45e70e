//! Bad input: each is a clear error naming file:line:col with a hint, exits 2
//! and writes nothing. The exact text is snapshotted, so a change to a
//! message is a visible decision.

use crate::common;

/// The message with miette's wrapping undone, for asserting on phrases.
fn flat(e: &str) -> String {
    e.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

const GOOD_HEAD: &str = "probes: [hello]\n";

#[test]
fn unknown_key() {
    let e = common::refuse(
        "probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  goarm: [7]\n",
    );
    assert!(e.contains("matrix.yaml:5:3"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn wrong_type() {
    let e = common::refuse("probes: [hello]\nmatrix:\n  goos: linux\n  goarch: [amd64]\n");
    assert!(e.contains("matrix.yaml:3:"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn unknown_probe() {
    let e = common::refuse(
        "probes: [hello, helo2, atomc64]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n",
    );
    assert!(e.contains("matrix.yaml:1:17"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn invalid_goarch() {
    let e = common::refuse(&format!(
        "{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64, arm46]\n"
    ));
    assert!(e.contains("matrix.yaml:4:19"), "{e}");
    assert!(flat(&e).contains("did you mean \"arm64\""), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn invalid_goos() {
    let e = common::refuse(&format!(
        "{GOOD_HEAD}matrix:\n  goos: [linux, widnows]\n  goarch: [amd64]\n"
    ));
    assert!(e.contains("matrix.yaml:3:17"), "{e}");
    assert!(flat(&e).contains("did you mean \"windows\""), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn empty_after_exclude() {
    let e = common::refuse(&format!("{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n  exclude:\n    - {{goos: linux}}\n"),
    );
    assert!(e.contains("matrix.yaml:6:7"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn malformed_regex() {
    let e = common::refuse(&format!("{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {{goarch: amd64}}\n    outcome: run-fail\n    match: \"unaligned (64-bit\"\n    reason: a sentence\n"),
    );
    assert!(e.contains("matrix.yaml:8:12"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn bad_timeout() {
    let e = common::refuse(&format!(
        "{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  timeout: abc\n"
    ));
    assert!(e.contains("matrix.yaml:6:12"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn expected_failure_without_reason() {
    let e = common::refuse(&format!("{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {{goarch: amd64}}\n    outcome: run-fail\n"),
    );
    assert!(e.contains("needs a `reason`"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn unknown_axis_in_exclude() {
    let e = common::refuse(&format!("{GOOD_HEAD}matrix:\n  goos: [linux]\n  goarch: [amd64]\n  exclude:\n    - {{goarhc: amd64}}\n"),
    );
    assert!(flat(&e).contains("did you mean \"goarch\""), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn empty_file() {
    let e = common::refuse("");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn missing_file_is_a_usage_error() {
    let e = common::Test::new()
        .matrix("")
        .args(["run", "does-not-exist.yaml"])
        .refuse();
    assert!(e.contains("does-not-exist.yaml"), "{e}");
}

/// A file that cannot be read is bad input (exit 2), and the OS's words
/// are printed once: in the message, not again as its cause.
#[test]
fn a_matrix_that_cannot_be_read_says_why_once() {
    let e = common::Test::new().args(["run", "missing.yaml"]).refuse();
    assert!(e.contains("cannot read missing.yaml"), "{e}");
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
}
