//! Runner choice, and the argv and env that run a binary under each runner.
//!
//! [`choose`] is pure: it reads the host and the discovered tools and never
//! touches the machine. [`invocation`] only builds a command. [`warm_up`]
//! and [`cool_down`] are the exceptions: wine needs a prefix and a server
//! before its first run and a `wineserver -k` after its last.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::Lock;
use crate::host::{Host, Tools, Wine};
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
            Err(reason) => return none(reason),
        },
    };
    match kind {
        O::Native => Runner::Native,
        O::Qemu if goos == "linux" => qemu(goarch, env, host, tools),
        O::Wine if goos == "windows" => wine(goarch, host, tools),
        O::Node if target == "js/wasm" => node(tools),
        O::Wasi if target == "wasip1/wasm" => wasi(tools),
        O::None => none("runner forced to none".to_string()),
        kind => none(format!("runner {} cannot run {target}", kind.as_str())),
    }
}

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

/// A structural skip: no tool would give this target a runner here.
fn none(reason: String) -> Runner {
    Runner::None {
        reason,
        missing: None,
    }
}

/// An environmental skip: `tool`, which doctor can install, is missing.
fn missing(tool: &str, reason: String) -> Runner {
    Runner::None {
        reason,
        missing: Some(super::needs::missing(tool)),
    }
}

fn qemu(goarch: &str, env: &BTreeMap<String, String>, host: &Host, tools: &Tools) -> Runner {
    if host.goos != "linux" {
        return none(format!(
            "no runner for linux/{goarch} on {}: qemu-user needs a Linux host",
            host.target()
        ));
    }
    let Some(arch) = crate::target::arch_of(goarch).and_then(|a| a.qemu) else {
        return none(format!("no qemu-user emulator for GOARCH={goarch}"));
    };
    let binary = format!("qemu-{arch}");
    if !tools.qemu.contains_key(&binary) {
        return missing(&binary, format!("no {binary}: install qemu-user"));
    }
    let needed = qemu_cpu(goarch, env).map(|(cpu, why)| (cpu, why.to_string()));
    with_cpu(binary, needed, tools)
}

/// A qemu runner asked for a CPU model: for a cell's `cpu` axis, or for
/// what its GOARCH level needs (`qemu_cpu`), with why. A model the
/// installed qemu lacks is never passed blindly: the cell's run is a skip
/// that names the model and those qemu has. (Run under the default CPU, the
/// binary would die of SIGILL, a false answer about a binary that is fine on
/// the CPU it was built for.) A qemu whose models could not be read gets
/// the model as asked, and speaks for itself.
pub fn with_cpu(binary: String, cpu: Option<(String, String)>, tools: &Tools) -> Runner {
    let Some((cpu, why)) = cpu else {
        return Runner::Qemu { binary, cpu: None };
    };
    // `max,v=true` or `Nehalem,+avx`: the model is the first word.
    let model = cpu.split(',').next().unwrap_or("");
    match tools.qemu_cpus.get(&binary) {
        Some(models) if !models.iter().any(|m| m.eq_ignore_ascii_case(model)) => {
            const SHOWN: usize = 16;
            let mut list = models
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if models.len() > SHOWN {
                list.push_str(&format!(
                    ", ... ({} more: {binary} -cpu help)",
                    models.len() - SHOWN
                ));
            }
            // `qemu-riscv64 version 7.2.22 (Debian ...)`
            let qemu = tools
                .versions
                .get(&binary)
                .filter(|v| v.starts_with(&binary))
                .unwrap_or(&binary);
            none(format!(
                "{qemu} has no CPU model {model:?}, which {why}; its models: {list}"
            ))
        }
        _ => Runner::Qemu {
            binary,
            cpu: Some(cpu),
        },
    }
}

