//! Doctor: checks what a run will need before it starts, each item OK, WARN
//! or FAIL with the exact command that fixes it.
//!
//! - `checks` looks at Go, the C toolchains and the limits; `runners` at
//!   the emulators and runtimes, wine's set-up and the sandbox;
//! - `fix` runs the fixes it can (`crossprobe doctor --fix`).
//!
//! Which C compiler builds for which target is the toolchain's
//! ([`crate::toolchain::cc`]); the run's own preflight is the pipeline's
//! ([`crate::pipeline::preflight`]).
//!
//! With matrices, a missing tool that one of their cells needs is a FAIL;
//! without, every missing tool is a WARN, since nothing says it is needed.

pub mod checks;
pub mod fix;
pub mod runners;

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::host::install::Action;
use crate::model::Cell;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Go,
    C,
    Emulators,
    Sandbox,
    Limits,
}

impl Group {
    fn title(self) -> &'static str {
        match self {
            Group::Go => "Go",
            Group::C => "C toolchains",
            Group::Emulators => "Emulators",
            Group::Sandbox => "Sandbox",
            Group::Limits => "Limits",
        }
    }
}

/// One thing checked.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub group: Group,
    /// The tool or setting: `go`, `GOCACHE`, `qemu-riscv64`, `cc linux/arm64`.
    pub name: String,
    pub level: Level,
    /// What was found, in one line.
    pub found: String,
    /// Why it matters, when it is not OK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The exact command that fixes it, for a person to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// What `--fix` does about it.
    #[serde(skip)]
    pub action: Option<Action>,
}

impl Finding {
    pub fn ok(group: Group, name: impl Into<String>, found: impl Into<String>) -> Finding {
        Finding {
            group,
            name: name.into(),
            level: Level::Ok,
            found: found.into(),
            hint: None,
            fix: None,
            action: None,
        }
    }

    pub fn bad(
        group: Group,
        name: impl Into<String>,
        level: Level,
        found: impl Into<String>,
    ) -> Finding {
        Finding {
            level,
            ..Finding::ok(group, name, found)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    /// The fix: what a person runs, and what `--fix` does.
    pub fn fix(mut self, action: Action) -> Finding {
        self.fix = Some(action.command());
        self.action = Some(action);
        self
    }
}

/// What the run will need, target by target.
#[derive(Clone, Debug, Default)]
pub struct Needs {
    /// `goos/goarch` → cells, and how many of them build with cgo and
    /// leave the C compiler to Go (`cc: default`).
    pub targets: BTreeMap<String, Need>,
    /// C compiler programs the cells ask for (their `cc` axis, or the
    /// cross gcc `cc: auto` picks) that are not on PATH, by how many
    /// cells ask: the engine's own resolution (toolchain::cc).
    pub compilers: BTreeMap<String, usize>,
    /// False when no matrix was given: every tool is then only "may need".
    pub from_matrices: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Need {
    pub cells: usize,
    pub cgo_cells: usize,
    /// The CC the matrix gives its cgo cells, if it gives one.
    pub cc: Option<String>,
}

/// The targets of the shipped matrices: what to look for with no matrix.
const DEFAULT_TARGETS: &[&str] = &[
    "linux/amd64",
    "linux/386",
    "linux/arm64",
    "linux/arm",
    "linux/riscv64",
    "linux/ppc64le",
    "linux/s390x",
    "linux/mips",
    "linux/mipsle",
    "linux/mips64le",
    "linux/loong64",
    "windows/amd64",
    "js/wasm",
    "wasip1/wasm",
];

impl Needs {
    pub fn from_cells(cells: &[Cell], compilers: &crate::toolchain::cc::Compilers) -> Needs {
        let mut targets: BTreeMap<String, Need> = BTreeMap::new();
        let mut missing: BTreeMap<String, usize> = BTreeMap::new();
        for c in cells {
            if let Some(tool) = compilers.missing(c) {
                *missing.entry(tool.to_string()).or_default() += 1;
            }
            let n = targets.entry(c.target()).or_default();
            n.cells += 1;
            // A compiler the cc axis chooses is the engine's to resolve
            // (`compilers` above); only cells that leave CC to Go are
            // checked against what Go would pick.
            if c.cgo == "1" && !crate::toolchain::cc::wanted(c) {
                n.cgo_cells += 1;
                if let Some(cc) = c.env.get("CC") {
                    n.cc.get_or_insert_with(|| cc.clone());
                }
            }
        }
        Needs {
            targets,
            compilers: missing,
            from_matrices: true,
        }
    }

    pub fn defaults() -> Needs {
        Needs {
            targets: DEFAULT_TARGETS
                .iter()
                .map(|t| (t.to_string(), Need::default()))
                .collect(),
            compilers: BTreeMap::new(),
            from_matrices: false,
        }
    }

    /// How bad a missing tool is that `cells` cells need.
    pub fn missing(&self, cells: usize) -> Level {
        if self.from_matrices && cells > 0 {
            Level::Fail
        } else {
            Level::Warn
        }
    }
}

/// Every finding, in order: Go, C, emulators, sandbox, limits.
pub fn examine(needs: &Needs, out_dir: &std::path::Path) -> Vec<Finding> {
    let go = checks::go();
    let goroot = go.goroot.clone();
    let tools = crate::host::discover(goroot.as_deref());
    let host = crate::host::detect();
    let mut v = go.findings;
    v.extend(checks::c_toolchains(needs, go.go.as_deref()));
    v.extend(runners::emulators(needs, &host, &tools));
    v.push(runners::sandbox(&host.goos));
    v.extend(runners::processes(&host.goos));
    v.extend(checks::limits(out_dir, go.gocache.as_deref()));
    v
}

pub fn worst(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

pub fn render_text(findings: &[Finding]) -> String {
    let mut s = String::new();
    let w = findings
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0)
        .min(28);
    let mut group = None;
    for f in findings {
        if group != Some(f.group) {
            let _ = writeln!(
                s,
                "{}{}",
                if group.is_some() { "\n" } else { "" },
                f.group.title()
            );
            group = Some(f.group);
        }
        let _ = writeln!(s, "  {:<4}  {:<w$}  {}", f.level.label(), f.name, f.found);
        if f.level != Level::Ok {
            if let Some(h) = &f.hint {
                let _ = writeln!(s, "        {:<w$}  {h}", "");
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(s, "        {:<w$}  fix: {fix}", "");
            }
        }
    }
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let fixable = findings
        .iter()
        .filter(|f| f.level != Level::Ok && f.action.as_ref().is_some_and(Action::automatic))
        .count();
    let _ = write!(
        s,
        "\n{} OK, {} WARN, {} FAIL",
        count(Level::Ok),
        count(Level::Warn),
        count(Level::Fail)
    );
    if fixable > 0 {
        let _ = write!(s, "; `crossprobe doctor --fix` can fix {fixable}");
    }
    s.push('\n');
    s
}

pub fn render_json(findings: &[Finding]) -> String {
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let v = serde_json::json!({
        "ok": worst(findings) != Level::Fail,
        "counts": { "ok": count(Level::Ok), "warn": count(Level::Warn), "fail": count(Level::Fail) },
        "findings": findings,
    });
    serde_json::to_string_pretty(&v).expect("findings serialise")
}

/// `linux/arm64` → (`linux`, `arm64`).
fn split_target(t: &str) -> (&str, &str) {
    t.split_once('/').unwrap_or((t, ""))
}
