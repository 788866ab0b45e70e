//! Runner choice, and the argv and env that run a binary under each runner.
//!
//! [`choose`] is pure: it reads the host and the discovered tools and never
//! touches the machine. [`invocation`] only builds a command. [`warm_up`]
//! and [`super::cool_down`] are the exceptions: wine needs a prefix and a server
//! before its first run and a `wineserver -k` after its last.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::skip::{missing, none, parse_version};
use super::wine::{self, WineUsers};
use super::{qemu, sysroot};
use crate::fsutil::file_name;
use crate::host::{Host, Tools};
use crate::model::{Runner, RunnerKind};

/// The runner for a target, from the host and what was discovered.
pub fn choose(
    goos: &str,
    goarch: &str,
    env: &BTreeMap<String, String>,
    host: &Host,
    tools: &Tools,
) -> Runner {
    choose_with(None, goos, goarch, env, host, tools)
}

/// [`choose`], unless the matrix forces a runner. A forced runner that
/// cannot run the target, or whose tool is missing, is `None` with why.
pub fn choose_with(
    forced: Option<RunnerKind>,
    goos: &str,
    goarch: &str,
    env: &BTreeMap<String, String>,
    host: &Host,
    tools: &Tools,
) -> Runner {
    use RunnerKind as O;
    let target = format!("{goos}/{goarch}");
    let kind = match forced {
        Some(kind) => kind,
        None => match default_kind(goos, goarch, host, tools) {
            Ok(kind) => kind,
            // Apple silicon runs x86_64 code once Rosetta 2 is installed.
            Err(reason) if target == "darwin/amd64" && host.target() == "darwin/arm64" => {
                return missing("rosetta", format!("{reason}: Rosetta 2 is not installed"))
            }
            Err(reason) => return none(reason),
        },
    };
    match kind {
        O::Native => Runner::Native,
        O::Qemu if goos == "linux" => qemu::runner(goarch, env, host, tools),
        O::Wine if goos == "windows" => wine::runner(goarch, host, tools),
        O::Node if target == "js/wasm" => node(tools),
        O::Wasi if target == "wasip1/wasm" => wasi(tools),
        O::None => none(FORCED_NONE.to_string()),
        kind => none(format!("runner {} cannot run {target}", kind.as_str())),
    }
}

/// The reason of a cell whose matrix says `runners: {TARGET: none}`.
pub const FORCED_NONE: &str = "runner forced to none";

fn default_kind(
    goos: &str,
    goarch: &str,
    host: &Host,
    tools: &Tools,
) -> Result<RunnerKind, String> {
    let native = goos == host.goos
        && (goarch == host.goarch
            // The kernel runs i386 code itself. qemu-i386 is no substitute:
            // Go 386 binaries die under it with "fatal: morestack on gsignal".
            || (goarch == "386" && host.goarch == "amd64" && goos != "darwin")
            || (goarch == "amd64" && host.goarch == "arm64" && goos == "darwin" && tools.rosetta));
    Ok(match (goos, goarch) {
        _ if native => RunnerKind::Native,
        ("js", "wasm") => RunnerKind::Node,
        ("wasip1", "wasm") => RunnerKind::Wasi,
        ("windows", _) => RunnerKind::Wine,
        ("linux", "386") if host.goos == "linux" => {
            return Err(format!(
                "no runner for linux/386 on {}: qemu-i386 crashes Go 386 binaries \
                 (fatal: morestack on gsignal)",
                host.target()
            ))
        }
        ("linux", _) if host.goos == "linux" => RunnerKind::Qemu,
        _ => {
            return Err(format!(
                "no runner for {goos}/{goarch} on {}",
                host.target()
            ))
        }
    })
}

fn node(tools: &Tools) -> Runner {
    if tools.node.is_none() {
        return missing(
            "node",
            "no node: install Node.js to run js/wasm".to_string(),
        );
    }
    if tools.wasm_exec_node.is_none() {
        return none(
            "no wasm_exec_node.js: GOROOT unknown, or it has neither lib/wasm nor misc/wasm"
                .to_string(),
        );
    }
    // wasm_exec.js falls back to require("crypto").getRandomValues, which
    // Node gained in 17.4 (globalThis.crypto only came in 19).
    let version = tools.node_version.as_deref().unwrap_or("");
    if parse_version(version.trim_start_matches('v')).is_some_and(|v| v < (17, 4)) {
        return missing(
            "node",
            format!(
                "js/wasm needs node 17.4 or later (Go's wasm_exec.js calls \
             crypto.getRandomValues); found {version}"
            ),
        );
    }
    Runner::Node
}

