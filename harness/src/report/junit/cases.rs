//! What each cell becomes in the report: its suite, its testcase's name
//! and classname, and its status (failure, skip, flaky), by the rules of
//! [`super`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{CellResult, Results, Runner, Standing, TestResult};

use crate::process::shown::command_line;

pub(super) struct Suite<'a> {
    pub(super) goos: &'a str,
    pub(super) goarch: &'a str,
    pub(super) cases: Vec<Case<'a>>,
}

pub(super) struct Case<'a> {
    pub(super) result: &'a CellResult,
    /// A Go test of a `test:` cell: the case is that test, not the cell.
    pub(super) test: Option<&'a TestResult>,
    pub(super) name: Cow<'a, str>,
    pub(super) classname: String,
    /// What this cell's property names start with: unique in the file.
    pub(super) prefix: String,
    pub(super) status: Status,
}

pub(super) enum Status {
    Passed,
    /// `<skipped>`, with its `type`: `pytest.xfail` for an expected
    /// failure (pytest's word, so tools that know pytest's expected
    /// failures know ours), `built` for a cell built and not run, `skip`
    /// for any other.
    Skipped {
        kind: &'static str,
        message: String,
        body: String,
    },
    Failed {
        message: String,
        body: String,
    },
    /// `<error>`: the case never finished, so nothing can be said of it
    /// but that the run was stopped.
    Error {
        message: String,
        body: String,
    },
}

impl Status {
    pub(super) fn is_failure(&self) -> bool {
        matches!(self, Status::Failed { .. })
    }

    pub(super) fn is_error(&self) -> bool {
        matches!(self, Status::Error { .. })
    }

    pub(super) fn is_skip(&self) -> bool {
        matches!(self, Status::Skipped { .. })
    }
}

pub(super) fn suites(results: &Results) -> Vec<Suite<'_>> {
    // Cells that more than one runner ran: their classnames name the runner.
    let mut runners: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in &results.cells {
        if let Some(on) = &r.ran_on {
            *runners.entry((&r.cell.matrix, base_id(r, on))).or_default() += 1;
        }
    }
    let classname = |r: &CellResult| {
        let c = &r.cell;
        let mut name = format!(
            "crossprobe.{}.{}.{}",
            c.matrix.replace('.', "_"),
            c.goos,
            c.goarch
        );
        if let Some(on) = &r.ran_on {
            if runners[&(c.matrix.as_str(), base_id(r, on))] > 1 {
                name.push('.');
                name.push_str(&on.replace('.', "_"));
            }
        }
        name
    };
    let mixed = results.matrices.len() > 1
        || results
            .cells
            .iter()
            .any(|r| r.cell.matrix != results.cells[0].cell.matrix);
    let mut by_target: BTreeMap<(&str, &str), Vec<&CellResult>> = BTreeMap::new();
    for r in &results.cells {
        by_target
            .entry((&r.cell.goos, &r.cell.goarch))
            .or_default()
            .push(r);
    }
    by_target
        .into_iter()
        .map(|((goos, goarch), mut cells)| {
            // Cells finish in whatever order the workers take; sorting keeps
            // two runs of one matrix diffable.
            cells.sort_by(|a, b| (&a.cell.matrix, &a.cell.id).cmp(&(&b.cell.matrix, &b.cell.id)));
            let mut cases = Vec::new();
            for r in cells {
                let name = case_name(r);
                let prefix = if mixed {
                    format!("{}:{}", r.cell.matrix, r.cell.id)
                } else {
                    r.cell.id.clone()
                };
                for (test, status) in cell_cases(r) {
                    cases.push(Case {
                        result: r,
                        test,
                        name: match test {
                            Some(t) => Cow::Owned(format!("{name}/{}", t.name)),
                            None => Cow::Borrowed(name),
                        },
                        classname: classname(r),
                        prefix: prefix.clone(),
                        status,
                    });
                }
            }
            Suite {
                goos,
                goarch,
                cases,
            }
        })
        .collect()
}

/// The testcases a cell becomes, with their status: each of its Go tests,
/// then the cell itself unless its tests tell all
/// ([`CellResult::tests_tell_all`]).
pub(super) fn cell_cases(r: &CellResult) -> Vec<(Option<&TestResult>, Status)> {
    let mut cases: Vec<(Option<&TestResult>, Status)> =
        r.tests.iter().map(|t| (Some(t), test_status(t))).collect();
    if !r.tests_tell_all() {
        cases.push((None, status(r)));
    }
    cases
}

/// A merged cell's id as its own run wrote it, without `@runner`.
pub(super) fn base_id<'a>(r: &'a CellResult, on: &str) -> &'a str {
    r.cell
        .id
        .strip_suffix(on)
        .and_then(|s| s.strip_suffix('@'))
        .unwrap_or(&r.cell.id)
}

pub(super) fn case_name(r: &CellResult) -> &str {
    let c = &r.cell;
    c.id.strip_prefix(c.goos.as_str())
        .and_then(|s| s.strip_prefix('/'))
        .and_then(|s| s.strip_prefix(c.goarch.as_str()))
        .and_then(|s| s.strip_prefix('/'))
        .filter(|s| !s.is_empty())
        .unwrap_or(&c.id)
}

