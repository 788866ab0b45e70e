//! The sandbox every probe binary runs in: bubblewrap (`bwrap`).
//!
//! A probe may come from a stranger's bug report (`crossprobe repro`), and it
//! runs with the user's privileges. Inside the sandbox:
//! - there is no network but a private loopback (`--unshare-net`: 127.0.0.1
//!   and ::1 are up, so the dualstack probe still works);
//! - the filesystem is read-only, except the cell's run directory, what its
//!   runner must write (the wine prefix and its server's socket directory,
//!   wazero's compilation cache) and a private /tmp;
//! - `$HOME` is an empty, read-only tmpfs: ~/.ssh and credentials are gone;
//! - a user namespace holds it and every capability is dropped: as root
//!   without one, bwrap keeps all capabilities and a probe could remount the
//!   filesystem, or reach the host's through `/proc/PID/root`;
//! - it has a pid namespace of its own (except under wine, below), in a new
//!   session (no TIOCSTI into crossprobe's terminal), and dies with crossprobe
//!   (`--die-with-parent`).
//!
//! Wine's server opens files and makes sockets for its clients, so a
//! windows probe is confined only if the server is: each sandboxed run has
//! a server of its own, in the wine jail ([`super::jail`]), which this
//! sandbox also holds (no network, `/` read-only, $HOME and /tmp private),
//! with a prefix of the run's own. The server signals its clients by the
//! pids they report, so the jail and every wine client keep the host's pid
//! namespace, and their /proc lists the host's processes.
//!
//! Builds run inside too ([`Sandbox::wrap_build`]): a snippet's C can read
//! a host file at compile time (`.incbin`, an `#include` through a macro)
//! into a compiler error or the binary, and a compiler command of its
//! choosing runs at build time. Their dependencies come down before, in
//! steps that run no code of theirs (`go mod tidy`, `go mod download`), so
//! the build needs no network. A build may write its directory and the
//! build caches (Go's, zig's), and read the module cache and the user's
//! module, read-only, wherever they are.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::runners::Invocation;
use crate::host::Tools;
use crate::model::{Command, Runner};

/// How probes are run: inside bwrap, or not at all sandboxed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// bwrap's path; None runs probes as they are.
    bwrap: Option<PathBuf>,
}

/// Why this host cannot have the sandbox: probes then run unsandboxed,
/// with one warning.
#[derive(Debug, thiserror::Error)]
pub enum Unsandboxed {
    #[error("probes run unsandboxed: bubblewrap needs Linux, and this is {0}")]
    NotLinux(&'static str),
    #[error("probes run unsandboxed: no bwrap on PATH (install bubblewrap: apt-get install bubblewrap; or run scripts/setup)")]
    NoBwrap,
    #[error("probes run unsandboxed: {bwrap} cannot create its namespaces here: {why} (user namespaces may be off: see sysctl user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns)")]
    NoNamespaces {
        bwrap: String,
        why: crate::process::QueryError,
    },
}

impl Sandbox {
    /// Probes run unsandboxed (`--no-sandbox`, `run.sandbox: false`).
    pub fn off() -> Sandbox {
        Sandbox::default()
    }

    /// bwrap, once it has shown that it can build a sandbox here; else why
    /// not, with what to do about it. Costs one bwrap run (a few ms).
    pub fn detect() -> Result<Sandbox, Unsandboxed> {
        if !cfg!(target_os = "linux") {
            return Err(Unsandboxed::NotLinux(std::env::consts::OS));
        }
        let Some(bwrap) = crate::fsutil::which("bwrap") else {
            return Err(Unsandboxed::NoBwrap);
        };
        let bin = bwrap.to_string_lossy().into_owned();
        let mut argv = vec![bin.clone()];
        argv.extend(common_flags(false, true));
        argv.extend(["--ro-bind", "/", "/", "true"].map(String::from));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        match crate::process::query(&refs, &Default::default(), Duration::from_secs(10)) {
            Ok(_) => Ok(Sandbox { bwrap: Some(bwrap) }),
            Err(why) => Err(Unsandboxed::NoNamespaces { bwrap: bin, why }),
        }
    }

