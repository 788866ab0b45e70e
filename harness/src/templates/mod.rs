//! The sources crossprobe ships: the probe catalog, embedded from the
//! crate's `templates/probes/` (the crate holds what it embeds, so that
//! `cargo package` takes it) or read from `--templates DIR` to override it,
//! the support files beside it ([`support_file`]), and the started proof
//! added beside a user's program ([`started`]). Load reads the catalog; the
//! probe phase renders what it holds.
//!
//! A probe is a directory holding `probe.yaml` (summary, lang) and its
//! sources. Files ending in `.j2` are minijinja templates; everything else is
//! copied as it is (Go composite literals such as `{{1, 2}}` would otherwise
//! read as template syntax). Every Go probe also gets `_common/*.go`, or
//! `_common_cgo/*.go` when its probe.yaml says `cgo: true`: those import
//! "C", so that a cgo probe built with cgo off fails the way any cgo-only
//! package does. A C probe must have a `.c` source.

use std::path::Path;

use include_dir::{include_dir, Dir};
use serde::Deserialize;

use crate::model::{Lang, Probe, ProbeKind};

pub mod started;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    summary: String,
    #[serde(default = "go")]
    lang: String,
    /// Every Go file imports "C": take `_common_cgo` instead of `_common`.
    #[serde(default)]
    cgo: bool,
}

fn go() -> String {
    "go".into()
}

/// Why a probe of the template tree (an override directory's, mostly)
/// cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("probes/{name}/probe.yaml: {error}")]
    Meta { name: String, error: String },
    #[error("probes/{name}/probe.yaml: unknown lang {lang:?}")]
    Lang { name: String, lang: String },
    #[error("probes/{0}: a C probe needs a .c source beside its probe.yaml")]
    NoCSource(String),
}

/// The files of one directory of the template tree, from the override
/// directory when one is given, else from the binary.
fn dir_files(
    templates: Option<&Path>,
    rel: &str,
) -> Result<Option<Vec<(String, String)>>, TemplateError> {
    match templates {
        Some(root) => {
            let dir = root.join(rel);
            if !dir.is_dir() {
                return Ok(None);
            }
            let mut out = Vec::new();
            let unread = |path: &Path| {
                let path = path.to_path_buf();
                move |error| TemplateError::Read { path, error }
            };
            let entries = std::fs::read_dir(&dir).map_err(unread(&dir))?;
            for entry in entries {
                let entry = entry.map_err(unread(&dir))?;
                let path = entry.path();
                if path.is_file() {
                    let text = std::fs::read_to_string(&path).map_err(unread(&path))?;
                    out.push((entry.file_name().to_string_lossy().into_owned(), text));
                }
            }
            out.sort();
            Ok(Some(out))
        }
        None => Ok(EMBEDDED.get_dir(rel).map(|d| {
            let mut out: Vec<(String, String)> = d
                .files()
                .filter_map(|f| {
                    let name = f.path().file_name()?.to_string_lossy().into_owned();
                    Some((name, f.contents_utf8()?.to_string()))
                })
                .collect();
            out.sort();
            out
        })),
    }
}

/// Names of the shipped probes, sorted.
pub fn names(templates: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = match templates {
        Some(root) => std::fs::read_dir(root.join("probes"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("probe.yaml").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
        None => EMBEDDED
            .get_dir("probes")
            .map(|d| {
                d.dirs()
                    .filter(|d| d.get_file(d.path().join("probe.yaml")).is_some())
                    .filter_map(|d| Some(d.path().file_name()?.to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    names.sort();
    names
}

/// A shipped probe by name: `Ok(None)` when there is none.
pub fn find(name: &str, templates: Option<&Path>) -> Result<Option<Probe>, TemplateError> {
    if name.starts_with('_') || name.contains(['/', '\\', '\0']) || name.starts_with('.') {
        return Ok(None);
    }
    let Some(files) = dir_files(templates, &format!("probes/{name}"))? else {
        return Ok(None);
    };
    let Some((_, meta)) = files.iter().find(|(n, _)| n == "probe.yaml") else {
        return Ok(None);
    };
    let meta: Meta = serde_saphyr::from_str(meta).map_err(|e| TemplateError::Meta {
        name: name.to_string(),
        error: e.to_string(),
    })?;
    let lang = match meta.lang.as_str() {
        "go" => Lang::Go,
        "c" => Lang::C,
        other => {
            return Err(TemplateError::Lang {
                name: name.to_string(),
                lang: other.to_string(),
            })
        }
    };
    let mut files: Vec<(String, String)> = files
        .into_iter()
        .filter(|(n, _)| n != "probe.yaml" && !n.ends_with(".md"))
        .collect();
    if lang == Lang::C
        && !files
            .iter()
            .any(|(n, _)| n.ends_with(".c") || n.ends_with(".c.j2"))
    {
        return Err(TemplateError::NoCSource(name.to_string()));
    }
    if lang == Lang::Go {
        let common = if meta.cgo { "_common_cgo" } else { "_common" };
        for (n, text) in dir_files(templates, &format!("probes/{common}"))?.unwrap_or_default() {
            if n.ends_with(".go") && !files.iter().any(|(f, _)| *f == n) {
                files.push((n, text));
            }
        }
    }
    Ok(Some(Probe {
        name: name.to_string(),
        lang,
        summary: meta.summary.trim().to_string(),
        files,
        kind: ProbeKind::Template,
    }))
}

/// The page that explains probe `name`. A shipped probe's page is in the
/// book (`docs/src/probes/NAME.md` in the repository), given as its address,
/// since a binary installed with cargo has no checkout to point into. A probe
/// of an override directory may have one beside it, `DIR/probes/NAME/README.md`.
pub fn docs_page(name: &str, templates: Option<&Path>) -> Option<String> {
    match templates {
        None => names(None)
            .iter()
            .any(|n| n == name)
            .then(|| crate::book::page(&format!("probes/{name}"))),
        Some(root) => {
            let page = root.join("probes").join(name).join("README.md");
            page.is_file().then(|| page.display().to_string())
        }
    }
}

/// A file shipped beside the probes, e.g. `wine/bcryptprimitives.c`.
pub fn support_file(rel: &str) -> Option<&'static str> {
    EMBEDDED.get_file(rel).and_then(|f| f.contents_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_probes_load() {
        let names = names(None);
        assert!(names.contains(&"hello".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with('_')));
        for n in &names {
            let p = find(n, None).unwrap().unwrap();
            assert!(!p.summary.is_empty());
            assert!(p
                .files
                .iter()
                .any(|(f, _)| f.ends_with(".go") || f.ends_with(".c")));
        }
        let hello = find("hello", None).unwrap().unwrap();
        assert!(hello.files.iter().any(|(f, _)| f == "facts.go"));
    }

    #[test]
    fn a_shipped_probe_points_into_the_book() {
        assert_eq!(
            docs_page("align", None),
            Some(crate::book::page("probes/align"))
        );
        assert_eq!(docs_page("nope", None), None);
    }

    #[test]
    fn escapes_are_not_probes() {
        assert!(find("../x", None).unwrap().is_none());
        assert!(find("_common", None).unwrap().is_none());
        assert!(find("nope", None).unwrap().is_none());
    }
}
