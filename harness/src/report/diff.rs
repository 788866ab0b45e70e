//! `crossprobe report diff BASE HEAD`: what changed between two runs of
//! the same matrices — last night's and tonight's, or main's and a PR's.
//!
//! Cells pair up by matrix and id. A regression is a cell that met its
//! expectation in BASE and does not in HEAD, a new cell that does not
//! meet it, or a Go test that newly fails, not as expected, in a cell that
//! already failed in BASE (the cell's standing cannot show it: it was
//! unmet and still is); any regression makes the diff exit 1. Interrupted
//! cells are not compared: they never showed what they do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{CellResult, Outcome, Results, Standing, TestOutcome};

/// Met its expectation at the first try: passed, failed as expected,
/// built where it cannot run, or skipped as allowed.
fn met(st: Standing) -> bool {
    matches!(
        st,
        Standing::Passed | Standing::ExpectedFailure | Standing::BuiltNotRun | Standing::Skipped(_)
    )
}

/// Met, but its binary did not run: what a cell that ran before has
/// become when its runner went away.
fn not_run(st: Standing) -> bool {
    matches!(st, Standing::BuiltNotRun | Standing::Skipped(_))
}

/// One cell that changed.
#[derive(Clone, Debug)]
pub struct Change {
    pub matrix: String,
    pub id: String,
    /// Outcome in BASE and in HEAD; `None` on the side that lacks the cell.
    pub base: Option<Outcome>,
    pub head: Option<Outcome>,
    /// Why, in one line: HEAD's verdict, or BASE's for a removed cell.
    pub why: String,
    /// HEAD does not meet the expectation (a new cell's regression).
    pub unmet: bool,
}

/// A Go test that fails in HEAD and did not in BASE (it passed, was
/// skipped, or was not there), in a cell both runs compared.
#[derive(Clone, Debug)]
pub struct TestChange {
    pub matrix: String,
    /// The cell's id.
    pub id: String,
    pub package: String,
    pub name: String,
    /// Its outcome in BASE; `None` when BASE's cell had no such test.
    pub base: Option<TestOutcome>,
    /// Its failure, in one line; or that it failed as expected.
    pub why: String,
    /// Its failure is what the matrix expects of it.
    pub as_expected: bool,
    /// A regression of its own: not as expected, in a cell that failed in
    /// BASE and still does. A test that newly fails in a newly failing
    /// cell is that cell's regression; one that fails as expected is none.
    pub regression: bool,
}

impl TestChange {
    /// "TestX in example.com/m/p on <cell id>", as report.html finds it.
    pub fn label(&self) -> String {
        format!("{} in {} on {}", self.name, self.package, self.id)
    }

    pub fn base_outcome(&self) -> &'static str {
        self.base.map_or("-", TestOutcome::as_str)
    }
}

#[derive(Debug, Default)]
pub struct Diff {
    pub newly_failing: Vec<Change>,
    /// Go tests that fail in HEAD and did not in BASE, in cells both ran.
    pub newly_failing_tests: Vec<TestChange>,
    pub fixed: Vec<Change>,
    pub newly_flaky: Vec<Change>,
    /// Still as expected, but no longer run: a runner went missing.
    pub newly_skipped: Vec<Change>,
    pub new: Vec<Change>,
    /// New cells that do not meet their expectation: regressions too.
    pub new_failing: usize,
    pub removed: Vec<Change>,
    pub unchanged: usize,
    /// Cells interrupted in either run.
    pub not_compared: usize,
    pub warnings: Vec<String>,
}

impl Diff {
    pub fn regressions(&self) -> usize {
        self.newly_failing.len() + self.new_failing + self.test_regressions()
    }

    /// Go tests newly failing, not as expected, in cells already failing.
    pub fn test_regressions(&self) -> usize {
        self.newly_failing_tests
            .iter()
            .filter(|t| t.regression)
            .count()
    }
}

type Key = (String, String);

