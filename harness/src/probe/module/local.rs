//! What of the user's disk a module's build, and a test that runs `go`,
//! read beside the module's own tree: the directories of its local
//! `replace` targets (`replace example.com/dep => ../dep`), and the
//! workspace the go command would find above it (go.work, go.work.sum and
//! each `use` directory, with go.work's own local replacements). The
//! module profile binds them read-only (docs/src/sandbox.md), wherever
//! they lie.
//!
//! Read from go.mod and go.work's text as cmd/go's modfile parser reads
//! them: `//` comments, one directive a line or a `( … )` block, a path
//! quoted with "…" or `…` when it must be.

use crate::fsutil;
use std::path::{Path, PathBuf};

/// The directories and files outside `root` that its builds and tests may
/// read: local replace targets of go.mod, and the workspace file found as
/// cmd/go finds it (`gowork`: the caller's GOWORK, `off` for none) with its
/// `use` directories and local replace targets. Each exists; none is
/// inside `root`.
pub fn outside(root: &Path, gowork: Option<&str>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(text) = std::fs::read_to_string(root.join("go.mod")) {
        found.extend(local_replacements(&text, root));
    }
    if let Some(work) = workspace_file(root, gowork) {
        if let Ok(text) = std::fs::read_to_string(&work) {
            let dir = work.parent().unwrap_or(Path::new("/"));
            found.extend(local_replacements(&text, dir));
            found.extend(
                directives(&text, "use")
                    .into_iter()
                    .filter_map(|args| args.into_iter().next())
                    .map(|p| dir.join(p)),
            );
            found.push(work.with_extension("work.sum"));
            found.push(work);
        }
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for p in found.into_iter().map(|p| fsutil::lexical(&p)) {
        if p.exists() && !p.starts_with(root) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// go.work as `go env GOWORK` finds it from `root`: GOWORK's file when it
/// names one, none when it is `off`, else the nearest go.work at or above
/// `root`.
fn workspace_file(root: &Path, gowork: Option<&str>) -> Option<PathBuf> {
    match gowork {
        Some("off") => None,
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| p.is_absolute()),
        _ => root
            .ancestors()
            .map(|d| d.join("go.work"))
            .find(|f| f.is_file()),
    }
}

/// The local targets of `replace` directives in a go.mod or go.work read
/// in `dir`: a new path with no version that is a directory path, as
/// cmd/go tells them (`./x`, `../x`, `/abs`).
fn local_replacements(text: &str, dir: &Path) -> Vec<PathBuf> {
    directives(text, "replace")
        .into_iter()
        .filter_map(|args| {
            let arrow = args.iter().position(|a| a == "=>")?;
            match &args[arrow + 1..] {
                [new] if is_directory_path(new) => Some(dir.join(new)),
                _ => None,
            }
        })
        .collect()
}

/// cmd/go's modfile.IsDirectoryPath, for unix paths.
fn is_directory_path(p: &str) -> bool {
    p == "." || p == ".." || p.starts_with("./") || p.starts_with("../") || p.starts_with('/')
}

/// The arguments of each `verb` directive in `text`, one line or a block.
fn directives(text: &str, verb: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let words = words(line);
        match words.as_slice() {
            [] => {}
            [close] if in_block && close == ")" => in_block = false,
            _ if in_block => out.push(words),
            [v, open] if v == verb && open == "(" => in_block = true,
            [v, rest @ ..] if v == verb => out.push(rest.to_vec()),
            _ => {}
        }
    }
    out
}

/// A line's tokens: whitespace-separated, `//` to the end a comment, a
/// token quoted with "…" (Go escapes: only `\"` and `\\` matter in a path)
/// or `…` taken whole.
fn words(line: &str) -> Vec<String> {
    let c: Vec<char> = line.chars().collect();
    let comment = |i: usize| c[i] == '/' && c.get(i + 1) == Some(&'/');
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_whitespace() {
            i += 1;
        } else if comment(i) {
            break;
        } else if c[i] == '"' || c[i] == '`' {
            let quote = c[i];
            let mut w = String::new();
            i += 1;
            while i < c.len() && c[i] != quote {
                if quote == '"' && c[i] == '\\' && i + 1 < c.len() {
                    i += 1;
                }
                w.push(c[i]);
                i += 1;
            }
            i += 1;
            out.push(w);
        } else {
            let start = i;
            while i < c.len() && !c[i].is_whitespace() && !matches!(c[i], '"' | '`') && !comment(i)
            {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_targets_that_are_directories_and_nothing_else() {
        let gomod = r#"module example.com/m // the module

go 1.22

replace example.com/a => ../a
replace example.com/b v1.0.0 => example.com/fork v1.2.0
replace (
	example.com/c => "../with space" // quoted
	example.com/d v0.1.0 => /abs/d
	// example.com/e => ../commented
)
require example.com/a v0.0.0
"#;
        let got = local_replacements(gomod, Path::new("/home/u/m"));
        assert_eq!(
            got,
            [
                PathBuf::from("/home/u/m/../a"),
                PathBuf::from("/home/u/m/../with space"),
                PathBuf::from("/abs/d")
            ]
        );
    }

    #[test]
    fn a_workspace_above_the_module_with_its_use_dirs() {
        let base = tempfile::tempdir().unwrap();
        let ws = base.path();
        for d in ["m", "lib", "dep"] {
            std::fs::create_dir_all(ws.join(d)).unwrap();
        }
        std::fs::write(
            ws.join("m/go.mod"),
            "module example.com/m\n\nreplace example.com/dep => ../dep\n",
        )
        .unwrap();
        std::fs::write(ws.join("go.work"), "go 1.22\n\nuse (\n\t./m\n\t./lib\n)\n").unwrap();
        let root = ws.join("m");
        let got = outside(&root, None);
        assert_eq!(got, [ws.join("dep"), ws.join("lib"), ws.join("go.work")]);
        assert_eq!(outside(&root, Some("off")), [ws.join("dep")]);
    }
}