fn wasi(tools: &Tools) -> Runner {
    match &tools.wasi {
        Some(w) => Runner::Wasi {
            binary: w.name.clone(),
        },
        None => missing(
            "wazero",
            "no wazero or wasmtime: install one to run wasip1/wasm".to_string(),
        ),
    }
}

/// How to run one binary. Run `argv` with `env` set on top of the inherited
/// environment and the cell's own variables, in `cwd`; copy each `prepare`
/// pair (from, to) first; run each of `after` (same env and cwd) once it
/// has exited, whatever its status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub prepare: Vec<(PathBuf, PathBuf)>,
    pub after: Vec<Vec<String>>,
}

/// The command that runs `binary` with `args` under `runner`.
///
/// No runner needs `prepare` or `after` today. Wine's stub goes into the
/// prefix, not beside the exe, and its server is stopped by
/// [`super::cool_down`], not after each run: see [`warm_up`].
pub fn invocation(
    runner: &Runner,
    binary: &Path,
    args: &[String],
    tools: &Tools,
) -> Result<Invocation, NoRun> {
    let binary = absolute(binary)?;
    let cwd = binary
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    invocation_in(runner, &binary, args, tools, cwd)
}

fn absolute(binary: &Path) -> Result<PathBuf, NoRun> {
    std::path::absolute(binary).map_err(|error| NoRun::Resolve {
        path: binary.to_path_buf(),
        error,
    })
}