    /// The run's sandbox: off with `--no-sandbox`; off with one warning
    /// when this host cannot have one. Detected once per process (a
    /// bisection runs many times).
    pub fn for_run(no_sandbox: bool) -> Sandbox {
        static DETECTED: std::sync::OnceLock<Sandbox> = std::sync::OnceLock::new();
        if no_sandbox {
            return Sandbox::off();
        }
        DETECTED
            .get_or_init(|| {
                Sandbox::detect().unwrap_or_else(|why| {
                    eprintln!("warning: {why}");
                    Sandbox::off()
                })
            })
            .clone()
    }

    pub fn enabled(&self) -> bool {
        self.bwrap.is_some()
    }

    /// `inv` as it runs in the sandbox: bwrap's argv in front of it. The
    /// environment and working directory are kept (bwrap passes them on);
    /// TMPDIR is unset inside, so temporary files go to the private /tmp.
    /// `reach` is what the probe may reach besides the system, wherever it
    /// lies (the module profile); nothing for a snippet.
    pub fn wrap(
        &self,
        inv: Invocation,
        binary: &Path,
        runner: &Runner,
        tools: &Tools,
        reach: &Reach,
    ) -> Invocation {
        self.confine(inv, binary, runner, tools, Confinement::Probe, reach)
    }

    /// `inv` for `crossprobe exec`, under cmd/go: as [`Sandbox::wrap`],
    /// except that the binary stays in the caller's session and process
    /// group, so that cmd/go's signals reach it (SIGQUIT for a wedged test's
    /// goroutine dump; bwrap forwards none) and it can read the terminal,
    /// and that the directories a test binary is told to write into
    /// (`-test.outputdir`, `-test.gocoverdir`, a profile's directory) are
    /// writable.
    pub fn wrap_exec(
        &self,
        inv: Invocation,
        binary: &Path,
        runner: &Runner,
        tools: &Tools,
    ) -> Invocation {
        let reach = Reach::default();
        self.confine(inv, binary, runner, tools, Confinement::Exec, &reach)
    }

    fn confine(
        &self,
        inv: Invocation,
        binary: &Path,
        runner: &Runner,
        tools: &Tools,
        how: Confinement,
        reach: &Reach,
    ) -> Invocation {
        let Some(bwrap) = &self.bwrap else {
            return inv;
        };
        // The run directory is the binary's; a cell may run from another
        // (a `test:` cell from its package's), which it may read only.
        let run_dir = binary
            .parent()
            .map_or_else(|| inv.cwd.clone(), Path::to_path_buf);
        let mut ro: Vec<PathBuf> = match inv.cwd.starts_with(&run_dir) || how == Confinement::Exec {
            true => Vec::new(),
            false => vec![inv.cwd.clone()],
        };
        let mut rw = vec![run_dir];
        match runner {
            Runner::Wine { .. } => {
                let (w, r) = wine_dirs(tools, &inv);
                rw.extend(w);
                ro.extend(r);
            }
            Runner::Wasi { binary } if binary == "wazero" => {
                rw.push(tools.cache_dir.join("wazero"))
            }
            _ => {}
        }
        let wine = matches!(runner, Runner::Wine { .. });
        let flags = match how {
            Confinement::Probe => common_flags(wine, true),
            Confinement::Exec => {
                // The caller's directory is theirs, as under a plain `go
                // test` (cmd/go runs a test in its package's directory, where
                // it may write golden files).
                rw.push(inv.cwd.clone());
                rw.extend(test_output_dirs(&inv.argv, &inv.cwd));
                common_flags(true, false)
            }
        };
        ro.extend(reach.readable.iter().cloned());
        rw.extend(reach.writable.iter().cloned());
        // A directory that holds $HOME or is the root would undo the
        // sandbox (`crossprobe exec ./prog` run in ~ or in /): the binary
        // itself and what the system holds are readable without it.
        let home = home();
        let part =
            |d: &PathBuf| d != Path::new("/") && !home.as_ref().is_some_and(|h| h.starts_with(d));
        rw.retain(part);
        ro.retain(part);
        let mut argv = vec![bwrap.to_string_lossy().into_owned()];
        let mut mounts = policy(flags, &inv.argv, &rw, &ro, Some(binary), home.as_deref());
        if let Some(dir) = &reach.scratch {
            scratch_layer(&mut mounts, dir, &rw, &ro, binary);
        }
        argv.extend(mounts);
        argv.extend(["--chdir".to_string(), path(&inv.cwd)]);
        argv.push("--".to_string());
        argv.extend(inv.argv);
        Invocation { argv, ..inv }
    }
}

impl Sandbox {
    /// A build step's `argv` as it runs in the sandbox: no network, `/`
    /// read-only, `$HOME` empty and `/tmp` private, except `writable` (the
    /// build directory, the build caches) and `readable` (the module cache,
    /// GOROOT, the user's module: what may lie under `$HOME` or `/tmp`),
    /// run from `cwd`. The argv comes back unchanged when the sandbox is off.
    pub fn wrap_build(
        &self,
        argv: Vec<String>,
        cwd: &Path,
        writable: &[PathBuf],
        readable: &[PathBuf],
    ) -> Vec<String> {
        self.wrap_argv(argv, cwd, (writable, readable), false)
    }

