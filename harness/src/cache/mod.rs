//! The result cache: a cell whose inputs have not changed since a run that
//! recorded it gets that record back instead of a new build and run.
//!
//! A cell's key is a SHA-256 of everything that can change its result:
//! - the rendered sources;
//! - the Go version and the identity of its GOROOT (path, and size and
//!   modification time of `VERSION`, `bin/go` and the compiler, assembler,
//!   linker and cgo tool);
//! - the build's argv and env, the inherited variables Go, cgo, qemu and
//!   wine read (`GO*`, `CGO_*`, `CC*`, `QEMU_*`, `WINE*`, ...; not the ones
//!   that only say where Go keeps things, such as GOCACHE), and Go's own
//!   env file (`go env -w`);
//! - for cgo builds, the C compiler: its path, size, mtime and `--version`;
//! - the runner, the emulator's path and version, and the run's env and
//!   timeout;
//! - the host (OS, architecture, kernel, CPU) and crossprobe itself.
//!
//! The part up to the C compiler is the *build key*: cells that share it
//! share one build.
//!
//! Entries live in `<cache dir>/results/` ([`crate::host::cache_dir`]),
//! one JSON file a key; `rm -rf` that directory clears them, and a file that
//! does not parse is a miss. A hit gives back what the phases observed (the
//! commands, their output, the inspection), which the pipeline's check
//! judges as it judges a fresh run, so a change to `expect` needs no
//! rebuild. The entries are written by the session as cells finish. Not stored: timeouts (they depend on
//! the machine's load), interrupted cells, cells whose build or run could
//! not start, and cells that did not meet their expectation or met it only
//! on a retry: those run again next time.
//!
//! Not seen: an edit inside `GOROOT/src` that leaves those files alone, and
//! a change to a shared library a cgo probe links. `--no-cache` is for those.

/// Bumped when an entry's meaning changes; older entries become misses.
/// 2: a command records whether it ran in the sandbox (`Command::sandboxed`),
/// which a format-1 entry's commands never say. 3: a built, not run cell
/// records why (`CellResult::not_run`), which a format-2 entry never says.
const FORMAT: u32 = 3;

mod key;
mod prune;
mod store;

pub use key::{keys, Identity, Keys};
pub use prune::{prune_builds, prune_due, MAX_UNUSED_AGE};
pub use store::{Entry, Store};

#[cfg(test)]
mod tests;
