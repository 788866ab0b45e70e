//! What reading a matrix may cost. crossprobe reads other people's YAML
//! unattended, so a file that is huge, not text, or built to explode (an
//! alias bomb, nesting hundreds deep) is refused quickly and by name, before
//! it can hang a CI job or exhaust its memory.
//!
//! The limits sit far above any real matrix: the shipped ones are a few KB,
//! a few hundred YAML nodes, and six levels deep.

use std::io::Read;
use std::path::Path;

use serde_saphyr::budget::BudgetBreach;

use crate::errors::Error;

/// The largest matrix file read. Inline probe sources are the only large
/// thing a matrix holds, and they are a few KB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Nested sequences and mappings; a matrix needs about 6.
pub const MAX_DEPTH: usize = 32;
/// Scalars, sequences and mappings, aliases counted at every use.
pub const MAX_NODES: usize = 100_000;
/// `*alias` uses. A matrix rarely has any.
pub const MAX_ALIASES: usize = 1_000;
/// Bytes of all scalars, aliases counted at every use.
pub const MAX_SCALAR_BYTES: usize = 4 << 20;

/// The largest results.json (or journal) read by `report` and
/// `--durations`: a run of 10,000 cells (the most one expands to), each
/// with its captured output, stays below it.
pub const MAX_RESULTS_BYTES: u64 = 1 << 30;

/// Reads a matrix file: at most [`MAX_FILE_BYTES`] (so that `/dev/zero` or
/// a 10 GB log given by mistake costs nothing), and only as UTF-8.
pub fn read(path: &Path) -> Result<String, Error> {
    read_as(path, "a matrix")
}

/// [`read`], for `what` (a matrix, a snippet).
pub fn read_as(path: &Path, what: &str) -> Result<String, Error> {
    let name = path.display().to_string();
    let (file, size) = open(path, &name)?;
    text(&name, file, size, what)
}

/// Reads a snippet from standard input, as [`read`] reads a file.
pub fn read_stdin() -> Result<String, Error> {
    text("<stdin>", std::io::stdin().lock(), None, "a snippet")
}

/// Opens `path` for a bounded read: the file, and its size when it is a
/// regular file (a device or a pipe has none to tell).
pub fn open(path: &Path, name: &str) -> Result<(std::fs::File, Option<u64>), Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: name.into(),
        error: source,
    })?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    Ok((file, size))
}

/// A size as people read it: 10.0 MiB, 2.0 GiB.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// At most [`MAX_FILE_BYTES`] of `reader`, as UTF-8; `size` (when known)
/// refuses a file too large before a byte of it is read. `what` names what
/// the input should have been.
fn text(name: &str, reader: impl Read, size: Option<u64>, what: &str) -> Result<String, Error> {
    let too_large = |size: Option<u64>| {
        Error::TooLarge {
        name: name.to_string(),
        said: format!(
            "{}; {what} may be at most {} KiB",
            size.map_or("the input is more than 1 MiB".to_string(), |s| format!(
                "the file is {}",
                size_text(s)
            )),
            MAX_FILE_BYTES >> 10
        ),
        help: "is this the right file? A matrix is a short YAML file; put long probe sources in a --templates directory",
    }
    };
    if size.is_some_and(|s| s > MAX_FILE_BYTES) {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: name.into(),
            error: source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // Everything before the bad byte is valid UTF-8, so it can be counted
        // in characters, as editors count columns.
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let byte = e.as_bytes()[valid.len()];
        Error::NotUtf8 {
            name: name.to_string(),
            line,
            col,
            byte,
        }
    })
}

/// The options every matrix is parsed with.
pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_events: 4 * MAX_NODES,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_recorded_anchor_events: MAX_NODES,
            max_total_scalar_bytes: MAX_SCALAR_BYTES,
            max_recorded_anchor_bytes: MAX_SCALAR_BYTES,
            max_documents: 1,
        },
    }
}

/// A sentence and a hint when `e` is one of these limits tripping: a budget
/// breach, possibly behind the alias it happened in, or the parser's own
/// nesting limit (`message` is what it said).
pub fn explain(e: &serde_saphyr::Error, message: &str) -> Option<(String, String)> {
    use serde_saphyr::Error as E;
    let mut inner = e;
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = inner {
        inner = error;
    }
    match inner {
        E::Budget { breach, .. } => Some(breach_message(breach)),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => Some(breach_message(&BudgetBreach::Aliases {
            aliases: MAX_ALIASES + 1,
        })),
        _ if message == "recursion limit exceeded" => Some(breach_message(&BudgetBreach::Depth {
            depth: MAX_DEPTH + 1,
        })),
        _ => None,
    }
}

fn breach_message(breach: &BudgetBreach) -> (String, String) {
    const ALIASES: &str = "YAML aliases (`*name`) that repeat large parts of the file look like an alias bomb (\"billion laughs\"); write the values out";
    match breach {
        BudgetBreach::Depth { .. } => (
            format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
            "a matrix needs about six levels; look for unclosed or runaway brackets".into(),
        ),
        BudgetBreach::Nodes { .. }
        | BudgetBreach::Events { .. }
        | BudgetBreach::RecordedAnchorEvents { .. } => (
            format!("the YAML expands to more than {MAX_NODES} values"),
            format!("a matrix needs a few hundred; {ALIASES}, or split the matrix"),
        ),
        BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => (
            format!("the YAML uses more than {MAX_ALIASES} aliases or anchors"),
            ALIASES.into(),
        ),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
            format!(
                "the YAML repeats {anchors} anchor{} through {aliases} aliases",
                if *anchors == 1 { "" } else { "s" }
            ),
            ALIASES.into(),
        ),
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::RecordedAnchorBytes { .. } => (
            format!(
                "the YAML's values, aliases expanded, hold more than {} MiB",
                MAX_SCALAR_BYTES >> 20
            ),
            ALIASES.into(),
        ),
        BudgetBreach::Documents { .. } => (
            "the file holds more than one YAML document".into(),
            "a matrix is one document: remove the `---` separators, or split it into files".into(),
        ),
        other => (
            format!("the YAML is too large or too complex ({other:?})"),
            "a matrix is a short YAML file; see the book's matrix reference".into(),
        ),
    }
}
