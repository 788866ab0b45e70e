//! Step 5 of [`super`]: `expect` entries applied to the cells they match,
//! a `test:` cell's per-test ones included.

use crate::axis;
use crate::load::{Expect, Matrix};
use crate::model::{Cell, Expectation, Outcome, TestExpectation, TestOutcome};
use regex::Regex;

use super::{cell_id, slug};

pub fn expect_matches(e: &Expect, cell: &Cell) -> bool {
    e.when.iter().all(|(k, vals)| {
        let v = match k.as_str() {
            "package" => Some(cell.package.as_str()),
            k => axis::value(cell, k),
        };
        v.is_some_and(|v| vals.iter().any(|x| x == v))
    })
}

/// A `test:` probe's cell, once per package it tests; any other cell as
/// it is.
pub(super) fn per_package(m: &Matrix, cell: Cell) -> Vec<Cell> {
    let probe = m.probes.iter().find(|p| p.name == cell.probe);
    let Some(module) = probe.and_then(|p| p.module()) else {
        return vec![cell];
    };
    if !matches!(module.kind, crate::model::ModuleKind::Test(_)) {
        return vec![cell];
    }
    module
        .packages
        .iter()
        .map(|p| {
            let mut c = cell.clone();
            c.package = p.id.clone();
            c.id = cell_id(&c);
            c.slug = slug(&c.id);
            c
        })
        .collect()
}

/// An expect entry about Go tests: the tests it names may fail (or skip)
/// on this cell, strictly: one that passes instead fails the cell. What
/// that makes of the cell's own expectation is decided once its tests
/// have run (`check::gotest::expectation`).
pub(super) fn apply_test(exp: &mut Expectation, e: &Expect, re: &Regex) {
    let outcome = match e.outcome {
        Some(Outcome::RunFail) => TestOutcome::Fail,
        Some(Outcome::Skip) => TestOutcome::Skip,
        _ => TestOutcome::Pass,
    };
    exp.tests.retain(|t| t.test != re.as_str());
    exp.tests.push(TestExpectation {
        test: re.as_str().to_string(),
        outcome,
        reason: e.reason.clone(),
        source: Some(e.position.clone()),
        pinned: e.when.contains_key("package"),
    });
}

pub(super) fn apply(exp: &mut Expectation, e: &Expect) {
    if let Some(o) = e.outcome {
        exp.outcome = o;
        // A new outcome brings its own pattern and reason; an old pattern
        // would be checked against the wrong phase's output.
        exp.r#match = None;
        exp.reason = None;
    }
    if let Some(p) = &e.pattern {
        exp.r#match = Some(p.as_str().to_string());
    }
    if let Some(r) = &e.reason {
        exp.reason = Some(r.clone());
    }
    for (k, f) in &e.facts {
        exp.facts.insert(k.clone(), f.text.clone());
    }
    exp.source = Some(e.position.clone());
    if exp.outcome == Outcome::Pass
        && exp.r#match.is_none()
        && exp.reason.is_none()
        && exp.facts.is_empty()
    {
        exp.source = None;
    }
}

/// `goos/goarch` against a pattern where either side may be `*`.
pub fn target_matches(pattern: &str, target: &str) -> bool {
    let (po, pa) = pattern.split_once('/').unwrap_or((pattern, "*"));
    let (to, ta) = target.split_once('/').unwrap_or((target, ""));
    (po == "*" || po == to) && (pa == "*" || pa == ta)
}
