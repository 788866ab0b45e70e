//! Render: write a cell's probe sources into its build directory.
//!
//! Owns the probe catalog (`catalog`) and the template context. Templates see
//! the cell as `cell` (every field of [`Cell`]) with strict undefined, so a
//! typo in a template is an error, not an empty string.

pub mod catalog;
pub mod started;

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};

use crate::model::{Cell, Lang};
use catalog::Probe;

/// Writes the probe's files for `cell` into `dir`. Returns the files written.
pub fn render(
    cell: &Cell,
    probe: &Probe,
    dir: &Path,
    go_minor: &str,
) -> Result<Vec<PathBuf>, String> {
    write(&sources(cell, probe, go_minor)?, dir)
}

/// The probe's files for `cell`, rendered but not written: what the result
/// cache hashes, and what [`write`] puts in a build directory.
pub fn sources(
    cell: &Cell,
    probe: &Probe,
    go_minor: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut out = Vec::new();
    for (name, text) in &probe.files {
        match name.strip_suffix(".j2") {
            Some(name) if !probe.inline => {
                let rendered = env
                    .render_str(text, minijinja::context! { cell => cell })
                    .map_err(|e| format!("template {}/{name}.j2: {e:#}", probe.name))?;
                out.push((name.to_string(), rendered));
            }
            _ => out.push((name.clone(), text.clone())),
        }
    }
    if probe.inline {
        // A user's program need not print crossprobe's marker: the started
        // proof comes in a file of its own (see `started`).
        let main = probe.files.first().map_or("", |(_, text)| text.as_str());
        out.push(started::file(probe.lang, main));
    }
    // A probe that brings its own go.mod (a bug report's, requiring the
    // module it is about) keeps it: a generated one would lose the require.
    let own_go_mod = probe.files.iter().any(|(n, _)| n == "go.mod");
    if probe.lang == Lang::Go && !own_go_mod {
        // The go line sets the language version. Without one, Go assumes 1.16
        // and refuses generics; a newer one than the toolchain makes Go try to
        // download a toolchain.
        out.push((
            "go.mod".to_string(),
            format!("module crossprobe.probe/{}\n\ngo {go_minor}\n", probe.name),
        ));
    }
    if probe.lang == Lang::Go && matches!(cell.buildmode.as_str(), "c-archive" | "c-shared") {
        let text = catalog::support_file("host/host.c")
            .ok_or("host/host.c is missing from the embedded templates")?;
        out.push((
            format!("{}/host.c", crate::build::HOST_DIR),
            text.to_string(),
        ));
    }
    Ok(out)
}

/// Writes rendered files into `dir`, each through a temporary file and a
/// rename: a build directory may be reused, and a reader (a concurrent
/// `go build` of the same sources) must never see half a file.
pub fn write(files: &[(String, String)], dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(fail)?;
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}

/// [`write`] for files named by absolute paths.
pub fn write_at(files: &[(PathBuf, String)]) -> Result<(), String> {
    for (path, text) in files {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write(&[(name, text.clone())], dir)?;
    }
    Ok(())
}

/// `go1.22.12` → `1.22`; `go1.21rc2` → `1.21`.
pub fn go_minor(version: &str) -> String {
    let v = version.trim_start_matches("go");
    let mut parts = v.split('.');
    let major = parts.next().unwrap_or("1");
    let minor: String = parts
        .next()
        .unwrap_or("21")
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    format!("{major}.{minor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minors() {
        assert_eq!(go_minor("go1.26.8"), "1.26");
        assert_eq!(go_minor("go1.21rc2"), "1.21");
        assert_eq!(go_minor("1.22"), "1.22");
    }
}
