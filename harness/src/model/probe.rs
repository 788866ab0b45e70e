//! A probe as load makes it: what kind it is, its sources, and, for the
//! user's own code, what `go list` later says of the module. Load, expand,
//! the probe phase and the pipeline all read this one type; what each kind
//! means to a build and a run is the probe module's ([`crate::probe`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use miette::SourceSpan;

use super::Lang;

#[derive(Clone, Debug)]
pub struct Probe {
    pub name: String,
    pub lang: Lang,
    pub summary: String,
    /// Relative path and contents. For a shipped probe, paths ending in
    /// `.j2` are templates.
    pub files: Vec<(String, String)>,
    pub kind: ProbeKind,
}

/// The kinds of probe.
#[derive(Clone, Debug)]
pub enum ProbeKind {
    /// Shipped with crossprobe (`templates/probes/NAME`).
    Template,
    /// An inline `source:` of a matrix or a snippet, built on its own.
    Inline,
    /// The user's own code: `package:`, `test:`, or an inline source with
    /// `module:`.
    Module(Box<ModuleProbe>),
}

impl Probe {
    /// An inline probe of `source`, in a file named for its language.
    pub fn inline(name: &str, lang: Lang, source: &str) -> Probe {
        let file = match lang {
            Lang::Go => "main.go",
            Lang::C => "main.c",
        };
        Probe {
            name: name.to_string(),
            lang,
            summary: "inline probe".into(),
            files: vec![(file.to_string(), source.to_string())],
            kind: ProbeKind::Inline,
        }
    }

    /// Whether crossprobe ships it: its sources are templates, and print
    /// crossprobe's facts themselves.
    pub fn shipped(&self) -> bool {
        matches!(self.kind, ProbeKind::Template)
    }

    /// The user's module, when the probe is the user's own code.
    pub fn module(&self) -> Option<&ModuleProbe> {
        match &self.kind {
            ProbeKind::Module(m) => Some(m),
            _ => None,
        }
    }

    pub fn module_mut(&mut self) -> Option<&mut ModuleProbe> {
        match &mut self.kind {
            ProbeKind::Module(m) => Some(m),
            _ => None,
        }
    }
}

/// What of the user's module a probe builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    /// `package: ./cmd/portable`.
    Package(String),
    /// `test: ./...`, or a list of patterns.
    Test(Vec<String>),
    /// `source:` with `module:`.
    Source,
}

#[derive(Clone, Debug)]
pub struct ModuleProbe {
    pub kind: ModuleKind,
    /// The module root, absolute.
    pub root: PathBuf,
    /// What `args` said: the run's arguments (`package:` and `source:`).
    pub args: Vec<String>,
    /// What `env` said: set for the run.
    pub env: BTreeMap<String, String>,
    /// Where the probe's `package:`, `test:` or `module:` is written.
    pub span: SourceSpan,
    /// Filled by `probe::module::resolve`: the module path from go.mod.
    pub path: String,
    /// Filled by `resolve`: the package a `package:` names, each package
    /// with tests a `test:` matches, or the inline source as a package.
    pub packages: Vec<Package>,
    /// `vendor/` exists: builds use `-mod=vendor` and nothing is downloaded.
    pub vendor: bool,
    /// Filled by `resolve`: a hash of go.mod, go.sum and vendor/modules.txt.
    pub manifest: String,
    /// Why the module's dependencies could not be downloaded, per Go
    /// request; those cells are build-fails with this message.
    pub download_errors: BTreeMap<String, String>,
    /// `run: false`: built and inspected, never run.
    pub run: bool,
    /// `vet: true`: `go vet` of the cell's package with its target.
    pub vet: bool,
    /// `go_test:`, a `test:` probe's go test flags.
    pub go_test: GoTestFlags,
    /// Filled by `resolve`: what its builds and tests read outside the
    /// root (local `replace` targets, the workspace's go.work and `use`
    /// directories), bound read-only by the module profile.
    pub outside: Vec<PathBuf>,
}

