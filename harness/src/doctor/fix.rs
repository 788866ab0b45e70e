//! `crossprobe doctor --fix`: runs the set-up steps that fix what the
//! checks found, as scripts/setup would, or prints the exact commands when
//! it cannot (no root and no password-less sudo, no package manager).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Finding, Level};
use crate::host::{self, Tools};
use crate::model::Runner;
use crate::{process, render, run};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Brew,
}

impl Manager {
    /// The package manager of this machine, if crossprobe knows it.
    pub fn detect() -> Option<Manager> {
        if cfg!(target_os = "linux") && crate::fsutil::which("apt-get").is_some() {
            Some(Manager::Apt)
        } else if cfg!(target_os = "macos") && crate::fsutil::which("brew").is_some() {
            Some(Manager::Brew)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub enum Action {
    Packages {
        manager: Manager,
        packages: Vec<String>,
    },
    /// A command this user runs, e.g. `go install`.
    Run(Vec<String>),
    /// crossprobe's wine prefix, made by the run phase's own warm-up.
    WinePrefix,
    /// The wine ProcessPrng stub, built from the shipped source.
    PrngStub { arch: &'static str },
    /// Only a person can do it; the text says what.
    Manual(String),
}

/// Packages by manager; a manual step where this machine has neither.
pub fn install(apt: &[&str], brew: &[&str], otherwise: &str) -> Action {
    let pick = |m: Manager, p: &[&str]| Action::Packages {
        manager: m,
        packages: p.iter().map(|s| s.to_string()).collect(),
    };
    match Manager::detect() {
        Some(Manager::Apt) if !apt.is_empty() => pick(Manager::Apt, apt),
        Some(Manager::Brew) if !brew.is_empty() => pick(Manager::Brew, brew),
        _ => Action::Manual(otherwise.to_string()),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    cfg!(unix) && unsafe { libc::geteuid() } == 0
}

/// `sudo ` when root is needed and we are not root.
fn sudo() -> &'static str {
    if is_root() {
        ""
    } else {
        "sudo "
    }
}

pub fn stub_path(arch: &str) -> PathBuf {
    Path::new(host::SHARE_DIR)
        .join("wine")
        .join(arch)
        .join("bcryptprimitives.dll")
}

impl Action {
    /// The exact command for a person.
    pub fn command(&self) -> String {
        match self {
            Action::Packages {
                manager: Manager::Apt,
                packages,
            } => {
                format!(
                    "{}apt-get install -y --no-install-recommends {}",
                    sudo(),
                    packages.join(" ")
                )
            }
            Action::Packages {
                manager: Manager::Brew,
                packages,
            } => format!("brew install {}", packages.join(" ")),
            Action::Run(argv) => argv.join(" "),
            Action::WinePrefix => {
                "crossprobe doctor --fix (runs `wineboot --init` in crossprobe's own prefix, ~20 s)"
                    .into()
            }
            Action::PrngStub { arch } => {
                // The stub's source is embedded in the binary; a user who
                // installed with cargo has no checkout to name a path in.
                format!(
                    "crossprobe doctor --fix (builds the ProcessPrng stub it ships with {arch}-w64-mingw32-gcc into {})",
                    stub_path(arch).display()
                )
            }
            Action::Manual(text) => text.clone(),
        }
    }

    /// Whether `--fix` can try it.
    pub fn automatic(&self) -> bool {
        !matches!(self, Action::Manual(_))
    }
}

/// What `--fix` did, step by step: the command, then how it went.
pub struct Applied {
    pub steps: Vec<(String, Result<(), String>)>,
    /// Fixes only a person can make.
    pub manual: Vec<String>,
}

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
        applied.steps.push((a.command(), r));
    }
    // Packages first: the stub needs mingw, the prefix needs wine.
    let tools = host::discover(None);
    for a in rest {
        let r = match &a {
            Action::Run(argv) => run_argv(argv, Duration::from_secs(600)),
            Action::WinePrefix => wine_prefix(&tools),
            Action::PrngStub { arch } => prng_stub(arch),
            Action::Packages { .. } | Action::Manual(_) => Ok(()),
        };
        applied.steps.push((a.command(), r));
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
            run_argv(
                &with(&["apt-get", "update", "-qq"]),
                Duration::from_secs(600),
            )?;
            let mut argv = with(&["apt-get", "install", "-y", "-qq", "--no-install-recommends"]);
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
    r
}

fn prng_stub(arch: &str) -> Result<(), String> {
    let src = render::catalog::support_file("wine/bcryptprimitives.c")
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
