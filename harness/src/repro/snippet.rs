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
use serde_saphyr::Spanned;

use crate::errors::{Error, InputError, Source};
use crate::load::schema::Scalar;
use crate::load::{self, Expect, Located, Matrix};
use crate::model::{Lang, Outcome};
use crate::render::catalog::{self, Probe};

use super::markdown;

/// A first build with a newly downloaded Go compiles its standard library
/// for the target: minutes on a busy machine, not seconds.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The snippet shorthand. Keys are the interface: extend, never rename.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnippetFile {
    /// Reports go to `reports/<name>/`; defaults to the file's stem.
    name: Option<Spanned<String>>,
    /// The bug report's URL: the reason of the expectation.
    issue: Option<String>,
    /// One line saying what the snippet shows.
    title: Option<String>,
    go: Option<Spanned<Axis>>,
    goos: Spanned<Axis>,
    goarch: Spanned<Axis>,
    cgo: Option<Spanned<Axis>>,
    ldflags: Option<Spanned<Axis>>,
    tags: Option<Spanned<Axis>>,
    flags: Option<Spanned<Axis>>,
    /// qemu `-cpu` models to run under, e.g. `arm926`.
    cpu: Option<Spanned<Axis>>,
    /// Further axes by variable name, each one value or a list.
    #[serde(default)]
    env: BTreeMap<String, Spanned<Axis>>,
    /// The program, as `main.go`.
    source: Option<Spanned<String>>,
    /// More files beside it: `{"lib.c": "...", "lib.h": "..."}`.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Shipped probes by name, instead of `source`.
    probe: Option<Spanned<Axis>>,
    expect: Option<Spanned<SnippetExpect>>,
    timeout: Option<Spanned<Scalar>>,
}

