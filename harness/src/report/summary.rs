//! The human summary printed at the end of a run: counts, then a table of
//! every cell that did not pass, with why.

use std::fmt::Write;

use crate::model::{CellResult, Outcome};

pub fn render(results: &[CellResult], elapsed_s: f64) -> String {
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    let unmet = results
        .iter()
        .filter(|r| !r.verdict.met && r.outcome != Outcome::Interrupted)
        .count();
    let expected_fail = results
        .iter()
        .filter(|r| {
            r.verdict.met && !r.flaky() && !matches!(r.outcome, Outcome::Pass | Outcome::Skip)
        })
        .count();
    // A flaky cell met its expectation only on a retry: not a pass.
    let flaky = results.iter().filter(|r| r.flaky()).count();
    let passed = results
        .iter()
        .filter(|r| r.outcome == Outcome::Pass && !r.flaky())
        .count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{} cells in {:.1}s: {} passed, {} expected failures, {} skipped, {} not as expected{}{}{}",
        results.len(),
        elapsed_s,
        passed,
        expected_fail,
        count(Outcome::Skip),
        unmet,
        match flaky {
            0 => String::new(),
            n => format!(", {n} flaky"),
        },
        match count(Outcome::Interrupted) {
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
        .filter(|r| r.outcome != Outcome::Pass || !r.verdict.met || r.flaky())
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
        let mark = match (r.verdict.met, r.outcome) {
            (_, Outcome::Interrupted) => "INTR",
            _ if r.flaky() => "FLAKY",
            (_, Outcome::Skip) => "SKIP",
            (true, _) => "XFAIL",
            (false, _) => "FAIL",
        };
        let why = if r.flaky() {
            let first = &r.attempts[0];
            format!(
                "{} on try 1 of {}: {}",
                first.outcome,
                r.attempts.len() + 1,
                first.verdict.message
            )
        } else if r.verdict.met && r.outcome != Outcome::Skip {
            r.verdict.message.clone()
        } else if r.outcome == Outcome::Skip {
            r.reason.clone().unwrap_or_default()
        } else {
            r.verdict.message.clone()
        };
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

fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}
