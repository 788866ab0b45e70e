//! [`Test`]: the real `crossprobe`, run the way a user runs it, in a
//! directory of the test's own, with what it must print and how it must exit
//! said up front.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crossprobe::model::{CellResult, Results};

use super::results::{by_id, read_results, read_results_json};

/// The `crossprobe` binary this test binary was built with.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_crossprobe")
}

/// A run of the real `crossprobe`, built up as just's tests build theirs.
/// See the module documentation of `common` for an example.
///
/// Unless told otherwise it runs `crossprobe run @` in a fresh temporary
/// directory, where `@` in the arguments stands for the `matrix.yaml` that
/// [`Test::matrix`] writes, and [`Test::run`] asserts exit status 0.
#[must_use]
pub struct Test {
    home: Home,
    cwd: Option<PathBuf>,
    args: Vec<OsString>,
    /// In order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    path_with: Vec<PathBuf>,
    stdin: Stdin,
    /// None: any status (see [`Test::any_status`]).
    status: Option<i32>,
    stdout: Vec<Expect>,
    stderr: Vec<Expect>,
}

/// The test's directory: its own, removed when the run is dropped, or one
/// the test keeps (for several runs in one place, a module's root).
enum Home {
    Temp(tempfile::TempDir),
    At(PathBuf),
}

/// crossprobe's standard input.
enum Stdin {
    Null,
    Text(Vec<u8>),
    /// A pipe nobody writes to, closed only once crossprobe has exited.
    HeldOpen,
}

/// What a stream must hold.
enum Expect {
    Exact(String),
    Contains(String),
    Regex(regex::Regex),
}

impl Expect {
    /// Why `text` does not meet it, if it does not.
    fn check(&self, text: &str) -> Option<String> {
        match self {
            Expect::Exact(want) if text != want => {
                Some(format!("is not exactly\n----\n{want}----"))
            }
            Expect::Contains(part) if !text.contains(part.as_str()) => {
                Some(format!("does not contain {part:?}"))
            }
            Expect::Regex(re) if !re.is_match(text) => {
                Some(format!("does not match /{}/", re.as_str()))
            }
            _ => None,
        }
    }
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// A run in a fresh temporary directory.
    pub fn new() -> Test {
        Test::with_home(Home::Temp(tempfile::tempdir().unwrap()))
    }

    /// A run in `dir`, which the run owns from now on (and removes with
    /// the [`Run`]): for a test that made its files first.
    pub fn with_dir(dir: tempfile::TempDir) -> Test {
        Test::with_home(Home::Temp(dir))
    }

    /// A run in `dir`, which the test keeps: files are written there and
    /// crossprobe starts there. For several runs that share a directory (a
    /// rerun on a kept cache, `--resume` after an interrupted run).
    pub fn at(dir: impl AsRef<Path>) -> Test {
        Test::with_home(Home::At(dir.as_ref().to_path_buf()))
    }

