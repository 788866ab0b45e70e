//! `go list` on a module probe: the packages a pattern matches, what each
//! build reads, and the errors go gives, read into what is kept between
//! runs ([`super::memo`]).

use super::*;
use crate::model::ListTarget;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Listed {
    pub(super) import_path: String,
    #[serde(default)]
    pub(super) dir: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) test_go_files: Vec<String>,
    #[serde(default)]
    pub(super) x_test_go_files: Vec<String>,
    #[serde(default)]
    pub(super) deps: Vec<String>,
    /// `//go:embed` files, which may sit in subdirectories.
    #[serde(default)]
    pub(super) embed_files: Vec<String>,
    #[serde(default)]
    pub(super) test_embed_files: Vec<String>,
    #[serde(default)]
    pub(super) dep_only: bool,
    #[serde(default)]
    pub(super) standard: bool,
    #[serde(default)]
    pub(super) module: Option<ListedModule>,
    #[serde(default)]
    pub(super) for_test: String,
    #[serde(default)]
    pub(super) error: Option<ListError>,
    #[serde(default)]
    pub(super) deps_errors: Vec<ListError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListedModule {
    #[serde(default)]
    pub(super) version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListError {
    pub(super) err: String,
}

/// `go list -json` prints one object after another, not an array.
pub(super) fn parse_list(out: &str) -> Result<Vec<Listed>, GoListError> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Listed>()
        .collect::<Result<_, _>>()
        .map_err(|e| GoListError::Json(e.to_string()))
}

/// Why `go list` gave no packages.
#[derive(Debug, thiserror::Error)]
pub(super) enum GoListError {
    #[error(transparent)]
    Query(#[from] process::QueryError),
    #[error("`go list -json` printed something unexpected: {0}")]
    Json(String),
}

/// What `go list` said of a module probe, as kept between runs.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Listing {
    /// The module path from go.mod.
    pub(super) path: String,
    pub(super) packages: Vec<Found>,
    /// Directories outside the module whose packages builds read: a
    /// `replace` by a local path.
    pub(super) outside: Vec<PathBuf>,
}

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Found {
    pub(super) import_path: String,
    pub(super) dir: PathBuf,
    pub(super) id: String,
    /// The directories the build reads, and whether with their tests.
    pub(super) read: BTreeSet<(PathBuf, bool)>,
    pub(super) embeds: Vec<PathBuf>,
    /// What go list said was wrong with it on this target, the module's
    /// root taken out of the paths: "build constraints exclude all Go
    /// files in winonly".
    #[serde(default)]
    pub(super) error: Option<String>,
    /// A `test:` package with no test files on this target.
    #[serde(default)]
    pub(super) no_tests: bool,
}

