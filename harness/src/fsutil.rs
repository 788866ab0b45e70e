//! The file-system helpers every phase shares: an advisory lock, a write
//! that a reader sees whole or not at all, and a PATH lookup. A leaf: it
//! imports nothing from the crate, so anything may use it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// An advisory lock on a file (`flock` on unix), held until dropped. It
/// works between processes and between threads, since each acquire opens
/// the file anew; the kernel releases it however the holder exits, so a
/// killed run never leaves a stale lock. The file itself stays: deleting a
/// lock file another process may be opening is a race.
pub struct Lock(File);

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

impl Lock {
    /// Waits for the exclusive lock of `path`.
    pub fn exclusive(path: &Path) -> std::io::Result<Lock> {
        let file = open(path)?;
        file.lock()?;
        Ok(Lock(file))
    }

    /// Waits for a shared lock of `path`.
    pub fn shared(path: &Path) -> std::io::Result<Lock> {
        let file = open(path)?;
        file.lock_shared()?;
        Ok(Lock(file))
    }

    /// The exclusive lock of `path`, or None when another holder has it.
    pub fn try_exclusive(path: &Path) -> std::io::Result<Option<Lock>> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock(file))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Sets the lock file's modification time to now: when what it guards
    /// was last used.
    pub fn touch(&self) -> std::io::Result<()> {
        self.0.set_modified(std::time::SystemTime::now())
    }

    /// The lock file, to read or write a note about the holder.
    pub fn file(&mut self) -> &mut File {
        &mut self.0
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename: a reader (another crossprobe, a concurrent `go build`)
/// never sees half a file, and an interrupted write leaves the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, false, |tmp| std::fs::write(tmp, bytes))
}

/// [`write_atomic`], and the data on disk before the rename: for reports,
/// which must survive a crash of the machine, not only of the run.
pub fn write_atomic_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, true, |tmp| std::fs::write(tmp, bytes))
}

/// Copies `from` to `to` as [`write_atomic`] writes: a process may have
/// the old `to` loaded (a DLL stub under wine).
/// Permissions come with the copy, as with `std::fs::copy`.
pub fn copy_atomic(from: &Path, to: &Path) -> std::io::Result<()> {
    write_via_temp(to, false, |tmp| std::fs::copy(from, tmp).map(drop))
}

/// Removes every symbolic link under `dir` (the links themselves, never
/// what they point to; links are not followed into): for a directory that
/// a probe could write and crossprobe writes into again on the next run
/// (a reused build directory). A link there is never crossprobe's, and
/// writing a source or a capture through one would write wherever the
/// probe chose. Returns how many were removed.
pub fn remove_links(dir: &Path) -> usize {
    let mut removed = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_symlink() && std::fs::remove_file(e.path()).is_ok() => removed += 1,
                Ok(t) if t.is_dir() => stack.push(e.path()),
                _ => {}
            }
        }
    }
    removed
}

fn write_via_temp(
    path: &Path,
    sync: bool,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".crossprobe-")
        .tempfile_in(dir)?;
    fill(tmp.path())?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes rendered files into `dir`, each through a temporary file and a
/// rename: a build directory may be reused, and a reader (a concurrent
/// `go build` of the same sources) must never see half a file.
pub fn write_files(files: &[(String, String)], dir: &Path) -> Result<Vec<PathBuf>, CannotWrite> {
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        let fail = |error| CannotWrite {
            path: path.clone(),
            error,
        };
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(fail)?;
        write_atomic(&path, text.as_bytes()).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}

/// [`write_files`] for files named by absolute paths.
pub fn write_files_at(files: &[(PathBuf, String)]) -> Result<(), CannotWrite> {
    for (path, text) in files {
        let dir = path.parent().unwrap_or(Path::new("/"));
        write_files(&[(file_name(path), text.clone())], dir)?;
    }
    Ok(())
}

/// A file of [`write_files`] that could not be written (its directory
/// made, or itself).
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {error}", path.display())]
pub struct CannotWrite {
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// A path's last component as text; empty for `/` or `..`.
/// `a/./b/../c` → `a/c`: `p` without `.` and with each `..` taken back,
/// without touching the file system (no link is followed: the path as the
/// go command and a bind mount use it).
pub fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The first executable file called `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// A regular file with an execute bit (on unix).
pub fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// A file's path, size and modification time: enough to tell a replaced
/// tool from the same one, without reading it.
pub fn stamp(p: &Path) -> String {
    let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    match std::fs::metadata(&real) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{mtime}", real.display(), m.len())
        }
        Err(_) => format!("{}:missing", real.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_removed_and_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), "x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("main.go"), "package main").unwrap();
        std::os::unix::fs::symlink(outside.path().join("keep"), dir.path().join("run.stdout"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("sub/into")).unwrap();
        assert_eq!(remove_links(dir.path()), 2);
        assert!(outside.path().join("keep").is_file());
        assert!(dir.path().join("main.go").is_file());
        assert!(!dir.path().join("sub/into").exists());
    }

    #[test]
    fn an_exclusive_lock_is_refused_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = Lock::exclusive(&path).unwrap();
        assert!(Lock::try_exclusive(&path).unwrap().is_none());
        drop(first);
        let shared = Lock::shared(&path).unwrap();
        assert!(Lock::try_exclusive(&path).unwrap().is_none());
        drop(shared);
        assert!(Lock::try_exclusive(&path).unwrap().is_some());
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "old old old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        write_atomic_synced(&path, b"newer").unwrap();
        let copy = dir.path().join("b.txt");
        copy_atomic(&path, &copy).unwrap();
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "newer");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn which_finds_only_executables() {
        assert!(which("sh").is_some());
        assert!(which("no-such-program-crossprobe").is_none());
    }
}
