//! The check of a `test:` cell: its outcome from the test binary's events,
//! and each Go test judged against the `expect` entries that name it.
//!
//! A cell passes when every test passed or skipped and the binary said
//! PASS; it is a run-fail when one failed, a timeout when `-test.timeout`
//! (or crossprobe's own) ran out. A test expected to fail that passes is
//! unmet, as an unexpected pass of a cell is: the expectation is strict.

use std::collections::BTreeMap;

use regex::Regex;

use crate::model::{Cell, Command, Expectation, Outcome, TestExpectation, TestOutcome, TestResult};
use crate::probe::test2json::{self, Converted};

/// The cell's outcome and reason, refined by what its tests reported.
pub fn outcome(
    outcome: Outcome,
    reason: Option<String>,
    run: Option<&Command>,
    tests: &Converted,
) -> (Outcome, Option<String>) {
    let Some(run) = run else {
        return (outcome, reason);
    };
    if let Some(why) = test2json::timed_out(&run.stderr.text) {
        return (Outcome::Timeout, Some(why));
    }
    match outcome {
        Outcome::Pass if tests.package != Some(TestOutcome::Pass) => (
            Outcome::RunFail,
            Some("the test binary exited 0 but never reported PASS".into()),
        ),
        Outcome::RunFail | Outcome::Timeout => {
            if let Some(t) = tests.running.first() {
                let why = reason.unwrap_or_default();
                return (
                    outcome,
                    Some(format!(
                        "the test binary ended while {t} was running: {why}"
                    )),
                );
            }
            let failed: Vec<&TestResult> = tests
                .tests
                .iter()
                .filter(|t| t.outcome == TestOutcome::Fail && !has_failed_child(tests, &t.name))
                .collect();
            // The first failure's own words: what the summary shows.
            let said = |t: &TestResult| match t.assertion() {
                a if a.is_empty() => String::new(),
                a => format!(": {a}"),
            };
            match failed.as_slice() {
                // No test ran: TestMain (or init) failed, and what it said
                // may take more than its first line (`log.Fatalf("setup
                // failed\ncause: …")`). A runtime's own fatal line (a panic,
                // TSan under qemu) already says it.
                [] if tests.tests.is_empty() && logged(&run.stderr.text) => {
                    let said: Vec<&str> = run
                        .stderr
                        .text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .take(4)
                        .collect();
                    let said: String = said.join(" ").chars().take(400).collect();
                    (outcome, Some(format!("{said} ({})", run.exit)))
                }
                [] => (outcome, reason),
                [one] => (outcome, Some(format!("{} failed{}", one.name, said(one)))),
                [first, rest @ ..] => (
                    outcome,
                    Some(format!(
                        "{} and {} more tests failed{}",
                        first.name,
                        rest.len(),
                        said(first)
                    )),
                ),
            }
        }
        o => (o, reason),
    }
}

/// Whether a test binary's stderr is a program's own log, not a runtime's
/// fatal error (which `check::first_relevant` already picks).
fn logged(stderr: &str) -> bool {
    let first = stderr.lines().map(str::trim).find(|l| !l.is_empty());
    first.is_some_and(|l| {
        !["panic:", "fatal error:", "FATAL:"]
            .iter()
            .any(|s| l.contains(s))
    })
}

fn has_failed_child(tests: &Converted, name: &str) -> bool {
    let prefix = format!("{name}/");
    tests
        .tests
        .iter()
        .any(|t| t.outcome == TestOutcome::Fail && t.name.starts_with(&prefix))
}

