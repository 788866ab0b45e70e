//! The checks of what runs the cells' binaries: emulators and runtimes
//! for each target, wine's set-up, binfmt_misc, and the sandbox.

use std::collections::BTreeMap;
use std::path::Path;

use super::{split_target, Finding, Group, Level, Needs};
use crate::host::install::{self, Action};
use crate::host::{Host, Tools};
use crate::model::Runner;
use crate::run;

pub fn emulators(needs: &Needs, host: &Host, tools: &Tools) -> Vec<Finding> {
    let g = Group::Emulators;
    let versions = tools.versions();
    let mut found: BTreeMap<String, Finding> = BTreeMap::new();
    // A missing tool: how to get it, the targets it would run, their cells.
    let mut missing: BTreeMap<String, (Action, Vec<&str>, usize)> = BTreeMap::new();
    let mut windows_cells = 0;
    for (target, need) in &needs.targets {
        let (goos, goarch) = split_target(target);
        if goos == "windows" {
            windows_cells += need.cells.max(usize::from(!needs.from_matrices));
        }
        match run::choose(goos, goarch, &BTreeMap::new(), host, tools) {
            Runner::Native => {}
            // The run's own choice says which tool would help (host::install):
            // none for a structural skip (qemu-i386 crashes Go's 386
            // binaries, wine needs an x86 host).
            Runner::None {
                reason,
                missing: tool,
            } => match tool
                .and_then(|m| install::action_on(&m.tool, &host.goos).map(|a| (m.tool, a)))
            {
                Some((tool, action)) => {
                    let m = missing.entry(tool).or_insert((action, Vec::new(), 0));
                    m.1.push(target);
                    m.2 += need.cells;
                }
                _ => {
                    let mut f = Finding::bad(g, format!("run {target}"), Level::Warn, reason)
                        .hint("its cells are built and inspected, and their run is a skip");
                    // What runs Linux programs exists only on Linux.
                    if goos == "linux" && host.goos != "linux" {
                        if let Some(a) = install::action_on("qemu-user", &host.goos) {
                            f = f.fix(a);
                        }
                    }
                    found.insert(f.name.clone(), f);
                }
            },
            r => {
                let name = r.name();
                let key = Path::new(name)
                    .file_name()
                    .map_or(name.to_string(), |n| n.to_string_lossy().into_owned());
                let version = versions.get(&key).cloned().unwrap_or_default();
                found.insert(key.clone(), Finding::ok(g, key, version));
            }
        }
    }
    for (tool, (action, targets, cells)) in missing {
        let f = Finding::bad(
            g,
            tool.clone(),
            needs.missing(cells),
            format!("not found; runs {}", targets.join(", ")),
        )
        .hint(if needs.from_matrices {
            format!("without it, {cells} cells are built but not run, and fail the run unless --allow-missing")
        } else {
            "without it, these targets' cells are built but not run, and fail the run unless --allow-missing".to_string()
        })
        .fix(action);
        found.insert(tool, f);
    }
    let mut v: Vec<Finding> = found.into_values().collect();
    if cfg!(target_os = "linux") {
        v.push(binfmt());
    }
    if windows_cells > 0 {
        v.extend(wine_setup(needs, tools, windows_cells));
    }
    v
}

/// binfmt_misc registrations: crossprobe calls qemu itself, so they are
/// not needed; a person debugging "why does ./probe run here" wants them.
fn binfmt() -> Finding {
    let dir = Path::new("/proc/sys/fs/binfmt_misc");
    let mut enabled = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "status" || name == "register" {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.starts_with("enabled") {
                enabled.push(name);
            }
        }
    }
    enabled.sort();
    let found = if enabled.is_empty() {
        "none registered".to_string()
    } else {
        enabled.join(", ")
    };
    Finding::ok(
        Group::Emulators,
        "binfmt_misc",
        format!("{found} (not needed: crossprobe runs qemu-user itself)"),
    )
}

fn wine_setup(needs: &Needs, tools: &Tools, cells: usize) -> Vec<Finding> {
    let g = Group::Emulators;
    let Some(w) = &tools.wine else {
        return Vec::new();
    };
    let mut v = Vec::new();
    v.push(if w.prefix.join("system.reg").is_file() {
        Finding::ok(g, "wine prefix", w.prefix.display().to_string())
    } else {
        Finding::bad(
            g,
            "wine prefix",
            Level::Warn,
            format!("{} not created yet", w.prefix.display()),
        )
        .hint("the first windows cell of a run creates it, ~20 s")
        .fix(Action::WinePrefix)
    });
    if run::wine::needs_prng_stub(&w.version) {
        v.push(match &w.stub_x86_64 {
            Some(p) => Finding::ok(g, "ProcessPrng stub", p.display().to_string()),
            None if crate::fsutil::which("x86_64-w64-mingw32-gcc").is_none() => {
                Finding::bad(g, "ProcessPrng stub", needs.missing(cells), format!("not built, and no mingw-w64 to build it with ({})", w.version))
                    .hint("Go ≥ 1.22 binaries call ProcessPrng, which wine < 8.13 lacks; --fix installs mingw-w64, then builds the stub")
                    .fix(install::install(&["mingw-w64"], &["mingw-w64"], "install mingw-w64"))
            }
            None => Finding::bad(g, "ProcessPrng stub", needs.missing(cells), format!("{} missing ({})", install::stub_path("x86_64").display(), w.version))
                .hint("Go ≥ 1.22 binaries call ProcessPrng, which wine < 8.13 lacks")
                .fix(Action::PrngStub { arch: "x86_64" }),
        });
    }
    v
}

