//! One run at a time per reports directory. Two runs writing the same
//! `reports/<name>/` would interleave their journals and leave one run's
//! results.json beside the other's junit.xml, so the second run stops at
//! once with the first one's pid, before anything is built.
//!
//! An advisory `flock` on `<dir>/.crossprobe.lock`: the kernel releases it
//! when the holder exits, however it exits, so a killed run never leaves a
//! stale lock. The file itself stays; deleting a lock file while another
//! process may be opening it is a race.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::errors::Error;
use crate::fsutil::Lock;

pub const FILE: &str = ".crossprobe.lock";

/// Held for as long as the run writes into the directory.
pub struct DirLock {
    _lock: Lock,
    pub path: PathBuf,
}

/// Takes the lock of the reports directory `dir`, which must exist.
pub fn lock(dir: &Path) -> Result<DirLock, Error> {
    let path = dir.join(FILE);
    let fail = |source: std::io::Error| Error::Write {
        path: path.clone(),
        error: source,
        help: Some("choose another directory with --out, or fix its permissions".into()),
    };
    let Some(mut lock) = Lock::try_exclusive(&path).map_err(fail)? else {
        let mut holder = String::new();
        if let Ok(mut file) = std::fs::File::open(&path) {
            let _ = file.read_to_string(&mut holder);
        }
        let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
        return Err(Error::Locked {
            dir: dir.to_path_buf(),
            holder: match holder.is_empty() {
                true => "which just started".into(),
                false => holder,
            },
        });
    };
    // Who holds it, for the message above; best effort.
    let file = lock.file();
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(
        file,
        "pid {}, started {}",
        std::process::id(),
        super::now_rfc3339()
    );
    Ok(DirLock { _lock: lock, path })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        let err = lock(dir.path()).err().expect("the second lock is refused");
        let text = err.to_string();
        assert!(text.contains("in use by another crossprobe run"), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        lock(dir.path()).expect("free again");
    }
}
