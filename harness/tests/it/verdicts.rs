//! Only the program's own behaviour can pass (issue 24): `match:` reads what
//! the program printed, never the facts line crossprobe adds to it nor
//! crossprobe's reasons; an emulator that ran nothing reproduces nothing;
//! a run in which nothing was built and run does not exit 0.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::{self, Test};
use crossprobe::model::{Outcome, Standing};

/// Programs that print nothing, each expected to pass with a pattern that
/// only crossprobe's own words could match: the started line crossprobe
/// adds beside an inline probe (`CROSSPROBE-FACTS: {"started":true,
/// "goos":"linux",...}`) and its reasons. Beside them, a program that does
/// print those words passes, so the patterns themselves are fine.
#[test]
fn match_reads_the_programs_output_not_crossprobes_words() {
    let silent = "      package main\n      func main() {}\n";
    let speaks = "      package main\n      import \"fmt\"\n      func main() { fmt.Println(\"started on linux, go\") }\n";
    let silent_c = "      int main(void) { return 0; }\n";
    let yaml = format!(
        "name: words\nprobes:\n  - name: silent\n    source: |\n{silent}  - name: speaks\n    source: |\n{speaks}  - name: silentc\n    lang: c\n    source: |\n{silent_c}\
         matrix:\n  goos: [linux]\n  goarch: [amd64]\n\
         expect:\n  - when: {{probe: [silent, speaks]}}\n    match: \"started|linux|go1|amd64|goarch|CROSSPROBE|FACTS|true\"\n\
         \x20 - when: {{probe: silentc}}\n    match: \"started|CROSSPROBE|FACTS\"\n"
    );
    let r = Test::new().matrix(&yaml).failure().run();
    let cells = r.cells("words");
    let speaks = &cells["linux/amd64/cgo0/speaks"];
    assert_eq!(speaks.standing(), Standing::Passed, "{speaks:#?}");
    for id in ["linux/amd64/cgo0/silent", "linux/amd64/cgo0/silentc"] {
        let c = &cells[id];
        assert_eq!(c.outcome, Outcome::Pass, "{id}: {c:#?}");
        assert_eq!(c.standing(), Standing::Unmet, "{id}: {c:#?}");
        assert!(
            c.verdict.message.contains("does not match"),
            "{id}: {}",
            c.verdict.message
        );
        // The facts line is still read: the proof that the binary started.
        assert_eq!(c.facts["probe.started"], true, "{id}");
    }
}

/// An expected run-fail is not reproduced by crossprobe's reason for a
/// silent exit: "exited 0 but printed no facts" matches /facts|exited/ only
/// because crossprobe said it.
#[test]
fn crossprobes_reasons_reproduce_nothing() {
    let dir = fake_dir("reasons");
    fake_emulator(&dir, "qemu-aarch64", "");
    let r = Test::new()
        .matrix(
            "name: reasons\nprobes:\n  - name: boom\n    source: |\n      package main\n      func main() { panic(\"boom\") }\n\
             matrix:\n  goos: [linux]\n  goarch: [arm64]\n\
             expect:\n  - when: {probe: boom}\n    outcome: run-fail\n    reason: it panics\n    match: \"facts|exited|CROSSPROBE\"\n",
        )
        .args(["run", "@", "--no-sandbox"])
        .path_with(&dir)
        .failure()
        .run();
    let c = &r.cells("reasons")["linux/arm64/cgo0/boom"];
    assert!(!c.verdict.met, "{c:#?}");
}

