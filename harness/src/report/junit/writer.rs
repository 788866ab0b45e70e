//! The XML itself: suites, testcases and their logs, capped to the report's
//! budget, every string made writable in XML 1.0.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::Writer;

use crate::model::{Captured, CellResult, Command, Outcome, Results, TestResult};

use super::cases::{first_line, Case, Status, Suite};
use crate::process::shown::command_line;

pub(super) fn write_suite<W: Write>(
    w: &mut Writer<W>,
    results: &Results,
    suite: &Suite,
    cap: usize,
) -> io::Result<()> {
    let failures = suite.cases.iter().filter(|c| c.status.is_failure());
    let errors = suite.cases.iter().filter(|c| c.status.is_error());
    let skipped = suite.cases.iter().filter(|c| c.status.is_skip());
    let time: u64 = suite.cases.iter().map(case_ms).sum();
    let host = &results.host;
    let hostname = if host.runner.is_empty() {
        &host.goos
    } else {
        &host.runner
    };
    w.write_event(Event::Start(element(
        "testsuite",
        &[
            ("name", &format!("{}/{}", suite.goos, suite.goarch)),
            ("tests", &suite.cases.len().to_string()),
            ("failures", &failures.count().to_string()),
            ("errors", &errors.count().to_string()),
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
        // Its testcase's time is the original run's: the reader must know
        // it did not run now.
        if r.cached {
            props.push(("cached", "true".into()));
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

pub(super) fn property<W: Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    w.write_event(Event::Empty(element(
        "property",
        &[("name", name), ("value", value)],
    )))
}

pub(super) fn write_case<W: Write>(w: &mut Writer<W>, case: &Case, cap: usize) -> io::Result<()> {
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
    let r = case.result;
    let mut stdout = log(r, |c| &c.stdout, cap);
    let stderr = log(r, |c| &c.stderr, cap);
    let mut notes = String::new();
    if r.flaky() {
        let _ = writeln!(
            notes,
            "crossprobe: FLAKY: did not meet its expectation on {} of {} tries, then did",
            r.attempts.len(),
            r.attempts.len() + 1
        );
    }
    if r.cached {
        let _ = writeln!(notes, "{}", cached_note(r));
    }
    if !notes.is_empty() {
        stdout = Some(notes + stdout.as_deref().unwrap_or(""));
    }
    let earlier = &r.attempts;
    if matches!(case.status, Status::Passed)
        && stdout.is_none()
        && stderr.is_none()
        && earlier.is_empty()
    {
        return w.write_event(Event::Empty(start));
    }

    w.write_event(Event::Start(start))?;
    write_status(w, &case.status, r.outcome.as_str())?;
    // Surefire's words for retries: tries that failed before a final pass
    // are flakyFailures; before a final failure, rerunFailures.
    let tag = if r.verdict.met {
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

/// The first line of a cached cell's `<system-out>`: its time is not this
/// run's.
pub(super) fn cached_note(r: &CellResult) -> String {
    format!(
        "crossprobe: CACHED: the result of an earlier run, reused; its time ({}s) is what that run took (--no-cache runs it again)",
        secs(r.duration_ms)
    )
}

/// A case's `<failure>`, `<error>` or `<skipped>`; nothing for a pass.
/// `kind` is a failure's type: the outcome (build-fail, run-fail, ...).
fn write_status<W: Write>(w: &mut Writer<W>, status: &Status, kind: &str) -> io::Result<()> {
    let (tag, message, body, kind) = match status {
        Status::Passed => return Ok(()),
        Status::Skipped {
            kind,
            message,
            body,
        } => ("skipped", message, body, *kind),
        Status::Failed { message, body } => ("failure", message, body, kind),
        Status::Error { message, body } => ("error", message, body, "interrupted"),
    };
    let start = element(tag, &[("message", message), ("type", kind)]);
    if body.is_empty() {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    text(w, body)?;
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// One stream of every command a cell ran, each under a `$ argv` line, capped
/// to `limit` bytes. `None` when no command wrote to that stream.
pub(super) fn log(
    r: &CellResult,
    stream: fn(&Command) -> &Captured,
    limit: usize,
) -> Option<String> {
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

/// Room kept in the cap for the cut marker.
pub(super) const MARKER_ROOM: usize = 64;
/// How far a cut may move to land on a line boundary.
pub(super) const SNAP: usize = 1024;

/// Keeps the head and the tail of `s` within `limit` bytes, marking the cut
/// on a line of its own. Both the start and the end of a log matter: what ran
/// and how it ended.
pub(super) fn cap(s: &str, limit: usize) -> Cow<'_, str> {
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
pub(super) fn sanitize(s: &str) -> Cow<'_, str> {
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
pub(super) fn escape(s: &str, attribute: bool) -> String {
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

pub(super) fn element<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
    let mut e = BytesStart::new(name);
    for (key, value) in attributes {
        e.push_attribute(Attribute {
            key: QName(key),
            value: Cow::Owned(escape(value, true)),
        });
    }
    e
}

pub(super) fn text<W: Write>(w: &mut Writer<W>, s: &str) -> io::Result<()> {
    w.write_event(Event::Text(BytesText::from_escaped(escape(s, false))))
}

/// One Go test's testcase: its status, and a passing test's log lines (a
/// failing one has them in its `<failure>`).
pub(super) fn write_test<W: Write>(
    w: &mut Writer<W>,
    start: BytesStart,
    status: &Status,
    t: &TestResult,
) -> io::Result<()> {
    if matches!(status, Status::Passed) && t.output.is_empty() {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    write_status(w, status, t.outcome.as_str())?;
    // A failure, an error or an expected failure carries the output in its
    // own text already.
    let told = match status {
        Status::Passed => false,
        Status::Skipped { body, .. } => !body.is_empty(),
        Status::Failed { .. } | Status::Error { .. } => true,
    };
    if !told && !t.output.is_empty() {
        w.write_event(Event::Start(BytesStart::new("system-out")))?;
        text(w, &t.output)?;
        w.write_event(Event::End(BytesEnd::new("system-out")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

/// A case's time: the Go test's, or the cell's, which for a cell answered
/// by the result cache is the time its original run took (results.json
/// keeps the same; the `cached` property and the `<system-out>` note say
/// so).
pub(super) fn case_ms(c: &Case) -> u64 {
    c.test.map_or(c.result.duration_ms, |t| t.duration_ms)
}

pub(super) fn secs(ms: u64) -> String {
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
}
