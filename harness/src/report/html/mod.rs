//! report.html: the results as a grid, in one self-contained file that
//! fetches nothing, so it opens from a CI artifact, offline, years later.
//!
//! Rows are targets (GOOS/GOARCH and the variables that make variants of
//! them, such as GOARM), columns are probe × cgo × ldflags; for a module's
//! tests, rows are its packages and Go tests and columns its targets. Any
//! axis can be chosen, here (`report html --rows/--cols`, refused with the
//! axes there are when unknown) or in the page; `package` and `test` are
//! axes too. With `test` among them a square is a Go test, else a cell.
//! Axes that never vary are not drawn: the line under the title names
//! their one value. A square is coloured by how it stood; clicking it shows
//! its reason, its failing tests with their output, facts, a log excerpt
//! and how to replay it. `#cell=<id>` in the URL opens that cell on load.
//! Given last night's results (`report html --diff`), the page shows what
//! changed since, and marks the squares that did.
//!
//! This module only flattens each [`CellResult`] into what the page shows;
//! the page (`report.html` here) lays out the grid itself, so the axes can
//! change without regenerating the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::axis;
use crate::errors::{did_you_mean, Error};
use crate::model::{CellResult, Command, Outcome, PhaseName, Results, Standing, TestResult};
use crate::process::shown::quote;

mod changes;
mod layout;

use changes::{Changed, DiffPane};

const TEMPLATE: &str = include_str!("report.html");

/// Bytes of log shown per cell. A thousand failing cells at this size is
/// a few megabytes: still a file a browser opens at once.
const LOG_EXCERPT: usize = 3000;
/// Bytes of a Go test's own output shown: a failing test's whole message
/// in most cases, a passing test's first lines.
const TEST_OUTPUT: usize = 2000;
const PASSED_TEST_OUTPUT: usize = 300;

/// Which axes make the rows and which the columns; empty means the default.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
}

impl Layout {
    /// Refuses an axis that `results` do not have, naming those they do.
    pub fn check(&self, results: &Results) -> Result<(), Error> {
        let cells: Vec<Square> = results.cells.iter().map(square).collect();
        let known = axes(&cells);
        for (flag, chosen) in [("--rows", &self.rows), ("--cols", &self.cols)] {
            for a in chosen {
                if !known.contains(a) {
                    return Err(Error::Usage {
                        message: format!(
                            "{flag}: unknown axis {a:?}{}",
                            did_you_mean(a, known.iter().map(String::as_str))
                        ),
                        help: Some(format!("the axes of these results: {}", known.join(", "))),
                    });
                }
            }
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Page<'a> {
    title: String,
    meta: Vec<(String, String)>,
    tools: &'a BTreeMap<String, String>,
    axes: Vec<String>,
    /// Axes that a cell id leaves out at their default (cc, buildmode,
    /// ldflags, ...), with it: the page leaves them out of its line of
    /// values every cell shares too.
    quiet: BTreeMap<&'static str, &'static str>,
    rows: Vec<String>,
    cols: Vec<String>,
    cells: Vec<Square>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<DiffPane>,
}

#[derive(Serialize)]
struct Square {
    id: String,
    matrix: String,
    /// Axis name → value, including `matrix`, `runner` (the host) and, for
    /// a `test:` cell, `package`.
    axes: BTreeMap<String, String>,
    status: &'static str,
    outcome: Outcome,
    expected: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    verdict: String,
    emulator: String,
    ms: u64,
    facts: BTreeMap<String, serde_json::Value>,
    log: String,
    replay: Vec<String>,
    /// Earlier tries' outcomes, for a flaky or retried cell.
    attempts: Vec<String>,
    /// For a `test:` cell: "12 passed, 2 failed, 1 skipped".
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<String>,
    /// Each Go test of a `test:` cell.
    go_tests: Vec<GoTest>,
    /// Whether the cell is a square of its own when squares are Go tests
    /// (see [`CellResult::tests_tell_all`]).
    own: bool,
    /// Reused from the result cache: built and run by an earlier run.
    cached: bool,
    /// Why a built cell was not run, in [`crate::model::NotRun::words`].
    #[serde(skip_serializing_if = "Option::is_none")]
    not_run: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    /// How it changed since the diff's BASE: `newly-failing`, `fixed`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<Changed>,
}

#[derive(Serialize)]
struct GoTest {
    name: String,
    package: String,
    status: &'static str,
    outcome: &'static str,
    ms: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    output: String,
}

/// How a square is coloured: one word per way a cell can stand.
pub fn status(r: &CellResult) -> &'static str {
    colour(r.standing())
}

fn colour(st: Standing) -> &'static str {
    match st {
        // Both kinds of skip are grey; the reason says which.
        Standing::Skipped(_) => "skip",
        st => st.as_str(),
    }
}

