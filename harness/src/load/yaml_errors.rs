//! serde-saphyr's errors as crossprobe's input errors: a span that points at
//! the offending token, and one hint for each common YAML mistake.

use super::*;

/// serde-saphyr's error, in the same shape as every other input error: the
/// position first, the snippet, and a hint for the common mistakes.
pub fn yaml_error(source: &Source, e: &serde_saphyr::Error) -> Error {
    let span = e
        .location()
        .map_or(SourceSpan::new(0.into(), 0), |l| error_span(source, &l));
    let user = serde_saphyr::UserMessageFormatter;
    let text = e.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
        formatter: &user,
    });
    // The position is shown in our own form; an alias adds where it was
    // defined, which the snippet shows anyway.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].trim_end_matches(" (defined").to_string(),
        None => text,
    };
    if let Some((message, help)) = limits::explain(e, &message) {
        return InputError::new(source, span, message, "here", Some(help)).into();
    }
    let (label, help) = yaml_hint(&message);
    InputError::new(source, span, message, label, Some(help)).into()
}

/// Where a parse error points. Errors from the scanner (a tab, a bad
/// escape) carry only a line and column, no byte offset.
fn error_span(source: &Source, loc: &Location) -> SourceSpan {
    let s = loc.span();
    if let (Some(off), Some(len)) = (s.byte_offset(), s.byte_len()) {
        return SourceSpan::new((off as usize).into(), len.max(1) as usize);
    }
    let (line, col) = (loc.line() as usize, loc.column() as usize);
    if line == 0 {
        return SourceSpan::new(0.into(), 0);
    }
    let text = source.text.as_str();
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let off = text[start..]
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i);
    SourceSpan::new(off.into(), usize::from(off < text.len()))
}

fn yaml_hint(message: &str) -> (&'static str, String) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .split(", ")
            .map(|k| k.trim_matches('`'))
            .collect();
        let upper = field.to_ascii_uppercase();
        if axis::find(field).is_some() && !known.contains(&field) {
            return (
                "not a key here",
                format!("`{field}` is an axis: it belongs under `matrix:`"),
            );
        }
        if upper.starts_with("GO") && !known.iter().any(|k| k.eq_ignore_ascii_case(field)) {
            return (
                "unknown key",
                format!("variables such as {upper} are axes under `matrix.env`, e.g. `env: {{{upper}: [\"...\"]}}`"),
            );
        }
        return (
            "unknown key",
            format!(
                "check the spelling{}; the book's matrix reference lists every key",
                did_you_mean(field, known.iter().copied())
            ),
        );
    }
    if message.contains("expected sequence") {
        return (
            "expected a list",
            "write a list, e.g. `[linux]`, or one `- item` per line".into(),
        );
    }
    if message.contains("expected mapping") {
        return (
            "expected a mapping",
            "write `key: value` pairs, e.g. `{GOARM: [\"5\", \"7\"]}`, or one `key: value` per line".into(),
        );
    }
    if message.starts_with("tabs disallowed") {
        return (
            "a tab",
            "indent with spaces: YAML does not allow tabs in indentation".into(),
        );
    }
    if message.contains("duplicate mapping key") {
        return (
            "given twice",
            "remove one of the two; YAML keeps neither silently here".into(),
        );
    }
    if message.contains("missing field") {
        return (
            "in this mapping",
            "add the missing key; the book's matrix reference shows an example".into(),
        );
    }
    // The YAML parser's own words, each with what to write instead.
    const PARSER: &[(&str, &str, &str)] = &[
        ("unknown escape", "not an escape", "in double quotes YAML knows \\n, \\t, \\\\, \\\", \\xNN and \\uNNNN; for a backslash taken literally, use single quotes"),
        ("unexpected character", "a control character", "remove it, or write it as an escape such as \"\\a\" inside double quotes"),
        ("illegal placement of ':'", "here", "a `[` or `{` before this is not closed: close a flow list or mapping on the line it opens"),
        ("unclosed quote", "the quote opens here", "close the quote on the same line, or use a block scalar (`|`) for text of several lines"),
        ("invalid type: sequence", "a list", "write one value here, not a list"),
        ("invalid type: map", "a mapping", "write one value here, not a mapping"),
    ];
    for (words, label, help) in PARSER {
        if message.contains(words) {
            return (*label, (*help).to_string());
        }
    }
    ("here", "see the matrix format in the book".into())
}
