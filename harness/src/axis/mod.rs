//! The matrix's axes, defined once. Load reads the keys and defaults from
//! [`AXES`], the snippet shorthand accepts the same keys, expand makes the
//! product, the include rule, the cell id and the values of `when` from it,
//! and the reporters (JUnit properties, the HTML axis list, `plan --json`)
//! and the fuzzer's grammar list what it lists. Adding an axis is one entry
//! here, a field on [`Cell`] and what the axis means to the build or run.
//!
//! Environment axes (`matrix.env`: GOARM, GODEBUG, ...) are open-ended and
//! share one entry's worth of rules: [`ENV`]. Those that pick an
//! architecture level mean something on their architectures only; the
//! target table says which ([`crate::target::env_applies`]), and they are
//! multiplied in there alone.

pub mod cc;

use crate::model::Cell;

/// Where an axis is written in a matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// At the top level (`go:`), beside `matrix:`.
    Top,
    /// As `probes:` at the top level; in `include`, `exclude` and `when` by
    /// its name `probe`.
    Probes,
    /// Under `matrix:`.
    Matrix,
}

/// How an axis shows in a cell id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The value itself: `linux`.
    Value,
    /// Glued to a prefix: `cgo1`, `go1.22`; a value that starts with a
    /// letter gets a dash, so `cgo-default` reads as a word.
    Joined(&'static str),
    /// `key=value`: `cc=zig`, `ldflags=-s -w`.
    Named,
}

/// An axis's part of the cell id: its rank orders the parts, and an axis
/// that is not `always` shown is left out at its default, so matrices that
/// never name it keep their ids.
#[derive(Clone, Copy, Debug)]
pub struct Id {
    pub rank: u8,
    pub form: Form,
    pub always: bool,
}

/// What an axis changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The build. `stdlib` when it reaches the compiled standard library,
    /// so that builds differing in it are not one family (see
    /// [`crate::schedule`]).
    Build { stdlib: bool },
    /// Only how the binary runs: cells that differ in it share a build.
    Run,
}

/// Where the HTML grid's default layout puts an axis. Wherever it goes, an
/// axis whose cells all share one value takes no header: the page names
/// that value under its title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grid {
    /// A row: the target (a module's targets are its columns).
    Row,
    /// A column, before the others.
    Column,
    /// A column, after those.
    Varying,
}

/// Why a value was refused: the error's message, the label at the value,
/// and the one hint.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub label: &'static str,
    pub help: String,
}

pub struct Axis {
    pub key: &'static str,
    /// The value a matrix that does not list the axis gets; `None` when it
    /// is required.
    pub default: Option<&'static str>,
    pub place: Place,
    pub id: Id,
    pub stage: Stage,
    /// Checked at load, needing no toolchain; `Ok` holds the value as cells
    /// carry it (`true` → `1` for cgo). Axes whose check needs a Go (goos,
    /// goarch and buildmode against `go tool dist list` and `go help
    /// buildmode`, go against the module proxy) accept anything here.
    pub check: fn(&str) -> Result<String, Refusal>,
    /// Shown in JUnit properties and the HTML grid even when empty.
    pub always_shown: bool,
    /// Where the HTML grid puts it unless told otherwise.
    pub grid: Grid,
    pub get: fn(&Cell) -> &str,
    pub set: fn(&mut Cell, String),
    /// One line for `--help` and the book's axis table (docs/src/reference/axes.md).
    pub doc: &'static str,
}

fn any(v: &str) -> Result<String, Refusal> {
    Ok(v.to_string())
}

fn cgo(v: &str) -> Result<String, Refusal> {
    // `cgo: true` reads naturally; CGO_ENABLED wants 1.
    match v {
        "0" | "false" => Ok("0".into()),
        "1" | "true" => Ok("1".into()),
        "default" => Ok(v.into()),
        _ => Err(Refusal {
            message: format!("invalid cgo value {v:?}"),
            label: "expected 0, 1 or default",
            help: "cgo: default leaves CGO_ENABLED unset and records what Go chose".into(),
        }),
    }
}

fn cc_request(v: &str) -> Result<String, Refusal> {
    cc::Request::parse(v)
        .map(|_| v.to_string())
        .map_err(|help| Refusal {
            message: format!("unknown cc value {v:?}"),
            label: "expected auto, default, gcc, clang, zig or a compiler command",
            help: help.to_string(),
        })
}

