//! `crossprobe repro`: shipped snippets reproduce, replay scripts give the
//! same outcome alone, Go versions sweep and bisect, and bad snippets get
//! clear errors.
//!
//! Go releases come from the module proxy into the shared module cache. The
//! suite uses three: go1.21.13, go1.22.12 and go1.22.0 (about 70 MB each,
//! once per machine), with the local Go as the third minor of the sweep.

use crate::common::{self, CellExt, Test};

use std::path::Path;
use std::process::Command;

use crossprobe::model::{Outcome, PhaseName};

/// `crossprobe repro ARGS...` in `dir`.
fn repro(dir: &Path, args: &[&str]) -> Test {
    Test::at(dir).arg("repro").args(args)
}

fn shipped(name: &str) -> String {
    common::repo()
        .join("matrices/repro")
        .join(name)
        .display()
        .to_string()
}

/// Every shipped snippet reproduces what its comment says it shows.
#[test]
fn shipped_snippets_reproduce() {
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(common::repo().join("matrices/repro"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for n in &names {
        let out = repro(dir.path(), &[&shipped(n)]).run().stdout();
        // A snippet that pins a change of output expects a pass.
        assert!(
            out.contains("reproduced: ") || out.contains("passed, as expected"),
            "{n}: {out}"
        );
        assert!(!out.contains("not reproduced"), "{n}: {out}");
        let text = std::fs::read_to_string(common::repo().join("matrices/repro").join(n)).unwrap();
        assert!(
            text.contains("https://github.com/golang/go/issues/"),
            "{n} names no Go issue"
        );
    }
    for issue in ["599", "16801", "47251"] {
        assert!(
            names.iter().any(|n| n.starts_with(&format!("go{issue}-"))),
            "no snippet for golang/go#{issue}"
        );
    }
}

/// The replay script, run alone, reaches crossprobe's outcome: a build-fail
/// (host gcc given -marm) and a run-fail under qemu-arm.
#[test]
fn replay_scripts_give_the_same_outcome() {
    let dir = tempfile::tempdir().unwrap();
    for (snippet, slug, outcome, text) in [
        (
            "go16801-cgo-arm-no-cc.yaml",
            "linux_arm_cgo1_cc=default_snippet",
            "build-fail",
            "-marm",
        ),
        (
            "go599-atomic64.yaml",
            "linux_arm_cgo0_snippet",
            "run-fail",
            "unaligned 64-bit atomic operation",
        ),
    ] {
        repro(dir.path(), &[&shipped(snippet)]).run();
        let name = snippet.trim_end_matches(".yaml");
        let bundle = dir.path().join("reports").join(name).join(slug);
        for f in [
            "replay.sh",
            "README.txt",
            "steps.json",
            "env.txt",
            "go-env.txt",
            "tools.txt",
            "result.json",
            "snippet.yaml",
            "src/main.go",
            "src/go.mod",
            "logs/build.stderr",
        ] {
            assert!(bundle.join(f).is_file(), "{} has no {f}", bundle.display());
        }
        let tools = std::fs::read_to_string(bundle.join("tools.txt")).unwrap();
        assert!(tools.starts_with("go: go1."), "{tools}");
        // go env ran as the build did, with the build's cache writable.
        let go_env = std::fs::read_to_string(bundle.join("go-env.txt")).unwrap();
        assert!(go_env.contains("GOOS='linux'"), "{go_env}");
        let steps: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(bundle.join("steps.json")).unwrap())
                .unwrap();
        // The build ran in the sandbox: the go command follows bwrap's `--`.
        let argv: Vec<&str> = steps[0]["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(argv[0].ends_with("bwrap"), "{steps}");
        let inner = &argv[argv.iter().position(|a| *a == "--").unwrap() + 1..];
        assert_eq!(inner[1], "build", "{steps}");

        // From another directory, with crossprobe nowhere on PATH.
        let elsewhere = tempfile::tempdir().unwrap();
        let r = Command::new("sh")
            .arg(bundle.join("replay.sh"))
            .current_dir(elsewhere.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&r.stdout);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(
            r.status.success(),
            "{snippet}: replay.sh exited {:?}\n{stdout}\n{stderr}",
            r.status
        );
        assert!(
            stdout.contains(&format!("replay: {outcome}, as crossprobe saw")),
            "{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains(text) || stderr.contains(text),
            "{stdout}\n{stderr}"
        );
        // It builds in a copy: the bundle's sources stay as they were.
        assert!(!bundle.join("src/probe").exists());
    }
}

/// A bundle's replay.sh notices when the outcome is not crossprobe's: the
/// same script with the fix applied (CC set) says so and exits 1.
#[test]
fn replay_script_notices_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    repro(dir.path(), &[&shipped("go16801-cgo-arm-no-cc.yaml")]).run();
    let script = dir
        .path()
        .join("reports/go16801-cgo-arm-no-cc/linux_arm_cgo1_cc=default_snippet/replay.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    let fixed = text.replace(" GOARCH=arm ", " CC=arm-linux-gnueabihf-gcc GOARCH=arm ");
    assert_ne!(fixed, text, "{text}");
    std::fs::write(&script, fixed).unwrap();
    let r = Command::new("sh").arg(&script).output().unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("but crossprobe saw build-fail"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

const LOOPVAR: &str = "go60078-loopvar.yaml";

/// A bug report's program prints no marker of crossprobe's: as a snippet,
/// in Go with cgo 0 and 1, and in C, it passes natively, under qemu and
/// under wine.
#[test]
fn plain_programs_pass_in_a_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let go = "expect: {outcome: pass, match: \"hello, plain world\"}\nsource: |\n  package main\n\n  import \"fmt\"\n\n  func main() { fmt.Println(\"hello, plain world\") }\n";
    let c = "goos: [linux, windows]\ngoarch: [amd64, arm64]\nexclude: [{goos: windows, goarch: arm64}]\nlang: c\nexpect: {outcome: pass, match: \"hello, plain world\"}\nsource: |\n  #include <stdio.h>\n  int main(void) { puts(\"hello, plain world\"); return 0; }\n";
    let snippets = [
        (
            "linux.yaml",
            format!("goos: linux\ngoarch: [amd64, arm64]\ncgo: [0, 1]\n{go}"),
        ),
        (
            "windows.yaml",
            format!("goos: windows\ngoarch: amd64\ncgo: [0, 1]\n{go}"),
        ),
        ("c.yaml", c.to_string()),
    ];
    let mut passed = 0;
    for (name, text) in &snippets {
        std::fs::write(dir.path().join(name), text).unwrap();
        // --trust: as root, a snippet's windows cells run only with it.
        let out = repro(dir.path(), &[name, "--trust"]).run().stdout();
        passed += out.matches(": passed, as expected").count();
    }
    assert_eq!(passed, 4 + 2 + 3, "every cell passed");
}

/// A stranger's windows cell runs under wine without --trust, in the run's
/// wine jail: it passes, and results.json says it was sandboxed. As root
/// (the jail would run it as root, where the snippet's other cells run as
/// nobody) it is built and not run: the note says so, the runner is none,
/// and a run of nothing exits 4.
#[test]
fn a_snippets_windows_cell_runs_in_wines_jail_without_trust_unless_root() {
    let dir = tempfile::tempdir().unwrap();
    let text = "goos: windows\ngoarch: amd64\nexpect: {outcome: pass, match: \"hi\"}\nsource: |\n  package main\n\n  import \"fmt\"\n\n  func main() { fmt.Println(\"hi\") }\n";
    std::fs::write(dir.path().join("win.yaml"), text).unwrap();
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let r = match root {
        true => repro(dir.path(), &["win.yaml"])
            .status(4)
            .stdout_contains("note: windows cells are built, not run: as root")
            .run(),
        false => repro(dir.path(), &["win.yaml"])
            .stdout_contains(": passed, as expected")
            .run(),
    };
    let cells = r.cells("win");
    assert_eq!(cells.len(), 1, "{cells:?}");
    for c in cells.values() {
        assert!(c.built(), "{c:?}");
        match root {
            true => {
                assert_eq!(c.cell.runner.kind().as_str(), "none", "{c:?}");
                assert!(!c.ran(), "{c:?}");
            }
            false => {
                assert_eq!(c.cell.runner.kind().as_str(), "wine", "{c:?}");
                assert_eq!(c.sandboxed, Some(true), "{c:?}");
            }
        }
    }
    if root {
        // --trust runs it, jailed.
        let r = repro(dir.path(), &["win.yaml", "--trust"])
            .stdout_contains(": passed, as expected")
            .run();
        for c in r.cells("win").values() {
            assert_eq!(c.sandboxed, Some(true), "{c:?}");
        }
    }
}

/// Three minors: go1.21 and go1.22 at their latest patch, and the local Go.
#[test]
fn sweep_over_three_minors() {
    let dir = tempfile::tempdir().unwrap();
    let out = repro(dir.path(), &[&shipped(LOOPVAR), "--go", "1.21..1.22,local"])
        .failure()
        .run()
        .stdout();
    assert!(
        out.contains("linux/amd64/cgo0/go1.21/snippet (go1.21.13): reproduced: run-fail"),
        "{out}"
    );
    assert!(
        out.contains("linux/amd64/cgo0/go1.22/snippet (go1.22.12): not reproduced: passed"),
        "{out}"
    );
    assert!(out.contains("not reproduced: passed"), "{out}");
    let results = common::read_results(&dir.path().join("reports/go60078-loopvar"));
    let cells = &results.cells;
    assert_eq!(cells.len(), 3);
    let gos: Vec<&str> = cells
        .iter()
        .map(|c| c.fact("probe.go").as_str().unwrap_or("?"))
        .collect();
    assert!(
        gos.contains(&"go1.21.13") && gos.contains(&"go1.22.12"),
        "{gos:?}"
    );
    assert_eq!(
        results.tools.get("go@1.22").map(String::as_str),
        Some("go1.22.12")
    );
}

/// The loop variable change of Go 1.22 (golang/go#60078), found over minors
/// and then over the patches of 1.22.
#[test]
fn bisect_finds_the_loopvar_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = repro(
        dir.path(),
        &[&shipped(LOOPVAR), "--go", "1.21..1.22", "--bisect"],
    )
    .run()
    .stdout();
    assert!(
        out.contains("bisect: fails (run-fail) on go1.21.13, passes from go1.22.0"),
        "{out}"
    );
    // The failing side of the boundary has its bundle.
    assert!(dir
        .path()
        .join("reports/go60078-loopvar/linux_amd64_cgo0_go1.21.13_snippet/replay.sh")
        .is_file());
}

/// A program whose output changes passes on both sides: bisection goes by
/// the verdict, and finds Go 1.22's ServeMux patterns (golang/go#61410),
/// with what each side printed.
#[test]
fn bisect_finds_a_change_in_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = repro(
        dir.path(),
        &[
            &shipped("go61410-servemux-patterns.yaml"),
            "--go",
            "1.21..1.22",
            "--bisect",
        ],
    )
    .run()
    .stdout();
    for line in [
        "bisect: passes, not as expected on go1.21.13, passes, as expected from go1.22.0",
        "    go1.21.13  pass, not met: pass as expected, but its output does not match /GET /items/42 -> 200/",
        "    go1.22.0   pass, met: passed (matched /GET /items/42 -> 200/)",
        "    go1.21.13  printed: GET /items/42 -> 404",
        "    go1.22.0   printed: GET /items/42 -> 200",
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in\n{out}");
    }
}

/// The pitfall of golang/go#65887: external linking asked for with cgo
/// off. The verdict is Go's own refusal, word for word.
#[test]
fn linkmode_external_without_cgo_is_gos_own_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let name = "go65887-linkmode-external-no-cgo";
    repro(dir.path(), &[&shipped(&format!("{name}.yaml"))]).run();
    let results = common::read_results(&dir.path().join("reports").join(name));
    let c = &results.cells[0];
    assert_eq!(c.outcome, Outcome::BuildFail, "{c:#?}");
    assert_eq!(
        c.reason.as_deref(),
        Some("-linkmode=external requires external (cgo) linking, but cgo is not enabled (exit status 1)")
    );
    assert!(c.verdict.met);
}

