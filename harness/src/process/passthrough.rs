//! A child that is the user's own command: `crossprobe exec`, standing in
//! for the binary under `go test -exec` or a `go_GOOS_GOARCH_exec` wrapper.
//!
//! Unlike [`super::run`], nothing is captured and there is no timeout (the
//! caller, usually cmd/go, owns those): stdin is inherited, and stdout and
//! stderr reach the caller as they are written, since `go test` reads the
//! test binary's stdout while it runs.
//!
//! A pipe is relayed, not handed down: wine leaves helper processes holding
//! whatever stdout and stderr the program had, so handing ours down would
//! keep cmd/go's pipe open, and `go test` would wait for its EOF long after
//! the test binary exited. Our own pipes are drained once the child has
//! exited and then dropped; a straggler still holding one no longer
//! matters. A terminal or a file is handed down as it is.
//!
//! The child leads a process group of its own, killed once it exits, as
//! in `run`; when crossprobe holds the terminal, the child's group gets it
//! for as long as it runs. SIGINT, SIGTERM, SIGQUIT and SIGHUP sent to
//! crossprobe are passed on to that group (cmd/go sends SIGQUIT to a wedged
//! test binary for its goroutine dump), and on Linux the child dies with
//! crossprobe if crossprobe is killed outright.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{orphans, spawn_error, sweep, sys};

/// What to run.
#[derive(Clone, Debug)]
pub struct Passthrough {
    pub argv: Vec<String>,
    /// Set on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    /// The program is a wrapper that passes no signals on and dies of them
    /// (bwrap): signals go to the rest of its process group, the command
    /// it runs, instead.
    pub wrapped: bool,
}

/// How often a relay looks at its pipe when nothing arrives, and so how
/// late it notices that the child is gone.
const POLL_MS: i32 = 25;

/// Runs `p` to the end and returns its status as a shell reports it: the
/// exit code, or 128 + the signal that killed it.
///
/// `Err` when it could not be started (empty argv, missing program or
/// directory), or when waiting for it failed.
pub fn passthrough(p: &Passthrough) -> io::Result<i32> {
    let Some((program, args)) = p.argv.split_first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot run an empty argv",
        ));
    };
    let (stdout, stderr, readers) = relayed_stdio()?;
    let marker = sweep::marker();
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .envs(&p.env)
        .env(sweep::VAR, &marker)
        .current_dir(&p.cwd)
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let foreground = terminal::ours();
    // SAFETY: prctl, signal and tcsetpgrp are async-signal-safe and touch
    // no memory of ours.
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if foreground {
                terminal::hand_to(libc::getpgrp());
            }
            Ok(())
        });
    }
    if !p.cwd.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "cannot run {program}: working directory {} does not exist",
                p.cwd.display()
            ),
        ));
    }
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGQUIT, SIGHUP])?;
    orphans::adopt();
    let spawning = orphans::spawning();
    let mut child = cmd.spawn().map_err(|e| spawn_error(program, e))?;
    spawning.started(child.id(), &marker);
    // The command holds the pipes' write ends: while it lives the relays
    // would never see EOF from a child that closed its own.
    drop(cmd);
    let pid = child.id();

    let done = Arc::new(AtomicBool::new(false));
    let relays: Vec<_> = readers
        .into_iter()
        .map(|(r, s)| {
            let done = Arc::clone(&done);
            thread::spawn(move || relay(r.into(), s, &done))
        })
        .collect();
    let handle = signals.handle();
    let wrapped = p.wrapped;
    let forwarder = thread::spawn(move || {
        for sig in signals.forever() {
            match wrapped {
                true => sys::killpg_but_leader(pid, sig),
                false => sys::killpg(pid, sig),
            }
        }
    });

    let waited = wait_exited(pid);
    if foreground {
        // SAFETY: getpgrp has no preconditions.
        terminal::hand_to(unsafe { libc::getpgrp() });
    }
    // The leader is still a zombie, so the group id is still its own.
    sys::killpg(pid, libc::SIGKILL);
    let status = child.wait();
    orphans::reaped(pid);
    sweep::kill_carrying(&marker);
    orphans::ended(&marker, false);
    handle.close();
    let _ = forwarder.join();
    done.store(true, Ordering::SeqCst);
    for r in relays {
        let _ = r.join();
    }
    waited?;
    let status = status?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    })
}

