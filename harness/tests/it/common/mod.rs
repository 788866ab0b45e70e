//! What every integration test shares: [`Test`], which runs the real
//! `crossprobe` as just's `tests/lib.rs` runs `just`; the results it wrote,
//! read as the library's own types; and the one rule for a missing tool.
//!
//! ```ignore
//! use crate::common::{self, CellExt, Test};
//! use crossprobe::model::{Outcome, PhaseName};
//!
//! let r = Test::new()
//!     .matrix("name: m\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n")
//!     .args(["run", "@", "-j2"]) // `@` is the matrix above; no args: `run @`
//!     .env("GOFLAGS", "-trimpath")
//!     .path_with(fake_tools.path()) // PATH with this directory first
//!     .stderr_contains("2 cells") // also .stderr(exact), .stderr_regex(whole)
//!     .run(); // asserts exit 0 (or .status(n), .failure()), else shows both streams
//! let cells = r.cells("m"); // reports/m/results.json: id -> CellResult
//! let c = &cells["linux/arm64/cgo0/hello"];
//! assert_eq!(c.outcome, Outcome::Pass);
//! assert_eq!(c.fact("probe.ptr_size"), 8);
//! assert_eq!(c.commands_of(PhaseName::Run)[0].argv[0], "qemu-aarch64");
//!
//! // Bad input: exit 2, no panic, nothing written; its words come back.
//! let err = Test::new().matrix("probes: [nope]\n").refuse();
//! insta::assert_snapshot!(common::stable(&err));
//!
//! // Several runs in a directory the test keeps (a rerun, a module's root),
//! // from a directory below it, with text on stdin:
//! Test::at(dir.path()).current_dir("sub").args(["repro", "-"]).stdin(report).run();
//!
//! // A tool the test needs: under CROSSPROBE_REQUIRE_TOOLS=1 its absence
//! // fails the test, naming it; locally the test says what it leaves out.
//! if !common::require_tool("wine64", "the windows cells are left out") {
//!     return;
//! }
//! ```
//!
//! Every run gets `NO_COLOR=1`, `COLUMNS=100`, no `CROSSPROBE_RUNNER`, and
//! the result cache off (`CROSSPROBE_NO_CACHE=1`; [`Test::result_cache`]
//! turns it on in a directory of the test's). [`Test::command`] hands out
//! the command itself, unasserted, for the few tests that must start
//! crossprobe themselves: to signal it, to keep it running beside another,
//! to limit it before exec.

mod results;
mod test;
mod tools;

pub use results::{journal_cells, read_results, CellExt};
pub use test::{bin, Run, Test};
pub use tools::{have_tool, require_tool, require_tools, tool_missing, tool_path};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Bad input: `crossprobe run` on `yaml` must refuse it with exit 2,
/// without a panic, writing nothing; returns standard error. The same as
/// `Test::new().matrix(yaml).refuse()` (see [`Test::refuse`], which other
/// arguments, files or directories go through).
#[track_caller]
pub fn refuse(yaml: &str) -> String {
    Test::new().matrix(yaml).refuse()
}

/// The repository root (holds `matrices/`, `harness/`, `docs/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `shared/schemas/jenkins-junit-10.xsd`, found by walking up from the crate
/// (the repository sits beside `shared/`).
pub fn junit_schema() -> PathBuf {
    let mut dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let p = d.join("shared/schemas/jenkins-junit-10.xsd");
        if p.is_file() {
            return p;
        }
        dir = d.parent();
    }
    panic!(
        "shared/schemas/jenkins-junit-10.xsd not found above {}",
        env!("CARGO_MANIFEST_DIR")
    );
}

/// This user's warm GOCACHE: a test with a private XDG_CACHE_HOME (for a
/// result cache of its own) passes it on, or Go's cache would be cold too.
/// Asked of `go env` once per test binary.
pub fn gocache() -> String {
    static GOCACHE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    GOCACHE
        .get_or_init(|| {
            let out = std::process::Command::new("go")
                .args(["env", "GOCACHE"])
                .output()
                .expect("go is on PATH");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .clone()
}

/// `go build ARGS...` in `dir` for `goos/goarch` with cgo off, plus `env`;
/// panics with Go's words when it fails.
pub fn go_build(dir: &Path, goos: &str, goarch: &str, env: &[(&str, &str)], args: &[&str]) {
    let out = Command::new("go")
        .arg("build")
        .args(args)
        .current_dir(dir)
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "")
        .envs(env.iter().copied())
        .output()
        .expect("go is installed");
    assert!(
        out.status.success(),
        "go build {args:?} for {goos}/{goarch}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// xmllint against the Jenkins schema, then junitparser; panics with their
/// words when either refuses the file.
pub fn validate_junit(path: &Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(junit_schema())
        .arg(path)
        .output()
        .expect("xmllint (libxml2-utils) is installed by scripts/setup");
    assert!(
        out.status.success(),
        "xmllint rejects {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("python3")
        .args(["-c", "import sys, junitparser; x = junitparser.JUnitXml.fromfile(sys.argv[1]); print(sum(1 for s in x for c in s))"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser rejects {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Error text with Go release numbers made generic, so that a snapshot does
/// not change when the machine's Go or the proxy's newest release does.
pub fn stable(text: &str) -> String {
    let release = regex::Regex::new(r"go1\.\d+(\.\d+)?").unwrap();
    let minor = regex::Regex::new(r"such as 1\.\d+").unwrap();
    let text = release.replace_all(text, "go1.N");
    minor.replace_all(&text, "such as 1.N").into_owned()
}
