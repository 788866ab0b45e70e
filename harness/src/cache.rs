//! The result cache: a cell whose inputs have not changed since a run that
//! recorded it gets that record back instead of a new build and run.
//!
//! A cell's key is a SHA-256 of everything that can change its result:
//! - the rendered sources;
//! - the Go version and the identity of its GOROOT (path, and size and
//!   modification time of `VERSION`, `bin/go` and the compiler, assembler,
//!   linker and cgo tool);
//! - the build's argv and env, the inherited variables Go, cgo, qemu and
//!   wine read (`GO*`, `CGO_*`, `CC*`, `QEMU_*`, `WINE*`, ...; not the ones
//!   that only say where Go keeps things, such as GOCACHE), and Go's own
//!   env file (`go env -w`);
//! - for cgo builds, the C compiler: its path, size, mtime and `--version`;
//! - the runner, the emulator's path and version, and the run's env and
//!   timeout;
//! - the host (OS, architecture, kernel, CPU) and crossprobe itself.
//!
//! The part up to the C compiler is the *build key*: cells that share it
//! share one build.
//!
//! Entries live in `<cache dir>/results/` ([`crate::host::cache_dir`]),
//! one JSON file a key; `rm -rf` that directory clears them, and a file that
//! does not parse is a miss. A hit reuses what the phases observed (the
//! commands, their output, the inspection) and makes the check again, so a
//! change to `expect` needs no rebuild. Not stored: timeouts (they depend on
//! the machine's load), interrupted cells, cells whose build or run could
//! not start, and cells that did not meet their expectation or met it only
//! on a retry: those run again next time.
//!
//! Not seen: an edit inside `GOROOT/src` that leaves those files alone, and
//! a change to a shared library a cgo probe links. `--no-cache` is for those.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::build::{Plan, Step};
use crate::check::{self, Observed};
use crate::fsutil::which;
use crate::host::Tools;
use crate::model::{Cell, CellResult, Command, Lang, Outcome, PhaseName, Runner};
use crate::pipeline::Context;
use crate::process;
use crate::toolchain::cc::Compiler;
use crate::toolchain::go::GoToolchain;

/// Bumped when an entry's meaning changes; older entries become misses.
const FORMAT: u32 = 1;

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
    crossprobe: String,
    host: String,
    /// Go request (`local`) → version and GOROOT identity.
    go: BTreeMap<String, String>,
    inherited: BTreeMap<String, String>,
    go_env_file: String,
    tools: Tools,
    versions: BTreeMap<String, String>,
    /// C compiler command → identity, asked the first time a cell needs it.
    cc: Mutex<BTreeMap<String, String>>,
}

impl Identity {
    pub fn read(ctx: &Context) -> Identity {
        let exe = std::env::current_exe().map_or_else(|_| String::new(), |p| stamp(&p));
        let h = &ctx.host;
        Identity {
            crossprobe: format!("{} {exe}", env!("CARGO_PKG_VERSION")),
            host: format!("{}/{} {} {}", h.goos, h.goarch, h.kernel, h.cpu),
            go: ctx
                .gos
                .iter()
                .map(|(req, g)| (req.clone(), goroot_identity(g)))
                .collect(),
            inherited: std::env::vars().filter(|(k, _)| relevant(k)).collect(),
            go_env_file: go_env_file()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default(),
            tools: ctx.tools.clone(),
            versions: ctx.tools.versions(),
            cc: Mutex::new(BTreeMap::new()),
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
                let mut argv: Vec<&str> = args.to_vec();
                argv.insert(0, prog);
                argv.push("--version");
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
    steps: Vec<Result<StepInputs<'a>, &'a str>>,
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
    timeout: Duration,
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
                Err(why) => Err(why.as_str()),
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
        timeout_ms: timeout.as_millis(),
        sandboxed,
    });
    Keys { build, result }
}

/// A compiler crossprobe chose: its command, the file behind it, and the
/// version it already read (no second `--version`).
fn chosen_cc(c: &Compiler) -> String {
    let Some(prog) = c.cc.first() else {
        return String::new();
    };
    let path = which(prog).unwrap_or_else(|| PathBuf::from(prog));
    format!("{} {} {}", c.cc.join(" "), stamp(&path), c.version)
}