/// The `-cpu` a GOARCH level needs, when qemu's default CPU lacks it, with
/// why. qemu-x86_64 needs none: linux-user defaults to `max`, which ran a
/// GOAMD64=v3 binary here.
fn qemu_cpu(goarch: &str, env: &BTreeMap<String, String>) -> Option<(String, &'static str)> {
    let level = |k: &str| env.get(k).map(String::as_str);
    match goarch {
        // qemu 7.2's default ppc64 CPU lacks ISA 3.1: a GOPPC64=power10
        // binary dies with SIGILL unless it asks for -cpu power10.
        "ppc64" | "ppc64le" => match level("GOPPC64") {
            Some("power9") => Some(("power9".into(), "GOPPC64=power9 needs")),
            Some("power10") => Some(("power10".into(), "GOPPC64=power10 needs")),
            _ => None,
        },
        // RVA23 needs V and Zicond, which the default rv64 CPU lacks (SIGILL).
        // qemu 7.2 has no `max` for riscv64: see `with_cpu`.
        "riscv64" if level("GORISCV64") == Some("rva23u64") => {
            Some(("max".into(), "GORISCV64=rva23u64 needs (V and Zicond)"))
        }
        _ => None,
    }
}

/// Why windows/386 is skipped where wine has no 32-bit side.
pub const NO_WINE32: &str = "windows/386 needs a 32-bit wine (wine32), which is not installed; \
                             without it wine exits 0 and prints nothing";