/// A release that cannot be had is a skip that says why, never the local Go;
/// and as nothing ran, the snippet is not reproduced (exit 4) unless
/// --allow-missing.
#[test]
fn unavailable_version_is_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "goos: linux\ngoarch: amd64\ngo: 1.22.3\nsource: |\n  package main\n  func main() {}\n",
    )
    .unwrap();
    repro(dir.path(), &["s.yaml"])
        .env("GOPROXY", "off")
        .env("GOMODCACHE", cache.path())
        .stdout_contains("(go1.22.3): skipped: go1.22.3: cannot get go1.22.3")
        .status(4)
        .stderr_contains("nothing ran")
        .run();
    repro(dir.path(), &["s.yaml", "--allow-missing"])
        .env("GOPROXY", "off")
        .env("GOMODCACHE", cache.path())
        .stdout_contains("(go1.22.3): skipped: go1.22.3: cannot get go1.22.3")
        .run();
    // The raw file: no field of it names the local Go.
    let results = std::fs::read_to_string(dir.path().join("reports/s/results.json")).unwrap();
    assert!(
        !results.contains("/usr/local/go/bin/go"),
        "built with the local Go"
    );
}

/// A source that does not parse is a build-fail reported as such.
#[test]
fn source_that_does_not_parse_is_a_build_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "goos: linux\ngoarch: amd64\nsource: |\n  package main\n  func main() {\n",
    )
    .unwrap();
    let out = repro(dir.path(), &["s.yaml"]).failure().run().stdout();
    assert!(
        out.contains("linux/amd64/cgo0/snippet (go1.") && out.contains("): failed: build-fail: "),
        "{out}"
    );
    assert!(out.contains("syntax error"), "{out}");
    assert!(dir
        .path()
        .join("reports/s/linux_amd64_cgo0_snippet/replay.sh")
        .is_file());
}

