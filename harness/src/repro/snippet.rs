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

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use miette::SourceSpan;
use regex::Regex;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::axis;
use crate::errors::{Error, InputError, Source};
use crate::load::schema::{
    self, ExpectEntry, InlineProbe, MatrixFile, ProbeRef, RunConfig, Scalar,
};
use crate::load::{self, limits, Located, Matrix};
use crate::model::Lang;

use super::markdown;

/// A first build with a newly downloaded Go compiles its standard library
/// for the target: minutes on a busy machine, not seconds.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The snippet shorthand: the matrix format spelled flat. Its top level
/// takes every key a matrix file takes, wherever the matrix puts it: the
/// axes (`goos`, `cc`, `buildmode`, `env`, `include`, ...; each one value
/// or a list), the probe's keys (`source`, `lang`, `files`, or `probe` for
/// shipped probes), the expect keys (`outcome`, `match`, `reason`, `facts`,
/// `when`, or `expect` itself), and `timeout` and `runners` of `run`; and
/// two of its own, `issue` and `title`. It is turned into the same
/// [`MatrixFile`] that a matrix file parses to, positions kept, and checked
/// by `load` like one; [`snippet_defaults`] lists where it differs.
#[derive(Debug, Default)]
struct SnippetFile {
    /// The bug report's URL: the reason of the expectation.
    issue: Option<String>,
    /// One line saying what the snippet shows.
    title: Option<String>,
    name: Option<Spanned<String>>,
    go: Vec<Spanned<Scalar>>,
    axes: schema::Axes,
    source: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    files: BTreeMap<String, String>,
    probe: Vec<Spanned<Scalar>>,
    probe_span: Option<SourceSpan>,
    expect: Vec<Spanned<ExpectEntry>>,
    /// `outcome`, `match`, `reason`, `facts` and `when` at the top level.
    flat: Option<ExpectEntry>,
    flat_at: Option<Location>,
    timeout: Option<Spanned<Scalar>>,
    runners: BTreeMap<String, Spanned<String>>,
}

/// Its own keys, and those of the matrix format outside the axis table.
const OWN_KEYS: &[&str] = &[
    "env", "exclude", "include", "source", "lang", "files", "probe", "expect", "outcome", "match",
    "reason", "facts", "when", "timeout", "runners",
];

/// Every key the shorthand takes, for serde's "expected one of".
fn snippet_keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut v: Vec<&'static str> = vec!["name", "issue", "title", "go"];
        v.extend(
            axis::ranked()
                .filter(|a| a.place == axis::Place::Matrix)
                .map(|a| a.key),
        );
        v.extend(OWN_KEYS);
        Box::leak(v.into_boxed_slice())
    })
}

/// One value or a list, positions kept: `goarch: arm`, `goarch: [arm,
/// "386"]`. (An untagged enum would lose them: serde buffers its input.)
struct Values(Vec<Spanned<Scalar>>);

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<ValuesInner>::deserialize(d)?;
        Ok(Values(match s.value {
            ValuesInner::Many(v) => v,
            ValuesInner::One(x) => vec![Spanned::new(x, s.referenced, s.defined)],
        }))
    }
}

enum ValuesInner {
    One(Scalar),
    Many(Vec<Spanned<Scalar>>),
}

impl<'de> Deserialize<'de> for ValuesInner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ValuesInner;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ValuesInner, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Spanned<Scalar>>()? {
                    v.push(x);
                }
                Ok(ValuesInner::Many(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(v.to_string())))
            }
            // The same words as a matrix file's scalars: cgo's check reads
            // `true` as 1 for both.
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(v.to_string())))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ValuesInner, E> {
                Ok(ValuesInner::One(Scalar(String::new())))
            }
        }
        d.deserialize_any(V)
    }
}

/// `expect:` in a snippet: one entry or a list of them.
struct Entries(Vec<Spanned<ExpectEntry>>);

enum EntriesInner {
    One(Box<ExpectEntry>),
    Many(Vec<Spanned<ExpectEntry>>),
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<EntriesInner>::deserialize(d)?;
        Ok(Entries(match s.value {
            EntriesInner::Many(v) => v,
            EntriesInner::One(e) => vec![Spanned::new(*e, s.referenced, s.defined)],
        }))
    }
}

