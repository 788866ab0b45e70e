//! What a run cost, for results.json's `perf`: crossprobe's own CPU time
//! and peak memory beside its children's (getrusage; the commands' peaks
//! from their cgroups), and the builds and
//! runs it did not do. It covers the whole invocation, from start to the
//! moment the reports are written.

use crate::model::{CellResult, Perf, PhaseName};

pub fn measure(results: &[CellResult]) -> Perf {
    let (self_cpu_ms, self_max_rss_kib) = usage(Who::Me);
    let (children_cpu_ms, _) = usage(Who::Children);
    let ran_build =
        |r: &&CellResult| !r.cached && r.phases.iter().any(|p| p.name == PhaseName::Build);
    Perf {
        self_cpu_ms,
        children_cpu_ms,
        self_max_rss_kib,
        commands_peak_memory_kib: results
            .iter()
            .flat_map(|r| &r.phases)
            .flat_map(|p| &p.commands)
            .filter_map(|c| c.peak_memory_kib)
            .max(),
        cached_cells: results.iter().filter(|r| r.cached).count(),
        builds: results
            .iter()
            .filter(ran_build)
            .filter(|r| r.build_of.is_none())
            .count(),
        builds_shared: results
            .iter()
            .filter(ran_build)
            .filter(|r| r.build_of.is_some())
            .count(),
    }
}

enum Who {
    Me,
    Children,
}

/// User + system CPU milliseconds, and the peak resident set in KiB.
#[cfg(unix)]
fn usage(who: Who) -> (u64, u64) {
    let which = match who {
        Who::Me => libc::RUSAGE_SELF,
        Who::Children => libc::RUSAGE_CHILDREN,
    };
    // SAFETY: getrusage fills the struct we pass and reads nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(which, &mut ru) } != 0 {
        return (0, 0);
    }
    let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
    // Linux reports ru_maxrss in KiB, macOS in bytes.
    let rss = if cfg!(target_os = "macos") {
        ru.ru_maxrss as u64 / 1024
    } else {
        ru.ru_maxrss as u64
    };
    (ms(ru.ru_utime) + ms(ru.ru_stime), rss)
}

#[cfg(not(unix))]
fn usage(_who: Who) -> (u64, u64) {
    (0, 0)
}
