//! A memory cgroup per bounded command, where one can be made: it bounds
//! the command's whole process tree (a bwrap sandbox, qemu and the guest
//! under it, wine's client), and says afterwards whether the kernel killed
//! it for memory.
//!
//! `RLIMIT_DATA` bounds each process on its own and is the fallback; under
//! it qemu-user's own allocations can fail before its guest's, and qemu
//! then hangs instead of exiting ("GSlice: failed to allocate"). A cgroup's
//! OOM kill ends the command cleanly.
//!
//! Made where crossprobe may write a cgroup v1 memory hierarchy (as root,
//! or where one is delegated): `<its cgroup>/crossprobe-<pid>/<n>`. On a
//! pure cgroup v2 host a user's session scope is not delegated, so the
//! rlimit is what bounds a cell there.

use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// One command's cgroup, removed when dropped (once its processes are gone).
pub(super) struct Cgroup {
    dir: PathBuf,
    /// `<dir>/cgroup.procs`, ready for the child to write itself into
    /// between fork and exec, where nothing may allocate.
    procs: CString,
}

/// This process's directory of cgroups, made on first use; None when no
/// memory hierarchy can be written here.
fn root() -> Option<&'static Path> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let own = fs::read_to_string("/proc/self/cgroup").ok()?;
        let path = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| path.to_string())
        })?;
        let base = Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/'));
        let dir = base.join(format!("crossprobe-{}", std::process::id()));
        fs::create_dir(&dir).ok()?;
        dir.join("memory.limit_in_bytes").is_file().then_some(dir)
    })
    .as_deref()
}

impl Cgroup {
    /// A fresh cgroup holding at most `bytes` of memory (no swap beyond
    /// it); None where none can be made.
    pub(super) fn new(bytes: u64) -> Option<Cgroup> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = root()?.join(N.fetch_add(1, Ordering::Relaxed).to_string());
        fs::create_dir(&dir).ok()?;
        let group = Cgroup {
            procs: CString::new(dir.join("cgroup.procs").to_string_lossy().into_owned()).ok()?,
            dir,
        };
        fs::write(group.dir.join("memory.limit_in_bytes"), bytes.to_string()).ok()?;
        // Where swap accounting is on: no swap either, or a hog would page
        // the host to a crawl instead of failing.
        let _ = fs::write(
            group.dir.join("memory.memsw.limit_in_bytes"),
            bytes.to_string(),
        );
        Some(group)
    }

    pub(super) fn procs(&self) -> &CString {
        &self.procs
    }

    /// The most memory the group's processes held at once, in KiB: what
    /// `run.memory` bounds (page cache the tree caused included). None
    /// where the kernel does not say.
    pub(super) fn peak_kib(&self) -> Option<u64> {
        let bytes = fs::read_to_string(self.dir.join("memory.max_usage_in_bytes")).ok()?;
        bytes.trim().parse::<u64>().ok().map(|b| b / 1024)
    }

    /// Whether the kernel killed a process of the group for want of memory.
    pub(super) fn oom_killed(&self) -> bool {
        let control = fs::read_to_string(self.dir.join("memory.oom_control")).unwrap_or_default();
        let kills = control.lines().find_map(|l| l.strip_prefix("oom_kill "));
        match kills {
            Some(n) => n.trim().parse::<u64>().is_ok_and(|n| n > 0),
            // Kernels before 4.13 count no kills: hitting the limit is it.
            None => fs::read_to_string(self.dir.join("memory.failcnt"))
                .is_ok_and(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0)),
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The group is empty once its processes are reaped; a straggler
        // being killed may take a moment.
        for _ in 0..50 {
            if fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Removes this process's directory of cgroups, at exit.
pub fn cleanup() {
    if let Some(dir) = root() {
        let _ = fs::remove_dir(dir);
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
        let mut i = buf.len();
        let mut pid = libc::getpid() as u64;
        loop {
            i -= 1;
            buf[i] = b'0' + (pid % 10) as u8;
            pid /= 10;
            if pid == 0 {
                break;
            }
        }
        let n = libc::write(fd, buf[i..].as_ptr().cast(), buf.len() - i);
        libc::close(fd);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
