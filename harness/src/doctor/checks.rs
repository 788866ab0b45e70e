//! The checks, group by group. Each returns findings; none changes the
//! machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{split_target, Finding, Group, Level, Needs};
use crate::host::install::{self, Action};
use crate::process;
use crate::toolchain::cc;

/// `go env` and `go list std` should take well under this; past it, a run
/// pays the same delay in every cell's build.
const SLOW_GO_ENV: Duration = Duration::from_secs(1);
const SLOW_GO_LIST: Duration = Duration::from_secs(5);
const GO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the GOCACHE size count may take; big caches are counted in part.
const SIZE_BUDGET: Duration = Duration::from_secs(2);

pub struct GoFound {
    pub findings: Vec<Finding>,
    pub go: Option<PathBuf>,
    pub goroot: Option<PathBuf>,
    pub gocache: Option<PathBuf>,
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// Runs a Go command for its output and how long it took.
fn timed(
    argv: &[&str],
    env: BTreeMap<String, String>,
    cwd: Option<&Path>,
) -> Result<(String, Duration), String> {
    let logs =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let spec = process::Spec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env,
        env_remove: Vec::new(),
        cwd: cwd.map(Path::to_path_buf),
        timeout: GO_TIMEOUT,
        log_dir: logs.path().to_path_buf(),
        log_name: "doctor".into(),
        cap: 1 << 20,
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let t = Instant::now();
    let c = process::run(&spec).map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    let took = t.elapsed();
    if c.exit.timed_out {
        return Err(format!("took more than {}", secs(GO_TIMEOUT)));
    }
    if !c.exit.success() {
        let last = c
            .stderr
            .text
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        return Err(format!("{}: {last}", c.exit));
    }
    Ok((c.stdout.text, took))
}

pub fn go() -> GoFound {
    let g = Group::Go;
    let mut found = GoFound {
        findings: Vec::new(),
        go: None,
        goroot: None,
        gocache: None,
    };
    let Some(go) = crate::fsutil::which("go") else {
        found.findings.push(
            Finding::bad(g, "go", Level::Fail, "no `go` on PATH")
                .hint("every cell is built with the go on PATH")
                .fix(install::install(
                    &["golang-go"],
                    &["go"],
                    "install Go from https://go.dev/dl/ and put its bin/ on PATH",
                )),
        );
        return found;
    };
    let go_s = go.display().to_string();
    found.go = Some(go.clone());

    // The user's own environment, in the current directory: what makes
    // their `go` slow makes crossprobe's slow.
    let env = match timed(&[&go_s, "env", "-json"], BTreeMap::new(), None) {
        Ok((out, took)) => {
            let f = if took >= SLOW_GO_ENV {
                Finding::bad(g, "go env", Level::Warn, format!("took {}", secs(took))).hint(
                    "it should take well under a second: GOTOOLCHAIN fetching a toolchain, a slow GOPROXY or DNS, \
                     or GOROOT/GOCACHE on a network file system slow every build",
                )
            } else {
                Finding::ok(g, "go env", format!("took {}", secs(took)))
            };
            found.findings.push(f);
            serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&out).unwrap_or_default()
        }
        Err(e) => {
            found.findings.push(Finding::bad(
                g,
                "go env",
                Level::Fail,
                format!("`{go_s} env -json` failed: {e}"),
            ));
            return found;
        }
    };
    let var = |k: &str| {
        env.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };

    found.findings.insert(
        0,
        Finding::ok(
            g,
            "go",
            format!(
                "{} at {go_s} (the `local` Go of a matrix)",
                var("GOVERSION")
            ),
        ),
    );

    let goroot = PathBuf::from(var("GOROOT"));
    found.findings.push(if goroot.join("src/runtime").is_dir() {
        Finding::ok(g, "GOROOT", goroot.display().to_string())
    } else {
        Finding::bad(
            g,
            "GOROOT",
            Level::Fail,
            format!("{} has no src/runtime", goroot.display()),
        )
        .hint("a broken Go installation; reinstall Go")
    });
    found.goroot = Some(goroot);

    let gopath = var("GOPATH");
    let first = gopath
        .split(if cfg!(windows) { ';' } else { ':' })
        .next()
        .unwrap_or("")
        .to_string();
    found.findings.push(match writable(Path::new(&first)) {
        Ok(()) => Finding::ok(g, "GOPATH", format!("{gopath} (writable)")),
        Err(e) => Finding::bad(g, "GOPATH", Level::Warn, format!("{gopath}: {e}"))
            .hint("probes that import modules need a writable module cache"),
    });

