//! What each cell becomes in the report: its suite, its testcase's name
//! and classname, and its status (failure, skip, flaky), by the rules of
//! [`super`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{CellResult, Results, Runner, Standing, TestOutcome, TestResult};

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
    Skipped { message: String },
    Failed { message: String, body: String },
}

impl Status {
    pub(super) fn is_failure(&self) -> bool {
        matches!(self, Status::Failed { .. })
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
                for t in &r.tests {
                    cases.push(Case {
                        result: r,
                        test: Some(t),
                        name: Cow::Owned(format!("{name}/{}", t.name)),
                        classname: classname(r),
                        prefix: prefix.clone(),
                        status: test_status(t),
                    });
                }
                // The cell itself, unless its tests tell all: a package
                // whose test binary did not build, or that failed in a way
                // no single test shows (TestMain, a crash between tests).
                if r.tests.is_empty() || (!r.verdict.met && r.tests.iter().all(|t| t.met)) {
                    cases.push(Case {
                        result: r,
                        test: None,
                        name: Cow::Borrowed(name),
                        classname: classname(r),
                        prefix,
                        status: status(r),
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

/// An interrupted cell is skipped whatever its verdict: it never got to show
/// what it does. A skip that the matrix did not expect is a failure, or a
/// missing runner could turn a whole target green.
pub(super) fn status(r: &CellResult) -> Status {
    match r.standing() {
        Standing::Interrupted => Status::Skipped {
            message: "interrupted before it finished".to_string(),
        },
        Standing::Unmet => failure(r),
        Standing::Skipped(_) => {
            let reason = match (&r.reason, &r.cell.runner) {
                (Some(reason), _) => reason.as_str(),
                (None, Runner::None { reason, .. }) => reason.as_str(),
                (None, _) => "skipped",
            };
            Status::Skipped {
                message: first_line(reason).to_string(),
            }
        }
        Standing::Passed | Standing::ExpectedFailure | Standing::Flaky => Status::Passed,
    }
}

/// A Go test: its own output in its failure, `t.Skip`'s message in its
/// skip. A failure that was expected passes, as an expected cell does.
pub(super) fn test_status(t: &TestResult) -> Status {
    match t.outcome {
        _ if !t.met => {
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
        TestOutcome::Skip => Status::Skipped {
            message: match first_line(&t.output) {
                "" => "skipped".to_string(),
                m => m.to_string(),
            },
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
    Status::Failed { message, body }
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
            tests: Vec::new(),
            key: None,
        };
        assert_eq!(case_name(&r), "GOARM=5/cgo0/hello");
        let mut other = r.clone();
        other.cell.id = "linux/arm64/x".into();
        assert_eq!(case_name(&other), "linux/arm64/x");
    }
}
