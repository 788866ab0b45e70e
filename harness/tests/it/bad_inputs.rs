//! The bad-input corpus: every matrix in `tests/bad/` is refused with exit 2,
//! quickly, without a panic and without writing a report, naming
//! `file:line:col` wherever the file has a place to point at. The exact text
//! of each refusal is snapshotted (`snapshots/bad_inputs__refused@*.snap`).
//! Each file's first line says what is wrong with it.

use crate::common::{self, Test};

use std::path::Path;
use std::time::{Duration, Instant};

/// Refusals with no place in the file to point at.
const NO_POSITION: &[&str] = &["empty.yaml", "comments-only.yaml", "too-many-cells.yaml"];

/// Even an alias bomb is refused within this, in a debug build on a busy
/// machine; it takes about a second.
const QUICK: Duration = Duration::from_secs(20);

/// `crossprobe run FILE` in `dir` is refused (`Test::refuse`: exit 2, no
/// panic, nothing written), within [`QUICK`]; returns its words.
fn refused_quickly(dir: &Path, file: &str, extra: &[&str]) -> String {
    let out = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let stderr = Test::at(dir)
        .args(["run", file, "--out"])
        .arg(out.path().join("reports"))
        .args(extra)
        .refuse();
    let took = t0.elapsed();
    assert!(took < QUICK, "{file}: took {took:?} to refuse");
    stderr
}

#[test]
fn every_bad_matrix_is_refused_clearly() {
    let mut seen = 0;
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "bad/*.yaml",
        |path| {
            seen += 1;
            let dir = path.parent().unwrap();
            let file = path.file_name().unwrap().to_str().unwrap();
            let stderr = refused_quickly(dir, file, &[]);
            if !NO_POSITION.contains(&file) {
                let at = format!("{file}:");
                let positioned = stderr.match_indices(&at).any(|(i, _)| {
                    let rest = &stderr[i + at.len()..];
                    let mut parts = rest.splitn(3, ':');
                    let line = parts.next().unwrap_or("");
                    let col = parts.next().unwrap_or("");
                    !line.is_empty()
                        && line.bytes().all(|b| b.is_ascii_digit())
                        && !col.is_empty()
                        && col.bytes().all(|b| b.is_ascii_digit())
                });
                assert!(positioned, "{file}: no {file}:LINE:COL in\n{stderr}");
            }
            assert_hint(file, &stderr);
            insta::assert_snapshot!(common::stable(&stderr));
        }
    );
    assert!(seen >= 30, "the corpus has only {seen} files");
}

/// The pointer every refusal could give; a hint must say more.
const GENERIC_HINT: &str = "see the matrix format in the book";

/// Every refusal carries one `help:` line that says what to do about this
/// refusal, not only where the documentation is.
fn assert_hint(file: &str, stderr: &str) {
    let helps: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("help:"))
        .map(str::trim)
        .collect();
    assert_eq!(helps.len(), 1, "{file}: one help: line, in\n{stderr}");
    assert!(
        helps[0] != GENERIC_HINT && helps[0].len() > 15,
        "{file}: the hint is only {:?}:\n{stderr}",
        helps[0]
    );
}

/// Generated rather than checked in: ten megabytes of valid YAML.
#[test]
fn a_ten_megabyte_matrix_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  ldflags:\n");
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!("    - \"-X main.v={i}\"\n"));
        i += 1;
    }
    std::fs::write(dir.path().join("huge.yaml"), &text).unwrap();
    let stderr = refused_quickly(dir.path(), "huge.yaml", &[]);
    insta::assert_snapshot!(common::stable(&stderr));
}

/// `/dev/zero` never ends: the read stops at the limit.
#[cfg(unix)]
#[test]
fn an_endless_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused_quickly(dir.path(), "/dev/zero", &[]);
    assert!(stderr.contains("at most 1024 KiB"), "{stderr}");
}

#[test]
fn the_cell_limit_names_itself_and_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    // 3 goarch x 4 ldflags = 12 cells.
    std::fs::write(
        dir.path().join("twelve.yaml"),
        "probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64, riscv64]\n  ldflags: [\"\", \"-s\", \"-w\", \"-s -w\"]\n",
    )
    .unwrap();
    let stderr = refused_quickly(dir.path(), "twelve.yaml", &["--max-cells", "11"]);
    let flat = unwrap(&stderr);
    assert!(
        flat.contains("more than 11 cells (the --max-cells limit)"),
        "{flat}"
    );
    assert!(flat.contains("`--max-cells N`"), "{flat}");
    insta::assert_snapshot!(common::stable(&stderr));

    Test::at(dir.path())
        .args(["plan", "twelve.yaml", "--max-cells", "12"])
        .stderr_contains("12 cells")
        .run();
}

/// The text as one line: miette wraps at hyphens and white space, and marks
/// continued lines with `│`.
fn unwrap(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let line = line.trim_start().trim_start_matches('│').trim();
        if !out.is_empty() && !out.ends_with('-') {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}
