//! Text from outside crossprobe, made safe to print: a matrix's or a
//! snippet's values, a probe's output, a results.json someone else wrote.
//! A terminal obeys the control characters in what it is sent: ESC starts
//! sequences that clear the screen, retitle the window, write the
//! clipboard (OSC 52) or make the terminal type an answer back (DECRQSS,
//! CSI 6n); a bare CR or backspaces overwrite what was shown; a bidi
//! override reorders the rest of the line. Every printer passes a
//! stranger's text through [`line`] (or [`text`], where line breaks are
//! the text's own), so each of those shows as an escape (`\x1b`, `\u{202e}`)
//! and none is sent.

use std::borrow::Cow;
use std::fmt;

/// `s` for one line of output: every control character escaped, line
/// breaks included, so a value cannot start a line of its own.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` as text of several lines: newlines and tabs kept, every other
/// control character escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// [`line`] inside `format!`: `format!("{}", escape::Line(&id))`.
pub struct Line<'a>(pub &'a str);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&line(self.0))
    }
}

/// Whether `c` would do something to a terminal rather than show: C0 and
/// C1 controls, DEL, the bidi controls, and the Unicode line and paragraph
/// separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

fn escape(s: &str, keep_breaks: bool) -> Cow<'_, str> {
    let kept = |c: char| keep_breaks && (c == '\n' || c == '\t');
    if !s.chars().any(|c| is_unsafe(c) && !kept(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            c if kept(c) || !is_unsafe(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_show_as_escapes() {
        assert_eq!(line("plain text, ünïcödé ✓"), "plain text, ünïcödé ✓");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(
            line("\u{1b}]0;pwned\u{7}\u{1b}[2J"),
            "\\x1b]0;pwned\\x07\\x1b[2J"
        );
        assert_eq!(line("a\r\nb\tc\u{8}\u{7f}"), "a\\r\\nb\\tc\\x08\\x7f");
        assert_eq!(text("a\r\nb\tc"), "a\\r\nb\tc");
        assert_eq!(line("\u{9b}31m \u{202e}txt"), "\\u{9b}31m \\u{202e}txt");
        assert_eq!(line("\u{2028}"), "\\u{2028}");
        assert_eq!(format!("[{:<6}]", Line("\u{1b}")), "[\\x1b  ]");
    }

    #[test]
    fn nothing_unsafe_is_left() {
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        assert!(!line(&all).chars().any(is_unsafe));
        assert!(!text(&all)
            .chars()
            .any(|c| is_unsafe(c) && c != '\n' && c != '\t'));
    }
}