impl<'de> Deserialize<'de> for EntriesInner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EntriesInner;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an expect entry or a list of them")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<EntriesInner, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Spanned<ExpectEntry>>()? {
                    v.push(x);
                }
                Ok(EntriesInner::Many(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<EntriesInner, A::Error> {
                let e = ExpectEntry::deserialize(serde::de::value::MapAccessDeserializer::new(a))?;
                Ok(EntriesInner::One(Box::new(e)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for SnippetFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SnippetFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a snippet: goos, goarch and source at least")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SnippetFile, A::Error> {
                let mut out = SnippetFile::default();
                let mut flat = ExpectEntry::default();
                let mut has_flat = false;
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let k = key.value.as_str();
                    match k {
                        "name" => out.name = Some(map.next_value()?),
                        "issue" => out.issue = Some(map.next_value()?),
                        "title" => out.title = Some(map.next_value()?),
                        "go" => out.go = map.next_value::<Values>()?.0,
                        "env" => {
                            let env: BTreeMap<String, Values> = map.next_value()?;
                            out.axes.env = env.into_iter().map(|(k, v)| (k, v.0)).collect();
                        }
                        "exclude" => out.axes.exclude = map.next_value()?,
                        "include" => out.axes.include = map.next_value()?,
                        "source" => out.source = Some(map.next_value()?),
                        "lang" => out.lang = Some(map.next_value()?),
                        "files" => out.files = map.next_value()?,
                        "probe" => {
                            out.probe_span = Some(load::span_of(&key.referenced));
                            out.probe = map.next_value::<Values>()?.0;
                        }
                        "expect" => out.expect = map.next_value::<Entries>()?.0,
                        "outcome" | "match" | "reason" | "facts" | "when" => {
                            has_flat = true;
                            out.flat_at.get_or_insert(key.referenced);
                            match k {
                                "outcome" => flat.outcome = Some(map.next_value()?),
                                "match" => flat.r#match = Some(map.next_value()?),
                                "reason" => flat.reason = Some(map.next_value()?),
                                "facts" => flat.facts = map.next_value()?,
                                _ => flat.when = map.next_value()?,
                            }
                        }
                        "timeout" => out.timeout = Some(map.next_value()?),
                        "runners" => out.runners = map.next_value()?,
                        k => match axis::find(k).filter(|a| a.place == axis::Place::Matrix) {
                            Some(a) => {
                                out.axes.values.insert(a.key, map.next_value::<Values>()?.0);
                            }
                            None => return Err(serde::de::Error::unknown_field(k, snippet_keys())),
                        },
                    }
                }
                if has_flat {
                    out.flat = Some(flat);
                }
                for a in axis::AXES {
                    if a.place == axis::Place::Matrix
                        && a.default.is_none()
                        && !out.axes.values.contains_key(a.key)
                    {
                        return Err(serde::de::Error::missing_field(a.key));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

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
    let raw: SnippetFile = serde_saphyr::from_str_with_options(&input.yaml, limits::options())
        .map_err(|e| snippet_yaml_error(&source, &e))?;
    let title = raw.title.clone();
    let timeout_given = raw.timeout.is_some();
    let file = spell(raw, &source)?;
    let mut matrix = load::check(&source, file, &safe_name(&input.stem), templates)?;
    snippet_defaults(&mut matrix, timeout_given, &source)?;
    Ok(Loaded {
        matrix,
        yaml: yaml_only,
        title,
    })
}

fn input_error(
    source: &Source,
    span: SourceSpan,
    msg: String,
    label: &str,
    help: String,
) -> miette::Report {
    Error::from(InputError::new(source, span, msg, label, Some(help))).into()
}

/// The shorthand spelled as a matrix file: every key moved to where a
/// matrix file has it, positions kept.
fn spell(raw: SnippetFile, source: &Source) -> miette::Result<MatrixFile> {
    let probes = match (raw.source, raw.probe.is_empty()) {
        (Some(src), true) => {
            let lang = raw.lang.unwrap_or_else(|| {
                Spanned::new("go".to_string(), src.referenced, src.defined)
            });
            let probe = InlineProbe {
                name: Spanned::new("snippet".to_string(), src.referenced, src.defined),
                lang,
                source: Some(src.value),
                files: raw.files,
            };
            vec![Spanned::new(ProbeRef::Inline(probe), src.referenced, src.defined)]
        }
        (None, false) => {
            if let Some(l) = &raw.lang {
                return Err(input_error(
                    source,
                    load::span_of(&l.referenced),
                    "`lang` and `files` go with `source`, not with `probe`".into(),
                    "here",
                    "a shipped probe has its own language and files; drop this key".into(),
                ));
            }
            raw.probe
                .into_iter()
                .map(|n| Spanned::new(ProbeRef::Named(n.value.0), n.referenced, n.defined))
                .collect()
        }
        (Some(src), false) => {
            return Err(input_error(
                source,
                load::span_of(&src.referenced),
                "a snippet has either `source` or `probe`, not both".into(),
                "here",
                "keep `source` for the report's program, or `probe` for shipped probes".into(),
            ))
        }
        (None, true) => {
            return Err(Error::Usage {
                message: format!("{}: the snippet has no `source`", source.name),
                help: Some(
                    "add `source: |` with the program from the report, or `probe: NAME` for a shipped probe"
                        .into(),
                ),
            }
            .into())
        }
    };
    let mut expect = raw.expect;
    if let (Some(flat), Some(at)) = (raw.flat, raw.flat_at) {
        expect.push(Spanned::new(flat, at, at));
    }
    // A bug report's expectation: its reason is the issue, and an expected
    // failure with neither still says what it is.
    for e in &mut expect {
        let fails = e
            .value
            .outcome
            .as_ref()
            .is_some_and(|o| !matches!(o.value.as_str(), "pass" | "skip"));
        if e.value.reason.is_none() {
            e.value.reason = raw
                .issue
                .clone()
                .or_else(|| fails.then(|| "the reported failure".to_string()));
        }
    }
    Ok(MatrixFile {
        name: raw.name,
        probes,
        go: raw.go,
        matrix: raw.axes,
        run: RunConfig {
            timeout: raw.timeout,
            runners: raw.runners,
        },
        expect,
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
///   failure"), in [`spell`];
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
