//! Ctrl-C and SIGTERM: stop every child at once, start no new ones.
//!
//! Each child runs in a process group of its own, so a terminal's SIGINT
//! never reaches it: crossprobe has to kill the groups itself. `run`
//! registers each live group here; the first SIGINT or SIGTERM (or a call to
//! [`request`]) sets a flag and kills every registered group with SIGKILL.
//! The waiting loops in `run` also poll the flag, which covers a group that
//! registers just after the kill went round.
//!
//! What callers see: a `run` that was under way returns `Ok` with the exit
//! the child had (normally `signal: "SIGKILL"`); a `run` called after the
//! request returns a command that was not started (see `process::started`).
//! Either way `requested()` tells the caller to record `Outcome::Interrupted`
//! and exit with 128 + the signal.

use std::collections::BTreeSet;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::sys;

/// 0 until a stop was requested, then the signal that asked for it.
static REQUESTED: AtomicI32 = AtomicI32::new(0);
/// Process groups of children that have not been reaped yet.
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static INSTALLED: Mutex<bool> = Mutex::new(false);

/// Handles SIGINT and SIGTERM from now on. Calling it again does nothing.
///
/// The handling runs on an ordinary thread fed by signal-hook, so it may
/// take locks and call `killpg` freely.
pub fn install() -> io::Result<()> {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    thread::Builder::new()
        .name("crossprobe-signals".to_string())
        .spawn(move || {
            for sig in signals.forever() {
                request(sig);
            }
        })?;
    *installed = true;
    Ok(())
}

/// The run's one cancel token, carried in the pipeline's context and handed
/// to whoever may need to stop it (the report sink, on a full disk). It
/// reads the signal flag above, which is the process's by nature; the
/// engine asks only the token.
#[derive(Clone, Debug, Default)]
pub struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    /// Starts no more cells, although nobody interrupted the run (the disk
    /// filled up); cells already running finish.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether to start no more cells: a signal, or [`Cancel::stop`].
    pub fn stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst) || requested().is_some()
    }

    /// The signal that stopped the run, if one did.
    pub fn signal(&self) -> Option<i32> {
        requested()
    }
}

/// The signal that asked crossprobe to stop, once one did.
pub fn requested() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Has the same effect as receiving `sig` (a non-zero signal number such as
/// `libc::SIGINT`): kills every running child's group and stops new ones.
/// The first request wins; later ones only kill again.
pub fn request(sig: i32) {
    debug_assert!(sig != 0, "signal 0 cannot be told apart from no request");
    // The flag goes up before the groups are walked: a `run` that registers
    // after the walk is bound to see it on its next poll.
    let _ = REQUESTED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    for &pgid in groups().iter() {
        sys::killpg(pgid, libc::SIGKILL);
    }
}

pub(super) fn register(pgid: u32) {
    groups().insert(pgid);
}

/// Must happen before the group's leader is reaped: after that its id may
/// belong to someone else.
pub(super) fn unregister(pgid: u32) {
    groups().remove(&pgid);
}

fn groups() -> MutexGuard<'static, BTreeSet<u32>> {
    // Nothing panics while holding the lock, but a poisoned registry must
    // not stop crossprobe from killing children.
    GROUPS.lock().unwrap_or_else(PoisonError::into_inner)
}
