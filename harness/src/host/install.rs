//! How each tool a cell may need is installed, when crossprobe knows: the
//! one table the run's skips and doctor's findings and fixes read.
//!
//! A cell whose runner or C compiler is missing is an environmental skip:
//! unmet unless the matrix or the command line allows it, so that a CI
//! runner whose set-up silently failed is never green. Anything not listed
//! here that stops a run is structural: no tool would help. Doctor runs
//! these steps (`crossprobe doctor --fix`); here they are only described.

use std::path::{Path, PathBuf};

use crate::model::Missing;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Brew,
}

impl Manager {
    /// The package manager of this machine, if crossprobe knows it.
    pub fn detect() -> Option<Manager> {
        if cfg!(target_os = "linux") && crate::fsutil::which("apt-get").is_some() {
            Some(Manager::Apt)
        } else if cfg!(target_os = "macos") && crate::fsutil::which("brew").is_some() {
            Some(Manager::Brew)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub enum Action {
    Packages {
        manager: Manager,
        packages: Vec<String>,
    },
    /// A command this user runs, e.g. `go install`.
    Run(Vec<String>),
    /// crossprobe's wine prefix, made by the run phase's own warm-up.
    WinePrefix,
    /// The wine ProcessPrng stub, built from the shipped source.
    PrngStub { arch: &'static str },
    /// Only a person can do it; the text says what.
    Manual(String),
}

/// Packages by manager; a manual step where this machine has neither.
pub fn install(apt: &[&str], brew: &[&str], otherwise: &str) -> Action {
    let pick = |m: Manager, p: &[&str]| Action::Packages {
        manager: m,
        packages: p.iter().map(|s| s.to_string()).collect(),
    };
    match Manager::detect() {
        Some(Manager::Apt) if !apt.is_empty() => pick(Manager::Apt, apt),
        Some(Manager::Brew) if !brew.is_empty() => pick(Manager::Brew, brew),
        _ => Action::Manual(otherwise.to_string()),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    cfg!(unix) && unsafe { libc::geteuid() } == 0
}

/// `sudo ` when root is needed and we are not root.
fn sudo() -> &'static str {
    if is_root() {
        ""
    } else {
        "sudo "
    }
}

pub fn stub_path(arch: &str) -> PathBuf {
    Path::new(super::SHARE_DIR)
        .join("wine")
        .join(arch)
        .join("bcryptprimitives.dll")
}

impl Action {
    /// The exact command for a person.
    pub fn command(&self) -> String {
        match self {
            Action::Packages {
                manager: Manager::Apt,
                packages,
            } => {
                format!(
                    "{}apt-get install -y --no-install-recommends {}",
                    sudo(),
                    packages.join(" ")
                )
            }
            Action::Packages {
                manager: Manager::Brew,
                packages,
            } => format!("brew install {}", packages.join(" ")),
            Action::Run(argv) => argv.join(" "),
            Action::WinePrefix => {
                "crossprobe doctor --fix (runs `wineboot --init` in crossprobe's own prefix, ~20 s)"
                    .into()
            }
            Action::PrngStub { arch } => {
                // The stub's source is embedded in the binary; a user who
                // installed with cargo has no checkout to name a path in.
                format!(
                    "crossprobe doctor --fix (builds the ProcessPrng stub it ships with {arch}-w64-mingw32-gcc into {})",
                    stub_path(arch).display()
                )
            }
            Action::Manual(text) => text.clone(),
        }
    }

    /// Whether `--fix` can try it.
    pub fn automatic(&self) -> bool {
        !matches!(self, Action::Manual(_))
    }
}

/// How to get `tool`, if crossprobe knows: the tools a runner or a cgo
/// build needs.
pub fn action(tool: &str) -> Option<Action> {
    Some(match tool {
        t if t.starts_with("qemu-") => {
            if cfg!(target_os = "linux") {
                install(&["qemu-user"], &[], "install qemu-user")
            } else {
                Action::Manual(
                    "qemu-user runs only on Linux: run these cells on a Linux runner".into(),
                )
            }
        }
        "wine64" => install(
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
        "node" => install(&["nodejs"], &["node"], "install Node.js 17.4 or later"),
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
                install(
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
