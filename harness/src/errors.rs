//! Every failure a user can meet before a cell runs, one type each.
//!
//! Errors in a matrix name the file, line and column, the offending value,
//! what was expected, and one hint. They render through miette, which draws
//! the snippet with a caret ([`Excerpt`]: a few lines around it, cut to a
//! readable width) and are printed by [`eprint`]. The text they show of a
//! stranger's file is escaped ([`crate::escape`]).

use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use thiserror::Error;

use crate::{escape, exit};

/// A matrix file, kept whole so that later phases can point into it.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: Arc<String>,
}

impl Source {
    /// `file:line:col` for a byte offset, 1-based like every editor.
    pub fn position(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{}:{}", self.name, line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A value in a matrix that parsed but means nothing valid.
#[derive(Debug, Error, Diagnostic)]
#[error("{position}: {message}")]
#[diagnostic(code(crossprobe::input))]
pub struct InputError {
    pub position: String,
    pub message: String,
    #[source_code]
    pub src: Excerpt,
    /// Where the error points, in [`InputError::src`].
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl InputError {
    pub fn new(
        source: &Source,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let position = escape::line(&source.position(span.offset())).into_owned();
        let (src, span) = Excerpt::new(source, span);
        InputError {
            position,
            message: shown(&message.into(), MAX_MESSAGE),
            src,
            span,
            label: shown(&label.into(), MAX_MESSAGE),
            help: help.map(|h| shown(&h, MAX_MESSAGE)),
        }
    }
}

/// The longest message an error shows of itself, in characters: a serde
/// message quotes the offending value whole, and a value can be a
/// megabyte long.
const MAX_MESSAGE: usize = 1000;

/// `s` escaped, and cut to `max` characters.
fn shown(s: &str, max: usize) -> String {
    let s = escape::text(s);
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

/// What an error shows of its file: the lines around the offending span,
/// each cut to a width a terminal can show around it, every control
/// character escaped. The line numbers and the `file:line:col` miette
/// prints are the file's own. A whole line would not do: a line of a
/// megabyte floods the terminal, and past column 65,535 miette panics
/// while it draws the caret.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: String,
    /// The file's line (0-based) that `text` starts with.
    first_line: usize,
    /// The span the error points at, in `text`.
    span: SourceSpan,
    /// Where that span starts in the file: 0-based line and column (in
    /// characters, as editors count).
    line: usize,
    column: usize,
}

/// Characters shown left of the span's start, and in all.
const LEFT: usize = 60;
const WIDTH: usize = 160;
/// Lines shown before and after the span's.
const AROUND: usize = 2;

impl Excerpt {
    /// The excerpt of `source` around `span`, and `span` within it.
    pub fn new(source: &Source, span: SourceSpan) -> (Excerpt, SourceSpan) {
        let text = source.text.as_str();
        let start = floor_char_boundary(text, span.offset().min(text.len()));
        let end =
            floor_char_boundary(text, (span.offset() + span.len()).min(text.len())).max(start);
        // Lines as (byte offset, text without its line break).
        let mut lines: Vec<(usize, &str)> = Vec::new();
        let mut off = 0;
        for l in text.split_inclusive('\n') {
            lines.push((off, l.trim_end_matches('\n').trim_end_matches('\r')));
            off += l.len();
        }
        if lines.is_empty() || text.ends_with('\n') {
            lines.push((off, ""));
        }
        let line_of = |o: usize| lines.partition_point(|(s, _)| *s <= o).saturating_sub(1);
        let first = line_of(start);
        // A span over many lines is shown by its first few.
        let last_span_line = line_of(end).min(first + AROUND);
        let end = end
            .min(lines[last_span_line].0 + lines[last_span_line].1.len())
            .max(start);
        let column = text[lines[first].0..start].chars().count();
        // A line that fits is shown whole; a longer one from a little
        // before the span.
        let lo = if lines[first].1.chars().count() <= WIDTH {
            0
        } else {
            column.saturating_sub(LEFT)
        };
        let hi = (lo + WIDTH).max(column + 1);
        let from = first.saturating_sub(AROUND);
        let to = (last_span_line + AROUND).min(lines.len() - 1);
        let mut out = String::new();
        let (mut new_start, mut new_end) = (None, None);
        for (i, (line_off, line)) in lines.iter().enumerate().take(to + 1).skip(from) {
            if i > from {
                out.push('\n');
            }
            let mut shown_any = false;
            for (n, (b, c)) in line.char_indices().enumerate() {
                let o = line_off + b;
                if o == start {
                    new_start.get_or_insert(
                        out.len() + usize::from(!shown_any && lo > 0) * '…'.len_utf8(),
                    );
                }
                if o == end {
                    new_end.get_or_insert(out.len());
                }
                if n < lo || n >= hi {
                    continue;
                }
                if !shown_any && lo > 0 {
                    out.push('…');
                }
                shown_any = true;
                // A tab stays: miette lines it up, and it moves no cursor
                // anywhere a line break would not.
                out.push_str(&escape::text(c.encode_utf8(&mut [0; 4])));
            }
            let eol = line_off + line.len();
            if eol == start {
                new_start.get_or_insert(out.len());
            }
            if eol == end || i == last_span_line {
                new_end.get_or_insert(out.len());
            }
            if line.chars().count() > hi {
                out.push('…');
            }
        }
        let s = new_start.unwrap_or(out.len());
        let e = new_end.unwrap_or(out.len()).max(s);
        // A span cut at the right edge ends there.
        let span_len = if span.is_empty() {
            0
        } else {
            (e - s).max(1).min(out.len() - s)
        };
        let inner = SourceSpan::new(s.into(), span_len);
        (
            Excerpt {
                name: escape::line(&source.name).into_owned(),
                text: out,
                first_line: from,
                span: inner,
                line: first,
                column,
            },
            inner,
        )
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // The lines are numbered as in the file; where the caret points
        // (miette reads the label's span alone for the `[file:line:col]` it
        // prints) is the file's own line and column.
        let alone = context_lines_before == 0 && context_lines_after == 0;
        let (line, column) = if alone && *span == self.span {
            (self.line, self.column)
        } else {
            (inner.line() + self.first_line, inner.column())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

/// Errors that stop crossprobe before or outside a run, each with its exit
/// code ([`Error::exit_code`]).
#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(Box<InputError>),

    // The OS error is part of the message, once: it is no `source`, which
    // miette would print again below it.
    #[error("cannot read {}: {error}", escape::Line(&path.display().to_string()))]
    #[diagnostic(
        code(crossprobe::read),
        help("check that the file exists and is readable")
    )]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("cannot write {}: {error}", escape::Line(&path.display().to_string()))]
    #[diagnostic(code(crossprobe::write))]
    Write {
        path: PathBuf,
        error: std::io::Error,
        #[help]
        help: Option<String>,
    },

    /// `run` or `plan` with no matrix, and none where `init` writes one.
    #[error("no matrix given, and there is no crossprobe.yaml in this directory")]
    #[diagnostic(
        code(crossprobe::no_matrix),
        help("`crossprobe init` writes one for the Go module here; or name a matrix file")
    )]
    NoMatrix,

