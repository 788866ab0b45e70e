//! A sandboxed command run as an unprivileged user: how a stranger's cell
//! runs when crossprobe is root (a CI container).
//!
//! bwrap drops every capability, but a process of the host's root still
//! owns what root owns: `/etc/shadow`, host keys, `/run/secrets` would be
//! readable by a snippet's build and probe through their owner's
//! permission. Run as `nobody`, they are not: in bwrap's user namespace
//! root's files belong to an unmapped owner, and only their "other" bits
//! count.
//!
//! The child drops to the user between fork and exec, after it entered its
//! cgroups (which only root may write), and before bwrap. bwrap then finds
//! its bind sources as that user, and a source under a directory the user
//! cannot search (`/root`, mode 0700: the module cache, crossprobe's own
//! cache) would be out of its reach. So, first, still as root, the child
//! takes a mount namespace of its own and lays a tmpfs over each such
//! directory, with only the sources bound back on it: what the user sees
//! there is what the sandbox binds and nothing else, and the host's mounts
//! are untouched. What the command must write (its build directory, its
//! caches) the caller gives to the user beforehand ([`give`]).

use std::io;
use std::path::Path;
#[cfg(target_os = "linux")]
use std::{ffi::CString, os::unix::ffi::OsStrExt, os::unix::fs::MetadataExt, path::PathBuf};

/// The user and group a command runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// `nobody`/`nogroup` (65534), which owns nothing of the host's.
    pub const NOBODY: RunAs = RunAs {
        uid: 65534,
        gid: 65534,
    };

    /// The user a stranger's sandboxed cells run as: [`RunAs::NOBODY`]
    /// when crossprobe runs as root, else None (they run as the caller,
    /// who owns no more than they do).
    pub fn for_strangers() -> Option<RunAs> {
        // SAFETY: geteuid cannot fail.
        let root = cfg!(target_os = "linux") && unsafe { libc::geteuid() } == 0;
        root.then_some(RunAs::NOBODY)
    }
}

