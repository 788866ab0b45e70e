//! Real third-party modules against the plain loop (issue 22). Each module
//! is fetched at a pinned version from the module proxy, copied out of the
//! read-only module cache to where users keep modules (one under $HOME, one
//! under /tmp), and run twice on the same targets: as a Go developer types
//! it (`GOOS=… GOARCH=… CGO_ENABLED=0 go test -count=1 -json -exec … PATTERNS`)
//! and through crossprobe's `test:` probes. Every Go test's verdict, and
//! every package's, must be the same. Both use the user's own GOCACHE.
//!
//! The modules hold what breaks a harness that is not `go test`:
//! - github.com/cespare/xxhash/v2: amd64 and arm64 assembly; a test that
//!   runs `go test -gcflags=-m` and checks what the TARGET inlines (it
//!   fails on s390x under the loop); a package whose TestMain runs `go
//!   build -buildmode=plugin`; a package with no files on windows; a root
//!   package named `v2` by its path;
//! - github.com/klauspost/compress (./fse, ./zlib): tests that read
//!   `../testdata/…`; (./s2/cmd/internal/filepathx) tests that create
//!   directories in their package directory.
//!
//! crossprobe runs first, and the module's tree (paths and bytes) must be
//! the same after it.
//!
//! - `crossprobe init` in xxhash: a matrix named xxhash (not v2), its
//!   command built and inspected only (`run: false`), no probe for
//!   ./dynamic (tests only), whose run fails only where the module does.
//!
//! /work/team/realmods/realmods.py runs the same comparison on more modules
//! and targets (see FINDINGS.md there for what each one found).

use crate::common::{self, Test};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crossprobe::model::{CellResult, Outcome, Standing, TestOutcome};

/// linux amd64 and 386 natively (qemu-i386 breaks Go 386 binaries), s390x
/// (big-endian) under qemu-user: sized for 2 cores.
const TARGETS: &[(&str, &str, Option<&str>)] = &[
    ("linux", "amd64", None),
    ("linux", "386", None),
    ("linux", "s390x", Some("qemu-s390x")),
];

/// (target, import path, test name; "" for the package's own verdict).
type Key = (String, String, String);

enum Place {
    Home,
    Tmp,
}

struct Module {
    path: &'static str,
    version: &'static str,
    patterns: &'static [&'static str],
    place: Place,
    /// The fewest verdicts a comparison holds (tests and packages, all
    /// targets): a comparison of nothing proves nothing.
    min_verdicts: usize,
}

const XXHASH: Module = Module {
    path: "github.com/cespare/xxhash/v2",
    version: "v2.3.0",
    patterns: &["./..."],
    place: Place::Home,
    min_verdicts: 21,
};

const COMPRESS: Module = Module {
    path: "github.com/klauspost/compress",
    version: "v1.18.0",
    patterns: &["./fse", "./zlib"],
    place: Place::Tmp,
    min_verdicts: 21,
};

/// filepathx's tests create `./a/b/c.d/e.f` in their package directory
/// (and leave it): under the loop they pass; under crossprobe they pass
/// too, in the package directory's throw-away layer, and the tree stays
/// byte-identical.
const FILEPATHX: Module = Module {
    path: "github.com/klauspost/compress",
    version: "v1.18.0",
    patterns: &["./s2/cmd/internal/filepathx"],
    place: Place::Home,
    min_verdicts: 18,
};

#[test]
fn xxhash_under_home_gets_the_loops_verdict_for_every_test() {
    cross_check(&XXHASH);
}

#[test]
fn compress_under_tmp_gets_the_loops_verdict_for_every_test() {
    cross_check(&COMPRESS);
}

#[test]
fn compress_filepathx_writes_its_package_directory_and_the_tree_stays_the_same() {
    cross_check(&FILEPATHX);
}

fn cross_check(m: &Module) {
    if !common::require_tool("qemu-s390x", "the realmods cross-check is left out") {
        return;
    }
    let (_keep, root) = fetch(m);
    // crossprobe first: the loop may write into the tree.
    let before = tree(&root);
    let crossprobe_verdicts = crossprobe(m, &root);
    assert!(
        tree(&root) == before,
        "crossprobe changed {}: the tree must never change",
        root.display()
    );
    let mut loop_verdicts = BTreeMap::new();
    for (goos, goarch, exec) in TARGETS {
        loop_verdicts.extend(go_test_loop(&root, m.patterns, goos, goarch, *exec));
    }
    let mut differ = Vec::new();
    let keys: std::collections::BTreeSet<&Key> = loop_verdicts
        .keys()
        .chain(crossprobe_verdicts.keys())
        .collect();
    for k in keys {
        let (l, c) = (loop_verdicts.get(k), crossprobe_verdicts.get(k));
        if l != c {
            differ.push(format!(
                "{} {} {}: loop {}, crossprobe {}",
                k.0,
                k.1,
                if k.2.is_empty() { "(package)" } else { &k.2 },
                l.map_or("absent", String::as_str),
                c.map_or("absent", String::as_str),
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{}@{}: {} of {} verdicts differ from the loop's:\n{}",
        m.path,
        m.version,
        differ.len(),
        loop_verdicts.len(),
        differ
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(loop_verdicts.len() >= m.min_verdicts, "{loop_verdicts:?}");
}

/// Every path under `root`, with each file's bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            match e.file_type().unwrap().is_dir() {
                true => {
                    dirs.push(p.clone());
                    out.insert(p, Vec::new());
                }
                false => {
                    out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
                }
            }
        }
    }
    out
}

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
        Place::Tmp => PathBuf::from("/tmp"),
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

