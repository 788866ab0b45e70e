//! Orphans: a command's descendants whose parent died before them.
//!
//! crossprobe is a child subreaper (`PR_SET_CHILD_SUBREAPER`, Linux): an
//! orphaned descendant becomes crossprobe's child instead of init's. Two
//! things depend on it.
//! - **Counting.** A process's CPU time reaches `RUSAGE_CHILDREN` (results.json
//!   `perf.children_cpu_ms`) only through the parents that reap it. bwrap's
//!   outer process exits as soon as its namespace's init reports the
//!   command's status, so that init, which reaped everything the cell ran,
//!   used to be reaped by the host's init: a sandboxed cell's CPU went
//!   uncounted. It is crossprobe's child now, and reaped here.
//! - **Leftovers.** A daemon that called `setsid` and cleared its
//!   environment carries no marker for [`super::sweep`] to find, but it is
//!   still crossprobe's child once its parent is gone: it is killed when its
//!   command ends.
//!
//! Which command an orphan belongs to: the one whose marker it carries; an
//! orphan that carries none of this crossprobe's markers (it cleared its
//! environment) can belong to any command running while it was orphaned,
//! so it is killed when no command is running any more (at the latest at
//! the run's end, [`finish`]). wineservers are spared, as the sweep spares
//! them, and so are the daemons a `Spec::daemons` command left, until
//! [`super::sweep::kill_left`].
//!
//! Elsewhere (macOS) there is no subreaper: the process group kill and the
//! marker sweep are all.

#[cfg(target_os = "linux")]
pub(super) use linux::*;
#[cfg(not(target_os = "linux"))]
pub(super) use other::*;

