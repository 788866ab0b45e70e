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
pub mod local;
use list::{list, Found, Listing, Recorded};
pub mod memo;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::errors::{Error, InputError, Source};
use crate::model::{ListTarget, ModuleKind as Kind, ModuleProbe, Package, Probe};
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

/// Fills in what `go list` says of each module probe of a matrix, listed
/// for each target its cells have (`targets`, by probe name), and refuses
/// what cannot be built: a `package:` that is not a main package, a
/// pattern `go list` rejects on every target. A package some targets
/// leave out is absent there ([`Package::absent`], Go's reason). Returns
/// warnings: a `test:` pattern that matches no package with tests. What
/// go list said is kept ([`memo`]) and used again while the module's tree
/// is unchanged.
pub fn resolve(
    source: &Source,
    probes: &mut [Probe],
    gos: &[&GoToolchain],
    targets: &BTreeMap<String, BTreeSet<ListTarget>>,
) -> miette::Result<Vec<String>> {
    let mut warnings = Vec::new();
    for probe in probes.iter_mut() {
        let Some(m) = probe.module() else {
            continue;
        };
        let vendor = m.root.join("vendor").is_dir();
        let manifest = manifest(&m.root);
        let patterns = match &m.kind {
            Kind::Package(p) => vec![p.clone()],
            Kind::Test(p) => p.clone(),
            Kind::Source => vec![format!("./{OVERLAY_DIR}/{}", probe.name)],
        };
        let refuse = |f: list::Failure| -> miette::Report {
            Error::from(InputError::new(
                source,
                m.span,
                f.message,
                f.label,
                Some(f.help.to_string()),
            ))
            .into()
        };
        let mut listings: Vec<(ListTarget, &GoToolchain, Listing)> = Vec::new();
        let none = BTreeSet::new();
        for target in targets.get(&probe.name).unwrap_or(&none) {
            if let Some((go, l)) =
                listed(probe, m, (&patterns, vendor, &manifest), gos, target).map_err(refuse)?
            {
                listings.push((target.clone(), go, l));
            }
        }
        let merged = match listings.is_empty() {
            true => None,
            false => Some(merge(m, &listings, vendor).map_err(refuse)?),
        };
        let listing =
            merged.unwrap_or_else(|| (unlisted(&m.root, &m.kind, &patterns), BTreeMap::new()));
        let Some(m) = probe.module_mut() else {
            continue;
        };
        let (listing, absent) = listing;
        m.vendor = vendor;
        m.path = listing.path;
        m.packages = listing
            .packages
            .into_iter()
            .map(|f| Package {
                content: content_hash(&manifest, &f.read, &f.embeds),
                absent: absent.get(&f.import_path).cloned().unwrap_or_default(),
                import_path: f.import_path,
                dir: f.dir,
                id: f.id,
            })
            .collect();
        m.manifest = manifest;
        let gowork = std::env::var("GOWORK").ok();
        m.outside = local::outside(&m.root, gowork.as_deref());
        for d in listing.outside {
            if !m.outside.iter().any(|o| d.starts_with(o)) {
                m.outside.push(d);
            }
        }
        if m.packages.is_empty() && matches!(m.kind, Kind::Test(_)) {
            warnings.push(format!(
                "{}: `test: {}` matches no package with tests",
                source.position(m.span.offset()),
                patterns.join(" ")
            ));
        }
    }
    Ok(warnings)
}

/// The probe's packages on one target, from the first Go of the matrix
/// that can read the module (one whose go.mod is too new for it has its
/// cells fail at their build, in Go's words: GOTOOLCHAIN=local, never a
/// switch to another Go); None when none can.
fn listed<'g>(
    probe: &Probe,
    m: &ModuleProbe,
    (patterns, vendor, manifest): (&[String], bool, &str),
    gos: &[&'g GoToolchain],
    target: &ListTarget,
) -> Result<Option<(&'g GoToolchain, Listing)>, list::Failure> {
    let inline = match m.kind {
        Kind::Source => probe
            .files
            .iter()
            .find(|(n, _)| n == "main.go")
            .map_or("", |(_, t)| t.as_str()),
        _ => "",
    };
    let kind = match &m.kind {
        Kind::Package(_) => "package",
        Kind::Test(_) => "test",
        Kind::Source => "source",
    };
    for go in gos {
        let key = memo::key(
            "list",
            go,
            &env(go),
            &m.root,
            &(kind, patterns, inline, vendor, manifest, target),
        );
        if let Some(r) = memo::get::<Recorded>(&key)
            .filter(|r| r.fingerprint == memo::fingerprint(&m.root, &r.listing.also()))
        {
            return Ok(Some((go, r.listing)));
        }
        match list(m, &probe.name, inline, patterns, vendor, (go, target)) {
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
                return Ok(Some((go, l)));
            }
            Err(f) if too_new(&f.message) => continue,
            Err(f) => return Err(f),
        }
    }
    Ok(None)
}

/// By import path, the targets (keys) a package is not on, and why.
type Absent = BTreeMap<String, BTreeMap<String, String>>;