impl Listing {
    /// What the fingerprint looks at beside the module's tree: the
    /// directories outside it, and those embedded files came from.
    pub(super) fn also(&self) -> Vec<PathBuf> {
        let mut v: BTreeSet<PathBuf> = self.outside.iter().cloned().collect();
        for f in &self.packages {
            v.extend(
                f.embeds
                    .iter()
                    .filter_map(|e| e.parent().map(Path::to_path_buf)),
            );
        }
        v.into_iter().collect()
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct Recorded {
    pub(super) fingerprint: String,
    pub(super) listing: Listing,
}

/// `go list -m` and `go list -e -deps -test -json` on a module probe.
/// Also whether no package had an error.
pub(super) fn list(
    m: &ModuleProbe,
    name: &str,
    inline: &str,
    patterns: &[String],
    vendor: bool,
    (go, target): (&GoToolchain, &ListTarget),
) -> Result<(Listing, bool), Failure> {
    let err = |message: String, label: &'static str, help: &'static str| Failure {
        message,
        label,
        help,
    };
    let env = target_env(go, target);
    let go_s = go.go.display().to_string();
    let path = process::query_in(
        &[&go_s, "list", "-m", "-f", "{{.Path}}"],
        &env,
        Some(&m.root),
        LIST_TIMEOUT,
    )
    .map_err(|e| {
        err(
            e.to_string(),
            "this module",
            "fix the module's go.mod: `go list -m` must read it",
        )
    })?;
    let path = path.trim().to_string();
    // An inline source is listed as the package it will be: through an
    // overlay, so that its imports say which of the module's files its
    // build reads.
    let scratch = tempfile::tempdir().map_err(|e| {
        err(
            e.to_string(),
            "this probe",
            "crossprobe needs a temporary directory",
        )
    })?;
    if m.kind == Kind::Source {
        let main = scratch.path().join("main.go");
        let virtual_main = m.root.join(OVERLAY_DIR).join(name).join("main.go");
        let overlay = serde_json::json!({"Replace": {virtual_main.display().to_string(): main.display().to_string()}});
        let written = std::fs::write(&main, inline).and_then(|()| {
            std::fs::write(scratch.path().join("overlay.json"), overlay.to_string())
        });
        written.map_err(|e| {
            err(
                e.to_string(),
                "this probe",
                "crossprobe needs a temporary directory",
            )
        })?;
    }
    let overlay_flag = format!("-overlay={}", scratch.path().join("overlay.json").display());
    let tags_flag = format!("-tags={}", target.tags);
    let mut argv = vec![go_s.as_str(), "list", "-e", "-deps", "-test", "-json"];
    if vendor {
        argv.push("-mod=vendor");
    }
    if !target.tags.is_empty() {
        argv.push(&tags_flag);
    }
    if m.kind == Kind::Source {
        argv.push(&overlay_flag);
    }
    argv.extend(patterns.iter().map(String::as_str));
    let out = process::query_in(&argv, &env, Some(&m.root), LIST_TIMEOUT).map_err(|e| {
        err(
            e.to_string(),
            "this pattern",
            "`go list` must accept the pattern in the module's root",
        )
    })?;
    let listed = parse_list(&out)
        .map_err(|e| err(e.to_string(), "this pattern", "run `go list -json` on it"))?;
    let top: Vec<&Listed> = listed
        .iter()
        .filter(|l| !l.dep_only && l.for_test.is_empty() && !l.import_path.ends_with(".test"))
        .collect();
    let by_path: BTreeMap<&str, &Listed> =
        listed.iter().map(|l| (l.import_path.as_str(), l)).collect();
    let mut packages = Vec::new();
    for l in &top {
        let has_tests = !(l.test_go_files.is_empty() && l.x_test_go_files.is_empty());
        let mut found = Found {
            import_path: l.import_path.clone(),
            dir: PathBuf::from(&l.dir),
            id: package_id(&path, &l.import_path),
            read: BTreeSet::new(),
            embeds: Vec::new(),
            error: l.error.as_ref().map(|e| relative(&e.err, &m.root)),
            no_tests: false,
        };
        if found.error.is_some() {
            packages.push(found);
            continue;
        }
        if matches!(m.kind, Kind::Test(_)) && !has_tests {
            found.no_tests = true;
            packages.push(found);
            continue;
        }
        if let (Kind::Package(_), false) = (&m.kind, l.name == "main") {
            return Err(err(
                format!(
                    "{} is not a main package (go list: package {})",
                    l.import_path, l.name
                ),
                "not a main package",
                "`package:` builds and runs a command; test a library with `test:`",
            ));
        }
        // The test binary's own entry lists what the tests import too.
        let deps = listed
            .iter()
            .find(|t| t.import_path == format!("{}.test", l.import_path))
            .map_or(&l.deps, |t| &t.deps);
        let tests = matches!(m.kind, Kind::Test(_));
        let mut read: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
        read.insert((PathBuf::from(&l.dir), tests));
        for d in deps {
            let base = d.split(' ').next().unwrap_or(d);
            if let Some(dep) = by_path
                .get(base)
                .filter(|dep| Path::new(&dep.dir).starts_with(&m.root))
            {
                read.insert((PathBuf::from(&dep.dir), false));
            }
        }
        let mut embeds: Vec<PathBuf> = Vec::new();
        for (dir, own) in &read {
            if let Some(p) = listed
                .iter()
                .find(|p| Path::new(&p.dir) == dir && p.for_test.is_empty())
            {
                embeds.extend(p.embed_files.iter().map(|f| dir.join(f)));
                if *own {
                    embeds.extend(p.test_embed_files.iter().map(|f| dir.join(f)));
                }
            }
        }
        found.read = read;
        found.embeds = embeds;
        packages.push(found);
    }
    // A package of no module version that is not Go's own is the main
    // module's or a local replacement's: its files may change.
    let outside: BTreeSet<PathBuf> = listed
        .iter()
        .filter(|l| !l.standard && !l.dir.is_empty())
        .filter(|l| l.module.as_ref().is_none_or(|m| m.version.is_empty()))
        .map(|l| PathBuf::from(&l.dir))
        .filter(|d| !d.starts_with(&m.root))
        .collect();
    let clean = listed
        .iter()
        .all(|l| l.error.is_none() && l.deps_errors.is_empty());
    Ok((
        Listing {
            path,
            packages,
            outside: outside.into_iter().collect(),
        },
        clean,
    ))
}

/// Why each of `packages` is not on `target`, when a listing of the
/// probe's pattern there left them out: go list's error for each, asked
/// by import path (Go leaves out of `./...` a package whose build
/// constraints exclude every file, and says so only when asked for it).
pub(super) fn why_not_listed(
    m: &ModuleProbe,
    packages: &[&str],
    vendor: bool,
    (go, target): (&GoToolchain, &ListTarget),
) -> Result<BTreeMap<String, Option<String>>, GoListError> {
    let go_s = go.go.display().to_string();
    let tags_flag = format!("-tags={}", target.tags);
    let mut argv = vec![go_s.as_str(), "list", "-e", "-test=false", "-json"];
    if vendor {
        argv.push("-mod=vendor");
    }
    if !target.tags.is_empty() {
        argv.push(&tags_flag);
    }
    argv.extend(packages);
    let out = process::query_in(&argv, &target_env(go, target), Some(&m.root), LIST_TIMEOUT)?;
    Ok(parse_list(&out)?
        .into_iter()
        .map(|l| {
            let why = match (&l.error, &m.kind) {
                (Some(e), _) => Some(relative(&e.err, &m.root)),
                (None, Kind::Test(_))
                    if l.test_go_files.is_empty() && l.x_test_go_files.is_empty() =>
                {
                    Some(no_test_files(target))
                }
                _ => None,
            };
            (l.import_path, why)
        })
        .collect())
}

/// What `go test` prints for a package with no test files, for a target.
pub(super) fn no_test_files(target: &ListTarget) -> String {
    format!("no test files on {}", target.key())
}

/// The environment go list runs in for `target`: the user's module
/// settings, and the target as `GOOS=… GOARCH=… go list` would see it.
fn target_env(go: &GoToolchain, target: &ListTarget) -> BTreeMap<String, String> {
    let mut env = env(go);
    env.insert("GOOS".into(), target.goos.clone());
    env.insert("GOARCH".into(), target.goarch.clone());
    if target.cgo != "default" {
        env.insert("CGO_ENABLED".into(), target.cgo.clone());
    }
    env
}

/// Go names files by absolute path; the matrix names them from the
/// module's root.
pub(super) fn relative(err: &str, root: &Path) -> String {
    let root = format!("{}/", root.display());
    err.trim().replace(&root, "")
}

/// Why `go list` could not list a module probe, and what the error about
/// it says.
pub(super) struct Failure {
    pub(super) message: String,
    pub(super) label: &'static str,
    pub(super) help: &'static str,
}
