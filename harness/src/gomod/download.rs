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
}

/// `go mod download -json` in `root` with `go` and the user's module
/// settings. `Err` is one message: the module, and what the proxy said of
/// the first dependency it could not give.
pub fn download(root: &Path, go: &GoToolchain) -> Result<(), String> {
    if root.join("vendor").is_dir() {
        // -mod=vendor builds read nothing from the module cache.
        return Ok(());
    }
    let go_s = go.go.display().to_string();
    let env = super::env(go);
    let logs =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
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
    };
    let module = root.display();
    let c = crate::process::run(&spec)
        .map_err(|e| format!("module {module}: cannot run go mod download: {e}"))?;
    if c.exit.success() {
        return Ok(());
    }
    Err(match first_error(&c.stdout.text) {
        Some((dep, why)) => format!(
            "module {module}: cannot download {dep} with {}: {why}",
            go.version
        ),
        None => format!(
            "module {module}: go mod download failed with {} ({}): {}",
            go.version,
            c.exit,
            c.stderr.text.trim()
        ),
    })
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
    }
}