/// The loop on one target: each test's and each package's verdict.
fn go_test_loop(
    root: &Path,
    patterns: &[&str],
    goos: &str,
    goarch: &str,
    exec: Option<&str>,
) -> BTreeMap<Key, String> {
    let mut c = Command::new("go");
    c.args(["test", "-count=1", "-json"]);
    if let Some(e) = exec {
        c.args(["-exec", e]);
    }
    c.args(patterns)
        .current_dir(root)
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .env("CGO_ENABLED", "0");
    let out = c.output().expect("go runs");
    loop_verdicts(
        &format!("{goos}/{goarch}"),
        &String::from_utf8_lossy(&out.stdout),
    )
}

/// `go test -json`'s events as verdicts. A test that started and never
/// ended failed (its binary died); a package with no test files is left
/// out, as crossprobe makes no cell of it.
fn loop_verdicts(target: &str, events: &str) -> BTreeMap<Key, String> {
    let mut v: BTreeMap<Key, String> = BTreeMap::new();
    let mut no_tests = Vec::new();
    for line in events.lines() {
        let Ok(ev) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let s = |k: &str| ev[k].as_str().unwrap_or("").to_string();
        let (action, test) = (s("Action"), s("Test"));
        if action == "build-fail" {
            let pkg = s("ImportPath");
            let pkg = pkg.split(' ').next().unwrap_or("").to_string();
            v.insert((target.into(), pkg, String::new()), "build-fail".into());
            continue;
        }
        let key = (target.to_string(), s("Package"), test.clone());
        match action.as_str() {
            "run" => {
                v.entry(key).or_insert_with(|| "fail".into());
            }
            "output" if test.is_empty() && s("Output").contains("[no test files]") => {
                no_tests.push(s("Package"))
            }
            "pass" | "fail" | "skip" => {
                let failed_build = ev["FailedBuild"].as_str().is_some();
                let old = v.get(&key).map(String::as_str);
                if test.is_empty() && (failed_build || old == Some("build-fail")) {
                    v.insert(key, "build-fail".into());
                } else {
                    v.insert(key, action);
                }
            }
            _ => {}
        }
    }
    v.retain(|(_, p, _), _| !no_tests.contains(p));
    v
}

/// crossprobe on the same targets, one `test:` probe per pattern, the
/// matrix outside the module (`module:` names it): each test's verdict,
/// and each cell's as its package's.
fn crossprobe(m: &Module, root: &Path) -> BTreeMap<Key, String> {
    let linux: Vec<String> = TARGETS.iter().map(|(_, a, _)| format!("\"{a}\"")).collect();
    let mut yaml = String::from("name: realmods\nprobes:\n");
    for (i, p) in m.patterns.iter().enumerate() {
        yaml.push_str(&format!(
            "  - name: unit{i}\n    test: {p}\n    module: {}\n",
            root.display()
        ));
    }
    yaml.push_str(&format!(
        "matrix:\n  goos: [linux]\n  goarch: [{}]\n  cgo: [\"0\"]\nrun:\n  timeout: 10m\n",
        linux.join(", ")
    ));
    let r = Test::new()
        .matrix(&yaml)
        .args(["run", "matrix.yaml", "-j2"])
        .any_status()
        .run();
    let mut v = BTreeMap::new();
    for c in r.results("realmods").cells {
        let target = format!("{}/{}", c.cell.goos, c.cell.goarch);
        let Some(pkg) = import_path(m, root, &c) else {
            continue;
        };
        v.insert(
            (target.clone(), pkg.clone(), String::new()),
            cell_verdict(&c),
        );
        for t in &c.tests {
            let o = match t.outcome {
                TestOutcome::Pass => "pass",
                TestOutcome::Fail => "fail",
                TestOutcome::Skip => "skip",
            };
            v.insert((target.clone(), pkg.clone(), t.name.clone()), o.into());
        }
    }
    v
}

/// A cell's package verdict in the loop's words; a package that is not on
/// the cell's target (a skip) is absent, as the loop leaves it out.
fn cell_verdict(c: &CellResult) -> String {
    match c.outcome {
        Outcome::Pass => "pass",
        Outcome::BuildFail => "build-fail",
        Outcome::RunFail | Outcome::Timeout | Outcome::Interrupted => "fail",
        Outcome::Skip => "skip",
    }
    .into()
}

/// The import path of a cell's package: its tests say it; a cell with no
/// tests is named by the package's directory under the module root.
fn import_path(m: &Module, root: &Path, c: &CellResult) -> Option<String> {
    if c.outcome == Outcome::Skip {
        return None;
    }
    if let Some(t) = c.tests.first() {
        return Some(t.package.clone());
    }
    let id = &c.cell.package;
    Some(match root.join(id).is_dir() {
        true => format!("{}/{id}", m.path),
        false => m.path.to_string(),
    })
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
    // Sandboxed, as a user runs it: TestInlining's `go test -gcflags=-m`
    // needs the user's build cache, which the module profile shows it.
    let r = Test::at(&root)
        .args([
            "run",
            "crossprobe.yaml",
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