/// Why a binary cannot be run (or its runner readied): its cell is a skip
/// that says so.
#[derive(Debug, thiserror::Error)]
pub enum NoRun {
    #[error("cannot resolve {}: {error}", path.display())]
    Resolve {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("path is not UTF-8: {}", .0.display())]
    NotUtf8(PathBuf),
    /// A runner's program (qemu-*, wine, node, wasm_exec_node.js, wazero).
    #[error("{0} was not found")]
    NotFound(String),
    #[error("no wine loader named {0}")]
    NoWineLoader(String),
    #[error("wine prefix {} has no ProcessPrng stub yet: call run::warm_up first", .0.display())]
    NoPrngStub(PathBuf),
    #[error("this binary has no runner: {0}")]
    NoRunner(String),
    #[error(transparent)]
    Wine(#[from] wine::WineError),
    #[error("cannot create {}: {error}", path.display())]
    CacheDir {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// [`invocation`], run from `cwd` rather than from the binary's directory:
/// `go test` runs a test binary in its package's source directory.
pub fn invocation_in(
    runner: &Runner,
    binary: &Path,
    args: &[String],
    tools: &Tools,
    cwd: PathBuf,
) -> Result<Invocation, NoRun> {
    let binary = absolute(binary)?;
    let bin = utf8(&binary)?;
    let mut inv = Invocation {
        cwd,
        ..Invocation::default()
    };
    match runner {
        Runner::Native => {
            if let Some((loader, libs)) = sysroot::sysroot_loader(&binary) {
                // A dynamic binary for a libc the host lacks (linux/386 cgo
                // on an amd64 host without libc6:i386): the kernel runs the
                // code, the Debian cross sysroot supplies ld.so and libc.
                // qemu-i386 is no substitute (see default_kind).
                inv.argv
                    .extend([loader, "--library-path".to_string(), libs]);
            }
            inv.argv.push(bin);
        }
        Runner::Qemu { binary: name, cpu } => {
            let path = tools
                .qemu
                .get(name)
                .ok_or_else(|| NoRun::NotFound(name.clone()))?;
            // Called directly rather than through binfmt_misc, which may be
            // absent, or registered without the F flag, or for another qemu.
            inv.argv.push(utf8(path)?);
            if let Some(cpu) = cpu {
                inv.argv.extend(["-cpu".to_string(), cpu.clone()]);
            }
            inv.argv.push(bin);
            if let Some(sysroot) = sysroot::qemu_sysroot(name, &binary) {
                inv.env.insert("QEMU_LD_PREFIX".to_string(), sysroot);
            }
        }
        Runner::Wine { binary: name } => {
            let w = tools.wine.as_ref().ok_or(NoRun::NotFound("wine".into()))?;
            let loader = [Some(&w.loader64), w.loader32.as_ref()]
                .into_iter()
                .flatten()
                .find(|l| file_name(l) == *name)
                .ok_or_else(|| NoRun::NoWineLoader(name.clone()))?;
            if wine::needs_prng_stub(&w.version) && !w.prefix.join(wine::STUB_64).is_file() {
                return Err(NoRun::NoPrngStub(w.prefix.clone()));
            }
            inv.argv.extend([utf8(loader)?, bin]);
            inv.env = wine::wine_env(w);
        }
        Runner::Node => {
            let node = tools.node.as_ref().ok_or(NoRun::NotFound("node".into()))?;
            let exec = tools
                .wasm_exec_node
                .as_ref()
                .ok_or(NoRun::NotFound("wasm_exec_node.js".into()))?;
            // go_js_wasm_exec (GOROOT/lib/wasm) runs node the same way: V8's
            // default 984K stack is too small for some Go programs.
            inv.argv = vec![
                utf8(node)?,
                "--stack-size=8192".to_string(),
                utf8(exec)?,
                bin,
            ];
        }
        Runner::Wasi { binary: name } => {
            let w = tools.wasi.as_ref().filter(|w| w.name == *name);
            let w = w.ok_or_else(|| NoRun::NotFound(name.clone()))?;
            let path = utf8(&w.path)?;
            // As GOROOT/lib/wasm/go_wasip1_wasm_exec does: the whole host
            // filesystem is the guest's, and the guest sees the child's own
            // environment. Go on wasip1 takes its working directory from
            // $PWD, so PWD must match cwd.
            inv.argv = match name.as_str() {
                "wazero" => {
                    let cache = utf8(&tools.cache_dir.join("wazero"))?;
                    // -cachedir keeps compiled code: 2.6 s → 0.2 s a run here.
                    // It is keyed by the module's bytes, and a Go build
                    // without -trimpath embeds its directory, so only re-runs
                    // of one binary (or -trimpath builds) hit.
                    let flags = ["run", "-mount", "/:/", "-env-inherit", "-cachedir", &cache];
                    [path].into_iter().chain(flags.map(String::from)).collect()
                }
                // -S inherit-env is recent wasmtime; untested here (no wasmtime).
                _ => [path.as_str(), "run", "--dir=/", "-S", "inherit-env", "-W"]
                    .into_iter()
                    .chain(["max-wasm-stack=8388608"])
                    .map(String::from)
                    .collect(),
            };
            inv.argv.push(bin);
            inv.env.insert("PWD".to_string(), utf8(&inv.cwd)?);
        }
        Runner::None { reason, .. } => return Err(NoRun::NoRunner(reason.clone())),
    }
    inv.argv.extend(args.iter().cloned());
    Ok(inv)
}

/// Readies a runner before a run. Call it before every run of the runner:
/// once warm it costs a lock, a stat and one short-lived process (wine).
///
/// Wine: its prefix and server, see [`super::wine::warm_up`]. wazero:
/// creates its compilation cache directory.
pub fn warm_up(runner: &Runner, tools: &Tools, users: &WineUsers) -> Result<(), NoRun> {
    match runner {
        Runner::Wine { .. } => Ok(wine::warm_up(
            tools.wine.as_ref().ok_or(NoRun::NotFound("wine".into()))?,
            users,
        )?),
        Runner::Wasi { binary } if binary == "wazero" => {
            let dir = tools.cache_dir.join("wazero");
            fs::create_dir_all(&dir).map_err(|error| NoRun::CacheDir { path: dir, error })
        }
        _ => Ok(()),
    }
}

/// The run's tools, with the wasm_exec_node.js of the Go whose GOROOT is
/// `goroot`: it must match the binary's syscall/js imports, which change
/// between releases. Toolchains downloaded through GOTOOLCHAIN leave out
/// misc/, so before Go 1.24 (when the file moved to lib/wasm) they have
/// none; their binaries keep the one `tools` has, which ran go1.21.13 and
/// go1.22.12 binaries here.
pub fn tools_for_goroot<'a>(tools: &'a Tools, goroot: &Path) -> std::borrow::Cow<'a, Tools> {
    match crate::host::wasm_exec_node(goroot) {
        Some(p) if tools.wasm_exec_node.as_ref() != Some(&p) => std::borrow::Cow::Owned(Tools {
            wasm_exec_node: Some(p),
            ..tools.clone()
        }),
        _ => std::borrow::Cow::Borrowed(tools),
    }
}

fn utf8(p: &Path) -> Result<String, NoRun> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| NoRun::NotUtf8(p.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Wasi, Wine};
    use crate::run::qemu::with_cpu;
    use crate::run::wine::NO_WINE32;

