//! Real third-party modules from the module proxy (issue 22): what
//! crossprobe says of code nobody here wrote.
//!
//! - `crossprobe init` in github.com/cespare/xxhash/v2 v2.3.0: a root
//!   package named `v2` by its path, a command (./xxhsum) whose arguments
//!   only its author knows, and a directory (./dynamic) whose only
//!   `package main` files are tests and a `//go:build ignore`d plugin.
//!
//! /work/team/realmods/realmods.py compares crossprobe with the plain
//! `go test` loop on more modules and targets (FINDINGS.md there).

use crate::common::Test;

use std::path::PathBuf;
use std::process::Command;

use crossprobe::model::{Outcome, Standing};

enum Place {
    Home,
}

struct Module {
    path: &'static str,
    version: &'static str,
    place: Place,
}

const XXHASH: Module = Module {
    path: "github.com/cespare/xxhash/v2",
    version: "v2.3.0",
    place: Place::Home,
};

/// The module from the proxy, copied where `m.place` says, writable as a
/// checkout is. The first value keeps the directory alive.
fn fetch(m: &Module) -> (tempfile::TempDir, PathBuf) {
    let at = format!("{}@{}", m.path, m.version);
    let out = Command::new("go")
        .args(["mod", "download", "-json", &at])
        .output()
        .expect("go runs");
    assert!(
        out.status.success(),
        "go mod download {at} failed: the module proxy must be reachable \
         (CI reaches it):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cached = PathBuf::from(info["Dir"].as_str().expect("go mod download names a Dir"));
    let parent = match m.place {
        Place::Home => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")),
    };
    let keep = tempfile::Builder::new()
        .prefix("crossprobe-realmods-")
        .tempdir_in(&parent)
        .unwrap();
    let root = keep.path().join(m.path.rsplit('/').next().unwrap());
    for argv in [
        vec!["cp", "-r", cached.to_str().unwrap(), root.to_str().unwrap()],
        vec!["chmod", "-R", "u+w", root.to_str().unwrap()],
    ] {
        let s = Command::new(argv[0]).args(&argv[1..]).status().unwrap();
        assert!(s.success(), "{argv:?}");
    }
    (keep, root)
}

/// `crossprobe init` in a real module writes a matrix named after the
/// module (not its major-version suffix), with `package:` probes only for
/// commands that build, each built and inspected but not run (`run:
/// false`: its arguments are its author's to give), which runs without
/// editing and whose only failures are the module's own: on linux/amd64
/// with cgo off, ./dynamic's TestMain cannot build its plugin
/// (`-buildmode=plugin requires external (cgo) linking`), as under the
/// loop.
#[test]
fn init_in_xxhash_writes_a_matrix_whose_only_failures_are_the_modules_own() {
    let (_keep, root) = fetch(&XXHASH);
    Test::at(&root).args(["init"]).run();
    let yaml = std::fs::read_to_string(root.join("crossprobe.yaml")).unwrap();
    assert!(yaml.contains("\nname: xxhash\n"), "{yaml}");
    assert!(
        yaml.contains("package: ./xxhsum\n    # To run it too"),
        "{yaml}"
    );
    assert!(yaml.contains("    run: false\n"), "{yaml}");
    assert!(
        !yaml.contains("package: ./dynamic"),
        "./dynamic holds only test files and an ignored plugin.go:\n{yaml}"
    );
    Test::at(&root).args(["plan", "crossprobe.yaml"]).run();
    let out = tempfile::tempdir().unwrap();
    // TestInlining runs `go test -gcflags=-m`: inside the sandbox its `go`
    // finds no build cache until the sandbox's module profile binds the
    // user's (SANDBOX-NEEDS.md §2); the same run sandboxed is on the
    // `realmods` branch until then.
    let r = Test::at(&root)
        .args([
            "run",
            "crossprobe.yaml",
            "--no-sandbox",
            "--filter",
            "linux/amd64/*",
            "--out",
            out.path().to_str().unwrap(),
        ])
        .any_status()
        .run();
    let results = r.results("xxhash");
    let failing: Vec<(String, String)> = results
        .cells
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::Skip))
        .map(|c| (c.cell.id.clone(), c.reason.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        failing
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        ["linux/amd64/cgo0/unit/dynamic"],
        "{failing:#?}\n{}",
        r.stderr()
    );
    assert!(
        failing[0].1.contains("requires external (cgo) linking"),
        "{failing:#?}"
    );
    let cells = r.cells("xxhash");
    // The root package is xxhash, not v2.
    assert_eq!(
        cells["linux/amd64/cgo0/unit/xxhash"].outcome,
        Outcome::Pass,
        "{:#?}",
        cells.keys()
    );
    let xxhsum = &cells["linux/amd64/cgo0/xxhsum"];
    assert_eq!(xxhsum.standing(), Standing::BuiltNotRun, "{xxhsum:#?}");
}
