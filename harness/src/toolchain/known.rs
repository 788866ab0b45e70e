//! What a Go toolchain said of itself last time (`go env`, `go tool dist
//! list`, `go help buildmode`), kept under `<cache dir>/toolchains/` so that
//! a run does not start three go commands to learn it again: they were most
//! of a result-cache rerun's own cost.
//!
//! A record is found by a key of everything those answers depend on: the
//! `go` binary (its real path, size and mtime), the variables crossprobe
//! sets for it, every `GO*` and `CGO_*` variable inherited, `HOME` and the
//! `XDG_*` directories (where GOCACHE, GOPATH and the env file default to),
//! and the content of Go's env file (`go env -w`). It is then used only if
//! the GOROOT it names still holds the same `VERSION`, `bin/go` and tools
//! ([`root_stamps`]): Go replaced in place, or another GOROOT behind the
//! same path, asks again. A failed or partial answer is never kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil::stamp;
use crate::store::Store;

/// Bumped when a record's layout or meaning changes.
const FORMAT: u32 = 1;

/// What a toolchain says of itself, as [`super::go::describe`] asks it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Facts {
    pub goroot: String,
    pub version: String,
    pub gocache: String,
    pub gomodcache: String,
    /// `go tool dist list -json [-broken]`, as printed.
    pub dist_list: String,
    /// `go help buildmode`, parsed; None when it could not be read (such
    /// an answer is not kept).
    pub buildmodes: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    key: String,
    facts: Facts,
    /// [`root_stamps`] of the GOROOT when the facts were asked.
    stamps: String,
}

#[derive(Serialize)]
struct KeyInputs<'a> {
    format: u32,
    go: String,
    env: &'a BTreeMap<String, String>,
    inherited: BTreeMap<String, String>,
    go_env_file: String,
}

/// Where the records are; pruned with the result cache.
pub fn store() -> Store {
    Store::at(crate::host::cache_dir().join("toolchains"))
}

/// The key of what `go`, run with `env` on top of this process's
/// environment and with `go_env_file` (the content of Go's env file), says
/// of itself.
fn key(go: &Path, env: &BTreeMap<String, String>, go_env_file: &str) -> String {
    let inputs = KeyInputs {
        format: FORMAT,
        go: stamp(go),
        env,
        inherited: std::env::vars()
            .filter(|(k, _)| read_by_go(k) && !env.contains_key(k))
            .collect(),
        go_env_file: go_env_file.to_string(),
    };
    let bytes = serde_json::to_vec(&inputs).expect("key inputs serialise");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Variables that can change what `go env` prints for GOROOT, GOVERSION,
/// GOCACHE and GOMODCACHE, or which toolchain answers: Go's own, and the
/// directories its defaults are made from.
fn read_by_go(k: &str) -> bool {
    k.starts_with("GO")
        || k.starts_with("CGO_")
        || k.starts_with("XDG_")
        || matches!(k, "HOME" | "AppData" | "LocalAppData")
}

/// The files that make the toolchain at `goroot` what it is: `VERSION`,
/// `bin/go`, and the dist, compiler, assembler, linker and cgo tools.
fn root_stamps(goroot: &Path) -> String {
    let root = std::fs::canonicalize(goroot).unwrap_or_else(|_| goroot.to_path_buf());
    let mut files = vec![root.join("VERSION"), root.join("bin/go")];
    if let Ok(rd) = std::fs::read_dir(root.join("pkg/tool")) {
        let mut dirs: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
        dirs.sort();
        for d in dirs {
            files.extend(["dist", "compile", "asm", "link", "cgo"].map(|t| d.join(t)));
        }
    }
    let stamps: Vec<String> = files.iter().map(|f| stamp(f)).collect();
    stamps.join(" ")
}

/// What `go` with `env` (and Go's env file holding `go_env_file`) said of
/// itself, if it was kept and its GOROOT is unchanged; else `ask`'s answer,
/// kept when it is one.
pub fn facts<E>(
    go: &Path,
    env: &BTreeMap<String, String>,
    go_env_file: &str,
    ask: impl FnOnce() -> Result<Facts, E>,
) -> Result<Facts, E> {
    let key = key(go, env, go_env_file);
    let store = store();
    let kept = store.get(&key, |s: &Stored| {
        s.key == key && s.stamps == root_stamps(Path::new(&s.facts.goroot))
    });
    if let Some(s) = kept {
        return Ok(s.facts);
    }
    let facts = ask()?;
    let stored = Stored {
        stamps: root_stamps(Path::new(&facts.goroot)),
        key: key.clone(),
        facts,
    };
    // One that cannot be written costs the next run three go commands.
    if stored.facts.buildmodes.is_some() {
        let _ = store.put(&key, &stored);
    }
    Ok(stored.facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_tool_changes_the_roots_stamps() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("pkg/tool/linux_amd64")).unwrap();
        std::fs::write(root.join("VERSION"), "go1.26.8\n").unwrap();
        std::fs::write(root.join("bin/go"), "go").unwrap();
        std::fs::write(root.join("pkg/tool/linux_amd64/dist"), "dist").unwrap();
        let before = root_stamps(root);
        assert_eq!(root_stamps(root), before);
        std::fs::write(root.join("pkg/tool/linux_amd64/dist"), "dist 2").unwrap();
        assert_ne!(root_stamps(root), before, "a new dist tool");
        let before = root_stamps(root);
        std::fs::write(root.join("VERSION"), "go1.26.9\n").unwrap();
        assert_ne!(root_stamps(root), before, "a new VERSION");
    }

    #[test]
    fn the_variables_go_reads_are_in_the_key() {
        for k in [
            "GOROOT",
            "GOPATH",
            "GOCACHE",
            "GOENV",
            "GOTOOLCHAIN",
            "CGO_ENABLED",
            "HOME",
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
        ] {
            assert!(read_by_go(k), "{k}");
        }
        for k in ["PATH", "TERM", "CROSSPROBE_SPAWN"] {
            assert!(!read_by_go(k), "{k}");
        }
    }
}
