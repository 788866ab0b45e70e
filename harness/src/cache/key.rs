//! A cell's keys, built from plain inputs: the run's [`Identity`] (host,
//! Go toolchains, tools, inherited env) and the cell's sources and plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::FORMAT;
use crate::fsutil::{stamp, which};
use crate::host::{Host, Tools};
use crate::model::{Cell, Lang, Runner};
use crate::probe::{Plan, Step, Unbuildable};
use crate::process;
use crate::toolchain::cc::Compiler;
use crate::toolchain::go::{go_env_file, goroot_identity, GoToolchain};

/// Inherited variables that name where Go keeps things, not what it builds.
const WHERE_NOT_WHAT: [&str; 15] = [
    "GOCACHE",
    "GOCACHEPROG",
    "GOMODCACHE",
    "GOPATH",
    "GOTMPDIR",
    "GOPROXY",
    "GOSUMDB",
    "GONOSUMDB",
    "GONOPROXY",
    "GOPRIVATE",
    "GOINSECURE",
    "GOVCS",
    "GOAUTH",
    "GOTELEMETRY",
    "GOTELEMETRYDIR",
];

/// What every key of a run shares: read once per run.
pub struct Identity {
    pub(super) crossprobe: String,
    pub(super) host: String,
    /// Go request (`local`) → version and GOROOT identity.
    pub(super) go: BTreeMap<String, String>,
    pub(super) inherited: BTreeMap<String, String>,
    pub(super) go_env_file: String,
    pub(super) tools: Tools,
    pub(super) versions: BTreeMap<String, String>,
    /// C compiler command → identity, asked the first time a cell needs it.
    pub(super) cc: Mutex<BTreeMap<String, String>>,
    /// Where a compiler command a cell names is asked its version: the
    /// builds' sandbox (the command may be a stranger's).
    pub(super) sandbox: crate::run::Sandbox,
}

impl Identity {
    /// Compiler commands are asked their version inside `sandbox`.
    pub fn in_sandbox(self, sandbox: &crate::run::Sandbox) -> Identity {
        Identity {
            sandbox: sandbox.clone(),
            ..self
        }
    }

    pub fn read(h: &Host, gos: &BTreeMap<String, GoToolchain>, tools: &Tools) -> Identity {
        let exe = std::env::current_exe().map_or_else(|_| String::new(), |p| stamp(&p));
        Identity {
            crossprobe: format!("{} {exe}", env!("CARGO_PKG_VERSION")),
            host: format!("{}/{} {} {}", h.goos, h.goarch, h.kernel, h.cpu),
            go: gos
                .iter()
                .map(|(req, g)| (req.clone(), goroot_identity(g)))
                .collect(),
            inherited: std::env::vars().filter(|(k, _)| relevant(k)).collect(),
            go_env_file: go_env_file()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default(),
            tools: tools.clone(),
            versions: tools.versions(),
            cc: Mutex::new(BTreeMap::new()),
            sandbox: crate::run::Sandbox::off(),
        }
    }

    /// What the C compiler for `command` is: path, size, mtime and the first
    /// line of `--version`. Asked once per command per run.
    fn cc(&self, command: &str) -> String {
        let mut memo = self.cc.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = memo.get(command) {
            return id.clone();
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let id = match words.split_first() {
            None => String::new(),
            Some((prog, args)) => {
                let path = which(prog).unwrap_or_else(|| PathBuf::from(prog));
                let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                argv.insert(0, prog.to_string());
                argv.push("--version".into());
                let argv = self.sandbox.wrap_build(argv, Path::new("/"), &[], &[]);
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                let version = process::query(&argv, &BTreeMap::new(), Duration::from_secs(30))
                    .map(|v| v.lines().next().unwrap_or("").to_string())
                    .unwrap_or_else(|e| format!("unavailable: {e}"));
                format!("{command} {} {version}", stamp(&path))
            }
        };
        memo.insert(command.to_string(), id.clone());
        id
    }
}

/// A cell's two keys, as hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The build plan: cells that share it share one build.
    pub build: String,
    pub result: String,
}

#[derive(Serialize)]
struct BuildInputs<'a> {
    format: u32,
    sources: &'a [(String, String)],
    /// Each step's argv, env and removed variables, or why it cannot run.
    steps: Vec<Result<StepInputs<'a>, &'a Unbuildable>>,
    go: &'a str,
    inherited: BTreeMap<&'a str, &'a str>,
    go_env_file: &'a str,
    cc: String,
}

#[derive(Serialize)]
struct StepInputs<'a> {
    name: &'a str,
    argv: &'a [String],
    env: &'a BTreeMap<String, String>,
    env_remove: &'a [String],
}

#[derive(Serialize)]
struct RunInputs<'a> {
    build: &'a str,
    crossprobe: &'a str,
    host: &'a str,
    runner: &'a Runner,
    runner_tool: String,
    run_env: &'a BTreeMap<String, String>,
    /// A module probe's run: its arguments (go test's flags, `args:`) and
    /// `env:`.
    probe_args: &'a [String],
    probe_env: &'a BTreeMap<String, String>,
    timeout_ms: u128,
    /// A probe may behave otherwise in the sandbox (no network, no $HOME).
    sandboxed: bool,
}