fn wine(goarch: &str, host: &Host, tools: &Tools) -> Runner {
    let Some(w) = &tools.wine else {
        return missing(
            "wine64",
            "no wine64: install wine (Debian: wine and wine64)".to_string(),
        );
    };
    // wine runs x86 code natively only; on macOS, Rosetta runs wine itself.
    if host.goarch != "amd64" && host.goos != "darwin" {
        return none(format!(
            "no runner for windows/{goarch} on {}: wine runs x86 Windows binaries only on an x86 host",
            host.target()
        ));
    }
    let loader = match goarch {
        "amd64" => &w.loader64,
        "386" => match &w.loader32 {
            Some(l) => l,
            None => return missing("wine32", NO_WINE32.to_string()),
        },
        _ => {
            return none(format!(
                "no runner for windows/{goarch}: wine here runs only x86 Windows binaries"
            ))
        }
    };
    let stub = if goarch == "386" {
        &w.stub_i686
    } else {
        &w.stub_x86_64
    };
    if needs_prng_stub(&w.version) && stub.is_none() {
        return missing(
            "wine ProcessPrng stub",
            format!(
                "windows/{goarch} under {} needs crossprobe's ProcessPrng stub, which is not \
             installed: run scripts/setup",
                w.version
            ),
        );
    }
    Runner::Wine {
        binary: file_name(loader),
    }
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
/// prefix, not beside the exe, and its server is stopped by [`cool_down`],
/// not after each run: see [`warm_up`].
pub fn invocation(
    runner: &Runner,
    binary: &Path,
    args: &[String],
    tools: &Tools,
) -> Result<Invocation, String> {
    let binary = absolute(binary)?;
    let cwd = binary
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    invocation_in(runner, &binary, args, tools, cwd)
}

fn absolute(binary: &Path) -> Result<PathBuf, String> {
    std::path::absolute(binary).map_err(|e| format!("cannot resolve {}: {e}", binary.display()))
}

/// [`invocation`], run from `cwd` rather than from the binary's directory:
/// `go test` runs a test binary in its package's source directory.
pub fn invocation_in(
    runner: &Runner,
    binary: &Path,
    args: &[String],
    tools: &Tools,
    cwd: PathBuf,
) -> Result<Invocation, String> {
    let binary = absolute(binary)?;
    let bin = utf8(&binary)?;
    let mut inv = Invocation {
        cwd,
        ..Invocation::default()
    };
    match runner {
        Runner::Native => {
            if let Some((loader, libs)) = sysroot_loader(&binary) {
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
                .ok_or_else(|| format!("{name} was not found"))?;
            // Called directly rather than through binfmt_misc, which may be
            // absent, or registered without the F flag, or for another qemu.
            inv.argv.push(utf8(path)?);
            if let Some(cpu) = cpu {
                inv.argv.extend(["-cpu".to_string(), cpu.clone()]);
            }
            inv.argv.push(bin);
            if let Some(sysroot) = qemu_sysroot(name, &binary) {
                inv.env.insert("QEMU_LD_PREFIX".to_string(), sysroot);
            }
        }
        Runner::Wine { binary: name } => {
            let w = tools.wine.as_ref().ok_or("wine was not found")?;
            let loader = [Some(&w.loader64), w.loader32.as_ref()]
                .into_iter()
                .flatten()
                .find(|l| file_name(l) == *name)
                .ok_or_else(|| format!("no wine loader named {name}"))?;
            if needs_prng_stub(&w.version) && !w.prefix.join(STUB_64).is_file() {
                return Err(format!(
                    "wine prefix {} has no ProcessPrng stub yet: call run::warm_up first",
                    w.prefix.display()
                ));
            }
            inv.argv.extend([utf8(loader)?, bin]);
            inv.env = wine_env(w);
        }
        Runner::Node => {
            let node = tools.node.as_ref().ok_or("node was not found")?;
            let exec = tools
                .wasm_exec_node
                .as_ref()
                .ok_or("wasm_exec_node.js was not found")?;
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
            let w = w.ok_or_else(|| format!("{name} was not found"))?;
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
        Runner::None { reason, .. } => return Err(format!("this binary has no runner: {reason}")),
    }
    inv.argv.extend(args.iter().cloned());
    Ok(inv)
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

fn utf8(p: &Path) -> Result<String, String> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("path is not UTF-8: {}", p.display()))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// QEMU_LD_PREFIX for a dynamically linked binary, so qemu finds its
/// ld.so and libc. Static binaries (most Go probes) get none: qemu-user
/// tries every absolute path under the prefix first, so a probe opening
/// /lib/... would read the sysroot's file instead of the host's.
fn qemu_sysroot(qemu: &str, binary: &Path) -> Option<String> {
    if is_static(binary) {
        return None;
    }
    let arch = qemu.strip_prefix("qemu-")?;
    // Debian/Ubuntu cross sysroots: /usr/<triple>.
    let triples = crate::target::ARCHES
        .iter()
        .find(|a| a.qemu == Some(arch))?
        .triples;
    triples
        .iter()
        .map(|t| Path::new("/usr").join(t))
        .find(|p| p.is_dir())
        .and_then(|p| p.to_str().map(str::to_string))
}

/// The sysroot's dynamic loader and library directory for an ELF whose
/// interpreter (`/lib/ld-linux.so.2`) the host lacks but a Debian cross
/// sysroot (`/usr/i686-linux-gnu`) has.
fn sysroot_loader(binary: &Path) -> Option<(String, String)> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let interp = interpreter(binary)?;
    if Path::new(&interp).exists() {
        return None;
    }
    let rel = interp.trim_start_matches('/');
    crate::target::ARCHES
        .iter()
        .flat_map(|a| a.triples)
        .map(|t| Path::new("/usr").join(t))
        .find(|root| root.join(rel).is_file())
        .and_then(|root| {
            let loader = root.join(rel).to_str()?.to_string();
            let libs = root.join("lib").to_str()?.to_string();
            Some((loader, libs))
        })
}

/// The program interpreter an ELF names, if it names one.
fn interpreter(binary: &Path) -> Option<String> {
    use object::{Object, ObjectSection};
    let data = fs::read(binary).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let interp = file.section_by_name(".interp")?.data().ok()?;
    let interp = interp.split(|&b| b == 0).next()?;
    Some(String::from_utf8_lossy(interp).into_owned()).filter(|s| s.starts_with('/'))
}

/// True when the file is an ELF without a program interpreter. A file that
/// cannot be read is not known to be static.
fn is_static(binary: &Path) -> bool {
    use object::{Object, ObjectSection};
    let Ok(file) = fs::File::open(binary) else {
        return false;
    };
    let cache = object::ReadCache::new(file);
    match object::File::parse(&cache) {
        Ok(elf) if elf.format() == object::BinaryFormat::Elf => {
            elf.section_by_name(".interp").is_none_or(|s| s.size() == 0)
        }
        _ => false,
    }
}

// --- wine ---------------------------------------------------------------

/// Where the 64-bit stub goes inside a prefix.
const STUB_64: &str = "drive_c/windows/system32/bcryptprimitives.dll";
/// And the 32-bit one, in a prefix that has a 32-bit side.
const STUB_32: &str = "drive_c/windows/syswow64/bcryptprimitives.dll";
/// Written once the prefix has booted; holds the wine version.
const READY: &str = ".crossprobe-ready";
/// How long the wineserver that [`warm_up`] starts outlives its last client.
const SERVER_LINGER: &str = "-p300";

/// Go's runtime loads bcryptprimitives.dll and calls ProcessPrng before main
/// (Go 1.22 and later, CL 536235; under wine 8 it dies with "fatal error:
/// bcryptprimitives.dll not found"). Wine has ProcessPrng from 8.13 on
/// (wine commit 83d4075); older wines need the stub from templates/wine.
pub fn needs_prng_stub(wine_version: &str) -> bool {
    let v = wine_version.trim_start_matches("wine-");
    parse_version(v).is_none_or(|v| v < (8, 13))
}

/// "8.0 (Debian ...)", "20.20.2" → (major, minor).
fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn wine_env(w: &Wine) -> BTreeMap<String, String> {
    // winemenubuilder writes menu entries and file associations into the
    // user's ~/.local and ~/.config; mscoree and mshtml would offer to
    // install Mono and Gecko on first boot. No Go probe needs any of them.
    let mut overrides = "winemenubuilder.exe=d;mscoree,mshtml=".to_string();
    if needs_prng_stub(&w.version) {
        overrides.push_str(";bcryptprimitives=n,b");
    }
    BTreeMap::from([
        (
            "WINEPREFIX".to_string(),
            w.prefix.to_string_lossy().into_owned(),
        ),
        // Wine's fixme:/err: chatter would land in the probe's stderr.
        ("WINEDEBUG".to_string(), "-all".to_string()),
        ("WINEDLLOVERRIDES".to_string(), overrides),
    ])
}

/// Readies a runner before a run. Call it before every run of the runner:
/// once warm it costs a lock, a stat and one short-lived process (wine).
///
/// Wine, in crossprobe's own prefix (`<cache>/wine`; ~/.wine is never
/// touched), under a file lock so concurrent cells do not race:
/// 1. the first time, `wineboot --init` creates the prefix (18-21 s here,
///    most of it wineboot and its restart, which `wineserver -w` waits out);
/// 2. the ProcessPrng stub is copied into system32 (and syswow64). Beside
///    the exe is not enough: Go loads it with LOAD_LIBRARY_SEARCH_SYSTEM32;
/// 3. a wineserver is started that lingers, then `wineboot` starts the
///    prefix's services, with their output in `<prefix>.logs/`. A service
///    started by a probe's run would inherit the probe's stdout and stderr
///    and write there as long as the server lives. With the services up, a
///    run takes ~0.1 s instead of ~1 s. They run through `process` with
///    `Spec::daemons`: they outlive the command that started them, and
///    [`cool_down`] ends them.
///
/// All of it runs only wine's own programs, outside the sandbox, like a
/// build; the probes' wine clients run inside it (see `sandbox`).
///
/// wazero: creates its compilation cache directory.
pub fn warm_up(runner: &Runner, tools: &Tools) -> Result<(), String> {
    match runner {
        Runner::Wine { .. } => wine_warm_up(tools.wine.as_ref().ok_or("wine was not found")?),
        Runner::Wasi { binary } if binary == "wazero" => {
            let dir = tools.cache_dir.join("wazero");
            fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Stops what [`warm_up`] left running: wine's server and services, and any
/// process a probe left behind in the prefix. Call once at the end of a run,
/// and on interrupt; not after each cell, since `wineserver -k` would also
/// kill the cells running beside it.
///
/// Several crossprobe processes may share the prefix (parallel test runs, two
/// matrices at once): each holds a shared lock on `<prefix>.users` from its
/// first wine warm-up, and only the last one out kills the server. The
/// others leave it to exit by itself when its linger time runs out: the one
/// daemon that may outlive a crossprobe, while another still uses it.
///
/// `wineserver -k` ends the server's clients (services.exe, winedevice.exe,
/// a probe's leftovers) and the server saves the registry as it exits; what
/// still carries a warm-up's marker after that is killed.
pub fn cool_down(tools: &Tools) -> Result<(), String> {
    let Some(w) = &tools.wine else { return Ok(()) };
    if !w.prefix.join(READY).is_file() {
        return Ok(());
    }
    let held = WINE_USERS.lock().unwrap_or_else(|e| e.into_inner()).take();
    if held.is_none() {
        return Ok(());
    }
    drop(held);
    let users = w.prefix.with_extension("users");
    let Some(_last) = Lock::try_exclusive(&users).map_err(|e| lock_error(&users, e))? else {
        return Ok(());
    };
    // Non-zero just means no server was running.
    let killed = wine_step(w, &w.server, &["-k"], WineStep::Stop);
    let waited = wine_step(w, &w.server, &["-w"], WineStep::Stop);
    crate::process::sweep::kill_left();
    killed.and(waited).map(|_| ())
}

/// This process's shared hold on the wine prefix; see [`cool_down`].
static WINE_USERS: std::sync::Mutex<Option<Lock>> = std::sync::Mutex::new(None);

fn wine_warm_up(w: &Wine) -> Result<(), String> {
    let io = |what: &str, p: &Path, e: std::io::Error| format!("{what} {}: {e}", p.display());
    let parent = w
        .prefix
        .parent()
        .ok_or("wine prefix has no parent directory")?;
    fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
    let lock = w.prefix.with_extension("lock");
    let _lock = Lock::exclusive(&lock).map_err(|e| lock_error(&lock, e))?;
    {
        let mut users = WINE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        if users.is_none() {
            let path = w.prefix.with_extension("users");
            *users = Some(Lock::shared(&path).map_err(|e| lock_error(&path, e))?);
        }
    }

    // Outside the sandbox: wine's server opens files for its clients, so a
    // sandboxed server could not see the cells' directories (under a private
    // /tmp or $HOME). Only wine's own programs run here.
    let ready = w.prefix.join(READY);
    if !ready.is_file() {
        let init = ["wineboot", "--init"];
        if !wine_step(w, &w.loader64, &init, WineStep::Init)? {
            return Err(format!(
                "{} wineboot --init failed in {} (its output: {})",
                path_str(&w.loader64),
                w.prefix.display(),
                logs(w).display()
            ));
        }
        // wineboot returns before wine has finished: it restarts once to
        // apply the new configuration and flushes the registry on exit.
        wine_step(w, &w.server, &["-w"], WineStep::Wait)?;
        fs::write(&ready, &w.version).map_err(|e| io("cannot write", &ready, e))?;
    }

    if needs_prng_stub(&w.version) {
        let wow = w.prefix.join("drive_c/windows/syswow64");
        let stubs = [
            (&w.stub_x86_64, STUB_64, true),
            (&w.stub_i686, STUB_32, wow.is_dir()),
        ];
        for (stub, dest, wanted) in stubs {
            if let (Some(stub), true) = (stub, wanted) {
                install(stub, &w.prefix.join(dest))?;
            }
        }
    }

    // Exit status 0: we started it (it daemonises). Otherwise one is running.
    // The prefix must exist before a probe's sandbox can bind it.
    fs::create_dir_all(&w.prefix).map_err(|e| io("cannot create", &w.prefix, e))?;
    if wine_step(w, &w.server, &[SERVER_LINGER], WineStep::Serve)? {
        wine_step(w, &w.loader64, &["wineboot"], WineStep::Boot)?;
    }
    Ok(())
}

/// Where the wine commands of [`warm_up`] and [`cool_down`] write their
/// output (the daemons' included).
fn logs(w: &Wine) -> PathBuf {
    w.prefix.with_extension("logs")
}

fn lock_error(path: &Path, e: std::io::Error) -> String {
    format!("cannot lock {}: {e}", path.display())
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Copies `from` to `to` unless it is already there, atomically: a probe
/// may be loading the old copy.
fn install(from: &Path, to: &Path) -> Result<(), String> {
    let want = fs::read(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    if fs::read(to).is_ok_and(|have| have == want) {
        return Ok(());
    }
    crate::fsutil::write_atomic(to, &want)
        .map_err(|e| format!("cannot install {} as {}: {e}", from.display(), to.display()))
}

/// A wine command of [`warm_up`] or [`cool_down`]: its time limit, its log
/// and whether it leaves daemons.
#[derive(Clone, Copy)]
enum WineStep {
    /// `wineboot --init`: 18-21 s here.
    Init,
    /// `wineserver -w`, after the prefix was made.
    Wait,
    /// The lingering server.
    Serve,
    /// `wineboot`, starting the prefix's services.
    Boot,
    /// `wineserver -k` or `-w` at the end of a run.
    Stop,
}

impl WineStep {
    fn name(self) -> &'static str {
        match self {
            WineStep::Init => "wineboot-init",
            WineStep::Wait => "wait",
            WineStep::Serve => "server",
            WineStep::Boot => "wineboot",
            WineStep::Stop => "stop",
        }
    }
}

/// Runs a wine command in the prefix through `process`, so that a timeout,
/// Ctrl-C and the sweep reach it like any child; true when it exited 0.
fn wine_step(w: &Wine, program: &Path, args: &[&str], step: WineStep) -> Result<bool, String> {
    let argv: Vec<String> = std::iter::once(path_str(program))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    let shown = argv.join(" ");
    let limit = Duration::from_secs(match step {
        WineStep::Init => 300,
        WineStep::Wait | WineStep::Boot => 120,
        WineStep::Serve | WineStep::Stop => 30,
    });
    let spec = crate::process::Spec {
        argv,
        env: wine_env(w),
        env_remove: Vec::new(),
        cwd: None,
        timeout: limit,
        log_dir: logs(w),
        log_name: step.name().to_string(),
        cap: 16 * 1024,
        daemons: matches!(step, WineStep::Init | WineStep::Serve | WineStep::Boot),
    };
    let c = crate::process::run(&spec).map_err(|e| format!("cannot run {shown}: {e}"))?;
    if c.exit.timed_out {
        return Err(format!("{shown} took longer than {}s", limit.as_secs()));
    }
    if crate::process::interrupt::requested().is_some() {
        return Err(format!("{shown}: interrupted"));
    }
    Ok(c.exit.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Wasi;

    fn host(goos: &str, goarch: &str) -> Host {
        Host {
            goos: goos.into(),
            goarch: goarch.into(),
            kernel: "6.1".into(),
            cpu: "test".into(),
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
        let err = invocation(&wine, Path::new("/b/p.exe"), &[], &t).unwrap_err();
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

    #[test]
    fn wine_versions() {
        assert!(needs_prng_stub("wine-8.0 (Debian 8.0~repack-4)"));
        assert!(needs_prng_stub("wine-8.12"));
        assert!(!needs_prng_stub("wine-8.13"));
        assert!(!needs_prng_stub("wine-10.0"));
        assert!(needs_prng_stub("garbage"));
    }
}
