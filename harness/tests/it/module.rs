//! The user's own module as probes (`package:`, `test:`, `source:` with
//! `module:`), with the real go, qemu and wine: the example module reports
//! exactly its bugs, each Go test is a JUnit testcase, the user's tree is
//! never written, the result cache follows the module's content, and
//! `crossprobe init` writes a matrix that runs.

use crate::common::{self, CellExt, Test};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crossprobe::model::{CellResult, Outcome, PhaseName, Standing, TestOutcome};

fn example() -> PathBuf {
    common::repo().join("examples/portable")
}

/// Every file under `dir` with its bytes, so that "unchanged" is exact.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn tests_of(cell: &CellResult) -> BTreeMap<&str, TestOutcome> {
    cell.tests
        .iter()
        .map(|t| (t.name.as_str(), t.outcome))
        .collect()
}

#[test]
fn the_example_module_reports_exactly_its_bugs() {
    let before = tree(&example());
    let out = tempfile::tempdir().unwrap();
    let reports = out.path().join("reports");
    let r = Test::at(example())
        .args(["run", "crossprobe.yaml", "--out"])
        .arg(&reports)
        .run();
    assert_eq!(
        tree(&example()),
        before,
        "the run wrote into the module's tree"
    );

    let results = r.results("portable");
    let cells: BTreeMap<&str, &CellResult> = results
        .cells
        .iter()
        .map(|c| (c.cell.id.as_str(), c))
        .collect();
    // One cell per package with tests and target, one per command and target.
    assert_eq!(cells.len(), 4 * 4 + 4, "{:?}", cells.keys());
    let not_pass: BTreeMap<&str, Outcome> = cells
        .iter()
        .filter(|(_, c)| c.outcome != Outcome::Pass)
        .map(|(id, c)| (*id, c.outcome))
        .collect();
    assert_eq!(
        not_pass,
        BTreeMap::from([
            ("linux/386/cgo0/unit/limits", Outcome::BuildFail),
            ("linux/386/cgo0/unit/sizes", Outcome::RunFail),
            ("linux/s390x/cgo0/unit/wire", Outcome::RunFail),
        ])
    );
    assert!(cells.values().all(|c| c.verdict.met));

    // The failures are the tests the bugs break, and only those.
    let sizes = tests_of(cells["linux/386/cgo0/unit/sizes"]);
    let failed: Vec<&str> = sizes
        .iter()
        .filter(|(_, o)| **o == TestOutcome::Fail)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        failed,
        ["TestIntIs64Bits", "TestOffset", "TestOffset/large"]
    );
    assert_eq!(sizes["TestOffset/small"], TestOutcome::Pass);
    assert_eq!(
        tests_of(cells["linux/amd64/cgo0/unit/sizes"])["TestOffset/large"],
        TestOutcome::Pass
    );
    assert_eq!(
        tests_of(cells["linux/s390x/cgo0/unit/wire"])["TestLengthIsLittleEndian"],
        TestOutcome::Fail
    );
    assert!(cells["linux/386/cgo0/unit/limits"]
        .reason
        .as_deref()
        .unwrap()
        .contains(
            "(untyped int constant 4294967296) as int value in variable declaration (overflows)"
        ));
    // Tests run in their package's directory (testdata/), under wine too,
    // and the Windows skip is a skip with its message.
    let win = cells["windows/amd64/cgo0/unit/files"];
    assert_eq!(tests_of(win)["TestReadsTestdata"], TestOutcome::Pass);
    assert_eq!(tests_of(win)["TestUnixPermissions"], TestOutcome::Skip);
    assert_eq!(
        tests_of(cells["linux/s390x/cgo0/unit/files"])["TestUnixPermissions"],
        TestOutcome::Pass
    );
    // The command ran with its args; the byte-order bug shows in its output.
    let cli = &cells["linux/s390x/cgo0/cli"].commands_of(PhaseName::Run)[0]
        .stdout
        .text;
    assert!(cli.contains("hello from linux/s390x"), "{cli}");

    // The page of a module: rows are its packages and Go tests by name,
    // columns its targets; cgo never varies, so it is the line under the
    // title, not a header.
    let page = reports.join("portable/report.html");
    let d = crate::html::dom(&page, "");
    for row in [
        ">unit</th>",
        ">sizes</th>",
        ">TestOffset/large</th>",
        ">limits</th>",
        ">cli</th>",
    ] {
        assert!(crate::html::grid(&d).contains(row), "no row {row}");
    }
    assert!(d.contains(">31 Go tests and 5 cells<"), "the count");
    assert_eq!(crate::html::squares(&d, ""), 36);
    assert_eq!(
        crate::html::squares(&d, "xfail"),
        5,
        "4 tests and limits on 386"
    );
    assert!(!d.contains(">cgo0</th>"), "no header for what never varies");
    assert!(d.contains(r#"<p id="fixed">Every cell: <span title="cgo"><b>cgo0</b></span></p>"#));
    let shot = crate::html::screenshot(&page, "", "report-module.png", "1200,800");
    eprintln!("screenshot: {}", shot.display());

    // A failing test is one click from its message: its own square, or
    // its cell's square, where the tests that did not pass are open.
    let sizes_id = "linux/386/cgo0/unit/sizes";
    let wrapped = "sizes_test.go:22: Offset(1073741824, 1073741824) = -2147483648: it wrapped";
    let fragment = format!(
        "{}&test=TestOffset/large",
        crate::html::fragment_for(sizes_id)
    );
    let d = crate::html::dom(&page, &fragment);
    let pop = &d[d.find("id=\"popover\"").unwrap()..];
    assert!(pop.contains("<h2>TestOffset/large</h2>"), "{pop}");
    assert!(pop.contains(wrapped), "{pop}");
    let shot = crate::html::screenshot(&page, &fragment, "report-module-test.png", "1200,800");
    eprintln!("screenshot: {}", shot.display());
    let d = crate::html::dom(&page, &crate::html::fragment_for(sizes_id));
    let pop = &d[d.find("id=\"popover\"").unwrap()..];
    assert!(pop.contains(&format!("<h2>{sizes_id}</h2>")), "{pop}");
    let n = |o: TestOutcome| sizes.values().filter(|v| **v == o).count();
    let counts = format!(
        "<dd>{} passed, 3 failed, {} skipped</dd>",
        n(TestOutcome::Pass),
        n(TestOutcome::Skip)
    );
    assert!(pop.contains(&counts), "no {counts} in {pop}");
    assert!(pop.contains("Tests that did not pass (3)"), "{pop}");
    assert!(
        pop.contains(&format!(
            "<details class=\"test\" open=\"\"><summary><span class=\"badge s-xfail\">expected failure</span>TestOffset/large: fail as expected (1&lt;&lt;30 + 1&lt;&lt;30 wraps where int is 32 bits)</summary><pre class=\"test-output\">    {wrapped}"
        )),
        "{pop}"
    );

    // Package as a column, asked for: the rows are then the targets.
    let by_package = out.path().join("by-package.html");
    Test::at(out.path())
        .args(["report", "html"])
        .arg(reports.join("portable/results.json"))
        .args(["--cols", "probe,package", "--out"])
        .arg(&by_package)
        .run();
    let d = crate::html::dom(&by_package, "");
    let grid = crate::html::grid(&d);
    for th in [
        ">sizes</th>",
        ">wire</th>",
        ">linux/386</th>",
        ">windows/amd64</th>",
    ] {
        assert!(grid.contains(th), "no {th} in {grid}");
    }
    assert_eq!(crate::html::squares(&d, ""), 20, "one square a cell");
    let shot = crate::html::screenshot(&by_package, "", "report-module-by-package.png", "1200,600");
    eprintln!("screenshot: {}", shot.display());

    // `report diff`: a Go test that newly fails, not as expected, inside a
    // cell that already failed in BASE is a regression. BASE: the sizes cell
    // already failed (TestIntIs64Bits, as if no expectation covered it),
    // while TestOffset and TestOffset/large passed. HEAD: this run, as if
    // TestOffset/large's expectation were gone too.
    let unexpected = |c: &mut CellResult, names: &[&str]| {
        c.verdict.met = false;
        for t in c
            .tests
            .iter_mut()
            .filter(|t| names.contains(&t.name.as_str()))
        {
            t.met = false;
            t.message.clear();
        }
    };
    let (mut base, mut head) = (results.clone(), results.clone());
    for c in base.cells.iter_mut().filter(|c| c.cell.id == sizes_id) {
        assert!(!c.tests.is_empty(), "{c:#?}");
        unexpected(c, &["TestIntIs64Bits"]);
        for t in &mut c.tests {
            if t.name.starts_with("TestOffset") {
                t.outcome = TestOutcome::Pass;
            }
        }
    }
    for c in head.cells.iter_mut().filter(|c| c.cell.id == sizes_id) {
        unexpected(c, &["TestIntIs64Bits", "TestOffset", "TestOffset/large"]);
    }
    for (name, run) in [("base.json", &base), ("head.json", &head)] {
        std::fs::write(out.path().join(name), serde_json::to_string(run).unwrap()).unwrap();
    }
    let regression = "[regression (its cell already failed)]";
    let diff = ["TestOffset", "TestOffset/large"]
        .iter()
        .fold(Test::at(out.path()), |t, name| {
            t.stdout_contains(format!(
                "  {name} in example.com/portable/sizes on {sizes_id}  pass → fail  {regression}"
            ))
        })
        .stdout_contains(
            "2 regressions: 0 newly failing, 2 newly failing tests (2 in cells already failing)",
        )
        .args(["report", "diff", "base.json", "head.json"])
        // The cell failed in BASE too, yet its new failures exit 1.
        .failure()
        .run();
    let text = diff.stdout();
    assert!(
        !text.contains("TestIntIs64Bits in"),
        "failed in BASE too: {text}"
    );
    assert!(!text.contains("TestOffset/small in"), "{text}");
    Test::at(out.path())
        .stdout_contains(format!(
            "| `TestOffset/large` | example.com/portable/sizes | `{sizes_id}` | portable | pass | regression (its cell already failed) | sizes_test.go:22:"
        ))
        .args(["report", "diff", "base.json", "head.json", "--markdown"])
        .failure()
        .run();
    // The same on the page: the newly failing tests, and their squares
    // ringed.
    let diffed = out.path().join("diffed.html");
    Test::at(out.path())
        .args([
            "report",
            "html",
            "head.json",
            "--diff",
            "base.json",
            "--out",
        ])
        .arg(&diffed)
        .run();
    let d = crate::html::dom(&diffed, "");
    assert!(
        d.contains(&format!(
            "data-test=\"TestOffset/large\">TestOffset/large in example.com/portable/sizes on {sizes_id}</a> pass → fail <span class=\"change\">{regression} </span>"
        )),
        "{d}"
    );
    assert_eq!(crate::html::grid(&d).matches(" chg\"").count(), 2, "{d}");

    let junit_path = reports.join("portable/junit.xml");
    common::validate_junit(&junit_path);
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    for case in [
        r#"<testcase name="cgo0/unit/sizes/TestOffset/large" classname="crossprobe.portable.linux.386""#,
        r#"<testcase name="cgo0/unit/files/TestUnixPermissions" classname="crossprobe.portable.windows.amd64""#,
        // The package whose test binary did not build is one testcase.
        r#"<testcase name="cgo0/unit/limits" classname="crossprobe.portable.linux.386""#,
    ] {
        assert!(junit.contains(case), "no {case} in\n{junit}");
    }
    assert!(
        junit.contains(
            r#"<skipped message="files_test.go:21: windows has no unix permission bits" type="skip"/>"#
        ),
        "{junit}"
    );
}

/// A module outside the repository, and a matrix beside it (not in it) with
/// one probe of each kind.
fn module_with_matrix(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("portable");
    copy_tree(&example(), &module);
    std::fs::remove_file(module.join("crossprobe.yaml")).unwrap();
    let matrix = format!(
        r#"name: kinds
probes:
  - name: unit
    module: portable
    test: ./wire
  - name: cli
    module: portable
    package: ./cmd/portable
    args: [-greet, hey]
    env: {{GREETING: x}}
  - name: smoke
    module: portable
    source: |
      package main

      import (
          "fmt"

          "example.com/portable/sizes"
      )

      func main() {{ fmt.Println("int bits:", sizes.IntBits()) }}
matrix:
  goos: [linux]
  goarch: [amd64]
{extra}"#
    );
    std::fs::write(dir.path().join("matrix.yaml"), matrix).unwrap();
    (dir, module)
}

#[test]
fn every_probe_kind_leaves_the_tree_unchanged_and_the_cache_follows_the_module() {
    let (dir, module) = module_with_matrix("");
    let before = tree(&module);
    let xdg = dir.path().join("xdg");
    // The result cache of its own, the user's warm GOCACHE (whose default
    // would move with XDG_CACHE_HOME).
    let run = || {
        Test::at(dir.path())
            .args(["run", "matrix.yaml", "--out", "reports"])
            .result_cache(&xdg)
            .run()
            .cells("kinds")
    };
    let first = run();
    assert_eq!(tree(&module), before, "a run wrote into the module's tree");
    let smoke = &first["linux/amd64/cgo0/smoke"];
    assert!(
        smoke
            .commands()
            .any(|(_, c)| c.stdout.text.contains("int bits: 64")),
        "{smoke:#?}"
    );
    // The per-probe env and the user's module settings reach their steps.
    let cli = &first["linux/amd64/cgo0/cli"];
    let set = |var: &str, value: &str| {
        cli.commands()
            .any(|(_, c)| c.env.get(var).map(String::as_str) == Some(value))
    };
    assert!(set("GREETING", "x"), "{cli:#?}");
    assert!(set("GOTOOLCHAIN", "local"), "{cli:#?}");
    assert!(!first.values().any(|c| c.cached));

    let second = run();
    assert!(
        second.values().all(|c| c.cached),
        "an unchanged module reran"
    );

    // An edit invalidates the cells whose builds read the file, and only
    // those: wire is read by its test and by the command, not by the
    // inline probe, which imports sizes alone. A comment is enough.
    let edit = |rel: &str| {
        let p = module.join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, format!("{text}\n// edited\n")).unwrap();
        let after = run();
        let reran: Vec<String> = after
            .iter()
            .filter(|(_, c)| !c.cached)
            .map(|(id, _)| id.clone())
            .collect();
        reran
    };
    assert_eq!(
        edit("wire/wire.go"),
        ["linux/amd64/cgo0/cli", "linux/amd64/cgo0/unit/wire"]
    );
    assert_eq!(
        edit("sizes/sizes.go"),
        ["linux/amd64/cgo0/cli", "linux/amd64/cgo0/smoke"]
    );
    assert_eq!(edit("wire/wire_test.go"), ["linux/amd64/cgo0/unit/wire"]);
    assert_eq!(edit("files/files.go"), Vec::<String>::new());
    assert_eq!(
        edit("go.mod"),
        [
            "linux/amd64/cgo0/cli",
            "linux/amd64/cgo0/smoke",
            "linux/amd64/cgo0/unit/wire"
        ]
    );
}