/// go test's flags of a `test:` probe (`go_test:`), checked by load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoTestFlags {
    pub run: Option<String>,
    pub skip: Option<String>,
    pub short: bool,
    pub count: Option<u32>,
    pub cpu: Vec<u32>,
    /// `on`, `off` or a seed.
    pub shuffle: Option<String>,
    pub failfast: bool,
    /// Replaces the matrix's `run.timeout` for the probe's cells.
    pub timeout: Option<std::time::Duration>,
    pub bench: Option<String>,
    pub benchtime: Option<String>,
    /// `-cover`: the test binary built with coverage, its counters kept
    /// per cell and merged per target after the run.
    pub cover: bool,
}

impl GoTestFlags {
    /// The test binary's flags for these, as `go test` hands them on
    /// (`-run X` becomes `-test.run=X`); the timeout is the caller's.
    pub fn binary_flags(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut put = |k: &str, val: Option<&String>| {
            if let Some(x) = val {
                v.push(format!("-test.{k}={x}"));
            }
        };
        put("run", self.run.as_ref());
        put("skip", self.skip.as_ref());
        put("bench", self.bench.as_ref());
        put("benchtime", self.benchtime.as_ref());
        put("shuffle", self.shuffle.as_ref());
        put("count", self.count.map(|c| c.to_string()).as_ref());
        let cpu = self
            .cpu
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        put("cpu", (!cpu.is_empty()).then_some(&cpu));
        if self.short {
            v.push("-test.short".into());
        }
        if self.failfast {
            v.push("-test.failfast".into());
        }
        v
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub import_path: String,
    /// The package's source directory, where its tests run.
    pub dir: PathBuf,
    /// Its name in a cell id: the path inside the module.
    pub id: String,
    /// A hash of every file in the directories its build reads inside the
    /// module: its own and those of its dependencies there, on every
    /// target it is on.
    pub content: String,
    /// The targets ([`ListTarget::key`]) the package is not on, and why,
    /// in Go's words: its build constraints exclude every file there, or
    /// (for `test:`) it has no test files there. Its cells there are skips.
    pub absent: BTreeMap<String, String>,
}

/// What decides which files, and so which packages, a target builds: the
/// build constraints see GOOS, GOARCH, cgo and the tags. A module probe's
/// packages are listed once for each of these its cells have.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ListTarget {
    pub goos: String,
    pub goarch: String,
    /// `0`, `1`, or `default`.
    pub cgo: String,
    pub tags: String,
}

impl ListTarget {
    pub fn of(cell: &super::Cell) -> ListTarget {
        ListTarget {
            goos: cell.goos.clone(),
            goarch: cell.goarch.clone(),
            cgo: cell.cgo.clone(),
            tags: cell.tags.clone(),
        }
    }

    /// `windows/amd64`, `linux/arm64/cgo1/tags=x,y`: how a package's
    /// absence is keyed, and how a reason names the target.
    pub fn key(&self) -> String {
        let mut k = format!("{}/{}", self.goos, self.goarch);
        if self.cgo != "default" {
            k.push_str(&format!("/cgo{}", self.cgo));
        }
        if !self.tags.is_empty() {
            k.push_str(&format!("/tags={}", self.tags));
        }
        k
    }
}

impl ModuleProbe {
    /// The package a `test:` cell builds, by its id part.
    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// Why the package a cell builds is not on the cell's target, if it
    /// is not.
    pub fn absent(&self, cell: &super::Cell) -> Option<&str> {
        let p = match cell.package.as_str() {
            "" => self.packages.first(),
            id => self.package(id),
        }?;
        p.absent
            .get(&ListTarget::of(cell).key())
            .map(String::as_str)
    }

    /// The `-mod` flag, when the module's rules need one.
    pub fn mod_flag(&self) -> Option<&'static str> {
        self.vendor.then_some("-mod=vendor")
    }
}
