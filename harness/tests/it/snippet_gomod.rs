//! Snippets that bring their own go.mod and go.sum: used as given, go.sum
//! completed from the module proxy, kept in the repro bundle, and replayed
//! offline. The shipped mattn/go-sqlite3 report is the real case.

use crate::common::{self, CellExt, Test};

use std::path::{Path, PathBuf};
use std::process::Command;

use crossprobe::model::{CellResult, Exit, Outcome, PhaseName, RunnerKind};

const SQLITE_MD: &str = "matrices/repro/sqlite3-cgo-off-stub.md";
const STUB: &str =
    "Binary was compiled with 'CGO_ENABLED=0', go-sqlite3 requires cgo to work. This is a stub";

fn run_stdout(cell: &CellResult) -> String {
    cell.commands_of(PhaseName::Run)
        .iter()
        .map(|c| c.stdout.text.as_str())
        .collect()
}

fn build_exit(cell: &CellResult) -> Option<Exit> {
    cell.commands_of(PhaseName::Build)
        .last()
        .map(|c| c.exit.clone())
}

/// The one cgo compile of sqlite3.c for arm64 in the suite (minutes cold,
/// seconds once GOCACHE has it).
#[test]
fn sqlite3_with_cgo_off_is_the_stub_under_qemu_and_with_cgo_on_builds_and_runs() {
    let md = common::repo().join(SQLITE_MD);
    let run = Test::new()
        .arg("repro")
        .arg(&md)
        .args(["--out", "reports"])
        .run();
    let stdout = run.stdout();
    let all = format!("stdout:\n{stdout}\nstderr:\n{}", run.stderr());
    let cells = run.cells("sqlite3-cgo-off-stub");

    let off = &cells["linux/arm64/cgo0/sqlite"];
    assert_eq!(off.outcome, Outcome::RunFail, "{all}");
    assert!(off.verdict.met, "{all}");
    assert_eq!(off.cell.runner.kind(), RunnerKind::Qemu, "{all}");
    assert!(run_stdout(off).contains(STUB), "{all}");
    assert!(stdout.contains("reproduced: run-fail"), "{all}");
    // A complete go.sum is kept as given, byte for byte, in the bundle too.
    let md_text = std::fs::read_to_string(&md).unwrap();
    let bundle = run
        .reports("sqlite3-cgo-off-stub")
        .join("linux_arm64_cgo0_sqlite");
    let go_sum = std::fs::read_to_string(bundle.join("src/go.sum")).unwrap();
    for line in go_sum.lines() {
        assert!(md_text.contains(&format!("        {line}\n")), "{line}");
    }
    assert_eq!(go_sum.lines().count(), 2, "{go_sum}");

    let on = &cells["linux/arm64/cgo1/sqlite"];
    assert_eq!(on.outcome, Outcome::Pass, "{all}");
    assert_eq!(build_exit(on).and_then(|e| e.code), Some(0), "{all}");
    assert_eq!(on.fact("cc.argv")[0], "aarch64-linux-gnu-gcc", "{all}");
    assert_eq!(on.fact("cgo.binary"), "1", "{all}");
    assert_eq!(
        on.fact("buildinfo.deps")[0],
        "github.com/mattn/go-sqlite3@v1.14.28",
        "{all}"
    );
    assert!(
        run_stdout(on).lines().any(|l| l.starts_with("sqlite 3.")),
        "{all}"
    );
}

/// The stub, shorthand for one cell, with a go.mod and no go.sum.
const NO_GO_SUM: &str = r#"name: sqlite3-no-go-sum
goos: linux
goarch: arm64
cgo: 0
expect:
  outcome: run-fail
  match: "This is a stub"
source: |
  package main

  import (
  	"database/sql"
  	"fmt"
  	"os"

  	_ "github.com/mattn/go-sqlite3"
  )

  func main() {
  	db, _ := sql.Open("sqlite3", ":memory:")
  	if err := db.Ping(); err != nil {
  		fmt.Println(err)
  		os.Exit(1)
  	}
  }
files:
  go.mod: |
    module example.com/sqlitebug

    go 1.22

    require github.com/mattn/go-sqlite3 v1.14.28
"#;

fn go_env(dir: &Path, modcache: &Path) -> [(&'static str, PathBuf); 2] {
    [
        ("GOMODCACHE", modcache.to_path_buf()),
        ("GOPATH", dir.join("gopath")),
    ]
}

/// Module caches are written read-only: this makes one removable again
/// when it goes, whether the test passed or not.
struct Writable<'a>(&'a Path);

