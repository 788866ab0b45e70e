//! The few raw system calls `process` needs that std and duct do not offer:
//! signalling a whole process group, noticing that a child exited without
//! reaping it, and naming signals.

use std::io;

/// Sends `sig` to every process in group `pgid`. A group that is already gone
/// is not an error: the caller only wants it dead.
pub(super) fn killpg(pgid: u32, sig: i32) {
    // killpg(0) and killpg(1) would hit our own group and init's; a bad pid
    // here must never turn into that.
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(pgid, sig);
    }
}

/// Sends `sig` to every process in group `pgid` but its leader: for a
/// leader that passes no signals on and dies of them (bwrap, whose sandboxed
/// child then dies with it), so that the command inside gets them itself.
#[cfg(target_os = "linux")]
pub(super) fn killpg_but_leader(pgid: u32, sig: i32) {
    for (pid, dir) in processes() {
        // /proc/PID/stat: "pid (comm) state ppid pgrp ...", comm may hold
        // spaces and parentheses, so read from the last ')'.
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let pgrp = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2))
            .and_then(|g| g.parse::<u32>().ok());
        if pid != pgid && pgrp == Some(pgid) {
            kill(pid, sig);
        }
    }
}

/// Every process's pid and /proc directory (Linux).
#[cfg(target_os = "linux")]
pub(super) fn processes() -> impl Iterator<Item = (u32, std::path::PathBuf)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, entry.path()))
        })
}

#[cfg(not(target_os = "linux"))]
pub(super) fn killpg_but_leader(pgid: u32, sig: i32) {
    killpg(pgid, sig);
}

/// Sends `sig` to the single process `pid`.
pub(super) fn kill(pid: u32, sig: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 1 {
        return;
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Whether child `pid` has exited, leaving it a zombie. Not reaping matters:
/// while the zombie exists its pid, which is also its group's id, cannot be
/// reused, so a following `killpg` reaches only its own group.
pub(super) fn exited(pid: u32) -> io::Result<bool> {
    let pid = libc::id_t::from(pid);
    // SAFETY: waitid writes at most one siginfo_t into the zeroed value we own.
    // Darwin leaves it untouched when nothing exited, hence the zeroing and
    // the si_signo test (as in the shared_child crate that duct uses).
    let (ret, signo) = unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let ret = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
        );
        (ret, info.si_signo)
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(signo == libc::SIGCHLD)
}

const NAMES: &[(i32, &str)] = &[
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGTRAP, "SIGTRAP"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGCONT, "SIGCONT"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGTSTP, "SIGTSTP"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGXCPU, "SIGXCPU"),
    (libc::SIGXFSZ, "SIGXFSZ"),
    (libc::SIGVTALRM, "SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
    (libc::SIGSYS, "SIGSYS"),
    #[cfg(target_os = "macos")]
    (libc::SIGEMT, "SIGEMT"),
    #[cfg(target_os = "macos")]
    (libc::SIGINFO, "SIGINFO"),
];

/// The conventional name of signal `sig` on this host ("SIGILL"), or
/// "signal N" for one without a name (Linux real-time signals, say).
pub fn signal_name(sig: i32) -> String {
    match NAMES.iter().find(|(n, _)| *n == sig) {
        Some((_, name)) => (*name).to_string(),
        None => format!("signal {sig}"),
    }
}

/// `n` in decimal, written into the tail of `buf` without allocating
/// (between fork and exec).
pub(super) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Bounds the calling process's private writable memory (`RLIMIT_DATA`,
/// counted over anonymous and private mappings since Linux 4.7), for a
/// child between fork and exec: its descendants inherit it. Where the
/// platform has no such limit (macOS enforces none), nothing is bounded.
pub(super) fn limit_data(bytes: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    match unsafe { libc::setrlimit(libc::RLIMIT_DATA, &lim) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_signals_probes_die_of() {
        assert_eq!(signal_name(libc::SIGILL), "SIGILL");
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(libc::SIGBUS), "SIGBUS");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
        assert_eq!(signal_name(libc::SIGTRAP), "SIGTRAP");
    }

    #[test]
    fn unknown_signals_keep_their_number() {
        assert_eq!(signal_name(0), "signal 0");
        assert_eq!(signal_name(77), "signal 77");
    }
}