/// The child's stdout and stderr, and the read ends crossprobe relays.
/// Only a pipe or a socket is relayed: nobody waits for EOF on a terminal
/// or a file, and a program that sees the terminal stays interactive. One
/// pipe serves both when our stdout and stderr are one (cmd/go hands a test
/// binary the same pipe for both): the child's interleaving then survives
/// the relay exactly.
type Readers = Vec<(io::PipeReader, Stream)>;

fn relayed_stdio() -> io::Result<(Stdio, Stdio, Readers)> {
    let (out, err) = (io::stdout(), io::stderr());
    let mut readers = Vec::new();
    let stdout = match is_pipe(out.as_fd()) {
        true => {
            let (r, w) = io::pipe()?;
            readers.push((r, Stream::Out));
            Some(w)
        }
        false => None,
    };
    let stderr = match (&stdout, is_pipe(err.as_fd())) {
        (Some(w), true) if same_file(out.as_fd(), err.as_fd()) => Stdio::from(w.try_clone()?),
        (_, true) => {
            let (r, w) = io::pipe()?;
            readers.push((r, Stream::Err));
            Stdio::from(w)
        }
        (_, false) => Stdio::inherit(),
    };
    let stdout = stdout.map_or_else(Stdio::inherit, Stdio::from);
    Ok((stdout, stderr, readers))
}

/// The controlling terminal, which a child reading it must hold: a
/// process group of its own would otherwise be stopped by SIGTTIN.
mod terminal {
    /// Whether stdin is a terminal whose foreground group is ours.
    pub fn ours() -> bool {
        // SAFETY: isatty, tcgetpgrp and getpgrp have no preconditions.
        unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
    }

    /// Makes `pgrp` the terminal's foreground group. Async-signal-safe: the
    /// child calls it between fork and exec. SIGTTOU is ignored meanwhile,
    /// since a background group that asks is otherwise stopped by it.
    pub fn hand_to(pgrp: libc::pid_t) {
        // SAFETY: signal and tcsetpgrp have no memory-safety preconditions.
        unsafe {
            let old = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(0, pgrp);
            libc::signal(libc::SIGTTOU, old);
        }
    }
}

/// Whether a descriptor is a pipe or a socket.
fn is_pipe(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: fstat writes one stat struct into the zeroed value we own.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd.as_raw_fd(), &mut st) == 0
            && matches!(st.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK)
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Copies the child's side of one stream to ours until EOF, or until the
/// child is `done` and nothing more is waiting in the pipe.
fn relay(from: OwnedFd, to: Stream, done: &AtomicBool) {
    let mut from = File::from(from);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let finished = done.load(Ordering::SeqCst);
        if !readable(&from, if finished { 0 } else { POLL_MS }) {
            if finished {
                return;
            }
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let wrote = match to {
            Stream::Out => write_now(&mut io::stdout().lock(), &buf[..n]),
            Stream::Err => write_now(&mut io::stderr().lock(), &buf[..n]),
        };
        // Whoever read our side went away (`crossprobe exec ... | head`):
        // closing the pipe gives the child the SIGPIPE it would have had.
        if wrote.is_err() {
            return;
        }
    }
}

fn write_now(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes)?;
    w.flush()
}

/// Whether a read would not block (data, EOF or an error), waiting up to
/// `ms` milliseconds.
fn readable(f: &File, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd that we own, for a descriptor that stays open.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    n > 0
}

/// Blocks until `pid` has exited, without reaping it.
fn wait_exited(pid: u32) -> io::Result<()> {
    loop {
        // SAFETY: waitid writes one siginfo_t into the zeroed value we own.
        let ret = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                libc::id_t::from(pid),
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if ret == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether two descriptors are the same open file (device and inode).
fn same_file(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    let stat = |fd: BorrowedFd<'_>| {
        // SAFETY: fstat writes one stat struct into the zeroed value we own.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstat(fd.as_raw_fd(), &mut st) == 0).then_some((st.st_dev, st.st_ino))
        }
    };
    matches!((stat(a), stat(b)), (Some(x), Some(y)) if x == y)
}
