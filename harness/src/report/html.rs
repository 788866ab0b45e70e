//! report.html: the results as a grid, in one self-contained file that
//! fetches nothing, so it opens from a CI artifact, offline, years later.
//!
//! Rows are targets (GOOS/GOARCH and the variables that make variants of
//! them, such as GOARM), columns are probe × cgo × ldflags; both can be
//! chosen, here or in the page. A square is a cell, coloured by how it
//! stood; clicking it shows its reason, facts, a log excerpt and how to
//! replay it. `#cell=<id>` in the URL opens that cell on load.
//!
//! This module only flattens each [`CellResult`] into what the page shows;
//! the page (`html/report.html`) lays out the grid itself, so the axes can
//! change without regenerating the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::axis;
use crate::model::{CellResult, Command, Outcome, PhaseName, Results, Standing};
use crate::process::shown::quote;

const TEMPLATE: &str = include_str!("html/report.html");

/// Bytes of log shown per cell. A thousand failing cells at this size is
/// a few megabytes: still a file a browser opens at once.
const LOG_EXCERPT: usize = 3000;

/// Which axes make the rows and which the columns; empty means the default.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    title: String,
    meta: Vec<(String, String)>,
    tools: &'a BTreeMap<String, String>,
    axes: Vec<String>,
    rows: Vec<String>,
    cols: Vec<String>,
    cells: Vec<Square>,
}

#[derive(Serialize)]
struct Square {
    id: String,
    matrix: String,
    /// Axis name → value, including `matrix` and `runner` (the host).
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
    /// The failing Go tests, each with its output's first line.
    failing: Vec<String>,
    /// Reused from the result cache: built and run by an earlier run.
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
}

/// How a square is coloured: one word per way a cell can stand.
pub fn status(r: &CellResult) -> &'static str {
    match r.standing() {
        // Both kinds of skip are grey; the reason says which.
        Standing::Skipped(_) => "skip",
        st => st.as_str(),
    }
}

pub fn render(results: &Results, layout: &Layout) -> String {
    let cells: Vec<Square> = results.cells.iter().map(square).collect();
    let axes = axes(&cells);
    let (rows, cols) = default_layout(&cells, &axes);
    let pick = |chosen: &[String], default: Vec<String>| {
        if chosen.is_empty() {
            default
        } else {
            chosen.to_vec()
        }
    };
    let page = Page {
        title: format!("crossprobe: {}", results.matrices.join(", ")),
        meta: meta(results),
        tools: &results.tools,
        rows: pick(&layout.rows, rows),
        cols: pick(&layout.cols, cols),
        axes,
        cells,
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
        failing: r
            .tests
            .iter()
            .filter(|t| t.outcome == crate::model::TestOutcome::Fail)
            .map(|t| match t.assertion() {
                a if a.is_empty() => format!("{} ({})", t.name, t.package),
                a => format!("{} ({}): {a}", t.name, t.package),
            })
            .collect(),
        cached: r.cached,
        dir: r.dir.clone(),
    }
}

/// Every axis any cell has, in the order `axis::pairs` gives them.
fn axes(cells: &[Square]) -> Vec<String> {
    let order: Vec<&str> = ["matrix", "runner"]
        .into_iter()
        .chain(axis::ranked().map(|a| a.key))
        .collect();
    let mut v: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    let extra: BTreeSet<&String> = cells
        .iter()
        .flat_map(|c| c.axes.keys())
        .filter(|k| !order.contains(&k.as_str()))
        .collect();
    v.extend(extra.into_iter().cloned());
    v.retain(|a| cells.iter().any(|c| c.axes.contains_key(a)));
    v
}

/// Rows: the target and its variants (architecture variables such as
/// GOARM), then the runner and matrix when there are several. Columns:
/// probe × cgo × ldflags, then whichever other axes vary. The axis table
/// says which axis goes where ([`axis::Grid`]).
fn default_layout(cells: &[Square], axes: &[String]) -> (Vec<String>, Vec<String>) {
    let varies = |a: &str| {
        cells
            .iter()
            .map(|c| c.axes.get(a))
            .collect::<BTreeSet<_>>()
            .len()
            > 1
    };
    let placed = |g: axis::Grid| {
        axis::AXES
            .iter()
            .filter(move |a| a.grid == g)
            .map(|a| a.key.to_string())
    };
    let arch_var = |a: &str| crate::target::is_arch_env(a);
    let mut rows: Vec<String> = placed(axis::Grid::Row).collect();
    rows.extend(axes.iter().filter(|a| arch_var(a)).cloned());
    for a in ["runner", "matrix"] {
        if varies(a) {
            rows.push(a.to_string());
        }
    }
    let mut cols: Vec<String> = placed(axis::Grid::Column).collect();
    let fixed: Vec<String> = placed(axis::Grid::Row)
        .chain(placed(axis::Grid::Column))
        .chain(["runner".to_string(), "matrix".to_string()])
        .collect();
    cols.extend(
        axes.iter()
            .filter(|a| !fixed.contains(a) && !arch_var(a) && varies(a))
            .cloned(),
    );
    (rows, cols)
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
        let html = render(&results, &Layout::default());
        assert_eq!(
            html.matches("</script>").count(),
            html.matches("<script").count()
        );
        assert!(html.contains("<title>crossprobe: &lt;/script&gt;&lt;b&gt;</title>"));
    }
}
