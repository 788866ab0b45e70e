//! What the pipeline makes of a cell: the commands each phase ran, their
//! output, the facts, the verdict and the earlier tries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cell, Missing, NotRun, Outcome, SkipKind, Standing, TestOutcome};

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

impl TestResult {
    /// How the test stands, in the cells' terms, so that a reporter counts
    /// tests and cells alike: met and passed, met and failed (an expected
    /// failure, or a parent failed only by expected failures), met and
    /// skipped, or not met.
    pub fn standing(&self) -> Standing {
        match (self.met, self.outcome) {
            (false, _) => Standing::Unmet,
            (true, TestOutcome::Pass) => Standing::Passed,
            (true, TestOutcome::Fail) => Standing::ExpectedFailure,
            (true, TestOutcome::Skip) => Standing::Skipped(SkipKind::Structural),
        }
    }

    /// What a failing test said, on one line: its first `file:line:` entry
    /// with the lines that continue it. go test indents an entry by 4
    /// spaces and its continuation lines by 8, and `t.Errorf("\n got %v")`
    /// leaves the prefix line empty: `x_test.go:40:` alone says nothing, so
    /// the message that follows is joined to it. An entry with nothing in
    /// it at all (`t.Log("")`) gives way to the next. Output with no entry
    /// (an Example's got/want, a panic) gives its first lines.
    pub fn assertion(&self) -> String {
        const LINES: usize = 4;
        const CHARS: usize = 400;
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        let mut loose: Vec<String> = Vec::new();
        for line in self.output.lines() {
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            match location(text) {
                Some((at, rest)) if !line.starts_with("        ") => {
                    let rest = rest.trim();
                    let first = (!rest.is_empty()).then(|| rest.to_string());
                    entries.push((at.to_string(), first.into_iter().collect()));
                }
                _ => match entries.last_mut() {
                    Some((_, said)) => said.push(text.to_string()),
                    None => loose.push(text.to_string()),
                },
            }
        }
        let line = match entries.iter().find(|(_, said)| !said.is_empty()) {
            Some((at, said)) => format!("{at}: {}", said[..said.len().min(LINES)].join(" ")),
            None => match entries.first() {
                Some((at, _)) => format!("{at}:"),
                None => loose[..loose.len().min(LINES)].join(" "),
            },
        };
        match line.char_indices().nth(CHARS) {
            Some((i, _)) => format!("{}…", &line[..i]),
            None => line,
        }
    }
}

