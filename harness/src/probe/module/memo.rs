//! What `go list` and `go mod download` said of a module last time, kept
//! under `<cache dir>/modules/` so that a rerun of an unchanged module does
//! not pay them again (about 0.5 s a module, most of a cached rerun).
//!
//! A record is found by a key of everything the go command's answer
//! depends on besides the tree: the toolchain, the environment go reads,
//! the module root, its go.mod, go.sum and vendor/modules.txt, and what was
//! asked. It is then used only if the tree still looks as it did
//! ([`fingerprint`]), so an edit, a new package or a deleted file lists the
//! module again. Build directories are reused the same way under
//! `--no-cache`: neither is a result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::Store;
use crate::toolchain::go::GoToolchain;

/// Bumped when a record's layout or meaning changes.
const FORMAT: u32 = 2;

/// Where the records are; pruned with the result cache.
pub fn dir() -> PathBuf {
    crate::host::cache_dir().join("modules")
}

/// Variables the go command reads that say where it keeps things or what
/// it tells Google, not what a listing or a download holds.
const IGNORED: [&str; 5] = [
    "GOCACHE",
    "GOCACHEPROG",
    "GOTMPDIR",
    "GOTELEMETRY",
    "GOTELEMETRYDIR",
];

#[derive(Serialize)]
struct KeyInputs<'a, T: Serialize> {
    format: u32,
    what: &'a str,
    goroot: String,
    env: &'a BTreeMap<String, String>,
    inherited: BTreeMap<String, String>,
    go_env_file: String,
    root: &'a Path,
    asked: &'a T,
}

/// The key of a record of `what` (`list`, `download`) for the module at
/// `root`, run by `go` with `env`, asked `asked`.
pub fn key(
    what: &str,
    go: &GoToolchain,
    env: &BTreeMap<String, String>,
    root: &Path,
    asked: &impl Serialize,
) -> String {
    let inputs = KeyInputs {
        format: FORMAT,
        what,
        goroot: crate::toolchain::go::goroot_identity(go),
        env,
        // Inherited, unless `env` sets them: GOOS, GOFLAGS, CGO_ENABLED,
        // GOMODCACHE (the Dir of each dependency), CC and PATH (whether cgo
        // is on when nothing says).
        inherited: std::env::vars()
            .filter(|(k, _)| {
                (k.starts_with("GO")
                    || k.starts_with("CGO_")
                    || matches!(k.as_str(), "CC" | "CXX" | "PATH"))
                    && !IGNORED.contains(&k.as_str())
                    && !env.contains_key(k)
            })
            .collect(),
        go_env_file: crate::toolchain::go::go_env_file()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default(),
        root,
        asked,
    };
    let bytes = serde_json::to_vec(&inputs).expect("key inputs serialise");
    super::hex(&Sha256::digest(&bytes))
}

#[derive(Serialize, serde::Deserialize)]
struct Stored<T> {
    key: String,
    record: T,
}

/// The records, under [`dir`].
pub fn store() -> Store {
    Store::at(dir())
}

/// The record under `key`; a hit marks it used, which pruning goes by.
pub fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    store()
        .get(key, |s: &Stored<T>| s.key == key)
        .map(|s| s.record)
}

/// Keeps `record` under `key`. One that cannot be written costs the next
/// run a `go list`, nothing else.
pub fn put<T: Serialize>(key: &str, record: &T) {
    let stored = Stored {
        key: key.to_string(),
        record,
    };
    let _ = store().put(key, &stored);
}

/// How the module's tree looks to `go list`: every directory, the name of
/// every file in a directory that holds Go files, the bytes of every Go
/// file (imports, package clauses and build constraints live there), and
/// the names under `also` (the directories embedded files came from).
/// `.git` is not walked. A new package, a deleted file, a changed import
/// or `//go:embed` line all change it; a report written beside the module,
/// or an edit to a file no build reads, does not.
pub fn fingerprint(root: &Path, also: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    walk(&mut h, root, false);
    for d in also {
        h.update(b"also\0");
        walk(&mut h, d, true);
    }
    super::hex(&h.finalize())
}

fn walk(h: &mut Sha256, dir: &Path, names: bool) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(PathBuf, bool)> = rd
        .filter_map(|e| {
            let e = e.ok()?;
            Some((e.path(), e.file_type().ok()?.is_dir()))
        })
        .collect();
    entries.sort();
    let go_files = entries
        .iter()
        .any(|(p, d)| !d && p.extension().is_some_and(|x| x == "go"));
    h.update(dir.as_os_str().as_encoded_bytes());
    h.update(b"/\0");
    for (p, is_dir) in entries {
        if is_dir {
            if p.file_name().is_some_and(|n| n != ".git") {
                walk(h, &p, names);
            }
            continue;
        }
        let go = p.extension().is_some_and(|x| x == "go");
        if go || names || go_files {
            h.update(p.as_os_str().as_encoded_bytes());
            h.update([0]);
        }
        if go {
            h.update(std::fs::read(&p).unwrap_or_default());
            h.update([0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_what_go_list_reads() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("go.mod"), "module x\n").unwrap();
        std::fs::write(root.join("a/a.go"), "package a\n").unwrap();
        let mut last = fingerprint(root, &[]);
        let mut changes = |what: &str, f: &dyn Fn()| {
            f();
            let now = fingerprint(root, &[]);
            assert_ne!(now, last, "{what} left the fingerprint as it was");
            last = now;
        };
        changes("an edit", &|| {
            std::fs::write(root.join("a/a.go"), "package a\nimport _ \"b\"\n").unwrap()
        });
        changes("a new package", &|| {
            std::fs::create_dir_all(root.join("b/c")).unwrap();
            std::fs::write(root.join("b/c/c.go"), "package c\n").unwrap();
        });
        changes("a new file beside Go files", &|| {
            std::fs::write(root.join("a/a_amd64.s"), "").unwrap()
        });
        changes("a deleted file", &|| {
            std::fs::remove_file(root.join("b/c/c.go")).unwrap()
        });
        // What no build reads.
        std::fs::create_dir_all(root.join("reports/x")).unwrap();
        std::fs::write(root.join("reports/x/results.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "x").unwrap();
        std::fs::write(root.join("a/notes.txt"), "x").unwrap();
        let with_notes = fingerprint(root, &[]);
        std::fs::write(root.join("a/notes.txt"), "y").unwrap();
        std::fs::write(root.join("reports/x/results.json"), "{\"x\":1}").unwrap();
        std::fs::write(root.join("reports/x/more.json"), "{}").unwrap();
        assert_eq!(fingerprint(root, &[]), with_notes);
        // Embedded files' directories by name.
        std::fs::create_dir_all(root.join("static")).unwrap();
        let embedded = fingerprint(root, &[root.join("static")]);
        std::fs::write(root.join("static/new.css"), "").unwrap();
        assert_ne!(fingerprint(root, &[root.join("static")]), embedded);
    }
}
