//! `crossprobe exec BINARY ARGS...`: one binary of any target, run the way
//! a cell's binary would be, for `go test -exec` and for the
//! `go_GOOS_GOARCH_exec` wrappers that cmd/go looks for on PATH.
//!
//! The target comes from the binary itself ([`crate::inspect`]); the runner,
//! its set-up and its command line are the run phase's own ([`super::choose`],
//! [`super::warm_up`], [`super::invocation_in`]). What differs from a cell's
//! run is only the plumbing: the working directory and stdio are the
//! caller's, and the exit status is passed through
//! ([`crate::process::passthrough`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::host::{self, Host, Tools};
use crate::inspect::{self, Inspection};
use crate::model::Runner;

/// A failure of `crossprobe exec` itself, before the binary ran.
#[derive(Debug, PartialEq, Eq)]
pub struct ExecError {
    pub message: String,
    pub help: Option<String>,
}

impl ExecError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> ExecError {
        ExecError {
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// What a binary was built for, and the GOARCH levels (GOARM, GOPPC64...)
/// that pick a qemu CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub goos: String,
    pub goarch: String,
    pub env: BTreeMap<String, String>,
    /// The Go that built it (`go1.22.12`), when it says.
    pub go_version: Option<String>,
}

/// The `go_GOOS_GOARCH_exec` name cmd/go looks up for a target.
pub fn wrapper_name(goos: &str, goarch: &str) -> String {
    format!("go_{goos}_{goarch}_exec")
}

/// The target a program name such as `go_js_wasm_exec` stands for.
pub fn wrapper_target(argv0: &str) -> Option<(String, String)> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    let (goos, goarch) = name
        .strip_prefix("go_")?
        .strip_suffix("_exec")?
        .split_once('_')?;
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (word(goos) && word(goarch)).then(|| (goos.to_string(), goarch.to_string()))
}

/// Reads the target from the binary's Go build info, else from its headers.
/// `env` is the caller's environment: its GO* levels count where the binary
/// does not record its own (a C program), and `GOOS` tells an ELF's OS.
pub fn identify(binary: &Path, env: &BTreeMap<String, String>) -> Result<Target, ExecError> {
    let insp = inspect::inspect_file(binary).map_err(|e| {
        let text = e.to_string();
        let (message, help) = text.split_once("\nhint: ").unwrap_or((&text, ""));
        let help = match help {
            "" => "pass the path of a built binary: `go build -o` or `go test -c` writes one",
            h => h,
        };
        ExecError::new(message, help)
    })?;
    target_of(&insp, env).ok_or_else(|| {
        let format = fact(&insp, "binary.format").unwrap_or("unknown");
        let arch = fact(&insp, "binary.arch").unwrap_or("unknown");
        ExecError::new(
            format!(
                "{}: cannot tell which GOOS/GOARCH a {format} binary for {arch} is for",
                binary.display()
            ),
            "crossprobe exec runs binaries of the targets Go builds for; \
             `crossprobe inspect` shows what it read",
        )
    })
}

fn fact<'a>(insp: &'a Inspection, key: &str) -> Option<&'a str> {
    insp.facts.get(key).and_then(|v| v.as_str())
}