    /// A program of the wine jail (its server, the prefix's services, the
    /// server's stop): as [`Sandbox::wrap_build`], in the host's pid
    /// namespace (see the module doc), from `/`.
    pub fn wrap_wine(
        &self,
        argv: Vec<String>,
        writable: &[PathBuf],
        readable: &[PathBuf],
    ) -> Vec<String> {
        self.wrap_argv(argv, Path::new("/"), (writable, readable), true)
    }

    fn wrap_argv(
        &self,
        argv: Vec<String>,
        cwd: &Path,
        (writable, readable): (&[PathBuf], &[PathBuf]),
        shared_pids: bool,
    ) -> Vec<String> {
        let Some(bwrap) = &self.bwrap else {
            return argv;
        };
        let home = home();
        let part =
            |d: &&PathBuf| *d != Path::new("/") && !home.as_ref().is_some_and(|h| h.starts_with(d));
        let rw: Vec<PathBuf> = writable.iter().filter(part).cloned().collect();
        let ro: Vec<PathBuf> = readable.iter().filter(part).cloned().collect();
        let mut out = vec![bwrap.to_string_lossy().into_owned()];
        let flags = common_flags(shared_pids, true);
        out.extend(policy(flags, &argv, &rw, &ro, None, home.as_deref()));
        out.extend(["--chdir".to_string(), path(cwd)]);
        out.push("--".to_string());
        out.extend(argv);
        out
    }
}

/// The command inside a sandboxed argv (what follows bwrap's `--`), or the
/// argv itself: what a replay runs.
pub fn inner(argv: &[String]) -> &[String] {
    let is_bwrap = argv
        .first()
        .and_then(|p| Path::new(p).file_name())
        .is_some_and(|n| n == "bwrap");
    match argv.iter().position(|a| a == "--") {
        Some(i) if is_bwrap => &argv[i + 1..],
        _ => argv,
    }
}

/// What a sandboxed `command` said it could not write because the sandbox
/// binds it read-only on purpose: each `PATH: read-only file system` of
/// its output (Go's `open PATH: …`, `mkdir PATH: …`), relative to its
/// working directory, that lies in a directory bound with `--ro-bind`
/// (the user's module, what it reads, the caches), never the system's `/`.
pub fn read_only_writes(command: &Command) -> Vec<PathBuf> {
    const SAID: &str = ": read-only file system";
    if !command.sandboxed {
        return Vec::new();
    }
    let argv = &command.argv[..command.argv.iter().position(|a| a == "--").unwrap_or(0)];
    let bound: Vec<&Path> = argv
        .windows(2)
        .filter(|w| w[0] == "--ro-bind" && w[1] != "/")
        .map(|w| Path::new(w[1].as_str()))
        .collect();
    let cwd = Path::new(command.cwd.as_deref().unwrap_or("/"));
    let mut found = Vec::new();
    for text in [&command.stdout.text, &command.stderr.text] {
        for (i, _) in text.match_indices(SAID) {
            let Some(word) = text[..i].split_whitespace().next_back() else {
                continue;
            };
            let p = cwd.join(word.trim_matches(|c| c == '"' || c == '\''));
            if bound.iter().any(|b| p.starts_with(b)) && !found.contains(&p) {
                found.push(p);
            }
        }
    }
    found
}

/// bwrap exits with its child's status, a signal as 128 + its number
/// (bubblewrap's `propagate_exit_status`), so a probe killed by SIGILL would
/// read as "exited 132". Give the signal back its name: the verdict (and an
/// expectation's `match: SIGILL`) is about the probe, not the sandbox.
pub fn restore_signal(command: &mut Command) {
    if !command.sandboxed || command.exit.signal.is_some() {
        return;
    }
    let exit = &mut command.exit;
    if let Some(code @ 129..=192) = exit.code {
        exit.signal = Some(crate::process::signal_name(code - 128));
        exit.code = None;
    }
}

/// What a probe reaches besides the system and its run directory (the
/// module profile, docs/src/sandbox.md); nothing for a snippet.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// Shown read-only at their own paths, wherever they lie.
    pub readable: Vec<PathBuf>,
    /// Shown writable at their own paths.
    pub writable: Vec<PathBuf>,
    /// A directory of `readable` (the test's package directory) that gets
    /// a throw-away writable layer: see [`scratch_layer`].
    pub scratch: Option<PathBuf>,
}

