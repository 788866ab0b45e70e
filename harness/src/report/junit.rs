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
//!   `tries`; for a flaky one, `flaky`. `{cell}` is the cell id, or
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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::Writer;

use crate::model::{
    Captured, CellResult, Command, Outcome, Results, Runner, Standing, TestOutcome, TestResult,
};

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

/// The JUnit XML for a run, as [`write`](fn@write) writes it.
pub fn to_string(results: &Results) -> String {
    let mut buf = Vec::new();
    write(results, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("the writer emits only UTF-8")
}

struct Suite<'a> {
    goos: &'a str,
    goarch: &'a str,
    cases: Vec<Case<'a>>,
}

struct Case<'a> {
    result: &'a CellResult,
    /// A Go test of a `test:` cell: the case is that test, not the cell.
    test: Option<&'a TestResult>,
    name: Cow<'a, str>,
    classname: String,
    /// What this cell's property names start with: unique in the file.
    prefix: String,
    status: Status,
}

enum Status {
    Passed,
    Skipped { message: String },
    Failed { message: String, body: String },
}

impl Status {
    fn is_failure(&self) -> bool {
        matches!(self, Status::Failed { .. })
    }

    fn is_skip(&self) -> bool {
        matches!(self, Status::Skipped { .. })
    }
}

fn suites(results: &Results) -> Vec<Suite<'_>> {
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
fn base_id<'a>(r: &'a CellResult, on: &str) -> &'a str {
    r.cell
        .id
        .strip_suffix(on)
        .and_then(|s| s.strip_suffix('@'))
        .unwrap_or(&r.cell.id)
}

