//! The human summary printed at the end of a run: counts, then a table of
//! every cell that did not pass, with why.

use std::fmt::Write;

use crate::model::{CellResult, SkipKind, Standing};

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
        "\n{} cells in {:.1}s: {} passed, {} expected failures, {} skipped, {} not as expected{}{}{}{}",
        results.len(),
        elapsed_s,
        count(Standing::Passed),
        count(Standing::ExpectedFailure),
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
            Standing::Skipped(_) => r.reason.clone().unwrap_or_default(),
            _ => r.verdict.message.clone(),
        };
        let mark = mark(standing);
        let _ = writeln!(
            s,
            "  {mark:<5} {:<11} {:<id_w$}  {}{}",
            r.outcome.as_str(),
            r.cell.id,
            if r.cached { "(cached) " } else { "" },
            one_line(&why, 160)
        );
        if !r.verdict.met {
            if let Some(d) = &r.dir {
                let _ = writeln!(s, "        {:<11} {:<id_w$}  kept: {d}", "", "");
            }
        }
    }
    s
}

/// The summary's word for a standing.
pub fn mark(st: Standing) -> &'static str {
    match st {
        Standing::Passed => "OK",
        Standing::ExpectedFailure => "XFAIL",
        Standing::Unmet => "FAIL",
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