/// The most entries a package directory may have to get a writable layer:
/// each is a mount and three words of the recorded argv. Past it the
/// directory stays read-only (docs/src/sandbox.md says so).
pub const SCRATCH_MAX_ENTRIES: usize = 1000;

/// A writable, throw-away layer over `dir`, which is already bound
/// read-only: a tmpfs over it, and each of its entries bound read-only
/// again on it (bwrap resolves a bind's SOURCE on the host, under the
/// tmpfs), each symlink made anew. A test may then create files and
/// directories in its package directory, as under `go test`
/// (klauspost/compress's filepathx makes `./a/b/c.d/e.f`); they land in the
/// sandbox's memory and vanish with it, while what the directory holds
/// stays read-only: the tree never changes. bwrap 0.8 has no `--overlay`,
/// which would let a test rewrite an existing file too. The layer is left
/// out (the directory stays read-only) when the directory lists more than
/// [`SCRATCH_MAX_ENTRIES`] entries or one whose name is not UTF-8 (bwrap's
/// argv), or when it is writable already or holds another mount (the run
/// directory, the binary) that the tmpfs would hide.
fn scratch_layer(f: &mut Vec<String>, dir: &Path, rw: &[PathBuf], ro: &[PathBuf], binary: &Path) {
    let inside = |p: &PathBuf| p.starts_with(dir) && p != dir;
    if dir == Path::new("/")
        || !dir.is_absolute()
        || rw.iter().any(|w| dir.starts_with(w) || inside(w))
        || ro.iter().any(inside)
        || binary.starts_with(dir)
    {
        return;
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries = Vec::new();
    for e in read {
        let Ok(e) = e else { return };
        let Ok(name) = e.file_name().into_string() else {
            return;
        };
        let Ok(kind) = e.file_type() else { return };
        let link = match kind.is_symlink() {
            true => match std::fs::read_link(e.path()).map(|t| t.into_os_string().into_string()) {
                Ok(Ok(t)) => Some(t),
                _ => return,
            },
            false => None,
        };
        entries.push((name, link));
        if entries.len() > SCRATCH_MAX_ENTRIES {
            return;
        }
    }
    entries.sort();
    f.extend(["--tmpfs".to_string(), path(dir)]);
    for (name, link) in entries {
        let p = dir.join(&name);
        match link {
            Some(target) => f.extend(["--symlink".to_string(), target, path(&p)]),
            None => bind(f, "--ro-bind", &p),
        }
    }
}

/// What a sandboxed command is: a cell's probe, or the user's own binary
/// under `crossprobe exec`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confinement {
    Probe,
    Exec,
}

