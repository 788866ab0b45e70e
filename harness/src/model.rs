//! The plain data that flows between phases, and the versioned schema of
//! `results.json`.
//!
//! A [`Cell`] is what expand produces: everything needed to build and run one
//! probe on one target. A [`CellResult`] is what the pipeline makes of it.
//! Every reporter (summary, JUnit, JSON, HTML, diff) reads these types and
//! nothing else, so a fact computed once reads the same everywhere.
//!
//! Compatibility: fields may be added with `#[serde(default)]`; renaming or
//! removing one bumps [`SCHEMA_VERSION`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the results.json format. Readers refuse any other.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit codes of `crossprobe`, documented in the README.
pub mod exit {
    /// Every cell met its expectation.
    pub const OK: i32 = 0;
    /// At least one cell did not meet its expectation.
    pub const UNMET: i32 = 1;
    /// A usage or input error: nothing was built.
    pub const INPUT: i32 = 2;
    /// The reports could not be written, or the disk filled up during the
    /// run; what finished is in the reports or in their journal.
    pub const IO: i32 = 3;
    /// Interrupted by SIGINT (128 + 2).
    pub const SIGINT: i32 = 130;
    /// Interrupted by SIGTERM (128 + 15).
    pub const SIGTERM: i32 = 143;
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Go,
    C,
}

/// What happened to a cell, as the phases saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    BuildFail,
    RunFail,
    Timeout,
    Skip,
    /// The run was stopped (Ctrl-C, SIGTERM) before this cell finished.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::BuildFail => "build-fail",
            Outcome::RunFail => "run-fail",
            Outcome::Timeout => "timeout",
            Outcome::Skip => "skip",
            Outcome::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a cell's binary is run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Runner {
    /// On the host itself.
    #[default]
    Native,
    /// Under qemu-user; `binary` is e.g. `qemu-aarch64`.
    Qemu {
        binary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpu: Option<String>,
    },
    /// Under wine; `binary` is the loader (wine64 for amd64).
    Wine { binary: String },
    /// js/wasm under node with Go's wasm_exec_node.js.
    Node,
    /// wasip1/wasm under a WASI runtime (wazero or wasmtime).
    Wasi { binary: String },
    /// Built only: the run is a skip, with the reason.
    None {
        reason: String,
        /// The tool that would run it, when one can be installed: the skip
        /// is then environmental, and unmet unless allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
}

/// A tool that `doctor` knows how to install, missing on this host. A cell
/// that needs it is not run: an environmental skip, unlike a structural one
/// (no runner can exist for the target on this host).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Missing {
    /// `qemu-aarch64`, `wine64`, `wine32`, `node`, `wazero`, a cross gcc, `zig`.
    pub tool: String,
    /// doctor's fix for it: the command that installs it.
    pub fix: String,
}

/// The kinds of runner: what a matrix names in `run.runners`, parsed once
/// by load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunnerKind {
    Native,
    Qemu,
    Wine,
    Node,
    Wasi,
    None,
}

impl RunnerKind {
    pub const ALL: [RunnerKind; 6] = [
        RunnerKind::Native,
        RunnerKind::Qemu,
        RunnerKind::Wine,
        RunnerKind::Node,
        RunnerKind::Wasi,
        RunnerKind::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Native => "native",
            RunnerKind::Qemu => "qemu",
            RunnerKind::Wine => "wine",
            RunnerKind::Node => "node",
            RunnerKind::Wasi => "wasi",
            RunnerKind::None => "none",
        }
    }

    pub fn parse(name: &str) -> Option<RunnerKind> {
        RunnerKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Runner {
    pub fn kind(&self) -> RunnerKind {
        match self {
            Runner::Native => RunnerKind::Native,
            Runner::Qemu { .. } => RunnerKind::Qemu,
            Runner::Wine { .. } => RunnerKind::Wine,
            Runner::Node => RunnerKind::Node,
            Runner::Wasi { .. } => RunnerKind::Wasi,
            Runner::None { .. } => RunnerKind::None,
        }
    }

    /// The runner's program (`qemu-aarch64`, `wine64`), or its kind where
    /// there is no program of its own.
    pub fn name(&self) -> &str {
        match self {
            Runner::Native => "native",
            Runner::Qemu { binary, .. } => binary,
            Runner::Wine { binary } => binary,
            Runner::Node => "node",
            Runner::Wasi { binary } => binary,
            Runner::None { .. } => "none",
        }
    }
}

/// What a matrix says should happen to a cell. Cells that no `expect` entry
/// names are expected to pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub outcome: Outcome,
    /// A regex over the output of the phase the outcome names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<String>,
    /// Why this is expected: an issue URL or a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `file:line` of the expect entry, so a report can point back at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Fact name to an expression: `true`, `"0"`, `<= 2.31`, `~ ^go1\.2`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
    /// For a `test:` cell: the Go tests expected not to pass, from the
    /// `expect` entries whose `when` names a `test:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestExpectation>,
}