/// One value or a list, keeping positions: `goarch: arm`, `goarch: [arm,
/// "386"]`. (An untagged enum would lose them: serde buffers its input.)
#[derive(Clone, Debug)]
enum Axis {
    One(Scalar),
    Many(Vec<Spanned<Scalar>>),
}

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Axis;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Axis, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Spanned<Scalar>>()? {
                    v.push(x);
                }
                Ok(Axis::Many(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Axis, E> {
                Ok(Axis::One(Scalar(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Axis, E> {
                Ok(Axis::One(Scalar(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Axis, E> {
                Ok(Axis::One(Scalar(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Axis, E> {
                Ok(Axis::One(Scalar(v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Axis, E> {
                Ok(Axis::One(Scalar(if v { "1" } else { "0" }.into())))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnippetExpect {
    outcome: Spanned<String>,
    r#match: Option<Spanned<String>>,
    reason: Option<String>,
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
    let raw: SnippetFile =
        serde_saphyr::from_str(&input.yaml).map_err(|e| snippet_yaml_error(&source, &e))?;
    let matrix = Convert {
        source: &source,
        templates,
    }
    .matrix(&raw, &input.stem)?;
    Ok(Loaded {
        matrix,
        yaml: yaml_only,
        title: raw.title,
    })
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

struct Convert<'a> {
    source: &'a Source,
    templates: Option<&'a Path>,
}

impl Convert<'_> {
    fn err(&self, span: SourceSpan, msg: String, label: &str, help: String) -> miette::Report {
        Error::from(InputError::new(self.source, span, msg, label, Some(help))).into()
    }

    /// Refuses a snippet whose build would read a file outside the cell's
    /// directory: an absolute or `..` path in its flags, ldflags, tags or env
    /// values, or in a `#include` or `#cgo` line of its sources. A stranger's
    /// `-extldflags=@/home/you/.ssh/id_rsa` would have the linker quote the
    /// file in its error, into the report.
    fn confined(
        &self,
        raw: &SnippetFile,
        cgo: &[Located<String>],
        env: &BTreeMap<String, Vec<Located<String>>>,
    ) -> miette::Result<()> {
        let help = || {
            "a snippet's build reads only its own files: put the file under `files:` and \
             name it relatively (in cgo, as ${SRCDIR}/name)"
                .to_string()
        };
        let axes = [&raw.ldflags, &raw.tags, &raw.flags];
        let values = axes
            .iter()
            .flat_map(|a| self.values(a.as_ref(), ""))
            .chain(cgo.iter().cloned())
            .chain(env.values().flatten().cloned());
        for v in values {
            if let Some(path) = outside_path(&v.value) {
                let msg = format!("the snippet names {path:?}, outside the cell's directory");
                return Err(self.err(v.span, msg, "this value", help()));
            }
        }
        let Some(src) = &raw.source else {
            return Ok(());
        };
        let texts =
            std::iter::once(src.value.as_str()).chain(raw.files.values().map(String::as_str));
        for line in texts.flat_map(str::lines).map(str::trim_start) {
            let directive = ["#include", "#cgo", "//go:embed"];
            if !directive.iter().any(|d| line.starts_with(d)) {
                continue;
            }
            if let Some(path) = outside_path(line) {
                let msg =
                    format!("the snippet's source names {path:?}, outside the cell's directory");
                return Err(self.err(
                    load::span_of(&src.referenced),
                    msg,
                    "in this source",
                    help(),
                ));
            }
        }
        Ok(())
    }

    fn values(&self, v: Option<&Spanned<Axis>>, default: &str) -> Vec<Located<String>> {
        match v.map(|v| (&v.value, load::span_of(&v.referenced))) {
            Some((Axis::One(s), span)) => vec![Located {
                value: s.0.clone(),
                span,
            }],
            Some((Axis::Many(v), _)) if !v.is_empty() => v
                .iter()
                .map(|s| Located {
                    value: s.value.0.clone(),
                    span: load::span_of(&s.referenced),
                })
                .collect(),
            _ => vec![Located {
                value: default.to_string(),
                span: SourceSpan::new(0.into(), 0),
            }],
        }
    }

    fn matrix(&self, raw: &SnippetFile, stem: &str) -> miette::Result<Matrix> {
        let name = match &raw.name {
            Some(n) => {
                load::check_name(&n.value).map_err(|why| {
                    self.err(
                        load::span_of(&n.referenced),
                        format!("invalid name {:?}: {why}", n.value),
                        "here",
                        "use letters, digits, '-', '_' and '.' only".into(),
                    )
                })?;
                n.value.clone()
            }
            None => safe_name(stem),
        };
        let probes = self.probes(raw)?;
        let cgo = self.values(raw.cgo.as_ref(), "0");
        for c in &cgo {
            if !matches!(c.value.as_str(), "0" | "1" | "default") {
                return Err(self.err(
                    c.span,
                    format!("invalid cgo value {:?}", c.value),
                    "expected 0, 1 or default",
                    "cgo: default leaves CGO_ENABLED unset, as a user's shell would".into(),
                ));
            }
        }
        // As a user's shell: no CC unless the snippet sets one, so Go picks
        // its own (golang/go#16801 needs exactly that). cgo 0 cells use no
        // C compiler, and keep the ids they had.
        let shell_cc = if cgo.iter().all(|c| c.value == "0") {
            "auto"
        } else {
            crate::toolchain::cc::DEFAULT
        };
        let cc = self.values(None, shell_cc);
        let mut env = BTreeMap::new();
        for (k, v) in &raw.env {
            let vals = self.values(Some(v), "");
            if !load::is_env_name(k) {
                return Err(self.err(
                    vals[0].span,
                    format!("invalid environment variable name {k:?} under env"),
                    "its values",
                    "env axes are named by upper-case variable names, e.g. GOARM".into(),
                ));
            }
            env.insert(k.clone(), vals);
        }
        let timeout = match &raw.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => load::parse_duration(&t.value.0).map_err(|why| {
                self.err(
                    load::span_of(&t.referenced),
                    format!("invalid timeout {:?}: {why}", t.value.0),
                    "expected a duration",
                    "write it as 90s, 2m, 500ms or a number of seconds".into(),
                )
            })?,
        };
        self.confined(raw, &cgo, &env)?;
        let expect = match &raw.expect {
            None => Vec::new(),
            Some(e) => vec![self.expect(e, raw.issue.as_deref())?],
        };
        Ok(Matrix {
            source: self.source.clone(),
            name,
            probes,
            go: self.values(raw.go.as_ref(), "local"),
            goos: self.values(Some(&raw.goos), ""),
            goarch: self.values(Some(&raw.goarch), ""),
            cgo,
            ldflags: self.values(raw.ldflags.as_ref(), ""),
            tags: self.values(raw.tags.as_ref(), ""),
            flags: self.values(raw.flags.as_ref(), ""),
            cpu: self.values(raw.cpu.as_ref(), ""),
            cc,
            buildmode: self.values(None, "exe"),
            env,
            exclude: Vec::new(),
            include: Vec::new(),
            timeout,
            // A stranger's snippet cannot opt out; only --no-sandbox can.
            sandbox: true,
            runners: Vec::new(),
            allow_missing: Some(Default::default()),
            expect,
        })
    }

    fn probes(&self, raw: &SnippetFile) -> miette::Result<Vec<Probe>> {
        match (&raw.source, &raw.probe) {
            (Some(src), None) => {
                let mut files = vec![("main.go".to_string(), src.value.clone())];
                for (n, text) in &raw.files {
                    let span = load::span_of(&src.referenced);
                    if load::check_name(n).is_err() || n == "main.go" || n == crate::render::started::GO_FILE {
                        return Err(self.err(
                            span,
                            format!("invalid file name {n:?} under files"),
                            "beside this source",
                            "name each extra file by a plain file name such as lib.c, other than main.go".into(),
                        ));
                    }
                    files.push((n.clone(), text.clone()));
                }
                Ok(vec![Probe {
                    name: "snippet".into(),
                    lang: Lang::Go,
                    summary: raw.title.clone().unwrap_or_else(|| "a snippet".into()),
                    files,
                    inline: true,
                }])
            }
            (None, Some(names)) => {
                let mut out = Vec::new();
                for n in self.values(Some(names), "") {
                    let span = n.span;
                    let found = catalog::find(&n.value, self.templates).map_err(|e| {
                        Error::Usage {
                            message: e,
                            help: None,
                        }
                    })?;
                    let Some(p) = found else {
                        let names = catalog::names(self.templates);
                        return Err(self.err(
                            span,
                            format!("unknown probe {:?}", n.value),
                            "not a shipped probe",
                            format!(
                                "shipped probes: {}{}",
                                names.join(", "),
                                load::did_you_mean(&n.value, names.iter().map(String::as_str))
                            ),
                        ));
                    };
                    out.push(p);
                }
                Ok(out)
            }
            (Some(src), Some(_)) => Err(self.err(
                load::span_of(&src.referenced),
                "a snippet has either `source` or `probe`, not both".into(),
                "here",
                "keep `source` for the report's program, or `probe` for shipped probes".into(),
            )),
            (None, None) => Err(Error::Usage {
                message: format!("{}: the snippet has no `source`", self.source.name),
                help: Some(
                    "add `source: |` with the Go program from the report, or `probe: NAME` for a shipped probe"
                        .into(),
                ),
            }
            .into()),
        }
    }

    fn expect(&self, e: &Spanned<SnippetExpect>, issue: Option<&str>) -> miette::Result<Expect> {
        let span = load::span_of(&e.referenced);
        let o = &e.value.outcome;
        let outcome = load::parse_outcome(&o.value).ok_or_else(|| {
            self.err(
                load::span_of(&o.referenced),
                format!("unknown outcome {:?}", o.value),
                "here",
                format!(
                    "expected one of: pass, build-fail, run-fail, timeout{}",
                    load::did_you_mean(&o.value, ["pass", "build-fail", "run-fail", "timeout"])
                ),
            )
        })?;
        let pattern = match &e.value.r#match {
            None => None,
            Some(m) => Some(Regex::new(&m.value).map_err(|err| {
                let detail = err.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                self.err(
                    load::span_of(&m.referenced),
                    format!("invalid regex {:?}: {last}", m.value),
                    "this pattern",
                    "`match` is a Rust regex (no look-around or backreferences); escape ( ) [ ] . * + ? with \\".into(),
                )
            })?),
        };
        let reason = e
            .value
            .reason
            .clone()
            .or_else(|| issue.map(str::to_string))
            .or_else(|| (outcome != Outcome::Pass).then(|| "the reported failure".to_string()));
        Ok(Expect {
            when: BTreeMap::new(),
            outcome: Some(outcome),
            pattern,
            reason,
            facts: BTreeMap::new(),
            position: self.source.position(span.offset()),
            span,
        })
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

/// The first piece of `text` that names a path outside the directory it is
/// read in: absolute, from `~`, or through `..`.
fn outside_path(text: &str) -> Option<&str> {
    let seps = |c: char| c.is_whitespace() || matches!(c, '=' | ',' | '@' | '"' | '\'' | '<' | '>');
    // A C compiler's directory options take the path glued on: -I/usr/x.
    const GLUED: [&str; 9] = [
        "-isystem",
        "-iquote",
        "-idirafter",
        "-include",
        "-imacros",
        "-I",
        "-L",
        "-B",
        "-F",
    ];
    text.split(seps).find(|p| {
        let path = GLUED.iter().find_map(|o| p.strip_prefix(o)).unwrap_or(p);
        path.starts_with('/')
            || path.starts_with('~')
            || path.split(['/', '\\']).any(|segment| segment == "..")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_cells_directory_are_found() {
        assert_eq!(
            outside_path("-extldflags=@/root/.ssh/id_rsa"),
            Some("/root/.ssh/id_rsa")
        );
        assert_eq!(outside_path("-overlay=../x.json"), Some("../x.json"));
        assert_eq!(
            outside_path("#include \"/etc/passwd\""),
            Some("/etc/passwd")
        );
        assert_eq!(outside_path("#cgo CFLAGS: -I~/inc"), Some("-I~/inc"));
        assert_eq!(
            outside_path("#cgo LDFLAGS: -L/opt/lib -lx"),
            Some("-L/opt/lib")
        );
        assert_eq!(outside_path("#cgo CFLAGS: -Iinclude/x"), None);
        assert_eq!(outside_path("-Wl,-rpath,/opt/lib"), Some("/opt/lib"));
        assert_eq!(
            outside_path("-s -w -X main.url=https://example.com/a"),
            None
        );
        assert_eq!(outside_path("#cgo CFLAGS: -I${SRCDIR}/include"), None);
        assert_eq!(outside_path("#include <stdio.h>"), None);
        assert_eq!(outside_path("a..b"), None);
    }
}
