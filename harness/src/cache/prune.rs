//! What a cache keeps no longer than it is used: result entries and build
//! directories unused for [`MAX_UNUSED_AGE`], looked at once a day.

use std::path::Path;
use std::time::Duration;

/// How long a build directory or a result nobody used is kept.
pub const MAX_UNUSED_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// True at most once a day per cache: whether this run should prune it.
/// The answer is recorded (a `pruned` file's mtime) as it is given.
pub fn prune_due(root: &Path) -> bool {
    let stamp = root.join("pruned");
    let recent = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .is_ok_and(|t| {
            t.elapsed()
                .is_ok_and(|age| age < Duration::from_secs(24 * 3600))
        });
    if recent {
        return false;
    }
    std::fs::create_dir_all(root).is_ok() && std::fs::write(&stamp, b"").is_ok()
}

/// Removes the build directories under `root` that no run has used for
/// `max_age`, by their lock file's mtime (touched on every use). One in use
/// by another crossprobe is left alone: the lock is held while the
/// directory goes, and the lock file goes last, so a run that comes for the
/// directory meanwhile either waits out the lock (and builds in a temporary
/// directory) or makes the directory anew. Returns how many went.
pub fn prune_builds(root: &Path, max_age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for lock_path in entries.filter_map(|e| Some(e.ok()?.path())) {
        let Some(dir) = lock_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".lock"))
            .map(|n| root.join(n))
        else {
            continue;
        };
        let old = std::fs::metadata(&lock_path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age));
        if !old {
            continue;
        }
        let Ok(Some(held)) = crate::fsutil::Lock::try_exclusive(&lock_path) else {
            continue;
        };
        // Checked again under the lock: another run may have just used it.
        let still_old = std::fs::metadata(&lock_path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age));
        if still_old && (std::fs::remove_dir_all(&dir).is_ok() || !dir.exists()) {
            let _ = std::fs::remove_file(&lock_path);
            removed += 1;
        }
        drop(held);
    }
    removed
}
