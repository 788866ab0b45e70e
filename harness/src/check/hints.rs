//! crossprobe's hints beside a failure's own words, when what failed may be
//! the harness's doing rather than the program's: an emulator that cannot
//! host it, a sandbox that shows a directory read-only on purpose.

use crate::model::{Cell, Command};

/// Why qemu-user, not the program, may be what failed: what it cannot
/// host, recognised by what the program printed.
pub(super) fn emulator(cell: &Cell, run: &Command) -> Option<String> {
    let crate::model::Runner::Qemu { binary, .. } = &cell.runner else {
        return None;
    };
    let said = |s: &str| run.stderr.text.contains(s) || run.stdout.text.contains(s);
    if said("ThreadSanitizer: unsupported VMA range") {
        return Some(format!(
            "{binary} cannot host a -race binary: ThreadSanitizer needs an address space \
             layout that qemu-user does not give; run -race cells natively or in a full-system VM"
        ));
    }
    if said("exec format error") {
        return Some(format!(
            "under {binary} the program started a {} executable (a test re-executing itself \
             through os.Executable, or a binary it built), which the host cannot run: qemu-user \
             emulates one process, and without a binfmt_misc entry for {binary} its children \
             are not emulated",
            cell.goarch
        ));
    }
    None
}

/// Why a write failed with "read-only file system": the sandbox's module
/// profile shows the module (and what it reads) read-only on purpose; only
/// new files in the package directory land, in a throw-away layer.
pub(super) fn read_only(run: &Command) -> Option<String> {
    let p = crate::run::sandbox::read_only_writes(run)
        .into_iter()
        .next()?;
    Some(format!(
        "{} is read-only in the sandbox: a test may add files to its package directory \
         (thrown away after the run), never change what your module or what it reads holds; \
         write under t.TempDir()",
        p.display()
    ))
}
