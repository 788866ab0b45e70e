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
use regex::Regex;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::axis;
use crate::errors::{Error, Source};
use crate::load::{self, limits, Located, Matrix};
use crate::model::Lang;

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
    snippet_defaults(&mut matrix, timeout_given, &source)?;
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
///   failure"), in `shorthand::spell`;
/// - a Go `source` gets [`STARTED_FILE`] beside it.
fn snippet_defaults(m: &mut Matrix, timeout_given: bool, source: &Source) -> miette::Result<()> {
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
    for p in m
        .probes
        .iter_mut()
        .filter(|p| p.inline && p.lang == Lang::Go)
    {
        if p.files.iter().any(|(n, _)| n == STARTED_FILE) {
            return Err(Error::Usage {
                message: format!("{}: `files` names {STARTED_FILE}", source.name),
                help: Some("crossprobe writes that file itself; rename yours".into()),
            }
            .into());
        }
        let src = p.files[0].1.clone();
        p.files.push((
            STARTED_FILE.to_string(),
            format!(
                "{}{}",
                constraint_of(&src).unwrap_or_default(),
                STARTED_GO.replace("PACKAGE", &package_of(&src))
            ),
        ));
    }
    Ok(())
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

/// Written beside a snippet's own source. The facts line proves that the
/// binary really started (an emulator can exit 0 without running it, and
/// that must never pass), and says which Go built it.
const STARTED_GO: &str = r#"// Written by crossprobe beside the snippet: the facts line below proves
// that the binary started, and names the Go that built it.
package PACKAGE

import (
	"os"
	"runtime"
)

func init() {
	os.Stdout.WriteString("CROSSPROBE-FACTS: {\"started\":true,\"go\":\"" + runtime.Version() +
		"\",\"goos\":\"" + runtime.GOOS + "\",\"goarch\":\"" + runtime.GOARCH + "\"}\n")
}
"#;

/// The file name of [`STARTED_GO`] in a probe's directory.
pub const STARTED_FILE: &str = "crossprobe_started.go";

/// The build constraint the started file needs to be compiled exactly when
/// the snippet's source is: a file that imports "C" is left out when cgo is
/// off, and then the build must fail as the user's did ("build constraints
/// exclude all Go files"), not for want of a main.
fn constraint_of(src: &str) -> Option<String> {
    let build = Regex::new(r"(?m)^//go:build\s+(.+?)\s*$").expect("valid regex");
    let cgo = Regex::new(r#"(?m)^\s*import\s+"C"|^\s*"C"\s*$"#).expect("valid regex");
    let mut parts: Vec<String> = build
        .captures(src)
        .map(|c| format!("({})", &c[1]))
        .into_iter()
        .collect();
    if cgo.is_match(src) {
        parts.push("cgo".into());
    }
    (!parts.is_empty()).then(|| format!("//go:build {}\n\n", parts.join(" && ")))
}

/// The package clause of a Go source, or `main`.
fn package_of(src: &str) -> String {
    let re = Regex::new(r"(?m)^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex");
    re.captures(src)
        .map_or("main".to_string(), |c| c[1].to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        assert_eq!(constraint_of("package main\nfunc main() {}"), None);
        assert_eq!(
            constraint_of("package main\n\nimport \"C\"\n"),
            Some("//go:build cgo\n\n".into())
        );
        assert_eq!(
            constraint_of("//go:build linux\n\npackage main\nimport (\n\t\"C\"\n\t\"fmt\"\n)\n"),
            Some("//go:build (linux) && cgo\n\n".into())
        );
    }

    #[test]
    fn packages() {
        assert_eq!(package_of("// x\npackage foo\n"), "foo");
        assert_eq!(package_of("func main() {}"), "main");
    }
}
