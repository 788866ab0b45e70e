//! The wine jail: where a sandboxed run's wine programs live.
//!
//! A windows probe does little itself: wine's server opens its files and
//! makes its sockets. A server outside the sandbox wrote the host's $HOME,
//! /tmp and /dev/shm for a probe and dialled the host's loopback. So under
//! the sandbox, each run gets a wineserver of its own, started inside
//! bubblewrap like every other runner (no network, `/` read-only, $HOME and
//! /tmp private), and so are the prefix's services and every probe's
//! client. They all see one filesystem:
//! - the run's own prefix (read-write), made from crossprobe's prefix, the
//!   template: its registry, `users` and `ProgramData` are copied (~3 MB),
//!   and `windows` and `Program Files` (690 MB) are symbolic links into the
//!   template, which is bound read-only. A hard-linked copy would be as
//!   cheap, but a probe could clear a file's read-only attribute (wine
//!   calls fchmod; the owner needs no capability) and write the template's
//!   inode; a read-only mount refuses both;
//! - the directory of the server's socket: a fresh `/tmp/wine-XXXXXX`,
//!   named in the prefix's `wineserver` file (Debian's wine reads it there;
//!   mode 0400, or wine replaces it), and `/tmp/.wine-UID` (upstream wine);
//! - what the run's probes need to read (the build directories, a module's
//!   root), read-only, and what they may write (`crossprobe exec`'s package
//!   directory).
//!
//! The server keeps the host's pid namespace: it signals its clients by
//! the pids they report, which are the host's (each client runs in a
//! sandbox of its own).

use std::fs;
use std::path::{Path, PathBuf};

/// What could not be done to make a jail, and where.
#[derive(Debug)]
pub struct JailError {
    /// "cannot create", "cannot write", ...
    pub what: &'static str,
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// A run's jail: its prefix and socket directory, removed when dropped.
pub struct Jail {
    /// The run's prefix (`WINEPREFIX` of everything in the jail).
    pub prefix: PathBuf,
    /// crossprobe's prefix, which the run's links into.
    template: PathBuf,
    sockets: PathBuf,
    /// What the server may read, and write, besides the prefix.
    readable: Vec<PathBuf>,
    writable: Vec<PathBuf>,
    _root: tempfile::TempDir,
    _sockets: tempfile::TempDir,
}

/// The template's directories a run links to rather than copies: wine's
/// own files, never written after `wineboot --init`.
const LINKED: [&str; 3] = ["windows", "Program Files", "Program Files (x86)"];

impl Jail {
    /// A fresh jail for the prefix `template` (booted, its stub installed),
    /// under `runs` (in crossprobe's cache).
    pub fn make(
        template: &Path,
        runs: &Path,
        readable: Vec<PathBuf>,
        writable: Vec<PathBuf>,
    ) -> Result<Jail, JailError> {
        let io = |what: &'static str, p: &Path, error: std::io::Error| JailError {
            what,
            path: p.to_path_buf(),
            error,
        };
        fs::create_dir_all(runs).map_err(|e| io("cannot create", runs, e))?;
        prune(runs);
        let root = tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .tempdir_in(runs)
            .map_err(|e| io("cannot create a directory in", runs, e))?;
        // Wine takes /tmp (TMPDIR is unset in the sandbox), never the
        // caller's TMPDIR.
        let sockets = tempfile::Builder::new()
            .prefix("wine-")
            .tempdir_in("/tmp")
            .map_err(|e| io("cannot create a directory in", Path::new("/tmp"), e))?;
        // Wine refuses a socket directory that others may enter.
        private(sockets.path()).map_err(|e| io("cannot set the mode of", sockets.path(), e))?;
        let prefix = root.path().join("prefix");
        compose(template, &prefix).map_err(|e| io("cannot make the run's prefix", &prefix, e))?;
        let name = sockets.path().file_name().unwrap_or_default();
        let file = prefix.join("wineserver");
        fs::write(&file, name.as_encoded_bytes()).map_err(|e| io("cannot write", &file, e))?;
        read_only(&file).map_err(|e| io("cannot set the mode of", &file, e))?;
        Ok(Jail {
            prefix,
            template: template.to_path_buf(),
            sockets: sockets.path().to_path_buf(),
            readable,
            writable,
            _root: root,
            _sockets: sockets,
        })
    }

    /// What the server, the services and the stop commands may write.
    pub fn writable(&self) -> Vec<PathBuf> {
        let mut rw = vec![self.prefix.clone(), self.sockets.clone()];
        rw.extend(upstream_sockets());
        rw.extend(self.writable.iter().cloned());
        rw
    }

    /// What they may read besides the system.
    pub fn readable(&self) -> Vec<PathBuf> {
        let mut ro = vec![self.template.clone()];
        ro.extend(self.readable.iter().cloned());
        ro
    }
}

