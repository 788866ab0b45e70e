//! Which C compiler builds for which Go target: the names Debian, zig and
//! clang give a target, and the target a compiler's triple builds for. The
//! run's choice ([`super::Compilers`]), the preflight's hints and doctor's
//! findings all read these.
//!
//! A cgo build uses `$CC`, else what `go env CC` says, else `gcc`: the
//! host's compiler, whatever GOARCH says. So a cross cgo build needs CC set
//! to a cross compiler, and `cc -dumpmachine` tells which target a compiler
//! builds for.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::host::install::cross_gcc_package;
use crate::process;

/// The target of a GNU triple as Go names it: `aarch64-linux-gnu` →
/// `linux/arm64`. None for a triple it cannot place.
pub fn triple_target(triple: &str) -> Option<(String, String)> {
    let mut parts = triple.trim().split('-');
    let arch = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let goarch = crate::target::goarch_of_cpu(arch)?;
    let goos = if rest
        .iter()
        .any(|p| p.starts_with("mingw") || *p == "windows")
    {
        "windows"
    } else if rest.contains(&"linux") {
        "linux"
    } else if rest
        .iter()
        .any(|p| p.starts_with("darwin") || p.starts_with("macos") || *p == "apple")
    {
        "darwin"
    } else {
        return None;
    };
    Some((goos.to_string(), goarch.to_string()))
}

/// Whether a compiler for `triple` builds for `goos/goarch`. An x86_64
/// compiler serves 386 too: Go passes it -m32.
pub fn serves(triple: &str, goos: &str, goarch: &str) -> Option<bool> {
    let (os, arch) = triple_target(triple)?;
    Some(os == goos && (arch == goarch || (arch == "amd64" && goarch == "386" && goos == "linux")))
}

/// How a matrix gives one target's cells a CC: an include entry, since an
/// env axis would set it for every target.
pub fn set_cc_hint(goos: &str, goarch: &str, cc: &str) -> String {
    format!("set CC for them in the matrix, e.g. include: [{{goos: {goos}, goarch: {goarch}, CC: \"{cc}\"}}]")
}

const QUERY: Duration = Duration::from_secs(20);

/// `go env CC` for a target, as a cgo build of it would see it.
pub fn go_env_cc(
    go: &str,
    goos: &str,
    goarch: &str,
    extra: &BTreeMap<String, String>,
) -> Option<String> {
    let mut env = extra.clone();
    env.insert("GOOS".into(), goos.into());
    env.insert("GOARCH".into(), goarch.into());
    env.insert("CGO_ENABLED".into(), "1".into());
    env.insert("GOTOOLCHAIN".into(), "local".into());
    env.insert("GOFLAGS".into(), String::new());
    let out = process::query(&[go, "env", "CC"], &env, QUERY).ok()?;
    Some(out.trim().to_string()).filter(|s| !s.is_empty())
}

/// What `CC -dumpmachine` says, for a CC that may carry arguments
/// (`zig cc -target aarch64-linux-musl`). Err when it does not run.
pub fn dumpmachine(cc: &str) -> Result<String, DumpMachineError> {
    dumpmachine_in(cc, &|argv| argv)
}

/// [`dumpmachine`], its argv passed through `enclose` first: a CC a cell
/// names is a command its author chose, and runs where its build would.
pub fn dumpmachine_in(
    cc: &str,
    enclose: &dyn Fn(Vec<String>) -> Vec<String>,
) -> Result<String, DumpMachineError> {
    let mut argv: Vec<String> = cc.split_whitespace().map(str::to_string).collect();
    if argv.is_empty() {
        return Err(DumpMachineError::Empty);
    }
    argv.push("-dumpmachine".into());
    let argv = enclose(argv);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    Ok(process::query(&argv, &BTreeMap::new(), QUERY)?
        .trim()
        .to_string())
}

