//! Render: a shipped or inline probe's sources for one cell.
//!
//! Owns the template context. Templates see the cell as `cell` (every field
//! of [`Cell`]) with strict undefined, so a typo in a template is an error,
//! not an empty string.

use minijinja::{Environment, UndefinedBehavior};

use super::SourcesError;
use crate::model::{Cell, Lang, Probe};
use crate::templates::{self, started};

/// The probe's files for `cell`, rendered but not written: what the result
/// cache hashes, and what the build writes into its directory
/// ([`crate::fsutil::write_files`]).
pub fn sources(
    cell: &Cell,
    probe: &Probe,
    go_minor: &str,
) -> Result<Vec<(String, String)>, SourcesError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut out = Vec::new();
    for (name, text) in &probe.files {
        match name.strip_suffix(".j2") {
            Some(name) if probe.shipped() => {
                let rendered = env
                    .render_str(text, minijinja::context! { cell => cell })
                    .map_err(|e| SourcesError::Template {
                        probe: probe.name.clone(),
                        file: name.to_string(),
                        error: format!("{e:#}"),
                    })?;
                out.push((name.to_string(), rendered));
            }
            _ => out.push((name.clone(), text.clone())),
        }
    }
    if !probe.shipped() {
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
        let text = templates::support_file("host/host.c").ok_or(SourcesError::NoHostProgram)?;
        out.push((format!("{}/host.c", super::HOST_DIR), text.to_string()));
    }
    Ok(out)
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
