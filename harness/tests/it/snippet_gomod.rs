//! Snippets that bring their own go.mod and go.sum: used as given, go.sum
//! completed from the module proxy, kept in the repro bundle, and replayed
//! offline. The shipped mattn/go-sqlite3 report is the real case.

use crate::common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const SQLITE_MD: &str = "matrices/repro/sqlite3-cgo-off-stub.md";
const STUB: &str =
    "Binary was compiled with 'CGO_ENABLED=0', go-sqlite3 requires cgo to work. This is a stub";

fn run_stdout(cell: &Value) -> String {
    common::phase_commands(cell, "run")
        .iter()
        .map(|c| c["stdout"]["text"].as_str().unwrap_or("").to_string())
        .collect()
}

fn build_exit(cell: &Value) -> Value {
    common::phase_commands(cell, "build")
        .last()
        .map(|c| c["exit"].clone())
        .unwrap_or(Value::Null)
}

/// The one cgo compile of sqlite3.c for arm64 in the suite (minutes cold,
/// seconds once GOCACHE has it).
#[test]
fn sqlite3_with_cgo_off_is_the_stub_under_qemu_and_with_cgo_on_builds_and_runs() {
    let md = common::repo().join(SQLITE_MD);
    let dir = tempfile::tempdir().unwrap();
    let out = common::cmd(
        dir.path(),
        &["repro", md.to_str().unwrap(), "--out", "reports"],
    )
    .output()
    .unwrap();
    let run = common::Run { dir, out };
    let stdout = run.stdout();
    let all = format!("stdout:\n{stdout}\nstderr:\n{}", run.stderr());
    assert_eq!(run.code(), 0, "{all}");
    let cells = run.cells("sqlite3-cgo-off-stub");

    let off = &cells["linux/arm64/cgo0/sqlite"];
    assert_eq!(off["outcome"], "run-fail", "{all}");
    assert_eq!(off["verdict"]["met"], true, "{all}");
    assert_eq!(off["cell"]["runner"]["kind"], "qemu", "{all}");
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
    assert_eq!(on["outcome"], "pass", "{all}");
    assert_eq!(build_exit(on)["code"], 0, "{all}");
    assert_eq!(on["facts"]["cc.argv"][0], "aarch64-linux-gnu-gcc", "{all}");
    assert_eq!(on["facts"]["cgo.binary"], "1", "{all}");
    assert_eq!(
        on["facts"]["buildinfo.deps"][0], "github.com/mattn/go-sqlite3@v1.14.28",
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

fn go_env(dir: &Path, modcache: &Path) -> Vec<(String, String)> {
    vec![
        ("GOMODCACHE".into(), modcache.display().to_string()),
        ("GOPATH".into(), dir.join("gopath").display().to_string()),
    ]
}

/// Module caches are written read-only: make them removable again.
fn writable(dir: &Path) {
    let _ = Command::new("chmod").arg("-R").arg("u+w").arg(dir).status();
}

#[test]
fn a_missing_go_sum_is_completed_and_the_bundle_replays_offline() {
    let dir = tempfile::tempdir().unwrap();
    let modcache = dir.path().join("modcache");
    let snippet = dir.path().join("bug.yaml");
    std::fs::write(&snippet, NO_GO_SUM).unwrap();
    let out = common::cmd(dir.path(), &["repro", "bug.yaml", "--out", "reports"])
        .envs(go_env(dir.path(), &modcache))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(stdout.contains("reproduced: run-fail"), "{all}");
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
    writable(&modcache);
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
    std::fs::write(dir.path().join("matrix.yaml"), yaml).unwrap();
    let out = common::cmd(dir.path(), &["run", "matrix.yaml"])
        .envs(go_env(dir.path(), &modcache))
        .env("GOPROXY", "off")
        .output()
        .unwrap();
    writable(&modcache);
    let run = common::Run { dir, out };
    let stderr = run.stderr();
    assert_eq!(run.code(), 1, "{stderr}");
    // Go's words on the cell, and why in crossprobe's warning.
    assert!(
        stderr.contains(
            "warning: nomodule: probe p: cannot complete its go.sum: `go mod tidy` said:"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("example.invalid/nope: module lookup disabled by GOPROXY=off"),
        "{stderr}"
    );
    let cell = &run.cells("nomodule")["linux/amd64/cgo0/p"];
    assert_eq!(cell["outcome"], "build-fail", "{stderr}");
    assert!(
        cell["reason"]
            .as_str()
            .unwrap()
            .contains("missing go.sum entry for module providing package example.invalid/nope"),
        "{cell}"
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
        let r = common::run_yaml(&yaml, &["run", "@"]);
        assert_eq!(r.code(), 2, "{}", r.stderr());
        assert!(!r.dir.path().join("reports").exists());
        insta::assert_snapshot!(name, r.stderr());
    }
}
