//! Spawning child processes. Every build, inspection and probe run goes
//! through [`run`], so that process groups, timeouts, output capture and
//! caps, argv recording and Ctrl-C are handled once.
//!
//! Each child:
//! - is started from an argv, never through a shell;
//! - gets a closed stdin, so a probe that reads it sees EOF at once;
//! - leads a process group of its own, and the whole group is killed when
//!   the child exits, times out, floods its output or crossprobe is
//!   interrupted: grandchildren (a probe's `sleep 1000 &`, qemu or wine
//!   helpers) never outlive the run; those that left the group (`setsid`)
//!   are found by a marker in their environment and killed too (`sweep`);
//! - writes stdout and stderr to `<log_dir>/<log_name>.stdout` and
//!   `.stderr` (see `capture` for why files). The files are kept whole, even
//!   past the cap; deleting them is the caller's choice.
//!
//! The one exception is [`passthrough`]: `crossprobe exec` runs the user's
//! own command with the user's stdio, for cmd/go to read.

mod capture;
pub mod cgroup;
pub mod env;
pub mod interrupt;
pub mod orphans;
mod passthrough;
pub mod shown;
pub mod sweep;
mod sys;
pub mod user;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crate::model::{Command, Exit};

pub use passthrough::{passthrough, Passthrough};
pub use sys::signal_name;

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `argv[0]` is the program: a path, or a name looked up on `PATH`.
    pub argv: Vec<String>,
    /// Set for the child; everything else is inherited.
    pub env: BTreeMap<String, String>,
    /// Removed from the inherited environment. A name also in `env` is set.
    pub env_remove: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
    /// Where the capture files go; created if missing.
    pub log_dir: PathBuf,
    /// `build` gives `build.stdout` and `build.stderr`.
    pub log_name: String,
    /// Bytes of each stream kept in `Captured.text`: half from the head,
    /// half from the tail.
    pub cap: usize,
    /// The command starts daemons meant to outlive it (wine's server and
    /// services, shared by the cells of a run): when it exits by itself, its
    /// process group and marked descendants are left alone, and
    /// [`sweep::kill_left`] ends them once the run is over. A timeout or an
    /// interrupt still kills them with it.
    pub daemons: bool,
    /// What a cell's command may take from the caller and the machine.
    pub confine: Confine,
}

/// Bounds on a cell's build and run commands, sandbox or not. The default
/// bounds nothing: for crossprobe's own queries and downloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confine {
    /// Inherit only [`env::allowed`] names of the caller's environment,
    /// and those `pass_env` names.
    pub env_allowlist: bool,
    /// `run.pass_env`: names, or prefixes ending in `*`.
    pub pass_env: Vec<String>,
    /// Bytes of private writable memory each process of the command may
    /// map (`RLIMIT_DATA`). Not `RLIMIT_AS`: Go, qemu-user and wine reserve
    /// address space they never touch, and an address-space bound kills a
    /// Go program that uses a few MiB.
    pub memory: Option<u64>,
    /// Processes and threads the command may hold at once (`run.processes`),
    /// counted over its whole tree by a pids cgroup where one can be made;
    /// unbounded elsewhere.
    pub processes: Option<u64>,
    /// The argv is wrapped in the sandbox: recorded on the command
    /// ([`Command::sandboxed`]) as it runs.
    pub sandboxed: bool,
    /// Run a sandboxed command as this user (a stranger's cell when
    /// crossprobe is root: [`user`]); ignored unless `sandboxed`.
    pub user: Option<user::RunAs>,
}

/// A stream that grows past this many bytes (64 × `cap`, at least 1 MiB)
/// gets its process group killed: a probe stuck printing in a loop would
/// otherwise fill the disk overnight. The size is checked every few tens of
/// milliseconds, so a fast writer overshoots it somewhat.
pub fn hard_limit(cap: usize) -> u64 {
    const FACTOR: u64 = 64;
    const FLOOR: u64 = 1 << 20;
    u64::try_from(cap)
        .unwrap_or(u64::MAX)
        .saturating_mul(FACTOR)
        .max(FLOOR)
}

