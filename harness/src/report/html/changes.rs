//! What changed since a base run (`report html --diff BASE`): the pane
//! above the grid, and each changed cell of HEAD marked, in `report
//! diff`'s words and sections.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Square;
use crate::model::Results;
use crate::report::diff::{self, Diff};

#[derive(Clone, Serialize)]
pub(super) struct Changed {
    /// The diff's section, as a filter word: `newly-failing`, `new`, ...
    kind: String,
    title: String,
    base: String,
    head: String,
}

/// What changed since BASE, for the pane above the grid.
#[derive(Serialize)]
pub(super) struct DiffPane {
    base: String,
    base_started: String,
    headline: String,
    regressions: usize,
    warnings: Vec<String>,
    tests: Vec<DiffTest>,
    sections: Vec<DiffSection>,
}

/// A newly failing Go test; `label` is how the page finds its square.
#[derive(Serialize)]
struct DiffTest {
    label: String,
    id: String,
    name: String,
    base: &'static str,
    regression: bool,
    as_expected: bool,
    note: &'static str,
    why: String,
}

#[derive(Serialize)]
struct DiffSection {
    title: &'static str,
    kind: String,
    changes: Vec<DiffChange>,
}

#[derive(Serialize)]
struct DiffChange {
    id: String,
    base: String,
    head: String,
    why: String,
}

/// The diff's sections, and each changed cell of HEAD marked with its own.
pub(super) fn mark_changes(cells: &mut [Square], d: &Diff) {
    let by_id: BTreeMap<(&str, &str), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.matrix.as_str(), c.id.as_str()), i))
        .collect();
    let mut marks = Vec::new();
    for (title, changes) in diff::sections(d) {
        for c in changes {
            if let Some(&i) = by_id.get(&(c.matrix.as_str(), c.id.as_str())) {
                marks.push((
                    i,
                    Changed {
                        kind: kind(title),
                        title: title.to_string(),
                        base: diff::outcome(c.base).to_string(),
                        head: diff::outcome(c.head).to_string(),
                    },
                ));
            }
        }
    }
    // A cell whose standing did not change, but where a test newly fails
    // not as expected, is marked for its tests (`report diff`'s regression).
    for t in d.newly_failing_tests.iter().filter(|t| t.regression) {
        if let Some(&i) = by_id.get(&(t.matrix.as_str(), t.id.as_str())) {
            if !marks.iter().any(|(j, _)| *j == i) {
                let head = cells[i].outcome.as_str().to_string();
                marks.push((
                    i,
                    Changed {
                        kind: kind(TESTS),
                        title: TESTS.to_string(),
                        base: head.clone(),
                        head,
                    },
                ));
            }
        }
    }
    for (i, m) in marks {
        cells[i].change = Some(m);
    }
}

const TESTS: &str = "Newly failing tests";

fn kind(title: &str) -> String {
    title.to_lowercase().replace(' ', "-")
}

pub(super) fn pane(d: &Diff, base: &Results, label: &str) -> DiffPane {
    DiffPane {
        base: label.to_string(),
        base_started: base.started_at.clone(),
        headline: diff::headline(d),
        regressions: d.regressions(),
        warnings: d.warnings.clone(),
        tests: d
            .newly_failing_tests
            .iter()
            .map(|t| DiffTest {
                label: t.label(),
                id: t.id.clone(),
                name: t.name.clone(),
                base: t.base_outcome(),
                regression: t.regression,
                as_expected: t.as_expected,
                note: diff::test_note(t, d),
                why: t.why.clone(),
            })
            .collect(),
        sections: diff::sections(d)
            .into_iter()
            .filter(|(_, c)| !c.is_empty())
            .map(|(title, changes)| DiffSection {
                title,
                kind: kind(title),
                changes: changes
                    .into_iter()
                    .map(|c| DiffChange {
                        id: c.id.clone(),
                        base: diff::outcome(c.base).to_string(),
                        head: diff::outcome(c.head).to_string(),
                        why: c.why.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