fn index(r: &Results) -> BTreeMap<Key, &CellResult> {
    r.cells
        .iter()
        .map(|c| ((c.cell.matrix.clone(), c.cell.id.clone()), c))
        .collect()
}

fn one_line(s: &str) -> String {
    let l = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if l.chars().count() > 200 {
        format!("{}…", l.chars().take(200).collect::<String>())
    } else {
        l.to_string()
    }
}

pub fn diff(base: &Results, head: &Results) -> Diff {
    let (b, h) = (index(base), index(head));
    let mut d = Diff::default();
    let change = |k: &Key, bc: Option<&CellResult>, hc: Option<&CellResult>| {
        let why = hc
            .or(bc)
            .map(|c| one_line(&c.verdict.message))
            .unwrap_or_default();
        Change {
            matrix: k.0.clone(),
            id: k.1.clone(),
            base: bc.map(|c| c.outcome),
            head: hc.map(|c| c.outcome),
            why,
            unmet: hc.is_some_and(|c| c.standing() == Standing::Unmet),
        }
    };
    for (k, hc) in &h {
        let Some(bc) = b.get(k) else {
            if hc.standing() == Standing::Unmet {
                d.new_failing += 1;
            }
            d.new.push(change(k, None, Some(hc)));
            continue;
        };
        let ch = change(k, Some(bc), Some(hc));
        d.newly_failing_tests.extend(newly_failing_tests(bc, hc));
        match (bc.standing(), hc.standing()) {
            (Standing::Interrupted, _) | (_, Standing::Interrupted) => d.not_compared += 1,
            (b, Standing::Unmet) if b != Standing::Unmet => d.newly_failing.push(ch),
            (Standing::Unmet, h) if met(h) => d.fixed.push(ch),
            (b, Standing::Flaky) if b != Standing::Flaky => d.newly_flaky.push(ch),
            (b, h) if not_run(h) && met(b) && !not_run(b) => d.newly_skipped.push(ch),
            _ => d.unchanged += 1,
        }
    }
    for (k, bc) in &b {
        if !h.contains_key(k) {
            d.removed.push(change(k, Some(bc), None));
        }
    }
    d.warnings = overlap_warning(base, head, &b, &h).into_iter().collect();
    d
}

/// The tests of a cell that fail in HEAD and did not in BASE. Interrupted
/// cells are not compared, their tests neither.
fn newly_failing_tests<'a>(
    base: &'a CellResult,
    head: &'a CellResult,
) -> impl Iterator<Item = TestChange> + 'a {
    let compared = ![base.standing(), head.standing()].contains(&Standing::Interrupted);
    // Unmet in BASE and still: the cell's standing hides a new failure.
    let already_failing = base.standing() == Standing::Unmet && head.standing() == Standing::Unmet;
    let before: BTreeMap<(&str, &str), TestOutcome> = base
        .tests
        .iter()
        .map(|t| ((t.package.as_str(), t.name.as_str()), t.outcome))
        .collect();
    head.tests
        .iter()
        .filter(move |t| compared && t.outcome == TestOutcome::Fail)
        .filter_map(move |t| {
            let was = before.get(&(t.package.as_str(), t.name.as_str())).copied();
            if was == Some(TestOutcome::Fail) {
                return None;
            }
            let unmet = t.standing() == Standing::Unmet;
            Some(TestChange {
                matrix: head.cell.matrix.clone(),
                id: head.cell.id.clone(),
                package: t.package.clone(),
                name: t.name.clone(),
                base: was,
                why: if unmet {
                    one_line(&t.assertion())
                } else {
                    one_line(&t.message)
                },
                as_expected: !unmet,
                regression: unmet && already_failing,
            })
        })
}

