//! A missing tool is never green: with qemu-user and node off PATH, a
//! matrix that needs them exits 1, and each of their cells is a JUnit
//! failure whose message is doctor's fix; `--allow-missing` makes them
//! skips (exit 0), counted apart from structural ones. doctor, on the same
//! PATH, names the same tools: both read host::install.

use std::path::Path;

use crate::common::Test;

use crossprobe::model::Results;

const MATRIX: &str = "name: needs
probes: [hello]
matrix:
  goos: [linux]
  goarch: [arm64]
  include:
    - {goos: js, goarch: wasm}
    - {goos: darwin, goarch: arm64}
";

/// A PATH holding only `go`: no qemu-user, no node, no package manager.
fn bare_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let go = std::process::Command::new("go")
        .args(["env", "GOROOT"])
        .output()
        .expect("go is on PATH");
    let goroot = String::from_utf8(go.stdout).unwrap();
    std::os::unix::fs::symlink(Path::new(goroot.trim()).join("bin/go"), bin.join("go")).unwrap();
    bin.display().to_string()
}

/// `crossprobe run @ EXTRA...` on `path`, expecting `status`: its stdout,
/// results and JUnit.
fn run(dir: &Path, path: &str, extra: &[&str], status: i32) -> (String, Results, String) {
    let r = Test::at(dir)
        .args(["run", "@"])
        .args(extra)
        .env("PATH", path)
        .status(status)
        .run();
    (
        r.stdout(),
        r.results("needs"),
        std::fs::read_to_string(r.reports("needs").join("junit.xml")).unwrap(),
    )
}

#[test]
fn a_missing_emulator_fails_the_run_with_the_fix_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("matrix.yaml"), MATRIX).unwrap();
    let path = bare_path(dir.path());

    // A missing qemu and node fail the run.
    let (stdout, results, junit) = run(dir.path(), &path, &[], 1);
    let missing: Vec<(String, String)> = results
        .cells
        .iter()
        .filter_map(|c| {
            let m = c.missing.as_ref()?;
            assert!(!c.verdict.met, "{c:#?}");
            Some((m.tool.clone(), m.fix.clone()))
        })
        .collect();
    let tools: Vec<&str> = missing.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tools, ["qemu-aarch64", "node"], "{results:#?}");
    for (tool, fix) in &missing {
        let message = format!(r#"<failure message="{tool} is missing: {fix}""#);
        assert!(junit.contains(&message), "no {message} in\n{junit}");
    }
    // darwin has no runner on linux whatever is installed: built, not run.
    assert!(
        junit.contains(
            r#"<skipped message="built, not run (no runner here): no runner for darwin/arm64"#
        ),
        "{junit}"
    );
    assert!(
        stdout.contains(
            "1 built, not run (no runner here), 0 skipped, 2 not as expected (2 for a missing tool"
        ),
        "{stdout}"
    );

    // --allow-missing makes them skips.
    let (stdout, _, junit) = run(dir.path(), &path, &["--allow-missing"], 0);
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        stdout.contains(
            "1 built, not run (no runner here), 0 skipped, 0 not as expected, 2 skipped for a missing tool (allowed)"
        ),
        "the two kinds of skip are counted apart:\n{stdout}"
    );

    // doctor, on the same PATH, names the same tools, as failures.
    let r = Test::at(dir.path())
        .args(["doctor", "@"])
        .env("PATH", &path)
        .failure()
        .run();
    let doctor = r.stdout() + &r.stderr();
    for tool in tools {
        assert!(
            doctor
                .lines()
                .any(|l| l.contains("FAIL") && l.split_whitespace().nth(1) == Some(tool)),
            "doctor does not fail on {tool}:\n{doctor}"
        );
    }
}
