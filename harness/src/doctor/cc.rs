//! Which C compiler builds for which Go target.
//!
//! A cgo build uses `$CC`, else what `go env CC` says, else `gcc`: the
//! host's compiler, whatever GOARCH says. So a cross cgo build needs CC set
//! to a cross compiler, and `cc -dumpmachine` tells which target a compiler
//! builds for.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::process;

pub use crate::toolchain::cc::{debian_gcc as cross_gcc, zig_target};

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
pub fn dumpmachine(cc: &str) -> Result<String, String> {
    let mut argv: Vec<&str> = cc.split_whitespace().collect();
    if argv.is_empty() {
        return Err("CC is empty".into());
    }
    argv.push("-dumpmachine");
    process::query(&argv, &BTreeMap::new(), QUERY).map(|s| s.trim().to_string())
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
            let (bin, _) = cross_gcc(goos, goarch).unwrap();
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
