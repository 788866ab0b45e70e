//! Load: read a matrix file and check everything that can be checked without
//! a toolchain. Owns the YAML format (`schema`) and its validated form
//! ([`Matrix`]). GOOS/GOARCH validity needs `go tool dist list`, so expand
//! checks it, using the positions kept here.

pub mod limits;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use miette::SourceSpan;
use regex::Regex;
use serde_saphyr::{Location, Spanned};

use crate::axis::{self, Place};
use crate::errors::did_you_mean;
use crate::errors::{Error, InputError, Source};
use crate::model::{Lang, Outcome, RunnerKind};
use crate::render::catalog::{self, Probe};
use schema::{MatrixFile, ProbeRef, Scalar, WhenValue};

/// A value with the place in the matrix file it came from.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub value: T,
    pub span: SourceSpan,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A matrix that passed every check that needs no toolchain.
#[derive(Clone, Debug)]
pub struct Matrix {
    pub source: Source,
    pub name: String,
    pub probes: Vec<Probe>,
    /// Every axis of [`axis::AXES`] but `probe`, by key: the values the
    /// file lists, or the axis's default.
    pub axes: BTreeMap<&'static str, Vec<Located<String>>>,
    /// The axes the file lists (`go`, those under `matrix:`, env
    /// variables; `probe` always). Only these give a combination an
    /// original value, which an include entry may not overwrite.
    pub listed: BTreeSet<String>,
    pub env: BTreeMap<String, Vec<Located<String>>>,
    pub exclude: Vec<Located<BTreeMap<String, Vec<String>>>>,
    pub include: Vec<Located<BTreeMap<String, Located<String>>>>,
    pub timeout: Duration,
    /// Run the probes in the sandbox (`run.sandbox`, default true).
    pub sandbox: bool,
    pub runners: Vec<RunnerOverride>,
    /// `run.allow_missing`: the tools doctor can install that may be
    /// missing, their cells then skips, not failures; `None` for any tool.
    pub allow_missing: Option<BTreeSet<String>>,
    pub expect: Vec<Expect>,
}

impl Matrix {
    /// The values of an axis of [`axis::AXES`] other than `probe`.
    pub fn values(&self, key: &str) -> &[Located<String>] {
        self.axes.get(key).map_or(&[], Vec::as_slice)
    }

    /// Replaces an axis's values (`--go` on the command line).
    pub fn set_values(&mut self, key: &'static str, values: Vec<Located<String>>) {
        self.listed.insert(key.to_string());
        self.axes.insert(key, values);
    }
}

#[derive(Clone, Debug)]
pub struct RunnerOverride {
    /// `goos/goarch`, where either side may be `*`.
    pub pattern: String,
    pub runner: RunnerKind,
    pub span: SourceSpan,
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub when: BTreeMap<String, Vec<String>>,
    /// `when: {test: TestX}`: the entry is about the Go tests of a `test:`
    /// probe whose names this regex matches whole, not about the cell.
    pub test: Option<Regex>,
    pub outcome: Option<Outcome>,
    pub pattern: Option<Regex>,
    pub reason: Option<String>,
    pub facts: BTreeMap<String, crate::check::facts::FactExpr>,
    /// `file:line:col` of the entry.
    pub position: String,
    pub span: SourceSpan,
}

/// Reads and checks a matrix file. `templates` overrides the embedded probe
/// templates.
pub fn load_file(path: &Path, templates: Option<&Path>) -> miette::Result<Matrix> {
    let text = limits::read(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "matrix".into());
    load_str(&path.display().to_string(), &stem, text, templates)
}

pub fn load_str(
    file: &str,
    default_name: &str,
    text: String,
    templates: Option<&Path>,
) -> miette::Result<Matrix> {
    let source = Source {
        name: file.to_string(),
        text: Arc::new(text),
    };
    let blank = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#');
    if source.text.lines().all(blank) {
        return Err(Error::Usage {
            message: format!("{file}: the matrix is empty"),
            help: Some("a matrix needs at least `probes:` and `matrix: {goos: [...], goarch: [...]}`; see `crossprobe --help`".into()),
        }
        .into());
    }
    let raw: MatrixFile = serde_saphyr::from_str_with_options(&source.text, limits::options())
        .map_err(|e| yaml_error(&source, &e))?;
    check(&source, raw, default_name, templates)
}