    /// A matrix file with nothing in it but blank lines and comments.
    #[error("{}: the matrix is empty", escape::Line(.file))]
    #[diagnostic(
        code(crossprobe::empty_matrix),
        help("a matrix needs at least `probes:` and `matrix: {{goos: [...], goarch: [...]}}`; see `crossprobe --help`")
    )]
    EmptyMatrix { file: String },

    /// Two matrices of one run share a name, and so a reports directory.
    #[error("two matrices are named {:?}", escape::line(.name))]
    #[diagnostic(
        code(crossprobe::matrix_name),
        help("their reports would share a directory; give one a different `name:`")
    )]
    SameName { name: String },

    /// A matrix that expands past `--max-cells`.
    #[error("{}: the matrix expands to more than {max} cells (the --max-cells limit)", escape::Line(.file))]
    #[diagnostic(
        code(crossprobe::too_many_cells),
        help("narrow it with exclude or --filter, or raise the limit with `--max-cells N`")
    )]
    TooManyCells { file: String, max: usize },

    /// Another crossprobe run holds the reports directory.
    #[error("{} is in use by another crossprobe run ({})", escape::Line(&dir.display().to_string()), escape::line(.holder))]
    #[diagnostic(
        code(crossprobe::locked),
        help("two runs into one reports directory would mix their reports: wait for the other to finish, or give this one another --out DIR")
    )]
    Locked {
        dir: PathBuf,
        /// Who holds it, as its lock file says ("pid 123 ..."), or that
        /// it just started.
        holder: String,
    },

    /// A journal (`*.jsonl`) that cannot be read as one.
    #[error("{}{}{}", escape::Line(&path.display().to_string()), .line.map(|n| format!(":{n}")).unwrap_or_default(), escape::text(.what))]
    #[diagnostic(code(crossprobe::journal))]
    Journal {
        path: PathBuf,
        /// The line at fault, when one is.
        line: Option<usize>,
        /// What is wrong there, from ": " on.
        what: String,
        #[help]
        help: &'static str,
    },

    /// The signal handlers that keep an interrupted run's reports.
    #[error("cannot install signal handlers: {error}")]
    #[diagnostic(code(crossprobe::signals))]
    Signals { error: std::io::Error },

    /// A file (a matrix, a snippet, results) larger than crossprobe reads:
    /// refused by its size, before a byte of it is read where it can be.
    /// `said` is what was too large and the bound.
    #[error("{}: {}", escape::Line(.name), escape::line(.said))]
    #[diagnostic(code(crossprobe::too_large))]
    TooLarge {
        name: String,
        said: String,
        #[help]
        help: &'static str,
    },

    /// A matrix or snippet that is not UTF-8, at its first bad byte.
    #[error("{}:{line}:{col}: not UTF-8 text: byte 0x{byte:02x} cannot start a character here", escape::Line(.name))]
    #[diagnostic(
        code(crossprobe::not_utf8),
        help("save the matrix as UTF-8 (a Latin-1 é is the usual culprit: `iconv -f latin1 -t utf-8`)")
    )]
    NotUtf8 {
        name: String,
        line: usize,
        col: usize,
        byte: u8,
    },

    /// A results file that is not one: `what` it is not (valid JSON, a
    /// results file) and the parser's `detail`, at line and column.
    #[error("{}:{line}:{col}: {what}: {}", escape::Line(.name), escape::text(.detail))]
    #[diagnostic(code(crossprobe::corrupt_results))]
    CorruptResults {
        name: String,
        line: usize,
        col: usize,
        what: &'static str,
        detail: String,
        #[help]
        help: &'static str,
    },

    /// A results file of another schema than this crossprobe's `wanted`.
    #[error("{}: results schema {} is not the schema {wanted} this crossprobe reads", escape::Line(.name), .found.map_or("(missing)".to_string(), |s| s.to_string()))]
    #[diagnostic(
        code(crossprobe::results_schema),
        help("rerun the matrix with this version of crossprobe")
    )]
    ResultsSchema {
        name: String,
        found: Option<u64>,
        wanted: u32,
    },

    /// `report merge` of results files of different schemas: each schema
    /// with its files ("schema 1: a.json, b.json").
    #[error("cannot merge results of different schema versions ({})", escape::line(&.schemas.join("; ")))]
    #[diagnostic(
        code(crossprobe::merge_schemas),
        help(
            "rerun the older matrices with this crossprobe (it writes schema {wanted}), then merge"
        )
    )]
    MergeSchemas { schemas: Vec<String>, wanted: u32 },

    /// `report merge` given no results.
    #[error("nothing to merge")]
    #[diagnostic(
        code(crossprobe::nothing_to_merge),
        help("name at least one results.json")
    )]
    NothingToMerge,

    /// One cell of one runner in two of the merged files.
    #[error("cell {} of matrix {} is in both {} and {} (runner {})", escape::Line(.cell), escape::Line(.matrix), escape::Line(&.first.display().to_string()), escape::Line(&.second.display().to_string()), escape::Line(.runner))]
    #[diagnostic(
        code(crossprobe::merged_twice),
        help(
            "each shard of a runner goes in once; two runners need different names (--runner NAME)"
        )
    )]
    MergedTwice {
        cell: String,
        matrix: String,
        first: PathBuf,
        second: PathBuf,
        runner: String,
    },

    #[error("{}", escape::text(.message))]
    #[diagnostic(code(crossprobe::toolchain))]
    Toolchain {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{}", escape::text(.message))]
    #[diagnostic(code(crossprobe::usage))]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl Error {
    /// The exit status this failure ends crossprobe with ([`crate::exit`]).
    /// The rule: the code says what failed, never when. A file crossprobe
    /// must write and cannot is an I/O failure (3), before a run (an
    /// unwritable `--out`) as after one; anything else here is bad input or
    /// usage (2), which a person fixes in the command or the matrix.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Write { .. } => exit::IO,
            Error::Input(_)
            | Error::Read { .. }
            | Error::NoMatrix
            | Error::EmptyMatrix { .. }
            | Error::SameName { .. }
            | Error::TooManyCells { .. }
            | Error::Locked { .. }
            | Error::Journal { .. }
            | Error::Signals { .. }
            | Error::TooLarge { .. }
            | Error::NotUtf8 { .. }
            | Error::CorruptResults { .. }
            | Error::ResultsSchema { .. }
            | Error::MergeSchemas { .. }
            | Error::NothingToMerge
            | Error::MergedTwice { .. }
            | Error::Toolchain { .. }
            | Error::Usage { .. } => exit::INPUT,
        }
    }

    /// The exit status of an error that reached the top as a report: its
    /// [`Error::exit_code`] when it is an [`Error`], else bad input (an
    /// [`InputError`] or [`InputErrors`] on its own).
    pub fn exit_code_of(report: &miette::Report) -> i32 {
        report
            .downcast_ref::<Error>()
            .map_or(exit::INPUT, Error::exit_code)
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(Box::new(e))
    }
}

