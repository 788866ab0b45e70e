//! JUnit XML, for the CI systems that show test results (Jenkins, GitLab, ...).
//!
//! Written with quick-xml directly rather than quick-junit: quick-junit 0.8
//! always puts `skipped` on `<testsuites>`, writes `<properties>` inside
//! `<testcase>` and lets U+FFFE through, and Jenkins' junit-10.xsd rejects all
//! three.
//!
//! The shape, checked against `shared/schemas/jenkins-junit-10.xsd`:
//!
//! - `<testsuites name="crossprobe {matrices}">` with the run's wall-clock
//!   time, and no totals (see `write`): each suite has its own.
//! - One `<testsuite name="{goos}/{goarch}">` per target, ordered by goos then
//!   goarch. Its `time` is the sum of its cells' times, so with cells running
//!   in parallel the suites add up to more than the run.
//! - The suite's `<properties>`: only what a reader of the JUnit needs and
//!   its testcase cannot say: for a cell expected not to pass,
//!   `{cell}: expected`; the expectation's `reason`; for a retried cell,
//!   `tries`; for a flaky one, `flaky`; for one answered by the result
//!   cache (its testcase's time is 0), `cached`. `{cell}` is the cell id, or
//!   `{matrix}:{id}` when the report holds several matrices, which could
//!   share ids: names are unique in the whole file, as xunitparser requires
//!   (the suite's name already says goos and goarch). They sit at suite
//!   level because the schema allows properties nowhere else. Axes, facts
//!   and runners are in results.json and report.html: as properties they
//!   were ~50 XML elements per cell, and GitLab refuses a report of more
//!   than 250,000 objects (gitlab-org/gitlab#507482) or 30 MB.
//! - One `<testcase>` per cell, ordered by matrix then id. `name` is the cell
//!   id without the `goos/goarch/` that the suite already names; `classname`
//!   is `crossprobe.{matrix}.{goos}.{goarch}`, with dots in the matrix name
//!   made `_` because CI tools split classnames into packages at dots. When
//!   two runners of a merged fleet ran the same cell, the runner is appended
//!   (`.{runner}`): GitLab shows the classname as the suite and keeps only
//!   the first of two same-named testcases, Jenkins renames the second.
//!   Its `<failure>` or `<skipped>` follows the rules of `status`, and its
//!   `<system-out>` and `<system-err>` hold what its commands wrote, each
//!   after a `$ argv` line, capped so that all of a report's logs stay
//!   within [`LOG_BUDGET`].
//! - A flaky cell (failed, then met its expectation on a retry) passes, but
//!   visibly: its `<system-out>` starts with a `crossprobe: FLAKY` line and
//!   it has a `flaky` property, besides its `<flakyFailure>`s, which
//!   Jenkins, dorny/test-reporter and EnricoMi's action ignore.
//! - Suites are flat (no suite inside a suite: dorny/test-reporter and
//!   EnricoMi's action drop testcases of nested ones), and `time` is plain
//!   decimal seconds.
//!
//! Every string goes through `sanitize`: XML 1.0 has no way to write most C0
//! controls, U+FFFE or U+FFFF, not even as character references.

use std::io::{self, Write};

use quick_xml::events::{BytesDecl, BytesEnd, Event};
use quick_xml::Writer;

use crate::model::{CellResult, Results};

mod cases;
mod writer;

use cases::suites;
use writer::{element, secs, write_suite};

/// The most of a cell's stdout, and of its stderr, that a report carries.
/// CI servers keep every report they are given; one runaway probe should not
/// cost megabytes in each.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// The most that all of a report's logs together carry. A merged fleet of
/// 10,000 failing cells would otherwise be gigabytes; GitLab refuses a
/// JUnit file over 30 MB. Each stream of each cell gets an equal share, at
/// most [`OUTPUT_CAP`] and at least [`OUTPUT_FLOOR`].
pub const LOG_BUDGET: usize = 20 * 1024 * 1024;
const OUTPUT_FLOOR: usize = 1024;

/// Writes the JUnit XML for a run. Deterministic output (same input → same
/// bytes).
pub fn write<W: Write>(results: &Results, out: W) -> io::Result<()> {
    let suites = suites(results);
    let logged = results
        .cells
        .iter()
        .map(|r| {
            r.commands()
                .flat_map(|(_, c)| [&c.stdout, &c.stderr])
                .filter(|s| s.bytes > 0 || !s.text.is_empty())
                .count()
                .min(2)
        })
        .sum::<usize>()
        .max(1);
    let cap = (LOG_BUDGET / logged).clamp(OUTPUT_FLOOR, OUTPUT_CAP);
    // The writer makes a small write per tag and attribute.
    let mut w = Writer::new_with_indent(io::BufWriter::new(out), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;

    let mut name = String::from("crossprobe");
    for m in &results.matrices {
        name.push(' ');
        name.push_str(m);
    }
    // No totals here: readers that find them trust them (test-results-
    // parser), and the skips' total is an attribute Jenkins' schema does
    // not allow on `<testsuites>`, so they would read no skips. Without
    // them, every reader sums the suites.
    w.write_event(Event::Start(element(
        "testsuites",
        &[("name", &name), ("time", &secs(results.duration_ms))],
    )))?;
    for suite in &suites {
        write_suite(&mut w, results, suite, cap)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut out = w.into_inner();
    out.write_all(b"\n")?;
    out.flush()
}

/// What a CI's test tab shows of a report: its testcases, how many failed
/// (`<failure>`) or errored (`<error>`), and how many are `<skipped>`, of
/// which some are expected failures and some built and not run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
    pub expected_failures: usize,
    pub built: usize,
}

/// The counts of the report [`write`](fn@write) writes for `cells`, from
/// the same testcases: what the summary shows beside its own.
pub fn counts(cells: &[CellResult]) -> Counts {
    let mut n = Counts::default();
    for (_, status) in cells.iter().flat_map(cases::cell_cases) {
        n.tests += 1;
        match status {
            cases::Status::Passed => {}
            cases::Status::Failed { .. } => n.failures += 1,
            cases::Status::Error { .. } => n.errors += 1,
            cases::Status::Skipped { kind, .. } => {
                n.skipped += 1;
                match kind {
                    cases::XFAIL => n.expected_failures += 1,
                    cases::BUILT => n.built += 1,
                    _ => {}
                }
            }
        }
    }
    n
}

/// The JUnit XML for a run, as [`write`](fn@write) writes it.
pub fn to_string(results: &Results) -> String {
    let mut buf = Vec::new();
    write(results, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("the writer emits only UTF-8")
}