/// Gives `dir` (made if missing) and, with `deep`, everything under it
/// (links themselves, never followed) to `user`: what a command run as it
/// must write.
pub fn give(dir: &Path, user: RunAs, deep: bool) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        std::os::unix::fs::lchown(&d, Some(user.uid), Some(user.gid))?;
        if !deep || !std::fs::symlink_metadata(&d)?.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&d)? {
            stack.push(e?.path());
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
/// One step of the staging, run by the child as root.
enum Op {
    /// A tmpfs (mode 0755) over a directory the user cannot search.
    Tmpfs(CString),
    /// A directory on that tmpfs (EEXIST is fine).
    Mkdir(CString),
    /// An empty file on it, to bind a file onto.
    Touch(CString),
    /// A source bound back onto its own path on the tmpfs, through the
    /// `n`th fd the child opened on it before the tmpfs hid it.
    Bind(usize, CString),
}

#[cfg(target_os = "linux")]
/// What the child does before it drops to the user: the directories to lay
/// over and the sources to bind back, each source held open by root.
pub(super) struct Staging {
    user: RunAs,
    /// The sources, opened (`O_PATH`) by the child in its new mount
    /// namespace: a mount of the caller's namespace cannot be bound there.
    sources: Vec<CString>,
    ops: Vec<Op>,
}

/// The most sources a staging binds back: the child keeps their fds on its
/// stack.
const MOST: usize = 64;

#[cfg(target_os = "linux")]
impl Staging {
    /// The staging for a sandboxed `argv` (bwrap's), as `user`: its bind
    /// sources that lie under a directory `user` cannot search.
    pub(super) fn new(argv: &[String], user: RunAs) -> io::Result<Staging> {
        let mut sources: Vec<PathBuf> = bind_sources(argv)
            .into_iter()
            .filter(|p| p.is_absolute() && p != Path::new("/") && p.exists())
            .collect();
        sources.sort();
        sources.dedup();
        // A source inside another is reached through the other's bind; a
        // directory made for it would be made in the host's tree.
        let outer: Vec<PathBuf> = sources
            .iter()
            .filter(|s| !sources.iter().any(|o| o != *s && s.starts_with(o)))
            .cloned()
            .collect();
        let mut blockers: Vec<PathBuf> = Vec::new();
        for s in &outer {
            if let Some(b) = s
                .ancestors()
                .skip(1)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .find(|a| !searchable(a, user))
            {
                if !blockers.iter().any(|o| b.starts_with(o)) {
                    blockers.retain(|o| !o.starts_with(b));
                    blockers.push(b.to_path_buf());
                }
            }
        }
        let mut ops = Vec::new();
        let mut opened = Vec::new();
        for b in &blockers {
            ops.push(Op::Tmpfs(c(b)?));
            for s in outer.iter().filter(|s| s.starts_with(b)) {
                let between: Vec<&Path> = s.ancestors().skip(1).take_while(|a| *a != b).collect();
                for a in between.into_iter().rev() {
                    ops.push(Op::Mkdir(c(a)?));
                }
                ops.push(match s.is_dir() {
                    true => Op::Mkdir(c(s)?),
                    false => Op::Touch(c(s)?),
                });
                ops.push(Op::Bind(opened.len(), c(s)?));
                opened.push(c(s)?);
            }
        }
        if opened.len() > MOST {
            return Err(io::Error::other(format!(
                "{} directories to bind back for uid {}, at most {MOST}",
                opened.len(),
                user.uid
            )));
        }
        Ok(Staging {
            user,
            sources: opened,
            ops,
        })
    }

    /// Between fork and exec, as root: lays the staging out in a mount
    /// namespace of the child's own, then becomes the user, with no
    /// supplementary groups. Only async-signal-safe calls, no allocation.
    pub(super) fn apply(&self) -> io::Result<()> {
        let check = |r: libc::c_int| match r {
            -1 => Err(io::Error::last_os_error()),
            _ => Ok(()),
        };
        // SAFETY: system calls on NUL-terminated paths built before the
        // fork, and on nothing else.
        unsafe {
            let mut fds = [-1; MOST];
            if !self.ops.is_empty() {
                check(libc::unshare(libc::CLONE_NEWNS))?;
                let root = c"/";
                let flags = libc::MS_REC | libc::MS_PRIVATE;
                check(libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    flags,
                    std::ptr::null(),
                ))?;
            }
            for (fd, source) in fds.iter_mut().zip(&self.sources) {
                *fd = libc::open(source.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                check(*fd)?;
            }
            for op in &self.ops {
                match op {
                    Op::Tmpfs(p) => check(libc::mount(
                        c"tmpfs".as_ptr(),
                        p.as_ptr(),
                        c"tmpfs".as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV,
                        c"mode=0755".as_ptr().cast(),
                    ))?,
                    Op::Mkdir(p) => {
                        if libc::mkdir(p.as_ptr(), 0o755) == -1
                            && io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST)
                        {
                            return Err(io::Error::last_os_error());
                        }
                    }
                    Op::Touch(p) => {
                        let fd = libc::open(
                            p.as_ptr(),
                            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                            0o644,
                        );
                        check(fd)?;
                        libc::close(fd);
                    }
                    Op::Bind(n, to) => check(libc::mount(
                        fd_path(fds[*n]).as_ptr().cast(),
                        to.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    ))?,
                }
            }
            for fd in fds.into_iter().take(self.sources.len()) {
                libc::close(fd);
            }
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setresgid(self.user.gid, self.user.gid, self.user.gid))?;
            check(libc::setresuid(self.user.uid, self.user.uid, self.user.uid))?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
/// The sources of a bwrap argv's binds (`--bind`, `--ro-bind`,
/// `--dev-bind`, their `-try` forms), before its `--`.
fn bind_sources(argv: &[String]) -> Vec<PathBuf> {
    const BINDS: [&str; 6] = [
        "--bind",
        "--ro-bind",
        "--dev-bind",
        "--bind-try",
        "--ro-bind-try",
        "--dev-bind-try",
    ];
    let end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    argv[..end]
        .windows(2)
        .filter(|w| BINDS.contains(&w[0].as_str()))
        .map(|w| PathBuf::from(&w[1]))
        .collect()
}

#[cfg(target_os = "linux")]
/// Whether `user` may search (`x`) the directory `d`.
fn searchable(d: &Path, user: RunAs) -> bool {
    let Ok(m) = std::fs::metadata(d) else {
        return true;
    };
    let mode = m.mode();
    match (m.uid() == user.uid, m.gid() == user.gid) {
        (true, _) => mode & 0o100 != 0,
        (false, true) => mode & 0o010 != 0,
        (false, false) => mode & 0o001 != 0,
    }
}

/// `/proc/self/fd/FD`, NUL-terminated, without allocating.
#[cfg(target_os = "linux")]
fn fd_path(fd: libc::c_int) -> [u8; 32] {
    let mut buf = [0u8; 32];
    let head = b"/proc/self/fd/";
    buf[..head.len()].copy_from_slice(head);
    let mut digits = [0u8; 20];
    let digits = super::sys::decimal(u64::from(fd.unsigned_abs()), &mut digits);
    buf[head.len()..head.len() + digits.len()].copy_from_slice(digits);
    buf
}

#[cfg(target_os = "linux")]
fn c(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn an_fd_is_named_in_proc_without_allocating() {
        let p = fd_path(1234);
        assert_eq!(
            std::ffi::CStr::from_bytes_until_nul(&p).unwrap(),
            c"/proc/self/fd/1234"
        );
        let p = fd_path(0);
        assert_eq!(
            std::ffi::CStr::from_bytes_until_nul(&p).unwrap(),
            c"/proc/self/fd/0"
        );
    }

    #[test]
    fn the_bind_sources_are_read_before_the_command() {
        let argv: Vec<String> = [
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            "--tmpfs",
            "/root",
            "--bind",
            "/root/b",
            "/root/b",
            "--ro-bind",
            "/root/go",
            "/root/go",
            "--",
            "sh",
            "--bind",
            "/x",
        ]
        .map(String::from)
        .to_vec();
        let want = ["/", "/root/b", "/root/go"].map(PathBuf::from).to_vec();
        assert_eq!(bind_sources(&argv), want);
    }

    #[test]
    fn what_other_users_may_not_search_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let closed = dir.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        let stranger = RunAs {
            uid: 4_000_001,
            gid: 4_000_001,
        };
        assert!(!searchable(&closed, stranger));
        assert!(searchable(Path::new("/usr"), stranger));
    }
}