/// What a client of the prefix `prefix` (its `WINEPREFIX`) writes and
/// reads: the prefix and its server's socket directories (created here if
/// missing, mode 0700 as wine demands, so that they can be bound); and,
/// for a run's prefix, the template it links into.
pub fn client_dirs(prefix: &Path, template: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut rw = vec![prefix.to_path_buf()];
    rw.extend(upstream_sockets());
    if let Ok(name) = fs::read_to_string(prefix.join("wineserver")) {
        let name = name.trim();
        if !name.is_empty() && !name.contains('/') && name != "." && name != ".." {
            rw.push(Path::new("/tmp").join(name));
        }
    }
    for d in &rw[1..] {
        private_dir(d);
    }
    let ro = match prefix == template {
        true => Vec::new(),
        false => vec![template.to_path_buf()],
    };
    (rw, ro)
}

/// Upstream wine's socket directory, `/tmp/.wine-UID`.
fn upstream_sockets() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        Some(PathBuf::from(format!("/tmp/.wine-{uid}")))
    }
    #[cfg(not(unix))]
    None
}

/// The run's prefix: the template's registry and the small directories
/// copied, wine's own files linked.
fn compose(template: &Path, prefix: &Path) -> std::io::Result<()> {
    fs::create_dir(prefix)?;
    for entry in fs::read_dir(template)? {
        let entry = entry?;
        let name = entry.file_name();
        let to = prefix.join(&name);
        match name.to_str() {
            // Its own socket directory's name comes next.
            Some("wineserver") => {}
            Some("drive_c") => {
                fs::create_dir(&to)?;
                for e in fs::read_dir(entry.path())? {
                    let e = e?;
                    let linked = e.file_name().to_str().is_some_and(|n| LINKED.contains(&n));
                    match linked {
                        true => symlink(&e.path(), &to.join(e.file_name()))?,
                        false => copy_tree(&e.path(), &to.join(e.file_name()))?,
                    }
                }
            }
            _ => copy_tree(&entry.path(), &to)?,
        }
    }
    Ok(())
}

/// Copies a tree: files, directories and symbolic links as they are.
/// What a `Temp` directory holds is left out: an earlier probe's files.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        return symlink(&fs::read_link(from)?, to);
    }
    if !meta.is_dir() {
        return fs::copy(from, to).map(|_| ());
    }
    fs::create_dir(to)?;
    if from.file_name().is_some_and(|n| n == "Temp") {
        return Ok(());
    }
    for e in fs::read_dir(from)? {
        let e = e?;
        copy_tree(&e.path(), &to.join(e.file_name()))?;
    }
    Ok(())
}

/// Removes the jails of crossprobe processes that are gone (killed before
/// their cool-down): each is named after its process id.
fn prune(runs: &Path) {
    let Ok(entries) = fs::read_dir(runs) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.split('-').next()?.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("wine's jail needs symbolic links"))
}

fn read_only(p: &Path) -> std::io::Result<()> {
    set_mode(p, 0o400)
}

fn private(p: &Path) -> std::io::Result<()> {
    set_mode(p, 0o700)
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn private_dir(d: &Path) {
    use std::os::unix::fs::DirBuilderExt;
    let _ = fs::DirBuilder::new().mode(0o700).create(d);
}

#[cfg(not(unix))]
fn private_dir(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's prefix copies what wine writes and links what it only
    /// reads; an earlier probe's temporary files stay behind.
    #[test]
    fn a_runs_prefix_copies_the_registry_and_links_wines_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("wine");
        for d in [
            "drive_c/windows/system32",
            "drive_c/users/u/Temp/old",
            "drive_c/ProgramData",
            "dosdevices",
        ] {
            fs::create_dir_all(t.join(d)).unwrap();
        }
        fs::write(t.join("system.reg"), "reg").unwrap();
        fs::write(t.join("wineserver"), "wine-old").unwrap();
        symlink(Path::new("../drive_c"), &t.join("dosdevices/c:")).unwrap();
        let runs = dir.path().join("runs");
        let j = Jail::make(&t, &runs, vec![], vec![]).unwrap();
        let p = &j.prefix;
        assert_eq!(fs::read_to_string(p.join("system.reg")).unwrap(), "reg");
        assert_eq!(
            fs::read_link(p.join("drive_c/windows")).unwrap(),
            t.join("drive_c/windows")
        );
        assert_eq!(
            fs::read_link(p.join("dosdevices/c:")).unwrap(),
            Path::new("../drive_c")
        );
        assert!(p.join("drive_c/users/u/Temp").is_dir());
        assert!(!p.join("drive_c/users/u/Temp/old").exists());
        let name = fs::read_to_string(p.join("wineserver")).unwrap();
        assert!(name.starts_with("wine-") && Path::new("/tmp").join(&name).is_dir());
        let (rw, ro) = client_dirs(p, &t);
        assert!(rw.contains(&Path::new("/tmp").join(&name)), "{rw:?}");
        assert_eq!(ro, vec![t.clone()]);
        let sockets = Path::new("/tmp").join(&name);
        drop(j);
        assert!(!sockets.exists() && fs::read_dir(&runs).unwrap().count() == 0);
    }
}