impl Default for Expectation {
    fn default() -> Self {
        Expectation {
            outcome: Outcome::Pass,
            r#match: None,
            reason: None,
            source: None,
            facts: BTreeMap::new(),
            tests: Vec::new(),
        }
    }
}

/// What one `expect` entry says of the Go tests whose names it matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestExpectation {
    /// A regex over the full test name (`TestX`, `TestX/sub`), anchored at
    /// both ends.
    pub test: String,
    pub outcome: TestOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The entry names the package too: a test it expects to fail must be
    /// there. Without a package it speaks of whichever packages have it.
    #[serde(default)]
    pub pinned: bool,
}

/// How one Go test ended, in test2json's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestOutcome {
    Pass,
    Fail,
    Skip,
}

impl TestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Pass => "pass",
            TestOutcome::Fail => "fail",
            TestOutcome::Skip => "skip",
        }
    }
}

/// One Go test or subtest of a `test:` cell, as its test binary reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// `TestX` or `TestX/sub`.
    pub name: String,
    /// The import path.
    pub package: String,
    pub outcome: TestOutcome,
    /// What test2json gave as `Elapsed`, in milliseconds.
    pub duration_ms: u64,
    /// Its own output (`t.Log`, the failure, a panic), capped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// Whether it did what the matrix expected of it.
    pub met: bool,
    /// Why not, or what was expected (`fail as expected (reason)`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One point of the matrix: a probe on a target with a set of build settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Stable, readable id, e.g. `linux/arm/GOARM=5/cgo0/hello`.
    pub id: String,
    /// `id` made safe as one path component.
    pub slug: String,
    pub matrix: String,
    pub probe: String,
    pub lang: Lang,
    pub goos: String,
    pub goarch: String,
    /// `local`, or a Go version such as `1.22.12`.
    pub go: String,
    /// `0`, `1`, or `default` (CGO_ENABLED left unset).
    pub cgo: String,
    pub ldflags: String,
    pub tags: String,
    pub flags: String,
    /// The C compiler asked for: `auto`, `gcc`, `clang`, `zig`, or a command.
    #[serde(default = "default_cc")]
    pub cc: String,
    /// `-buildmode`: `exe`, `pie`, `c-archive`, `c-shared`, ...
    #[serde(default = "default_buildmode")]
    pub buildmode: String,
    /// Further environment axes (GOARM, GOAMD64, GOMIPS, ...).
    pub env: BTreeMap<String, String>,
    /// qemu's `-cpu` for the run: the oldest CPU the users have.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu: String,
    /// For a `test:` probe, the package this cell tests, as a path inside
    /// its module (`sizes`, `cmd/portable`); the module's root package is
    /// named by the module path's last element. Part of the id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub package: String,
    pub runner: Runner,
    pub expect: Expectation,
}

fn default_cc() -> String {
    "auto".to_string()
}

fn default_buildmode() -> String {
    "exe".to_string()
}

impl Cell {
    pub fn target(&self) -> String {
        format!("{}/{}", self.goos, self.goarch)
    }

    /// The axes as ordered name/value pairs: what JUnit properties, the HTML
    /// grid and `--filter` see.
    pub fn axes(&self) -> Vec<(String, String)> {
        crate::axis::pairs(self)
    }
}

/// How a child process ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// The signal's name (SIGILL, SIGKILL, ...) when one ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(default)]
    pub timed_out: bool,
}

impl Exit {
    pub fn success(&self) -> bool {
        self.code == Some(0) && self.signal.is_none() && !self.timed_out
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.signal, self.code) {
            _ if self.timed_out => f.write_str("timed out"),
            (Some(sig), _) => write!(f, "killed by {sig}"),
            (None, Some(c)) => write!(f, "exit status {c}"),
            (None, None) => f.write_str("no exit status"),
        }
    }
}