/// The cell's expectation once its tests have run: run-fail when a test
/// that ran is expected to fail, with those tests' reasons. An entry about
/// the cell itself (a build-fail, a match) stands as written.
pub fn expectation(cell: &Cell, tests: &Converted) -> Option<Expectation> {
    let exp = &cell.expect;
    if exp.tests.is_empty() || exp.source.is_some() || exp.outcome != Outcome::Pass {
        return None;
    }
    let mut reasons: Vec<String> = Vec::new();
    for t in exp.tests.iter().filter(|t| t.outcome == TestOutcome::Fail) {
        let Ok(re) = Regex::new(&t.test) else {
            continue;
        };
        if let Some(ran) = tests.tests.iter().find(|r| re.is_match(&r.name)) {
            let why = t.reason.as_deref().unwrap_or("expected to fail");
            reasons.push(format!("{}: {why}", ran.name));
        }
    }
    if reasons.is_empty() {
        return None;
    }
    Some(Expectation {
        outcome: Outcome::RunFail,
        reason: Some(reasons.join("; ")),
        source: exp.tests.iter().find_map(|t| t.source.clone()),
        ..exp.clone()
    })
}

/// The message of a parent test failed by its subtests alone.
const SUBTESTS: &str = "a subtest failed";

/// Each test judged, and what made the cell unmet beyond its outcome: a
/// test that failed unexpectedly, one expected to fail that passed.
pub fn judge(cell: &Cell, tests: &Converted) -> (Vec<TestResult>, Vec<String>) {
    let expectations: Vec<(Regex, &TestExpectation)> = cell
        .expect
        .tests
        .iter()
        .filter_map(|t| Regex::new(&t.test).ok().map(|re| (re, t)))
        .collect();
    let expected = |name: &str| {
        expectations
            .iter()
            .rev()
            .find(|(re, _)| re.is_match(name))
            .map(|(_, t)| *t)
    };
    let mut judged: Vec<TestResult> = tests.tests.clone();
    // Children first, so that a parent failed only by its subtests can
    // follow them.
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..judged.len()).collect();
        o.sort_by_key(|&i| std::cmp::Reverse(judged[i].name.matches('/').count()));
        o
    };
    let mut met_by_name: BTreeMap<String, bool> = BTreeMap::new();
    for i in order {
        let t = &judged[i];
        let want = expected(&t.name);
        let want_outcome = want.map_or(TestOutcome::Pass, |w| w.outcome);
        let because = want
            .and_then(|w| w.reason.as_deref())
            .unwrap_or("the expected failure");
        let prefix = format!("{}/", t.name);
        let children: Vec<bool> = met_by_name
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, m)| *m)
            .collect();
        let failed_children = judged
            .iter()
            .any(|c| c.name.starts_with(&prefix) && c.outcome == TestOutcome::Fail);
        let (met, message) = match (t.outcome, want_outcome) {
            (a, b) if a == b => (
                true,
                match (a, want) {
                    (TestOutcome::Pass, _) | (_, None) => String::new(),
                    (o, Some(_)) => format!("{} as expected ({because})", o.as_str()),
                },
            ),
            (TestOutcome::Skip, TestOutcome::Pass) => (true, String::new()),
            // A parent fails when a subtest does: its failure is theirs.
            (TestOutcome::Fail, _) if failed_children && want.is_none() => {
                let met = children.iter().all(|m| *m);
                (
                    met,
                    if met {
                        String::new()
                    } else {
                        SUBTESTS.to_string()
                    },
                )
            }
            (TestOutcome::Fail, TestOutcome::Pass) => (false, "failed".to_string()),
            (TestOutcome::Pass | TestOutcome::Skip, TestOutcome::Fail) => (
                false,
                format!("unexpected {}: {because} may be fixed", t.outcome.as_str()),
            ),
            (got, want) => (
                false,
                format!("expected {}, got {}", want.as_str(), got.as_str()),
            ),
        };
        met_by_name.insert(t.name.clone(), met);
        judged[i].met = met;
        judged[i].message = message;
    }
    let mut misses: Vec<String> = judged
        .iter()
        .filter(|t| !t.met && t.message != SUBTESTS)
        .map(|t| match t.message.as_str() {
            "failed" => format!("{} failed", t.name),
            m => format!("{}: {m}", t.name),
        })
        .collect();
    // Strict: an expected failure that matched no test at all is unmet too.
    for (re, t) in &expectations {
        if t.pinned
            && t.outcome == TestOutcome::Fail
            && !judged.iter().any(|j| re.is_match(&j.name))
        {
            misses.push(format!(
                "no test matched {:?}, expected to fail ({})",
                t.test,
                t.source.as_deref().unwrap_or("expect")
            ));
        }
    }
    (judged, misses)
}