/// Kills and reaps every orphan still left (but the wineservers and daemons
/// that `sweep::kill_left` ends): for the end of a run, once no command is
/// running.
pub fn finish() {
    collect(None);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeSet;
    use std::path::PathBuf;
    use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
    use std::time::Duration;

    use super::super::sweep::VAR;

    /// crossprobe's own children: started by `process::run` or
    /// `passthrough`, and not yet reaped by whoever started them. Never
    /// orphans, whatever group or session they moved to.
    static OWN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
    /// Commands running now, by marker: an orphan that carries one of them
    /// is its command's to end.
    static RUNNING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    /// Markers of the commands that left daemons (`Spec::daemons`).
    static LEFT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Becomes the subreaper of whatever crossprobe starts; once.
    pub fn adopt() {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            // SAFETY: prctl with integer arguments only.
            unsafe {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
        });
    }

    /// Held while a child is started and listed as crossprobe's own, so
    /// that a collection in another thread never takes it for an orphan.
    pub struct Spawning(MutexGuard<'static, BTreeSet<u32>>);

    pub fn spawning() -> Spawning {
        Spawning(lock(&OWN))
    }

    impl Spawning {
        /// Lists `pid` as crossprobe's own child, and `marker`'s command as
        /// running.
        pub fn started(mut self, pid: u32, marker: &str) {
            self.0.insert(pid);
            lock(&RUNNING).insert(marker.to_string());
        }
    }

    /// The child `pid` was reaped by its starter; its command's orphans are
    /// collected by [`ended`].
    pub fn reaped(pid: u32) {
        lock(&OWN).remove(&pid);
    }

    /// The command carrying `marker` is over: its orphans are killed and
    /// reaped, and so are the unmarked ones if no command runs any more.
    /// With `left`, it started daemons meant to outlive it: its orphans stay
    /// until `sweep::kill_left`.
    pub fn ended(marker: &str, left: bool) {
        lock(&RUNNING).remove(marker);
        if left {
            lock(&LEFT).insert(marker.to_string());
        }
        collect(Some(marker));
    }

    /// Every marked process is dead now (`sweep::kill_left`): reap them.
    pub fn left_killed() {
        lock(&LEFT).clear();
        collect(None);
    }

    /// One adopted process, as /proc tells it.
    struct Orphan {
        pid: u32,
        zombie: bool,
        /// Its `CROSSPROBE_SPAWN` value, if it carries one of ours.
        marker: Option<String>,
        server: bool,
    }

    /// Kills what `marker`'s command left (every orphan, with None), and
    /// reaps every dead orphan. Repeats while it kills: a killed orphan's
    /// children are orphans in turn.
    pub(in super::super) fn collect(marker: Option<&str>) {
        for _ in 0..100 {
            let mut pending = false;
            for o in adopted() {
                if o.zombie {
                    reap(o.pid);
                    continue;
                }
                if o.server || o.marker.as_ref().is_some_and(|m| lock(&LEFT).contains(m)) {
                    continue;
                }
                let ours = match (&o.marker, marker) {
                    (_, None) => true,
                    // Its own, or a command's that has ended without
                    // leaving daemons.
                    (Some(m), Some(want)) => m == want || !lock(&RUNNING).contains(m),
                    // Unmarked: whoever it belongs to has ended once no
                    // command runs.
                    (None, Some(_)) => lock(&RUNNING).is_empty(),
                };
                if ours {
                    super::super::sys::kill(o.pid, libc::SIGKILL);
                    pending = true;
                }
            }
            if !pending {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn reap(pid: u32) {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        let mut status = 0;
        // SAFETY: waitpid writes the status we own.
        unsafe {
            libc::waitpid(pid, &mut status, libc::WNOHANG);
        }
    }

    /// crossprobe's children as the kernel lists them: each thread's
    /// `children` (an orphan is handed to any thread of its subreaper). A
    /// few files instead of every process's `stat`, after every command.
    /// None where the kernel keeps no such list (CONFIG_PROC_CHILDREN off):
    /// then every process is read. A list read while children come and go
    /// may miss one; the next collection, or `finish`, takes it.
    fn children() -> Option<Vec<u32>> {
        let mut pids = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let text = std::fs::read_to_string(task.path().join("children")).ok()?;
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
        Some(pids)
    }

    /// crossprobe's children that it did not start itself.
    fn adopted() -> Vec<Orphan> {
        let own = lock(&OWN);
        let me = std::process::id();
        // SAFETY: getpgrp cannot fail.
        let my_group = unsafe { libc::getpgrp() } as u32;
        let ours = format!("{VAR}={me}.");
        let mut found = Vec::new();
        let candidates: Vec<(u32, PathBuf)> = match children() {
            Some(pids) => pids
                .into_iter()
                .map(|p| (p, PathBuf::from(format!("/proc/{p}"))))
                .collect(),
            None => super::super::sys::processes().collect(),
        };
        for (pid, dir) in candidates {
            if own.contains(&pid) {
                continue;
            }
            let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid pgrp ...": comm may hold anything, so
            // read from the last ')'.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next().unwrap_or("");
            let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
            let group = fields.next().and_then(|p| p.parse::<u32>().ok());
            // A child in crossprobe's own group was started by someone
            // else in this process (a library's Command), not orphaned.
            if ppid != Some(me) || group == Some(my_group) {
                continue;
            }
            let env = std::fs::read(dir.join("environ")).unwrap_or_default();
            let marker = env
                .split(|b| *b == 0)
                .find_map(|v| v.strip_prefix(ours.as_bytes()).map(|_| v))
                .and_then(|v| std::str::from_utf8(&v[VAR.len() + 1..]).ok())
                .map(str::to_string);
            let comm = head.split_once('(').map_or("", |(_, c)| c);
            found.push(Orphan {
                pid,
                zombie: state == "Z",
                marker,
                server: comm.starts_with("wineserver"),
            });
        }
        found
    }
}

#[cfg(not(target_os = "linux"))]
mod other {
    pub fn adopt() {}

    pub struct Spawning;

    pub fn spawning() -> Spawning {
        Spawning
    }

    impl Spawning {
        pub fn started(self, _pid: u32, _marker: &str) {}
    }

    pub fn reaped(_pid: u32) {}

    pub fn ended(_marker: &str, _left: bool) {}

    pub fn left_killed() {}

    pub(in super::super) fn collect(_marker: Option<&str>) {}
}
