//! Processes that left their process group: found by a marker in their
//! environment, and killed once the command that started them has ended.
//!
//! Killing a child's process group reaches everything it forked, unless a
//! descendant moved to a group or session of its own: `setsid`, a double
//! fork, any daemon. Such a process outlives the group kill and would run
//! on after crossprobe. So every child gets `CROSSPROBE_SPAWN=<pid>.<n>`,
//! unique to one `process::run`; descendants inherit it, and once the
//! command is over, any live process still carrying it is killed.
//!
//! What it cannot see: a process that clears its environment. One thing is
//! spared on purpose: a `wineserver` (`wineserver64` on Debian), which a
//! probe's wine may start and which other cells share; `run::cool_down`
//! stops it at the end of the run. The daemons of a command run with
//! `Spec::daemons` are left too, until [`kill_left`].
//!
//! Linux only (it reads `/proc/*/environ`); elsewhere the group kill is all.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable every child gets.
pub const VAR: &str = "CROSSPROBE_SPAWN";

/// Kills every live process that carries a marker of this crossprobe:
/// the daemons `Spec::daemons` commands left, and the wineservers the sweep
/// spared. For the end of a run, once nothing else may still use them
/// (wine's cool-down, by the prefix's last user). Returns how many were
/// killed.
pub fn kill_left() -> usize {
    let killed = kill_marked(&format!("{}.", std::process::id()), true);
    super::orphans::left_killed();
    killed
}

/// A marker value no other command, in this or any other process, has.
pub(super) fn marker() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Kills every live process carrying `marker`. A process may fork while it
/// is being killed, so the scan repeats until it finds nothing (bounded:
/// each round kills what it found). Returns how many were killed.
#[cfg(target_os = "linux")]
pub(super) fn kill_carrying(marker: &str) -> usize {
    kill_marked(marker, false)
}

#[cfg(target_os = "linux")]
/// With `servers_too`, `marker` is a prefix: every marker of this process.
fn kill_marked(marker: &str, servers_too: bool) -> usize {
    let needle = match servers_too {
        true => format!("{VAR}={marker}"),
        false => format!("{VAR}={marker}\0"),
    };
    let mut killed = 0;
    for _ in 0..20 {
        let found = carrying(needle.as_bytes(), servers_too);
        if found.is_empty() {
            break;
        }
        for pid in &found {
            super::sys::kill(*pid, libc::SIGKILL);
        }
        killed += found.len();
    }
    killed
}

#[cfg(not(target_os = "linux"))]
pub(super) fn kill_carrying(_marker: &str) -> usize {
    0
}

#[cfg(not(target_os = "linux"))]
fn kill_marked(_marker: &str, _servers_too: bool) -> usize {
    0
}

#[cfg(target_os = "linux")]
fn carrying(needle: &[u8], servers_too: bool) -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for (pid, dir) in super::sys::processes() {
        if pid == me {
            continue;
        }
        // Unreadable (another user's, or gone) and zombies (empty) are
        // skipped: neither runs anything of ours.
        let Ok(env) = std::fs::read(dir.join("environ")) else {
            continue;
        };
        if !env.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let comm = std::fs::read(dir.join("comm")).unwrap_or_default();
        if !servers_too && comm.starts_with(b"wineserver") {
            continue;
        }
        found.push(pid);
    }
    found
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn markers_are_unique() {
        assert_ne!(marker(), marker());
    }

    #[test]
    fn the_variable_must_match_whole() {
        // `.1` must not match `.10`: the needle ends at the NUL.
        let needle = format!("{VAR}=1.1\0");
        let env = format!("A=b\0{VAR}=1.10\0");
        assert!(!env
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes()));
    }
}