/// The keys of `cell`, whose build is `plan` (made for a fixed directory,
/// so that the key does not depend on where the build happens) with the C
/// compiler crossprobe chose for it, if any.
pub fn keys(
    id: &Identity,
    cell: &Cell,
    sources: &[(String, String)],
    plan: &Plan,
    compiler: Option<&Compiler>,
    (timeout, probe_args, probe_env): (Duration, &[String], &BTreeMap<String, String>),
    sandboxed: bool,
) -> Keys {
    let steps: Vec<&Step> = plan.steps.iter().filter_map(|s| s.as_ref().ok()).collect();
    // A variable a step sets or removes is in the key through the step; the
    // inherited value cannot reach that step. It still reaches the others.
    let overridden = |k: &str| {
        !steps.is_empty()
            && steps
                .iter()
                .all(|s| s.env.contains_key(k) || s.env_remove.iter().any(|r| r == k))
    };
    let cc = match compiler {
        // Chosen by crossprobe: the command is in the steps; the file behind
        // it and the version toolchain::cc read once for the run are here.
        Some(c) => chosen_cc(c),
        // Left to Go (`cc: default`) with cgo possibly on: what cmd/go
        // would pick.
        None if cell.lang == Lang::Go && cell.cgo != "0" => {
            let go_build = steps.iter().rev().find(|s| s.name == "build");
            let env = go_build.map(|s| &s.env);
            let empty = BTreeMap::new();
            id.cc(&c_compiler(cell, env.unwrap_or(&empty), &id.inherited))
        }
        None => String::new(),
    };
    let build = hash(&BuildInputs {
        format: FORMAT,
        sources,
        steps: plan
            .steps
            .iter()
            .map(|s| match s {
                Ok(s) => Ok(StepInputs {
                    name: s.name,
                    argv: &s.argv,
                    env: &s.env,
                    env_remove: &s.env_remove,
                }),
                Err(why) => Err(why),
            })
            .collect(),
        go: id.go.get(&cell.go).map_or("", String::as_str),
        inherited: id
            .inherited
            .iter()
            .filter(|(k, _)| !overridden(k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        go_env_file: &id.go_env_file,
        cc,
    });
    let result = hash(&RunInputs {
        build: &build,
        crossprobe: &id.crossprobe,
        host: &id.host,
        runner: &cell.runner,
        runner_tool: runner_tool(&cell.runner, &id.tools, &id.versions),
        run_env: &cell.env,
        probe_args,
        probe_env,
        timeout_ms: timeout.as_millis(),
        sandboxed,
    });
    Keys { build, result }
}

/// A compiler crossprobe chose: its command, the file behind it, and the
/// version it already read (no second `--version`).
pub(super) fn chosen_cc(c: &Compiler) -> String {
    let Some(prog) = c.cc.first() else {
        return String::new();
    };
    let path = which(prog).unwrap_or_else(|| PathBuf::from(prog));
    format!("{} {} {}", c.cc.join(" "), stamp(&path), c.version)
}

pub(super) fn hash(inputs: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(inputs).expect("key inputs serialise");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn relevant(k: &str) -> bool {
    if WHERE_NOT_WHAT.contains(&k) {
        return false;
    }
    [
        "GO",
        "CGO_",
        "CC_FOR_",
        "CXX_FOR_",
        "QEMU_",
        "WINE",
        "PKG_CONFIG",
    ]
    .iter()
    .any(|p| k.starts_with(p))
        || matches!(k, "CC" | "CXX" | "FC" | "AR")
}

/// The C compiler cmd/go would use for `cell`: `CC`, then
/// `CC_FOR_<goos>_<goarch>`, then `CC_FOR_TARGET`, then its default.
pub(super) fn c_compiler(
    cell: &Cell,
    plan_env: &BTreeMap<String, String>,
    inherited: &BTreeMap<String, String>,
) -> String {
    let get = |k: &str| plan_env.get(k).or_else(|| inherited.get(k)).cloned();
    get("CC")
        .or_else(|| get(&format!("CC_FOR_{}_{}", cell.goos, cell.goarch)))
        .or_else(|| get("CC_FOR_TARGET"))
        .filter(|cc| !cc.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "clang"
            } else {
                "gcc"
            }
            .to_string()
        })
}

/// The program that runs the binary, and its version.
pub(super) fn runner_tool(
    r: &Runner,
    tools: &Tools,
    versions: &BTreeMap<String, String>,
) -> String {
    let v = |k: &str| versions.get(k).cloned().unwrap_or_default();
    let at = |p: Option<&PathBuf>| p.map(|p| stamp(p)).unwrap_or_default();
    match r {
        Runner::Native | Runner::None { .. } => String::new(),
        Runner::Qemu { binary, .. } => format!("{} {}", at(tools.qemu.get(binary)), v(binary)),
        Runner::Wine { .. } => tools.wine.as_ref().map_or_else(String::new, |w| {
            let stubs = [&w.stub_x86_64, &w.stub_i686].map(|s| at(s.as_ref()));
            format!(
                "{} {} {} {}",
                stamp(&w.loader64),
                at(w.loader32.as_ref()),
                w.version,
                stubs.join(" ")
            )
        }),
        Runner::Node => format!(
            "{} {} {}",
            at(tools.node.as_ref()),
            v("node"),
            at(tools.wasm_exec_node.as_ref())
        ),
        Runner::Wasi { binary } => {
            let path = tools.wasi.as_ref().map(|w| &w.path);
            format!("{} {}", at(path), v(binary))
        }
    }
}