    let gocache = var("GOCACHE");
    found
        .findings
        .push(if gocache.is_empty() || gocache == "off" {
            Finding::bad(g, "GOCACHE", Level::Fail, format!("{:?}", gocache))
                .hint("go build needs a build cache")
                .fix(Action::Manual(
                    "export GOCACHE=$HOME/.cache/go-build".into(),
                ))
        } else {
            let p = PathBuf::from(&gocache);
            found.gocache = Some(p.clone());
            match writable(&p) {
                Ok(()) => Finding::ok(
                    g,
                    "GOCACHE",
                    format!("{gocache}, {}, writable", size_of(&p)),
                ),
                Err(e) => Finding::bad(g, "GOCACHE", Level::Fail, format!("{gocache}: {e}"))
                    .hint("every build writes to it")
                    .fix(Action::Manual(format!(
                        "make {gocache} writable, or set GOCACHE to a directory that is"
                    ))),
            }
        });

    // As a cell's build runs: its own directory, pinned toolchain.
    let tmp = tempfile::tempdir().ok();
    let pinned: BTreeMap<String, String> =
        [("GOTOOLCHAIN", "local"), ("GOFLAGS", ""), ("GOWORK", "off")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    found.findings.push(match timed(&[&go_s, "list", "std"], pinned, tmp.as_ref().map(|t| t.path())) {
        Ok((out, took)) if took >= SLOW_GO_LIST => {
            Finding::bad(g, "go list std", Level::Warn, format!("{} packages in {}", out.lines().count(), secs(took))).hint(
                "slow package loading slows every build: a cold GOCACHE (run it again), or a slow disk or network file system",
            )
        }
        Ok((out, took)) => Finding::ok(g, "go list std", format!("{} packages in {}", out.lines().count(), secs(took))),
        Err(e) => Finding::bad(g, "go list std", Level::Fail, e).hint("the standard library does not load: reinstall Go"),
    });

    let goflags = var("GOFLAGS");
    found.findings.push(if goflags.is_empty() {
        Finding::ok(g, "GOFLAGS", "(empty)")
    } else {
        Finding::bad(g, "GOFLAGS", Level::Warn, goflags.clone())
            .hint("crossprobe clears GOFLAGS for its builds; put these in the matrix's `flags` axis instead")
    });
    let toolchain = var("GOTOOLCHAIN");
    found.findings.push(Finding::ok(
        g,
        "GOTOOLCHAIN",
        format!(
            "{} (builds of `go: [local]` pin GOTOOLCHAIN=local; GOPROXY={})",
            if toolchain.is_empty() {
                "(unset)"
            } else {
                &toolchain
            },
            var("GOPROXY")
        ),
    ));
    found
}

fn writable(dir: &Path) -> Result<(), String> {
    if dir.as_os_str().is_empty() {
        return Err("not set".into());
    }
    let probe = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        dir.ancestors()
            .find(|a| a.is_dir())
            .unwrap_or(dir)
            .to_path_buf()
    };
    tempfile::Builder::new()
        .prefix(".crossprobe-doctor-")
        .tempfile_in(&probe)
        .map(|_| ())
        .map_err(|e| format!("not writable ({e})"))
}

/// The bytes under `dir`, counted for at most [`SIZE_BUDGET`].
fn size_of(dir: &Path) -> String {
    let u = crate::disk::usage(dir, SIZE_BUDGET);
    format!(
        "{}{}",
        if u.partial { "over " } else { "" },
        crate::disk::human(u.bytes)
    )
}

