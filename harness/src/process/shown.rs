//! A command as a person reads or pastes it, quoted for a POSIX shell:
//! JUnit's logs, the HTML report's replay lines, a repro bundle's
//! replay.sh. Nothing crossprobe runs goes through these strings: every
//! child starts from its argv.

use std::borrow::Cow;

use crate::model::Command;

/// `it's` → `'it'\''s'`; plain words stay bare.
pub fn quote(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

/// A command as a person would type it, env first.
pub fn command_line(c: &Command) -> String {
    let env = c.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
    let argv = c.argv.iter().map(|a| quote(a).into_owned());
    env.chain(argv).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_for_reading() {
        assert_eq!(quote("GOARM=5"), "GOARM=5");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("-ldflags=-s -w"), "'-ldflags=-s -w'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("linux/amd64/cgo0/hello"), "linux/amd64/cgo0/hello");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
