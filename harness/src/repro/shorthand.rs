//! The snippet shorthand as YAML: its keys, read with their positions, and
//! spelled as the [`MatrixFile`] that `load` checks.

use std::collections::BTreeMap;

use miette::SourceSpan;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::axis;
use crate::errors::{Error, InputError, Source};
use crate::load;
use crate::load::schema::{
    self, ExpectEntry, InlineProbe, MatrixFile, ProbeRef, RunConfig, Scalar,
};

/// The snippet shorthand: the matrix format spelled flat. Its top level
/// takes every key a matrix file takes, wherever the matrix puts it: the
/// axes (`goos`, `cc`, `buildmode`, `env`, `include`, ...; each one value
/// or a list), the probe's keys (`source`, `lang`, `files`, or `probe` for
/// shipped probes), the expect keys (`outcome`, `match`, `reason`, `facts`,
/// `when`, or `expect` itself), and `timeout` and `runners` of `run`; and
/// two of its own, `issue` and `title`. It is turned into the same
/// [`MatrixFile`] that a matrix file parses to, positions kept, and checked
/// by `load` like one; `snippet_defaults` lists where it differs.
#[derive(Debug, Default)]
pub(super) struct SnippetFile {
    /// The bug report's URL: the reason of the expectation.
    issue: Option<String>,
    /// One line saying what the snippet shows.
    pub(super) title: Option<String>,
    name: Option<Spanned<String>>,
    go: Vec<Spanned<Scalar>>,
    axes: schema::Axes,
    source: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    files: Option<Spanned<BTreeMap<String, String>>>,
    probe: Vec<Spanned<Scalar>>,
    probe_span: Option<SourceSpan>,
    expect: Vec<Spanned<ExpectEntry>>,
    /// `outcome`, `match`, `reason`, `facts` and `when` at the top level.
    flat: Option<ExpectEntry>,
    flat_at: Option<Location>,
    pub(super) timeout: Option<Spanned<Scalar>>,
    runners: BTreeMap<String, Spanned<String>>,
    allow_missing: Option<schema::AllowMissing>,
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
                        "files" => out.files = Some(map.next_value()?),
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
                        "allow_missing" => out.allow_missing = map.next_value()?,
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
pub(super) fn spell(raw: SnippetFile, source: &Source) -> miette::Result<MatrixFile> {
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
                module: None,
                package: None,
                test: None,
                args: None,
                env: None,
                run: None,
                vet: None,
                go_test: None,
            };
            vec![Spanned::new(
                ProbeRef::Inline(Box::new(probe)),
                src.referenced,
                src.defined,
            )]
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
            allow_missing: raw.allow_missing,
            // A stranger's snippet cannot opt out of the sandbox, nor lift
            // its memory bound, nor ask for the caller's variables.
            sandbox: None,
            memory: None,
            processes: None,
            pass_env: Vec::new(),
        },
        expect,
    })
}