/// Checks a parsed matrix file: what `load_str` does after YAML, and what
/// a snippet, once spelled as a matrix file, goes through too.
pub fn check(
    source: &Source,
    raw: MatrixFile,
    default_name: &str,
    templates: Option<&Path>,
) -> miette::Result<Matrix> {
    Checker { source, templates }.check(raw, default_name)
}

/// serde-saphyr's error, in the same shape as every other input error: the
/// position first, the snippet, and a hint for the common mistakes.
pub fn yaml_error(source: &Source, e: &serde_saphyr::Error) -> Error {
    let span = e
        .location()
        .map_or(SourceSpan::new(0.into(), 0), |l| error_span(source, &l));
    let user = serde_saphyr::UserMessageFormatter;
    let text = e.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
        formatter: &user,
    });
    // The position is shown in our own form; an alias adds where it was
    // defined, which the snippet shows anyway.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].trim_end_matches(" (defined").to_string(),
        None => text,
    };
    if let Some((message, help)) = limits::explain(e, &message) {
        return InputError::new(source, span, message, "here", Some(help)).into();
    }
    let (label, help) = yaml_hint(&message);
    InputError::new(source, span, message, label, Some(help)).into()
}

/// Where a parse error points. Errors from the scanner (a tab, a bad
/// escape) carry only a line and column, no byte offset.
fn error_span(source: &Source, loc: &Location) -> SourceSpan {
    let s = loc.span();
    if let (Some(off), Some(len)) = (s.byte_offset(), s.byte_len()) {
        return SourceSpan::new((off as usize).into(), len.max(1) as usize);
    }
    let (line, col) = (loc.line() as usize, loc.column() as usize);
    if line == 0 {
        return SourceSpan::new(0.into(), 0);
    }
    let text = source.text.as_str();
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let off = text[start..]
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i);
    SourceSpan::new(off.into(), usize::from(off < text.len()))
}

fn yaml_hint(message: &str) -> (&'static str, String) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .split(", ")
            .map(|k| k.trim_matches('`'))
            .collect();
        let upper = field.to_ascii_uppercase();
        if axis::find(field).is_some() && !known.contains(&field) {
            return (
                "not a key here",
                format!("`{field}` is an axis: it belongs under `matrix:`"),
            );
        }
        if upper.starts_with("GO") && !known.iter().any(|k| k.eq_ignore_ascii_case(field)) {
            return (
                "unknown key",
                format!("variables such as {upper} are axes under `matrix.env`, e.g. `env: {{{upper}: [\"...\"]}}`"),
            );
        }
        return (
            "unknown key",
            format!(
                "check the spelling{}; the README's format reference lists every key",
                did_you_mean(field, known.iter().copied())
            ),
        );
    }
    if message.contains("expected sequence") {
        return (
            "expected a list",
            "write a list, e.g. `[linux]`, or one `- item` per line".into(),
        );
    }
    if message.contains("expected mapping") {
        return (
            "expected a mapping",
            "write `key: value` pairs, e.g. `{GOARM: [\"5\", \"7\"]}`, or one `key: value` per line".into(),
        );
    }
    if message.starts_with("tabs disallowed") {
        return (
            "a tab",
            "indent with spaces: YAML does not allow tabs in indentation".into(),
        );
    }
    if message.contains("duplicate mapping key") {
        return (
            "given twice",
            "remove one of the two; YAML keeps neither silently here".into(),
        );
    }
    if message.contains("missing field") {
        return (
            "in this mapping",
            "add the missing key; the README's format reference shows an example".into(),
        );
    }
    // The YAML parser's own words, each with what to write instead.
    const PARSER: &[(&str, &str, &str)] = &[
        ("unknown escape", "not an escape", "in double quotes YAML knows \\n, \\t, \\\\, \\\", \\xNN and \\uNNNN; for a backslash taken literally, use single quotes"),
        ("unexpected character", "a control character", "remove it, or write it as an escape such as \"\\a\" inside double quotes"),
        ("illegal placement of ':'", "here", "a `[` or `{` before this is not closed: close a flow list or mapping on the line it opens"),
        ("unclosed quote", "the quote opens here", "close the quote on the same line, or use a block scalar (`|`) for text of several lines"),
        ("invalid type: sequence", "a list", "write one value here, not a list"),
        ("invalid type: map", "a mapping", "write one value here, not a mapping"),
    ];
    for (words, label, help) in PARSER {
        if message.contains(words) {
            return (*label, (*help).to_string());
        }
    }
    ("here", "see the matrix format in the README".into())
}

