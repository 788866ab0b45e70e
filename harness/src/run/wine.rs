//! Wine: whether a Windows binary can run here, and the prefix it runs in:
//! its set-up (prefix, ProcessPrng stub, a lingering wineserver and the
//! prefix's services), and its end, by the last crossprobe out.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::jail::Jail;
use super::skip::{missing, none, parse_version};
use super::Sandbox;
use crate::fsutil::file_name;
use crate::fsutil::Lock;
use crate::host::{Host, Tools, Wine};
use crate::model::Runner;

/// Why windows/386 is skipped where wine has no 32-bit side.
pub const NO_WINE32: &str = "windows/386 needs a 32-bit wine (wine32), which is not installed; \
                             without it wine exits 0 and prints nothing";

pub(super) fn runner(goarch: &str, host: &Host, tools: &Tools) -> Runner {
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

/// Where the 64-bit stub goes inside a prefix.
pub(super) const STUB_64: &str = "drive_c/windows/system32/bcryptprimitives.dll";
/// And the 32-bit one, in a prefix that has a 32-bit side.
const STUB_32: &str = "drive_c/windows/syswow64/bcryptprimitives.dll";
/// Written once the prefix has booted; holds the wine version.
const READY: &str = ".crossprobe-ready";
/// How long the wineserver that [`warm_up`] starts outlives its last client.
const SERVER_LINGER: &str = "-p300";

/// Go's runtime loads bcryptprimitives.dll and calls ProcessPrng before main
/// (Go 1.22 and later, CL 536235; under wine 8 it dies with "fatal error:
/// bcryptprimitives.dll not found"). Wine has ProcessPrng from 8.13 on
/// (wine commit 83d4075); older wines need the stub from harness/templates/wine.
pub fn needs_prng_stub(wine_version: &str) -> bool {
    let v = wine_version.trim_start_matches("wine-");
    parse_version(v).is_none_or(|v| v < (8, 13))
}

pub(super) fn wine_env(w: &Wine) -> BTreeMap<String, String> {
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

/// A run's wine: its jail (see [`super::jail`]) when the run is sandboxed,
/// made at its first wine warm-up and removed by its [`cool_down`]; else a
/// shared hold on crossprobe's prefix, from its first wine warm-up to its
/// cool-down: while another run holds one, the server is left to linger.
/// One per run, carried in its context beside the cancel token; it outlives
/// a `crossprobe exec`'s binary by being kept until it exits.
#[derive(Default)]
pub struct WineUsers {
    held: Mutex<Option<Lock>>,
    jail: Mutex<Option<Jail>>,
    within: Option<Within>,
}

/// What a jail is made with.
struct Within {
    sandbox: Sandbox,
    readable: Vec<PathBuf>,
    writable: Vec<PathBuf>,
}

impl WineUsers {
    /// A run whose wine lives in a jail under `sandbox` (none when it is
    /// off), whose server may read `readable` (the directories its probes
    /// run from) and write `writable`, besides the run's own prefix.
    pub fn jailed(sandbox: &Sandbox, readable: Vec<PathBuf>, writable: Vec<PathBuf>) -> Self {
        let within = sandbox.enabled().then(|| Within {
            sandbox: sandbox.clone(),
            readable,
            writable,
        });
        WineUsers {
            within,
            ..Default::default()
        }
    }

    /// The prefix the run's wine clients use: the jail's, once made.
    pub fn prefix(&self) -> Option<PathBuf> {
        let jail = self.jail.lock().unwrap_or_else(|e| e.into_inner());
        jail.as_ref().map(|j| j.prefix.clone())
    }
}

/// `inv`, a wine client's invocation, in the run's jail (its prefix).
pub fn in_jail(inv: &mut super::Invocation, users: &WineUsers) {
    if let Some(p) = users.prefix() {
        inv.env
            .insert("WINEPREFIX".to_string(), p.to_string_lossy().into_owned());
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
pub fn cool_down(tools: &Tools, users: &WineUsers) -> Result<(), WineError> {
    let Some(w) = &tools.wine else { return Ok(()) };
    let jail = users.jail.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let (Some(jail), Some(within)) = (jail, &users.within) {
        // The run's own server: no other run uses it.
        let j = Some((&jail, &within.sandbox));
        let killed = wine_step(w, &w.server, &["-k"], WineStep::Stop, j);
        let waited = wine_step(w, &w.server, &["-w"], WineStep::Stop, j);
        crate::process::sweep::kill_left();
        return killed.and(waited).map(|_| ());
    }
    if !w.prefix.join(READY).is_file() {
        return Ok(());
    }
    let held = users.held.lock().unwrap_or_else(|e| e.into_inner()).take();
    if held.is_none() {
        return Ok(());
    }
    drop(held);
    let users = w.prefix.with_extension("users");
    let Some(_last) = Lock::try_exclusive(&users).map_err(|e| lock_error(&users, e))? else {
        return Ok(());
    };
    // Non-zero just means no server was running.
    let killed = wine_step(w, &w.server, &["-k"], WineStep::Stop, None);
    let waited = wine_step(w, &w.server, &["-w"], WineStep::Stop, None);
    crate::process::sweep::kill_left();
    killed.and(waited).map(|_| ())
}

/// Readies crossprobe's own wine prefix (`<cache>/wine`; ~/.wine is never
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
/// Steps 1 and 2 run only wine's own programs on crossprobe's own prefix,
/// outside the sandbox, like a build. Under the sandbox, step 3 happens in
/// the run's jail ([`super::jail`]): its own prefix, made from this one,
/// and its own server; without it, on this prefix, shared by every
/// unsandboxed run.
pub(super) fn warm_up(w: &Wine, users: &WineUsers) -> Result<(), WineError> {
    let io = |what: &'static str, p: &Path, error: std::io::Error| WineError::Io {
        what,
        path: p.to_path_buf(),
        error,
    };
    let parent = w.prefix.parent().ok_or(WineError::NoPrefixParent)?;
    fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
    let lock = w.prefix.with_extension("lock");
    let _lock = Lock::exclusive(&lock).map_err(|e| lock_error(&lock, e))?;
    if users.within.is_none() {
        let mut users = users.held.lock().unwrap_or_else(|e| e.into_inner());
        if users.is_none() {
            let path = w.prefix.with_extension("users");
            *users = Some(Lock::shared(&path).map_err(|e| lock_error(&path, e))?);
        }
    }

    // Outside the sandbox: only wine's own programs run on the template.
    let ready = w.prefix.join(READY);
    if !ready.is_file() {
        let init = ["wineboot", "--init"];
        if !wine_step(w, &w.loader64, &init, WineStep::Init, None)? {
            return Err(WineError::InitFailed {
                loader: path_str(&w.loader64),
                prefix: w.prefix.clone(),
                logs: logs(w),
            });
        }
        // wineboot returns before wine has finished: it restarts once to
        // apply the new configuration and flushes the registry on exit.
        wine_step(w, &w.server, &["-w"], WineStep::Wait, None)?;
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
    if let Some(within) = &users.within {
        let mut jail = users.jail.lock().unwrap_or_else(|e| e.into_inner());
        if jail.is_none() {
            let runs = w.prefix.with_extension("runs");
            let (ro, rw) = (within.readable.clone(), within.writable.clone());
            let made = Jail::make(&w.prefix, &runs, ro, rw).map_err(|e| WineError::Io {
                what: e.what,
                path: e.path,
                error: e.error,
            })?;
            *jail = Some(made);
        }
        let j = jail.as_ref().map(|j| (j, &within.sandbox));
        if wine_step(w, &w.server, &[SERVER_LINGER], WineStep::Serve, j)? {
            wine_step(w, &w.loader64, &["wineboot"], WineStep::Boot, j)?;
        }
        return Ok(());
    }
    // The prefix must exist before a probe's sandbox can bind it.
    fs::create_dir_all(&w.prefix).map_err(|e| io("cannot create", &w.prefix, e))?;
    if wine_step(w, &w.server, &[SERVER_LINGER], WineStep::Serve, None)? {
        wine_step(w, &w.loader64, &["wineboot"], WineStep::Boot, None)?;
    }
    Ok(())
}

/// Where the wine commands of [`warm_up`] and [`cool_down`] write their
/// output (the daemons' included).
fn logs(w: &Wine) -> PathBuf {
    w.prefix.with_extension("logs")
}

fn lock_error(path: &Path, error: std::io::Error) -> WineError {
    WineError::Lock {
        path: path.to_path_buf(),
        error,
    }
}

/// Why wine could not be readied or stopped: its cells are skips that say
/// so.
#[derive(Debug, thiserror::Error)]
pub enum WineError {
    #[error("wine prefix has no parent directory")]
    NoPrefixParent,
    /// `what` is "cannot create" or "cannot write".
    #[error("{what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot lock {}: {error}", path.display())]
    Lock {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{loader} wineboot --init failed in {} (its output: {})", prefix.display(), logs.display())]
    InitFailed {
        loader: String,
        prefix: PathBuf,
        logs: PathBuf,
    },
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot install {} as {}: {error}", from.display(), to.display())]
    Install {
        from: PathBuf,
        to: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot run {shown}: {error}")]
    Spawn {
        shown: String,
        error: std::io::Error,
    },
    #[error("{shown} took longer than {secs}s")]
    TimedOut { shown: String, secs: u64 },
    #[error("{shown}: interrupted")]
    Interrupted { shown: String },
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Copies `from` to `to` unless it is already there, atomically: a probe
/// may be loading the old copy.
fn install(from: &Path, to: &Path) -> Result<(), WineError> {
    let want = fs::read(from).map_err(|error| WineError::Read {
        path: from.to_path_buf(),
        error,
    })?;
    if fs::read(to).is_ok_and(|have| have == want) {
        return Ok(());
    }
    crate::fsutil::write_atomic(to, &want).map_err(|error| WineError::Install {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        error,
    })
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
/// In a `jail`, in its prefix and sandbox.
fn wine_step(
    w: &Wine,
    program: &Path,
    args: &[&str],
    step: WineStep,
    jail: Option<(&Jail, &Sandbox)>,
) -> Result<bool, WineError> {
    let argv: Vec<String> = std::iter::once(path_str(program))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    let shown = argv.join(" ");
    let mut env = wine_env(w);
    let argv = match jail {
        Some((j, sandbox)) => {
            let prefix = path_str(&j.prefix);
            env.insert("WINEPREFIX".to_string(), prefix);
            sandbox.wrap_wine(argv, &j.writable(), &j.readable())
        }
        None => argv,
    };
    let limit = Duration::from_secs(match step {
        WineStep::Init => 300,
        WineStep::Wait | WineStep::Boot => 120,
        WineStep::Serve | WineStep::Stop => 30,
    });
    let spec = crate::process::Spec {
        argv,
        env,
        env_remove: Vec::new(),
        cwd: None,
        timeout: limit,
        log_dir: logs(w),
        log_name: step.name().to_string(),
        cap: 16 * 1024,
        daemons: matches!(step, WineStep::Init | WineStep::Serve | WineStep::Boot),
        // The server and the prefix's services outlive the step, and a
        // windows probe can read their /proc/PID/environ: no tokens there.
        confine: crate::process::Confine {
            env_allowlist: true,
            sandboxed: jail.is_some(),
            ..Default::default()
        },
    };
    let c = crate::process::run(&spec).map_err(|error| WineError::Spawn {
        shown: shown.clone(),
        error,
    })?;
    if c.exit.timed_out {
        return Err(WineError::TimedOut {
            shown,
            secs: limit.as_secs(),
        });
    }
    if crate::process::interrupt::requested().is_some() {
        return Err(WineError::Interrupted { shown });
    }
    Ok(c.exit.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wine_versions() {
        assert!(needs_prng_stub("wine-8.0 (Debian 8.0~repack-4)"));
        assert!(needs_prng_stub("wine-8.12"));
        assert!(!needs_prng_stub("wine-8.13"));
        assert!(!needs_prng_stub("wine-10.0"));
        assert!(needs_prng_stub("garbage"));
    }
}