/// Namespaces and privileges. `shared_pids` keeps the host's pid namespace
/// (wine, see the module doc; exec); `new_session` leaves the caller's
/// session and process group.
fn common_flags(shared_pids: bool, new_session: bool) -> Vec<String> {
    let mut f = vec!["--unshare-user", "--unshare-ipc", "--unshare-net"];
    if !shared_pids {
        f.push("--unshare-pid");
    }
    f.push("--die-with-parent");
    if new_session {
        f.push("--new-session");
    }
    f.extend(["--cap-drop", "ALL"]);
    f.into_iter().map(String::from).collect()
}

/// The directories cmd/go tells a test binary to write into: its output
/// directory (profiles named relative to it), the coverage directory, and
/// those of profiles given as paths. Relative ones are the working
/// directory's.
pub fn test_output_dirs(argv: &[String], cwd: &Path) -> Vec<PathBuf> {
    const DIRS: [&str; 2] = ["-test.outputdir=", "-test.gocoverdir="];
    const FILES: [&str; 6] = [
        "-test.coverprofile=",
        "-test.cpuprofile=",
        "-test.memprofile=",
        "-test.blockprofile=",
        "-test.mutexprofile=",
        "-test.trace=",
    ];
    let mut dirs = Vec::new();
    for a in argv {
        let a = a
            .strip_prefix('-')
            .filter(|r| r.starts_with("-test."))
            .unwrap_or(a.as_str());
        if let Some(d) = DIRS.iter().find_map(|p| a.strip_prefix(p)) {
            dirs.push(cwd.join(d));
        } else if let Some(f) = FILES.iter().find_map(|p| a.strip_prefix(p)) {
            let f = Path::new(f);
            if f.is_absolute() {
                dirs.extend(f.parent().map(Path::to_path_buf));
            }
        }
    }
    dirs
}

/// bwrap's options before `--chdir`: the mounts, in order (a later mount
/// lies over an earlier one).
fn policy(
    mut f: Vec<String>,
    argv: &[String],
    rw: &[PathBuf],
    ro: &[PathBuf],
    binary: Option<&Path>,
    home: Option<&Path>,
) -> Vec<String> {
    bind(&mut f, "--ro-bind", Path::new("/"));
    f.extend(["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"].map(String::from));
    if let Some(home) = home {
        f.extend(["--tmpfs".to_string(), path(home)]);
    }
    // The programs the command runs, where they lie under $HOME or /tmp,
    // hidden otherwise (a runner or Go's wasm_exec_node.js installed under
    // $HOME, a `-toolexec=/tmp/x/wrapper` of the user's matrix), stay
    // readable with their directory: wasm_exec_node.js loads its neighbour
    // wasm_exec.js. Never $HOME or /tmp itself, which would show it whole.
    let hidden = |d: &Path| {
        (d.starts_with("/tmp") && d != Path::new("/tmp"))
            || home.is_some_and(|h| d.starts_with(h) && d != h)
    };
    let mut seen: Vec<&Path> = Vec::new();
    for p in programs(argv, binary).into_iter().map(Path::new) {
        let Some(dir) = p.parent() else { continue };
        let shown = p.is_absolute() && hidden(dir) && p.exists();
        if shown && !seen.contains(&dir) && !rw.iter().any(|w| dir.starts_with(w)) {
            seen.push(dir);
            bind(&mut f, "--ro-bind", dir);
        }
    }
    for dir in rw.iter().filter(|d| d.exists()) {
        bind(&mut f, "--bind", dir);
    }
    for dir in ro.iter().filter(|d| d.exists()) {
        bind(&mut f, "--ro-bind", dir);
    }
    // The binary is the build's output, which later runs reuse: a probe may
    // write beside it, not over it.
    if let Some(binary) = binary.filter(|b| b.is_file()) {
        bind(&mut f, "--ro-bind", binary);
    }
    if let Some(home) = home {
        f.extend(["--remount-ro".to_string(), path(home)]);
    }
    f.extend(["--unsetenv", "TMPDIR"].map(String::from));
    f
}