    fn host(goos: &str, goarch: &str) -> Host {
        Host {
            goos: goos.into(),
            goarch: goarch.into(),
            kernel: "6.1".into(),
            cpu: "test".into(),
            runner: String::new(),
        }
    }

    /// Tools as on the development machine: qemu-user, wine 8 without
    /// wine32, node 20, wazero.
    fn tools() -> Tools {
        let qemu = [
            "aarch64", "arm", "riscv64", "ppc64le", "s390x", "mipsel", "i386",
        ]
        .iter()
        .map(|a| {
            (
                format!("qemu-{a}"),
                PathBuf::from(format!("/usr/bin/qemu-{a}")),
            )
        })
        .collect();
        Tools {
            qemu,
            wine: Some(Wine {
                loader64: "/usr/lib/wine/wine64".into(),
                loader32: None,
                server: "/usr/lib/wine/wineserver64".into(),
                version: "wine-8.0 (Debian 8.0~repack-4)".into(),
                prefix: "/cache/crossprobe/wine".into(),
                stub_x86_64: Some("/stub/x86_64/bcryptprimitives.dll".into()),
                stub_i686: Some("/stub/i686/bcryptprimitives.dll".into()),
            }),
            node: Some("/usr/bin/node".into()),
            node_version: Some("v20.20.2".into()),
            wasm_exec_node: Some("/go/lib/wasm/wasm_exec_node.js".into()),
            wasi: Some(Wasi {
                name: "wazero".into(),
                path: "/usr/local/bin/wazero".into(),
            }),
            cache_dir: "/cache/crossprobe".into(),
            ..Tools::default()
        }
    }

    fn pick(goos: &str, goarch: &str, env: &[(&str, &str)], h: &Host, t: &Tools) -> Runner {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        choose(goos, goarch, &env, h, t)
    }

    fn reason(r: Runner) -> String {
        match r {
            Runner::None { reason, .. } => reason,
            r => panic!("expected None, got {r:?}"),
        }
    }

    #[test]
    fn linux_amd64_host() {
        let (h, t) = (host("linux", "amd64"), tools());
        assert_eq!(pick("linux", "amd64", &[], &h, &t), Runner::Native);
        assert_eq!(pick("linux", "386", &[], &h, &t), Runner::Native);
        assert_eq!(
            pick("linux", "arm64", &[], &h, &t),
            Runner::Qemu {
                binary: "qemu-aarch64".into(),
                cpu: None
            }
        );
        assert_eq!(
            pick("linux", "mipsle", &[], &h, &t),
            Runner::Qemu {
                binary: "qemu-mipsel".into(),
                cpu: None
            }
        );
        assert_eq!(
            pick("windows", "amd64", &[], &h, &t),
            Runner::Wine {
                binary: "wine64".into()
            }
        );
        assert_eq!(reason(pick("windows", "386", &[], &h, &t)), NO_WINE32);
        assert_eq!(pick("js", "wasm", &[], &h, &t), Runner::Node);
        assert_eq!(
            pick("wasip1", "wasm", &[], &h, &t),
            Runner::Wasi {
                binary: "wazero".into()
            }
        );
        assert_eq!(
            reason(pick("darwin", "arm64", &[], &h, &t)),
            "no runner for darwin/arm64 on linux/amd64"
        );
        assert_eq!(
            reason(pick("linux", "loong64", &[], &h, &t)),
            "no qemu-loongarch64: install qemu-user"
        );
        assert_eq!(
            reason(pick("windows", "arm64", &[], &h, &t)),
            "no runner for windows/arm64: wine here runs only x86 Windows binaries"
        );
    }

