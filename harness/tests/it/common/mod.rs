//! Runs the real `crossprobe` binary on a matrix in a temporary directory and
//! hands back what it printed and wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_crossprobe")
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
pub fn gocache() -> String {
    let out = std::process::Command::new("go")
        .args(["env", "GOCACHE"])
        .output()
        .expect("go is on PATH");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `CROSSPROBE_REQUIRE_TOOLS=1` (.ci/run sets it): a tool a test needs
/// that is missing fails the test instead of shrinking it.
pub fn require_tools() -> bool {
    std::env::var_os("CROSSPROBE_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A test goes on without `tool`: a failure naming it under
/// CROSSPROBE_REQUIRE_TOOLS, else a line saying what is left out.
pub fn tool_missing(tool: &str, what: &str) {
    assert!(
        !require_tools(),
        "{tool} is missing, so {what}: CROSSPROBE_REQUIRE_TOOLS is set (scripts/setup installs it)"
    );
    eprintln!("{tool} is missing, so {what}");
}

pub struct Run {
    pub dir: tempfile::TempDir,
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn reports(&self, name: &str) -> PathBuf {
        self.dir.path().join("reports").join(name)
    }
    pub fn results(&self, name: &str) -> serde_json::Value {
        let p = self.reports(name).join("results.json");
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}\nstderr:\n{}", p.display(), self.stderr()));
        serde_json::from_str(&text).unwrap()
    }
    /// Cell id → the cell's result object.
    pub fn cells(&self, name: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.results(name)["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["cell"]["id"].as_str().unwrap().to_string(), c.clone()))
            .collect()
    }
}

/// A run of the real `crossprobe` in a fresh directory, built up the way
/// just's tests build theirs:
///
/// ```ignore
/// let r = Test::new().matrix(yaml).args(&["run", "@", "--strict"]).status(1).run();
/// ```
///
/// `@` in the arguments stands for the matrix written by [`Test::matrix`];
/// with no arguments at all the test runs `crossprobe run @`. [`Test::status`]
/// makes [`Test::run`] assert the exit code, printing stdout and stderr when
/// it differs, so no test writes that block out again.
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    status: Option<i32>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
            args: Vec::new(),
            env: Vec::new(),
            status: None,
        }
    }

    /// Writes `yaml` as `matrix.yaml` in the test's directory.
    pub fn matrix(self, yaml: &str) -> Test {
        self.file("matrix.yaml", yaml)
    }

    /// Writes a file (its parent directories too) under the test's directory.
    pub fn file(self, rel: &str, contents: &str) -> Test {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// `crossprobe run matrices/NAME.yaml`; further [`Test::args`] follow it.
    pub fn shipped(self, name: &str) -> Test {
        let m = repo().join("matrices").join(format!("{name}.yaml"));
        self.args(&["run", m.to_str().unwrap()])
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The exit code [`Test::run`] asserts.
    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    pub fn run(self) -> Run {
        let args: Vec<&str> = if self.args.is_empty() {
            vec!["run", "@"]
        } else {
            self.args.iter().map(String::as_str).collect()
        };
        let mut c = cmd(self.dir.path(), &args);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = c.output().unwrap();
        let run = Run { dir: self.dir, out };
        if let Some(want) = self.status {
            assert_eq!(
                run.code(),
                want,
                "crossprobe {args:?} exited {}, not {want}\nstdout:\n{}\nstderr:\n{}",
                run.code(),
                run.stdout(),
                run.stderr()
            );
        }
        run
    }
}

/// Writes `yaml` as `matrix.yaml` in a fresh directory and runs
/// `crossprobe ARGS...` there, with `matrix.yaml` wherever ARGS says `@`.
pub fn run_yaml(yaml: &str, args: &[&str]) -> Run {
    Test::new().matrix(yaml).args(args).run()
}

/// Runs a shipped matrix from `matrices/`, reports into a fresh directory.
pub fn run_shipped(name: &str, extra: &[&str]) -> Run {
    Test::new().shipped(name).args(extra).run()
}

/// The commands a cell's result records for one phase (`build`, `run`).
pub fn phase_commands<'a>(cell: &'a serde_json::Value, phase: &str) -> Vec<&'a serde_json::Value> {
    cell["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == phase)
        .flat_map(|p| p["commands"].as_array().into_iter().flatten())
        .collect()
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

/// Runs a command and asserts its exit status, printing its stdout and
/// stderr when it differs: what [`Test::status`] does for tests that run
/// elsewhere than the builder's directory (a module's root, a shared
/// cache).
pub trait Exits {
    fn exits(&mut self, want: i32) -> Output;
}

impl Exits for Command {
    fn exits(&mut self, want: i32) -> Output {
        let out = self.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(want),
            "{self:?} exited {:?}, not {want}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

pub fn cmd(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(cwd)
        .args(
            args.iter()
                .map(|a| if *a == "@" { "matrix.yaml" } else { a }),
        )
        .env("NO_COLOR", "1")
        // Tests are about what cells do, so they do it every time: a result
        // cached by an earlier test run would hide it. tests/it/cache.rs turns
        // the cache back on, in a cache of its own.
        .env("CROSSPROBE_NO_CACHE", "1")
        .env_remove("CROSSPROBE_RUNNER")
        .env("COLUMNS", "100");
    c
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