/// Whether probes will run in bubblewrap's sandbox (run::Sandbox decides
/// the same way): missing, it is installed; where the kernel refuses its
/// namespaces, what to change is said; on macOS, that only Linux has it.
pub fn sandbox(os: &str) -> Finding {
    let g = Group::Sandbox;
    let name = "bwrap";
    if os != "linux" {
        return Finding::bad(
            g,
            name,
            Level::Warn,
            "probes run unsandboxed: bubblewrap needs Linux",
        )
        .fix(install::action_on("bwrap", os).expect("host::install knows bwrap"));
    }
    match run::Sandbox::detect() {
        Ok(_) => Finding::ok(
            g,
            name,
            "probes run in bubblewrap (no network, read-only files, empty HOME)",
        ),
        Err(why) if crate::fsutil::which("bwrap").is_none() => {
            Finding::bad(g, name, Level::Warn, why.to_string())
                .hint("a stranger's snippet (crossprobe repro) would run with your privileges")
                .fix(install::action_on("bwrap", os).expect("host::install knows bwrap"))
        }
        // Ubuntu 23.10 and later confine unprivileged user namespaces
        // with AppArmor; a profile for bwrap alone lets it have them.
        Err(why) => Finding::bad(g, name, Level::Warn, why.to_string()).fix(Action::Manual(
            if Path::new("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").exists() {
                "let bwrap have user namespaces: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap /usr/bin/bwrap flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee /etc/apparmor.d/bwrap && sudo apparmor_parser -r /etc/apparmor.d/bwrap".into()
            } else {
                "enable unprivileged user namespaces: sudo sysctl -w user.max_user_namespaces=15000".into()
            },
        )),
    }
}

/// Whether `run.processes` holds here: a pids cgroup per command, which
/// needs a writable cgroup v1 pids hierarchy (as root, or delegated). On
/// Linux only: elsewhere the sandbox's finding says what is missing.
pub fn processes(os: &str) -> Option<Finding> {
    let (g, name) = (Group::Sandbox, "pids cgroup");
    if os != "linux" {
        return None;
    }
    Some(match crate::process::cgroup::bounds_processes() {
        true => Finding::ok(
            g,
            name,
            "run.processes bounds each command's processes (a pids cgroup per command)",
        ),
        false => Finding::bad(
            g,
            name,
            Level::Warn,
            "run.processes is not enforced: no writable cgroup v1 pids hierarchy \
             (/sys/fs/cgroup/pids)",
        )
        .hint(
            "a probe that forks without end can take every pid of the host until its timeout; \
             run crossprobe as root, or where the pids controller is delegated to it",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Need;

    /// A Mac's doctor, checked on any host: the host facts are a
    /// parameter. Homebrew gives wine, node and zig; Rosetta runs
    /// darwin/amd64; what runs Linux programs, and the sandbox, need Linux.
    #[test]
    fn a_mac_is_told_what_homebrew_rosetta_and_a_linux_vm_give() {
        let need = Need {
            cells: 2,
            ..Need::default()
        };
        let needs = Needs {
            targets: ["linux/arm64", "windows/amd64", "darwin/amd64", "js/wasm"]
                .iter()
                .map(|t| (t.to_string(), need.clone()))
                .collect(),
            compilers: BTreeMap::new(),
            from_matrices: true,
        };
        let mac = Host {
            goos: "darwin".into(),
            goarch: "arm64".into(),
            kernel: "24.0.0".into(),
            cpu: "Apple M2".into(),
            runner: String::new(),
        };
        let f = emulators(&needs, &mac, &Tools::default());
        let fix = |name: &str| {
            let x = f
                .iter()
                .find(|x| x.name == name)
                .unwrap_or_else(|| panic!("no {name}: {f:#?}"));
            (x.level, x.fix.clone().unwrap_or_default())
        };
        assert_eq!(
            fix("rosetta"),
            (
                Level::Fail,
                "softwareupdate --install-rosetta --agree-to-license".into()
            )
        );
        assert_eq!(
            fix("wine64"),
            (Level::Fail, "brew install --cask wine-stable".into())
        );
        assert_eq!(fix("node"), (Level::Fail, "brew install node".into()));
        let (level, vm) = fix("run linux/arm64");
        assert_eq!(level, Level::Warn);
        assert!(
            vm.starts_with("Linux only: run these cells on a Linux runner, or in a Linux VM"),
            "{vm}"
        );
        let s = sandbox("darwin");
        assert_eq!(s.level, Level::Warn);
        assert!(s
            .fix
            .unwrap()
            .contains("the sandbox (bubblewrap) needs Linux"));
    }
}