/// An emulator that answers `--version` but runs nothing: under it a
/// program that panics "reproduces" an expected run-fail today, as
/// repro's verdict and exit 0 say. Twice: exiting 0 silently (outside the
/// sandbox) and, inside it, an emulator bwrap cannot even start.
#[test]
fn an_emulator_that_ran_nothing_reproduces_nothing() {
    let snippet = "name: silentemu\ngoos: linux\ngoarch: arm64\nexpect:\n  outcome: run-fail\nsource: |\n  package main\n  func main() { panic(\"boom\") }\n";
    // Exits 0 for anything but --version and -cpu help.
    let dir = fake_dir("silent-emulator");
    fake_emulator(&dir, "qemu-aarch64", "");
    let r = Test::new()
        .file("snippet.yaml", snippet)
        .args(["repro", "snippet.yaml", "--no-sandbox"])
        .path_with(&dir)
        .failure()
        .stdout_contains("not reproduced: nothing ran")
        .run();
    let c = &r.cells("silentemu")["linux/arm64/cgo0/snippet"];
    assert_eq!(c.standing(), Standing::Unmet, "{c:#?}");
    assert!(
        c.verdict.message.starts_with("nothing ran"),
        "{}",
        c.verdict.message
    );
    // The same emulator in a directory the sandbox hides (a private
    // /tmp): bwrap's own "execvp ...: No such file or directory" is not
    // the program failing.
    let hidden = tempfile::tempdir().unwrap();
    fake_emulator(hidden.path(), "qemu-aarch64", "");
    if common::have_tool("bwrap") {
        Test::new()
            .file("snippet.yaml", snippet)
            .args(["repro", "snippet.yaml"])
            .path_with(hidden.path())
            .failure()
            .stdout_contains("not reproduced: nothing ran")
            .run();
    }
    // A real qemu-aarch64 still reproduces it.
    if common::require_tool(
        "qemu-aarch64",
        "the real emulator's reproduction is left out",
    ) {
        Test::new()
            .file("snippet.yaml", snippet)
            .args(["repro", "snippet.yaml"])
            .stdout_contains("reproduced: run-fail")
            .run();
    }
}

/// Every cell names a C compiler that is not installed: nothing is built,
/// nothing runs, and the run must not end 0 ("0 passed, 2 skipped") unless
/// --allow-missing says a missing tool is fine.
#[test]
fn nothing_built_and_run_is_not_a_success() {
    let yaml = "name: nocc\nprobes: [cgo-hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n  cgo: [\"1\"]\n  cc: [no-such-cc-1.0]\n";
    Test::new()
        .matrix(yaml)
        .status(4)
        .stderr_contains("nothing ran")
        .run();
    Test::new()
        .matrix(yaml)
        .args(["run", "@", "--allow-missing"])
        .run();
}

/// A snippet whose every runner is forced to `none`: its cells build, and
/// nothing runs them. repro must not say the snippet is reproduced.
#[test]
fn a_snippet_that_runs_nothing_is_not_reproduced() {
    let snippet = "name: norun\ngoos: linux\ngoarch: [amd64, arm64]\nrunners: {\"linux/*\": none}\nsource: |\n  package main\n  func main() { panic(\"boom\") }\nexpect:\n  outcome: run-fail\n";
    Test::new()
        .file("s.yaml", snippet)
        .args(["repro", "s.yaml"])
        .status(4)
        .stderr_contains("nothing ran")
        .run();
}

/// A build-only matrix that builds (darwin on Linux: no runner can exist
/// here) is not "nothing ran": it did all a Linux host can.
#[test]
fn a_build_only_matrix_that_builds_still_passes() {
    Test::new()
        .matrix("name: donly\nprobes: [hello]\nmatrix:\n  goos: [darwin]\n  goarch: [arm64]\n")
        .run();
}

/// A directory the sandbox can see (bwrap hides /tmp and $HOME): under the
/// cargo target directory.
fn fake_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("verdicts")
        .join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fake emulator named `name` in `dir`: answers `--version` and `-cpu
/// help` as qemu-user does, and for anything else prints `says` and exits
/// 0 without running a thing.
fn fake_emulator(dir: &Path, name: &str, says: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  --version) echo \"{name} version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)\"; echo \"Copyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers\";;\n  -cpu) echo \"Available CPUs:\"; echo \"  max\";;\n  *) printf '%s' '{says}';;\nesac\nexit 0\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}