/// The programs `argv` runs: for a probe, what comes before its `binary`
/// (the runner: qemu, node and wasm_exec_node.js, a sysroot's loader); for
/// a build, its program and those its flags name (`-toolexec=`, `-extld=`).
/// Never a probe's arguments, nor the other words of a build's flags: a
/// stranger chose those, and what they name must stay hidden.
fn programs<'a>(argv: &'a [String], binary: Option<&Path>) -> Vec<&'a str> {
    match binary {
        Some(b) => argv
            .iter()
            .take_while(|a| Path::new(a.as_str()) != b)
            .map(String::as_str)
            .collect(),
        None => argv
            .iter()
            .take(1)
            .map(String::as_str)
            .chain(
                argv.iter()
                    .skip(1)
                    .flat_map(|a| crate::toolchain::flags::named_programs(a)),
            )
            .collect(),
    }
}

/// `p` mounted at itself.
fn bind(f: &mut Vec<String>, opt: &str, p: &Path) {
    f.extend([opt.to_string(), path(p), path(p)]);
}

/// The directory to hide, when it can be: not `/`, and not one that holds
/// the system (a HOME of /usr would hide the programs themselves).
/// The directories of the caller's PATH that lie under $HOME (`~/go/bin`,
/// `~/.local/bin`): the module profile shows them, read-only, so that a
/// test finds a tool it runs as it would under `go test`. Never $HOME
/// itself.
pub fn path_dirs_under_home() -> Vec<PathBuf> {
    let (Some(home), Some(path)) = (home(), std::env::var_os("PATH")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in std::env::split_paths(&path) {
        // `~/bin/..` would name $HOME's parent: plain names only.
        let plain = d
            .components()
            .skip(1)
            .all(|c| matches!(c, Component::Normal(_)));
        if d.is_absolute()
            && plain
            && d.starts_with(&home)
            && d != home
            && d.is_dir()
            && !dirs.contains(&d)
        {
            dirs.push(d);
        }
    }
    dirs
}

fn home() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let system = ["/usr", "/etc", "/bin", "/lib"];
    (home.is_absolute() && home.is_dir() && !system.iter().any(|s| Path::new(s).starts_with(&home)))
        .then_some(home)
}