pub fn span_of(loc: &Location) -> SourceSpan {
    let s = loc.span();
    match (s.byte_offset(), s.byte_len()) {
        (Some(off), Some(len)) => SourceSpan::new((off as usize).into(), len.max(1) as usize),
        _ => SourceSpan::new(0.into(), 0),
    }
}

/// `inner`, or `outer` when `inner` is unknown: values inside an untagged
/// enum (an inline probe, a `when` value) lose their positions, because
/// serde buffers them before it knows which variant they are.
fn within(inner: SourceSpan, outer: SourceSpan) -> SourceSpan {
    if inner.offset() == 0 && inner.is_empty() {
        outer
    } else {
        inner
    }
}

fn located<T: Clone, U>(s: &Spanned<T>, f: impl FnOnce(&T) -> U) -> Located<U> {
    Located {
        value: f(&s.value),
        span: span_of(&s.referenced),
    }
}

use crate::axis::is_env_name;

struct Checker<'a> {
    source: &'a Source,
    templates: Option<&'a Path>,
}

impl Checker<'_> {
    fn err(
        &self,
        span: SourceSpan,
        msg: impl Into<String>,
        label: &str,
        help: impl Into<Option<String>>,
    ) -> Error {
        InputError::new(self.source, span, msg, label, help.into()).into()
    }

    fn check(&self, raw: MatrixFile, default_name: &str) -> miette::Result<Matrix> {
        let name = match &raw.name {
            Some(n) => {
                check_name(&n.value).map_err(|why| {
                    self.err(
                        span_of(&n.referenced),
                        format!("invalid matrix name {:?}: {why}", n.value),
                        "here",
                        Some("use letters, digits, '-', '_' and '.' only".into()),
                    )
                })?;
                n.value.clone()
            }
            None => sanitize_name(default_name),
        };

        let probes = self.probes(&raw.probes)?;
        let scalars = |v: &[Spanned<Scalar>]| -> Vec<Located<String>> {
            v.iter().map(|s| located(s, |x| x.0.clone())).collect()
        };
        let or_default = |v: Vec<Located<String>>, d: &str| {
            if v.is_empty() {
                vec![Located {
                    value: d.to_string(),
                    span: SourceSpan::new(0.into(), 0),
                }]
            } else {
                v
            }
        };

        // Every axis of the table but `probe` (the probes above): the values
        // the file lists, checked and normalised, or the default.
        let mut axes = BTreeMap::new();
        let mut listed: BTreeSet<String> = BTreeSet::from(["probe".to_string()]);
        for a in axis::AXES.iter().filter(|a| a.place != Place::Probes) {
            let written = match a.place {
                Place::Top => &raw.go,
                _ => raw.matrix.values.get(a.key).map_or(&[][..], Vec::as_slice),
            };
            let mut vals = scalars(written);
            if vals.is_empty() {
                vals = or_default(vals, a.default.unwrap_or(""));
            } else {
                listed.insert(a.key.to_string());
            }
            for v in &mut vals {
                v.value = self.check_value(a, v)?;
            }
            axes.insert(a.key, vals);
        }

        let mut env = BTreeMap::new();
        for (k, vals) in &raw.matrix.env {
            let span = vals
                .first()
                .map_or(SourceSpan::new(0.into(), 0), |v| span_of(&v.referenced));
            if !is_env_name(k) {
                return Err(self
                    .err(
                        span,
                        format!("invalid environment variable name {k:?} under matrix.env"),
                        "its values",
                        Some("env axes are named by upper-case variable names, e.g. GOARM".into()),
                    )
                    .into());
            }
            if vals.is_empty() {
                continue;
            }
            listed.insert(k.clone());
            env.insert(k.clone(), scalars(vals));
        }

        let mut exclude = Vec::new();
        for e in &raw.matrix.exclude {
            let span = span_of(&e.referenced);
            let mut m = BTreeMap::new();
            for (k, v) in &e.value {
                self.check_key(k, span, "exclude")?;
                m.insert(k.clone(), v.0.iter().map(|s| s.value.0.clone()).collect());
            }
            exclude.push(Located { value: m, span });
        }
        let mut include = Vec::new();
        for e in &raw.matrix.include {
            let span = span_of(&e.referenced);
            let mut m = BTreeMap::new();
            for (k, v) in &e.value {
                self.check_key(k, span_of(&v.referenced), "include")?;
                let mut value = located(v, |x| x.0.clone());
                if let Some(a) = axis::find(k) {
                    value.value = self.check_value(a, &value)?;
                }
                m.insert(k.clone(), value);
            }
            include.push(Located { value: m, span });
        }

        let env_values = env.values().flatten();
        let include_values = include.iter().flat_map(|i| i.value.values());
        for v in axes
            .values()
            .flatten()
            .chain(env_values)
            .chain(include_values)
        {
            self.no_nul(v)?;
        }

        let timeout = match &raw.run.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => parse_duration(&t.value.0).map_err(|why| {
                self.err(
                    span_of(&t.referenced),
                    format!("invalid timeout {:?}: {why}", t.value.0),
                    "expected a duration",
                    Some("write it as 90s, 2m, 500ms or a number of seconds".into()),
                )
            })?,
        };

        let mut runners = Vec::new();
        for (pattern, r) in &raw.run.runners {
            let span = span_of(&r.referenced);
            if pattern.split('/').count() != 2 {
                return Err(self.err(span, format!("invalid runner target {pattern:?}"), "for this target", Some("name a target as goos/goarch; either side may be *, e.g. \"windows/*\"".into())).into());
            }
            let Some(runner) = RunnerKind::parse(&r.value) else {
                let names = RunnerKind::ALL.map(RunnerKind::as_str);
                return Err(self
                    .err(
                        span,
                        format!("unknown runner {:?}", r.value),
                        "here",
                        Some(format!(
                            "expected one of: {}{}",
                            names.join(", "),
                            did_you_mean(&r.value, names.iter().copied())
                        )),
                    )
                    .into());
            };
            runners.push(RunnerOverride {
                pattern: pattern.clone(),
                runner,
                span,
            });
        }

        let mut expect = Vec::new();
        for e in &raw.expect {
            expect.push(self.expect(e)?);
        }

        Ok(Matrix {
            source: self.source.clone(),
            name,
            probes,
            axes,
            listed,
            env,
            exclude,
            include,
            timeout,
            sandbox: raw.run.sandbox.unwrap_or(true),
            runners,
            allow_missing: match &raw.run.allow_missing {
                None | Some(schema::AllowMissing::All(false)) => Some(BTreeSet::new()),
                Some(schema::AllowMissing::All(true)) => None,
                Some(schema::AllowMissing::Tools(t)) => Some(t.iter().cloned().collect()),
            },
            expect,
        })
    }

    /// Axis values end up in argv and environment variables, which cannot
    /// hold a NUL byte; refused here, not as a confusing spawn error later.
    fn no_nul(&self, v: &Located<String>) -> Result<(), Error> {
        if !v.value.contains('\0') {
            return Ok(());
        }
        Err(self.err(
            v.span,
            format!("{:?} holds a NUL byte", v.value),
            "here",
            Some("arguments and environment variables cannot hold \"\\0\"; remove it".into()),
        ))
    }

    /// An axis's own check ([`axis::Axis::check`]), as an input error at
    /// the value.
    fn check_value(&self, a: &axis::Axis, v: &Located<String>) -> Result<String, Error> {
        (a.check)(&v.value).map_err(|r| self.err(v.span, r.message, r.label, Some(r.help)))
    }

    fn check_key(&self, k: &str, span: SourceSpan, what: &str) -> Result<(), Error> {
        if axis::find(k).is_some() || is_env_name(k) {
            return Ok(());
        }
        Err(self.err(
            span,
            format!("unknown axis {k:?} in {what}"),
            "in this entry",
            Some(format!(
                "expected one of {} or an environment variable name (GOARM, ...){}",
                axis::keys().collect::<Vec<_>>().join(", "),
                did_you_mean(k, axis::keys())
            )),
        ))
    }

    fn probes(&self, refs: &[Spanned<ProbeRef>]) -> miette::Result<Vec<Probe>> {
        let mut out: Vec<Probe> = Vec::new();
        if refs.is_empty() {
            return Err(Error::Usage {
                message: format!("{}: `probes` is empty", self.source.name),
                help: Some(format!(
                    "name at least one probe: {}",
                    catalog::names(self.templates).join(", ")
                )),
            }
            .into());
        }
        for r in refs {
            let span = span_of(&r.referenced);
            let probe = match &r.value {
                ProbeRef::Named(n) => catalog::find(n, self.templates)
                    .map_err(|e| Error::Usage {
                        message: e,
                        help: None,
                    })?
                    .ok_or_else(|| {
                        let names = catalog::names(self.templates);
                        self.err(
                            span,
                            format!("unknown probe {n:?}"),
                            "not a shipped probe",
                            Some(format!(
                                "shipped probes: {}{}",
                                names.join(", "),
                                did_you_mean(n, names.iter().map(String::as_str))
                            )),
                        )
                    })?,
                ProbeRef::Inline(p) => {
                    let nspan = within(span_of(&p.name.referenced), span);
                    check_name(&p.name.value).map_err(|why| {
                        self.err(
                            nspan,
                            format!("invalid probe name {:?}: {why}", p.name.value),
                            "here",
                            Some("use letters, digits, '-', '_' and '.' only".into()),
                        )
                    })?;
                    let lang = match p.lang.value.as_str() {
                        "go" => Lang::Go,
                        "c" => Lang::C,
                        other => {
                            return Err(self
                                .err(
                                    within(span_of(&p.lang.referenced), span),
                                    format!("unknown probe language {other:?}"),
                                    "here",
                                    Some("expected go or c".into()),
                                )
                                .into())
                        }
                    };
                    self.inline_probe(p, lang, span)?
                }
            };
            if out.iter().any(|p| p.name == probe.name) {
                return Err(self
                    .err(
                        span,
                        format!("probe {:?} is listed twice", probe.name),
                        "again here",
                        Some("remove one: each probe runs once per cell; for other settings, add an axis value".into()),
                    )
                    .into());
            }
            out.push(probe);
        }
        Ok(out)
    }

    /// An inline probe: a `source:`, or the user's own code (`package:`,
    /// `test:`, or a `source:` with `module:`).
    fn inline_probe(
        &self,
        p: &schema::InlineProbe,
        lang: Lang,
        span: SourceSpan,
    ) -> miette::Result<Probe> {
        let at =
            |s: &Option<Spanned<String>>| s.as_ref().map(|v| within(span_of(&v.referenced), span));
        let kinds: Vec<(&str, SourceSpan)> = [
            ("package", at(&p.package)),
            ("test", at(&p.test)),
            ("source", p.source.as_ref().map(|_| span)),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect();
        let name = &p.name.value;
        match kinds.as_slice() {
            [] => {
                return Err(self
                    .err(
                        span,
                        format!("probe {name:?} has none of source, package or test"),
                        "this probe",
                        Some("add `source: |` with a program, `package: ./cmd/NAME` for a command of your module, or `test: ./...` for its tests".into()),
                    )
                    .into())
            }
            [_] => {}
            [(a, _), (b, s), ..] => {
                return Err(self
                    .err(
                        *s,
                        format!("probe {name:?} has both {a} and {b}"),
                        "one too many",
                        Some("a probe is one of: `source:` (a program), `package:` (a main package of the module) or `test:` (a go test pattern); make two probes".into()),
                    )
                    .into())
            }
        }
        let args = match &p.args {
            None => Vec::new(),
            Some(serde_json::Value::Array(a)) if a.iter().all(|v| v.is_string()) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(other) => {
                return Err(self
                    .err(
                        span,
                        format!("args of probe {name:?} must be a list of strings, not {other}"),
                        "in this probe",
                        Some("write `args: [-greet, hello]`; quote numbers and booleans: `args: [\"-n\", \"3\"]`".into()),
                    )
                    .into())
            }
        };
        let mut env = std::collections::BTreeMap::new();
        match &p.env {
            None => {}
            Some(serde_json::Value::Object(m)) => {
                for (k, v) in m {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => String::from("\0"),
                    };
                    if !is_env_name(k) || v.contains('\0') {
                        return Err(self.err(span, format!("env of probe {name:?}: {k:?} must be a variable name with a plain value"), "in this probe", Some("write `env: {GREETING: hello}`".into())).into());
                    }
                    env.insert(k.clone(), v);
                }
            }
            Some(other) => {
                return Err(self
                    .err(
                        span,
                        format!("env of probe {name:?} must be a mapping, not {other}"),
                        "in this probe",
                        Some("write `env: {GREETING: hello}`".into()),
                    )
                    .into())
            }
        }
        let (kind, kspan) = match (&p.package, &p.test) {
            (Some(pkg), _) => (crate::gomod::Kind::Package(pkg.value.clone()), kinds[0].1),
            (_, Some(t)) => (crate::gomod::Kind::Test(t.value.clone()), kinds[0].1),
            _ => (crate::gomod::Kind::Source, at(&p.module).unwrap_or(span)),
        };
        let source = p.source.as_deref().unwrap_or("");
        let mut probe = Probe::inline(name, lang, source);
        if let Some(files) = &p.files {
            if kind != crate::gomod::Kind::Source || p.module.is_some() {
                return Err(self.err(within(span_of(&files.referenced), span), format!("probe {name:?}: files are for a standalone source"), "this probe's files", Some("a probe of your module builds what the module holds: add the files to the module, or drop `module:`".into())).into());
            }
            probe.add_files(&files.value).map_err(|why| {
                self.err(
                    within(span_of(&files.referenced), span),
                    why,
                    "this probe's files",
                    Some(
                        "name each file by a plain name such as lib.c, lib.h, go.mod or go.sum"
                            .into(),
                    ),
                )
            })?;
        }
        if kind == crate::gomod::Kind::Source && p.module.is_none() {
            if !args.is_empty() || !env.is_empty() {
                return Err(self.err(span, format!("probe {name:?}: args and env are for probes of your module"), "in this probe", Some("add `module: .` (the module root, relative to the matrix file) to build the source inside your module".into())).into());
            }
            return Ok(probe);
        }
        if lang != Lang::Go {
            return Err(self
                .err(
                    span,
                    format!("probe {name:?}: package, test and module are for Go"),
                    "in this probe",
                    Some("remove `lang: c`".into()),
                )
                .into());
        }
        let matrix_dir = Path::new(&self.source.name)
            .parent()
            .unwrap_or(Path::new("."));
        let matrix_dir = if matrix_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            matrix_dir
        };
        let root = crate::gomod::find_root(matrix_dir, p.module.as_ref().map(|m| m.value.as_str()))
            .map_err(|why| {
                self.err(
                    at(&p.module).unwrap_or(span),
                    why,
                    "no module here",
                    Some("`module:` is the directory of a go.mod, relative to the matrix file; without it the nearest go.mod at or above the matrix is used".into()),
                )
            })?;
        if kind == crate::gomod::Kind::Source {
            probe.files.clear();
            probe.files.push(("main.go".into(), source.to_string()));
        }
        probe.summary = match &kind {
            crate::gomod::Kind::Package(p) => format!("package {p}"),
            crate::gomod::Kind::Test(t) => format!("go test {t}"),
            crate::gomod::Kind::Source => "inline probe inside the module".into(),
        };
        probe.module = Some(crate::gomod::ModuleProbe {
            kind,
            root,
            args,
            env,
            span: kspan,
            path: String::new(),
            packages: Vec::new(),
            vendor: false,
            manifest: String::new(),
            download_errors: Default::default(),
        });
        Ok(probe)
    }

    fn expect(&self, e: &Spanned<schema::ExpectEntry>) -> miette::Result<Expect> {
        let span = span_of(&e.referenced);
        let mut when: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut test = None;
        for (k, v) in &e.value.when {
            match v {
                WhenValue::Values(vals) if k == "test" => {
                    let kspan = vals
                        .0
                        .first()
                        .map_or(span, |s| within(span_of(&s.referenced), span));
                    let names: Vec<String> = vals.0.iter().map(|s| s.value.0.clone()).collect();
                    let re = format!("^(?:{})$", names.join("|"));
                    test = Some(Regex::new(&re).map_err(|err| {
                        let detail = err.to_string();
                        let last = detail.lines().last().unwrap_or("").trim().to_string();
                        self.err(kspan, format!("invalid test pattern {:?}: {last}", names.join("|")), "this pattern", Some("`test` is a test name or a Rust regex matched against the whole name, e.g. TestX or TestX/.*".into()))
                    })?);
                }
                WhenValue::Values(vals) => {
                    let kspan = vals
                        .0
                        .first()
                        .map_or(span, |s| within(span_of(&s.referenced), span));
                    // `package` names the package of a `test:` cell.
                    if k != "package" {
                        self.check_key(k, kspan, "expect.when")?;
                    }
                    when.insert(
                        k.clone(),
                        vals.0.iter().map(|s| s.value.0.clone()).collect(),
                    );
                }
                WhenValue::Env(m) if k == "env" => {
                    for (ek, ev) in m {
                        if !is_env_name(ek) {
                            return Err(self.err(span, format!("invalid environment variable name {ek:?} in expect.when.env"), "in this entry", None).into());
                        }
                        when.insert(ek.clone(), ev.0.iter().map(|s| s.value.0.clone()).collect());
                    }
                }
                WhenValue::Env(_) => {
                    return Err(self
                        .err(
                            span,
                            format!("expect.when.{k} must be a value or a list"),
                            "in this entry",
                            Some("only `env:` takes a mapping".into()),
                        )
                        .into());
                }
            }
        }
        let outcome = match &e.value.outcome {
            None => None,
            Some(o) => Some(parse_outcome(&o.value).ok_or_else(|| {
                self.err(
                    span_of(&o.referenced),
                    format!("unknown outcome {:?}", o.value),
                    "here",
                    Some(format!(
                        "expected one of: pass, build-fail, run-fail, timeout, skip{}",
                        did_you_mean(
                            &o.value,
                            ["pass", "build-fail", "run-fail", "timeout", "skip"]
                        )
                    )),
                )
            })?),
        };
        let pattern = match &e.value.r#match {
            None => None,
            Some(m) => Some(Regex::new(&m.value).map_err(|err| {
                let detail = err.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                self.err(span_of(&m.referenced), format!("invalid regex {:?}: {last}", m.value), "this pattern", Some("`match` is a Rust regex (no look-around or backreferences); escape ( ) [ ] . * + ? with \\".into()))
            })?),
        };
        let mut facts = BTreeMap::new();
        for (k, v) in &e.value.facts {
            let expr = crate::check::facts::FactExpr::parse(&v.value.0).map_err(|why| {
                self.err(span_of(&v.referenced), format!("invalid fact expectation for {k}: {why}"), "this expression", Some("write a value (`true`, `\"0\"`), a comparison (`<= 2.31`, `!= soft`) or a regex (`~ ^go1\\.2`)".into()))
            })?;
            facts.insert(k.clone(), expr);
        }
        if outcome.is_some_and(|o| o != Outcome::Pass && o != Outcome::Skip)
            && e.value.reason.is_none()
        {
            return Err(self.err(span, "an expected failure needs a `reason`", "this entry", Some("give the issue URL or a sentence that explains the failure, so an unexpected pass can say what may be fixed".into())).into());
        }
        if test.is_some()
            && !matches!(
                outcome,
                None | Some(Outcome::Pass | Outcome::RunFail | Outcome::Skip)
            )
        {
            return Err(self.err(span, "an expectation for Go tests takes outcome pass, run-fail or skip", "this entry", Some("a test fails (run-fail), passes or is skipped; a build-fail or timeout is the cell's: drop `test:` from `when`".into())).into());
        }
        Ok(Expect {
            when,
            test,
            outcome,
            pattern,
            reason: e.value.reason.clone(),
            facts,
            position: self.source.position(span.offset()),
            span,
        })
    }
}

pub fn parse_outcome(s: &str) -> Option<Outcome> {
    Some(match s {
        "pass" => Outcome::Pass,
        "build-fail" => Outcome::BuildFail,
        "run-fail" => Outcome::RunFail,
        "timeout" => Outcome::Timeout,
        "skip" => Outcome::Skip,
        _ => return None,
    })
}

/// `90s`, `2m`, `500ms`, `1h`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| "no number".to_string())?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit {u:?}")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 7.0 * 86400.0) {
        return Err("must be more than zero and less than a week".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Names become directory names under reports/: keep them to one harmless
/// path component.
pub fn check_name(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if s.len() > 100 {
        return Err("longer than 100 characters");
    }
    if s == "." || s == ".." {
        return Err("not a file name");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("it would not be a safe directory name");
    }
    Ok(())
}

fn sanitize_name(s: &str) -> String {
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
    if n.is_empty() || n.chars().all(|c| c == '.') {
        "matrix".into()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("linux-arches").is_ok());
        assert!(check_name("../../x").is_err());
        assert!(check_name("/abs").is_err());
        assert!(check_name("a\0b").is_err());
        assert!(check_name("..").is_err());
        assert_eq!(sanitize_name("../x"), ".._x");
    }
}