/// The page for `results`; with `base`, what changed since it too
/// (`label` names it, e.g. the file it came from).
pub fn render(results: &Results, layout: &Layout, base: Option<(&Results, &str)>) -> String {
    let mut cells: Vec<Square> = results.cells.iter().map(square).collect();
    let diff = base.map(|(b, label)| {
        let d = super::diff::diff(b, results);
        changes::mark_changes(&mut cells, &d);
        changes::pane(&d, b, label)
    });
    let axes = axes(&cells);
    let (rows, cols) = layout::chosen_layout(layout, &cells, &axes);
    let page = Page {
        title: format!("crossprobe: {}", results.matrices.join(", ")),
        meta: meta(results),
        tools: &results.tools,
        rows,
        cols,
        axes,
        quiet: axis::AXES
            .iter()
            .filter(|a| !a.id.always)
            .filter_map(|a| Some((a.key, a.default?)))
            .collect(),
        cells,
        diff,
    };
    let json = serde_json::to_string(&page).expect("the page serialises");
    // Inside <script>, `</script>` or `<!--` in a log would end the element
    // early; escaped, JSON.parse reads the same characters back.
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    TEMPLATE
        .replacen("\"__CROSSPROBE_DATA__\"", &json, 1)
        .replacen("__TITLE__", &escape(&page.title), 1)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn meta(r: &Results) -> Vec<(String, String)> {
    let mut m = vec![
        ("matrices".to_string(), r.matrices.join(", ")),
        ("started".to_string(), r.started_at.clone()),
        (
            "took".to_string(),
            format!("{:.1}s", r.duration_ms as f64 / 1000.0),
        ),
    ];
    let hosts: Vec<String> = if r.merged_from.is_empty() {
        vec![host_line(&r.host, r.shard.as_deref())]
    } else {
        r.merged_from
            .iter()
            .map(|s| host_line(&s.host, s.shard.as_deref()))
            .collect()
    };
    for h in hosts.into_iter().collect::<BTreeSet<_>>() {
        m.push(("runner".to_string(), h));
    }
    if r.interrupted {
        m.push((
            "interrupted".to_string(),
            "yes: some cells never finished".to_string(),
        ));
    }
    m.push(("crossprobe".to_string(), r.crossprobe_version.clone()));
    m
}

fn host_line(h: &crate::model::Host, shard: Option<&str>) -> String {
    let mut s = format!(
        "{} ({}/{}, {}, {})",
        h.runner, h.goos, h.goarch, h.kernel, h.cpu
    );
    if let Some(sh) = shard {
        let _ = write!(s, " shard {sh}");
    }
    s
}

fn square(r: &CellResult) -> Square {
    let c = &r.cell;
    let mut axes: BTreeMap<String, String> = axis::pairs(c).into_iter().collect();
    axes.insert("matrix".into(), c.matrix.clone());
    if let Some(on) = &r.ran_on {
        axes.insert("runner".into(), on.clone());
    }
    if !c.package.is_empty() {
        axes.insert("package".into(), c.package.clone());
    }
    Square {
        id: c.id.clone(),
        matrix: c.matrix.clone(),
        axes,
        status: status(r),
        outcome: r.outcome,
        expected: c.expect.outcome,
        expect_reason: c.expect.reason.clone(),
        reason: r.reason.clone(),
        verdict: r.verdict.message.clone(),
        emulator: c.runner.name().to_string(),
        ms: r.duration_ms,
        facts: r.facts.clone(),
        log: excerpt(r),
        replay: replay(r),
        attempts: r
            .attempts
            .iter()
            .map(|a| format!("{}: {}", a.outcome, a.verdict.message))
            .collect(),
        tests: (!r.tests.is_empty()).then(|| r.test_counts().to_string()),
        go_tests: r.tests.iter().map(go_test).collect(),
        own: !r.tests_tell_all(),
        cached: r.cached,
        not_run: r.not_run().map(|w| w.words()),
        dir: r.dir.clone(),
        change: None,
    }
}

fn go_test(t: &TestResult) -> GoTest {
    let st = t.standing();
    let cap = match st {
        Standing::Passed => PASSED_TEST_OUTPUT,
        _ => TEST_OUTPUT,
    };
    GoTest {
        name: t.name.clone(),
        package: t.package.clone(),
        status: colour(st),
        outcome: t.outcome.as_str(),
        ms: t.duration_ms,
        message: t.message.clone(),
        output: head(&t.output, cap).to_string(),
    }
}

/// Every axis any cell has, in the order `axis::pairs` gives them, then
/// `package` and `test` for a module's tests.
fn axes(cells: &[Square]) -> Vec<String> {
    let order: Vec<&str> = ["matrix", "runner"]
        .into_iter()
        .chain(axis::ranked().map(|a| a.key))
        .chain(["package"])
        .collect();
    let mut v: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    let extra: BTreeSet<&String> = cells
        .iter()
        .flat_map(|c| c.axes.keys())
        .filter(|k| !order.contains(&k.as_str()))
        .collect();
    v.extend(extra.into_iter().cloned());
    v.retain(|a| cells.iter().any(|c| c.axes.contains_key(a)));
    if cells.iter().any(|c| !c.go_tests.is_empty()) {
        v.push("test".to_string());
    }
    v
}

/// The tail of what the command that decided the outcome printed: the build
/// for a build failure, else the run (or the build when nothing ran).
fn excerpt(r: &CellResult) -> String {
    let pick = |name: PhaseName| {
        r.commands()
            .filter(|(p, _)| *p == name)
            .map(|(_, c)| c)
            .last()
    };
    let cmd = match r.outcome {
        Outcome::BuildFail => pick(PhaseName::Build),
        _ => pick(PhaseName::Run).or_else(|| pick(PhaseName::Build)),
    };
    let Some(cmd) = cmd else { return String::new() };
    let mut s = String::new();
    for (name, cap) in [("stderr", &cmd.stderr), ("stdout", &cmd.stdout)] {
        if cap.text.trim().is_empty() {
            continue;
        }
        let _ = writeln!(s, "--- {name} ({} bytes)", cap.bytes);
        s.push_str(tail(&cap.text, LOG_EXCERPT / 2));
        if !s.ends_with('\n') {
            s.push('\n');
        }
    }
    let _ = write!(s, "--- {}", cmd.exit);
    s
}

/// The first `max` bytes of `s`, ending on a line when one ends close by.
fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    match s[..i].rfind('\n') {
        Some(nl) if i - nl < 200 => &s[..nl + 1],
        _ => &s[..i],
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = s.len() - max;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    // Start on a whole line when one begins close by.
    match s[i..].find('\n') {
        Some(nl) if nl < 200 => &s[i + nl + 1..],
        _ => &s[i..],
    }
}

/// How to run this cell again: crossprobe on its matrix, then the exact
/// commands it ran, env first.
fn replay(r: &CellResult) -> Vec<String> {
    let c = &r.cell;
    let id = match &r.ran_on {
        Some(on) => c.id.strip_suffix(&format!("@{on}")).unwrap_or(&c.id),
        None => &c.id,
    };
    let mut v = vec![format!(
        "crossprobe run {}.yaml --filter {} -j1 --keep",
        c.matrix,
        quote(id)
    )];
    v.extend(r.commands().map(|(_, cmd)| command_line(cmd)));
    v
}

fn command_line(c: &Command) -> String {
    let mut parts = Vec::new();
    if let Some(cwd) = &c.cwd {
        parts.push(format!("cd {} &&", quote(cwd)));
    }
    parts.extend(c.env.iter().map(|(k, v)| format!("{k}={}", quote(v))));
    parts.extend(c.argv.iter().map(|a| quote(a).into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_start_on_a_line() {
        let s: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = tail(&s, 30);
        assert!(t.starts_with("line 9"), "{t:?}");
        assert!(t.ends_with("line 99\n"));
        assert_eq!(tail("short", 30), "short");
    }

    #[test]
    fn quotes_for_pasting() {
        assert_eq!(quote("linux/amd64/cgo0/hello"), "linux/amd64/cgo0/hello");
        assert_eq!(
            quote("linux/amd64/cgo0/ldflags=-s -w/hello"),
            "'linux/amd64/cgo0/ldflags=-s -w/hello'"
        );
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn data_cannot_close_the_script_element() {
        let results: Results = serde_json::from_value(serde_json::json!({
            "schema": 1, "crossprobe_version": "0", "matrices": ["</script><b>"],
            "started_at": "", "duration_ms": 0, "host": {"os": "linux", "arch": "amd64"},
            "tools": {}, "interrupted": false, "cells": []
        }))
        .unwrap();
        let html = render(&results, &Layout::default(), None);
        assert_eq!(
            html.matches("</script>").count(),
            html.matches("<script").count()
        );
        assert!(html.contains("<title>crossprobe: &lt;/script&gt;&lt;b&gt;</title>"));
    }
}