fn case_name(r: &CellResult) -> &str {
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
fn status(r: &CellResult) -> Status {
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
fn test_status(t: &TestResult) -> Status {
    match t.outcome {
        _ if !t.met => {
            let first = first_line(&t.output);
            let message = match (t.message.as_str(), first) {
                ("failed", "") => "failed".to_string(),
                ("failed", f) => f.to_string(),
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

fn failure(r: &CellResult) -> Status {
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

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn write_suite<W: Write>(
    w: &mut Writer<W>,
    results: &Results,
    suite: &Suite,
    cap: usize,
) -> io::Result<()> {
    let failures = suite.cases.iter().filter(|c| c.status.is_failure());
    let skipped = suite.cases.iter().filter(|c| c.status.is_skip());
    let time: u64 = suite.cases.iter().map(case_ms).sum();
    let host = &results.host;
    let hostname = if host.runner.is_empty() {
        &host.os
    } else {
        &host.runner
    };
    w.write_event(Event::Start(element(
        "testsuite",
        &[
            ("name", &format!("{}/{}", suite.goos, suite.goarch)),
            ("tests", &suite.cases.len().to_string()),
            ("failures", &failures.count().to_string()),
            ("errors", "0"),
            ("skipped", &skipped.count().to_string()),
            ("time", &secs(time)),
            ("timestamp", &results.started_at),
            ("hostname", hostname),
        ],
    )))?;

    // Property names are unique in the whole file, not only in the suite:
    // xunitparser gathers every suite's into one map, and refuses a name
    // twice.
    w.write_event(Event::Start(BytesStart::new("properties")))?;
    // A cell's properties once, though its Go tests are several cases.
    let mut seen: Vec<*const CellResult> = Vec::new();
    for case in &suite.cases {
        let r = case.result;
        if seen.contains(&(r as *const CellResult)) {
            continue;
        }
        seen.push(r);
        let mut props: Vec<(&str, Cow<str>)> = Vec::new();
        if r.cell.expect.outcome != Outcome::Pass {
            props.push(("expected", r.cell.expect.outcome.as_str().into()));
        }
        if let Some(reason) = &r.cell.expect.reason {
            props.push(("reason", reason.into()));
        }
        if !r.attempts.is_empty() {
            props.push(("tries", (r.attempts.len() + 1).to_string().into()));
        }
        if r.flaky() {
            props.push(("flaky", "true".into()));
        }
        for (k, v) in props {
            property(w, &format!("{}: {k}", case.prefix), &v)?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("properties")))?;

    for case in &suite.cases {
        write_case(w, case, cap)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))
}

fn property<W: Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    w.write_event(Event::Empty(element(
        "property",
        &[("name", name), ("value", value)],
    )))
}

fn write_case<W: Write>(w: &mut Writer<W>, case: &Case, cap: usize) -> io::Result<()> {
    let start = element(
        "testcase",
        &[
            ("name", &case.name),
            ("classname", &case.classname),
            ("time", &secs(case_ms(case))),
        ],
    );
    if let Some(t) = case.test {
        return write_test(w, start, &case.status, t);
    }
    let mut stdout = log(case.result, |c| &c.stdout, cap);
    let stderr = log(case.result, |c| &c.stderr, cap);
    if case.result.flaky() {
        let r = case.result;
        let note = format!(
            "crossprobe: FLAKY: did not meet its expectation on {} of {} tries, then did\n",
            r.attempts.len(),
            r.attempts.len() + 1
        );
        stdout = Some(note + stdout.as_deref().unwrap_or(""));
    }
    let earlier = &case.result.attempts;
    if matches!(case.status, Status::Passed)
        && stdout.is_none()
        && stderr.is_none()
        && earlier.is_empty()
    {
        return w.write_event(Event::Empty(start));
    }

    w.write_event(Event::Start(start))?;
    match &case.status {
        Status::Passed => {}
        Status::Skipped { message } => {
            w.write_event(Event::Empty(element("skipped", &[("message", message)])))?;
        }
        Status::Failed { message, body } => {
            let kind = case.result.outcome.as_str();
            w.write_event(Event::Start(element(
                "failure",
                &[("message", message), ("type", kind)],
            )))?;
            text(w, body)?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
        }
    }
    // Surefire's words for retries: tries that failed before a final pass
    // are flakyFailures; before a final failure, rerunFailures.
    let tag = if case.result.verdict.met {
        "flakyFailure"
    } else {
        "rerunFailure"
    };
    for (n, a) in earlier.iter().enumerate() {
        let reason = a.reason.as_deref().filter(|s| !s.trim().is_empty());
        let message = format!(
            "try {} of {}: {}",
            n + 1,
            earlier.len() + 1,
            first_line(reason.unwrap_or(&a.verdict.message))
        );
        w.write_event(Event::Start(element(
            tag,
            &[("message", &message), ("type", a.outcome.as_str())],
        )))?;
        let mut body = a.verdict.message.clone();
        if let Some(reason) = reason {
            body.push('\n');
            body.push_str(reason);
        }
        body.push('\n');
        text(w, &body)?;
        w.write_event(Event::End(BytesEnd::new(tag)))?;
    }
    for (tag, log) in [("system-out", stdout), ("system-err", stderr)] {
        if let Some(log) = log {
            w.write_event(Event::Start(BytesStart::new(tag)))?;
            text(w, &log)?;
            w.write_event(Event::End(BytesEnd::new(tag)))?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

/// One stream of every command a cell ran, each under a `$ argv` line, capped
/// to `limit` bytes. `None` when no command wrote to that stream.
fn log(r: &CellResult, stream: fn(&Command) -> &Captured, limit: usize) -> Option<String> {
    if r.commands()
        .all(|(_, c)| stream(c).bytes == 0 && stream(c).text.is_empty())
    {
        return None;
    }
    let mut s = String::new();
    for (_, c) in r.commands() {
        let captured = stream(c);
        let _ = writeln!(s, "$ {}", command_line(c));
        s.push_str(&captured.text);
        if !captured.text.is_empty() && !captured.text.ends_with('\n') {
            s.push('\n');
        }
        if captured.dropped > 0 {
            let _ = writeln!(
                s,
                "[... {} of {} bytes cut when captured ...]",
                captured.dropped, captured.bytes
            );
        }
    }
    Some(cap(&sanitize(&s), limit).into_owned())
}

/// A command as a person would type it, env first. For reading only: nothing
/// ever runs it through a shell.
fn command_line(c: &Command) -> String {
    let env = c.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
    let argv = c.argv.iter().map(|a| quote(a).into_owned());
    env.chain(argv).collect::<Vec<_>>().join(" ")
}

fn quote(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

/// Room kept in the cap for the cut marker.
const MARKER_ROOM: usize = 64;
/// How far a cut may move to land on a line boundary.
const SNAP: usize = 1024;

/// Keeps the head and the tail of `s` within `limit` bytes, marking the cut
/// on a line of its own. Both the start and the end of a log matter: what ran
/// and how it ended.
fn cap(s: &str, limit: usize) -> Cow<'_, str> {
    if s.len() <= limit {
        return Cow::Borrowed(s);
    }
    let half = limit.saturating_sub(MARKER_ROOM) / 2;

    let mut head = half;
    while !s.is_char_boundary(head) {
        head -= 1;
    }
    if let Some(nl) = s[..head].rfind('\n').filter(|&nl| head - nl <= SNAP) {
        head = nl + 1;
    }
    let mut tail = s.len() - half;
    while !s.is_char_boundary(tail) {
        tail += 1;
    }
    if let Some(nl) = s[tail..].find('\n').filter(|&nl| nl < SNAP) {
        tail += nl + 1;
    }

    let (head, tail) = (&s[..head], &s[tail..]);
    let sep = if head.ends_with('\n') { "" } else { "\n" };
    let cut = s.len() - head.len() - tail.len();
    Cow::Owned(format!("{head}{sep}[... {cut} bytes cut ...]\n{tail}"))
}

/// Replaces with U+FFFD every character that XML 1.0 cannot carry: C0
/// controls but tab, newline and carriage return; U+FFFE; U+FFFF. (Rust
/// strings hold no surrogates, the only other gap in XML's `Char`.)
fn sanitize(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Sanitises and escapes `s` for text content, or for a double-quoted
/// attribute value. Escaping `>` keeps a `]]>` in output well-formed. In
/// attributes, tab, newline and CR become character references because a
/// parser turns literal ones into spaces; in text only CR needs it, since a
/// parser reads a literal CR as a newline.
fn escape(s: &str, attribute: bool) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn element<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
    let mut e = BytesStart::new(name);
    for (key, value) in attributes {
        e.push_attribute(Attribute {
            key: QName(key),
            value: Cow::Owned(escape(value, true)),
        });
    }
    e
}

fn text<W: Write>(w: &mut Writer<W>, s: &str) -> io::Result<()> {
    w.write_event(Event::Text(BytesText::from_escaped(escape(s, false))))
}

/// Milliseconds this run spent on a cell: none when its result came from
/// the cache (results.json keeps the original durations).
/// One Go test's testcase: its status, and a passing test's log lines (a
/// failing one has them in its `<failure>`).
fn write_test<W: Write>(
    w: &mut Writer<W>,
    start: BytesStart,
    status: &Status,
    t: &TestResult,
) -> io::Result<()> {
    if matches!(status, Status::Passed) && t.output.is_empty() {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    match status {
        Status::Passed => {}
        Status::Skipped { message } => {
            w.write_event(Event::Empty(element("skipped", &[("message", message)])))?;
        }
        Status::Failed { message, body } => {
            w.write_event(Event::Start(element(
                "failure",
                &[("message", message), ("type", t.outcome.as_str())],
            )))?;
            text(w, body)?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
        }
    }
    if t.met && !t.output.is_empty() {
        w.write_event(Event::Start(BytesStart::new("system-out")))?;
        text(w, &t.output)?;
        w.write_event(Event::End(BytesEnd::new("system-out")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

fn case_ms(c: &Case) -> u64 {
    c.test.map_or_else(|| spent(c.result), |t| t.duration_ms)
}

fn spent(r: &CellResult) -> u64 {
    if r.cached {
        0
    } else {
        r.duration_ms
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_what_xml_allows() {
        let s = "tab\t nl\n cr\r é \u{7f} \u{85} \u{D7FF} \u{E000} \u{FFFD} \u{10000} \u{10FFFF}";
        assert!(matches!(sanitize(s), Cow::Borrowed(_)));
    }

    #[test]
    fn sanitize_replaces_what_xml_forbids() {
        assert_eq!(
            sanitize("a\u{0}b\u{1b}[31mc\u{8}\u{b}\u{c}\u{1f}\u{FFFE}\u{FFFF}d"),
            "a\u{FFFD}b\u{FFFD}[31mc\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}d"
        );
    }

    #[test]
    fn escape_text_and_attributes() {
        assert_eq!(
            escape("a]]>b<&\"'\r\n\t", false),
            "a]]&gt;b&lt;&amp;\"'&#13;\n\t"
        );
        assert_eq!(
            escape("a]]>b<&\"'\r\n\t\u{0}", true),
            "a]]&gt;b&lt;&amp;&quot;'&#13;&#10;&#9;\u{FFFD}"
        );
    }

    #[test]
    fn cap_leaves_short_text_alone() {
        assert!(matches!(
            cap("short\n", 64 * 1024),
            Cow::Borrowed("short\n")
        ));
    }

    #[test]
    fn cap_keeps_head_and_tail_on_line_boundaries() {
        let s: String = (0..10_000).map(|i| format!("line {i:05}\n")).collect();
        let capped = cap(&s, 4096);
        assert!(capped.len() <= 4096, "{}", capped.len());
        assert!(capped.starts_with("line 00000\n"));
        assert!(capped.ends_with("line 09999\n"));
        let marker = capped.lines().find(|l| l.starts_with("[...")).unwrap();
        let kept = capped.len() - marker.len() - 1;
        assert_eq!(marker, format!("[... {} bytes cut ...]", s.len() - kept));
        assert!(capped.lines().all(|l| l.len() == 10 || l == marker));
    }

    #[test]
    fn cap_cuts_on_char_boundaries() {
        let s = "é".repeat(10_000);
        let capped = cap(&s, 1001);
        assert!(capped.len() <= 1001);
        assert!(capped.contains(" bytes cut ...]\n"));
    }

    #[test]
    fn quote_for_reading() {
        assert_eq!(quote("GOARM=5"), "GOARM=5");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("-ldflags=-s -w"), "'-ldflags=-s -w'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

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
