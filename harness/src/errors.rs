//! Every failure a user can meet before a cell runs, one type each.
//!
//! Errors in a matrix name the file, line and column, the offending value,
//! what was expected, and one hint. They render through miette, which draws
//! the snippet with a caret.

use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// A matrix file, kept whole so that later phases can point into it.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: Arc<String>,
}

impl Source {
    pub fn named(&self) -> NamedSource<Arc<String>> {
        NamedSource::new(self.name.clone(), self.text.clone())
    }

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
    pub src: NamedSource<Arc<String>>,
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
        InputError {
            position: source.position(span.offset()),
            message: message.into(),
            src: source.named(),
            span,
            label: label.into(),
            help,
        }
    }
}

/// Errors that stop crossprobe before or outside a run. Each maps to exit
/// code 2 (input) unless said otherwise.
#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(Box<InputError>),

    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(
        code(crossprobe::read),
        help("check that the file exists and is readable")
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(code(crossprobe::write))]
    Write {
        path: PathBuf,
        source: std::io::Error,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(crossprobe::toolchain))]
    Toolchain {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(crossprobe::usage))]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(Box::new(e))
    }
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