    #[test]
    fn qemu_cpu_follows_the_goarch_level() {
        let (h, t) = (host("linux", "amd64"), tools());
        let cpu = |goarch, env: &[(&str, &str)]| match pick("linux", goarch, env, &h, &t) {
            Runner::Qemu { cpu, .. } => cpu,
            r => panic!("{r:?}"),
        };
        assert_eq!(
            cpu("ppc64le", &[("GOPPC64", "power10")]),
            Some("power10".into())
        );
        assert_eq!(cpu("ppc64le", &[("GOPPC64", "power8")]), None);
        assert_eq!(
            cpu("riscv64", &[("GORISCV64", "rva23u64")]),
            Some("max".into())
        );
        assert_eq!(cpu("riscv64", &[("GORISCV64", "rva22u64")]), None);
    }

    /// qemu 7.2's qemu-riscv64 has no `max`: a GORISCV64=rva23u64 cell is a
    /// skip naming the model and those qemu has, not a blind `-cpu max`.
    #[test]
    fn a_cpu_qemu_lacks_is_a_skip_that_names_the_models() {
        let h = host("linux", "amd64");
        let mut t = tools();
        let models = "any\nrv64\nshakti-c\nsifive-e51\nsifive-u54\nx-rv128\n";
        t.qemu_cpus
            .insert("qemu-riscv64".into(), crate::host::parse_cpu_models(models));
        t.versions
            .insert("qemu-riscv64".into(), "qemu-riscv64 version 7.2.22".into());
        assert_eq!(
            reason(pick(
                "linux",
                "riscv64",
                &[("GORISCV64", "rva23u64")],
                &h,
                &t
            )),
            "qemu-riscv64 version 7.2.22 has no CPU model \"max\", which \
             GORISCV64=rva23u64 needs (V and Zicond); its models: any, rv64, shakti-c, \
             sifive-e51, sifive-u54, x-rv128"
        );
        // A qemu that has it gets it; one whose models are unknown too.
        t.qemu_cpus
            .get_mut("qemu-riscv64")
            .unwrap()
            .push("max".into());
        assert!(matches!(
            pick("linux", "riscv64", &[("GORISCV64", "rva23u64")], &h, &t),
            Runner::Qemu { cpu: Some(c), .. } if c == "max"
        ));
        let cpu = Some((
            "cortex-a53,pmu=off".to_string(),
            "the cpu axis asks for".to_string(),
        ));
        assert!(matches!(
            with_cpu("qemu-aarch64".into(), cpu, &t),
            Runner::Qemu { cpu: Some(_), .. }
        ));
    }

    #[test]
    fn cpu_models_of_every_form() {
        let parse = crate::host::parse_cpu_models;
        assert_eq!(
            parse("Available CPUs:\n  arm926\n  cortex-a15\n"),
            ["arm926", "cortex-a15"]
        );
        assert_eq!(parse("MIPS '4Kc'\nMIPS '24Kc'\n"), ["4Kc", "24Kc"]);
        assert_eq!(
            parse("PowerPC power10_v2.0     PVR 00800200\nPowerPC power10          (alias for power10_v2.0)\n"),
            ["power10_v2.0", "power10"]
        );
        assert_eq!(
            parse("Available CPUs:\nx86 Nehalem   Intel Core i7 9xx\nx86 max  Enables all\n\nRecognized CPUID flags:\n  avx\n"),
            ["Nehalem", "max"]
        );
        assert_eq!(
            parse("s390 z900   IBM zSeries 900 GA1\n\nRecognized feature flags:\ns390 aen\n"),
            ["z900"]
        );
        assert_eq!(parse("rv64\nsifive-u54\n"), ["rv64", "sifive-u54"]);
    }

    #[test]
    fn other_hosts() {
        let t = tools();
        let arm = host("linux", "arm64");
        assert_eq!(pick("linux", "arm64", &[], &arm, &t), Runner::Native);
        assert!(reason(pick("linux", "386", &[], &arm, &t)).contains("morestack on gsignal"));
        assert!(reason(pick("windows", "amd64", &[], &arm, &t)).contains("only on an x86 host"));

        let mac = host("darwin", "arm64");
        assert!(matches!(
            pick("darwin", "amd64", &[], &mac, &t),
            Runner::None { .. }
        ));
        let rosetta = Tools {
            rosetta: true,
            ..tools()
        };
        assert_eq!(pick("darwin", "amd64", &[], &mac, &rosetta), Runner::Native);
        assert_eq!(
            reason(pick("linux", "arm64", &[], &mac, &t)),
            "no runner for linux/arm64 on darwin/arm64"
        );
    }