/// A failure other than the reported one says so, and is not met.
#[test]
fn different_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "goos: linux\ngoarch: amd64\nexpect: {outcome: build-fail, match: \"undefined: nope\"}\n\
         source: |\n  package main\n  func main() { panic(\"boom\") }\n",
    )
    .unwrap();
    let out = repro(dir.path(), &["s.yaml"]).failure().run().stdout();
    assert!(
        out.contains("): different failure: run-fail: panic: boom"),
        "{out}"
    );
}

/// Standard input, and Markdown read from it.
#[test]
fn snippet_from_stdin() {
    Test::new()
        .args(["repro", "-"])
        .stdin("Report:\n\n```yaml\nname: fromstdin\ngoos: linux\ngoarch: amd64\nsource: |\n  package main\n  func main() { println(\"hi\") }\n```\n")
        .stdout_contains("linux/amd64/cgo0/snippet (go1.")
        .stdout_contains("passed, as expected")
        .run();
}

/// A full matrix is a snippet too, here in a Markdown report.
#[test]
fn full_matrix_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.md"),
        "Seen on amd64:\n\n```yaml\nname: full\nprobes: [hello]\nmatrix: {goos: [linux], goarch: [amd64]}\n```\n",
    )
    .unwrap();
    let out = repro(dir.path(), &["report.md"]).run().stdout();
    assert!(
        out.contains("linux/amd64/cgo0/hello (go1.") && out.contains("passed, as expected"),
        "{out}"
    );
    assert!(dir.path().join("reports/full/results.json").is_file());
}