/// Prints an error as miette draws it, on standard error. Two guards
/// behind the escaping every error does of a stranger's text: what miette
/// drew is escaped again, its own colours (SGR sequences) alone kept; and
/// should miette panic while it draws, the error's own words are printed
/// instead (an error is exit 2, never 101).
pub fn eprint(report: &miette::Report) {
    eprintln!("{}", render(report));
}

thread_local! {
    /// Set while this thread draws an error that may panic inside miette.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it. The panic hook is
/// process-wide: swapping it for a silent one around `f` (take, set, set
/// back) would silence every other thread's panics meanwhile, and two
/// threads doing it at once could leave the silent hook in place for good
/// (a test binary then reports failures with no message). So one hook,
/// installed once, stays quiet only for the thread inside `f`.
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r
}

/// [`eprint`]'s text.
pub fn render(report: &miette::Report) -> String {
    let drawn = quietly(|| format!("{report:?}"));
    match drawn {
        Ok(text) => keep_colours(&text),
        Err(_) => {
            let mut text = String::from("error:");
            for cause in report.chain() {
                text.push_str(&format!(" {}", escape::text(&cause.to_string())));
            }
            if let Some(help) = report.help() {
                text.push_str(&format!("\n  help: {}", escape::text(&help.to_string())));
            }
            text
        }
    }
}

/// `text` escaped ([`escape::text`]) but for the colour sequences
/// (`ESC [ digits;digits m`) miette styles its output with.
fn keep_colours(text: &str) -> String {
    let sgr = regex::Regex::new(r"\x1b\[[0-9;]*m").expect("valid regex");
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in sgr.find_iter(text) {
        out.push_str(&escape::text(&text[last..m.start()]));
        out.push_str(m.as_str());
        last = m.end();
    }
    out.push_str(&escape::text(&text[last..]));
    out
}

/// Several input errors found in one pass, reported together so a user fixes
/// them in one go.
#[derive(Debug, Error, Diagnostic)]
#[error("{} errors in {file}", errors.len())]
pub struct InputErrors {
    pub file: String,
    #[related]
    pub errors: Vec<InputError>,
}

/// `; did you mean "x"?` when a known value is close, else nothing.
pub fn did_you_mean<'a>(got: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let best = known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(got, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3) && *d > 0)
        .min();
    match best {
        Some((_, k)) => format!("; did you mean {k:?}?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("amd46", ["amd64", "arm64"]),
            "; did you mean \"amd64\"?"
        );
        assert_eq!(did_you_mean("zzzzzz", ["amd64"]), "");
    }
}
