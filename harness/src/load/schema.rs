//! The matrix file format, as serde types. Key names are the interface:
//! extend them, never rename them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::axis;

/// A YAML scalar read as text, so that `386`, `0`, `true` and `"386"` are the
/// same to a user. GOARCH `386` unquoted is an integer to YAML.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One value or a list of them: `goarch: arm` or `goarch: [arm, mips]`.
#[derive(Clone, Debug)]
pub struct OneOrMany(pub Vec<Spanned<Scalar>>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Many(Vec<Spanned<Scalar>>),
            One(Spanned<Scalar>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Many(v) => OneOrMany(v),
            Raw::One(s) => OneOrMany(vec![s]),
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixFile {
    /// Defaults to the file's stem.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Shipped probes by name (`crossprobe list-probes`), or inline ones.
    #[schemars(with = "Vec<ProbeRef>")]
    pub probes: Vec<Spanned<ProbeRef>>,
    /// Go versions; defaults to `[local]`.
    #[serde(default)]
    #[schemars(with = "Vec<Scalar>")]
    pub go: Vec<Spanned<Scalar>>,
    pub matrix: Axes,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    #[schemars(with = "Vec<ExpectEntry>")]
    pub expect: Vec<Spanned<ExpectEntry>>,
}

/// A shipped probe by name, or one written inline.
#[derive(Debug)]
pub enum ProbeRef {
    Named(String),
    Inline(Box<InlineProbe>),
}

/// By hand, not untagged: serde buffers an untagged enum's input, and an
/// inline probe's keys would lose their positions (an error about its
/// `module:` must point at that line, not at the probe's name).
impl<'de> Deserialize<'de> for ProbeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProbeRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a shipped probe's name or an inline probe (a mapping with name:)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProbeRef, E> {
                Ok(ProbeRef::Named(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<ProbeRef, A::Error> {
                let p = InlineProbe::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ProbeRef::Inline(Box::new(p)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `lang:` of an inline probe, in the JSON Schema (see `json_schema`).
pub struct Lang;

impl JsonSchema for Lang {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Lang".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "enum": ["go", "c"], "default": "go"})
    }
}

/// `test:`'s value: one pattern or a list. Read by hand rather than as an
/// untagged enum, which would lose the positions of the list's items.
#[derive(Debug)]
pub enum Patterns {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Patterns;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a package pattern or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Patterns, E> {
                Ok(Patterns::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Patterns, A::Error> {
                let mut v = Vec::new();
                while let Some(p) = seq.next_element::<Spanned<String>>()? {
                    v.push(p);
                }
                Ok(Patterns::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineProbe {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// `go` (the default) or `c`.
    #[serde(default = "default_lang")]
    #[schemars(with = "Lang")]
    pub lang: Spanned<String>,
    pub source: Option<String>,
    /// The module root, relative to the matrix file.
    #[schemars(with = "Option<String>")]
    pub module: Option<Spanned<String>>,
    /// A main package of the module, built and run.
    #[schemars(with = "Option<String>")]
    pub package: Option<Spanned<String>>,
    /// A `go test` package pattern, or a list of them: `test: ./...`,
    /// `test: [./fse, ./zlib]`.
    #[schemars(with = "Option<Patterns>")]
    pub test: Option<Spanned<Patterns>>,
    /// Read as any value, so that a wrong one is an error that says what
    /// `args` should be rather than "no variant matched".
    #[schemars(with = "Option<Vec<String>>")]
    pub args: Option<serde_json::Value>,
    /// Variables set for the run of a `package:` probe.
    #[schemars(with = "Option<BTreeMap<String, Scalar>>")]
    pub env: Option<serde_json::Value>,
    /// More files beside the source, by name: a lib.c, or the go.mod and
    /// go.sum of a program that needs a module.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub files: Option<Spanned<BTreeMap<String, String>>>,
    /// `false`: a probe of your module is built and inspected on every
    /// target, never run (a command whose arguments you have not given
    /// yet). Default `true`.
    #[schemars(with = "Option<bool>")]
    pub run: Option<Spanned<bool>>,
    /// `true`: `go vet` of the probe's package with each cell's GOOS,
    /// GOARCH and cgo; each finding fails the cell as a testcase
    /// `vet/ANALYZER/FILE:LINE:COL`. For `package:` and `test:` probes.
    #[schemars(with = "Option<bool>")]
    pub vet: Option<Spanned<bool>>,
    /// go test's own flags for a `test:` probe, by their names.
    #[schemars(with = "Option<GoTest>")]
    pub go_test: Option<Spanned<GoTest>>,
}

/// `go_test:` of a `test:` probe: go test's flags, each by its name, as
/// the test binary takes them (`-test.run`, ...).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoTest {
    /// `-run`: run only the tests and examples matching this regular
    /// expression (`/` separates the levels of subtests).
    #[schemars(with = "Option<String>")]
    pub run: Option<Spanned<String>>,
    /// `-skip`: leave out the tests matching this regular expression.
    #[schemars(with = "Option<String>")]
    pub skip: Option<Spanned<String>>,
    /// `-short`: tell long-running tests to shorten their run.
    pub short: Option<bool>,
    /// `-count`: run each test (and benchmark) this many times, at least 1.
    #[schemars(with = "Option<u32>")]
    pub count: Option<Spanned<Scalar>>,
    /// `-cpu`: the GOMAXPROCS values to run each test with, e.g. `[1, 4]`.
    #[schemars(with = "Option<OneOrMany>")]
    pub cpu: Option<OneOrMany>,
    /// `-shuffle`: `on`, `off`, or a seed (an integer).
    #[schemars(with = "Option<Scalar>")]
    pub shuffle: Option<Spanned<Scalar>>,
    /// `-failfast`: no new test starts after the first failure.
    pub failfast: Option<bool>,
    /// `-timeout`: the test binary panics after this long (`90s`, `5m`);
    /// it replaces `run.timeout` for this probe's cells.
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<Scalar>>,
    /// `-bench`: run the benchmarks matching this regular expression too.
    #[schemars(with = "Option<String>")]
    pub bench: Option<Spanned<String>>,
    /// `-benchtime`: each benchmark's run, a duration (`1s`) or a count
    /// (`100x`).
    #[schemars(with = "Option<String>")]
    pub benchtime: Option<Spanned<Scalar>>,
    /// `-cover`: build the test binary with coverage; crossprobe writes
    /// one profile per target and one merged over every target into the
    /// reports directory's `coverage/`.
    pub cover: Option<bool>,
}

fn default_lang() -> Spanned<String> {
    Spanned::new(
        "go".to_string(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

/// `matrix:`. Its keys come from the axis table ([`crate::axis::AXES`],
/// those placed under `matrix:`), beside `env`, `exclude` and `include`.
#[derive(Debug, Default)]
pub struct Axes {
    /// The axes the file lists, by key; an axis it does not list has no
    /// entry (load gives it its default).
    pub values: BTreeMap<&'static str, Vec<Spanned<Scalar>>>,
    /// Further axes by variable name: GOARM, GOAMD64, GOMIPS, GODEBUG, ...
    pub env: BTreeMap<String, Vec<Spanned<Scalar>>>,
    pub exclude: Vec<Spanned<BTreeMap<String, OneOrMany>>>,
    pub include: Vec<Spanned<BTreeMap<String, Spanned<Scalar>>>>,
}

/// The keys `matrix:` takes, for serde's "expected one of".
pub fn matrix_keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut v: Vec<&'static str> = axis::AXES
            .iter()
            .filter(|a| a.place == axis::Place::Matrix)
            .map(|a| a.key)
            .collect();
        v.extend(["env", "exclude", "include"]);
        Box::leak(v.into_boxed_slice())
    })
}

impl<'de> Deserialize<'de> for Axes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Axes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of axes")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Axes, A::Error> {
                let mut out = Axes::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "env" => out.env = map.next_value()?,
                        "exclude" => out.exclude = map.next_value()?,
                        "include" => out.include = map.next_value()?,
                        k => match axis::find(k).filter(|a| a.place == axis::Place::Matrix) {
                            Some(a) => {
                                out.values.insert(a.key, map.next_value()?);
                            }
                            None => return Err(de::Error::unknown_field(k, matrix_keys())),
                        },
                    }
                }
                for a in axis::AXES {
                    if a.place == axis::Place::Matrix
                        && a.default.is_none()
                        && !out.values.contains_key(a.key)
                    {
                        return Err(de::Error::missing_field(a.key));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Per phase, per cell: `60s`, `2m`, `500ms`, or plain seconds.
    #[schemars(with = "Option<Scalar>")]
    pub timeout: Option<Spanned<Scalar>>,
    /// `false` runs the probes outside the sandbox (bubblewrap).
    pub sandbox: Option<bool>,
    /// The memory each command of a cell, its build's and its run's, may
    /// use: `4GiB` (the default), `512MiB`, `2GB`, or `none`.
    #[schemars(with = "Option<Scalar>")]
    pub memory: Option<Spanned<Scalar>>,
    /// The processes and threads each command of a cell may hold at once,
    /// counted over its whole tree: `4096` (the default), or `none`. A
    /// fork past it fails, and so does the cell ("process limit").
    #[schemars(with = "Option<Scalar>")]
    pub processes: Option<Spanned<Scalar>>,
    /// Your environment variables that the builds and probes inherit
    /// beside the allowlist, by name: `[NPM_TOKEN, MYAPP_*]` (a trailing
    /// `*` matches a prefix). Recorded by name in results.json; a `repro`
    /// snippet may not ask for any unless `--trust`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub pass_env: Vec<Spanned<String>>,
    /// Force a runner per target: `{"linux/riscv64": none, "windows/*": wine}`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub runners: BTreeMap<String, Spanned<String>>,
    /// A missing tool makes its cells skips rather than failures: `true`
    /// for any tool, or a list of the tools (`[wine32]`).
    #[serde(default)]
    pub allow_missing: Option<AllowMissing>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AllowMissing {
    All(bool),
    Tools(Vec<String>),
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectEntry {
    /// Axis name (or env variable) to one value or a list; all must match.
    #[serde(default)]
    pub when: BTreeMap<String, WhenValue>,
    #[schemars(with = "Option<String>")]
    pub outcome: Option<Spanned<String>>,
    /// A regex on the output of the phase the outcome names.
    #[schemars(with = "Option<String>")]
    pub r#match: Option<Spanned<String>>,
    pub reason: Option<String>,
    /// Fact name to a value or an expression: `binary.static: true`,
    /// `binary.max_glibc: "<= 2.31"`, `probe.goarch: "~ ^arm"`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub facts: BTreeMap<String, Spanned<Scalar>>,
}

/// In `when`, `env: {GOARM: "5"}` is accepted beside the flat `GOARM: "5"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WhenValue {
    Values(OneOrMany),
    Env(BTreeMap<String, OneOrMany>),
}