/// Two runs of unrelated matrices compare to "everything removed, everything
/// new"; say so, and what they do share.
fn overlap_warning(
    base: &Results,
    head: &Results,
    b: &BTreeMap<Key, &CellResult>,
    h: &BTreeMap<Key, &CellResult>,
) -> Option<String> {
    let shared = b.keys().filter(|k| h.contains_key(*k)).count();
    let bm: BTreeSet<&String> = base.matrices.iter().collect();
    let hm: BTreeSet<&String> = head.matrices.iter().collect();
    let few = shared * 2 < b.len().min(h.len());
    if bm == hm && !few {
        return None;
    }
    let list = |s: &BTreeSet<&String>| s.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
    let mut w = format!(
        "BASE and HEAD look unrelated: BASE ran {} ({} cells), HEAD ran {} ({} cells); {shared} cells are in both",
        list(&bm),
        b.len(),
        list(&hm),
        h.len()
    );
    let both: Vec<&str> = bm.intersection(&hm).map(|m| m.as_str()).collect();
    if !both.is_empty() {
        let _ = write!(w, ", all of matrices {}", both.join(", "));
    }
    let merged = |m: &BTreeMap<Key, &CellResult>| {
        m.values()
            .any(|c| c.ran_on.is_some() && c.cell.id.contains('@'))
    };
    if merged(b) != merged(h) {
        w.push_str(". One of them is merged from several runners, whose cell ids end in @runner: diff merged results with merged results");
    }
    Some(w)
}

pub(crate) fn outcome(o: Option<Outcome>) -> &'static str {
    o.map_or("-", Outcome::as_str)
}

/// The sections in the order people read them: regressions first.
pub(crate) fn sections(d: &Diff) -> [(&'static str, Vec<&Change>); 7] {
    let (new_bad, new_ok): (Vec<&Change>, Vec<&Change>) = d.new.iter().partition(|c| c.unmet);
    [
        ("Newly failing", d.newly_failing.iter().collect()),
        ("New and failing", new_bad),
        ("Newly flaky", d.newly_flaky.iter().collect()),
        ("Fixed", d.fixed.iter().collect()),
        ("Newly skipped", d.newly_skipped.iter().collect()),
        ("New", new_ok),
        ("Removed", d.removed.iter().collect()),
    ]
}

pub(crate) fn headline(d: &Diff) -> String {
    let regressions = match d.regressions() {
        1 => "1 regression".to_string(),
        n => format!("{n} regressions"),
    };
    let mut s = format!(
        "{regressions}: {} newly failing{}, {} newly flaky, {} fixed, {} newly skipped, {} new{}, {} removed, {} unchanged",
        d.newly_failing.len(),
        tests_headline(d),
        d.newly_flaky.len(),
        d.fixed.len(),
        d.newly_skipped.len(),
        d.new.len(),
        if d.new_failing > 0 { format!(" ({} failing)", d.new_failing) } else { String::new() },
        d.removed.len(),
        d.unchanged
    );
    if d.not_compared > 0 {
        let _ = write!(s, ", {} interrupted and not compared", d.not_compared);
    }
    s
}

/// ", 3 newly failing tests (1 in a cell already failing)", when any.
fn tests_headline(d: &Diff) -> String {
    let n = d.newly_failing_tests.len();
    if n == 0 {
        return String::new();
    }
    let mut s = format!(
        ", {n} newly failing {}",
        if n == 1 { "test" } else { "tests" }
    );
    match d.test_regressions() {
        0 => {}
        1 => s.push_str(" (1 in a cell already failing)"),
        r => {
            let _ = write!(s, " ({r} in cells already failing)");
        }
    }
    s
}

/// What a newly failing test counts as: a regression of its own, part of
/// its cell's, or none.
pub(crate) fn test_note(t: &TestChange, d: &Diff) -> &'static str {
    if t.regression {
        "regression (its cell already failed)"
    } else if t.as_expected {
        "none: fails as expected"
    } else if d
        .newly_failing
        .iter()
        .any(|c| c.matrix == t.matrix && c.id == t.id)
    {
        "its cell's regression"
    } else {
        "not as expected"
    }
}

