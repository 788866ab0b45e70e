//! `test:` probes run as `GOOS=… GOARCH=… go test -exec …` would run them
//! (issue 22), on small modules written here; tests/it/realmods.rs holds
//! the same promises against real third-party modules.
//!
//! - a test sees its target's GOOS/GOARCH/CGO_ENABLED, as the loop exports
//!   them, and a `go` it runs answers for that target;
//! - a test sees its whole module (`../testdata`, go.mod) wherever the
//!   module lives, under $HOME and under /tmp, and a build cache its `go`
//!   can use;
//! - packages are listed per target: a package with no files for a target
//!   is not on it (a skip in Go's words), never a failing cell, and one
//!   that exists only for a target is tested there;
//! - a failing test's message is its assertion, not its first line.

use crate::common::{self, Test};

use std::path::Path;

use crossprobe::model::{Outcome, TestOutcome};

const TARGET_TEST: &str = r#"package target

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestEnvIsTheTarget(t *testing.T) {
	for k, want := range map[string]string{"GOOS": runtime.GOOS, "GOARCH": runtime.GOARCH, "CGO_ENABLED": "0"} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
}

func TestGoAnswersForTheTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("go is not on wine's PATH")
	}
	out, err := exec.Command("go", "env", "GOOS", "GOARCH").CombinedOutput()
	if err != nil {
		t.Fatalf("go env: %v\n%s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{runtime.GOOS, runtime.GOARCH}; strings.Join(got, "/") != strings.Join(want, "/") {
		t.Errorf("go env says %v, want %v", got, want)
	}
}
"#;

/// xxhash's TestInlining runs `go test -gcflags=-m` and checks what the
/// target inlines: without its target in the env it checks the host's and
/// passes hollow on arm64 and s390x (FINDINGS D3).
#[test]
fn a_test_sees_its_target_as_go_test_exports_it() {
    let mut goarch = vec!["amd64", "\"386\""];
    if common::require_tool("qemu-aarch64", "the arm64 cells are left out") {
        goarch.push("arm64");
    }
    let wine = common::require_tool("wine64", "the windows cells are left out");
    let yaml = format!(
        "name: target\nprobes:\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [{}]\n  cgo: [\"0\"]\n{}",
        goarch.join(", "),
        if wine {
            "  include:\n    - {goos: windows, goarch: amd64}\n"
        } else {
            ""
        }
    );
    let r = Test::new()
        .file("go.mod", "module example.com/target\n\ngo 1.21\n")
        .file("target_test.go", TARGET_TEST)
        .matrix(&yaml)
        .run();
    let cells = r.cells("target");
    assert_eq!(
        cells.len(),
        goarch.len() + usize::from(wine),
        "{:?}",
        cells.keys()
    );
    for (id, c) in &cells {
        assert_eq!(c.outcome, Outcome::Pass, "{id}: {:?}", c.reason);
        let env = c.tests.iter().find(|t| t.name == "TestEnvIsTheTarget");
        assert_eq!(
            env.map(|t| t.outcome),
            Some(TestOutcome::Pass),
            "{id}: {:?}",
            c.tests
        );
    }
}