/// How long a timed-out group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(200);
/// The longest sleep between two looks at a running child; it bounds how
/// late a timeout, a runaway or an interrupt is noticed.
const POLL_MAX: Duration = Duration::from_millis(25);

/// Runs `spec` to the end and records what happened.
///
/// `Err` when nothing could be started: an empty argv, a missing program
/// or working directory, an unwritable `log_dir`. Once a child did start,
/// only a failure of `waitid` or of reading back the capture files (neither
/// seen in practice) is an `Err`, and its group is killed first.
///
/// Once [`interrupt::requested`] is set, nothing is started: the command
/// comes back `Ok` with `exit` all empty (no code, no signal, not timed
/// out), zero duration and no output, and no capture files are written.
/// [`started`] tells such a command apart.
pub fn run(spec: &Spec) -> io::Result<Command> {
    run_fed(spec, None)
}

/// [`run`], with the child's stdin read from `stdin`: how a capture file
/// goes through a converter (`go tool test2json`) without a pipe that a
/// runner's server could hold open.
pub fn run_fed(spec: &Spec, stdin: Option<&std::path::Path>) -> io::Result<Command> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot run an empty argv",
        ));
    };
    let mut record = Command {
        argv: spec.argv.clone(),
        env: spec.env.clone(),
        cwd: spec.cwd.as_ref().map(|p| p.display().to_string()),
        sandboxed: spec.confine.sandboxed,
        ..Command::default()
    };
    if interrupt::requested().is_some() {
        return Ok(record);
    }
    if let Some(dir) = &spec.cwd {
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "cannot run {program}: working directory {} does not exist",
                    dir.display()
                ),
            ));
        }
    }
    fs::create_dir_all(&spec.log_dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create log directory {}: {e}",
                spec.log_dir.display()
            ),
        )
    })?;
    let stdout = capture::create(&spec.log_dir.join(format!("{}.stdout", spec.log_name)))?;
    let stderr = capture::create(&spec.log_dir.join(format!("{}.stderr", spec.log_name)))?;

    let mut expr = match stdin {
        Some(path) => duct::cmd(program, args).stdin_path(path),
        None => duct::cmd(program, args).stdin_null(),
    };
    expr = expr
        .stdout_file(stdout.try_clone()?)
        .stderr_file(stderr.try_clone()?)
        .unchecked()
        .before_spawn(|command| {
            command.process_group(0);
            Ok(())
        });
    if let Some(dir) = &spec.cwd {
        // Named as a shell's cd names it: a child that asks where it is
        // (Go's os.Getwd) then gets `dir` as spelled, links and all, not
        // the path they resolve to. Go keys a main package's build on its
        // directory, so a cache root restored elsewhere but reached through
        // the same link (`ci gitlab`) finds its builds up to date.
        expr = expr.dir(dir);
    }
    let mut env: BTreeMap<std::ffi::OsString, std::ffi::OsString> = match spec.confine.env_allowlist
    {
        true => env::inherited(&spec.confine.pass_env).collect(),
        false => std::env::vars_os().collect(),
    };
    for name in &spec.env_remove {
        env.remove(std::ffi::OsStr::new(name));
    }
    env.extend(spec.env.iter().map(|(k, v)| (k.into(), v.into())));
    if let Some(dir) = &spec.cwd {
        env.insert("PWD".into(), dir.into());
    }
    let marker = sweep::marker();
    env.insert(sweep::VAR.into(), (&marker).into());
    expr = expr.full_env(env);
    // A cgroup bounds the whole tree where one can be made; elsewhere each
    // process gets the memory rlimit.
    let cgroup = cgroup::Cgroup::new(spec.confine.memory, spec.confine.processes);
    let rlimit = spec.confine.memory.filter(|_| !cgroup.bounds_memory());
    #[cfg(target_os = "linux")]
    let staging = match (spec.confine.user, spec.confine.sandboxed) {
        (Some(u), true) => Some(std::sync::Arc::new(user::Staging::new(&spec.argv, u)?)),
        _ => None,
    };
    #[cfg(not(target_os = "linux"))]
    let staging: Option<std::sync::Arc<()>> = None;
    if !cgroup.procs().is_empty() || rlimit.is_some() || staging.is_some() {
        let procs = cgroup.procs().to_vec();
        expr = expr.before_spawn(move |command| {
            let procs = procs.clone();
            let staging = staging.clone();
            // SAFETY: setrlimit, enter and the staging are async-signal-safe,
            // and the closure touches nothing else between fork and exec.
            // The cgroups first: only root may enter them.
            unsafe {
                command.pre_exec(move || {
                    for p in &procs {
                        cgroup::enter(p)?;
                    }
                    if let Some(bytes) = rlimit {
                        sys::limit_data(bytes)?;
                    }
                    #[cfg(target_os = "linux")]
                    if let Some(s) = &staging {
                        s.apply()?;
                    }
                    Ok(())
                });
            }
            Ok(())
        });
    }

    orphans::adopt();
    let started_at = Instant::now();
    let spawning = orphans::spawning();
    let handle = expr.start().map_err(|e| spawn_error(program, e))?;
    let pid = handle.pids()[0];
    spawning.started(pid, &marker);
    let group = Group::register(pid);
    let end = watch(&group, spec, &stdout, &stderr, started_at)?;
    let leave = spec.daemons && matches!(end, End::Exited);
    // Kill the rest of the group (it may hold grandchildren even after a
    // clean exit) while the leader is still an unreaped zombie, then reap.
    if leave {
        group.release();
    } else {
        drop(group);
    }
    let status = handle.wait();
    orphans::reaped(pid);
    let status = status?.status;
    record.duration_ms = u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX);
    if !leave {
        sweep::kill_carrying(&marker);
    }
    // After the sweep: what it killed is reaped here, and counted.
    orphans::ended(&marker, leave);
    record.exit = Exit {
        code: status.code(),
        signal: status.signal().map(signal_name),
        timed_out: matches!(end, End::TimedOut),
        out_of_memory: cgroup.oom_killed(),
        process_limit: cgroup.process_limit_hit(),
    };
    record.peak_memory_kib = cgroup.peak_kib();
    drop(cgroup);
    record.stdout = capture::read(&stdout, spec.cap)?;
    record.stderr = capture::read(&stderr, spec.cap)?;
    if let End::Runaway { stream, limit } = end {
        let text = &mut record.stderr.text;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "[crossprobe: {stream} exceeded {limit} bytes; process group killed]\n"
        ));
    }
    Ok(record)
}