/// Plain text for a terminal.
pub fn render_text(d: &Diff) -> String {
    let mut s = String::new();
    for w in &d.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let _ = writeln!(s, "{}", headline(d));
    for (title, changes) in sections(d) {
        if title == "New and failing" && !d.newly_failing_tests.is_empty() {
            tests_text(&mut s, d);
        }
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title} ({}):", changes.len());
        let w = changes
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(0)
            .min(60);
        for c in changes {
            let _ = writeln!(
                s,
                "  {:<w$}  {:>11} → {:<11}  {}",
                c.id,
                outcome(c.base),
                outcome(c.head),
                c.why
            );
        }
    }
    s
}

/// "Newly failing tests (n):", regressions first, each with its cell.
fn tests_text(s: &mut String, d: &Diff) {
    let _ = writeln!(
        s,
        "\nNewly failing tests ({}):",
        d.newly_failing_tests.len()
    );
    for t in tests_in_order(d) {
        let _ = writeln!(
            s,
            "  {}  {} → fail  [{}]  {}",
            t.label(),
            t.base_outcome(),
            test_note(t, d),
            t.why
        );
    }
}

/// The tests that are regressions of their own first, then the rest, each
/// group in the diff's order (by cell).
fn tests_in_order(d: &Diff) -> Vec<&TestChange> {
    let (mut v, rest): (Vec<&TestChange>, Vec<&TestChange>) =
        d.newly_failing_tests.iter().partition(|t| t.regression);
    v.extend(rest);
    v
}

/// The most characters a Markdown diff holds: GitHub cuts a check run's
/// text at 65,535 characters (a step summary at 1 MiB).
pub const MARKDOWN_LIMIT: usize = 65_535;
/// Room kept for what closes the sections and says what was left out.
const MARKDOWN_ROOM: usize = 2_000;

/// GitHub-flavoured Markdown, for a PR comment or `$GITHUB_STEP_SUMMARY`:
/// regressions first, within [`MARKDOWN_LIMIT`]. Rows that do not fit are
/// left out, and the summary says how many.
pub fn render_markdown(d: &Diff, base: &str, head: &str) -> String {
    let mut s = String::new();
    let mark = if d.regressions() > 0 { "❌" } else { "✅" };
    let _ = writeln!(s, "### {mark} crossprobe: {}\n", headline(d));
    let _ = writeln!(
        s,
        "Comparing `{}` (base) with `{}` (head).\n",
        md(base),
        md(head)
    );
    for w in &d.warnings {
        let _ = writeln!(s, "> [!WARNING]\n> {}\n", md(w));
    }
    let mut left_out = 0;
    for (title, changes) in sections(d) {
        if title == "New and failing" && !d.newly_failing_tests.is_empty() {
            let rows = tests_in_order(d).into_iter().map(|t| {
                format!(
                    "| `{}` | {} | `{}` | {} | {} | {} | {} |\n",
                    t.name.replace('`', "'"),
                    md(&t.package),
                    t.id.replace('`', "'"),
                    md(&t.matrix),
                    t.base_outcome(),
                    test_note(t, d),
                    md(&t.why)
                )
            });
            let head = "| test | package | cell | matrix | base | counts as | why |\n| --- | --- | --- | --- | --- | --- | --- |";
            let open = d.test_regressions() > 0;
            let part = markdown_section("Newly failing tests", open, head, rows, &s, &mut left_out);
            s.push_str(&part);
        }
        if changes.is_empty() {
            continue;
        }
        let rows = changes.iter().map(|c| {
            format!(
                "| `{}` | {} | {} | {} | {} |\n",
                c.id.replace('`', "'"),
                md(&c.matrix),
                outcome(c.base),
                outcome(c.head),
                md(&c.why)
            )
        });
        // Long lists fold away so the summary stays readable.
        let open = matches!(title, "Newly failing" | "New and failing" | "Newly flaky");
        let head = "| cell | matrix | base | head | why |\n| --- | --- | --- | --- | --- |";
        let part = markdown_section(title, open, head, rows, &s, &mut left_out);
        s.push_str(&part);
    }
    if left_out > 0 {
        let _ = writeln!(
            s,
            "**{left_out} rows left out** to stay within GitHub's {MARKDOWN_LIMIT} characters; the merged results.json and report.html have every cell."
        );
    }
    s
}