fn hash(inputs: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(inputs).expect("key inputs serialise");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn relevant(k: &str) -> bool {
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
fn c_compiler(
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

/// `go env -w` writes here; the go command reads it on every run.
fn go_env_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOENV") {
        return (!p.is_empty() && p != "off").then(|| PathBuf::from(p));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            Some(if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".config")
            })
        })?;
    Some(config.join("go/env"))
}

fn goroot_identity(g: &GoToolchain) -> String {
    let root = std::fs::canonicalize(&g.goroot).unwrap_or_else(|_| g.goroot.clone());
    let mut files = vec![root.join("VERSION"), root.join("bin/go"), g.go.clone()];
    if let Ok(rd) = std::fs::read_dir(root.join("pkg/tool")) {
        let mut dirs: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
        dirs.sort();
        for d in dirs {
            files.extend(["compile", "asm", "link", "cgo"].map(|t| d.join(t)));
        }
    }
    let stamps: Vec<String> = files.iter().map(|f| stamp(f)).collect();
    format!("{} {} {}", g.version, root.display(), stamps.join(" "))
}

/// A file's path, size and modification time: enough to tell a replaced
/// tool from the same one, without reading it.
fn stamp(p: &Path) -> String {
    let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    match std::fs::metadata(&real) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{mtime}", real.display(), m.len())
        }
        Err(_) => format!("{}:missing", real.display()),
    }
}

/// The program that runs the binary, and its version.
fn runner_tool(r: &Runner, tools: &Tools, versions: &BTreeMap<String, String>) -> String {
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

/// What a run of a cell observed, as stored: enough to judge it again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub format: u32,
    pub key: String,
    /// The result as first recorded; its phases hold the commands.
    pub result: CellResult,
    /// What inspection read from the binary.
    pub inspected: BTreeMap<String, serde_json::Value>,
    /// Why the run was skipped, when it was.
    pub skip: Option<String>,
}

impl Entry {
    /// An entry for `result`, or `None` when it must not be reused: a
    /// timeout or an interrupt (they depend on the moment), something that
    /// could not start, and a cell that did not meet its expectation, or
    /// met it only on a retry. Those run again next time, so that a flaky
    /// failure is never frozen in the cache.
    pub fn of(
        key: &str,
        result: &CellResult,
        inspected: &BTreeMap<String, serde_json::Value>,
        skip: Option<String>,
        spawn_error: bool,
    ) -> Option<Entry> {
        let stable = matches!(
            result.outcome,
            Outcome::Pass | Outcome::BuildFail | Outcome::RunFail | Outcome::Skip
        );
        // A skip for a missing tool runs again once the tool is there.
        let settled = result.verdict.met && result.attempts.is_empty() && result.missing.is_none();
        (stable && settled && !spawn_error).then(|| Entry {
            format: FORMAT,
            key: key.to_string(),
            result: CellResult {
                dir: None,
                ..result.clone()
            },
            inspected: inspected.clone(),
            skip,
        })
    }

    /// The stored observation judged anew for `cell`, which may carry
    /// other expectations than the cell that was run.
    pub fn reuse(&self, cell: &Cell) -> CellResult {
        let first = |name: PhaseName| -> Option<&Command> {
            self.result
                .phases
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.commands.first())
        };
        let builds = self
            .result
            .phases
            .iter()
            .find(|p| p.name == PhaseName::Build)
            .map_or(&[][..], |p| &p.commands[..]);
        let obs = Observed {
            build: builds.last(),
            builds,
            spawn_error: None,
            run: first(PhaseName::Run),
            skip: self.skip.clone(),
            missing: None,
            allow_missing: false,
            interrupted: false,
        };
        let mut result = check::check(cell, &obs, &self.inspected).into_result(
            cell,
            self.inspected.clone(),
            self.result.phases.clone(),
            self.result.duration_ms,
        );
        result.cached = true;
        result
    }
}