#[test]
fn a_failing_tests_message_is_its_assertion_not_its_first_line() {
    let r = Test::new()
        .file("go.mod", "module example.com/says\n\ngo 1.21\n")
        .file(
            "says/says_test.go",
            "package says\n\nimport \"testing\"\n\nfunc TestTwoLines(t *testing.T) {\n\tt.Errorf(\"\\n got: %d\\nwant: %d\", 1, 2)\n}\n",
        )
        .file(
            "setup/setup_test.go",
            "package setup\n\nimport (\n\t\"log\"\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) {\n\tlog.Fatalf(\"setup failed\\ncause: %s\", \"no fixture\")\n\tos.Exit(m.Run())\n}\n\nfunc TestNeverRuns(t *testing.T) {}\n",
        )
        .matrix(
            "name: says\nprobes:\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n",
        )
        .failure()
        .run();
    let junit = std::fs::read_to_string(r.reports("says").join("junit.xml")).unwrap();
    let message = junit
        .split("<failure message=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or(""))
        .find(|m| m.contains("says_test.go:6:"))
        .unwrap_or_else(|| panic!("no failure message names says_test.go:6:\n{junit}"));
    assert!(
        message.contains("got: 1") && message.contains("want: 2"),
        "the message is the first line only: {message:?}"
    );
    let setup = &r.cells("says")["linux/amd64/cgo0/unit/setup"];
    let why = setup.reason.as_deref().unwrap_or("");
    assert!(
        why.contains("setup failed") && why.contains("cause: no fixture"),
        "{why}"
    );
}

const SEES_TEST: &str = r#"package sees

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestEnvIsTheTarget(t *testing.T) {
	for k, want := range map[string]string{"GOOS": runtime.GOOS, "GOARCH": runtime.GOARCH, "CGO_ENABLED": "0"} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
}

func TestReadsTheWholeModule(t *testing.T) {
	for _, f := range []string{"../go.mod", "../testdata/hello.txt"} {
		if _, err := os.ReadFile(f); err != nil {
			t.Error(err)
		}
	}
}

func TestRunsGoForItsTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("go is not on wine's PATH")
	}
	out, err := exec.Command("go", "env", "GOARCH").CombinedOutput()
	if err != nil {
		t.Fatalf("go env: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != runtime.GOARCH {
		t.Errorf("go env GOARCH = %s, want %s", got, runtime.GOARCH)
	}
	// A build that needs the build cache.
	if out, err := exec.Command("go", "build", ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}
"#;

/// The `sees` module in `root`.
fn write_sees(root: &Path) {
    let files = [
        ("go.mod", "module example.com/sees\n\ngo 1.21\n"),
        ("testdata/hello.txt", "hello\n"),
        ("sees/sees.go", "package sees\n"),
        ("sees/sees_test.go", SEES_TEST),
    ];
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn a_test_sees_its_module_its_target_and_a_build_cache_under_home_and_under_tmp() {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let in_home = tempfile::Builder::new()
        .prefix("crossprobe-sees-")
        .tempdir_in(&home)
        .unwrap();
    let in_tmp = tempfile::Builder::new()
        .prefix("crossprobe-sees-")
        .tempdir_in("/tmp")
        .unwrap();
    write_sees(in_home.path());
    write_sees(in_tmp.path());
    let mut goarch = vec!["amd64"];
    if common::require_tool("qemu-aarch64", "the arm64 cells are left out") {
        goarch.push("arm64");
    }
    let wine = common::require_tool("wine64", "the windows cells are left out");
    let yaml = format!(
        "name: sees\nprobes:\n  - name: home\n    test: ./...\n    module: {}\n  - name: tmp\n    test: ./...\n    module: {}\nmatrix:\n  goos: [linux]\n  goarch: [{}]\n  cgo: [\"0\"]\n{}run:\n  timeout: 600s\n",
        in_home.path().display(),
        in_tmp.path().display(),
        goarch.join(", "),
        if wine { "  include:\n    - {goos: windows, goarch: amd64}\n" } else { "" }
    );
    // A fresh GOCACHE, as on a new machine: the test's own `go build` then
    // misses the cache and must write it (read-only, it failed: "open
    // …/go-build/…-d: read-only file system"). Cold, each target's standard
    // library is built first: a minute under load, hence the timeout.
    let gocache = tempfile::tempdir().unwrap();
    let r = Test::new()
        .matrix(&yaml)
        .env("GOCACHE", gocache.path())
        .any_status()
        .run();
    let cells = r.cells("sees");
    assert_eq!(
        cells.len(),
        2 * (goarch.len() + usize::from(wine)),
        "{:?}",
        cells.keys()
    );
    for (id, c) in &cells {
        let failed: Vec<String> = c
            .tests
            .iter()
            .filter(|t| t.outcome != TestOutcome::Pass)
            .filter(|t| !(id.starts_with("windows/") && t.name == "TestRunsGoForItsTarget"))
            .map(|t| format!("{} {}: {}", t.name, t.outcome.as_str(), t.output))
            .collect();
        assert!(failed.is_empty(), "{id}:\n{}", failed.join("\n"));
        assert_eq!(c.outcome, Outcome::Pass, "{id}: {:?}", c.reason);
    }
    assert_eq!(r.code(), 0, "{}", r.stderr());
}

#[test]
fn a_package_with_no_files_for_a_target_is_not_on_it_and_one_only_for_a_target_is_tested_there() {
    if !common::require_tool("wine64", "the per-target listing test is left out") {
        return;
    }
    let test = |pkg: &str, tag: &str| {
        format!("{tag}package {pkg}\n\nimport \"testing\"\n\nfunc TestIsHere(t *testing.T) {{}}\n")
    };
    let r = Test::new()
        .file("go.mod", "module example.com/split\n\ngo 1.21\n")
        .file("winonly/w.go", "//go:build windows\n\npackage winonly\n")
        .file("winonly/w_test.go", test("winonly", "//go:build windows\n\n"))
        .file("unixonly/u.go", "//go:build unix\n\npackage unixonly\n")
        .file("unixonly/u_test.go", test("unixonly", "//go:build unix\n\n"))
        // Files everywhere, tests only on linux.
        .file("both/b.go", "package both\n")
        .file("both/b_linux_test.go", test("both", ""))
        .matrix(
            "name: split\nprobes:\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n  include:\n    - {goos: windows, goarch: amd64}\n",
        )
        .run();
    let cells = r.cells("split");
    let outcome = |id: &str| {
        cells
            .get(id)
            .unwrap_or_else(|| panic!("no cell {id} in {:?}", cells.keys()))
            .outcome
    };
    assert_eq!(outcome("linux/amd64/cgo0/unit/unixonly"), Outcome::Pass);
    assert_eq!(outcome("linux/amd64/cgo0/unit/both"), Outcome::Pass);
    assert_eq!(outcome("windows/amd64/cgo0/unit/winonly"), Outcome::Pass);
    for id in [
        "linux/amd64/cgo0/unit/winonly",
        "windows/amd64/cgo0/unit/unixonly",
    ] {
        let c = &cells[id];
        assert_eq!(c.outcome, Outcome::Skip, "{id}: {c:#?}");
        // Go's words, from `GOOS=… go list` of that package, with the path
        // from the module's root.
        let (dir, target) = (
            id.rsplit('/').next().unwrap(),
            id.rsplitn(3, '/').nth(2).unwrap(),
        );
        assert_eq!(
            c.reason.as_deref(),
            Some(
                format!("not on {target}: build constraints exclude all Go files in {dir}")
                    .as_str()
            ),
            "{id}"
        );
        assert!(
            c.phases.iter().all(|p| p.commands.is_empty()),
            "{id}: nothing is built: {c:#?}"
        );
    }
    // No test files on windows: as `go test` says, never a failure.
    let c = &cells["windows/amd64/cgo0/unit/both"];
    assert_eq!(c.outcome, Outcome::Skip, "{c:#?}");
    assert_eq!(
        c.reason.as_deref(),
        Some("no test files on windows/amd64/cgo0")
    );
    assert_eq!(cells.len(), 6, "{:?}", cells.keys());
    assert!(cells.values().all(|c| c.verdict.met), "{cells:#?}");
    // The one test of each package that is on a target ran there.
    for id in [
        "linux/amd64/cgo0/unit/unixonly",
        "linux/amd64/cgo0/unit/both",
        "windows/amd64/cgo0/unit/winonly",
    ] {
        assert_eq!(cells[id].tests.len(), 1, "{id}: {:#?}", cells[id]);
    }
}

/// A verbose test (compress's s2 and zstd print megabytes of short lines)
/// stays within the binary's output bound, while test2json's events for the
/// same lines are several times larger: they are the binary's output, not a
/// runaway, and the test passes as under `go test -json`.
#[test]
fn a_verbose_tests_events_are_not_a_runaway() {
    let r = Test::new()
        .file("go.mod", "module example.com/chatty\n\ngo 1.21\n")
        .file(
            "c/c_test.go",
            "package c\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestChatty(t *testing.T) {\n\tfor i := 0; i < 100000; i++ {\n\t\tfmt.Println(i)\n\t}\n}\n",
        )
        .matrix("name: chatty\nprobes:\n  - name: unit\n    test: ./c\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n")
        .run();
    let c = &r.cells("chatty")["linux/amd64/cgo0/unit/c"];
    assert_eq!(c.outcome, Outcome::Pass, "{:?}", c.reason);
    assert_eq!(c.tests[0].outcome, TestOutcome::Pass, "{:#?}", c.tests);
}
