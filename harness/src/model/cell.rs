//! A cell: one point of the matrix, as expand makes it, with the runner
//! chosen for it and what its matrix expects of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Outcome, TestOutcome};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Go,
    C,
}

/// How a cell's binary is run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Runner {
    /// On the host itself.
    #[default]
    Native,
    /// Under qemu-user; `binary` is e.g. `qemu-aarch64`.
    Qemu {
        binary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpu: Option<String>,
    },
    /// Under wine; `binary` is the loader (wine64 for amd64).
    Wine { binary: String },
    /// js/wasm under node with Go's wasm_exec_node.js.
    Node,
    /// wasip1/wasm under a WASI runtime (wazero or wasmtime).
    Wasi { binary: String },
    /// Built only: the run is a skip, with the reason.
    None {
        reason: String,
        /// The tool that would run it, when one can be installed: the skip
        /// is then environmental, and unmet unless allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
}

/// A tool that `doctor` knows how to install, missing on this host. A cell
/// that needs it is not run: an environmental skip, unlike a structural one
/// (no runner can exist for the target on this host).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Missing {
    /// `qemu-aarch64`, `wine64`, `wine32`, `node`, `wazero`, a cross gcc, `zig`.
    pub tool: String,
    /// doctor's fix for it: the command that installs it.
    pub fix: String,
}

/// The kinds of runner: what a matrix names in `run.runners`, parsed once
/// by load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunnerKind {
    Native,
    Qemu,
    Wine,
    Node,
    Wasi,
    None,
}

impl RunnerKind {
    pub const ALL: [RunnerKind; 6] = [
        RunnerKind::Native,
        RunnerKind::Qemu,
        RunnerKind::Wine,
        RunnerKind::Node,
        RunnerKind::Wasi,
        RunnerKind::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Native => "native",
            RunnerKind::Qemu => "qemu",
            RunnerKind::Wine => "wine",
            RunnerKind::Node => "node",
            RunnerKind::Wasi => "wasi",
            RunnerKind::None => "none",
        }
    }

    pub fn parse(name: &str) -> Option<RunnerKind> {
        RunnerKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Runner {
    pub fn kind(&self) -> RunnerKind {
        match self {
            Runner::Native => RunnerKind::Native,
            Runner::Qemu { .. } => RunnerKind::Qemu,
            Runner::Wine { .. } => RunnerKind::Wine,
            Runner::Node => RunnerKind::Node,
            Runner::Wasi { .. } => RunnerKind::Wasi,
            Runner::None { .. } => RunnerKind::None,
        }
    }

    /// The runner's program (`qemu-aarch64`, `wine64`), or its kind where
    /// there is no program of its own.
    pub fn name(&self) -> &str {
        match self {
            Runner::Native => "native",
            Runner::Qemu { binary, .. } => binary,
            Runner::Wine { binary } => binary,
            Runner::Node => "node",
            Runner::Wasi { binary } => binary,
            Runner::None { .. } => "none",
        }
    }
}

/// What a matrix says should happen to a cell. Cells that no `expect` entry
/// names are expected to pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub outcome: Outcome,
    /// A regex over the output of the phase the outcome names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<String>,
    /// Why this is expected: an issue URL or a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `file:line` of the expect entry, so a report can point back at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Fact name to an expression: `true`, `"0"`, `<= 2.31`, `~ ^go1\.2`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
    /// For a `test:` cell: the Go tests expected not to pass, from the
    /// `expect` entries whose `when` names a `test:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestExpectation>,
}

impl Default for Expectation {
    fn default() -> Self {
        Expectation {
            outcome: Outcome::Pass,
            r#match: None,
            reason: None,
            source: None,
            facts: BTreeMap::new(),
            tests: Vec::new(),
        }
    }
}

/// What one `expect` entry says of the Go tests whose names it matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestExpectation {
    /// A regex over the full test name (`TestX`, `TestX/sub`), anchored at
    /// both ends.
    pub test: String,
    pub outcome: TestOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The entry names the package too: a test it expects to fail must be
    /// there. Without a package it speaks of whichever packages have it.
    #[serde(default)]
    pub pinned: bool,
}

/// One point of the matrix: a probe on a target with a set of build settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Stable, readable id, e.g. `linux/arm/GOARM=5/cgo0/hello`.
    pub id: String,
    /// `id` made safe as one path component.
    pub slug: String,
    pub matrix: String,
    pub probe: String,
    pub lang: Lang,
    pub goos: String,
    pub goarch: String,
    /// `local`, or a Go version such as `1.22.12`.
    pub go: String,
    /// `0`, `1`, or `default` (CGO_ENABLED left unset).
    pub cgo: String,
    pub ldflags: String,
    pub tags: String,
    pub flags: String,
    /// The C compiler asked for: `auto`, `gcc`, `clang`, `zig`, or a command.
    #[serde(default = "default_cc")]
    pub cc: String,
    /// `-buildmode`: `exe`, `pie`, `c-archive`, `c-shared`, ...
    #[serde(default = "default_buildmode")]
    pub buildmode: String,
    /// Further environment axes (GOARM, GOAMD64, GOMIPS, ...).
    pub env: BTreeMap<String, String>,
    /// qemu's `-cpu` for the run: the oldest CPU the users have.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu: String,
    /// For a `test:` probe, the package this cell tests, as a path inside
    /// its module (`sizes`, `cmd/portable`); the module's root package is
    /// named by the module path's last element. Part of the id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub package: String,
    pub runner: Runner,
    pub expect: Expectation,
}

fn default_cc() -> String {
    "auto".to_string()
}

fn default_buildmode() -> String {
    "exe".to_string()
}

impl Cell {
    pub fn target(&self) -> String {
        format!("{}/{}", self.goos, self.goarch)
    }
}
