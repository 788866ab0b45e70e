//! What each cell needs from the host that `doctor` knows how to install:
//! the one list the run's skips and doctor's findings both read.
//!
//! A cell whose runner or C compiler is missing is an environmental skip:
//! unmet unless the matrix or the command line allows it, so that a CI
//! runner whose set-up silently failed is never green. Anything not listed
//! here that stops a run is structural: no tool would help.

use crate::doctor::fix::{self, Action};
use crate::model::Missing;

/// How to get `tool`, if crossprobe knows: the tools a runner or a cgo
/// build needs.
pub fn action(tool: &str) -> Option<Action> {
    Some(match tool {
        t if t.starts_with("qemu-") => {
            if cfg!(target_os = "linux") {
                fix::install(&["qemu-user"], &[], "install qemu-user")
            } else {
                Action::Manual(
                    "qemu-user runs only on Linux: run these cells on a Linux runner".into(),
                )
            }
        }
        "wine64" => fix::install(
            &["wine", "wine64"],
            &["--cask", "wine-stable"],
            "install wine",
        ),
        // Debian needs the i386 architecture first; where its wine32 cannot
        // be installed (Debian 12 beside wine64 from another suite), a
        // matrix says so with an expected skip.
        "wine32" => Action::Manual(
            "sudo dpkg --add-architecture i386 && sudo apt-get update && \
             sudo apt-get install wine32 (Debian), or expect windows/386 to skip with a reason"
                .into(),
        ),
        "node" => fix::install(&["nodejs"], &["node"], "install Node.js 17.4 or later"),
        "wazero" => Action::Run(
            [
                "go",
                "install",
                "github.com/tetratelabs/wazero/cmd/wazero@v1.12.0",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        "zig" => Action::Manual(
            "python3 -m pip install ziglang, then link its zig onto PATH (scripts/setup does both)"
                .into(),
        ),
        "wine ProcessPrng stub" => Action::PrngStub { arch: "x86_64" },
        // A Debian cross compiler: the package is named after it.
        t => match t.strip_suffix("-gcc") {
            Some(triple) if triple.contains('-') => {
                let pkg = if triple.ends_with("-w64-mingw32") {
                    "mingw-w64".to_string()
                } else {
                    format!("gcc-{}", triple.replace('_', "-"))
                };
                fix::install(
                    &[pkg.as_str()],
                    &[],
                    &format!("install {pkg}, or use cc: zig"),
                )
            }
            _ => return None,
        },
    })
}

/// The record of a missing tool, with doctor's fix, for a cell's result.
pub fn missing(tool: &str) -> Missing {
    Missing {
        tool: tool.to_string(),
        fix: action(tool).map_or_else(
            || format!("install {tool}"),
            |a| format!("{} (or `crossprobe doctor --fix`)", a.command()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_the_issue_names_has_a_fix() {
        for tool in [
            "qemu-aarch64",
            "wine64",
            "wine32",
            "node",
            "wazero",
            "zig",
            "aarch64-linux-gnu-gcc",
            "x86_64-w64-mingw32-gcc",
        ] {
            assert!(action(tool).is_some(), "{tool}");
        }
        assert!(action("darwin").is_none());
    }
}
