//! The run phase: which runner a cell's binary gets, and the exact command
//! that runs it there.
//!
//! - [`runners`] chooses a [`crate::model::Runner`] for a target from the
//!   host and the tools [`crate::host::discover`] found, and turns a runner
//!   and a binary into an [`Invocation`]: argv, env, cwd. What is a
//!   runner's own sits beside it: [`qemu`] (its CPU model), [`wine`] (the
//!   prefix, its server and their lifetime), and the Debian sysroots a
//!   dynamic binary needs.
//! - [`exec`] is the same for one binary outside a matrix: `crossprobe
//!   exec`, and the `go_GOOS_GOARCH_exec` wrappers for cmd/go.
//! - Spawning, timeouts and output capture belong to the process module;
//!   the only processes started here are the ones that set a runner up and
//!   tear it down ([`warm_up`], [`cool_down`]).
//! - [`sandbox`] puts an invocation inside bubblewrap.

pub mod exec;
mod jail;
pub mod qemu;
pub mod runners;
pub mod sandbox;
mod skip;
mod sysroot;
pub mod wine;

pub use runners::{
    choose, choose_with, invocation, invocation_in, tools_for_goroot, warm_up, Invocation, NoRun,
};
pub use sandbox::{Sandbox, Unsandboxed};
pub use wine::{cool_down, in_jail, WineUsers};