#[test]
fn init_writes_a_matrix_that_runs_in_a_fresh_module() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path();
    // A major version: the matrix and the root package are "fresh", not
    // "v2".
    std::fs::write(m.join("go.mod"), "module example.com/fresh/v2\n\ngo 1.22\n").unwrap();
    std::fs::create_dir_all(m.join("cmd/fresh")).unwrap();
    std::fs::write(
        m.join("cmd/fresh/main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"fresh\") }\n",
    )
    .unwrap();
    // `package main` in tests only (and an ignored file), as xxhash's
    // ./dynamic: tested, but no command to build.
    std::fs::create_dir_all(m.join("plugin")).unwrap();
    std::fs::write(
        m.join("plugin/plugin.go"),
        "//go:build ignore\n\npackage main\n\nfunc main() {}\n",
    )
    .unwrap();
    std::fs::write(
        m.join("plugin/plugin_test.go"),
        "package main\n\nimport \"testing\"\n\nfunc TestPlugin(t *testing.T) {}\n",
    )
    .unwrap();
    std::fs::write(
        m.join("add.go"),
        "package fresh\n\nfunc Add(a, b int) int { return a + b }\n",
    )
    .unwrap();
    std::fs::write(
        m.join("add_test.go"),
        "package fresh\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal()\n\t}\n}\n",
    )
    .unwrap();
    // Before init, `run` has nothing to run, and says what to do.
    Test::at(m)
        .arg("run")
        .status(2)
        .stderr_contains("no crossprobe.yaml in this directory")
        .stderr_contains("crossprobe init")
        .run();
    Test::at(m)
        .arg("plan")
        .status(2)
        .stderr_contains("crossprobe init")
        .run();
    Test::at(m).arg("init").run();
    // `plan` with no matrix reads ./crossprobe.yaml too.
    Test::at(m).arg("plan").stderr_contains("18 cells").run();
    let text = std::fs::read_to_string(m.join("crossprobe.yaml")).unwrap();
    // Editors with a YAML language server validate it against the schema.
    assert!(
        text.starts_with("# yaml-language-server: $schema=https://crossprobe.github.io/crossprobe/crossprobe.schema.json\n"),
        "{text}"
    );
    for want in [
        "\nname: fresh\n",
        "test: ./...",
        "package: ./cmd/fresh\n    # To run it too, give it the arguments of a quick, meaningful run\n    # and remove `run: false`:\n    # args: [--help]\n    run: false\n",
        "{goos: windows, goarch: amd64}",
        "{goos: darwin, goarch: arm64}",
        "cgo: [\"0\"]",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(!text.contains("package: ./plugin"), "{text}");
    // Never over a file that is there, unless asked.
    let e = Test::at(m).arg("init").refuse();
    assert!(e.contains("--force"), "{e}");
    Test::at(m).args(["init", "--force"]).run();

    // As the user would: in their repository, with the default --out.
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(m)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "fresh"]);
    let reports = m.join("reports");
    // `run` with no matrix runs ./crossprobe.yaml.
    let r = Test::at(m).arg("run").run();
    let outcomes: BTreeMap<String, Outcome> = r
        .cells("fresh")
        .into_iter()
        .map(|(id, c)| (id, c.outcome))
        .collect();
    assert_eq!(outcomes.len(), 18, "{outcomes:?}");
    // darwin/arm64 is built and inspected only on this host.
    assert_eq!(outcomes["darwin/arm64/cgo0/unit/fresh"], Outcome::Skip);
    assert_eq!(outcomes["windows/amd64/cgo0/unit/fresh"], Outcome::Pass);
    assert_eq!(outcomes["linux/arm/cgo0/unit/plugin"], Outcome::Pass);
    // The command: built and inspected, its run left to the user.
    let cli = &r.cells("fresh")["linux/arm/cgo0/fresh"];
    assert_eq!(cli.standing(), Standing::BuiltNotRun, "{cli:#?}");
    // The reports directory it made ignores itself: the repository is as
    // the user left it.
    assert_eq!(git(&["status", "--porcelain", "--ignored=no"]), "");
    assert!(reports.join("CACHEDIR.TAG").is_file());
}