/// A cell's testcase, by its standing. An interrupted cell is an error
/// whatever its verdict: it never got to show what it does, and a CI job
/// killed at its time limit must read as failing, not as "20 skipped". A
/// skip that the matrix did not expect is a failure, or a missing runner
/// could turn a whole target green.
pub(super) fn status(r: &CellResult) -> Status {
    match r.standing() {
        Standing::Interrupted => {
            let why = r
                .reason
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or("interrupted before it finished");
            Status::Error {
                message: format!("{why}: the run was stopped (Ctrl-C or SIGTERM)"),
                body: details(r),
            }
        }
        Standing::Unmet => failure(r),
        Standing::ExpectedFailure => Status::Skipped {
            kind: XFAIL,
            message: format!(
                "expected failure ({}): {}",
                r.outcome,
                r.cell
                    .expect
                    .reason
                    .as_deref()
                    .unwrap_or(&r.verdict.message)
            ),
            body: details(r),
        },
        Standing::BuiltNotRun => Status::Skipped {
            kind: BUILT,
            message: format!("{}: {}", r.built_not_run_label(), skip_reason(r)),
            body: String::new(),
        },
        Standing::Skipped(_) => Status::Skipped {
            kind: "skip",
            message: skip_reason(r).to_string(),
            body: String::new(),
        },
        Standing::Passed | Standing::Flaky => Status::Passed,
    }
}

/// pytest's `type` for an expected failure's `<skipped>`.
pub(super) const XFAIL: &str = "pytest.xfail";
/// The `type` of a built, not run cell's `<skipped>`.
pub(super) const BUILT: &str = "built";

fn skip_reason(r: &CellResult) -> &str {
    let reason = match (&r.reason, &r.cell.runner) {
        (Some(reason), _) => reason.as_str(),
        (None, Runner::None { reason, .. }) => reason.as_str(),
        (None, _) => "skipped",
    };
    first_line(reason)
}

/// A Go test, by its standing: its own output in its failure, `t.Skip`'s
/// message in its skip, and an expected failure as the cell's are.
pub(super) fn test_status(t: &TestResult) -> Status {
    match t.standing() {
        Standing::Unmet => {
            let message = match (t.message.as_str(), t.assertion()) {
                ("failed", a) if a.is_empty() => "failed".to_string(),
                ("failed", a) => a,
                (m, _) => m.to_string(),
            };
            Status::Failed {
                message,
                body: format!("{}\n{}", t.message, t.output),
            }
        }
        Standing::ExpectedFailure => Status::Skipped {
            kind: XFAIL,
            message: match t.message.as_str() {
                "" => "expected failure: its subtests failed as expected".to_string(),
                m => format!("expected failure: {m}"),
            },
            body: t.output.clone(),
        },
        Standing::Skipped(_) => Status::Skipped {
            kind: "skip",
            message: match first_line(&t.output) {
                "" => "skipped".to_string(),
                m => m.to_string(),
            },
            body: String::new(),
        },
        _ => Status::Passed,
    }
}

pub(super) fn failure(r: &CellResult) -> Status {
    let reason = r.reason.as_deref().filter(|s| !s.trim().is_empty());
    // A missing tool's failure says how to get it: doctor's fix.
    let message = match &r.missing {
        Some(m) => format!("{} is missing: {}", m.tool, m.fix),
        None => first_line(reason.unwrap_or(&r.verdict.message)).to_string(),
    };
    Status::Failed {
        message,
        body: details(r),
    }
}

/// The verdict, the reason, the expect entry and every command run: what a
/// failure's, an error's or an expected failure's text says.
fn details(r: &CellResult) -> String {
    let reason = r.reason.as_deref().filter(|s| !s.trim().is_empty());
    let mut body = r.verdict.message.clone();
    if let Some(reason) = reason {
        body.push('\n');
        body.push_str(reason);
    }
    if let Some(source) = &r.cell.expect.source {
        let _ = write!(body, "\nexpectation: {source}");
    }
    for (_, c) in r.commands() {
        let _ = write!(body, "\n$ {}", command_line(c));
    }
    body.push('\n');
    body
}

pub(super) fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_name_drops_the_target() {
        let json = serde_json::json!({
            "id": "linux/arm/GOARM=5/cgo0/hello", "slug": "x", "matrix": "m",
            "probe": "hello", "lang": "go", "goos": "linux", "goarch": "arm",
            "go": "local", "cgo": "0", "ldflags": "", "tags": "", "flags": "",
            "env": {}, "runner": {"kind": "native"}, "expect": {"outcome": "pass"}
        });
        let cell: crate::model::Cell = serde_json::from_value(json).unwrap();
        let r = CellResult {
            cell,
            outcome: crate::model::Outcome::Pass,
            reason: None,
            verdict: crate::model::Verdict {
                met: true,
                message: String::new(),
            },
            facts: BTreeMap::new(),
            phases: vec![],
            duration_ms: 0,
            dir: None,
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            missing: None,
            not_run: None,
            tests: Vec::new(),
            key: None,
        };
        assert_eq!(case_name(&r), "GOARM=5/cgo0/hello");
        let mut other = r.clone();
        other.cell.id = "linux/arm64/x".into();
        assert_eq!(case_name(&other), "linux/arm64/x");
    }
}