/// What a wine client writes and reads: the prefix its invocation names
/// (the run's jail's, or crossprobe's own), its server's socket
/// directories, and the template a jail's prefix links into.
fn wine_dirs(tools: &Tools, inv: &Invocation) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let Some(w) = &tools.wine else {
        return Default::default();
    };
    let prefix = inv.env.get("WINEPREFIX").map(PathBuf::from);
    super::jail::client_dirs(prefix.as_ref().unwrap_or(&w.prefix), &w.prefix)
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[String]) -> String {
        v.join(" ")
    }

    #[test]
    fn the_home_directory_is_hidden_and_read_only_with_the_run_directory_writable() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let run = home.join(".cache/crossprobe/builds/x");
        std::fs::create_dir_all(&run).unwrap();
        let bin = run.join("probe");
        std::fs::write(&bin, "").unwrap();
        let argv = vec![path(&bin)];
        let f = s(&policy(
            common_flags(false, true),
            &argv,
            std::slice::from_ref(&run),
            &[],
            Some(&bin),
            Some(&home),
        ));
        let (h, r, b) = (path(&home), path(&run), path(&bin));
        let want = format!(
            "--unshare-user --unshare-ipc --unshare-net --unshare-pid --die-with-parent \
             --new-session --cap-drop ALL --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
             --tmpfs {h} --bind {r} {r} --ro-bind {b} {b} --remount-ro {h} \
             --unsetenv TMPDIR"
        );
        assert_eq!(f, want);
    }

    #[test]
    fn a_package_directory_gets_a_tmpfs_with_its_entries_read_only_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(pkg.join("testdata")).unwrap();
        std::fs::write(pkg.join("a.go"), "").unwrap();
        std::os::unix::fs::symlink("../x", pkg.join("link")).unwrap();
        let bin = dir.path().join("run/probe");
        let mut f = Vec::new();
        scratch_layer(&mut f, &pkg, &[], &[], &bin);
        let p = path(&pkg);
        let want = format!(
            "--tmpfs {p} --ro-bind {p}/a.go {p}/a.go --symlink ../x {p}/link \
             --ro-bind {p}/testdata {p}/testdata"
        );
        assert_eq!(s(&f), want);
        // A mount inside it would be hidden, one above it makes it
        // writable already: no layer.
        for (rw, ro) in [
            (vec![pkg.join("testdata")], vec![]),
            (vec![dir.path().into()], vec![]),
        ]
        .into_iter()
        .chain([(vec![], vec![pkg.join("testdata")])])
        {
            let mut f = Vec::new();
            scratch_layer(&mut f, &pkg, &rw, &ro, &bin);
            assert!(f.is_empty(), "{rw:?} {ro:?}: {f:?}");
        }
        for i in 0..=SCRATCH_MAX_ENTRIES {
            std::fs::write(pkg.join(format!("f{i}")), "").unwrap();
        }
        let mut f = Vec::new();
        scratch_layer(&mut f, &pkg, &[], &[], &bin);
        assert!(f.is_empty(), "past the cap the directory stays read-only");
    }

    #[test]
    fn wine_keeps_the_host_pid_namespace() {
        let f = s(&common_flags(true, true));
        assert!(!f.contains("--unshare-pid"), "{f}");
        assert!(f.contains("--unshare-net"), "{f}");
    }

    #[test]
    fn a_test_binary_may_write_where_cmd_go_tells_it_to() {
        let argv: Vec<String> = [
            "/tmp/go-build1/b001/x.test",
            "-test.paniconexit0",
            "-test.gocoverdir=/tmp/go-build1/b001/gocoverdir",
            "-test.outputdir=/work/m",
            "--test.coverprofile=/tmp/go-build1/b001/_cover_.out",
            "-test.cpuprofile=cpu.out",
            "-test.v=true",
        ]
        .map(String::from)
        .to_vec();
        let dirs = test_output_dirs(&argv, Path::new("/work/m/pkg"));
        let want = [
            "/tmp/go-build1/b001/gocoverdir",
            "/work/m",
            "/tmp/go-build1/b001",
        ];
        assert_eq!(dirs, want.map(PathBuf::from));
    }

    /// Only a command recorded as run in the sandbox has bwrap's 128 + N
    /// read back as a signal: a program of the user's that exits 132 by
    /// itself, and happens to be called bwrap, keeps its exit code.
    #[test]
    fn a_signal_is_given_back_only_to_a_command_recorded_as_sandboxed() {
        let ran = |sandboxed| {
            let mut c = Command {
                argv: vec!["/usr/bin/bwrap".into(), "--".into(), "/b/probe".into()],
                sandboxed,
                ..Command::default()
            };
            c.exit.code = Some(132);
            restore_signal(&mut c);
            (c.exit.code, c.exit.signal)
        };
        assert_eq!(ran(true), (None, Some(crate::process::signal_name(4))));
        assert_eq!(ran(false), (Some(132), None));
    }
}