#[test]
fn a_test_pattern_with_no_tests_is_a_warning_or_with_strict_an_error() {
    let yaml = format!(
        "probes:\n  - name: unit\n    module: {}\n    test: ./cmd/...\n  - name: cli\n    module: {}\n    package: ./cmd/portable\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n",
        example().display(),
        example().display()
    );
    common::Test::new()
        .matrix(&yaml)
        .args(["plan", "@"])
        .stderr_contains("matrix.yaml:4:11: `test: ./cmd/...` matches no package with tests")
        .run();
    let e = common::Test::new()
        .matrix(&yaml)
        .args(["run", "@", "--strict"])
        .refuse();
    insta::assert_snapshot!(common::stable(&e));
}

/// A module of its own in a fresh directory: `files` beside the matrix.
fn module_test(files: &[(&str, &str)], matrix: &str) -> common::Test {
    files
        .iter()
        .fold(common::Test::new().matrix(matrix), |t, (rel, text)| {
            t.file(rel, text)
        })
}

#[test]
fn a_go_mod_newer_than_the_go_fails_the_build_in_gos_words_with_no_toolchain_switch() {
    let r = module_test(
        &[
            ("go.mod", "module example.com/future\n\ngo 1.99\n"),
            ("main.go", "package main\n\nfunc main() {}\n"),
            (
                "main_test.go",
                "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
            ),
        ],
        "name: future\nprobes:\n  - name: cli\n    package: .\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n",
    )
    // What a user may have set: cmd/go would then fetch go1.99 and run that.
    .env("GOTOOLCHAIN", "auto")
    .env("GOPROXY", "off")
    .failure()
    .run();
    let cells = r.cells("future");
    assert_eq!(cells.len(), 4, "{:?}", cells.keys());
    for (id, c) in &cells {
        assert_eq!(c.outcome, Outcome::BuildFail, "{id}: {c:#?}");
        let reason = c.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("go: go.mod requires go >= 1.99 (running go 1.")
                && reason.contains("; GOTOOLCHAIN=local)"),
            "{id}: {reason}"
        );
    }
    assert!(
        !r.stderr().contains("toolchain not available") && !r.stderr().contains("downloading go1"),
        "{}",
        r.stderr()
    );
}

