//! `crossprobe doctor --fix`: runs the set-up steps that fix what the
//! checks found, as scripts/setup would, or prints the exact commands when
//! it cannot (no root and no password-less sudo, no package manager).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::{Finding, Level};
use crate::host::install::{is_root, stub_path, Action, Manager, ROOT_BIN, ZIG_LINK, ZIG_VENV};
use crate::host::{self, Tools};
use crate::model::Runner;
use crate::{process, run};

/// What `--fix` did, step by step: the command, then how it went.
pub struct Applied {
    pub steps: Vec<(String, Result<(), FixFailed>)>,
    /// Fixes only a person can make.
    pub manual: Vec<String>,
}

/// Why a fix did not take: the installer's or the command's own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FixFailed(pub String);

/// Runs the fixes of every finding that is not OK: one package install per
/// manager, then the rest in order.
pub fn apply(findings: &[Finding]) -> Applied {
    let mut applied = Applied {
        steps: Vec::new(),
        manual: Vec::new(),
    };
    let mut packages: BTreeMap<&'static str, (Manager, Vec<String>)> = BTreeMap::new();
    let mut rest = Vec::new();
    for f in findings.iter().filter(|f| f.level != Level::Ok) {
        match &f.action {
            Some(Action::Packages {
                manager,
                packages: p,
            }) => {
                let key = if *manager == Manager::Apt {
                    "apt"
                } else {
                    "brew"
                };
                let e = packages.entry(key).or_insert((*manager, Vec::new()));
                for pkg in p {
                    if !e.1.contains(pkg) {
                        e.1.push(pkg.clone());
                    }
                }
            }
            Some(Action::Manual(text)) => applied.manual.push(format!("{}: {text}", f.name)),
            Some(a) => rest.push(a.clone()),
            None => {}
        }
    }
    for (_, (manager, pkgs)) in packages {
        let a = Action::Packages {
            manager,
            packages: pkgs,
        };
        let r = run_packages(manager, &a);
        applied.steps.push((a.command(), r.map_err(FixFailed)));
    }
    // Packages first: the stub needs mingw, the prefix needs wine.
    let tools = host::discover(None);
    for a in rest {
        let r = match &a {
            Action::Run(argv) => run_user(argv),
            Action::WinePrefix => wine_prefix(&tools),
            Action::PrngStub { arch } => prng_stub(arch),
            Action::Zig => zig(),
            Action::Packages { .. } | Action::Manual(_) => Ok(()),
        };
        applied.steps.push((a.command(), r.map_err(FixFailed)));
    }
    applied
}

/// The argv prefix that gives root, or why there is none.
fn as_root() -> Result<Vec<String>, String> {
    if is_root() {
        return Ok(Vec::new());
    }
    if crate::fsutil::which("sudo").is_some()
        && run_argv(
            &["sudo".into(), "-n".into(), "true".into()],
            Duration::from_secs(10),
        )
        .is_ok()
    {
        return Ok(vec!["sudo".into(), "-n".into()]);
    }
    Err("needs root: run it with sudo yourself".into())
}

fn run_packages(manager: Manager, a: &Action) -> Result<(), String> {
    let Action::Packages { packages, .. } = a else {
        unreachable!("only packages")
    };
    match manager {
        Manager::Apt => {
            let root = as_root()?;
            let with = |args: &[&str]| {
                let mut v = root.clone();
                v.extend(args.iter().map(|s| s.to_string()));
                v
            };
            // Another apt (unattended-upgrades on a fresh Ubuntu runner)
            // may hold dpkg's lock for a while: wait for it.
            let lock = "DPkg::Lock::Timeout=300";
            run_argv(
                &with(&["apt-get", "-o", lock, "update", "-qq"]),
                Duration::from_secs(900),
            )?;
            let mut argv = with(&[
                "apt-get",
                "-o",
                lock,
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
            ]);
            argv.extend(packages.iter().cloned());
            run_argv(&argv, Duration::from_secs(1800))
        }
        Manager::Brew => {
            let mut argv = vec!["brew".to_string(), "install".to_string()];
            argv.extend(packages.iter().cloned());
            run_argv(&argv, Duration::from_secs(1800))
        }
    }
}

