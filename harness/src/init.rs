//! `crossprobe init`: a commented crossprobe.yaml for the module in a
//! directory, from what `go list -json ./...` says of it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::errors::Error;
use crate::toolchain::go::GoToolchain;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    import_path: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    imports: Vec<String>,
    #[serde(default)]
    go_files: Vec<String>,
    #[serde(default)]
    cgo_files: Vec<String>,
    #[serde(default)]
    test_go_files: Vec<String>,
    #[serde(default)]
    x_test_go_files: Vec<String>,
}

/// What init found in a module.
#[derive(Debug, PartialEq)]
pub struct Found {
    pub module: String,
    /// `./cmd/x` for each main package with files to build, and its probe
    /// name.
    pub commands: Vec<(String, String)>,
    pub tests: bool,
    pub cgo: bool,
}

/// Why a module cannot be read for `init`.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// `go list` did not answer.
    #[error(transparent)]
    Query(#[from] crate::process::QueryError),
    #[error("`go list -json ./...` printed something unexpected: {0}")]
    Listed(String),
}

/// Reads the module at `root`.
pub fn scan(root: &Path, go: &GoToolchain) -> Result<Found, ScanError> {
    let env = crate::probe::module::env(go);
    let go_s = go.go.display().to_string();
    let timeout = std::time::Duration::from_secs(300);
    let module = crate::process::query_in(
        &[&go_s, "list", "-m", "-f", "{{.Path}}"],
        &env,
        Some(root),
        timeout,
    )?
    .trim()
    .to_string();
    let out = crate::process::query_in(
        &[&go_s, "list", "-e", "-json", "./..."],
        &env,
        Some(root),
        timeout,
    )?;
    let listed: Vec<Listed> = serde_json::Deserializer::from_str(&out)
        .into_iter::<Listed>()
        .collect::<Result<_, _>>()
        .map_err(|e| ScanError::Listed(e.to_string()))?;
    let mut found = Found {
        module: module.clone(),
        commands: Vec::new(),
        tests: false,
        cgo: false,
    };
    for l in &listed {
        found.tests |= !(l.test_go_files.is_empty() && l.x_test_go_files.is_empty());
        found.cgo |= !l.cgo_files.is_empty() || l.imports.iter().any(|i| i == "C");
        // A command has files of its own: a directory whose only
        // `package main` files are tests (or `//go:build ignore`d) builds
        // nothing ("function main is undeclared in the main package").
        if l.name == "main" && !(l.go_files.is_empty() && l.cgo_files.is_empty()) {
            let rel = match l.import_path.strip_prefix(&module) {
                Some("") | None => ".".to_string(),
                Some(r) => format!(".{r}"),
            };
            let id = crate::probe::module::package_id(&module, &l.import_path);
            let mut name = file_name_safe(id.rsplit('/').next().unwrap_or(&id));
            // Two commands of one name (cmd/a/tool, cmd/b/tool), or one
            // named as the tests' probe: the whole path names it.
            if name == "unit" || found.commands.iter().any(|(_, n)| *n == name) {
                name = file_name_safe(&id.replace('/', "-"));
            }
            found.commands.push((rel, name));
        }
    }
    Ok(found)
}

/// `s` with every character a probe or matrix name may not hold (they name
/// files and directories) replaced by `_`.
fn file_name_safe(s: &str) -> String {
    s.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                true => c,
                false => '_',
            },
        )
        .collect()
}