#[test]
fn a_package_probe_asserts_inspection_facts_on_the_users_binary() {
    let yaml = format!(
        "name: facts\nprobes:\n  - name: cli\n    module: {}\n    package: ./cmd/portable\nmatrix:\n  goos: [linux]\n  goarch: [amd64, \"386\"]\n  cgo: [0]\nexpect:\n  - when: {{goarch: amd64}}\n    facts:\n      binary.static: true\n  - when: {{goarch: \"386\"}}\n    facts:\n      binary.static: false\n",
        example().display()
    );
    let r = common::Test::new().matrix(&yaml).failure().run();
    let cells = r.cells("facts");
    let amd64 = &cells["linux/amd64/cgo0/cli"];
    assert_eq!(amd64.outcome, Outcome::Pass, "{amd64:#?}");
    assert!(amd64.verdict.met, "{amd64:#?}");
    assert_eq!(amd64.fact("binary.static"), true);
    let i386 = &cells["linux/386/cgo0/cli"];
    assert_eq!(i386.outcome, Outcome::Pass, "{i386:#?}");
    assert!(!i386.verdict.met);
    assert_eq!(
        i386.verdict.message,
        "fact binary.static: expected false, got true"
    );
}

#[test]
fn a_module_the_proxy_cannot_give_is_one_error_and_build_fails_for_its_cells() {
    // A port nothing listens on: the proxy's answer is a refused connection.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let modcache = tempfile::tempdir().unwrap();
    let r = module_test(
        &[
            (
                "go.mod",
                "module example.com/needsdep\n\ngo 1.22\n\nrequire example.com/nothere v1.0.0\n",
            ),
            (
                "main.go",
                "package main\n\nimport \"example.com/nothere\"\n\nfunc main() { nothere.Hello() }\n",
            ),
            (
                "main_test.go",
                "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
            ),
        ],
        "name: needsdep\nprobes:\n  - name: cli\n    package: .\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64, \"386\"]\n",
    )
    .env("GOPROXY", format!("http://127.0.0.1:{port}"))
    .env("GOFLAGS", "-mod=mod")
    .env("GOSUMDB", "off")
    .env("GOMODCACHE", modcache.path())
    .failure()
    .run();
    let cells = r.cells("needsdep");
    assert_eq!(cells.len(), 6, "{:?}", cells.keys());
    let refused = format!("dial tcp 127.0.0.1:{port}: connect: connection refused");
    for (id, c) in &cells {
        assert_eq!(c.outcome, Outcome::BuildFail, "{id}: {c:#?}");
        let reason = c.reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("module example.com/needsdep (")
                && reason.contains("cannot download example.com/nothere@v1.0.0 with go1.")
                && reason.contains(&refused),
            "{id}: {reason}"
        );
    }
    // Once for the module, not once a cell.
    assert_eq!(r.stderr().matches(&refused).count(), 1, "{}", r.stderr());
}

