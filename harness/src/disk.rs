//! How much a directory holds, and sizes as people read them: for doctor's
//! GOCACHE line and `crossprobe cache info`. And what a full disk looks
//! like, to the pipeline (which stops starting cells) and to the reports
//! (which keep what finished).

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

/// A cell's failure that says the disk is full: how a `go build` or the
/// creation of a cell's directory reports it.
pub fn says_full(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    // EFBIG ("file too large": a file-size limit, RLIMIT_FSIZE) stops a
    // build the same way, and the journal counts it as disk full too.
    r.contains("no space left on device")
        || r.contains("disk quota exceeded")
        || r.contains("file too large")
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
        assert!(says_full(
            "write /tmp/go-build123/b001/exe/a.out: no space left on device"
        ));
        assert!(!says_full("undefined: x"));
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