fn target_of(insp: &Inspection, env: &BTreeMap<String, String>) -> Option<Target> {
    let mut levels: BTreeMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("GO"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The binary's own record wins over the caller's environment.
    for (k, v) in &insp.facts {
        if let (Some(name), Some(v)) = (k.strip_prefix("buildinfo.GO"), v.as_str()) {
            levels.insert(format!("GO{name}"), v.to_string());
        }
    }
    let from_headers = || -> Option<(String, String)> {
        let arch = fact(insp, "binary.arch")?.to_string();
        let goos = match fact(insp, "binary.format")? {
            "pe" => "windows".to_string(),
            "macho" => "darwin".to_string(),
            // An ELF does not reliably say its OS (Go writes OSABI 0 for
            // most); the caller's GOOS may, else Linux.
            "elf" => env
                .get("GOOS")
                .filter(|g| !["windows", "darwin", "ios", "js", "wasip1"].contains(&g.as_str()))
                .cloned()
                .unwrap_or_else(|| "linux".to_string()),
            "wasm" => {
                let imports = insp.facts.get("wasm.imports_modules")?.as_array()?;
                let has = |m: &str| imports.iter().any(|i| i.as_str() == Some(m));
                if has("gojs") {
                    "js".to_string()
                } else if has("wasi_snapshot_preview1") {
                    "wasip1".to_string()
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some((goos, arch))
    };
    let (goos, goarch) = match (fact(insp, "buildinfo.GOOS"), fact(insp, "buildinfo.GOARCH")) {
        (Some(os), Some(arch)) => (os.to_string(), arch.to_string()),
        _ => from_headers()?,
    };
    levels.insert("GOOS".to_string(), goos.clone());
    levels.insert("GOARCH".to_string(), goarch.clone());
    Some(Target {
        goos,
        goarch,
        env: levels,
        go_version: fact(insp, "buildinfo.go_version").map(str::to_string),
    })
}

/// The runner crossprobe would give `target`, chosen as for a cell and set
/// up (wine's prefix and its stub).
pub fn ready(
    target: &Target,
    host: &Host,
    tools: &Tools,
    users: &super::WineUsers,
) -> Result<Runner, ExecError> {
    let runner = super::choose(&target.goos, &target.goarch, &target.env, host, tools);
    if let Runner::None { reason, .. } = &runner {
        return Err(ExecError::new(
            format!("cannot run a {}/{} binary here: {reason}", target.goos, target.goarch),
            "`crossprobe doctor` lists the runners this machine has, and how to get the missing ones",
        ));
    }
    super::warm_up(&runner, tools, users).map_err(|e| {
        ExecError::new(
            format!("cannot set up {}: {e}", runner.name()),
            "`crossprobe doctor --fix` sets the runners up again",
        )
    })?;
    Ok(runner)
}

/// Set (non-empty, not `0`) to run `crossprobe exec`'s binaries
/// unsandboxed: the wrappers cmd/go calls take no flags of their own.
pub const NO_SANDBOX: &str = "CROSSPROBE_NO_SANDBOX";

/// Runs `binary` with `args` under the runner its target gets, in the
/// current directory, with the caller's stdio, inside the sandbox a cell's
/// probe gets (unless `no_sandbox`, or [`NO_SANDBOX`] is set), and returns
/// its exit status (128 + n for a signal).
pub fn exec(binary: &Path, args: &[String], no_sandbox: bool) -> Result<i32, ExecError> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let target = identify(binary, &env)?;
    // cmd/go sets GOROOT for what it runs: the Go that built the binary,
    // whose wasm_exec_node.js matches its syscall/js imports.
    let goroot = env
        .get("GOROOT")
        .filter(|g| !g.is_empty())
        .map(PathBuf::from);
    let tools = host::discover_for(goroot.as_deref(), &target.goos, &target.goarch);
    if target.goos == "js" {
        if let Some(w) = wasm_exec_mismatch(&target, &tools) {
            eprintln!("crossprobe exec: warning: {w}");
        }
    }
    let host = host::detect();
    let cwd = std::env::current_dir().map_err(|e| {
        ExecError::new(
            format!("cannot read the current directory: {e}"),
            "run crossprobe exec from a directory that exists",
        )
    })?;
    let off = env
        .get(NO_SANDBOX)
        .is_some_and(|v| !v.is_empty() && v != "0");
    let sandbox = super::Sandbox::for_run(no_sandbox || off);
    let binary = std::path::absolute(binary).unwrap_or_else(|_| binary.to_path_buf());
    // Held until the binary has exited: the jail's server (under the
    // sandbox) sees what the binary's own sandbox does, or, without it,
    // another crossprobe's cool_down leaves the shared server alone.
    let mut writable = vec![cwd.clone()];
    writable.extend(super::sandbox::test_output_dirs(args, &cwd));
    let readable = binary.parent().map(Path::to_path_buf).into_iter().collect();
    let users = super::WineUsers::jailed(&sandbox, readable, writable);
    let runner = ready(&target, &host, &tools, &users)?;
    let mut inv = super::invocation_in(&runner, &binary, args, &tools, cwd)
        .map_err(|e| ExecError::new(e.to_string(), "`crossprobe doctor` checks the runners"))?;
    if let Runner::Wine { .. } = runner {
        super::in_jail(&mut inv, &users);
    }
    let inv = sandbox.wrap_exec(inv, &binary, &runner, &tools);
    let p = crate::process::Passthrough {
        wrapped: sandbox.enabled(),
        argv: inv.argv,
        env: inv.env,
        cwd: inv.cwd,
    };
    let status = crate::process::passthrough(&p).map_err(|e| {
        ExecError::new(
            e.to_string(),
            "`crossprobe doctor` checks the runners crossprobe exec uses",
        )
    });
    // The jail's server is this binary's alone.
    if users.prefix().is_some() {
        let _ = super::cool_down(&tools, &users);
    }
    status
}

/// Says so when the binary's Go and the one whose wasm_exec_node.js runs
/// it are different releases: syscall/js changes between them, and the
/// failure that follows is obscure ("Go program has already exited", an
/// import that is not a function).
fn wasm_exec_mismatch(target: &Target, tools: &Tools) -> Option<String> {
    let built = target.go_version.as_deref()?;
    let exec = tools.wasm_exec_node.as_deref()?;
    // GOROOT/lib/wasm/wasm_exec_node.js (misc/wasm before Go 1.24).
    let root = exec.parent()?.parent()?.parent()?;
    let version = std::fs::read_to_string(root.join("VERSION")).ok()?;
    let runs = version.lines().next()?.trim();
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    (minor(built) != minor(runs)).then(|| {
        format!(
            "the binary was built by {built}, and {} is {runs}'s; \
             set GOROOT to the Go that built it",
            exec.display()
        )
    })
}

/// One wrapper written by [`install`].
#[derive(Debug, PartialEq, Eq)]
pub struct Installed {
    pub path: PathBuf,
    pub target: String,
    pub runner: String,
}

/// Writes a `go_GOOS_GOARCH_exec` symlink to `exe` in `dir` for every
/// target of `targets` that this machine can run, other than the host's own
/// (cmd/go never looks for that one). A file there that is not such a
/// symlink is left alone, and is an error; every name is checked before
/// any is written, so a refused install writes no wrapper at all.
pub fn install(
    dir: &Path,
    exe: &Path,
    targets: &[(String, String)],
    host: &Host,
    tools: &Tools,
) -> Result<Vec<Installed>, ExecError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        ExecError::new(
            format!("cannot create {}: {e}", dir.display()),
            "pass a directory you can write to",
        )
    })?;
    let mut todo = Vec::new();
    for (goos, goarch) in targets {
        if *goos == host.goos && *goarch == host.goarch {
            continue;
        }
        let runner = super::choose(goos, goarch, &BTreeMap::new(), host, tools);
        if matches!(runner, Runner::None { .. }) {
            continue;
        }
        let path = dir.join(wrapper_name(goos, goarch));
        not_foreign(&path)?;
        todo.push(Installed {
            path,
            target: format!("{goos}/{goarch}"),
            runner: runner.name().to_string(),
        });
    }
    for i in &todo {
        link(exe, &i.path)?;
    }
    Ok(todo)
}