/// Why `CC -dumpmachine` has no answer.
#[derive(Debug, thiserror::Error)]
pub enum DumpMachineError {
    #[error("CC is empty")]
    Empty,
    /// It did not run, or failed.
    #[error(transparent)]
    Query(#[from] process::QueryError),
}

/// The gcc Debian packages for a target, and its package: what a user
/// would install to build cgo for it (hard-float ARM). Doctor's hints.
pub fn debian_gcc(goos: &str, goarch: &str) -> Option<(String, String)> {
    match goos {
        "linux" => debian_triples(goarch, false)
            .first()
            .map(|t| (format!("{t}-gcc"), cross_gcc_package(t))),
        "windows" => match goarch {
            "amd64" => Some("x86_64-w64-mingw32"),
            "386" => Some("i686-w64-mingw32"),
            _ => None,
        }
        .map(|t| (format!("{t}-gcc"), cross_gcc_package(t))),
        _ => None,
    }
}

/// zig's `-target` for a Go target (hard-float ARM), when zig has a libc
/// for it.
pub fn zig_target(goos: &str, goarch: &str) -> Option<String> {
    zig_triple(goos, goarch, false)
}

/// Debian's cross gcc triples for a GOARCH, preferred first.
pub(super) fn debian_triples(goarch: &str, soft_float: bool) -> Vec<&'static str> {
    let mut triples = crate::target::arch_of(goarch).map_or(vec![], |a| a.triples.to_vec());
    // The table lists hard float first; soft float wants the other order.
    if soft_float {
        triples.reverse();
    }
    triples
}

fn zig_arch(goarch: &str) -> Option<&'static str> {
    crate::target::arch_of(goarch)?.zig
}

/// zig's `-target` for a Go target: musl on linux, mingw on windows.
pub(super) fn zig_triple(goos: &str, goarch: &str, soft_float: bool) -> Option<String> {
    let arch = zig_arch(goarch)?;
    let abi = match (goos, goarch) {
        ("linux", "arm" | "mips" | "mipsle") if soft_float => "linux-musleabi",
        ("linux", "arm" | "mips" | "mipsle") => "linux-musleabihf",
        ("linux", "mips64" | "mips64le") => "linux-muslabi64",
        ("linux", _) => "linux-musl",
        ("windows", "amd64" | "386" | "arm64") => "windows-gnu",
        ("darwin", "amd64" | "arm64") => "macos",
        _ => return None,
    };
    Some(format!("{arch}-{abi}"))
}

pub(super) fn clang_triple(goos: &str, goarch: &str, soft_float: bool) -> Option<String> {
    match goos {
        "linux" => debian_triples(goarch, soft_float)
            .first()
            .map(|t| t.to_string()),
        "windows" => match goarch {
            "amd64" => Some("x86_64-w64-mingw32".into()),
            "386" => Some("i686-w64-mingw32".into()),
            "arm64" => Some("aarch64-w64-mingw32".into()),
            _ => None,
        },
        "darwin" => Some(format!("{}-apple-macos", zig_arch(goarch)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_place_targets() {
        let t = |s: &str| triple_target(s).map(|(o, a)| format!("{o}/{a}"));
        assert_eq!(t("x86_64-linux-gnu").as_deref(), Some("linux/amd64"));
        assert_eq!(t("aarch64-linux-gnu").as_deref(), Some("linux/arm64"));
        assert_eq!(t("arm-linux-gnueabihf").as_deref(), Some("linux/arm"));
        assert_eq!(t("x86_64-w64-mingw32").as_deref(), Some("windows/amd64"));
        assert_eq!(
            t("arm64-apple-darwin23.0.0").as_deref(),
            Some("darwin/arm64")
        );
        assert_eq!(
            t("mips64el-linux-gnuabi64").as_deref(),
            Some("linux/mips64le")
        );
        assert_eq!(t("wasm32-unknown-unknown"), None);
        assert_eq!(serves("x86_64-linux-gnu", "linux", "386"), Some(true));
        assert_eq!(serves("x86_64-linux-gnu", "linux", "arm64"), Some(false));
    }

    #[test]
    fn every_cross_gcc_names_its_own_target() {
        for (goos, goarch) in [
            ("linux", "arm64"),
            ("linux", "mipsle"),
            ("linux", "mips64le"),
            ("windows", "386"),
        ] {
            let (bin, _) = debian_gcc(goos, goarch).unwrap();
            let triple = bin.strip_suffix("-gcc").unwrap();
            let want = if goarch == "386" { "386" } else { goarch };
            assert_eq!(
                triple_target(triple),
                Some((goos.to_string(), want.to_string())),
                "{bin}"
            );
        }
    }
}