/// Every axis that is not an environment variable, in the order of the
/// product: the outermost loop first.
pub const AXES: &[Axis] = &[
    Axis {
        key: "go",
        default: Some("local"),
        place: Place::Top,
        id: Id { rank: 40, form: Form::Joined("go"), always: false },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Varying,
        get: |c| &c.go,
        set: |c, v| c.go = v,
        doc: "Go versions: `local` (the `go` on PATH), a release (`1.21.13`) or a minor (`1.22`)",
    },
    Axis {
        key: "probe",
        default: None,
        place: Place::Probes,
        id: Id { rank: 90, form: Form::Value, always: true },
        stage: Stage::Build { stdlib: false },
        check: any,
        always_shown: true,
        grid: Grid::Column,
        get: |c| &c.probe,
        set: |c, v| c.probe = v,
        doc: "shipped probes by name, or inline: `{name, lang, source, files}`",
    },
    Axis {
        key: "goos",
        default: None,
        place: Place::Matrix,
        id: Id { rank: 0, form: Form::Value, always: true },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Row,
        get: |c| &c.goos,
        set: |c, v| c.goos = v,
        doc: "target operating systems, checked against `go tool dist list` of each Go",
    },
    Axis {
        key: "goarch",
        default: None,
        place: Place::Matrix,
        id: Id { rank: 1, form: Form::Value, always: true },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Row,
        get: |c| &c.goarch,
        set: |c, v| c.goarch = v,
        doc: "target architectures",
    },
    Axis {
        key: "cgo",
        default: Some("0"),
        place: Place::Matrix,
        id: Id { rank: 10, form: Form::Joined("cgo"), always: true },
        stage: Stage::Build { stdlib: true },
        check: cgo,
        always_shown: true,
        grid: Grid::Column,
        get: |c| &c.cgo,
        set: |c, v| c.cgo = v,
        doc: "`0`, `1`, or `default` (CGO_ENABLED left unset)",
    },
    Axis {
        key: "cc",
        default: Some("auto"),
        place: Place::Matrix,
        id: Id { rank: 20, form: Form::Named, always: false },
        stage: Stage::Build { stdlib: true },
        check: cc_request,
        always_shown: true,
        grid: Grid::Varying,
        get: |c| &c.cc,
        set: |c, v| c.cc = v,
        doc: "the C compiler: `auto`, `gcc`, `clang`, `zig`, `default` (Go's own choice), or a command",
    },
    Axis {
        key: "buildmode",
        default: Some("exe"),
        place: Place::Matrix,
        id: Id { rank: 30, form: Form::Named, always: false },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Varying,
        get: |c| &c.buildmode,
        set: |c, v| c.buildmode = v,
        doc: "`-buildmode`, any that `go help buildmode` lists",
    },
    Axis {
        key: "ldflags",
        default: Some(""),
        place: Place::Matrix,
        id: Id { rank: 50, form: Form::Named, always: false },
        stage: Stage::Build { stdlib: false },
        check: any,
        always_shown: true,
        grid: Grid::Column,
        get: |c| &c.ldflags,
        set: |c, v| c.ldflags = v,
        doc: "passed whole as `-ldflags=...`",
    },
    Axis {
        key: "tags",
        default: Some(""),
        place: Place::Matrix,
        id: Id { rank: 60, form: Form::Named, always: false },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Varying,
        get: |c| &c.tags,
        set: |c, v| c.tags = v,
        doc: "passed whole as `-tags=...`",
    },
    Axis {
        key: "flags",
        default: Some(""),
        place: Place::Matrix,
        id: Id { rank: 70, form: Form::Named, always: false },
        stage: Stage::Build { stdlib: true },
        check: any,
        always_shown: true,
        grid: Grid::Varying,
        get: |c| &c.flags,
        set: |c, v| c.flags = v,
        doc: "further `go build` flags, split on white space",
    },
    Axis {
        key: "cpu",
        default: Some(""),
        place: Place::Matrix,
        id: Id { rank: 80, form: Form::Named, always: false },
        stage: Stage::Run,
        check: any,
        always_shown: false,
        grid: Grid::Varying,
        get: |c| &c.cpu,
        set: |c, v| c.cpu = v,
        doc: "qemu-user `-cpu` models to run under; a cell with a cpu always runs under qemu",
    },
];

/// What every environment axis shares: no default (a variable the matrix
/// does not name is not set), `NAME=value` in the id after the target, and
/// it reaches the build's environment and the run's.
pub const ENV: Id = Id {
    rank: 5,
    form: Form::Named,
    always: true,
};

/// The axis named `key`, if it is not an environment variable.
pub fn find(key: &str) -> Option<&'static Axis> {
    AXES.iter().find(|a| a.key == key)
}

