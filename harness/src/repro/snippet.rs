//! A snippet: the YAML a bug report carries, read from a file, stdin, or the
//! first ```yaml block of a Markdown file, and turned into a [`Matrix`].
//!
//! Two shapes are accepted. A full matrix (it has `probes:` or `matrix:`)
//! goes to `load` unchanged. Anything else is the shorthand, with axes at the
//! top level and one program:
//!
//! ```yaml
//! goos: linux
//! goarch: arm
//! cgo: 1
//! expect: {outcome: build-fail, match: "unrecognized command.line option '-marm'"}
//! source: |
//!   package main
//!   import "C"
//!   func main() {}
//! ```
//!
//! Positions in errors are those of the file the user gave, Markdown
//! included: the text before the block is blanked, byte for byte, so YAML
//! offsets are the file's.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use miette::SourceSpan;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::axis;
use crate::errors::{Error, Source};
use crate::load::{self, limits, Located, Matrix};

use super::{markdown, shorthand};

/// A first build with a newly downloaded Go compiles its standard library
/// for the target: minutes on a busy machine, not seconds.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// What the user handed over, read whole.
pub struct Input {
    /// As shown in errors: the path, or `<stdin>`.
    pub name: String,
    pub stem: String,
    /// The whole text, Markdown included.
    pub text: String,
    /// What YAML reads: the text with everything outside the snippet
    /// blanked to spaces, offsets kept.
    pub yaml: String,
}

/// A loaded snippet.
pub struct Loaded {
    pub matrix: Matrix,
    /// The YAML itself, for the repro bundle.
    pub yaml: String,
    pub title: Option<String>,
}

/// Reads `arg`: a file, `-` for stdin; Markdown (`.md`, or stdin holding a
/// fence) gives its first ```yaml block.
pub fn read(arg: &str) -> miette::Result<Input> {
    let (name, stem, bytes) = if arg == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|source| Error::Read {
                path: "<stdin>".into(),
                source,
            })?;
        ("<stdin>".to_string(), "snippet".to_string(), b)
    } else {
        let p = Path::new(arg);
        let b = std::fs::read(p).map_err(|source| Error::Read {
            path: p.to_path_buf(),
            source,
        })?;
        let stem = p
            .file_stem()
            .map_or("snippet".into(), |s| s.to_string_lossy().into_owned());
        (arg.to_string(), stem, b)
    };
    let text = String::from_utf8(bytes).map_err(|e| Error::Usage {
        message: format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
        help: Some("save the snippet as UTF-8".into()),
    })?;
    let markdown = Path::new(arg)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
        || (arg == "-" && markdown::fences(&text).next().is_some());
    let yaml = if markdown {
        let Some(block) = markdown::fences(&text).find(|f| f.yaml) else {
            let other = markdown::fences(&text).next().is_some();
            return Err(Error::Usage {
                message: format!("{name} has no fenced yaml block"),
                help: Some(if other {
                    "its code blocks name no yaml language: mark the snippet's block as ```yaml"
                        .into()
                } else {
                    "put the snippet in a fenced block that opens with ```yaml and closes with ```"
                        .into()
                }),
            }
            .into());
        };
        markdown::blank_outside(&text, block.start, block.end)
    } else {
        text.clone()
    };
    Ok(Input {
        name,
        stem,
        text,
        yaml,
    })
}

/// Loads a snippet or a full matrix.
pub fn load(input: &Input, templates: Option<&Path>) -> miette::Result<Loaded> {
    let yaml_only = input.yaml.trim_start().to_string();
    if input.yaml.trim().is_empty() {
        return Err(Error::Usage {
            message: format!("{}: the snippet is empty", input.name),
            help: Some(
                "a snippet needs at least goos, goarch and source; see `crossprobe repro --help`"
                    .into(),
            ),
        }
        .into());
    }
    #[derive(Deserialize)]
    struct Peek {
        probes: Option<IgnoredAny>,
        matrix: Option<IgnoredAny>,
    }
    let full = serde_saphyr::from_str::<Peek>(&input.yaml)
        .map(|p| p.probes.is_some() || p.matrix.is_some())
        .unwrap_or(false);
    if full {
        let matrix = load::load_str(&input.name, &input.stem, input.yaml.clone(), templates)?;
        return Ok(Loaded {
            matrix,
            yaml: yaml_only,
            title: None,
        });
    }
    let source = Source {
        name: input.name.clone(),
        text: Arc::new(input.yaml.clone()),
    };
    let raw: shorthand::SnippetFile =
        serde_saphyr::from_str_with_options(&input.yaml, limits::options())
            .map_err(|e| snippet_yaml_error(&source, &e))?;
    let title = raw.title.clone();
    let timeout_given = raw.timeout.is_some();
    let file = shorthand::spell(raw, &source)?;
    let mut matrix = load::check(&source, file, &safe_name(&input.stem), templates)?;
    snippet_defaults(&mut matrix, timeout_given);
    Ok(Loaded {
        matrix,
        yaml: yaml_only,
        title,
    })
}

/// Where a snippet differs from the matrix file it spells, because a bug
/// report needs it (the README's "Reproducing a bug report" lists the same):
/// - its axes take one value as well as a list (`goarch: arm`);
/// - `cc` left out with cgo on is `default`: CC unset, Go's own choice of
///   compiler, as in the reporter's shell (golang/go#16801 needs exactly
///   that); a matrix's is `auto`;
/// - the timeout is 5 minutes, not 60s: a first build with a newly fetched
///   Go compiles its standard library;
/// - an expectation's `reason` defaults to `issue` (or "the reported
///   failure"), in `shorthand::spell`.
fn snippet_defaults(m: &mut Matrix, timeout_given: bool) {
    if !timeout_given {
        m.timeout = DEFAULT_TIMEOUT;
    }
    if !m.listed.contains("cc") && m.values("cgo").iter().any(|c| c.value != "0") {
        m.axes.insert(
            "cc",
            vec![Located {
                value: axis::cc::Request::Default.to_string(),
                span: SourceSpan::new(0.into(), 0),
            }],
        );
    }
}

/// load's YAML error, with the hint about variables made true of snippets,
/// where they sit under a top-level `env:`.
fn snippet_yaml_error(source: &Source, e: &serde_saphyr::Error) -> Error {
    match load::yaml_error(source, e) {
        Error::Input(mut ie) if ie.help.as_deref().is_some_and(|h| h.contains("matrix.env")) => {
            let var = ie
                .message
                .split('`')
                .nth(1)
                .unwrap_or("GOARM")
                .to_ascii_uppercase();
            ie.help = Some(format!(
                "variables such as {var} go under `env:`, e.g. `env: {{{var}: \"...\"}}`"
            ));
            Error::Input(ie)
        }
        other => other,
    }
}

fn safe_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if load::check_name(&n).is_ok() {
        n
    } else {
        "snippet".into()
    }
}