/// Whether `run` started the command: false for one refused after an
/// interrupt. A started process always ends with a code or a signal.
pub fn started(command: &Command) -> bool {
    command.exit.code.is_some() || command.exit.signal.is_some()
}

/// Why the wait for a child ended.
enum End {
    Exited,
    TimedOut,
    Interrupted,
    Runaway { stream: &'static str, limit: u64 },
}

/// Waits until the group's leader exits, killing the group first if it runs
/// out of time, floods its output or crossprobe is interrupted. Does not reap.
fn watch(
    group: &Group,
    spec: &Spec,
    stdout: &File,
    stderr: &File,
    started_at: Instant,
) -> io::Result<End> {
    let deadline = started_at.checked_add(spec.timeout);
    let limit = hard_limit(spec.cap);
    // Start with short naps so that quick commands return quickly.
    let mut nap = Duration::from_millis(1);
    loop {
        // The cap before the exit: on a loaded machine a child can write
        // past it and exit between two looks, and it is a runaway all the same.
        for (stream, file) in [("stdout", stdout), ("stderr", stderr)] {
            if capture::len(file) > limit {
                group.kill(libc::SIGKILL);
                return Ok(End::Runaway { stream, limit });
            }
        }
        if sys::exited(group.0)? {
            return Ok(End::Exited);
        }
        if interrupt::requested().is_some() {
            group.kill(libc::SIGKILL);
            return Ok(End::Interrupted);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            group.kill(libc::SIGTERM);
            wait_exit(group, GRACE)?;
            group.kill(libc::SIGKILL);
            return Ok(End::TimedOut);
        }
        let left = deadline.map_or(POLL_MAX, |d| d - now);
        thread::sleep(nap.min(left));
        nap = (nap * 2).min(POLL_MAX);
    }
}

/// Waits up to `grace` for the leader to exit.
fn wait_exit(group: &Group, grace: Duration) -> io::Result<()> {
    let until = Instant::now() + grace;
    while Instant::now() < until && !sys::exited(group.0)? {
        thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// A live child's process group, listed for `interrupt` while it exists.
/// Dropping it kills whatever is left of the group and delists it; the
/// leader must not have been reaped yet.
struct Group(u32);

impl Group {
    fn register(pid: u32) -> Group {
        interrupt::register(pid);
        Group(pid)
    }

    /// The leader is signalled on its own as well: it may have moved to
    /// another group (`setpgid`), and waiting for it would then never end.
    fn kill(&self, sig: i32) {
        sys::killpg(self.0, sig);
        sys::kill(self.0, sig);
    }
}

impl Group {
    /// Delists the group without killing it: its daemons stay.
    fn release(self) {
        interrupt::unregister(self.0);
        std::mem::forget(self);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill(libc::SIGKILL);
        interrupt::unregister(self.0);
    }
}

/// Names the program in the error; std's "No such file or directory" alone
/// does not say what was missing.
fn spawn_error(program: &str, e: io::Error) -> io::Error {
    let hint = if e.kind() != io::ErrorKind::NotFound {
        String::new()
    } else if !program.contains('/') {
        " (not found on PATH)".to_string()
    } else if std::path::Path::new(program).exists() {
        // The kernel says ENOENT for a missing ELF interpreter or #! program
        // too: typical of a binary built for another libc or a missing
        // sysroot.
        " (the file exists: its interpreter or dynamic loader is missing)".to_string()
    } else {
        String::new()
    };
    io::Error::new(e.kind(), format!("cannot run {program}: {e}{hint}"))
}

/// Runs a short query (`go env -json`, `go tool dist list -json`) and returns
/// its stdout, or an error that quotes its stderr. It goes through [`run`],
/// so a hung toolchain is still bounded by `timeout` and killed as a group.
pub fn query(
    argv: &[&str],
    env: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<String, QueryError> {
    query_in(argv, env, None, timeout)
}

/// [`query`] in the directory `cwd`: `go list` in a user's module.
pub fn query_in(
    argv: &[&str],
    env: &BTreeMap<String, String>,
    cwd: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<String, QueryError> {
    query_confined(argv, env, cwd, timeout, Confine::default())
}

/// [`query_in`], bounded as a cell's commands are: for a query that may
/// run a program a cell named (`go env` runs its CC).
pub fn query_confined(
    argv: &[&str],
    env: &BTreeMap<String, String>,
    cwd: Option<&std::path::Path>,
    timeout: Duration,
    confine: Confine,
) -> Result<String, QueryError> {
    let logs = tempfile::tempdir().map_err(|e| QueryError::Temp(e.to_string()))?;
    let spec = Spec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: env.clone(),
        env_remove: Vec::new(),
        cwd: cwd.map(std::path::Path::to_path_buf),
        timeout,
        log_dir: logs.path().to_path_buf(),
        log_name: "query".into(),
        cap: 4 << 20,
        daemons: false,
        confine,
    };
    let shown = argv.join(" ");
    let c = run(&spec).map_err(|e| QueryError::Spawn {
        shown: shown.clone(),
        error: e.to_string(),
    })?;
    if !c.exit.success() {
        return Err(QueryError::Failed {
            shown,
            exit: c.exit.to_string(),
            stderr: c.stderr.text.trim().to_string(),
        });
    }
    Ok(c.stdout.text)
}

/// Why a [`query`] has no answer. Clone, as answers are memoised (a
/// toolchain that could not be described is asked of once).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("cannot create a temporary directory: {0}")]
    Temp(String),
    /// It did not start (not found, not executable).
    #[error("cannot run `{shown}`: {error}")]
    Spawn { shown: String, error: String },
    /// It ran and failed: its exit and its stderr.
    #[error("`{shown}` failed ({exit}): {stderr}")]
    Failed {
        shown: String,
        exit: String,
        stderr: String,
    },
}
