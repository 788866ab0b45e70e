//! How a cell ended (its [`Outcome`], and each Go test's), and how it
//! stands against its expectation ([`Standing`]): the one classification
//! every reporter reads.

use serde::{Deserialize, Serialize};

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

/// Why a skipped cell was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipKind {
    /// No runner can exist for the target on this host (darwin on linux).
    Structural,
    /// A tool doctor can install is missing, and the matrix or the command
    /// line allowed it (`--allow-missing`, `run.allow_missing`, an expected skip).
    Environmental,
}

/// Why a cell that built was not run (it stands [`Standing::BuiltNotRun`]):
/// each reporter words it the same way ([`NotRun::words`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotRun {
    /// No runner can exist for the target on this host (darwin on Linux).
    NoRunner,
    /// The matrix's `run.runners` says `none` for the target.
    RunnerNone,
    /// The build makes no program: `-buildmode=c-archive`, `c-shared`, ...
    NoProgram,
    /// The probe says `run: false`: its author chose to build and inspect
    /// it only (a command whose arguments only they can give).
    RunFalse,
}

impl NotRun {
    /// What follows "built, not run" in parentheses.
    pub fn words(self) -> &'static str {
        match self {
            NotRun::NoRunner => "no runner here",
            NotRun::RunnerNone => "runners: none",
            NotRun::NoProgram => "no program to run",
            NotRun::RunFalse => "run: false",
        }
    }
}

/// How a cell stands: the one classification every reporter (progress,
/// summary, JUnit, HTML, diff, repro, results.json's `standing`) and the
/// exit code read.
///
/// Whether a result came from the cache is not a standing of its own: a
/// cached cell still passed or failed. It is [`CellResult::cached`], shown
/// beside the standing.
///
/// [`CellResult::cached`]: super::CellResult::cached
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Standing {
    /// Passed, as expected, at the first try.
    Passed,
    /// Failed the way the matrix expects (build-fail, run-fail, timeout).
    ExpectedFailure,
    /// Did not meet its expectation; an unallowed environmental skip is one.
    Unmet,
    /// Built, inspected, not run: its binary is real (its facts were read
    /// from it) but nothing here can run it, and nothing could be installed
    /// that would: no runner can exist for the target on this host (darwin
    /// on Linux), or the binary is no program (c-archive, c-shared). Not a
    /// bare skip: a build-only target that builds did what it can here.
    BuiltNotRun,
    /// Not run, and not (successfully) built either, or not run for want
    /// of a tool that the matrix or the command line allowed to be missing.
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
            Standing::BuiltNotRun => "built",
            Standing::Skipped(SkipKind::Structural) => "skip",
            Standing::Skipped(SkipKind::Environmental) => "skip-missing",
            Standing::Flaky => "flaky",
            Standing::Interrupted => "interrupted",
        }
    }

    /// How people read it: the summary's counts, the HTML legend, JUnit's
    /// messages.
    pub fn label(self) -> &'static str {
        match self {
            Standing::Passed => "passed",
            Standing::ExpectedFailure => "expected failure",
            Standing::Unmet => "not as expected",
            Standing::BuiltNotRun => "built, not run",
            Standing::Skipped(SkipKind::Structural) => "skipped",
            Standing::Skipped(SkipKind::Environmental) => "skipped for a missing tool (allowed)",
            Standing::Flaky => "flaky",
            Standing::Interrupted => "interrupted",
        }
    }

    /// Whether the run may exit 0 with a cell standing so.
    pub fn ok(self) -> bool {
        !matches!(self, Standing::Unmet | Standing::Interrupted)
    }
}