    #[test]
    fn missing_tools_say_what_to_install() {
        let h = host("linux", "amd64");
        let bare = Tools::default();
        assert_eq!(
            reason(pick("js", "wasm", &[], &h, &bare)),
            "no node: install Node.js to run js/wasm"
        );
        assert_eq!(
            reason(pick("wasip1", "wasm", &[], &h, &bare)),
            "no wazero or wasmtime: install one to run wasip1/wasm"
        );
        let old = Tools {
            node_version: Some("v16.20.0".into()),
            ..tools()
        };
        assert!(reason(pick("js", "wasm", &[], &h, &old)).contains("found v16.20.0"));
        let mut nostub = tools();
        nostub.wine.as_mut().unwrap().stub_x86_64 = None;
        assert!(reason(pick("windows", "amd64", &[], &h, &nostub)).contains("run scripts/setup"));
        let mut new_wine = nostub.clone();
        new_wine.wine.as_mut().unwrap().version = "wine-9.0".into();
        assert_eq!(
            pick("windows", "amd64", &[], &h, &new_wine),
            Runner::Wine {
                binary: "wine64".into()
            }
        );
    }

    #[test]
    fn overrides() {
        let (h, t) = (host("linux", "amd64"), tools());
        let env = BTreeMap::new();
        let force = |o, goos, goarch| choose_with(Some(o), goos, goarch, &env, &h, &t);
        assert_eq!(
            force(RunnerKind::Qemu, "linux", "386"),
            Runner::Qemu {
                binary: "qemu-i386".into(),
                cpu: None
            }
        );
        assert_eq!(force(RunnerKind::Native, "linux", "arm64"), Runner::Native);
        assert_eq!(
            reason(force(RunnerKind::None, "linux", "amd64")),
            "runner forced to none"
        );
        assert_eq!(
            reason(force(RunnerKind::Wine, "linux", "arm64")),
            "runner wine cannot run linux/arm64"
        );
        assert_eq!(
            reason(force(RunnerKind::Qemu, "linux", "amd64")),
            "no qemu-x86_64: install qemu-user"
        );
    }

    #[test]
    fn invocations() {
        let t = tools();
        let args = vec!["-x".to_string(), "a b".to_string()];
        let q = Runner::Qemu {
            binary: "qemu-ppc64le".into(),
            cpu: Some("power10".into()),
        };
        let inv = invocation(&q, Path::new("/nonexistent/probe"), &args, &t).unwrap();
        assert_eq!(
            inv.argv,
            [
                "/usr/bin/qemu-ppc64le",
                "-cpu",
                "power10",
                "/nonexistent/probe",
                "-x",
                "a b"
            ]
        );
        assert_eq!(inv.cwd, Path::new("/nonexistent"));

        let inv = invocation(&Runner::Node, Path::new("/b/p.wasm"), &[], &t).unwrap();
        assert_eq!(
            inv.argv,
            [
                "/usr/bin/node",
                "--stack-size=8192",
                "/go/lib/wasm/wasm_exec_node.js",
                "/b/p.wasm"
            ]
        );

        let wz = Runner::Wasi {
            binary: "wazero".into(),
        };
        let inv = invocation(&wz, Path::new("/b/p.wasm"), &args, &t).unwrap();
        assert_eq!(
            inv.argv.join(" "),
            "/usr/local/bin/wazero run -mount /:/ -env-inherit -cachedir /cache/crossprobe/wazero /b/p.wasm -x a b"
        );
        assert_eq!(inv.env["PWD"], "/b");

        let wine = Runner::Wine {
            binary: "wine64".into(),
        };
        let err = invocation(&wine, Path::new("/b/p.exe"), &[], &t)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "wine prefix /cache/crossprobe/wine has no ProcessPrng stub yet: call run::warm_up first"
        );
        let none = Runner::None {
            reason: "no runner for darwin/arm64 on linux/amd64".into(),
            missing: None,
        };
        assert!(invocation(&none, Path::new("/b/p"), &[], &t).is_err());
    }
}