/// The matrix text for what [`scan`] found.
pub fn render(found: &Found) -> String {
    let name = file_name_safe(crate::probe::module::short_name(&found.module));
    let mut s = String::new();
    // First, so that editors with a YAML language server complete and
    // validate the file against the schema `crossprobe schema` prints.
    let _ = writeln!(
        s,
        "# yaml-language-server: $schema={}",
        crate::book::schema_url()
    );
    let _ = writeln!(
        s,
        "# crossprobe matrix for {}, written by `crossprobe init`.",
        found.module
    );
    let _ = writeln!(
        s,
        "# Run it with `crossprobe run`. {} lists every key;",
        crate::book::page("reference/matrix")
    );
    s.push_str("# `crossprobe plan crossprobe.yaml` shows the cells.\n");
    let _ = writeln!(s, "name: {name}");
    s.push_str("probes:\n");
    if found.tests {
        s.push_str("  # go test: one cell per package with tests and target; each Go test\n");
        s.push_str("  # is a JUnit testcase of its cell.\n");
        s.push_str("  - name: unit\n    test: ./...\n");
    }
    for (rel, probe) in &found.commands {
        // Only its author knows what a quick, meaningful run of a command
        // is: one run with no arguments fails on a tool that wants a file
        // or stdin, and that is no bug of the module's.
        let _ = writeln!(
            s,
            "  # The command {rel}, built and inspected on each target, not run."
        );
        let _ = writeln!(s, "  - name: {probe}\n    package: {rel}");
        s.push_str("    # To run it too, give it the arguments of a quick, meaningful run\n");
        s.push_str("    # and remove `run: false`:\n");
        s.push_str("    # args: [--help]\n");
        s.push_str("    run: false\n");
    }
    if !found.tests && found.commands.is_empty() {
        s.push_str("  # No main package and no tests were found: an inline probe that\n");
        s.push_str("  # imports the module's packages would go here.\n");
        s.push_str("  - name: unit\n    test: ./...\n");
    }
    s.push_str("matrix:\n");
    s.push_str("  # The targets most projects ship: linux on four architectures here, and\n");
    s.push_str("  # windows/amd64 and darwin/arm64 below. Targets crossprobe cannot run on\n");
    s.push_str("  # this host are built and inspected only.\n");
    s.push_str("  goos: [linux]\n");
    s.push_str("  goarch: [amd64, arm64, \"386\", arm]\n");
    if found.cgo {
        s.push_str("  # A package imports \"C\": cgo on, with the C compiler crossprobe finds\n");
        s.push_str("  # for each target.\n");
        s.push_str("  cgo: [\"1\"]\n  cc: [auto]\n");
    } else {
        s.push_str("  # No package imports \"C\": pure Go builds.\n");
        s.push_str("  cgo: [\"0\"]\n");
    }
    s.push_str("  include:\n");
    s.push_str("    - {goos: windows, goarch: amd64}\n");
    s.push_str("    - {goos: darwin, goarch: arm64}\n");
    s.push_str("run:\n  # Per build and per run of each cell.\n  timeout: 5m\n");
    s.push_str("# Known failures, once you know them: each needs a reason, and an\n");
    s.push_str("# unexpected pass fails the run. For example:\n");
    s.push_str("# expect:\n");
    s.push_str("#   - when: {goarch: \"386\", probe: unit, test: TestIntIs64Bits}\n");
    s.push_str("#     outcome: run-fail\n");
    s.push_str("#     reason: int is 32 bits on 386\n");
    s
}

/// Writes `crossprobe.yaml` in `root`; refuses to replace one unless
/// `force`. Returns the path written.
pub fn write(root: &Path, go: &GoToolchain, force: bool) -> miette::Result<PathBuf> {
    let usage = |message: String, help: Option<&str>| Error::Usage {
        message,
        help: help.map(str::to_string),
    };
    let path = root.join("crossprobe.yaml");
    if path.exists() && !force {
        let message = format!("{} already exists", path.display());
        return Err(usage(message, Some("pass --force to replace it")).into());
    }
    if !root.join("go.mod").is_file() {
        return Err(usage(
            format!("{} has no go.mod", root.display()),
            Some("run crossprobe init in a module's root (or pass it with --dir), or `go mod init` first"),
        )
        .into());
    }
    let found = scan(root, go).map_err(|e| usage(e.to_string(), None))?;
    let text = render(&found);
    check(&path, &text).map_err(|e| {
        e.wrap_err(format!(
            "crossprobe init made a matrix for {} that `plan` refuses; nothing was written. \
             This is crossprobe's bug: please report it with the module",
            found.module
        ))
    })?;
    let tmp = tempfile::NamedTempFile::new_in(root)
        .and_then(|mut t| std::io::Write::write_all(&mut t, text.as_bytes()).map(|()| t))
        .map_err(|error| Error::Write {
            path: path.clone(),
            error,
            help: None,
        })?;
    tmp.persist(&path).map_err(|e| Error::Write {
        path: path.clone(),
        error: e.error,
        help: None,
    })?;
    Ok(path)
}

/// What `plan` does with the text, as if it were at `path`: load it, list
/// the module's packages for each target, expand the cells. Init writes
/// only a matrix that passes.
fn check(path: &Path, text: &str) -> miette::Result<()> {
    let file = path.display().to_string();
    let mx = crate::load::load_str(&file, "crossprobe", text.to_string(), None)?;
    let options = crate::session::Options {
        filter: None,
        max_cells: crate::expand::DEFAULT_MAX_CELLS,
        strict: false,
    };
    crate::session::prepare(vec![mx], &options).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_loads() {
        let found = Found {
            module: "example.com/portable".into(),
            commands: vec![("./cmd/portable".into(), "portable".into())],
            tests: true,
            cgo: true,
        };
        let text = render(&found);
        assert!(text.contains("cgo: [\"1\"]"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("go.mod"), "module example.com/portable\n").unwrap();
        let file = dir.path().join("crossprobe.yaml").display().to_string();
        crate::load::load_str(&file, "crossprobe", text, None).unwrap();
    }

    /// The self-check is plan's: a `package:` go list cannot find is
    /// refused (and `write` then writes nothing).
    #[test]
    fn the_check_refuses_what_plan_refuses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "module example.com/m\n\ngo 1.21\n",
        )
        .unwrap();
        let text = "name: m\nprobes:\n  - name: x\n    package: ./nope\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n";
        let e = check(&dir.path().join("crossprobe.yaml"), text).unwrap_err();
        assert!(format!("{e:?}").contains("nope"), "{e:?}");
        let text = text.replace("package: ./nope", "test: ./...");
        check(&dir.path().join("crossprobe.yaml"), &text).unwrap();
    }
}