/// `crossprobe repro ARGS...` beside `files`, in a fresh directory.
fn repro_of(files: &[(&str, &str)], args: &[&str]) -> Test {
    files
        .iter()
        .fold(Test::new(), |t, (name, text)| t.file(name, text))
        .arg("repro")
        .args(args)
}

const OK: &str = "goos: linux\ngoarch: amd64\nsource: |\n  package main\n  func main() {}\n";

#[test]
fn markdown_without_a_yaml_block() {
    let e = repro_of(
        &[("bug.md", "# Bug\n\n```go\npackage main\n```\n")],
        &["bug.md"],
    )
    .refuse();
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn markdown_error_points_into_the_file() {
    let e = repro_of(
        &[(
            "bug.md",
            "# Bug\n\nIt fails.\n\n```yaml\ngoos: linux\ngoarch: amd64\ngoarm: 7\nsource: x\n```\n",
        )],
        &["bug.md"],
    )
    .refuse();
    assert!(e.contains("bug.md:8:1"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn go_version_that_does_not_exist() {
    let e = repro_of(&[("s.yaml", OK)], &["s.yaml", "--go", "1.99"]).refuse();
    assert!(e.contains("Go 1.99 does not exist"), "{e}");
    assert!(
        e.contains("the newest release the Go module proxy lists is go1."),
        "{e}"
    );
    // The newest release changes; the shape is what is pinned.
    let e = regex_lite(&e);
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn go_version_in_the_snippet_that_does_not_exist() {
    let e = repro_of(&[("s.yaml", &format!("go: \"1.99\"\n{OK}"))], &["s.yaml"]).refuse();
    assert!(e.contains("s.yaml:1:5: Go 1.99 does not exist"), "{e}");
}

#[test]
fn range_given_backwards() {
    let e = repro_of(&[("s.yaml", OK)], &["s.yaml", "--go", "1.26..1.21"]).refuse();
    insta::assert_snapshot!(common::stable(&e));
}

#[test]
fn bisect_without_a_range() {
    let e = repro_of(&[("s.yaml", OK)], &["s.yaml", "--bisect"]).refuse();
    assert!(e.contains("--bisect needs a range of Go minors"), "{e}");
}

#[test]
fn snippet_without_source() {
    let e = repro_of(&[("s.yaml", "goos: linux\ngoarch: amd64\n")], &["s.yaml"]).refuse();
    insta::assert_snapshot!(common::stable(&e));
}

/// `go1.27.4` → `go1.X.Y`, so that a snapshot survives new releases.
fn regex_lite(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("go1.") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 4..];
        let n = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        out.push_str("go1.X.Y");
        rest = &tail[n..];
    }
    out.push_str(rest);
    // "minor such as 1.27" as well.
    out.split("such as 1.")
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                p.to_string()
            } else {
                let n = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
                format!("such as 1.X{}", &p[n..])
            }
        })
        .collect()
}