impl Drop for Writable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(self.0)
            .status();
    }
}

#[test]
fn a_missing_go_sum_is_completed_and_the_bundle_replays_offline() {
    let dir = tempfile::tempdir().unwrap();
    let modcache = dir.path().join("modcache");
    let _writable = Writable(&modcache);
    let snippet = dir.path().join("bug.yaml");
    Test::at(dir.path())
        .file("bug.yaml", NO_GO_SUM)
        .args(["repro", "bug.yaml", "--out", "reports"])
        .envs(go_env(dir.path(), &modcache))
        .stdout_contains("reproduced: run-fail")
        .run();
    // The user's file is as it was.
    assert_eq!(std::fs::read_to_string(&snippet).unwrap(), NO_GO_SUM);

    let bundle = dir
        .path()
        .join("reports/sqlite3-no-go-sum/linux_arm64_cgo0_snippet");
    let go_mod = std::fs::read_to_string(bundle.join("src/go.mod")).unwrap();
    assert_eq!(
        go_mod,
        "module example.com/sqlitebug\n\ngo 1.22\n\nrequire github.com/mattn/go-sqlite3 v1.14.28\n"
    );
    let go_sum = std::fs::read_to_string(bundle.join("src/go.sum")).unwrap();
    assert_eq!(
        go_sum,
        "github.com/mattn/go-sqlite3 v1.14.28 h1:ThEiQrnbtumT+QMknw63Befp/ce/nUPgBPMlRFEum7A=\n\
         github.com/mattn/go-sqlite3 v1.14.28/go.mod h1:Uh1q+B4BYcTPb+yiD3kU8Ct7aC0hY9fxUwlHK0RXw+Y=\n"
    );

    // No proxy now: the module cache crossprobe filled is all replay.sh has.
    let replay = Command::new("sh")
        .arg(bundle.join("replay.sh"))
        .envs(go_env(dir.path(), &modcache))
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .output()
        .unwrap();
    let r_out = String::from_utf8_lossy(&replay.stdout);
    let r_err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(0), "{r_out}\n{r_err}");
    assert!(r_out.contains(STUB), "{r_out}\n{r_err}");
    assert!(
        r_out.contains("replay: run-fail, as crossprobe saw"),
        "{r_out}\n{r_err}"
    );
}

#[test]
fn a_go_mod_requiring_a_module_that_does_not_exist_fails_in_go_s_words() {
    let dir = tempfile::tempdir().unwrap();
    let modcache = dir.path().join("modcache");
    let _writable = Writable(&modcache);
    let yaml = r#"name: nomodule
probes:
  - name: p
    source: |
      package main

      import _ "example.invalid/nope"

      func main() {}
    files:
      go.mod: |
        module example.com/bug

        go 1.22

        require example.invalid/nope v1.0.0
matrix:
  goos: [linux]
  goarch: [amd64]
"#;
    // Go's words on the cell, and why in crossprobe's warning.
    let run = Test::at(dir.path())
        .matrix(yaml)
        .envs(go_env(dir.path(), &modcache))
        .env("GOPROXY", "off")
        .failure()
        .stderr_contains(
            "warning: nomodule: probe p: cannot complete its go.sum: `go mod tidy` said:",
        )
        .stderr_contains("example.invalid/nope: module lookup disabled by GOPROXY=off")
        .run();
    let stderr = run.stderr();
    let cell = &run.cells("nomodule")["linux/amd64/cgo0/p"];
    assert_eq!(cell.outcome, Outcome::BuildFail, "{stderr}");
    assert!(
        cell.reason
            .as_deref()
            .unwrap()
            .contains("missing go.sum entry for module providing package example.invalid/nope"),
        "{cell:#?}"
    );
}

#[test]
fn bad_files_of_an_inline_probe_are_refused_with_a_hint() {
    for (name, files) in [
        ("bad_name", "../go.mod: x"),
        ("replaces_source", "main.go: x"),
    ] {
        let yaml = format!(
            "probes:\n  - name: p\n    source: |\n      package main\n      func main() {{}}\n    files:\n      {files}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n"
        );
        let e = Test::new().matrix(&yaml).refuse();
        insta::assert_snapshot!(name, e);
    }
}