/// Captured output of one stream, capped: the head and the tail are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub text: String,
    /// Total bytes the child wrote.
    pub bytes: u64,
    /// Bytes dropped from the middle to respect the cap.
    #[serde(default)]
    pub dropped: u64,
}

/// One child process that a phase ran: the argv exactly as run, never a shell
/// string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub argv: Vec<String>,
    /// The variables set or changed for the child (the rest is inherited).
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub exit: Exit,
    pub duration_ms: u64,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// A pipeline phase for one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseName {
    Render,
    Build,
    Inspect,
    Run,
    Check,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: PhaseName,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
}

/// Whether a cell did what its matrix said it would.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub met: bool,
    /// One line for people: why it was met or not.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub cell: Cell,
    pub outcome: Outcome,
    /// The first relevant line: why a build or run failed, why a cell was
    /// skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub verdict: Verdict,
    /// What the probe printed behind its marker and what inspection read,
    /// flattened to dotted keys (`probe.ptr_size`, `binary.static`, ...).
    pub facts: BTreeMap<String, serde_json::Value>,
    pub phases: Vec<Phase>,
    pub duration_ms: u64,
    /// The cell's build directory, when it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// True when the build and run were not done again: their record was
    /// reused from the result cache (phases and durations are the original
    /// run's), and only the check was made anew.
    #[serde(default)]
    pub cached: bool,
    /// The cell whose build this cell reused: the two differ only in how
    /// they run (runner, qemu `-cpu`), so one binary serves both. The build
    /// phase here is a copy of that cell's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_of: Option<String>,
    /// Earlier tries that did not meet the expectation, oldest first
    /// (`--retries`). The fields above are the last try's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// In merged results: the runner (`Host::runner`) the cell ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_on: Option<String>,
    /// Whether the probe ran inside the sandbox (bubblewrap); absent when
    /// it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandboxed: Option<bool>,
    /// For a `test:` cell: each Go test and subtest its binary ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestResult>,
    /// The tool whose absence made this cell a skip (an environmental skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    /// The result cache's key of the inputs it came from: a `--resume`d run
    /// keeps a journaled result only while its key still matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Why a skipped cell was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipKind {
    /// No runner can exist for the target on this host (darwin on linux).
    Structural,
    /// A tool doctor can install is missing, and the matrix or the command
    /// line allowed it (`--allow-missing`, `run.allow_missing`, an expected skip).
    Environmental,
}

/// How a cell stands: the one classification every reporter (progress,
/// summary, JUnit, HTML, diff, repro) and the exit code read.
///
/// Whether a result came from the cache is not a standing of its own: a
/// cached cell still passed or failed. It is [`CellResult::cached`], shown
/// beside the standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Standing {
    /// Passed, as expected, at the first try.
    Passed,
    /// Failed the way the matrix expects (build-fail, run-fail, timeout).
    ExpectedFailure,
    /// Did not meet its expectation; an unallowed environmental skip is one.
    Unmet,
    Skipped(SkipKind),
    /// Met its expectation only after failing (`--retries`): not a pass.
    Flaky,
    /// The run stopped before the cell finished.
    Interrupted,
}

impl Standing {
    /// One word for it: HTML's colour, JUnit's property, `--json` readers.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Passed => "pass",
            Standing::ExpectedFailure => "xfail",
            Standing::Unmet => "fail",
            Standing::Skipped(SkipKind::Structural) => "skip",
            Standing::Skipped(SkipKind::Environmental) => "skip-missing",
            Standing::Flaky => "flaky",
            Standing::Interrupted => "interrupted",
        }
    }

    /// Whether the run may exit 0 with a cell standing so.
    pub fn ok(self) -> bool {
        !matches!(self, Standing::Unmet | Standing::Interrupted)
    }
}

/// One try of a cell that did not meet its expectation, kept when the cell
/// was tried again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub verdict: Verdict,
    pub phases: Vec<Phase>,
    pub duration_ms: u64,
    /// Its build directory, kept since it did not meet the expectation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
}

/// How many of a `test:` cell's Go tests passed, failed and were skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl std::fmt::Display for TestCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

