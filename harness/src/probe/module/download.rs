//! Downloading a module's dependencies once per run, before any cell is
//! scheduled: forty cells that need one missing module then say so once,
//! in the proxy's words, instead of forty stacks of the same error.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::toolchain::go::GoToolchain;

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Downloaded {
    #[serde(default)]
    path: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    go_mod: String,
    #[serde(default)]
    zip: String,
}

/// `go mod download -json` in `root` (the module `path`) with `go` and the
/// user's module settings. `Err` is one message: the module, and what the
/// proxy said of the first dependency it could not give.
pub fn download(root: &Path, path: &str, go: &GoToolchain) -> Result<(), DownloadError> {
    if root.join("vendor").is_dir() {
        // -mod=vendor builds read nothing from the module cache.
        return Ok(());
    }
    let go_s = go.go.display().to_string();
    let env = super::env(go);
    // Only a success is kept, and used while the module cache still holds
    // what it fetched: a failure may be the network's, and is asked again.
    let key = super::memo::key("download", go, &env, root, &super::manifest(root));
    if super::memo::get::<Vec<std::path::PathBuf>>(&key)
        .is_some_and(|files| files.iter().all(|f| f.is_file()))
    {
        return Ok(());
    }
    let logs = tempfile::tempdir().map_err(|e| DownloadError::Temp(e.to_string()))?;
    let spec = crate::process::Spec {
        argv: vec![go_s, "mod".into(), "download".into(), "-json".into()],
        env,
        env_remove: Vec::new(),
        cwd: Some(root.to_path_buf()),
        timeout: DOWNLOAD_TIMEOUT,
        log_dir: logs.path().to_path_buf(),
        log_name: "download".into(),
        cap: 1 << 20,
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let module = format!("{path} ({})", root.display());
    let c = crate::process::run(&spec).map_err(|e| DownloadError::Spawn {
        module: module.clone(),
        error: e.to_string(),
    })?;
    if c.exit.success() {
        super::memo::put(&key, &fetched(&c.stdout.text));
        return Ok(());
    }
    let stderr = c.stderr.text.trim();
    let stderr = stderr.to_string();
    Err(
        match first_error(&c.stdout.text).or_else(|| failed_fetch(&stderr)) {
            // Not the proxy's: the Go is older than go.mod asks for.
            None if super::too_new(&stderr) => DownloadError::TooNew { module, stderr },
            Some((dep, why)) => DownloadError::Dependency {
                module,
                dep,
                go: go.version.clone(),
                why,
            },
            None => DownloadError::Failed {
                module,
                go: go.version.clone(),
                exit: c.exit.to_string(),
                stderr,
            },
        },
    )
}

/// Why a module's dependencies could not be had for one Go. `module` is
/// `PATH (ROOT)`. Clone: one download serves every probe of the module.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot create a temporary directory: {0}")]
    Temp(String),
    #[error("module {module}: cannot run go mod download: {error}")]
    Spawn { module: String, error: String },
    /// The Go is older than go.mod asks for: its words.
    #[error("module {module}: {stderr}")]
    TooNew { module: String, stderr: String },
    /// The first dependency the proxy could not give, and why.
    #[error("module {module}: cannot download {dep} with {go}: {why}")]
    Dependency {
        module: String,
        dep: String,
        go: String,
        why: String,
    },
    #[error("module {module}: go mod download failed with {go} ({exit}): {stderr}")]
    Failed {
        module: String,
        go: String,
        exit: String,
        stderr: String,
    },
}

/// The files `go mod download -json` says the module cache holds for the
/// module: each dependency's go.mod, and its zip when it was fetched.
fn fetched(out: &str) -> Vec<std::path::PathBuf> {
    let Some(start) = out.find('{') else {
        return Vec::new();
    };
    serde_json::Deserializer::from_str(&out[start..])
        .into_iter::<Downloaded>()
        .map_while(Result::ok)
        .flat_map(|d| [d.go_mod, d.zip])
        .filter(|f| !f.is_empty())
        .map(std::path::PathBuf::from)
        .collect()
}

/// The first module `go mod download -json` could not fetch, and why.
pub fn first_error(out: &str) -> Option<(String, String)> {
    let start = out.find('{')?;
    serde_json::Deserializer::from_str(&out[start..])
        .into_iter::<Downloaded>()
        .map_while(Result::ok)
        .find(|d| !d.error.is_empty())
        .map(|d| {
            (
                format!("{}@{}", d.path, d.version),
                d.error.trim().to_string(),
            )
        })
}

/// A dependency whose go.mod could not be fetched stops the download
/// before any JSON: `go: example.com/x@v1.0.0: Get "...": dial tcp ...`.
fn failed_fetch(stderr: &str) -> Option<(String, String)> {
    stderr.lines().find_map(|l| {
        let (dep, why) = l.strip_prefix("go: ")?.split_once(": ")?;
        dep.contains('@')
            .then(|| (dep.to_string(), format!("{dep}: {}", why.trim())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failed_module_is_named() {
        // What `go mod download -json` printed for a version that does not
        // exist, with GOPROXY=https://proxy.golang.org.
        let out = r#"{
	"Path": "github.com/mattn/go-sqlite3",
	"Version": "v9.9.9",
	"Error": "github.com/mattn/go-sqlite3@v9.9.9: reading https://proxy.golang.org/github.com/mattn/go-sqlite3/@v/v9.9.9.info: 404 Not Found\n\tserver response: not found: github.com/mattn/go-sqlite3@v9.9.9: invalid version: unknown revision v9.9.9"
}"#;
        let (dep, why) = first_error(out).unwrap();
        assert_eq!(dep, "github.com/mattn/go-sqlite3@v9.9.9");
        assert!(why.contains("404 Not Found"), "{why}");
        assert!(first_error("{\"Path\":\"a\",\"Version\":\"v1\"}").is_none());
        // What Go 1.26 printed when the proxy refused the connection.
        let stderr = "go: example.com/nothere@v1.0.0: Get \"http://127.0.0.1:9/example.com/nothere/@v/v1.0.0.mod\": dial tcp 127.0.0.1:9: connect: connection refused";
        let (dep, why) = failed_fetch(stderr).unwrap();
        assert_eq!(dep, "example.com/nothere@v1.0.0");
        assert!(why.ends_with("connect: connection refused"), "{why}");
        assert!(failed_fetch(
            "go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)"
        )
        .is_none());
    }
}