/// Nothing at `path`, or an earlier wrapper: what [`link`] may replace.
fn not_foreign(path: &Path) -> Result<(), ExecError> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let ours = meta.file_type().is_symlink()
            && std::fs::read_link(path).is_ok_and(|t| is_crossprobe(&t));
        if !ours {
            return Err(ExecError::new(
                format!("{} exists and is not a crossprobe wrapper", path.display()),
                "remove it, or install the wrappers into another directory",
            ));
        }
    }
    Ok(())
}

/// Points `path` at `exe`, replacing an earlier wrapper atomically.
fn link(exe: &Path, path: &Path) -> Result<(), ExecError> {
    let tmp = path.with_extension("crossprobe-tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(exe, &tmp)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            ExecError::new(
                format!("cannot write {}: {e}", path.display()),
                "pass a directory you can write to",
            )
        })
}

fn is_crossprobe(target: &Path) -> bool {
    target
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("crossprobe"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_names_round_trip() {
        assert_eq!(wrapper_name("js", "wasm"), "go_js_wasm_exec");
        assert_eq!(
            wrapper_target("/usr/local/bin/go_windows_amd64_exec"),
            Some(("windows".into(), "amd64".into()))
        );
        assert_eq!(wrapper_target("crossprobe"), None);
        assert_eq!(wrapper_target("go_js_exec"), None);
        assert_eq!(wrapper_target("go__wasm_exec"), None);
    }

    fn insp(facts: &[(&str, serde_json::Value)]) -> Inspection {
        Inspection {
            facts: facts
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_wasm_exec_of_another_release_is_named() {
        let root = tempfile::tempdir().unwrap();
        let exec = root.path().join("lib/wasm/wasm_exec_node.js");
        std::fs::create_dir_all(exec.parent().unwrap()).unwrap();
        std::fs::write(&exec, "").unwrap();
        std::fs::write(root.path().join("VERSION"), "go1.26.8\ntime x\n").unwrap();
        let tools = Tools {
            wasm_exec_node: Some(exec.clone()),
            ..Tools::default()
        };
        let target = |v: &str| Target {
            goos: "js".into(),
            goarch: "wasm".into(),
            env: BTreeMap::new(),
            go_version: Some(v.into()),
        };
        assert_eq!(wasm_exec_mismatch(&target("go1.26.2"), &tools), None);
        let w = wasm_exec_mismatch(&target("go1.24.3"), &tools).unwrap();
        assert_eq!(
            w,
            format!(
                "the binary was built by go1.24.3, and {} is go1.26.8's; \
                 set GOROOT to the Go that built it",
                exec.display()
            )
        );
    }

    #[test]
    fn the_binary_says_its_target() {
        let env: BTreeMap<String, String> = [("GOOS", "windows"), ("GOPPC64", "power8")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let go = insp(&[
            ("buildinfo.GOOS", "linux".into()),
            ("buildinfo.GOARCH", "ppc64le".into()),
            ("buildinfo.GOPPC64", "power10".into()),
        ]);
        let t = target_of(&go, &env).unwrap();
        assert_eq!((t.goos.as_str(), t.goarch.as_str()), ("linux", "ppc64le"));
        assert_eq!(t.env["GOPPC64"], "power10");

        let c = insp(&[
            ("binary.format", "elf".into()),
            ("binary.arch", "arm64".into()),
        ]);
        assert_eq!(target_of(&c, &env).unwrap().goos, "linux");
        let wasi = insp(&[
            ("binary.format", "wasm".into()),
            ("binary.arch", "wasm".into()),
            (
                "wasm.imports_modules",
                serde_json::json!(["wasi_snapshot_preview1"]),
            ),
        ]);
        assert_eq!(target_of(&wasi, &env).unwrap().goos, "wasip1");
        let odd = insp(&[
            ("binary.format", "wasm".into()),
            ("binary.arch", "wasm".into()),
        ]);
        assert_eq!(target_of(&odd, &env), None);
    }
}
