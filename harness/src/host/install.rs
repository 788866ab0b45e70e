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
    /// The package manager of a host of GOOS `os`, if crossprobe knows it:
    /// apt where Linux has apt-get (Debian, Ubuntu), Homebrew on macOS
    /// (where a Mac without it is told to install it by the command).
    pub fn for_os(os: &str) -> Option<Manager> {
        match os {
            "linux" if crate::fsutil::which("apt-get").is_some() => Some(Manager::Apt),
            "darwin" => Some(Manager::Brew),
            _ => None,
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
    /// zig from PyPI (`ziglang`) in a virtualenv of crossprobe's own,
    /// linked onto PATH.
    Zig,
    /// Only a person can do it; the text says what.
    Manual(String),
}

/// Packages by manager; a manual step where this machine has neither.
pub fn install(apt: &[&str], brew: &[&str], otherwise: &str) -> Action {
    install_on(super::goos(), apt, brew, otherwise)
}

/// [`install`] on a host of GOOS `os`.
pub fn install_on(os: &str, apt: &[&str], brew: &[&str], otherwise: &str) -> Action {
    let pick = |m: Manager, p: &[&str]| Action::Packages {
        manager: m,
        packages: p.iter().map(|s| s.to_string()).collect(),
    };
    match Manager::for_os(os) {
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

/// Where root's fixes put programs: on PATH on Debian, Ubuntu and in the
/// golang images.
pub const ROOT_BIN: &str = "/usr/local/bin";
/// zig's virtualenv, and its link on PATH.
pub const ZIG_VENV: &str = "/usr/local/lib/crossprobe/ziglang";
pub const ZIG_LINK: &str = "/usr/local/bin/zig";

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
            Action::Zig => format!(
                "{s}python3 -m venv {venv} && {s}{venv}/bin/pip install ziglang && \
                 {s}ln -sf \"$({venv}/bin/python3 -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')/zig\" {link}",
                s = sudo(),
                venv = ZIG_VENV,
                link = ZIG_LINK,
            ),
            Action::Manual(text) => text.clone(),
        }
    }

    /// Whether `--fix` can try it.
    pub fn automatic(&self) -> bool {
        !matches!(self, Action::Manual(_))
    }
}

/// How to get `tool` on this host, if crossprobe knows: the tools a
/// runner, a cgo build or the sandbox needs.
pub fn action(tool: &str) -> Option<Action> {
    action_on(tool, super::goos())
}

/// How to get `tool` on a host of GOOS `os` (`linux`, `darwin`): on
/// Debian and Ubuntu from apt, PyPI or `go install`; on macOS from
/// Homebrew, Rosetta, or nowhere (what only Linux has).
pub fn action_on(tool: &str, os: &str) -> Option<Action> {
    let linux = os == "linux";
    Some(match tool {
        t if t.starts_with("qemu-") => {
            if linux {
                install_on(os, &["qemu-user"], &[], "install qemu-user")
            } else {
                Action::Manual(format!(
                    "{LINUX_ONLY}: qemu-user has no {os} build (Homebrew's qemu emulates whole machines, not Linux programs)"
                ))
            }
        }
        "bwrap" => {
            if linux {
                install_on(os, &["bubblewrap"], &[], "install bubblewrap")
            } else {
                Action::Manual(format!(
                    "{LINUX_ONLY}: the sandbox (bubblewrap) needs Linux namespaces; here probes run unsandboxed, \
                     so run a stranger's snippet (crossprobe repro) there"
                ))
            }
        }
        // Apple silicon runs darwin/amd64 binaries, and Homebrew's wine,
        // through Rosetta 2.
        "rosetta" if os == "darwin" => Action::Run(
            ["softwareupdate", "--install-rosetta", "--agree-to-license"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        "wine64" => install_on(
            os,
            &["wine", "wine64"],
            &["--cask", "wine-stable"],
            "install wine",
        ),
        // Debian needs the i386 architecture first; where its wine32 cannot
        // be installed (Debian 12 beside wine64 from another suite), a
        // matrix says so with an expected skip.
        "wine32" => Action::Manual(if linux {
            "sudo dpkg --add-architecture i386 && sudo apt-get update && \
             sudo apt-get install wine32 (Debian), or expect windows/386 to skip with a reason"
                .into()
        } else {
            "Homebrew's wine-stable runs 32-bit programs (wow64): install it, or expect windows/386 to skip with a reason"
                .into()
        }),
        "node" => install_on(os, &["nodejs"], &["node"], "install Node.js 17.4 or later"),
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
        // PyPI's ziglang is zig's release build; Debian packages none.
        "zig" if linux => Action::Zig,
        "zig" => install_on(
            os,
            &[],
            &["zig"],
            "install zig from https://ziglang.org/download/",
        ),
        "wine ProcessPrng stub" => Action::PrngStub { arch: "x86_64" },
        // A Debian cross compiler: the package is named after it.
        t => match t.strip_suffix("-gcc") {
            Some(triple) if triple.ends_with("-w64-mingw32") => install_on(
                os,
                &["mingw-w64"],
                &["mingw-w64"],
                "install mingw-w64, or use cc: zig",
            ),
            Some(triple) if triple.contains('-') && linux => {
                let pkg = cross_gcc_package(triple);
                install_on(
                    os,
                    &[pkg.as_str()],
                    &[],
                    &format!("install {pkg}, or use cc: zig"),
                )
            }
            Some(triple) if triple.contains('-') => Action::Manual(format!(
                "{t} is a Debian cross compiler; here use cc: zig (brew install zig)"
            )),
            _ => return None,
        },
    })
}

/// What only a Linux machine gives: on macOS, a Linux runner in CI or a
/// Linux VM on the laptop (lima, colima, OrbStack) with crossprobe in it.
const LINUX_ONLY: &str = "Linux only: run these cells on a Linux runner, or in a Linux VM (lima, colima, OrbStack) with crossprobe inside";

/// Debian's package of the cross gcc for a GNU triple: mingw-w64 for
/// Windows, else `gcc-TRIPLE` with `_` as `-` (`gcc-x86-64-linux-gnu`).
pub fn cross_gcc_package(triple: &str) -> String {
    if triple.ends_with("-w64-mingw32") {
        "mingw-w64".to_string()
    } else {
        format!("gcc-{}", triple.replace('_', "-"))
    }
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

    /// What a Mac is told: Homebrew for what it has, Rosetta for x86
    /// code, and a Linux VM for what only Linux has.
    #[test]
    fn macos_gets_homebrew_rosetta_or_a_linux_vm() {
        let mac = |tool: &str| action_on(tool, "darwin").unwrap().command();
        assert_eq!(mac("wine64"), "brew install --cask wine-stable");
        assert_eq!(mac("zig"), "brew install zig");
        assert_eq!(mac("node"), "brew install node");
        assert_eq!(mac("x86_64-w64-mingw32-gcc"), "brew install mingw-w64");
        assert_eq!(
            mac("rosetta"),
            "softwareupdate --install-rosetta --agree-to-license"
        );
        for tool in ["qemu-aarch64", "bwrap"] {
            assert!(
                mac(tool)
                    .starts_with("Linux only: run these cells on a Linux runner, or in a Linux VM"),
                "{tool}"
            );
            assert!(!action_on(tool, "darwin").unwrap().automatic(), "{tool}");
        }
        assert!(mac("aarch64-linux-gnu-gcc").contains("use cc: zig (brew install zig)"));
        assert!(action_on("rosetta", "linux").is_none());
        assert!(matches!(action_on("zig", "linux"), Some(Action::Zig)));
    }
}