fn run_argv(argv: &[String], timeout: Duration) -> Result<(), String> {
    let logs =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut env = BTreeMap::new();
    // apt must never stop to ask.
    env.insert("DEBIAN_FRONTEND".to_string(), "noninteractive".to_string());
    let spec = process::Spec {
        argv: argv.to_vec(),
        env,
        env_remove: Vec::new(),
        cwd: None,
        timeout,
        log_dir: logs.path().to_path_buf(),
        log_name: "fix".into(),
        cap: 16 * 1024,
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let c = process::run(&spec).map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    if c.exit.success() {
        return Ok(());
    }
    let err = c.stderr.text.trim();
    let last = err.lines().last().unwrap_or("");
    Err(format!(
        "{}{}",
        c.exit,
        if last.is_empty() {
            String::new()
        } else {
            format!(": {last}")
        }
    ))
}

fn wine_prefix(tools: &Tools) -> Result<(), String> {
    let w = tools.wine.as_ref().ok_or("wine is not installed")?;
    let runner = Runner::Wine {
        binary: w.loader64.display().to_string(),
    };
    let users = run::WineUsers::default();
    let r = run::warm_up(&runner, tools, &users);
    // warm_up leaves a lingering wineserver for the cells that follow; a
    // doctor has none.
    let _ = run::cool_down(tools, &users);
    r.map_err(|e| e.to_string())
}

fn prng_stub(arch: &str) -> Result<(), String> {
    let src = crate::templates::support_file("wine/bcryptprimitives.c")
        .ok_or("the stub's source is not in this build")?;
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let c = dir.path().join("bcryptprimitives.c");
    let built = dir.path().join("bcryptprimitives.dll");
    std::fs::write(&c, src).map_err(|e| format!("cannot write {}: {e}", c.display()))?;
    let s = |p: &Path| p.display().to_string();
    run_argv(
        &[
            format!("{arch}-w64-mingw32-gcc"),
            "-shared".into(),
            "-O2".into(),
            "-s".into(),
            "-o".into(),
            s(&built),
            s(&c),
        ],
        Duration::from_secs(120),
    )?;
    let out = stub_path(arch);
    let mut argv = as_root()?;
    argv.extend([
        "install".to_string(),
        "-D".into(),
        "-m".into(),
        "0644".into(),
        s(&built),
        s(&out),
    ]);
    run_argv(&argv, Duration::from_secs(30))
}

/// A command of this user's: `go install` puts what it builds in GOBIN, or
/// GOPATH's bin, which need not be on PATH; as root, where the other
/// fixes put their programs.
fn run_user(argv: &[String]) -> Result<(), String> {
    let go_install = argv.first().is_some_and(|a| a == "go")
        && argv.get(1).is_some_and(|a| a == "install")
        && std::env::var_os("GOBIN").is_none_or(|g| g.is_empty());
    if go_install && is_root() {
        let mut with = vec!["env".to_string(), format!("GOBIN={ROOT_BIN}")];
        with.extend(argv.iter().cloned());
        return run_argv(&with, Duration::from_secs(600));
    }
    run_argv(argv, Duration::from_secs(600))
}

/// zig from PyPI: Debian packages none, and its Python refuses packages
/// outside a virtualenv (PEP 668). The venv needs python3-venv, which
/// brings python3 where an image has none (golang's).
fn zig() -> Result<(), String> {
    let root = as_root()?;
    let with = |args: &[&str]| {
        let mut v = root.clone();
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let has_venv = run_argv(
        &[
            "python3".into(),
            "-c".into(),
            "import venv, ensurepip".into(),
        ],
        Duration::from_secs(30),
    )
    .is_ok();
    if !has_venv && Manager::for_os(host::goos()) == Some(Manager::Apt) {
        let a = Action::Packages {
            manager: Manager::Apt,
            packages: vec!["python3-venv".into()],
        };
        run_packages(Manager::Apt, &a)?;
    }
    let python = format!("{ZIG_VENV}/bin/python3");
    if !Path::new(&python).is_file() {
        run_argv(
            &with(&["python3", "-m", "venv", ZIG_VENV]),
            Duration::from_secs(120),
        )?;
    }
    run_argv(
        &with(&[
            &python,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "ziglang",
        ]),
        Duration::from_secs(600),
    )?;
    let dir = process::query(
        &[
            &python,
            "-c",
            "import os, ziglang; print(os.path.dirname(ziglang.__file__))",
        ],
        &BTreeMap::new(),
        Duration::from_secs(30),
    )
    .map_err(|e| e.to_string())?;
    let zig = Path::new(dir.trim()).join("zig");
    run_argv(
        &with(&["ln", "-sf", &zig.display().to_string(), ZIG_LINK]),
        Duration::from_secs(10),
    )
}
