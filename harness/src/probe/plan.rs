//! A cell's build as data: the commands ([`Step`]) that build it, in
//! order, and what the plan alone says of it ([`Plan`]). The probe phase
//! makes plans ([`super::go_plan`], [`super::c_plan`], the module's); the
//! build phase runs them ([`crate::build::run`]), and the result cache
//! keys a cell on its plan.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::model::Cell;
use crate::toolchain::cc::{Compiler, NoCompiler};

/// Why a build cannot go on from a step: the cell's words for its skip or
/// its expected build-fail, and (as that text) part of its cache key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unbuildable {
    /// The cell has no C compiler, and the step needs one.
    #[error(transparent)]
    NoCompiler(#[from] NoCompiler),
    #[error("-buildmode={0} applies to Go probes; a C probe builds as exe or pie")]
    CBuildmode(String),
    #[error("C probe {0:?} has no .c file to compile")]
    NoCSource(String),
    #[error("package {package} is not one that go list found in {root}")]
    NoPackage { package: String, root: String },
}

/// In a cache key, as the words a cell would say: a changed reason is a
/// changed key, and keys made before the type existed still match.
impl serde::Serialize for Unbuildable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One command of a build.
#[derive(Clone, Debug)]
pub struct Step {
    /// Names its capture files: `go-env`, `build`, `host`.
    pub name: &'static str,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    /// Run in order while they succeed. An `Err` is why the build cannot go
    /// on (no C compiler, with the hint); it counts only once reached, so a
    /// `go build` before it still speaks first.
    pub steps: Vec<Result<Step, Unbuildable>>,
    /// The program the run phase runs and inspect reads.
    pub output: PathBuf,
    /// Why there is nothing to run even when the build succeeds, and in
    /// what words.
    pub no_run: Option<(crate::model::NotRun, String)>,
    /// What the plan alone says: the C compiler chosen (`cc.*`), or
    /// `cc.missing`, why it has none.
    pub facts: BTreeMap<String, Value>,
    /// Files the steps read, written into the build directory first: the
    /// `-overlay` of a module build, which names that directory.
    pub write: Vec<(PathBuf, String)>,
    /// The CC program a `go build` was handed although it is not installed
    /// (the compiler the cell would use): Go speaks first, and only a
    /// failure that names this program is for want of it.
    pub missing_cc: Option<String>,
}

/// The file name the binary gets: what the runners expect to find.
pub fn output_name(cell: &Cell) -> &'static str {
    match (cell.goos.as_str(), cell.goarch.as_str()) {
        ("windows", _) => "probe.exe",
        (_, "wasm") => "probe.wasm",
        _ => "probe",
    }
}

pub(super) fn compiler_facts(c: &Compiler, facts: &mut BTreeMap<String, Value>) {
    let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    facts.insert("cc.argv".into(), list(&c.cc));
    if let Some(cxx) = &c.cxx {
        facts.insert("cc.cxx".into(), list(cxx));
    }
    facts.insert("cc.kind".into(), Value::String(c.kind.as_str().into()));
    facts.insert("cc.version".into(), Value::String(c.version.clone()));
}