/// The shorthand takes every key of the matrix format at its top level: a
/// cgo program built as a PIE with a named cc and an env axis, with an
/// extra file, and facts to meet; and a C program (`lang: c`) under qemu
/// at a named CPU. Each is one cell, built and run for real.
#[test]
fn snippet_with_every_kind_of_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("go.yaml"),
        r#"goos: linux
goarch: amd64
cgo: 1
cc: gcc
buildmode: pie
env: {GOAMD64: v2}
files:
  helper.go: |
    package main
    func helper() int { return 42 }
source: |
  package main
  import "C"
  func main() { println(helper()) }
facts:
  cc.kind: gcc
  buildinfo.-buildmode: pie
  buildinfo.GOAMD64: v2
  buildinfo.CGO_ENABLED: "1"
"#,
    )
    .unwrap();
    let out = repro(dir.path(), &["go.yaml"]).run().stdout();
    assert!(
        out.contains("linux/amd64/GOAMD64=v2/cgo1/cc=gcc/buildmode=pie/snippet (go1.")
            && out.contains("passed, as expected"),
        "{out}"
    );

    // A plain C program: the started proof is crossprobe's.
    std::fs::write(
        dir.path().join("c.yaml"),
        r#"goos: linux
goarch: arm64
cpu: cortex-a53
lang: c
source: |
  #include <stdio.h>
  int main(void) { printf("hello\n"); return 0; }
expect:
  outcome: pass
  facts: {cc.kind: gcc, probe.started: true}
"#,
    )
    .unwrap();
    let out = repro(dir.path(), &["c.yaml"]).run().stdout();
    assert!(
        out.contains("linux/arm64/cgo0/cpu=cortex-a53/snippet")
            && out.contains("passed, as expected"),
        "{out}"
    );
    let results = common::read_results(&dir.path().join("reports/c"));
    assert!(
        results.cells.iter().any(|c| c.cell.cpu == "cortex-a53"),
        "{results:#?}"
    );
}

