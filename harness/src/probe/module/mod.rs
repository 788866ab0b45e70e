//! The user's own Go module as a probe: `package:` (a main package, built
//! and run), `test:` (a `go test` pattern, one cell per package with tests)
//! and an inline `source:` with `module:` (built as a package inside the
//! module, through `-overlay`).
//!
//! What `go list` says of the module is read here once per run, before
//! expansion: which packages a pattern matches, whether a `package:` is a
//! main package, and which files each package's build reads, hashed for
//! the result cache. Modules are downloaded once per run and Go
//! ([`download`]). Nothing is ever written into the module's tree: what
//! crossprobe adds goes in through `go build -overlay` ([`build`]).

pub mod build;
pub mod download;
mod list;
use list::{list, Found, Listing, Recorded};
pub mod memo;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::errors::{Error, InputError, Source};
use crate::model::{ModuleKind as Kind, Package, Probe};
use crate::process;
use crate::toolchain::go::GoToolchain;

/// The variables of the user's that say how modules are fetched and built:
/// they reach every go command of a module probe, recorded in its env.
pub const PASSED_THROUGH: &[&str] = &[
    "GOFLAGS",
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GOSUMDB",
    "GOINSECURE",
];

/// Where the inline source of a `module:` probe lives, seen from cmd/go: a
/// directory of the module that exists only in the overlay.
pub const OVERLAY_DIR: &str = ".crossprobe";

const LIST_TIMEOUT: Duration = Duration::from_secs(300);

/// The environment of every go command run in a user's module: the
/// toolchain's own (GOTOOLCHAIN=local) and the user's module settings,
/// written out so that each step records them.
pub fn env(go: &GoToolchain) -> BTreeMap<String, String> {
    let mut env = go.env.clone();
    for k in PASSED_THROUGH {
        if let Ok(v) = std::env::var(k) {
            env.insert(k.to_string(), v);
        }
    }
    env
}

/// Fills in what `go list` says of each module probe of a matrix, and
/// refuses what cannot be built: a `package:` that is not a main package,
/// a pattern `go list` rejects. Returns warnings: a `test:` pattern that
/// matches no package with tests. What go list said is kept ([`memo`]) and
/// used again while the module's tree is unchanged.
pub fn resolve(
    source: &Source,
    probes: &mut [Probe],
    gos: &[&GoToolchain],
) -> miette::Result<Vec<String>> {
    let mut warnings = Vec::new();
    for probe in probes.iter_mut() {
        let Some(m) = probe.module() else {
            continue;
        };
        let vendor = m.root.join("vendor").is_dir();
        let manifest = manifest(&m.root);
        let inline = match m.kind {
            Kind::Source => probe
                .files
                .iter()
                .find(|(n, _)| n == "main.go")
                .map_or("", |(_, t)| t.as_str()),
            _ => "",
        };
        let (pattern, kind) = match &m.kind {
            Kind::Package(p) => (p.clone(), "package"),
            Kind::Test(p) => (p.clone(), "test"),
            Kind::Source => (format!("./{OVERLAY_DIR}/{}", probe.name), "source"),
        };
        // The first Go of the matrix that can read the module lists it; one
        // its go.mod is too new for has its cells fail at their build, in
        // Go's words (GOTOOLCHAIN=local: never a switch to another Go).
        let mut listing = None;
        for go in gos {
            let key = memo::key(
                "list",
                go,
                &env(go),
                &m.root,
                &(kind, &pattern, inline, vendor, &manifest),
            );
            if let Some(r) = memo::get::<Recorded>(&key)
                .filter(|r| r.fingerprint == memo::fingerprint(&m.root, &r.listing.also()))
            {
                listing = Some(r.listing);
                break;
            }
            match list(m, &probe.name, inline, &pattern, vendor, go) {
                Ok((l, clean)) => {
                    // A listing with errors (a dependency not downloaded yet)
                    // is not kept: the next run may find more.
                    if clean {
                        let fingerprint = memo::fingerprint(&m.root, &l.also());
                        memo::put(
                            &key,
                            &Recorded {
                                fingerprint,
                                listing: l.clone(),
                            },
                        );
                    }
                    listing = Some(l);
                    break;
                }
                Err(f) if too_new(&f.message) => continue,
                Err(f) => {
                    return Err(Error::from(InputError::new(
                        source,
                        m.span,
                        f.message,
                        f.label,
                        Some(f.help.to_string()),
                    ))
                    .into())
                }
            }
        }
        let listing = listing.unwrap_or_else(|| unlisted(&m.root, &m.kind, &pattern));
        let Some(m) = probe.module_mut() else {
            continue;
        };
        m.vendor = vendor;
        m.path = listing.path;
        m.packages = listing
            .packages
            .into_iter()
            .map(|f| Package {
                content: content_hash(&manifest, &f.read, &f.embeds),
                import_path: f.import_path,
                dir: f.dir,
                id: f.id,
            })
            .collect();
        m.manifest = manifest;
        if m.packages.is_empty() && matches!(m.kind, Kind::Test(_)) {
            warnings.push(format!(
                "{}: `test: {pattern}` matches no package with tests",
                source.position(m.span.offset())
            ));
        }
    }
    Ok(warnings)
}

