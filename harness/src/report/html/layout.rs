//! Which axes make the rows and which the columns: the default for the
//! results (a module's tests by package and name, else targets by probe),
//! or what was asked for.

use std::collections::BTreeSet;

use super::{Layout, Square};
use crate::axis;

/// The most Go tests the default layout makes rows of; past it, packages
/// are the rows and tests are one click away.
const TEST_ROWS: usize = 400;

/// The layout asked for, the default where nothing was. Given only columns
/// (`--cols probe,package`), the rows are the targets; given only rows,
/// the columns are the default ones the rows do not take.
pub(super) fn chosen_layout(
    layout: &Layout,
    cells: &[Square],
    axes: &[String],
) -> (Vec<String>, Vec<String>) {
    let (rows, cols) = default_layout(cells, axes);
    let without = |v: Vec<String>, taken: &[String]| -> Vec<String> {
        v.into_iter().filter(|a| !taken.contains(a)).collect()
    };
    match (layout.rows.is_empty(), layout.cols.is_empty()) {
        (true, true) => (rows, cols),
        (false, false) => (layout.rows.clone(), layout.cols.clone()),
        (true, false) => {
            let targets = target_axes(axes)
                .into_iter()
                .chain(["runner", "matrix"].map(String::from))
                .filter(|a| varies(cells, a))
                .collect();
            (without(targets, &layout.cols), layout.cols.clone())
        }
        (false, true) => {
            let mut cols = without(cols, &layout.rows);
            if cols.is_empty() {
                cols = without(target_axes(axes), &layout.rows);
            }
            (layout.rows.clone(), cols)
        }
    }
}

pub(super) fn varies(cells: &[Square], a: &str) -> bool {
    cells
        .iter()
        .map(|c| c.axes.get(a))
        .collect::<BTreeSet<_>>()
        .len()
        > 1
}

/// The axes the axis table puts in a given place of the grid.
fn placed(g: axis::Grid) -> impl Iterator<Item = String> {
    axis::AXES
        .iter()
        .filter(move |a| a.grid == g)
        .map(|a| a.key.to_string())
}

/// The target: the axes the table makes rows (goos, goarch) and the
/// architecture variables (GOARM, GOAMD64, ...).
fn target_axes(axes: &[String]) -> Vec<String> {
    placed(axis::Grid::Row)
        .chain(
            axes.iter()
                .filter(|a| crate::target::is_arch_env(a))
                .cloned(),
        )
        .collect()
}

/// Rows: the target and its variants (architecture variables such as
/// GOARM), then the runner and matrix. Columns: the axes the table makes
/// columns (probe × cgo × ldflags), then the others. For a module's tests:
/// its probes, packages and (unless there are very many) Go tests as rows,
/// its targets as columns. The axis table says which axis goes where
/// ([`axis::Grid`]); an axis that never varies is left out wherever it
/// would go (the page names it under its title).
fn default_layout(cells: &[Square], axes: &[String]) -> (Vec<String>, Vec<String>) {
    let target = target_axes(axes);
    let (mut rows, mut cols) = if axes.iter().any(|a| a == "package") {
        let tests: BTreeSet<(&str, &str)> = cells
            .iter()
            .flat_map(|c| &c.go_tests)
            .map(|t| (t.package.as_str(), t.name.as_str()))
            .collect();
        let mut rows = vec!["probe".to_string(), "package".to_string()];
        if !tests.is_empty() && tests.len() <= TEST_ROWS {
            rows.push("test".to_string());
        }
        let mut cols = target;
        cols.extend(["runner", "matrix"].map(String::from));
        (rows, cols)
    } else {
        let mut rows = target;
        rows.extend(["runner", "matrix"].map(String::from));
        (rows, Vec::new())
    };
    let taken: BTreeSet<String> = rows.iter().chain(&cols).cloned().collect();
    let rest: Vec<String> = placed(axis::Grid::Column)
        .chain(placed(axis::Grid::Varying))
        .chain(axes.iter().cloned())
        .filter(|a| !taken.contains(a) && !crate::target::is_arch_env(a) && a != "test")
        .collect();
    for a in rest {
        if !cols.contains(&a) {
            cols.push(a);
        }
    }
    let keep = |a: &String| a == "test" || varies(cells, a);
    rows.retain(keep);
    cols.retain(keep);
    (rows, cols)
}
