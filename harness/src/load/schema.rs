//! The matrix file format, as serde types. Key names are the interface:
//! extend them, never rename them.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixFile {
    /// Defaults to the file's stem.
    pub name: Option<Spanned<String>>,
    pub probes: Vec<Spanned<ProbeRef>>,
    /// Go versions; defaults to `[local]`.
    #[serde(default)]
    pub go: Vec<Spanned<Scalar>>,
    pub matrix: Axes,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub expect: Vec<Spanned<ExpectEntry>>,
}

/// A shipped probe by name, or one written inline.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ProbeRef {
    Named(String),
    Inline(Box<InlineProbe>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineProbe {
    pub name: Spanned<String>,
    #[serde(default = "default_lang")]
    pub lang: Spanned<String>,
    pub source: Option<String>,
    /// More files beside the source, by name: a lib.c, or the go.mod and
    /// go.sum of a program that needs a module.
    pub files: Option<Spanned<BTreeMap<String, String>>>,
}

fn default_lang() -> Spanned<String> {
    Spanned::new(
        "go".to_string(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axes {
    pub goos: Vec<Spanned<Scalar>>,
    pub goarch: Vec<Spanned<Scalar>>,
    #[serde(default)]
    pub cgo: Vec<Spanned<Scalar>>,
    #[serde(default)]
    pub ldflags: Vec<Spanned<Scalar>>,
    #[serde(default)]
    pub tags: Vec<Spanned<Scalar>>,
    #[serde(default)]
    pub flags: Vec<Spanned<Scalar>>,
    /// C compilers: `auto`, `gcc`, `clang`, `zig`, or a compiler command.
    #[serde(default)]
    pub cc: Vec<Spanned<Scalar>>,
    /// `-buildmode` values, as `go help buildmode` lists them.
    #[serde(default)]
    pub buildmode: Vec<Spanned<Scalar>>,
    /// qemu `-cpu` models to run under, e.g. `[Nehalem]`, `[arm926]`.
    #[serde(default)]
    pub cpu: Vec<Spanned<Scalar>>,
    /// Further axes by variable name: GOARM, GOAMD64, GOMIPS, GODEBUG, ...
    #[serde(default)]
    pub env: BTreeMap<String, Vec<Spanned<Scalar>>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<BTreeMap<String, OneOrMany>>>,
    #[serde(default)]
    pub include: Vec<Spanned<BTreeMap<String, Spanned<Scalar>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Per phase, per cell: `60s`, `2m`, `500ms`, or plain seconds.
    pub timeout: Option<Spanned<Scalar>>,
    /// `false` runs the probes outside the sandbox (bubblewrap).
    pub sandbox: Option<bool>,
    /// Force a runner per target: `{"linux/riscv64": none, "windows/*": wine}`.
    #[serde(default)]
    pub runners: BTreeMap<String, Spanned<String>>,
    /// A missing tool makes its cells skips rather than failures: `true`
    /// for any tool, or a list of the tools (`[wine32]`).
    #[serde(default)]
    pub allow_missing: Option<AllowMissing>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AllowMissing {
    All(bool),
    Tools(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectEntry {
    /// Axis name (or env variable) to one value or a list; all must match.
    #[serde(default)]
    pub when: BTreeMap<String, WhenValue>,
    pub outcome: Option<Spanned<String>>,
    /// A regex on the output of the phase the outcome names.
    pub r#match: Option<Spanned<String>>,
    pub reason: Option<String>,
    /// Fact name to a value or an expression: `binary.static: true`,
    /// `binary.max_glibc: "<= 2.31"`, `probe.goarch: "~ ^arm"`.
    #[serde(default)]
    pub facts: BTreeMap<String, Spanned<Scalar>>,
}

/// In `when`, `env: {GOARM: "5"}` is accepted beside the flat `GOARM: "5"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum WhenValue {
    Values(OneOrMany),
    Env(BTreeMap<String, OneOrMany>),
}
