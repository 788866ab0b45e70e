//! Go toolchains by version request (`local` = the go on PATH), and the
//! targets each supports (`go tool dist list -json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::fsutil::{stamp, which};
use crate::process;

#[derive(Clone, Debug, Default)]
pub struct GoToolchain {
    /// What the matrix asked for: `local`, `1.22`, `1.21.13`.
    pub request: String,
    pub go: PathBuf,
    pub goroot: PathBuf,
    /// `go1.26.8`.
    pub version: String,
    /// Set for every go command of this toolchain.
    pub env: BTreeMap<String, String>,
    /// Where its builds cache and its modules lie (`go env GOCACHE
    /// GOMODCACHE`): what a sandboxed build writes, and reads.
    pub gocache: PathBuf,
    pub gomodcache: PathBuf,
    /// `goos/goarch` → what dist says of it.
    pub targets: BTreeMap<String, DistTarget>,
    /// What `go help buildmode` lists: `archive`, `c-archive`, `exe`, ...
    /// Empty when it could not be read; nothing is refused then.
    pub buildmodes: Vec<String>,
    /// Set when the version could not be had (no network, not published
    /// for this host): its cells are skips with this reason. `targets` are
    /// then the local Go's, so that expansion can still check them.
    pub unavailable: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DistTarget {
    #[serde(rename = "GOOS")]
    pub goos: String,
    #[serde(rename = "GOARCH")]
    pub goarch: String,
    #[serde(rename = "CgoSupported")]
    pub cgo_supported: bool,
    #[serde(rename = "FirstClass", default)]
    pub first_class: bool,
    /// Listed only by `go tool dist list -broken`: a port in the tree that
    /// its builders do not keep working.
    #[serde(rename = "Broken", default)]
    pub broken: bool,
}

/// Why a Go toolchain cannot be described. Clone: the resolver keeps the
/// local one's answer for every version that needs it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoError {
    #[error("no `go` on PATH: install Go from https://go.dev/dl/ or your package manager")]
    NotOnPath,
    /// `go env` or `go tool dist list` did not answer.
    #[error(transparent)]
    Query(#[from] process::QueryError),
    #[error("`{go} env -json` printed something unexpected: {error}")]
    Env { go: String, error: String },
    #[error("`{go} tool dist list -json`: {error}")]
    DistList { go: String, error: String },
}

const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolves the `local` toolchain: the `go` on PATH, pinned with
/// GOTOOLCHAIN=local so that a go.mod line can never switch it.
pub fn local() -> Result<GoToolchain, GoError> {
    let go = which("go").ok_or(GoError::NotOnPath)?;
    let mut env = BTreeMap::new();
    env.insert("GOTOOLCHAIN".to_string(), "local".to_string());
    env.insert("GOWORK".to_string(), "off".to_string());
    describe("local", go, env)
}

/// What `go` (run with `env`) is: asked with `go env`, `go tool dist list`
/// and `go help buildmode`, or remembered from a run that asked the same
/// binary with the same environment ([`super::known`]).
pub(crate) fn describe(
    request: &str,
    go: PathBuf,
    env: BTreeMap<String, String>,
) -> Result<GoToolchain, GoError> {
    let env_file = go_env_file()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let f = super::known::facts(&go, &env, &env_file, || ask(&go, &env))?;
    let targets: Vec<DistTarget> =
        serde_json::from_str(&f.dist_list).map_err(|e| GoError::DistList {
            go: go.display().to_string(),
            error: e.to_string(),
        })?;
    Ok(GoToolchain {
        buildmodes: f.buildmodes.unwrap_or_default(),
        request: request.to_string(),
        go,
        goroot: PathBuf::from(f.goroot),
        version: f.version,
        env,
        gocache: PathBuf::from(f.gocache),
        gomodcache: PathBuf::from(f.gomodcache),
        targets: targets
            .into_iter()
            .map(|t| (format!("{}/{}", t.goos, t.goarch), t))
            .collect(),
        unavailable: None,
    })
}

/// What `go` says of itself, asked now.
fn ask(go: &Path, env: &BTreeMap<String, String>) -> Result<super::known::Facts, GoError> {
    let go_s = go.display().to_string();
    let out = process::query(
        &[
            &go_s,
            "env",
            "-json",
            "GOROOT",
            "GOVERSION",
            "GOCACHE",
            "GOMODCACHE",
        ],
        env,
        QUERY_TIMEOUT,
    )?;
    #[derive(Deserialize)]
    struct GoEnv {
        #[serde(rename = "GOROOT")]
        goroot: String,
        #[serde(rename = "GOVERSION")]
        goversion: String,
        #[serde(rename = "GOCACHE", default)]
        gocache: String,
        #[serde(rename = "GOMODCACHE", default)]
        gomodcache: String,
    }
    let ge: GoEnv = serde_json::from_str(&out).map_err(|e| GoError::Env {
        go: go_s.clone(),
        error: e.to_string(),
    })?;
    // Broken ports build too (openbsd/riscv64 in go1.22): a matrix may name
    // them. A Go too old for `-broken` lists what it has.
    let list = process::query(
        &[&go_s, "tool", "dist", "list", "-json", "-broken"],
        env,
        QUERY_TIMEOUT,
    )
    .or_else(|_| {
        process::query(
            &[&go_s, "tool", "dist", "list", "-json"],
            env,
            QUERY_TIMEOUT,
        )
    })?;
    // Checked before it is kept: a listing that does not parse is no answer.
    serde_json::from_str::<Vec<DistTarget>>(&list).map_err(|e| GoError::DistList {
        go: go_s.clone(),
        error: e.to_string(),
    })?;
    // Help text, not an interface, so unreadable help only skips the check.
    let buildmodes = process::query(&[&go_s, "help", "buildmode"], env, QUERY_TIMEOUT)
        .ok()
        .map(|help| parse_buildmodes(&help));
    Ok(super::known::Facts {
        goroot: ge.goroot,
        version: ge.goversion,
        gocache: ge.gocache,
        gomodcache: ge.gomodcache,
        dist_list: list,
        buildmodes,
    })
}

/// The `\t-buildmode=NAME` lines of `go help buildmode`; prose that
/// mentions a mode ("-buildmode=c-archive, you must pass ...") is not one.
fn parse_buildmodes(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| l.strip_prefix("\t-buildmode="))
        .map(str::trim_end)
        .filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(str::to_string)
        .collect()
}

