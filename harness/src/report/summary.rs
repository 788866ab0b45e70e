//! The human summary printed at the end of a run: counts of cells, and of
//! the Go tests of `test:` cells, then a table of every cell that did not
//! pass, with why.
//!
//! Cells and Go tests are counted by the same standings JUnit writes them
//! by (see [`super::junit`]): a reader who compares this with a CI's test
//! tab finds each of its failures, errors and skips here.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::observe::Observer;
use crate::errors::Error;
use crate::escape;
use crate::model::{CellResult, Results, SkipKind, Standing};

/// Prints each matrix's summary on standard output when the run ends,
/// before its reports are written: it reaches the CI log even if the disk
/// is full.
pub struct Summary;

impl Observer for Summary {
    fn matrix(&mut self, res: &Results) -> Result<(), Error> {
        print!("{}", render(&res.cells, res.duration_ms as f64 / 1000.0));
        Ok(())
    }
}

use super::junit;

pub fn render(results: &[CellResult], elapsed_s: f64) -> String {
    let count = |st: Standing| results.iter().filter(|r| r.standing() == st).count();
    let unmet = count(Standing::Unmet);
    let missing = results
        .iter()
        .filter(|r| r.standing() == Standing::Unmet && r.missing.is_some())
        .count();
    let allowed_missing = count(Standing::Skipped(SkipKind::Environmental));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{} cells in {:.1}s: {} passed, {} expected failures, {}{} skipped, {} not as expected{}{}{}{}",
        results.len(),
        elapsed_s,
        count(Standing::Passed),
        count(Standing::ExpectedFailure),
        built_not_run(results),
        count(Standing::Skipped(SkipKind::Structural)),
        unmet,
        match (missing, allowed_missing) {
            (0, 0) => String::new(),
            (0, a) => format!(", {a} skipped for a missing tool (allowed)"),
            (m, 0) => format!(" ({m} for a missing tool: `crossprobe doctor --fix`, or --allow-missing)"),
            (m, a) => format!(" ({m} for a missing tool), {a} skipped for a missing tool (allowed)"),
        },
        match count(Standing::Flaky) {
            0 => String::new(),
            n => format!(", {n} flaky"),
        },
        match count(Standing::Interrupted) {
            0 => String::new(),
            n => format!(", {n} interrupted"),
        },
        match results.iter().filter(|r| r.cached).count() {
            0 => String::new(),
            n => format!(" ({n} from the result cache; --no-cache runs them again)"),
        }
    );
    let tested: Vec<&CellResult> = results.iter().filter(|r| !r.tests.is_empty()).collect();
    if !tested.is_empty() {
        let tests = || tested.iter().flat_map(|r| &r.tests);
        let n = |st: Standing| tests().filter(|t| t.standing() == st).count();
        let _ = writeln!(
            s,
            "{} Go tests in {} of those cells: {} passed, {} expected failures, {} skipped, {} not as expected",
            tests().count(),
            tested.len(),
            n(Standing::Passed),
            n(Standing::ExpectedFailure),
            n(Standing::Skipped(SkipKind::Structural)),
            n(Standing::Unmet),
        );
    }
    // What a CI's test tab will show of junit.xml, when it counts otherwise
    // than the lines above: there each Go test is a testcase, and expected
    // failures (pytest's way) and built cells are skips.
    let j = junit::counts(results);
    let plain = (
        results.len(),
        unmet + count(Standing::Interrupted),
        count(Standing::Skipped(SkipKind::Structural)) + allowed_missing,
    );
    if (j.tests, j.failures + j.errors, j.skipped) != plain {
        let mut of_them = Vec::new();
        if j.expected_failures > 0 {
            of_them.push(format!("{} expected failures", j.expected_failures));
        }
        if j.built > 0 {
            of_them.push(format!("{} {}", j.built, Standing::BuiltNotRun.label()));
        }
        let _ = writeln!(
            s,
            "junit.xml, as CI counts it: {} tests, {} failed{}, {} skipped{}",
            j.tests,
            j.failures + j.errors,
            match j.errors {
                0 => String::new(),
                n => format!(" ({n} interrupted)"),
            },
            j.skipped,
            match of_them.is_empty() {
                true => String::new(),
                false => format!(" ({})", of_them.join(", ")),
            }
        );
    }
    let rows: Vec<&CellResult> = results
        .iter()
        .filter(|r| r.standing() != Standing::Passed)
        .collect();
    if rows.is_empty() {
        return s;
    }
    let id_w = rows
        .iter()
        .map(|r| r.cell.id.len())
        .max()
        .unwrap_or(0)
        .min(60);
    let _ = writeln!(s);
    for r in rows {
        let standing = r.standing();
        let why = match standing {
            Standing::Flaky => {
                let first = &r.attempts[0];
                format!(
                    "{} on try 1 of {}: {}",
                    first.outcome,
                    r.attempts.len() + 1,
                    first.verdict.message
                )
            }
            Standing::Skipped(_) | Standing::BuiltNotRun => r.reason.clone().unwrap_or_default(),
            _ => r.verdict.message.clone(),
        };
        let mark = mark(standing);
        let _ = writeln!(
            s,
            "  {mark:<5} {:<11} {:<id_w$}  {}{}",
            r.outcome.as_str(),
            escape::Line(&r.cell.id),
            if r.cached { "(cached) " } else { "" },
            escape::line(&one_line(&why, 160))
        );
        if !r.verdict.met {
            if let Some(d) = &r.dir {
                let _ = writeln!(
                    s,
                    "        {:<11} {:<id_w$}  kept: {}",
                    "",
                    "",
                    escape::Line(d)
                );
            }
        }
    }
    s
}

/// "3 built, not run (2 no runner here, 1 run: false), ": each cell that
/// built and was not run, counted by why ([`crate::model::NotRun`]).
fn built_not_run(results: &[CellResult]) -> String {
    let built: Vec<&CellResult> = results
        .iter()
        .filter(|r| r.standing() == Standing::BuiltNotRun)
        .collect();
    if built.is_empty() {
        return String::new();
    }
    let mut why: BTreeMap<crate::model::NotRun, usize> = BTreeMap::new();
    for r in &built {
        if let Some(w) = r.not_run() {
            *why.entry(w).or_default() += 1;
        }
    }
    let label = Standing::BuiltNotRun.label();
    let n = built.len();
    match why.len() {
        0 => format!("{n} {label}, "),
        1 if why.values().sum::<usize>() == n => {
            format!("{n} {label} ({}), ", why.keys().next().unwrap().words())
        }
        _ => {
            let each: Vec<String> = why
                .iter()
                .map(|(w, k)| format!("{k} {}", w.words()))
                .collect();
            format!("{n} {label} ({}), ", each.join(", "))
        }
    }
}

/// The summary's word for a standing.
pub fn mark(st: Standing) -> &'static str {
    match st {
        Standing::Passed => "OK",
        Standing::ExpectedFailure => "XFAIL",
        Standing::Unmet => "FAIL",
        Standing::BuiltNotRun => "BUILT",
        Standing::Skipped(SkipKind::Structural) => "SKIP",
        Standing::Skipped(SkipKind::Environmental) => "SKIP?",
        Standing::Flaky => "FLAKY",
        Standing::Interrupted => "INTR",
    }
}

fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}