impl CellResult {
    /// The one count of [`CellResult::tests`], for every reporter.
    pub fn test_counts(&self) -> TestCounts {
        let mut n = TestCounts::default();
        for t in &self.tests {
            match t.outcome {
                TestOutcome::Pass => n.passed += 1,
                TestOutcome::Fail => n.failed += 1,
                TestOutcome::Skip => n.skipped += 1,
            }
        }
        n
    }

    /// Failed, then met its expectation on a later try. A flaky cell is not
    /// a pass: every reporter shows it apart.
    pub fn flaky(&self) -> bool {
        self.standing() == Standing::Flaky
    }

    /// The cell's standing: see [`Standing`].
    pub fn standing(&self) -> Standing {
        match self.outcome {
            Outcome::Interrupted => Standing::Interrupted,
            _ if !self.verdict.met => Standing::Unmet,
            _ if !self.attempts.is_empty() => Standing::Flaky,
            Outcome::Skip if self.missing.is_some() => Standing::Skipped(SkipKind::Environmental),
            Outcome::Skip => Standing::Skipped(SkipKind::Structural),
            Outcome::Pass => Standing::Passed,
            _ => Standing::ExpectedFailure,
        }
    }

    /// Every command of every phase, in order.
    pub fn commands(&self) -> impl Iterator<Item = (PhaseName, &Command)> {
        self.phases
            .iter()
            .flat_map(|p| p.commands.iter().map(move |c| (p.name, c)))
    }
}

/// The machine a run happened on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub os: String,
    pub arch: String,
    #[serde(default)]
    pub kernel: String,
    #[serde(default)]
    pub cpu: String,
    /// `--runner NAME` or `CROSSPROBE_RUNNER`, else the host name.
    #[serde(default)]
    pub runner: String,
}

/// The whole of `results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema: u32,
    pub crossprobe_version: String,
    pub matrices: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub host: Host,
    /// `go`, `qemu-aarch64`, `wine`, `node`, ... to the first line of their
    /// version output; read once per run.
    pub tools: BTreeMap<String, String>,
    /// True when the run was stopped before every cell finished.
    pub interrupted: bool,
    pub cells: Vec<CellResult>,
    /// What the run cost, when it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perf: Option<Perf>,
    /// `i/n` when the run was one shard of its cells (`--shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// In merged results: each run that went in. `host` and `tools` above
    /// are then the first run's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<Source>,
    /// What the shard planner expected the run's cells to cost, beside what
    /// they did: the check on its cost model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<ShardCost>,
}

/// A shard's expected cost, family by family (`plan --shard --json`), and
/// once run, what it cost. Milliseconds are cell durations summed, the unit
/// `--durations` reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCost {
    /// `i/n`; `1/1` for an unsharded run.
    pub shard: String,
    pub expected_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_ms: Option<u64>,
    /// `actual_ms - expected_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<i64>,
    /// Families too big for one shard, split across several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<String>,
    pub families: Vec<FamilyCost>,
}

/// One build family's share of a shard: the cells that compile the same
/// standard library, and what they are expected to cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyCost {
    pub family: String,
    /// `k/n` when the family was split into n parts across shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// `durations` when a previous run timed its cells, else `estimate`.
    pub source: String,
    /// The cold standard-library build included in `expected_ms`.
    pub cold_ms: u64,
    pub expected_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<i64>,
    pub cells: Vec<String>,
}

/// What a whole run cost, from getrusage: crossprobe's own CPU time beside
/// its children's (go build, qemu, ...), and the work it did not do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perf {
    /// crossprobe's own CPU time, user + system.
    pub self_cpu_ms: u64,
    /// The CPU time of every child it waited for, and of their children.
    pub children_cpu_ms: u64,
    /// crossprobe's own peak resident set, in KiB.
    pub self_max_rss_kib: u64,
    /// Cells whose result came from the result cache.
    pub cached_cells: usize,
    /// `go build`s run, and those saved because cells shared a build plan.
    pub builds: usize,
    pub builds_shared: usize,
}

/// One run that went into merged results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The results.json it was read from, as given.
    pub file: String,
    pub host: Host,
    pub started_at: String,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub tools: BTreeMap<String, String>,
    pub interrupted: bool,
}