/// `go env -w` writes here; the go command reads it on every run.
pub fn go_env_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOENV") {
        return (!p.is_empty() && p != "off").then(|| PathBuf::from(p));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            Some(if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".config")
            })
        })?;
    Some(config.join("go/env"))
}

/// What identifies a Go installation without reading it: its version, its
/// GOROOT and the [`stamp`] of the files a build runs (`bin/go`, the
/// compiler, assembler, linker and cgo tool).
pub fn goroot_identity(g: &GoToolchain) -> String {
    let root = std::fs::canonicalize(&g.goroot).unwrap_or_else(|_| g.goroot.clone());
    let mut files = vec![root.join("VERSION"), root.join("bin/go"), g.go.clone()];
    if let Ok(rd) = std::fs::read_dir(root.join("pkg/tool")) {
        let mut dirs: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
        dirs.sort();
        for d in dirs {
            files.extend(["compile", "asm", "link", "cgo"].map(|t| d.join(t)));
        }
    }
    let stamps: Vec<String> = files.iter().map(|f| stamp(f)).collect();
    format!("{} {} {}", g.version, root.display(), stamps.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildmodes_from_help() {
        let help = "The 'go build' and 'go install' commands take a -buildmode argument...\n\n\t-buildmode=archive\n\t\tBuild the listed non-main packages into .a files.\n\t-buildmode=c-shared\n\t\tBuild ... -buildmode=not-this\n\
                    -buildmode=c-archive, you must pass -Wl,-bnoobjreorder to the C compiler.\n";
        assert_eq!(parse_buildmodes(help), ["archive", "c-shared"]);
    }
}