/// The keys of [`AXES`], in id order.
pub fn keys() -> impl Iterator<Item = &'static str> {
    ranked().map(|a| a.key)
}

/// An environment variable name, as env axes are named.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// [`AXES`] in id order: how reports list them.
pub fn ranked() -> impl Iterator<Item = &'static Axis> {
    let mut axes: Vec<&Axis> = AXES.iter().collect();
    axes.sort_by_key(|a| a.id.rank);
    axes.into_iter()
}

/// A cell's value for an axis or an environment variable.
pub fn value<'a>(cell: &'a Cell, key: &str) -> Option<&'a str> {
    match find(key) {
        Some(a) => Some((a.get)(cell)),
        None => cell.env.get(key).map(String::as_str),
    }
}

/// Sets an axis or an environment variable on a cell.
pub fn set(cell: &mut Cell, key: &str, v: String) {
    match find(key) {
        Some(a) => (a.set)(cell, v),
        None => {
            cell.env.insert(key.to_string(), v);
        }
    }
}

fn part(key: &str, id: Id, v: &str) -> String {
    match id.form {
        Form::Value => v.to_string(),
        Form::Joined(p) if v.starts_with(|c: char| c.is_ascii_alphabetic()) => format!("{p}-{v}"),
        Form::Joined(p) => format!("{p}{v}"),
        Form::Named => format!("{key}={v}"),
    }
}

/// `linux/arm/GOARM=5/cgo0/hello`: each axis at its rank and in its form.
/// Stable across runs and YAML order, since it is made from the cell's
/// values alone. An empty value counts as the default too: a Cell built in
/// code has no axes filled.
pub fn cell_id(c: &Cell) -> String {
    let id = id_of(c, |_| true);
    // A `test:` cell's package is not an axis: it comes after the probe,
    // one cell per package the probe's pattern matches.
    match c.package.as_str() {
        "" => id,
        p => format!("{id}/{p}"),
    }
}

/// The id made of the axes that `keep` keeps, and the environment axes.
fn id_of(c: &Cell, keep: impl Fn(&Axis) -> bool) -> String {
    let mut parts: Vec<(u8, String)> = Vec::new();
    for a in AXES.iter().filter(|a| keep(a)) {
        let v = (a.get)(c);
        let default = v.is_empty() || a.default == Some(v);
        if a.id.always || !default {
            parts.push((a.id.rank, part(a.key, a.id, v)));
        }
    }
    for (k, v) in &c.env {
        parts.push((ENV.rank, part(k, ENV, v)));
    }
    // Stable: env parts keep their name order within their rank.
    parts.sort_by_key(|(rank, _)| *rank);
    parts
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join("/")
}

/// The axes as ordered name/value pairs, in id order, environment axes
/// last: what JUnit properties, the HTML grid and `--filter` see.
pub fn pairs(c: &Cell) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = ranked()
        .filter(|a| a.always_shown || !(a.get)(c).is_empty())
        .map(|a| (a.key.to_string(), (a.get)(c).to_string()))
        .collect();
    v.extend(c.env.iter().map(|(k, val)| (k.clone(), val.clone())));
    v
}

/// Builds that compile the same standard library (a *family*, see
/// [`crate::schedule`]): the cell id without the axes that do not reach it
/// (probe, ldflags, cpu), e.g. `linux/arm/GOARM=7/cgo1/cc=zig`.
pub fn family(c: &Cell) -> String {
    id_of(c, |a| a.stage == Stage::Build { stdlib: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_rank_and_form() {
        let mut c = Cell {
            goos: "linux".into(),
            goarch: "arm".into(),
            go: "local".into(),
            cgo: "default".into(),
            cc: "auto".into(),
            buildmode: "exe".into(),
            probe: "hello".into(),
            ..Cell::default()
        };
        c.env.insert("GOARM".into(), "5".into());
        assert_eq!(cell_id(&c), "linux/arm/GOARM=5/cgo-default/hello");
        c.go = "1.22".into();
        c.cc = "zig".into();
        c.cpu = "arm926".into();
        c.cgo = "1".into();
        assert_eq!(
            cell_id(&c),
            "linux/arm/GOARM=5/cgo1/cc=zig/go1.22/cpu=arm926/hello"
        );
        c.ldflags = "-s".into();
        assert_eq!(family(&c), "linux/arm/GOARM=5/cgo1/cc=zig/go1.22");
    }

    #[test]
    fn every_key_once() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AXES {
            assert!(seen.insert(a.key), "{} twice", a.key);
            assert!(!is_env_name(a.key), "{} reads as a variable", a.key);
        }
    }
}