/// The entries on disk.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// `<cache dir>/results`.
    pub fn open() -> Store {
        Store::at(crate::host::cache_dir().join("results"))
    }

    pub fn at(dir: PathBuf) -> Store {
        Store { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.json"))
    }

    /// The entry for `key`; `None` when there is none, or it cannot be read.
    /// A hit marks the entry used (its mtime), which is what [`Store::prune`]
    /// goes by.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let text = std::fs::read(&path).ok()?;
        let e: Entry = serde_json::from_slice(&text).ok()?;
        if e.format != FORMAT || e.key != key {
            return None;
        }
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(e)
    }

    /// Removes the entries no run has used for `max_age`: their inputs
    /// have changed since, or the cells left the matrices. Returns how
    /// many went.
    pub fn prune(&self, max_age: Duration) -> usize {
        let now = std::time::SystemTime::now();
        let old = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age))
        };
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for shard in shards.filter_map(|e| Some(e.ok()?.path())) {
            let Ok(entries) = std::fs::read_dir(&shard) else {
                continue;
            };
            for p in entries.filter_map(|e| Some(e.ok()?.path())) {
                if p.extension().is_some_and(|x| x == "json")
                    && old(&p)
                    && std::fs::remove_file(&p).is_ok()
                {
                    removed += 1;
                }
            }
            // Only goes when empty.
            let _ = std::fs::remove_dir(&shard);
        }
        removed
    }

    /// Stores `entry` through a temporary file and a rename, so a reader
    /// never sees half of one.
    pub fn put(&self, entry: &Entry) -> std::io::Result<()> {
        let path = self.path(&entry.key);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        crate::fsutil::write_atomic(&path, &serde_json::to_vec(entry)?)
    }
}

/// How long a build directory or a result nobody used is kept.
pub const MAX_UNUSED_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// True at most once a day per cache: whether this run should prune it.
/// The answer is recorded (a `pruned` file's mtime) as it is given.
pub fn prune_due(root: &Path) -> bool {
    let stamp = root.join("pruned");
    let recent = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .is_ok_and(|t| {
            t.elapsed()
                .is_ok_and(|age| age < Duration::from_secs(24 * 3600))
        });
    if recent {
        return false;
    }
    std::fs::create_dir_all(root).is_ok() && std::fs::write(&stamp, b"").is_ok()
}

