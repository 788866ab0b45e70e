//! Exit codes of `crossprobe`: the one table. `--help` ([`help`]), the
//! book's table (docs/src/commands.md, [`markdown`]) and every error's own
//! [`crate::errors::Error::exit_code`] read it.

/// Every cell met its expectation.
pub const OK: i32 = 0;
/// At least one cell did not meet its expectation.
pub const UNMET: i32 = 1;
/// A usage or input error: nothing was built.
pub const INPUT: i32 = 2;
/// A file crossprobe must write could not be written (its reports, a
/// journal, a bundle), before a run or after one, or the disk filled up
/// during the run; what finished is in the reports or in their journal.
pub const IO: i32 = 3;
/// Nothing ran: no cell was built and run (every C compiler missing,
/// every runner `none`), and no cell of a build-only target was even
/// built. `--allow-missing` (or `run.allow_missing: true`) accepts it.
pub const NOTHING_RAN: i32 = 4;
/// Interrupted by SIGINT (128 + 2).
pub const SIGINT: i32 = 130;
/// Interrupted by SIGTERM (128 + 15).
pub const SIGTERM: i32 = 143;

/// One exit code as people read it.
pub struct Code {
    /// As `--help` and the book show it ("130, 143" for the two signals).
    pub code: &'static str,
    pub meaning: &'static str,
    /// What it means for `repro`, where that differs.
    pub repro: Option<&'static str>,
}

/// The table, in the order of the codes.
pub const TABLE: &[Code] = &[
    Code {
        code: "0",
        meaning: "every cell met its expectation",
        repro: Some("every cell did what the snippet expects; with --bisect, a change was found"),
    },
    Code {
        code: "1",
        meaning: "at least one cell did not",
        repro: None,
    },
    Code {
        code: "2",
        meaning: "usage or input error; nothing was built and no report written",
        repro: None,
    },
    Code {
        code: "3",
        meaning: "a file crossprobe must write (the reports, a journal, a bundle, init's matrix) could not be written, before the run or after it, or the disk filled up during the run; what finished is in the reports or their journal",
        repro: None,
    },
    Code {
        code: "4",
        meaning: "nothing ran: no cell was built and run, and none was even built for a build-only target; --allow-missing accepts it",
        repro: Some("nothing ran the program; --allow-missing accepts it"),
    },
    Code {
        code: "130, 143",
        meaning: "interrupted by SIGINT, SIGTERM; reports hold what finished",
        repro: None,
    },
];

/// The table as `--help` ends: "Exit codes:" and a line per code, in
/// `repro`'s words for its help.
pub fn help(repro: bool) -> String {
    let mut s = String::from("Exit codes:");
    for c in TABLE {
        let meaning = match (repro, c.repro) {
            (true, Some(r)) => r,
            _ => c.meaning,
        };
        s.push_str(&format!("\n  {:<10}", c.code));
        // Wrapped here, under the code's column: clap would wrap it to
        // the terminal's left edge.
        let mut width = 0;
        for (i, word) in meaning.split(' ').enumerate() {
            if i > 0 && width + 1 + word.len() > HELP_WIDTH {
                s.push_str(&format!("\n{:12}", ""));
                width = 0;
            } else if i > 0 {
                s.push(' ');
                width += 1;
            }
            s.push_str(word);
            width += word.len();
        }
    }
    s
}

/// The width of a meaning's lines in `--help`, right of the codes.
const HELP_WIDTH: usize = 76;

/// The table as the book shows it (docs/src/commands.md): a Markdown
/// table, `repro`'s words beside where they differ.
pub fn markdown() -> String {
    let mut s = String::from("| code | meaning |\n| --- | --- |\n");
    for c in TABLE {
        s.push_str(&format!("| {} | {}", c.code, c.meaning));
        if let Some(r) = c.repro {
            s.push_str(&format!(" (`repro`: {r})"));
        }
        s.push_str(" |\n");
    }
    s
}
