//! How much a directory holds, and sizes as people read them: for doctor's
//! GOCACHE line and `crossprobe cache info`. And what a full disk looks
//! like, to the pipeline (which stops starting cells) and to the reports
//! (which keep what finished): an errno for crossprobe's own writes, the
//! filesystem's free space for a child's (never its words).

use std::path::Path;
use std::time::{Duration, Instant};

/// Files and bytes under a directory, links not followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub files: u64,
    pub bytes: u64,
    /// The budget ran out before every file was counted.
    pub partial: bool,
}

/// What `dir` holds, counted for at most `budget`: a GOCACHE can hold a
/// million files.
pub fn usage(dir: &Path, budget: Duration) -> Usage {
    let t = Instant::now();
    let mut u = Usage::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if t.elapsed() > budget {
            u.partial = true;
            break;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(e.path()),
                Ok(ft) if ft.is_file() => {
                    u.files += 1;
                    u.bytes += e.metadata().map_or(0, |m| m.len());
                }
                _ => {}
            }
        }
    }
    u
}

/// `1536` → `1.5 KiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// True for the errors of a full disk: no space, a quota, or a file size
/// limit (`ulimit -f`).
pub fn is_full(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG)
    ) || e.kind() == std::io::ErrorKind::StorageFull
}

/// What a filesystem has left, as the one writing there sees it: root may
/// use the blocks reserved for it, others may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// The device, to look at each filesystem once.
    pub dev: u64,
    pub bytes: u64,
    /// Free inodes; `None` where the filesystem does not count them (btrfs).
    pub inodes: Option<u64>,
}

/// The space left on the filesystem of `p` (its nearest existing
/// ancestor).
pub fn space(p: &Path) -> Option<Space> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let existing = p.ancestors().find(|a| a.exists())?;
        let dev = std::fs::metadata(existing).ok()?.dev();
        let c = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()).ok()?;
        // SAFETY: statvfs fills in the struct; c is a valid C string.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        // fsblkcnt_t and c_ulong are narrower on 32-bit targets.
        #[allow(clippy::unnecessary_cast)]
        let (blocks, inodes, files) = match root {
            true => (st.f_bfree as u64, st.f_ffree as u64, st.f_files as u64),
            false => (st.f_bavail as u64, st.f_favail as u64, st.f_files as u64),
        };
        #[allow(clippy::unnecessary_cast)]
        Some(Space {
            dev,
            bytes: blocks.saturating_mul(st.f_frsize as u64),
            inodes: (files > 0).then_some(inodes),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        None
    }
}

/// Below this, a filesystem a failed cell wrote to counts as full. A
/// child's ENOSPC never reaches crossprobe as an errno, and its words are
/// no evidence (a probe may print "no space left on device", a C compiler
/// quotes the `#error` a snippet wrote): the filesystem itself is asked.
/// By then `go build` has removed its half-written binary, so what is free
/// is what that write had taken plus what it could not have; a linked Go
/// binary is tens of MB.
pub const LOW_BYTES: u64 = 64 << 20;
/// Likewise for inodes: a filesystem out of them fails writes with ENOSPC
/// too.
pub const LOW_INODES: u64 = 256;

/// The first of `places` whose filesystem is (nearly) full, said as
/// `PATH has N free`: what stops a run after a cell failed, since every
/// later cell would fail the same way.
pub fn full_at(places: &[&Path]) -> Option<String> {
    let mut seen = Vec::new();
    for p in places {
        let Some(s) = space(p) else {
            continue;
        };
        if seen.contains(&s.dev) {
            continue;
        }
        seen.push(s.dev);
        if s.bytes < LOW_BYTES {
            return Some(format!("{} has {} free", p.display(), human(s.bytes)));
        }
        if let Some(i) = s.inodes.filter(|&i| i < LOW_INODES) {
            return Some(format!("{} has {i} free inodes", p.display()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disks_are_recognised() {
        use std::io;
        assert!(is_full(&io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(is_full(&io::Error::from_raw_os_error(libc::EFBIG)));
        assert!(!is_full(&io::Error::from_raw_os_error(libc::EACCES)));
        assert!(is_full(&io::Error::from(io::ErrorKind::StorageFull)));
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(5 << 30), "5.0 GiB");
    }

    #[test]
    fn usage_counts_files_below() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/b/x"), [0u8; 100]).unwrap();
        std::fs::write(d.path().join("y"), [0u8; 20]).unwrap();
        let u = usage(d.path(), Duration::from_secs(10));
        assert_eq!((u.files, u.bytes, u.partial), (2, 120, false));
        assert_eq!(
            usage(&d.path().join("missing"), Duration::from_secs(1)),
            Usage::default()
        );
    }
}
