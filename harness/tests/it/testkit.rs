//! The builder every other module runs crossprobe with (`common::Test`):
//! each expectation it takes can fail, or the tests built on it prove
//! nothing. Only quick commands here (`--version`, `plan`, a refusal).

use crate::common::Test;

const ONE_CELL: &str = "name: one\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n";

#[test]
fn exact_output_regex_and_status() {
    let r = Test::new()
        .arg("--version")
        .stdout_regex(r"crossprobe \d+\.\d+\.\d+\n")
        .stdout_contains("crossprobe ")
        .stderr("")
        .run();
    assert_eq!(r.code(), 0);
    let version = r.stdout();
    Test::new().arg("-V").stdout(version).run();
}

#[test]
#[should_panic(expected = "stdout is not exactly")]
fn other_stdout_fails() {
    Test::new().arg("--version").stdout("crossprobe\n").run();
}

#[test]
#[should_panic(expected = "stderr does not contain \"no such text\"")]
fn missing_stderr_text_fails() {
    Test::new()
        .arg("--version")
        .stderr_contains("no such text")
        .run();
}

#[test]
#[should_panic(expected = "stdout does not match")]
fn a_regex_matches_the_whole_output() {
    // Anchored: a match of a part is not enough.
    Test::new()
        .arg("--version")
        .stdout_regex("crossprobe")
        .run();
}

#[test]
#[should_panic(expected = "not 1")]
fn another_status_fails() {
    Test::new().arg("--version").failure().run();
}

#[test]
fn current_dir_env_and_path() {
    let r = Test::new()
        .file("sub/matrix.yaml", ONE_CELL)
        .current_dir("sub")
        .args(["plan", "matrix.yaml"])
        .env("CROSSPROBE_NO_CACHE", "1")
        .env_remove("CROSSPROBE_NO_CACHE")
        .path_with("/nonexistent")
        .stdout_contains("linux/amd64/cgo0/hello")
        .run();
    assert!(r.cwd().ends_with("sub"), "{}", r.cwd().display());
}

#[test]
fn stdin_reaches_crossprobe_and_a_refusal_returns_its_words() {
    let err = Test::new()
        .args(["repro", "-"])
        .stdin("just prose, no yaml block\n")
        .stderr_regex(".*yaml.*")
        .refuse();
    assert!(!err.is_empty());
}

#[test]
#[should_panic(expected = "exited")]
fn a_refusal_must_exit_2() {
    Test::new().matrix(ONE_CELL).args(["plan", "@"]).refuse();
}