/// Whether the go command refused because the module needs a newer Go:
/// `go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)`.
pub fn too_new(message: &str) -> bool {
    message.contains(" requires go >= ") && message.contains("(running go ")
}

/// What stands for the packages of a module no Go of the matrix can read:
/// the pattern itself, so that each cell is built, and fails in Go's words.
fn unlisted(root: &Path, kind: &Kind, pattern: &str) -> Listing {
    let gomod = std::fs::read_to_string(root.join("go.mod")).unwrap_or_default();
    let path = gomod
        .lines()
        .find_map(|l| l.trim().strip_prefix("module "))
        .map(|p| p.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    let dir = root.join(pattern);
    let id = match pattern.trim_start_matches("./") {
        "" | "." => package_id(&path, &path),
        p => p.to_string(),
    };
    Listing {
        packages: vec![Found {
            import_path: pattern.to_string(),
            dir: if dir.is_dir() {
                dir
            } else {
                root.to_path_buf()
            },
            id: match kind {
                Kind::Source => String::new(),
                _ => id,
            },
            read: BTreeSet::new(),
            embeds: Vec::new(),
        }],
        path,
        outside: Vec::new(),
    }
}

/// `example.com/portable/sizes` in `example.com/portable` → `sizes`; the
/// root package takes the module path's last element.
pub fn package_id(module: &str, import_path: &str) -> String {
    match import_path.strip_prefix(module) {
        Some("") | None => import_path
            .rsplit('/')
            .next()
            .unwrap_or(import_path)
            .to_string(),
        Some(rest) => rest.trim_start_matches('/').to_string(),
    }
}

/// go.mod, go.sum and vendor/modules.txt: what says which dependencies a
/// build gets.
pub(crate) fn manifest(root: &Path) -> String {
    let mut h = Sha256::new();
    for f in ["go.mod", "go.sum", "vendor/modules.txt"] {
        h.update(f.as_bytes());
        h.update(std::fs::read(root.join(f)).unwrap_or_default());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// The files of each directory a build reads (its own test files and
/// testdata/ only for the package under test), whatever build constraints a
/// target applies, and the embedded files: a build reads no other file of
/// the module.
fn content_hash(manifest: &str, dirs: &BTreeSet<(PathBuf, bool)>, embeds: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    h.update(manifest.as_bytes());
    for (d, tests) in dirs {
        hash_dir(&mut h, d, *tests, false);
        if *tests {
            hash_dir(&mut h, &d.join("testdata"), true, true);
        }
    }
    for f in embeds {
        hash_file(&mut h, f);
    }
    hex(&h.finalize())
}

fn hash_dir(h: &mut Sha256, dir: &Path, tests: bool, recurse: bool) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let test_file = p.to_string_lossy().ends_with("_test.go");
        if p.is_file() && (tests || !test_file) {
            hash_file(h, &p);
        } else if recurse && p.is_dir() {
            hash_dir(h, &p, tests, true);
        }
    }
}

fn hash_file(h: &mut Sha256, p: &Path) {
    h.update(p.display().to_string().as_bytes());
    h.update([0]);
    h.update(std::fs::read(p).unwrap_or_default());
    h.update([0]);
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids() {
        assert_eq!(package_id("example.com/p", "example.com/p/sizes"), "sizes");
        assert_eq!(package_id("example.com/p", "example.com/p/cmd/x"), "cmd/x");
        assert_eq!(package_id("example.com/p", "example.com/p"), "p");
    }
}