/// `x_test.go:40: rest` → (`x_test.go:40`, ` rest`): go test's prefix of
/// a test's log entry.
fn location(text: &str) -> Option<(&str, &str)> {
    let (file, rest) = text.split_once(".go:")?;
    if file.is_empty() || file.contains(char::is_whitespace) {
        return None;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after = rest[digits..].strip_prefix(':')?;
    (digits > 0).then(|| (&text[..file.len() + 4 + digits], after))
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
    /// The kernel killed it for memory: the cell's cgroup reached
    /// `run.memory`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub out_of_memory: bool,
    /// A fork or clone failed because the command held its
    /// `run.processes` already (the cell's pids cgroup said so).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub process_limit: bool,
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
    /// The command ran inside the sandbox (bubblewrap; `argv` starts with
    /// it): recorded by [`crate::process`] as it ran the command, never
    /// guessed from the argv afterwards.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sandboxed: bool,
    /// The most memory the command's whole process tree held at once, in
    /// KiB (a bwrap sandbox, qemu and its guest, wine's client): its
    /// cgroup's peak, which `run.memory` bounds. Absent where no cgroup
    /// could be made (the rlimit fallback bounds each process alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_kib: Option<u64>,
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
    /// Why a cell that built was not run; see [`CellResult::not_run`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<NotRun>,
    /// The result cache's key of the inputs it came from: a `--resume`d run
    /// keeps a journaled result only while its key still matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
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
    /// The result of a cell that never started.
    pub fn interrupted(cell: Cell) -> CellResult {
        CellResult {
            cell,
            outcome: Outcome::Interrupted,
            reason: Some("interrupted before it started".into()),
            verdict: Verdict {
                met: false,
                message: "interrupted before it started".into(),
            },
            facts: BTreeMap::new(),
            phases: Vec::new(),
            duration_ms: 0,
            dir: None,
            cached: false,
            missing: None,
            not_run: None,
            key: None,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            tests: Vec::new(),
        }
    }

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

    /// Whether its Go tests say all there is to say of it, so that a report
    /// shows the tests and not the cell: it ran tests, and either met its
    /// expectation or some test did not. A package whose test binary did
    /// not build, or that failed where no single test shows (TestMain, a
    /// crash between tests), is shown as itself.
    pub fn tests_tell_all(&self) -> bool {
        !self.tests.is_empty() && (self.verdict.met || self.tests.iter().any(|t| !t.met))
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
            Outcome::Skip if self.built() => Standing::BuiltNotRun,
            Outcome::Skip => Standing::Skipped(SkipKind::Structural),
            Outcome::Pass => Standing::Passed,
            _ => Standing::ExpectedFailure,
        }
    }

    /// Why it stands built, not run; None for any other standing, and for
    /// a result written before crossprobe recorded why.
    pub fn not_run(&self) -> Option<NotRun> {
        self.not_run
            .filter(|_| self.standing() == Standing::BuiltNotRun)
    }

    /// "built, not run (run: false)": the standing's label with why.
    pub fn built_not_run_label(&self) -> String {
        match self.not_run() {
            Some(why) => format!("{} ({})", Standing::BuiltNotRun.label(), why.words()),
            None => Standing::BuiltNotRun.label().to_string(),
        }
    }

    /// Whether its build succeeded: the build phase's last command (the one
    /// that decides) exited 0, so inspection read a real binary. A cell
    /// answered by the cache keeps the phases of the run that built it.
    pub fn built(&self) -> bool {
        self.phases
            .iter()
            .filter(|p| p.name == PhaseName::Build)
            .flat_map(|p| &p.commands)
            .last()
            .is_some_and(|c| c.exit.success())
    }

    /// Whether its binary was started: the run phase ran a command, however
    /// it ended.
    pub fn ran(&self) -> bool {
        self.phases
            .iter()
            .any(|p| p.name == PhaseName::Run && !p.commands.is_empty())
    }

    /// Whether this cell did what a run is for: its binary was started, or
    /// its build gave a verdict (a build failure, a timeout), or it stands
    /// built, not run (a build-only target: all a host can do for it). For
    /// a snippet (`snippet`), built, not run answers only an expectation
    /// that asks nothing of a run: `pass` with no `match:` ("it builds",
    /// its facts); a snippet expecting a run-fail that nothing ran
    /// reproduced nothing.
    pub fn did_something(&self, snippet: bool) -> bool {
        if self.ran() || !matches!(self.outcome, Outcome::Skip | Outcome::Interrupted) {
            return true;
        }
        let exp = &self.cell.expect;
        self.standing() == Standing::BuiltNotRun
            && (!snippet || (exp.outcome == Outcome::Pass && exp.r#match.is_none()))
    }

    /// Every command of every phase, in order.
    pub fn commands(&self) -> impl Iterator<Item = (PhaseName, &Command)> {
        self.phases
            .iter()
            .flat_map(|p| p.commands.iter().map(move |c| (p.name, c)))
    }
}

/// Why a run in which nothing ran must not pass (exit::NOTHING_RAN): `Some`
/// when there were cells and none [`CellResult::did_something`]. The text
/// names how many and what the first one said; the caller escapes it.
pub fn nothing_ran(cells: &[CellResult], snippet: bool) -> Option<String> {
    if cells.is_empty() || cells.iter().any(|r| r.did_something(snippet)) {
        return None;
    }
    let first = cells
        .iter()
        .find_map(|r| Some(format!("{}: {}", r.cell.id, r.reason.as_deref()?)))
        .unwrap_or_default();
    let n = cells.len();
    let what = if snippet {
        "ran the program"
    } else {
        "was built and run, or built for a build-only target"
    };
    Some(format!(
        "nothing ran: none of the {n} cell{} {what} ({first})",
        if n == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod assertion_tests {
    use super::*;

    fn failed(output: &str) -> TestResult {
        TestResult {
            name: "TestX".into(),
            package: "p".into(),
            outcome: TestOutcome::Fail,
            duration_ms: 0,
            output: output.into(),
            met: false,
            message: "failed".into(),
        }
    }

    #[test]
    fn a_message_that_starts_on_the_next_line_is_joined_to_its_prefix() {
        // t.Errorf("\n got: %d\nwant: %d", 1, 2), as go test prints it.
        let t = failed("    says_test.go:6: \n         got: 1\n        want: 2\n");
        assert_eq!(t.assertion(), "says_test.go:6: got: 1 want: 2");
    }

    #[test]
    fn an_empty_entry_gives_way_to_the_next() {
        // xxhash's TestInlining under wine: t.Log of an empty output, then
        // t.Fatal.
        let t = failed(
            "    xxhash_unsafe_test.go:40: \n    xxhash_unsafe_test.go:41: exec: \"go\": executable file not found in %PATH%\n",
        );
        assert_eq!(
            t.assertion(),
            "xxhash_unsafe_test.go:41: exec: \"go\": executable file not found in %PATH%"
        );
    }

    #[test]
    fn one_line_entries_stay_as_they_are_and_only_the_first_is_taken() {
        let t = failed(
            "    compress_test.go:208: open ../testdata/e.txt: no such file or directory\n    compress_test.go:210: second\n",
        );
        assert_eq!(
            t.assertion(),
            "compress_test.go:208: open ../testdata/e.txt: no such file or directory"
        );
    }

    #[test]
    fn output_with_no_entry_gives_its_first_lines() {
        // A failing Example.
        let t = failed("got:\nhello\nwant:\nhullo\n");
        assert_eq!(t.assertion(), "got: hello want: hullo");
        assert_eq!(failed("").assertion(), "");
        assert_eq!(failed("    a_test.go:3: \n").assertion(), "a_test.go:3:");
    }

    #[test]
    fn a_long_message_is_cut() {
        let t = failed(&format!("    a_test.go:3: {}\n", "x".repeat(1000)));
        assert_eq!(t.assertion().chars().count(), 401);
    }
}
