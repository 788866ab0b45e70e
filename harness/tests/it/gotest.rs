//! `test:` probes run as `GOOS=… GOARCH=… go test -exec …` would run them
//! (issue 22), on small modules written here; tests/it/realmods.rs holds
//! the same promises against real third-party modules.
//!
//! - a test sees its target's GOOS/GOARCH/CGO_ENABLED, as the loop exports
//!   them, and a `go` it runs answers for that target;
//! - a failing test's message is its assertion, not its first line.

use crate::common::{self, Test};

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
