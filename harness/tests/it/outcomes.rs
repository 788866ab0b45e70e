//! Outcomes and verdicts with inline probes: unexpected passes, build
//! failures, timeouts, silent exits.

use crate::common;

#[test]
fn unexpected_pass_fails_the_run() {
    let r = common::Test::new().matrix("name: xpass\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nexpect:\n  - when: {goarch: amd64}\n    outcome: run-fail\n    reason: https://github.com/golang/go/issues/599\n").status(1).run();
    let c = &r.cells("xpass")["linux/amd64/cgo0/hello"];
    assert_eq!(c["outcome"], "pass");
    assert_eq!(c["verdict"]["met"], false);
    assert_eq!(
        c["verdict"]["message"],
        "unexpected pass: https://github.com/golang/go/issues/599 may be fixed"
    );
    assert!(r.stdout().contains("unexpected pass"), "{}", r.stdout());
    common::validate_junit(&r.reports("xpass").join("junit.xml"));
}

#[test]
fn build_failure_is_reported_with_its_first_line() {
    let r = common::Test::new().matrix("name: bf\nprobes:\n  - name: broken\n    source: |\n      package main\n      func main() { undefinedThing() }\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\nexpect:\n  - when: {goarch: arm64}\n    outcome: build-fail\n    match: \"undefined: undefinedThing\"\n    reason: the probe is broken on purpose\n").status(1).run();
    let cells = r.cells("bf");
    let amd = &cells["linux/amd64/cgo0/broken"];
    assert_eq!(amd["outcome"], "build-fail");
    assert!(
        amd["reason"]
            .as_str()
            .unwrap()
            .contains("undefined: undefinedThing"),
        "{amd:#}"
    );
    // Failed cells keep their build directory, and say where.
    let dir = amd["dir"].as_str().unwrap();
    assert!(std::path::Path::new(dir).join("main.go").is_file());
    std::fs::remove_dir_all(dir).unwrap();
    let arm = &cells["linux/arm64/cgo0/broken"];
    assert_eq!(arm["verdict"]["met"], true, "{arm:#}");
    common::validate_junit(&r.reports("bf").join("junit.xml"));
}

#[test]
fn a_probe_that_never_ends_times_out() {
    let r = common::run_yaml(
        "name: to\nprobes:\n  - name: forever\n    source: |\n      package main\n      import \"time\"\n      func main() { time.Sleep(time.Hour) }\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  timeout: 2s\nexpect:\n  - when: {probe: forever}\n    outcome: timeout\n    reason: it sleeps for an hour\n",
        &["run", "@"],
    );
    let c = &r.cells("to")["linux/amd64/cgo0/forever"];
    assert_eq!(c["outcome"], "timeout", "{c:#}");
    assert_eq!(r.code(), 0, "{}", r.stdout());
}

#[test]
fn silent_exit_zero_is_not_a_pass() {
    let r = common::Test::new().matrix("name: silent\nprobes:\n  - name: quiet\n    source: |\n      package main\n      func main() {}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n").status(1).run();
    let c = &r.cells("silent")["linux/amd64/cgo0/quiet"];
    assert_eq!(c["outcome"], "run-fail");
    assert!(
        c["reason"].as_str().unwrap().contains("printed no facts"),
        "{c:#}"
    );
}

#[test]
fn keep_keeps_passing_build_dirs() {
    let r = common::Test::new()
        .matrix("name: k\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n")
        .args(&["run", "@", "--keep", "-j1"])
        .status(0)
        .run();
    let c = &r.cells("k")["linux/amd64/cgo0/hello"];
    let dir = c["dir"].as_str().expect("--keep records the directory");
    assert!(std::path::Path::new(dir).join("probe").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}
