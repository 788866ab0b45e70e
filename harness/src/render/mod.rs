//! Render: write a cell's probe sources into its build directory.
//!
//! Owns the probe catalog (`catalog`) and the template context. Templates see
//! the cell as `cell` (every field of [`Cell`]) with strict undefined, so a
//! typo in a template is an error, not an empty string.

pub mod catalog;

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
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut written = Vec::new();
    let mut write = |name: &str, text: &str| -> Result<(), String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for (name, text) in &probe.files {
        match name.strip_suffix(".j2") {
            Some(out) if !probe.inline => {
                let rendered = env
                    .render_str(text, minijinja::context! { cell => cell })
                    .map_err(|e| format!("template {}/{name}: {e:#}", probe.name))?;
                write(out, &rendered)?;
            }
            _ => write(name, text)?,
        }
    }
    if probe.lang == Lang::Go {
        // The go line sets the language version. Without one, Go assumes 1.16
        // and refuses generics; a newer one than the toolchain makes Go try to
        // download a toolchain.
        write(
            "go.mod",
            &format!("module crossprobe.probe/{}\n\ngo {go_minor}\n", probe.name),
        )?;
        if matches!(cell.buildmode.as_str(), "c-archive" | "c-shared") {
            let host = crate::build::HOST_DIR;
            std::fs::create_dir_all(dir.join(host))
                .map_err(|e| format!("cannot create {}/{host}: {e}", dir.display()))?;
            let text = catalog::support_file("host/host.c")
                .ok_or("host/host.c is missing from the embedded templates")?;
            write(&format!("{host}/host.c"), text)?;
        }
    }
    Ok(written)
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