/// Removes the build directories under `root` that no run has used for
/// `max_age`, by their lock file's mtime (touched on every use). One in use
/// by another crossprobe is left alone: the lock is held while the
/// directory goes, and the lock file goes last, so a run that comes for the
/// directory meanwhile either waits out the lock (and builds in a temporary
/// directory) or makes the directory anew. Returns how many went.
pub fn prune_builds(root: &Path, max_age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for lock_path in entries.filter_map(|e| Some(e.ok()?.path())) {
        let Some(dir) = lock_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".lock"))
            .map(|n| root.join(n))
        else {
            continue;
        };
        let old = std::fs::metadata(&lock_path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age));
        if !old {
            continue;
        }
        let Ok(Some(held)) = crate::fsutil::Lock::try_exclusive(&lock_path) else {
            continue;
        };
        // Checked again under the lock: another run may have just used it.
        let still_old = std::fs::metadata(&lock_path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age));
        if still_old && (std::fs::remove_dir_all(&dir).is_ok() || !dir.exists()) {
            let _ = std::fs::remove_file(&lock_path);
            removed += 1;
        }
        drop(held);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Plan;

    fn identity() -> Identity {
        Identity {
            crossprobe: "0.1.0".into(),
            host: "linux/amd64 6.1 test".into(),
            go: BTreeMap::from([("local".into(), "go1.26.8 /usr/local/go".into())]),
            inherited: BTreeMap::new(),
            go_env_file: String::new(),
            tools: Tools::default(),
            versions: BTreeMap::new(),
            cc: Mutex::new(BTreeMap::from([("gcc".into(), "gcc 12".into())])),
        }
    }

    fn cell() -> Cell {
        Cell {
            id: "linux/arm64/cgo0/hello".into(),
            goos: "linux".into(),
            goarch: "arm64".into(),
            go: "local".into(),
            cgo: "0".into(),
            runner: Runner::Qemu {
                binary: "qemu-aarch64".into(),
                cpu: None,
            },
            ..Cell::default()
        }
    }

    fn plan() -> Plan {
        Plan {
            steps: vec![Ok(Step {
                name: "build",
                argv: vec!["go".into(), "build".into(), ".".into()],
                env: BTreeMap::from([("GOARCH".into(), "arm64".into())]),
                env_remove: vec![],
            })],
            output: "/dir/probe".into(),
            no_run: None,
            facts: BTreeMap::new(),
            missing_cc: None,
        }
    }

    /// The plan's one step, to change.
    fn step(p: &mut Plan) -> &mut Step {
        p.steps[0].as_mut().unwrap()
    }

    fn sources() -> Vec<(String, String)> {
        vec![("main.go".into(), "package main".into())]
    }

    fn keys_of(id: &Identity, cell: &Cell, plan: &Plan, src: &[(String, String)]) -> Keys {
        keys(id, cell, src, plan, None, Duration::from_secs(60), true)
    }

    /// Each part of the key, changed alone, changes the result key; the
    /// parts that say how a cell runs leave the build key alone.
    #[test]
    fn every_part_of_the_key_counts() {
        let base = keys_of(&identity(), &cell(), &plan(), &sources());
        assert_eq!(base, keys_of(&identity(), &cell(), &plan(), &sources()));

        let mut build_changes: Vec<(&str, Keys)> = Vec::new();
        let mut src = sources();
        src[0].1.push_str("\n// changed");
        build_changes.push(("sources", keys_of(&identity(), &cell(), &plan(), &src)));
        let mut p = plan();
        step(&mut p).argv.insert(2, "-ldflags=-s -w".into());
        build_changes.push(("argv", keys_of(&identity(), &cell(), &p, &sources())));
        let mut p = plan();
        step(&mut p).env.insert("GOARM".into(), "5".into());
        build_changes.push(("env", keys_of(&identity(), &cell(), &p, &sources())));
        let mut id = identity();
        id.go
            .insert("local".into(), "go1.22.12 /usr/local/go".into());
        build_changes.push(("go", keys_of(&id, &cell(), &plan(), &sources())));
        let mut id = identity();
        id.inherited.insert("GOAMD64".into(), "v3".into());
        build_changes.push(("inherited env", keys_of(&id, &cell(), &plan(), &sources())));
        let mut id = identity();
        id.go_env_file = "GOAMD64=v3\n".into();
        build_changes.push(("go env file", keys_of(&id, &cell(), &plan(), &sources())));
        let mut c = cell();
        c.cgo = "1".into();
        let cgo = keys_of(&identity(), &c, &plan(), &sources());
        let id = identity();
        id.cc.lock().unwrap().insert("gcc".into(), "gcc 13".into());
        let newer_gcc = keys_of(&id, &c, &plan(), &sources());
        assert_ne!(cgo.build, newer_gcc.build, "C compiler version");
        // A compiler crossprobe chose: its command and version count.
        let chosen = |version: &str| crate::toolchain::cc::Compiler {
            kind: crate::toolchain::cc::Kind::Gcc,
            cc: vec!["aarch64-linux-gnu-gcc".to_string()],
            cxx: None,
            version: version.to_string(),
            env: BTreeMap::new(),
            ldflags: vec![],
            go_ldflags: vec![],
        };
        let id = identity();
        let with = |version: &str| {
            keys(
                &id,
                &c,
                &sources(),
                &plan(),
                Some(&chosen(version)),
                Duration::from_secs(60),
                true,
            )
        };
        let cross = with("gcc 12 cross");
        assert_ne!(cross.build, cgo.build, "the C compiler chosen");
        assert_ne!(
            with("gcc 13 cross").build,
            cross.build,
            "the chosen compiler's version"
        );
        let mut err = plan();
        err.steps.push(Err("no C compiler for linux/arm64".into()));
        build_changes.push((
            "a step that cannot run",
            keys_of(&identity(), &cell(), &err, &sources()),
        ));
        for (what, k) in &build_changes {
            assert_ne!(k.build, base.build, "{what} must change the build key");
            assert_ne!(k.result, base.result, "{what} must change the result key");
        }

        let mut run_changes: Vec<(&str, Keys)> = Vec::new();
        let mut c = cell();
        c.runner = Runner::Qemu {
            binary: "qemu-aarch64".into(),
            cpu: Some("cortex-a53".into()),
        };
        run_changes.push(("qemu -cpu", keys_of(&identity(), &c, &plan(), &sources())));
        let mut c = cell();
        c.runner = Runner::Native;
        run_changes.push(("runner", keys_of(&identity(), &c, &plan(), &sources())));
        let mut id = identity();
        id.versions.insert("qemu-aarch64".into(), "qemu 9".into());
        run_changes.push((
            "emulator version",
            keys_of(&id, &cell(), &plan(), &sources()),
        ));
        let mut id = identity();
        id.host = "linux/amd64 6.2 test".into();
        run_changes.push(("host", keys_of(&id, &cell(), &plan(), &sources())));
        let mut id = identity();
        id.crossprobe = "0.2.0".into();
        run_changes.push(("crossprobe", keys_of(&id, &cell(), &plan(), &sources())));
        run_changes.push((
            "timeout",
            keys(
                &identity(),
                &cell(),
                &sources(),
                &plan(),
                None,
                Duration::from_secs(5),
                true,
            ),
        ));
        run_changes.push((
            "sandbox",
            keys(
                &identity(),
                &cell(),
                &sources(),
                &plan(),
                None,
                Duration::from_secs(60),
                false,
            ),
        ));
        for (what, k) in &run_changes {
            assert_eq!(k.build, base.build, "{what} must not change the build");
            assert_ne!(k.result, base.result, "{what} must change the result key");
        }
    }

    fn result(outcome: Outcome) -> CellResult {
        CellResult {
            cell: cell(),
            outcome,
            reason: None,
            verdict: crate::model::Verdict {
                met: true,
                message: String::new(),
            },
            facts: BTreeMap::new(),
            phases: vec![],
            duration_ms: 5,
            dir: Some("/tmp/x".into()),
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            missing: None,
        }
    }

    #[test]
    fn what_is_stored_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().to_path_buf());
        let none = BTreeMap::new();
        for o in [Outcome::Timeout, Outcome::Interrupted] {
            assert!(
                Entry::of("k", &result(o), &none, None, false).is_none(),
                "{o}"
            );
        }
        assert!(Entry::of("k", &result(Outcome::RunFail), &none, None, true).is_none());
        let mut unmet = result(Outcome::RunFail);
        unmet.verdict.met = false;
        assert!(Entry::of("k", &unmet, &none, None, false).is_none());
        assert!(Entry::of("k", &result(Outcome::RunFail), &none, None, false).is_some());

        let key = "ab".repeat(32);
        let e = Entry::of(
            &key,
            &result(Outcome::Skip),
            &none,
            Some("no runner".into()),
            false,
        )
        .unwrap();
        assert_eq!(
            e.result.dir, None,
            "a build directory is not part of a result"
        );
        store.put(&e).unwrap();
        let back = store.get(&key).unwrap();
        let r = back.reuse(&cell());
        assert!(r.cached);
        assert_eq!(r.outcome, Outcome::Skip);
        assert_eq!(r.reason.as_deref(), Some("no runner"));

        // A damaged entry, or one filed under another key, is a miss.
        std::fs::write(store.path(&key), "{\"format\": 1, \"key\":").unwrap();
        assert!(store.get(&key).is_none());
        let other = "cd".repeat(32);
        store
            .put(&Entry {
                key: other.clone(),
                ..e.clone()
            })
            .unwrap();
        std::fs::rename(store.path(&other), store.path(&key)).unwrap();
        assert!(store.get(&key).is_none());
    }

    #[test]
    fn plan_overrides_hide_inherited_variables() {
        // The plan sets GOFLAGS to "", so the user's GOFLAGS cannot matter.
        let mut id = identity();
        id.inherited.insert("GOFLAGS".into(), "-race".into());
        let mut p = plan();
        step(&mut p).env.insert("GOFLAGS".into(), String::new());
        assert_eq!(
            keys_of(&id, &cell(), &p, &sources()),
            keys_of(&identity(), &cell(), &p, &sources())
        );
    }

    #[test]
    fn which_variables_count() {
        for k in [
            "GOAMD64",
            "GOFLAGS",
            "CGO_CFLAGS",
            "CC",
            "CC_FOR_linux_arm",
            "QEMU_CPU",
            "WINEARCH",
            "GODEBUG",
        ] {
            assert!(relevant(k), "{k}");
        }
        for k in ["GOCACHE", "GOPATH", "HOME", "PATH", "TERM", "COLUMNS"] {
            assert!(!relevant(k), "{k}");
        }
    }

    #[test]
    fn the_c_compiler_is_found_as_cmd_go_finds_it() {
        let c = cell();
        let none = BTreeMap::new();
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let default = if cfg!(target_os = "macos") {
            "clang"
        } else {
            "gcc"
        };
        assert_eq!(c_compiler(&c, &none, &none), default);
        let inh = env(&[
            ("CC_FOR_linux_arm64", "aarch64-linux-gnu-gcc"),
            ("CC_FOR_TARGET", "x"),
        ]);
        assert_eq!(c_compiler(&c, &none, &inh), "aarch64-linux-gnu-gcc");
        assert_eq!(
            c_compiler(
                &c,
                &env(&[("CC", "zig cc -target aarch64-linux-musl")]),
                &inh
            ),
            "zig cc -target aarch64-linux-musl"
        );
    }

    #[test]
    fn unused_build_directories_are_pruned() {
        use crate::fsutil::Lock;
        let root = tempfile::tempdir().unwrap();
        let lock_of = |dir: &Path| {
            let name = dir.file_name().unwrap().to_str().unwrap();
            dir.with_file_name(format!("{name}.lock"))
        };
        let make = |name: &str, age_days: u64| {
            let dir = root.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("probe"), "binary").unwrap();
            let f = std::fs::File::create(lock_of(&dir)).unwrap();
            let t = std::time::SystemTime::now() - Duration::from_secs(age_days * 24 * 3600);
            f.set_modified(t).unwrap();
            dir
        };
        let old = make("linux_arm_go1.22_hello-0123456789abcdef", 30);
        let fresh = make("linux_arm64_go1.22_hello-0123456789abcdef", 1);
        let busy = make("linux_386_cgo0_hello-0123456789abcdef", 30);
        let held = Lock::exclusive(&lock_of(&busy)).unwrap();
        assert_eq!(prune_builds(root.path(), MAX_UNUSED_AGE), 1);
        assert!(!old.exists() && !lock_of(&old).exists());
        assert!(fresh.join("probe").is_file(), "used a day ago");
        assert!(busy.join("probe").is_file(), "in use by another run");
        drop(held);
        assert_eq!(prune_builds(root.path(), MAX_UNUSED_AGE), 1);
        assert!(!busy.exists());
        assert_eq!(
            prune_builds(&root.path().join("missing"), MAX_UNUSED_AGE),
            0
        );
    }

    #[test]
    fn pruning_is_due_once_a_day() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("crossprobe");
        assert!(prune_due(&cache), "never pruned");
        assert!(!prune_due(&cache), "pruned a moment ago");
        let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
        std::fs::File::options()
            .append(true)
            .open(cache.join("pruned"))
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        assert!(prune_due(&cache), "pruned two days ago");
    }

    #[test]
    fn unused_results_are_pruned_and_a_hit_counts_as_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().to_path_buf());
        let key = |c: char| c.to_string().repeat(64);
        for c in ['a', 'b'] {
            let mut e = Entry::of(
                &key(c),
                &result(Outcome::Pass),
                &BTreeMap::new(),
                None,
                false,
            )
            .unwrap();
            e.key = key(c);
            store.put(&e).unwrap();
            let month_ago = std::time::SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
            std::fs::File::options()
                .append(true)
                .open(store.path(&key(c)))
                .unwrap()
                .set_modified(month_ago)
                .unwrap();
        }
        assert!(store.get(&key('a')).is_some(), "a hit on a");
        assert_eq!(store.prune(MAX_UNUSED_AGE), 1);
        assert!(store.get(&key('a')).is_some(), "used, so kept");
        assert!(store.get(&key('b')).is_none(), "unused for a month");
        assert!(!dir.path().join("bb").exists(), "its empty shard went too");
    }
}