pub fn c_toolchains(needs: &Needs, go: Option<&Path>) -> Vec<Finding> {
    let g = Group::C;
    let mut v = Vec::new();
    for (target, need) in &needs.targets {
        let (goos, goarch) = split_target(target);
        if needs.from_matrices && need.cgo_cells == 0 || goarch == "wasm" {
            continue;
        }
        let name = format!("cc {target}");
        let level = needs.missing(need.cgo_cells);
        let why = if needs.from_matrices {
            format!("{} cgo=1 cells build for it", need.cgo_cells)
        } else {
            "cgo=1 cells need one".into()
        };
        // What a build would use: the matrix's CC, else $CC, else `go env
        // CC` for the target.
        let cc = need
            .cc
            .clone()
            .or_else(|| std::env::var("CC").ok())
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                let go = go?.display().to_string();
                cc::go_env_cc(&go, goos, goarch, &BTreeMap::new())
            });
        let serving = cc.as_deref().and_then(|cc| {
            let triple = cc::dumpmachine(cc).ok()?;
            cc::serves(&triple, goos, goarch)?.then(|| format!("CC={cc} ({triple})"))
        });
        if let Some(s) = serving {
            v.push(Finding::ok(g, name, s));
            continue;
        }
        let cross = cc::debian_gcc(goos, goarch);
        let zig = cc::zig_target(goos, goarch).filter(|_| crate::fsutil::which("zig").is_some());
        let set_cc = |what: &str| cc::set_cc_hint(goos, goarch, what);
        let host_cc = cc.as_deref().unwrap_or("gcc");
        // A compiler that would serve, if CC named it.
        let available = match (&cross, zig) {
            (Some((bin, _)), _) if crate::fsutil::which(bin).is_some() => Some(bin.clone()),
            (_, Some(zt)) => Some(format!("zig cc -target {zt}")),
            _ => None,
        };
        v.push(match (available, cross) {
            // A matrix's cgo cells are skipped up front until CC is set.
            (Some(a), _) if needs.from_matrices => Finding::bad(
                g,
                name,
                level,
                format!("{a} is available, but CC is {host_cc}, which builds for the host"),
            )
            .hint(format!(
                "{why}, and are skipped until CC names a cross compiler"
            ))
            .fix(Action::Manual(set_cc(&a))),
            (Some(a), _) => Finding::ok(g, name, format!("{a} (set CC to it for cgo=1 cells)")),
            (None, Some((bin, pkg))) => Finding::bad(g, name, level, format!("no {bin}; {why}"))
                .hint(set_cc(&bin))
                .fix(install::install(
                    &[pkg.as_str()],
                    &[],
                    &format!("install a C cross compiler for {target}, or zig"),
                )),
            (None, None) => Finding::bad(
                g,
                name,
                level,
                format!("no C compiler for {target}; {why}"),
            )
            .fix(Action::Manual(
                "install zig (`crossprobe doctor --fix` does, given a matrix with cc: zig) and set CC=\"zig cc -target ...\""
                    .into(),
            )),
        });
    }
    // The compilers the cells' own resolution found missing (cc: zig,
    // the cross gcc of cc: auto): needed, so --fix installs them.
    let missing = needs
        .compilers
        .iter()
        .filter(|(tool, _)| crate::fsutil::which(tool).is_none());
    for (tool, cells) in missing {
        if let Some(action) = install::action(tool) {
            v.push(
                Finding::bad(
                    g,
                    tool.clone(),
                    Level::Fail,
                    format!("not found; {cells} cells build C with it"),
                )
                .hint(
                    "without it, those cells are skipped, and fail the run unless --allow-missing",
                )
                .fix(action),
            );
        }
    }
    if v.iter().any(|f| f.name == "zig") {
        return v;
    }
    v.push(match crate::fsutil::which("zig") {
        Some(z) => {
            let version = process::query(
                &[&z.display().to_string(), "version"],
                &BTreeMap::new(),
                Duration::from_secs(20),
            )
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| e.to_string());
            Finding::ok(g, "zig", format!("{version} at {}", z.display()))
        }
        // Optional: a person's to install, not --fix's.
        None => Finding::bad(g, "zig", Level::Warn, "not found")
            .hint("zig cc builds C for musl, darwin and most other targets with no cross gcc")
            .fix(Action::Manual(
                install::action("zig")
                    .expect("host::install knows zig")
                    .command(),
            )),
    });
    v
}

pub fn limits(out_dir: &Path, gocache: Option<&Path>) -> Vec<Finding> {
    let g = Group::Limits;
    let mut v = Vec::new();
    #[cfg(unix)]
    {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills in the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 {
            // rlim_t is u32 on 32-bit targets.
            #[allow(clippy::unnecessary_cast)]
            let (soft, hard) = (rl.rlim_cur as u64, rl.rlim_max as u64);
            let found = format!("{soft} (hard limit {hard})");
            v.push(if soft >= 1024 {
                Finding::ok(g, "ulimit -n", found)
            } else {
                let level = if soft < 64 { Level::Fail } else { Level::Warn };
                Finding::bad(g, "ulimit -n", level, found)
                    .hint("each running cell holds pipes and log files open; with -j N, N of them")
                    .fix(Action::Manual(format!("ulimit -n {}", hard.min(4096))))
            });
        }
    }
    let mut places: Vec<(&str, PathBuf)> = vec![
        (
            "build directories, result cache",
            crate::host::cache_dir().join("builds"),
        ),
        ("go build's temporary files", std::env::temp_dir()),
        ("reports", out_dir.to_path_buf()),
    ];
    if let Some(c) = gocache {
        places.push(("GOCACHE", c.to_path_buf()));
    }
    let mut seen = Vec::new();
    for (what, p) in places {
        let Some(crate::disk::Space {
            dev, bytes: free, ..
        }) = crate::disk::space(&p)
        else {
            continue;
        };
        if seen.contains(&dev) {
            continue;
        }
        seen.push(dev);
        let found = format!(
            "{} free at {} ({what})",
            crate::disk::human(free),
            p.display()
        );
        const MB: u64 = 1 << 20;
        v.push(match free {
            f if f < 500 * MB => Finding::bad(g, "disk", Level::Fail, found),
            f if f < 2048 * MB => Finding::bad(g, "disk", Level::Warn, found),
            _ => Finding::ok(g, "disk", found),
        });
        if let Some(f) = v.last_mut().filter(|f| f.level != Level::Ok) {
            f.hint = Some("each cell's build directory and GOCACHE entries take tens of MB".into());
            f.fix = Some(format!(
                "free space on {}, or point TMPDIR/GOCACHE/--out elsewhere",
                p.display()
            ));
            f.action = Some(Action::Manual(f.fix.clone().unwrap_or_default()));
        }
    }
    v
}