/// openbsd/riscv64 is unknown to go1.21, a broken port in go1.22 (listed
/// by `dist list -broken` alone, yet it builds) and a port from go1.23:
/// every Go gets its cell, go1.21 refuses in its own words, go1.22 and
/// go1.23 build it (no runner: built only), and go1.22's says it is broken.
#[test]
fn a_target_one_go_knows_builds_there_and_the_other_refuses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        r#"go: ["1.21", "1.22", "1.23"]
goos: openbsd
goarch: riscv64
source: |
  package main
  func main() {}
expect:
  - {when: {go: "1.21"}, outcome: build-fail, match: "unsupported GOOS/GOARCH pair openbsd/riscv64", reason: a port from go1.23}
  - {when: {go: "1.22"}, outcome: skip, facts: {go.broken_port: true}}
  - {when: {go: "1.23"}, outcome: skip}
"#,
    )
    .unwrap();
    let out = repro(dir.path(), &["s.yaml"]).run().stdout();
    assert!(
        out.contains("openbsd/riscv64/cgo0/go1.21/snippet (go1.21.13): reproduced: build-fail"),
        "{out}"
    );
    let results = common::read_results(&dir.path().join("reports/s"));
    let on = |go: &str| results.cells.iter().find(|c| c.cell.go == go).unwrap();
    assert_eq!(on("1.21").outcome, Outcome::BuildFail);
    for go in ["1.22", "1.23"] {
        let c = on(go);
        assert_eq!(c.outcome, Outcome::Skip, "{c:#?}");
        assert!(c.verdict.met, "{c:#?}");
        assert!(
            c.phases.iter().any(|p| p.name == PhaseName::Build),
            "{c:#?}"
        );
    }
    assert_eq!(on("1.22").fact("go.broken_port"), true);
    assert!(!on("1.23").facts.contains_key("go.broken_port"));
}

/// A snippet's errors are a matrix's errors, with its own hints: a key
/// that is no key suggests the close one, never "belongs under matrix:".
#[test]
fn snippet_errors_are_the_matrix_errors() {
    let e = repro_of(
        &[(
            "s.yaml",
            "goos: linux\ngoarch: amd64\nccc: zig\nsource: x\n",
        )],
        &["s.yaml"],
    )
    .refuse();
    assert!(!e.contains("belongs under `matrix:`"), "{e}");
    insta::assert_snapshot!(common::stable(&e));
    let e = repro_of(
        &[(
            "s.yaml",
            "goos: linux\ngoarch: amd64\ncgo: [2]\nsource: x\n",
        )],
        &["s.yaml"],
    )
    .refuse();
    assert!(e.contains("s.yaml:3:7: invalid cgo value \"2\""), "{e}");
    let e = repro_of(&[("s.yaml", &format!("{OK}outcome: crash\n"))], &["s.yaml"]).refuse();
    assert!(
        e.contains("expected one of: pass, build-fail, run-fail, timeout, skip"),
        "{e}"
    );
}

/// A reproduction runs what it was given, now: with the result cache on
/// (as `run` has it by default), a second repro of the same snippet still
/// builds and runs its cell, and repro leaves nothing in the cache for a
/// later `run` to take as an answer.
#[test]
fn a_reproduction_neither_reads_nor_fills_the_result_cache() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hello.yaml"),
        "goos: linux\ngoarch: amd64\nexpect: {outcome: pass}\nsource: |\n  package main\n\n  func main() {}\n",
    )
    .unwrap();
    for _ in 0..2 {
        let run = repro(dir.path(), &["hello.yaml"])
            .result_cache(xdg.path())
            .run();
        let cells = run.cells("hello");
        assert_eq!(cells.len(), 1, "{cells:?}");
        for (id, c) in &cells {
            assert!(!c.cached, "{id} came from the result cache");
            assert!(
                !c.commands_of(PhaseName::Build).is_empty(),
                "{id} not built"
            );
        }
    }
    let results = xdg.path().join("crossprobe/results");
    let stored = std::fs::read_dir(&results).map_or(0, |d| d.count());
    assert_eq!(stored, 0, "repro stored results in {}", results.display());
}
