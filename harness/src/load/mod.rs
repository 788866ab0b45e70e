//! Load: read a matrix file and check everything that can be checked without
//! a toolchain. Owns the YAML format (`schema`) and its validated form
//! ([`Matrix`]). GOOS/GOARCH validity needs `go tool dist list`, so expand
//! checks it, using the positions kept here.

mod amount;
mod expect;
mod go_test;
pub mod json_schema;
pub mod limits;
mod probes;
pub mod schema;
mod yaml_errors;

pub use amount::{
    parse_duration, parse_memory, parse_processes, BadAmount, DEFAULT_MEMORY, DEFAULT_PROCESSES,
};
pub use yaml_errors::yaml_error;

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
use crate::model::{Lang, Outcome, Probe, RunnerKind};
use crate::templates;
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
    /// `run.memory`: bytes each cell may use, its build and its run;
    /// `None` for `none`.
    pub memory: Option<u64>,
    /// `run.processes`: processes and threads each command of a cell may
    /// hold at once; `None` for `none`.
    pub processes: Option<u64>,
    /// `run.pass_env`: names (a trailing `*` a prefix) of the caller's
    /// variables the cells inherit beside the allowlist.
    pub pass_env: Vec<Located<String>>,
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
    pub facts: BTreeMap<String, crate::model::FactExpr>,
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
        return Err(Error::EmptyMatrix {
            file: file.to_string(),
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

/// How a `run.` bound's text is read: `None` for `none`.
type ParseBound = fn(&str) -> Result<Option<u64>, BadAmount>;

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

    /// A `run.` bound (`memory`, `processes`): its default when absent,
    /// `None` for `none`, refused at its place when `parse` refuses it.
    fn bound(
        &self,
        given: Option<&Spanned<Scalar>>,
        (default, parse): (u64, ParseBound),
        (key, label): (&str, &str),
        help: &str,
    ) -> miette::Result<Option<u64>> {
        let Some(v) = given else {
            return Ok(Some(default));
        };
        Ok(parse(&v.value.0).map_err(|why| {
            self.err(
                span_of(&v.referenced),
                format!("invalid {key} {:?}: {why}", v.value.0),
                label,
                Some(help.to_string()),
            )
        })?)
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
            None => safe_name(default_name, "matrix"),
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

        let memory = self.bound(
            raw.run.memory.as_ref(),
            (DEFAULT_MEMORY, parse_memory),
            ("memory", "expected a size"),
            "write it as 4GiB, 512MiB or 2GB, or none for no bound",
        )?;
        let processes = self.bound(
            raw.run.processes.as_ref(),
            (DEFAULT_PROCESSES, parse_processes),
            ("processes", "expected a number of processes"),
            "write it as 4096, or none for no bound",
        )?;

        let mut pass_env = Vec::new();
        for n in &raw.run.pass_env {
            let span = span_of(&n.referenced);
            if let Err(why) = check_pass_env(&n.value) {
                return Err(self
                    .err(
                        span,
                        format!("invalid pass_env name {:?}: {why}", n.value),
                        "here",
                        Some("name a variable (NPM_TOKEN) or a prefix of names (MYAPP_*)".into()),
                    )
                    .into());
            }
            pass_env.push(Located {
                value: n.value.clone(),
                span,
            });
        }

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
            memory,
            processes,
            pass_env,
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

/// A `run.pass_env` entry: a variable's name, or a prefix of names ending
/// in `*`; never `*` alone, which would pass every token the caller holds.
fn check_pass_env(name: &str) -> Result<(), &'static str> {
    let stem = name.strip_suffix('*').unwrap_or(name);
    if stem.is_empty() {
        return Err("it would pass every variable, tokens included");
    }
    let ok = stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !stem.starts_with(|c: char| c.is_ascii_digit());
    match ok {
        true => Ok(()),
        false => Err("a name holds letters, digits and _, and starts with no digit"),
    }
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

/// `s` as one harmless directory name, as [`check_name`] wants it: each
/// other character becomes `_`, at most 100 of them; `fallback` when
/// nothing is left, or only dots. The name of a matrix without `name:` and
/// of a repro snippet, from its file.
pub fn safe_name(s: &str, fallback: &str) -> String {
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
        fallback.into()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("linux-arches").is_ok());
        assert!(check_name("../../x").is_err());
        assert!(check_name("/abs").is_err());
        assert!(check_name("a\0b").is_err());
        assert!(check_name("..").is_err());
        assert_eq!(safe_name("../x", "matrix"), ".._x");
        assert_eq!(safe_name("...", "snippet"), "snippet");
        assert_eq!(safe_name("", "matrix"), "matrix");
    }
}