#[test]
fn what_qemu_user_cannot_host_is_said_beside_the_failure() {
    for tool in ["qemu-aarch64", "aarch64-linux-gnu-gcc"] {
        if !common::require_tool(tool, "the -race and re-exec cases under qemu are left out") {
            return;
        }
    }
    let reexec = r#"package re

import (
	"os"
	"os/exec"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv("RE_CHILD") == "1" {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestReexec(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "RE_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("re-exec %s: %v: %s", exe, err, out)
	}
}

func TestPlain(t *testing.T) {}
"#;
    let r = module_test(
        &[
            ("go.mod", "module example.com/re\n\ngo 1.22\n"),
            ("re_test.go", reexec),
        ],
        // -race needs cgo, and a cross C compiler for arm64.
        "name: emu\nprobes:\n  - name: unit\n    test: ./...\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cgo: [0]\n  include:\n    - {goos: linux, goarch: arm64, cgo: 1, cc: auto, flags: -race}\nrun:\n  timeout: 120s\n",
    )
    .failure()
    .run();
    let cells = r.cells("emu");
    assert_eq!(cells.len(), 2, "{:?}", cells.keys());
    let race = cells
        .iter()
        .find(|(id, _)| id.contains("race"))
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no -race cell in {:?}", cells.keys()));
    let plain = cells
        .iter()
        .find(|(id, _)| !id.contains("race"))
        .map(|(_, c)| c)
        .unwrap();
    for c in [race, plain] {
        assert_eq!(c.outcome, Outcome::RunFail, "{c:#?}");
    }
    // The emulator's words first, then crossprobe's.
    let why = race.reason.as_deref().unwrap();
    assert!(
        why.starts_with("FATAL: ThreadSanitizer: unsupported VMA range")
            && why.contains("[crossprobe: qemu-aarch64 cannot host a -race binary"),
        "{why}"
    );
    let why = plain.reason.as_deref().unwrap();
    assert!(
        why.starts_with("TestReexec failed")
            && why
                .contains("[crossprobe: under qemu-aarch64 the program started a arm64 executable"),
        "{why}"
    );
    assert_eq!(tests_of(plain)["TestPlain"], TestOutcome::Pass);
    assert!(
        r.stdout().contains("cannot host a -race binary"),
        "{}",
        r.stdout()
    );
}

#[test]
fn what_go_list_said_is_used_again_only_while_the_tree_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("portable");
    copy_tree(&example(), &module);
    let xdg = dir.path().join("xdg");
    let plan = || {
        let o = Test::at(&module)
            .args([
                "plan",
                "crossprobe.yaml",
                "--filter",
                "linux/amd64/*/unit/*",
            ])
            .env("XDG_CACHE_HOME", &xdg)
            .run()
            .stdout();
        let mut ids: Vec<String> = o
            .split_whitespace()
            .filter(|w| w.starts_with("linux/amd64/cgo0/unit/"))
            .map(|w| w.trim_start_matches("linux/amd64/cgo0/unit/").to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(plan(), ["files", "limits", "sizes", "wire"]);
    let records = xdg.join("crossprobe/modules");
    assert!(
        std::fs::read_dir(&records).is_ok_and(|mut d| d.next().is_some()),
        "nothing kept under {}",
        records.display()
    );
    assert_eq!(plan(), ["files", "limits", "sizes", "wire"]);
    // A new package with tests is a new cell; one whose tests go is none.
    std::fs::create_dir_all(module.join("fresh")).unwrap();
    std::fs::write(module.join("fresh/fresh.go"), "package fresh\n").unwrap();
    std::fs::write(
        module.join("fresh/fresh_test.go"),
        "package fresh\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) {}\n",
    )
    .unwrap();
    assert_eq!(plan(), ["files", "fresh", "limits", "sizes", "wire"]);
    std::fs::remove_file(module.join("wire/wire_test.go")).unwrap();
    assert_eq!(plan(), ["files", "fresh", "limits", "sizes"]);
}