    fn with_home(home: Home) -> Test {
        Test {
            home,
            cwd: None,
            args: Vec::new(),
            env: Vec::new(),
            path_with: Vec::new(),
            stdin: Stdin::Null,
            status: Some(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The test's directory.
    pub fn path(&self) -> &Path {
        match &self.home {
            Home::Temp(t) => t.path(),
            Home::At(p) => p,
        }
    }

    /// Writes `yaml` as `matrix.yaml` in the test's directory.
    pub fn matrix(self, yaml: &str) -> Test {
        self.file("matrix.yaml", yaml)
    }

    /// Writes a file (its parent directories too) under the test's directory.
    pub fn file(self, rel: &str, contents: impl AsRef<[u8]>) -> Test {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// `crossprobe run matrices/NAME.yaml`; further [`Test::args`] follow it.
    pub fn shipped(self, name: &str) -> Test {
        let m = super::repo().join("matrices").join(format!("{name}.yaml"));
        self.arg("run").arg(m)
    }

    /// One argument; `@` is the test's `matrix.yaml`.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        let arg = arg.as_ref();
        self.args.push(if arg == "@" {
            "matrix.yaml".into()
        } else {
            arg.to_owned()
        });
        self
    }

    pub fn args<I, S>(self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Test::arg)
    }

    /// Where crossprobe starts: a directory under the test's (relative), or
    /// anywhere (absolute). The test's directory by default.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Test {
        self.cwd = Some(self.path().join(dir));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Test {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn envs<I, K, V>(self, vars: I) -> Test
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter().fold(self, |t, (k, v)| t.env(k, v))
    }

    /// Runs without `key` in the environment, though this process has it
    /// or the builder sets it (`CROSSPROBE_NO_CACHE`).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Test {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// PATH with `dir` in front (a directory of fake or chosen tools);
    /// called again, the later directory comes after the earlier one.
    pub fn path_with(mut self, dir: impl AsRef<Path>) -> Test {
        self.path_with.push(dir.as_ref().to_path_buf());
        self
    }

    /// The result cache on, in `xdg` (`XDG_CACHE_HOME`): tests run with it
    /// off. Go's build cache stays the user's warm one, which would
    /// otherwise move under `xdg` too and start cold.
    pub fn result_cache(self, xdg: impl AsRef<Path>) -> Test {
        self.env_remove("CROSSPROBE_NO_CACHE")
            .env("XDG_CACHE_HOME", xdg.as_ref())
            .env("GOCACHE", super::gocache())
    }

    /// What crossprobe reads on its standard input (else nothing: /dev/null).
    pub fn stdin(mut self, text: impl AsRef<[u8]>) -> Test {
        self.stdin = Stdin::Text(text.as_ref().to_vec());
        self
    }

    /// Standard input a pipe that stays open, unwritten, until crossprobe
    /// exits: a child of it that inherited this stdin, instead of getting
    /// one of its own, would block on it.
    pub fn stdin_held_open(mut self) -> Test {
        self.stdin = Stdin::HeldOpen;
        self
    }

    /// The exit status [`Test::run`] asserts (0 unless told).
    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    /// No exit status asserted: only for a command whose status is the
    /// machine's to decide (`doctor` on this host), which the test then
    /// checks against what it printed.
    pub fn any_status(mut self) -> Test {
        self.status = None;
        self
    }

    /// Exit 1: a cell did not meet its expectation, or a diff found a
    /// regression.
    pub fn failure(self) -> Test {
        self.status(crossprobe::model::exit::UNMET)
    }

    /// Standard output is exactly `text`.
    pub fn stdout(mut self, text: impl Into<String>) -> Test {
        self.stdout.push(Expect::Exact(text.into()));
        self
    }

    /// Standard output contains `part` (may be said more than once).
    pub fn stdout_contains(mut self, part: impl Into<String>) -> Test {
        self.stdout.push(Expect::Contains(part.into()));
        self
    }

    /// All of standard output matches `re` (anchored at both ends; `(?s)`
    /// lets `.` cross lines): for text with paths or times in it.
    pub fn stdout_regex(mut self, re: &str) -> Test {
        self.stdout.push(Expect::Regex(anchored(re)));
        self
    }

    /// Standard error is exactly `text`.
    pub fn stderr(mut self, text: impl Into<String>) -> Test {
        self.stderr.push(Expect::Exact(text.into()));
        self
    }

    /// Standard error contains `part` (may be said more than once).
    pub fn stderr_contains(mut self, part: impl Into<String>) -> Test {
        self.stderr.push(Expect::Contains(part.into()));
        self
    }

    /// All of standard error matches `re`, as [`Test::stdout_regex`].
    pub fn stderr_regex(mut self, re: &str) -> Test {
        self.stderr.push(Expect::Regex(anchored(re)));
        self
    }

    /// The command, ready to run, with nothing asserted: for a test that
    /// must start crossprobe itself (to signal it, to hold it running, to
    /// set a resource limit before exec).
    pub fn command(&self) -> Command {
        let mut c = Command::new(bin());
        if self.args.is_empty() {
            c.args(["run", "matrix.yaml"]);
        } else {
            c.args(&self.args);
        }
        c.current_dir(self.cwd());
        c.env("NO_COLOR", "1")
            // Tests are about what cells do, so they do it every time: a
            // result cached by an earlier test run would hide it.
            // [`Test::result_cache`] turns the cache back on, in a cache of
            // the test's own.
            .env("CROSSPROBE_NO_CACHE", "1")
            .env_remove("CROSSPROBE_RUNNER")
            .env("COLUMNS", "100");
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if !self.path_with.is_empty() {
            let base = self
                .env
                .iter()
                .rev()
                .find(|(k, _)| k == "PATH")
                .map_or_else(|| std::env::var_os("PATH"), |(_, v)| v.clone());
            let dirs = self
                .path_with
                .iter()
                .cloned()
                .chain(base.iter().flat_map(std::env::split_paths));
            c.env("PATH", std::env::join_paths(dirs).unwrap());
        }
        c
    }

    fn cwd(&self) -> PathBuf {
        self.cwd
            .clone()
            .unwrap_or_else(|| self.path().to_path_buf())
    }

    /// Runs crossprobe, asserts its exit status, what its output must hold
    /// and that it did not panic, and hands back what it printed and wrote.
    /// A mismatch fails the test with the command, both streams, and every
    /// expectation it missed.
    #[track_caller]
    pub fn run(self) -> Run {
        let mut c = self.command();
        let (pid, out) = output(&mut c, &self.stdin);
        let mut wrong = Vec::new();
        if let Some(want) = self.status.filter(|w| out.status.code() != Some(*w)) {
            wrong.push(format!("exited {}, not {want}", out.status));
        }
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        // Whatever the input, crossprobe never panics (a Go program's
        // panic reads "panic:", Rust's "panicked at").
        if stderr.contains("panicked at") {
            wrong.push("crossprobe panicked".to_string());
        }
        for (name, text, wants) in [
            ("stdout", &stdout, &self.stdout),
            ("stderr", &stderr, &self.stderr),
        ] {
            wrong.extend(
                wants
                    .iter()
                    .filter_map(|w| w.check(text))
                    .map(|why| format!("{name} {why}")),
            );
        }
        assert!(
            wrong.is_empty(),
            "{c:?}\n{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            wrong.join("\n")
        );
        let cwd = self.cwd();
        let reports = out_dir(&self.args).map_or_else(|| cwd.join("reports"), |o| cwd.join(o));
        Run {
            pid,
            path: self.path().to_path_buf(),
            _home: self.home,
            cwd,
            reports,
            out,
        }
    }

    /// Bad input: crossprobe must refuse it with exit 2 (without a panic, as
    /// every run) and write nothing: no reports (at `--out`, or `reports/` where it
    /// started), nothing new or changed in the test's directory, nothing in
    /// its TMPDIR (where every build would go). Returns standard error, for
    /// the test to check its words.
    #[track_caller]
    pub fn refuse(self) -> String {
        self.refuse_with(crossprobe::model::exit::INPUT)
    }

    /// As [`Test::refuse`], for a refusal that is not bad input and so
    /// exits `code` (3: a reports directory that cannot be written), with
    /// nothing built or written all the same.
    #[track_caller]
    pub fn refuse_with(self, code: i32) -> String {
        let tmp = tempfile::tempdir().unwrap();
        let own_tmp = self.env.iter().any(|(k, _)| k == "TMPDIR");
        let test = if own_tmp {
            self
        } else {
            self.env("TMPDIR", tmp.path())
        };
        let cwd = test.cwd();
        let reports = out_dir(&test.args).map_or_else(|| cwd.join("reports"), |o| cwd.join(o));
        let reports_before = reports.exists();
        let before = tree(test.path());
        let r = test.status(code).run();
        let err = r.stderr();
        assert_eq!(
            reports.exists(),
            reports_before,
            "{} was written for refused input:\n{err}",
            reports.display()
        );
        assert_eq!(
            tree(&r.path),
            before,
            "the refused run changed its directory:\n{err}"
        );
        if !own_tmp {
            let left: Vec<_> = std::fs::read_dir(tmp.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(left.is_empty(), "the refused run left {left:?} in TMPDIR");
        }
        err
    }
}

/// What crossprobe printed and wrote.
pub struct Run {
    _home: Home,
    pid: u32,
    path: PathBuf,
    cwd: PathBuf,
    reports: PathBuf,
    pub out: Output,
}

impl Run {
    /// The test's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where crossprobe started.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The process id crossprobe ran as (what its markers and locks name).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// A matrix's reports directory: under `--out` when the run named one,
    /// else under `reports/` where crossprobe started.
    pub fn reports(&self, name: &str) -> PathBuf {
        self.reports.join(name)
    }

    /// A matrix's results.json, typed.
    #[track_caller]
    pub fn results(&self, name: &str) -> Results {
        let p = self.reports(name).join("results.json");
        assert!(
            p.is_file(),
            "no {}\nstderr:\n{}",
            p.display(),
            self.stderr()
        );
        read_results(&p)
    }

    /// Cell id → the cell's result.
    #[track_caller]
    pub fn cells(&self, name: &str) -> BTreeMap<String, CellResult> {
        by_id(self.results(name))
    }

    /// A matrix's results.json as untyped JSON: only where a test checks
    /// the file's own shape on purpose (see `read_results_json`).
    #[track_caller]
    pub fn results_json(&self, name: &str) -> serde_json::Value {
        read_results_json(&self.reports(name).join("results.json"))
    }
}

fn anchored(re: &str) -> regex::Regex {
    regex::Regex::new(&format!("(?s)^(?:{re})$")).unwrap_or_else(|e| panic!("bad regex: {e}"))
}

/// `--out DIR` or `--out=DIR` among the arguments.
fn out_dir(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--out" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|a| a.strip_prefix("--out=")) {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// Runs `c` to its end with `stdin`; its pid too.
fn output(c: &mut Command, stdin: &Stdin) -> (u32, Output) {
    let mut child = c
        .stdin(match stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Text(_) | Stdin::HeldOpen => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    let pid = child.id();
    let mut held = child.stdin.take();
    // Written from a thread, which closes the pipe when done: a child that
    // prints before it reads all of its input would otherwise block on a
    // full pipe, and so would we.
    let writer = match (stdin, held.take()) {
        (Stdin::Text(text), Some(mut pipe)) => {
            let text = text.clone();
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&text);
            }))
        }
        (_, pipe) => {
            held = pipe;
            None
        }
    };
    let out = child.wait_with_output().unwrap();
    drop(held);
    if let Some(w) = writer {
        w.join().unwrap();
    }
    (pid, out)
}

/// Every file and directory under `root`, each file with its size and
/// mtime: what a refused run must leave as it was.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<(u64, std::time::SystemTime)>> {
    let mut seen = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                todo.push(e.path());
            }
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            // A directory is there or not; a file also keeps its size and
            // time.
            let file = (!m.is_dir()).then(|| (m.len(), m.modified().unwrap()));
            seen.insert(rel, file);
        }
    }
    seen
}
