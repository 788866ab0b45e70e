//! A cgroup per bounded command, where one can be made: it bounds the
//! command's whole process tree (a bwrap sandbox, qemu and the guest under
//! it, wine's client), and says afterwards whether the kernel held it to
//! its bound. Two controllers:
//! - `memory` (`run.memory`): `RLIMIT_DATA` bounds each process on its own
//!   and is the fallback; under it qemu-user's own allocations can fail
//!   before its guest's, and qemu then hangs instead of exiting ("GSlice:
//!   failed to allocate"). A cgroup's OOM kill ends the command cleanly.
//! - `pids` (`run.processes`): at about 116 KiB a process, a memory bound
//!   of 4 GiB holds more processes than a host's pid_max (32768 by
//!   default), so a fork flood inside it would starve every other program
//!   of the host of pids. There is no fallback: `RLIMIT_NPROC` counts every
//!   process of the user, not the command's.
//!
//! Made where crossprobe may write a cgroup v1 hierarchy (as root, or
//! where one is delegated): `<its cgroup>/crossprobe-<pid>/<n>` under
//! `/sys/fs/cgroup/<controller>`. On a pure cgroup v2 host a user's session
//! scope is not delegated: the rlimit is what bounds a cell's memory there,
//! and nothing its processes (`crossprobe doctor` says so).

use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A cgroup v1 controller crossprobe bounds a command with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Controller {
    Memory,
    Pids,
}

impl Controller {
    fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
        }
    }

    /// The file whose presence says the hierarchy really is this one.
    fn limit_file(self) -> &'static str {
        match self {
            Controller::Memory => "memory.limit_in_bytes",
            Controller::Pids => "pids.max",
        }
    }
}

/// One command's cgroups, removed when dropped (once its processes are
/// gone): none, one or both controllers, as the host allows.
pub(super) struct Cgroup {
    memory: Option<PathBuf>,
    pids: Option<PathBuf>,
    /// Each group's `cgroup.procs`, ready for the child to write itself
    /// into between fork and exec, where nothing may allocate.
    procs: Vec<CString>,
}

/// This process's directory of cgroups under `controller`'s hierarchy,
/// made on first use; None when that hierarchy cannot be written here.
fn root(controller: Controller) -> Option<&'static Path> {
    made(controller)
        .get_or_init(|| {
            if !cfg!(target_os = "linux") {
                return None;
            }
            let own = fs::read_to_string("/proc/self/cgroup").ok()?;
            let path = own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                controllers
                    .split(',')
                    .any(|c| c == controller.name())
                    .then(|| path.to_string())
            })?;
            let base = Path::new("/sys/fs/cgroup")
                .join(controller.name())
                .join(path.trim_start_matches('/'));
            let dir = base.join(format!("crossprobe-{}", std::process::id()));
            fs::create_dir(&dir).ok()?;
            match dir.join(controller.limit_file()).is_file() {
                true => Some(dir),
                false => {
                    let _ = fs::remove_dir(&dir);
                    None
                }
            }
        })
        .as_deref()
}

fn made(controller: Controller) -> &'static OnceLock<Option<PathBuf>> {
    static MEMORY: OnceLock<Option<PathBuf>> = OnceLock::new();
    static PIDS: OnceLock<Option<PathBuf>> = OnceLock::new();
    match controller {
        Controller::Memory => &MEMORY,
        Controller::Pids => &PIDS,
    }
}

/// Whether a command's processes can be bounded here (`run.processes`):
/// a pids cgroup can be made.
pub fn bounds_processes() -> bool {
    root(Controller::Pids).is_some()
}

/// A fresh group of `controller` with `limit` written into its limit
/// file; None where none can be made.
fn make(controller: Controller, n: u64, limit: u64) -> Option<PathBuf> {
    let dir = root(controller)?.join(n.to_string());
    fs::create_dir(&dir).ok()?;
    if fs::write(dir.join(controller.limit_file()), limit.to_string()).is_err() {
        let _ = fs::remove_dir(&dir);
        return None;
    }
    Some(dir)
}

impl Cgroup {
    /// Fresh groups holding the command to at most `memory` bytes (no
    /// swap beyond it) and `processes` processes and threads at once, each
    /// where it can be made.
    pub(super) fn new(memory: Option<u64>, processes: Option<u64>) -> Cgroup {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let memory = memory.and_then(|bytes| {
            let dir = make(Controller::Memory, n, bytes)?;
            // Where swap accounting is on: no swap either, or a hog would
            // page the host to a crawl instead of failing.
            let _ = fs::write(dir.join("memory.memsw.limit_in_bytes"), bytes.to_string());
            Some(dir)
        });
        let pids = processes.and_then(|max| make(Controller::Pids, n, max));
        let procs = [&memory, &pids]
            .into_iter()
            .flatten()
            .filter_map(|d| {
                CString::new(d.join("cgroup.procs").to_string_lossy().into_owned()).ok()
            })
            .collect();
        Cgroup {
            memory,
            pids,
            procs,
        }
    }

    /// Whether a memory group bounds the command (else the rlimit must).
    pub(super) fn bounds_memory(&self) -> bool {
        self.memory.is_some()
    }

    pub(super) fn procs(&self) -> &[CString] {
        &self.procs
    }

    /// The most memory the group's processes held at once, in KiB: what
    /// `run.memory` bounds (page cache the tree caused included). None
    /// where the kernel does not say.
    pub(super) fn peak_kib(&self) -> Option<u64> {
        let dir = self.memory.as_ref()?;
        let bytes = fs::read_to_string(dir.join("memory.max_usage_in_bytes")).ok()?;
        bytes.trim().parse::<u64>().ok().map(|b| b / 1024)
    }

    /// Whether the kernel killed a process of the group for want of memory.
    pub(super) fn oom_killed(&self) -> bool {
        let Some(dir) = &self.memory else {
            return false;
        };
        let control = fs::read_to_string(dir.join("memory.oom_control")).unwrap_or_default();
        let kills = control.lines().find_map(|l| l.strip_prefix("oom_kill "));
        match kills {
            Some(n) => n.trim().parse::<u64>().is_ok_and(|n| n > 0),
            // Kernels before 4.13 count no kills: hitting the limit is it.
            None => fs::read_to_string(dir.join("memory.failcnt"))
                .is_ok_and(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0)),
        }
    }

    /// Whether a fork or clone of the group failed because it held its
    /// `run.processes` already (`pids.events`: `max N`).
    pub(super) fn process_limit_hit(&self) -> bool {
        let Some(dir) = &self.pids else {
            return false;
        };
        let events = fs::read_to_string(dir.join("pids.events")).unwrap_or_default();
        events
            .lines()
            .filter_map(|l| l.strip_prefix("max "))
            .any(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // A group is empty once its processes are reaped; a straggler
        // being killed may take a moment.
        for dir in [&self.memory, &self.pids].into_iter().flatten() {
            for _ in 0..50 {
                if fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// Removes this process's directories of cgroups, at exit.
pub fn cleanup() {
    for c in [Controller::Memory, Controller::Pids] {
        if let Some(Some(dir)) = made(c).get() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Between fork and exec: moves the calling process into the group whose
/// `cgroup.procs` is `procs`. Only async-signal-safe calls, no allocation.
pub(super) fn enter(procs: &CString) -> std::io::Result<()> {
    // SAFETY: open, write and close on a NUL-terminated path and a stack
    // buffer; getpid cannot fail.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut buf = [0u8; 20];
        let digits = super::sys::decimal(libc::getpid() as u64, &mut buf);
        let n = libc::write(fd, digits.as_ptr().cast(), digits.len());
        libc::close(fd);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