/// One section's table, folded unless `open`, with the rows that fit in
/// what is left of the limit after `before`; the rest counted in
/// `left_out`. Every section's heading and count are shown: the room
/// holds them.
fn markdown_section(
    title: &str,
    open: bool,
    head: &str,
    rows: impl ExactSizeIterator<Item = String>,
    before: &str,
    left_out: &mut usize,
) -> String {
    let used = before.chars().count();
    let open = if open { " open" } else { "" };
    let mut part = format!(
        "<details{open}><summary><b>{title}</b> ({})</summary>\n\n{head}\n",
        rows.len()
    );
    let mut n = part.chars().count();
    let mut here = 0;
    for row in rows {
        let len = row.chars().count();
        if used + n + len + MARKDOWN_ROOM > MARKDOWN_LIMIT {
            here += 1;
            continue;
        }
        n += len;
        part.push_str(&row);
    }
    if here > 0 {
        let _ = writeln!(part, "\n… and {here} more, left out");
        *left_out += here;
    }
    part.push_str("\n</details>\n\n");
    part
}

/// Escapes what would break a table cell or start markup.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attempt, Cell, Host, Runner, TestResult, Verdict};

    fn result(id: &str, outcome: Outcome, met: bool) -> CellResult {
        CellResult {
            cell: Cell {
                id: id.into(),
                slug: id.into(),
                matrix: "m".into(),
                probe: "hello".into(),
                goos: "linux".into(),
                goarch: "amd64".into(),
                go: "local".into(),
                cgo: "0".into(),
                runner: Runner::Native,
                ..Cell::default()
            },
            outcome,
            reason: None,
            verdict: Verdict {
                met,
                message: format!("{outcome} | <why>"),
            },
            facts: BTreeMap::new(),
            phases: Vec::new(),
            duration_ms: 10,
            dir: None,
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            not_run: None,
            tests: Vec::new(),
            missing: None,
            key: None,
        }
    }

    fn run(matrix: &str, cells: Vec<CellResult>) -> Results {
        Results {
            schema: 1,
            crossprobe_version: "0".into(),
            matrices: vec![matrix.into()],
            started_at: String::new(),
            duration_ms: 0,
            host: Host::default(),
            tools: BTreeMap::new(),
            interrupted: false,
            cells,
            perf: None,
            shard: None,
            merged_from: Vec::new(),
            estimate: None,
            env_dropped: Vec::new(),
            env_passed: Vec::new(),
        }
    }

    fn flaky(id: &str) -> CellResult {
        let mut r = result(id, Outcome::Pass, true);
        r.attempts.push(Attempt {
            outcome: Outcome::RunFail,
            reason: None,
            verdict: Verdict {
                met: false,
                message: "x".into(),
            },
            phases: Vec::new(),
            duration_ms: 1,
            dir: None,
        });
        r
    }

    #[test]
    fn every_kind_of_change() {
        let base = run(
            "m",
            vec![
                result("a", Outcome::Pass, true),
                result("b", Outcome::RunFail, false),
                result("c", Outcome::Pass, true),
                result("d", Outcome::Pass, true),
                result("e", Outcome::Pass, true),
                result("gone", Outcome::Pass, true),
                result("i", Outcome::Interrupted, false),
            ],
        );
        let head = run(
            "m",
            vec![
                result("a", Outcome::RunFail, false),
                result("b", Outcome::Pass, true),
                flaky("c"),
                result("d", Outcome::Skip, true),
                result("e", Outcome::Pass, true),
                result("new-ok", Outcome::Pass, true),
                result("new-bad", Outcome::BuildFail, false),
                result("i", Outcome::Pass, true),
            ],
        );
        let d = diff(&base, &head);
        let ids = |v: &[Change]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.newly_failing), ["a"]);
        assert_eq!(ids(&d.fixed), ["b"]);
        assert_eq!(ids(&d.newly_flaky), ["c"]);
        assert_eq!(ids(&d.newly_skipped), ["d"]);
        assert_eq!(ids(&d.new), ["new-bad", "new-ok"]);
        assert_eq!(ids(&d.removed), ["gone"]);
        assert_eq!((d.unchanged, d.not_compared, d.regressions()), (1, 1, 2));
        assert!(d.warnings.is_empty());
        let md = render_markdown(&d, "base.json", "head.json");
        assert!(
            md.starts_with("### ❌ crossprobe: 2 regressions: 1 newly failing"),
            "{md}"
        );
        assert!(
            md.contains("| `a` | m | pass | run-fail | run-fail \\| &lt;why&gt; |"),
            "{md}"
        );
    }

    fn go_test(name: &str, outcome: TestOutcome, met: bool) -> TestResult {
        TestResult {
            name: name.into(),
            package: "example.com/m".into(),
            outcome,
            duration_ms: 1,
            output: format!("    m_test.go:9: {name} broke\n"),
            met,
            message: if met && outcome == TestOutcome::Fail {
                "fail as expected (known)".into()
            } else {
                String::new()
            },
        }
    }

    /// A cell of Go tests, standing as its tests make it.
    fn tests_cell(id: &str, tests: Vec<TestResult>) -> CellResult {
        let failed = tests.iter().any(|t| t.outcome == TestOutcome::Fail);
        let met = tests.iter().all(|t| t.met);
        let mut r = result(
            id,
            if failed {
                Outcome::RunFail
            } else {
                Outcome::Pass
            },
            met,
        );
        r.tests = tests;
        r
    }

    #[test]
    fn a_test_newly_failing_in_a_cell_already_failing_is_a_regression() {
        use TestOutcome::{Fail, Pass};
        let base = run(
            "m",
            vec![
                // Already failing for TestOld; TestNew will fail too.
                tests_cell(
                    "old",
                    vec![
                        go_test("TestOld", Fail, false),
                        go_test("TestNew", Pass, true),
                    ],
                ),
                // Already failing; a test fails that BASE did not have.
                tests_cell("added", vec![go_test("TestOld", Fail, false)]),
                // Already failing; its new failure is expected.
                tests_cell(
                    "known",
                    vec![
                        go_test("TestOld", Fail, false),
                        go_test("TestKnown", Pass, true),
                    ],
                ),
                // Passing; a test breaks it: the cell is the regression.
                tests_cell("cell", vec![go_test("TestA", Pass, true)]),
                // Still failing the same way: nothing new.
                tests_cell("same", vec![go_test("TestOld", Fail, false)]),
            ],
        );
        let head = run(
            "m",
            vec![
                tests_cell(
                    "old",
                    vec![
                        go_test("TestOld", Fail, false),
                        go_test("TestNew", Fail, false),
                    ],
                ),
                tests_cell(
                    "added",
                    vec![
                        go_test("TestOld", Fail, false),
                        go_test("TestAdded", Fail, false),
                    ],
                ),
                tests_cell(
                    "known",
                    vec![
                        go_test("TestOld", Fail, false),
                        go_test("TestKnown", Fail, true),
                    ],
                ),
                tests_cell("cell", vec![go_test("TestA", Fail, false)]),
                tests_cell("same", vec![go_test("TestOld", Fail, false)]),
            ],
        );
        let d = diff(&base, &head);
        let tests: Vec<(String, &str, bool)> = d
            .newly_failing_tests
            .iter()
            .map(|t| (t.label(), t.base_outcome(), t.regression))
            .collect();
        assert_eq!(
            tests,
            [
                ("TestAdded in example.com/m on added".to_string(), "-", true),
                ("TestA in example.com/m on cell".to_string(), "pass", false),
                (
                    "TestKnown in example.com/m on known".to_string(),
                    "pass",
                    false
                ),
                ("TestNew in example.com/m on old".to_string(), "pass", true),
            ]
        );
        // Two tests in cells already failing, and the cell that broke.
        assert_eq!(
            (d.newly_failing.len(), d.test_regressions(), d.regressions()),
            (1, 2, 3)
        );
        assert_eq!(d.unchanged, 4);
        let text = render_text(&d);
        assert!(
            text.starts_with("3 regressions: 1 newly failing, 4 newly failing tests (2 in cells already failing), 0 newly flaky"),
            "{text}"
        );
        // Regressions first, each naming its cell, then the others with
        // what they count as.
        assert!(
            text.contains(
                "\nNewly failing tests (4):\n  \
                 TestAdded in example.com/m on added  - → fail  [regression (its cell already failed)]  m_test.go:9: TestAdded broke\n  \
                 TestNew in example.com/m on old  pass → fail  [regression (its cell already failed)]  m_test.go:9: TestNew broke\n  \
                 TestA in example.com/m on cell  pass → fail  [its cell's regression]  m_test.go:9: TestA broke\n  \
                 TestKnown in example.com/m on known  pass → fail  [none: fails as expected]  fail as expected (known)\n"
            ),
            "{text}"
        );
        assert!(
            text.find("Newly failing (1)").unwrap() < text.find("Newly failing tests").unwrap()
        );
        let md = render_markdown(&d, "base.json", "head.json");
        assert!(md.starts_with("### ❌ crossprobe: 3 regressions"), "{md}");
        assert!(
            md.contains("<details open><summary><b>Newly failing tests</b> (4)</summary>"),
            "{md}"
        );
        assert!(
            md.contains("| `TestNew` | example.com/m | `old` | m | pass | regression (its cell already failed) | m_test.go:9: TestNew broke |"),
            "{md}"
        );
        // The other way round, nothing newly fails.
        assert_eq!(diff(&head, &base).newly_failing_tests.len(), 0);
    }

    #[test]
    fn a_big_diff_fits_githubs_limit_regressions_first() {
        let n = 3000;
        let base = run(
            "m",
            (0..n)
                .flat_map(|i| {
                    [
                        result(&format!("a{i:04}"), Outcome::Pass, true),
                        result(&format!("f{i:04}"), Outcome::RunFail, false),
                    ]
                })
                .collect(),
        );
        let mut cells: Vec<CellResult> = (0..n)
            .flat_map(|i| {
                [
                    result(&format!("a{i:04}"), Outcome::RunFail, false),
                    result(&format!("f{i:04}"), Outcome::Pass, true),
                ]
            })
            .collect();
        cells.push(result("new-bad", Outcome::BuildFail, false));
        let d = diff(&base, &run("m", cells));
        let md = render_markdown(&d, "base.json", "head.json");
        assert!(
            md.chars().count() <= MARKDOWN_LIMIT,
            "{}",
            md.chars().count()
        );
        let failing = md.find("<b>Newly failing</b> (3000)").unwrap();
        let new_bad = md.find("<b>New and failing</b> (1)").unwrap();
        assert!(failing < new_bad, "regressions first");
        assert!(md.contains("| `a0000` |"));
        assert!(!md.contains("| `f2999` |"), "fixed rows are what gives way");
        let left: usize = md
            .lines()
            .find_map(|l| l.strip_prefix("**")?.split(' ').next()?.parse().ok())
            .expect("says how many rows it left out");
        let shown = md.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(left + shown, 2 * n + 1);
    }

    #[test]
    fn unrelated_runs_warn_and_show_the_overlap() {
        let base = run("one", vec![result("a", Outcome::Pass, true)]);
        let head = run("two", vec![result("b", Outcome::Pass, true)]);
        let d = diff(&base, &head);
        assert_eq!(
            d.warnings,
            ["BASE and HEAD look unrelated: BASE ran one (1 cells), HEAD ran two (1 cells); 0 cells are in both"]
        );
        assert_eq!(d.regressions(), 0);
    }
}