/// One listing of the probe's packages from each target's: every package
/// some target can build, and by import path the targets (keys) it is not
/// on, with Go's reason. A package no target can build is left out when
/// some target says why quietly (no test files, or `./...` left it out);
/// when every target has an error for it, the first is the refusal.
fn merge(
    m: &ModuleProbe,
    listings: &[(ListTarget, &GoToolchain, Listing)],
    vendor: bool,
) -> Result<(Listing, Absent), list::Failure> {
    let mut order: Vec<&str> = Vec::new();
    for (_, _, l) in listings {
        for f in &l.packages {
            if !order.contains(&f.import_path.as_str()) {
                order.push(&f.import_path);
            }
        }
    }
    let mut merged = Listing {
        path: listings[0].2.path.clone(),
        packages: Vec::new(),
        outside: Vec::new(),
    };
    let mut outside = BTreeSet::new();
    let mut absent = Absent::new();
    let mut unasked: Vec<(usize, Vec<&str>)> = Vec::new();
    for (i, (t, _, l)) in listings.iter().enumerate() {
        outside.extend(l.outside.iter().cloned());
        let missing: Vec<&str> = order
            .iter()
            .copied()
            .filter(|p| !l.packages.iter().any(|f| f.import_path == *p))
            .collect();
        if !missing.is_empty() {
            unasked.push((i, missing));
        }
        for f in &l.packages {
            let why = match (&f.error, f.no_tests) {
                (Some(e), _) if e.contains("build constraints exclude all Go files") => {
                    format!("not on {}: {e}", t.key())
                }
                (_, true) => list::no_test_files(t),
                _ => continue,
            };
            absent
                .entry(f.import_path.clone())
                .or_default()
                .insert(t.key(), why);
        }
    }
    for (i, missing) in unasked {
        let (t, go, _) = &listings[i];
        let why = list::why_not_listed(m, &missing, vendor, (go, t)).unwrap_or_default();
        for p in missing {
            let reason = match why.get(p) {
                Some(None) => continue,
                Some(Some(r)) if r.starts_with("no test files") => r.clone(),
                Some(Some(r)) => format!("not on {}: {r}", t.key()),
                None => format!("not a package of this pattern on {}", t.key()),
            };
            absent
                .entry(p.to_string())
                .or_default()
                .insert(t.key(), reason);
        }
    }
    for p in order {
        let here: Vec<&list::Found> = listings
            .iter()
            .filter_map(|(_, _, l)| l.packages.iter().find(|f| f.import_path == p))
            .collect();
        let builds: Vec<&&list::Found> = here
            .iter()
            .filter(|f| f.error.is_none() && !f.no_tests)
            .collect();
        let Some(first) = builds.first() else {
            let quiet = here.iter().any(|f| f.no_tests) || here.len() < listings.len();
            match (quiet, here.iter().find_map(|f| f.error.as_ref())) {
                (false, Some(e)) => return Err(list::Failure {
                    message: format!("go list: {e}"),
                    label: "this package",
                    help:
                        "name a package of the module, e.g. ./cmd/NAME, or a pattern such as ./...",
                }),
                _ => {
                    absent.remove(p);
                    continue;
                }
            }
        };
        let mut f = (**first).clone();
        for other in &builds[1..] {
            f.read.extend(other.read.iter().cloned());
            for e in &other.embeds {
                if !f.embeds.contains(e) {
                    f.embeds.push(e.clone());
                }
            }
        }
        merged.packages.push(f);
    }
    merged.outside = outside.into_iter().collect();
    Ok((merged, absent))
}

/// Whether the go command refused because the module needs a newer Go:
/// `go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)`.
pub fn too_new(message: &str) -> bool {
    message.contains(" requires go >= ") && message.contains("(running go ")
}

/// What stands for the packages of a module no Go of the matrix can read:
/// the pattern itself, so that each cell is built, and fails in Go's words.
fn unlisted(root: &Path, kind: &Kind, patterns: &[String]) -> Listing {
    let gomod = std::fs::read_to_string(root.join("go.mod")).unwrap_or_default();
    let path = gomod
        .lines()
        .find_map(|l| l.trim().strip_prefix("module "))
        .map(|p| p.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    let packages = patterns
        .iter()
        .map(|pattern| {
            let dir = root.join(pattern);
            let id = match pattern.trim_start_matches("./") {
                "" | "." => package_id(&path, &path),
                p => p.to_string(),
            };
            Found {
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
                error: None,
                no_tests: false,
            }
        })
        .collect();
    Listing {
        packages,
        path,
        outside: Vec::new(),
    }
}

/// `example.com/portable/sizes` in `example.com/portable` → `sizes`; the
/// root package takes the module path's last element.
pub fn package_id(module: &str, import_path: &str) -> String {
    match import_path.strip_prefix(module) {
        Some("") | None => short_name(import_path).to_string(),
        Some(rest) => rest.trim_start_matches('/').to_string(),
    }
}

/// A module's name as people say it: the last element of its path, or the
/// one before a major-version suffix (`github.com/cespare/xxhash/v2` is
/// `xxhash`, not `v2`).
pub fn short_name(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let last = parts.next().unwrap_or(path);
    let major = last
        .strip_prefix('v')
        .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2));
    match (major, parts.next()) {
        (true, Some(before)) => before,
        _ => last,
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
        assert_eq!(
            package_id(
                "github.com/cespare/xxhash/v2",
                "github.com/cespare/xxhash/v2"
            ),
            "xxhash"
        );
        assert_eq!(short_name("github.com/a/b/v12"), "b");
        // Not a major version: v1 is never written, v0x is a name.
        for p in [
            "github.com/a/v1",
            "github.com/a/v0x",
            "gopkg.in/yaml.v3",
            "v2",
        ] {
            assert_eq!(short_name(p), p.rsplit('/').next().unwrap(), "{p}");
        }
    }
}