/// The counts a report shows: `go_test.passed`, `.failed`, `.skipped`,
/// and `go_test.package`, how the binary itself ended.
pub fn facts(tests: &Converted) -> BTreeMap<String, serde_json::Value> {
    let count = |o: TestOutcome| tests.tests.iter().filter(|t| t.outcome == o).count();
    let mut f = BTreeMap::new();
    f.insert("go_test.passed".into(), count(TestOutcome::Pass).into());
    f.insert("go_test.failed".into(), count(TestOutcome::Fail).into());
    f.insert("go_test.skipped".into(), count(TestOutcome::Skip).into());
    f.insert(
        "go_test.package".into(),
        tests.package.map_or("none", TestOutcome::as_str).into(),
    );
    f
}

/// The events' summary again, from a stored result (the result cache).
pub fn stored(tests: &[TestResult], facts: &BTreeMap<String, serde_json::Value>) -> Converted {
    let package = match facts.get("go_test.package").and_then(|v| v.as_str()) {
        Some("pass") => Some(TestOutcome::Pass),
        Some("fail") => Some(TestOutcome::Fail),
        Some("skip") => Some(TestOutcome::Skip),
        _ => None,
    };
    let running = tests
        .iter()
        .filter(|t| t.output.contains(test2json::RUNNING_NOTE))
        .map(|t| t.name.clone())
        .collect();
    Converted {
        tests: tests.to_vec(),
        package,
        running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, outcome: TestOutcome) -> TestResult {
        TestResult {
            name: name.into(),
            package: "p".into(),
            outcome,
            duration_ms: 0,
            output: String::new(),
            met: true,
            message: String::new(),
        }
    }

    fn cell(expect: &[(&str, TestOutcome)]) -> Cell {
        let mut c = Cell::default();
        c.expect.tests = expect
            .iter()
            .map(|(re, o)| TestExpectation {
                test: format!("^(?:{re})$"),
                outcome: *o,
                reason: Some("int is 32 bits".into()),
                source: Some("m.yaml:9:5".into()),
                pinned: true,
            })
            .collect();
        c
    }

    #[test]
    fn expected_failures_are_strict() {
        let conv = Converted {
            tests: vec![
                t("TestInt", TestOutcome::Pass),
                t("TestOther", TestOutcome::Pass),
            ],
            package: Some(TestOutcome::Pass),
            running: vec![],
        };
        let (judged, misses) = judge(&cell(&[("TestInt", TestOutcome::Fail)]), &conv);
        assert!(!judged[0].met);
        assert_eq!(
            misses,
            ["TestInt: unexpected pass: int is 32 bits may be fixed"]
        );
        assert!(judged[1].met);
    }

    #[test]
    fn a_parent_failed_by_expected_subtests_is_met() {
        let conv = Converted {
            tests: vec![
                t("TestSub", TestOutcome::Fail),
                t("TestSub/a", TestOutcome::Pass),
                t("TestSub/b", TestOutcome::Fail),
            ],
            package: Some(TestOutcome::Fail),
            running: vec![],
        };
        let (judged, misses) = judge(&cell(&[("TestSub/b", TestOutcome::Fail)]), &conv);
        assert!(misses.is_empty(), "{misses:?}");
        assert!(judged.iter().all(|j| j.met));
        // Without the expectation both the subtest and its parent are unmet.
        let (_, misses) = judge(&cell(&[]), &conv);
        assert_eq!(misses, ["TestSub/b failed"]);
    }

    #[test]
    fn an_expected_failure_that_matches_nothing_is_unmet() {
        let conv = Converted::default();
        let (_, misses) = judge(&cell(&[("TestGone", TestOutcome::Fail)]), &conv);
        assert_eq!(misses.len(), 1);
        assert!(misses[0].starts_with("no test matched"), "{misses:?}");
    }
}
