//! The probe phase: what each kind of probe ([`ProbeKind`]) is to a build
//! and a run. A probe is
//! - a shipped template, rendered for the cell ([`render`]);
//! - an inline source, written as given beside crossprobe's started proof
//!   (and its go.sum completed when it brings a go.mod: [`gosum`]);
//! - the user's own code ([`module`]): a main package (`package:`), the
//!   packages of a `go test` pattern (`test:`), or an inline source built
//!   inside the module (`module:`); `go list` reads the module once per
//!   run, and what crossprobe adds reaches cmd/go through an overlay.
//!
//! Once per run, before expansion, [`prepare`] lists and downloads the
//! modules and completes go.sums.
//!
//! For each kind this module says its sources ([`sources`]), its build
//! plan ([`plan`]: the commands [`crate::build`] runs), how its binary runs
//! ([`run_spec`]) and how its output is read: a test binary's events
//! through test2json ([`test2json`]). The pipeline asks here and never
//! looks at a probe's kind itself.

mod c;
mod go;
pub mod gosum;
pub mod module;
mod plan;
pub mod prepare;
pub mod render;
pub mod test2json;

pub use c::{c_plan, HOST_DIR};
pub use go::go_plan;
pub use plan::{output_name, Plan, Step, Unbuildable};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::{Cell, Lang, ModuleKind, Probe, ProbeKind};
use crate::toolchain::cc::{Compiler, NoCompiler};
use crate::toolchain::go::GoToolchain;

/// A cell's sources: a shipped or inline probe's, rendered; for the user's
/// code, what the overlay adds and the hash of the module files its build
/// reads (so the result cache is keyed on them). Err says why the cell
/// cannot be built: a template that does not render, or the module's
/// dependencies that could not be downloaded for the cell's Go.
pub fn sources(
    cell: &Cell,
    probe: &Probe,
    go: &GoToolchain,
) -> Result<Vec<(String, String)>, SourcesError> {
    match &probe.kind {
        ProbeKind::Module(m) => {
            if let Some(why) = m.download_errors.get(&cell.go) {
                return Err(SourcesError::Download(why.clone()));
            }
            Ok(module::build::module_sources(cell, &probe.files, m))
        }
        ProbeKind::Template | ProbeKind::Inline => {
            render::sources(cell, probe, &render::go_minor(&go.version))
        }
    }
}

/// Why a cell has no sources, and so cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    /// A shipped template that does not render for the cell.
    #[error("template {probe}/{file}.j2: {error}")]
    Template {
        probe: String,
        file: String,
        error: String,
    },
    #[error("host/host.c is missing from the embedded templates")]
    NoHostProgram,
    /// The module's dependencies could not be downloaded for the cell's
    /// Go: what the download said.
    #[error("{0}")]
    Download(String),
}

/// The cell's build in `dir`: a Go or C probe's, or the user's module's.
/// `compiler` is the cell's C compiler or why it has none; `would_use` the
/// CC a missing one would be; `cc_hint` crossprobe's word on the compiler
/// (the preflight's), shown beside Go's should the build fail.
pub fn plan(
    cell: &Cell,
    probe: &Probe,
    go: &GoToolchain,
    (compiler, would_use): (Result<&Compiler, NoCompiler>, Option<&[String]>),
    cc_hint: Option<&String>,
    dir: &Path,
) -> Plan {
    if let Some(m) = probe.module() {
        // `run: false` is the cell's, not its build's (a build may serve a
        // probe that runs too): the run phase reads it.
        return module::build::module_plan(cell, &cell.probe, go, (compiler, would_use), m, dir);
    }
    match cell.lang {
        Lang::Go => {
            let mut plan = go_plan(cell, go, compiler, would_use, dir);
            if let Some(hint) = cc_hint {
                plan.facts
                    .insert("cc.hint".into(), serde_json::Value::String(hint.clone()));
            }
            plan
        }
        Lang::C => c_plan(cell, compiler, dir),
    }
}

/// How a cell's binary runs, besides its runner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// Its arguments.
    pub args: Vec<String>,
    /// Where it runs, when not in its build directory: a package's own
    /// directory (tests read testdata/ relative to it).
    pub cwd: Option<PathBuf>,
    /// Set for the run (a module probe's `env`).
    pub env: BTreeMap<String, String>,
    /// The import path whose test events its output is, read through
    /// test2json ([`test2json::read`]).
    pub events_of: Option<String>,
    /// `go_test: {cover: true}`: the directory the test binary writes its
    /// coverage counters into (`-test.gocoverdir`), made empty before
    /// each run.
    pub cover_dir: Option<PathBuf>,
}

/// Where a `cover: true` cell's counters go, under its run directory (one
/// per cell: cells of one build share that directory).
pub fn cover_dir(cell: &Cell, run_dir: &Path) -> PathBuf {
    run_dir
        .join("cover")
        .join(cell.id.replace(['/', '\\', ' ', ':'], "_"))
}

/// How `cell`'s binary runs: a module probe's `args`, or what a test
/// binary needs to report each test as an event, bounded by the matrix's
/// `timeout`, run from `run_dir` (its binary's directory).
pub fn run_spec(cell: &Cell, probe: &Probe, timeout: Duration, run_dir: &Path) -> RunSpec {
    let Some(m) = probe.module() else {
        return RunSpec::default();
    };
    let test = matches!(m.kind, ModuleKind::Test(_));
    let cover = (test && m.go_test.cover).then(|| cover_dir(cell, run_dir));
    let args = match m.kind {
        // As `go test` hands them on: its flags as the binary's -test.*
        // ones, then `args:` as after `-args`.
        ModuleKind::Test(_) => {
            let mut v = vec![
                "-test.v=test2json".into(),
                format!("-test.timeout={}ms", timeout.as_millis()),
            ];
            if let Some(d) = &cover {
                v.push(format!("-test.gocoverdir={}", d.display()));
            }
            v.extend(m.go_test.binary_flags());
            v.extend(m.args.iter().cloned());
            v
        }
        _ => m.args.clone(),
    };
    let package = m.package(&cell.package);
    // The target, as `GOARCH=… go test -exec …` exports it: a test that
    // runs `go` builds for the cell's target, not the host. (The env axes,
    // GOARM and friends, reach every probe through cell.env.)
    let mut env = BTreeMap::from([
        ("GOOS".to_string(), cell.goos.clone()),
        ("GOARCH".to_string(), cell.goarch.clone()),
    ]);
    if cell.cgo != "default" {
        env.insert("CGO_ENABLED".to_string(), cell.cgo.clone());
    }
    env.extend(m.env.clone());
    RunSpec {
        args,
        cwd: package.map(|p| p.dir.clone()),
        env,
        events_of: package.map(|p| p.import_path.clone()),
        cover_dir: cover,
    }
}
