//! Go toolchains by version request (`local` = the go on PATH), and the
//! targets each supports (`go tool dist list -json`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::process;

#[derive(Clone, Debug)]
pub struct GoToolchain {
    /// What the matrix asked for: `local`, `1.22`, `1.21.13`.
    pub request: String,
    pub go: PathBuf,
    pub goroot: PathBuf,
    /// `go1.26.8`.
    pub version: String,
    /// Set for every go command of this toolchain.
    pub env: BTreeMap<String, String>,
    /// `goos/goarch` → what dist says of it.
    pub targets: BTreeMap<String, DistTarget>,
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
}

const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolves the `local` toolchain: the `go` on PATH, pinned with
/// GOTOOLCHAIN=local so that a go.mod line can never switch it.
pub fn local() -> Result<GoToolchain, String> {
    let go = which("go")
        .ok_or("no `go` on PATH: install Go from https://go.dev/dl/ or your package manager")?;
    let mut env = BTreeMap::new();
    env.insert("GOTOOLCHAIN".to_string(), "local".to_string());
    env.insert("GOWORK".to_string(), "off".to_string());
    describe("local", go, env)
}

pub(crate) fn describe(
    request: &str,
    go: PathBuf,
    env: BTreeMap<String, String>,
) -> Result<GoToolchain, String> {
    let go_s = go.display().to_string();
    let out = process::query(
        &[&go_s, "env", "-json", "GOROOT", "GOVERSION"],
        &env,
        QUERY_TIMEOUT,
    )?;
    #[derive(Deserialize)]
    struct GoEnv {
        #[serde(rename = "GOROOT")]
        goroot: String,
        #[serde(rename = "GOVERSION")]
        goversion: String,
    }
    let ge: GoEnv = serde_json::from_str(&out)
        .map_err(|e| format!("`{go_s} env -json` printed something unexpected: {e}"))?;
    let list = process::query(
        &[&go_s, "tool", "dist", "list", "-json"],
        &env,
        QUERY_TIMEOUT,
    )?;
    let targets: Vec<DistTarget> =
        serde_json::from_str(&list).map_err(|e| format!("`{go_s} tool dist list -json`: {e}"))?;
    Ok(GoToolchain {
        request: request.to_string(),
        go,
        goroot: PathBuf::from(ge.goroot),
        version: ge.goversion,
        env,
        targets: targets
            .into_iter()
            .map(|t| (format!("{}/{}", t.goos, t.goarch), t))
            .collect(),
        unavailable: None,
    })
}

pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}
