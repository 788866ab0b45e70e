//! `go_test: {cover: true}`: coverage per target, and merged.
//!
//! Each such cell's test binary wrote its counters into its own directory
//! (its run's `-test.gocoverdir=`, see `probe::cover_dir`). After the run,
//! the toolchain merges them (`go tool covdata textfmt`), into the
//! reports directory's `coverage/`:
//! - `GOOS-GOARCH.out`: every cell of that target, as `go test -cover` of
//!   each package there would count it;
//! - `merged.out`: every target: what the module's tests cover anywhere;
//! - `by-target.txt`: the blocks some targets ran and others did not
//!   (`file:line.col,line.col: linux/amd64 only`): code that only one
//!   target exercises, which a single-target coverage report never shows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::{PhaseName, Results};

const GOCOVERDIR: &str = "-test.gocoverdir=";

/// Writes `dir/coverage/…` for the cells of `results` that kept coverage
/// counters; the files written (none when no cell did).
pub fn write(dir: &Path, results: &Results) -> Result<Vec<PathBuf>, CoverageError> {
    // target -> its cells' counter directories; and a go to merge them.
    let mut by_target: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut go = None;
    for c in &results.cells {
        let Some(run) = c.phases.iter().find(|p| p.name == PhaseName::Run) else {
            continue;
        };
        let counters = run.commands.iter().flat_map(|c| &c.argv).find_map(|a| {
            a.strip_prefix(GOCOVERDIR)
                .map(PathBuf::from)
                .filter(|d| d.read_dir().is_ok_and(|mut e| e.next().is_some()))
        });
        let Some(counters) = counters else { continue };
        let target = format!("{}/{}", c.cell.goos, c.cell.goarch);
        by_target.entry(target).or_default().push(counters);
        go = go.or_else(|| go_of(c));
    }
    let Some(go) = go else {
        return Ok(Vec::new());
    };
    let out = dir.join("coverage");
    std::fs::create_dir_all(&out).map_err(|error| CoverageError::Create {
        path: out.clone(),
        error,
    })?;
    let mut written = Vec::new();
    let mut profiles = Vec::new();
    for (target, dirs) in &by_target {
        let file = out.join(format!("{}.out", target.replace('/', "-")));
        textfmt(&go, dirs, &file)?;
        profiles.push((
            target.clone(),
            std::fs::read_to_string(&file).unwrap_or_default(),
        ));
        written.push(file);
    }
    let all: Vec<PathBuf> = by_target.values().flatten().cloned().collect();
    let merged = out.join("merged.out");
    textfmt(&go, &all, &merged)?;
    written.push(merged);
    let by = out.join("by-target.txt");
    std::fs::write(&by, by_target_text(&profiles)).map_err(|error| CoverageError::Write {
        path: by.clone(),
        error,
    })?;
    written.push(by);
    Ok(written)
}

/// The go command that built the cell (inside the sandbox's argv, if any).
fn go_of(c: &crate::model::CellResult) -> Option<String> {
    let build = c.phases.iter().find(|p| p.name == PhaseName::Build)?;
    let argv = crate::run::sandbox::inner(&build.commands.first()?.argv);
    argv.first()
        .filter(|p| Path::new(p).file_name().is_some_and(|n| n == "go"))
        .cloned()
}

/// Why the coverage of a run could not be merged or written.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("cannot create {}: {error}", path.display())]
    Create {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("go tool covdata textfmt for {}: {error}", file.display())]
    Textfmt {
        file: PathBuf,
        error: crate::process::QueryError,
    },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn textfmt(go: &str, dirs: &[PathBuf], file: &Path) -> Result<(), CoverageError> {
    let inputs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let i = format!("-i={}", inputs.join(","));
    let o = format!("-o={}", file.display());
    let argv = [go, "tool", "covdata", "textfmt", &i, &o];
    crate::process::query(&argv, &BTreeMap::new(), Duration::from_secs(300))
        .map(drop)
        .map_err(|error| CoverageError::Textfmt {
            file: file.to_path_buf(),
            error,
        })
}

/// The blocks covered on some targets and not on others, from each
/// target's text profile (`mode: set` or `count`, then `FILE:L.C,L.C N
/// COUNT` a line).
fn by_target_text(profiles: &[(String, String)]) -> String {
    let mut blocks: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (target, text) in profiles {
        for line in text.lines().skip(1) {
            let Some((block, count)) = line.rsplit_once(' ') else {
                continue;
            };
            let block = block.rsplit_once(' ').map_or(block, |(b, _)| b);
            let ran = blocks.entry(block).or_default();
            if count != "0" && !ran.contains(&target.as_str()) {
                ran.push(target);
            }
        }
    }
    let mut s = format!(
        "# Blocks run on some targets only (of {}).\n",
        profiles
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (block, ran) in blocks {
        if !ran.is_empty() && ran.len() < profiles.len() {
            s.push_str(&format!("{block}: {} only\n", ran.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_one_target_ran_are_listed() {
        let amd64 = "mode: set\nm/a.go:3.1,4.2 1 1\nm/a.go:5.1,6.2 1 0\nm/b.go:1.1,2.2 1 1\n";
        let arm64 = "mode: set\nm/a.go:3.1,4.2 1 0\nm/a.go:5.1,6.2 1 1\nm/b.go:1.1,2.2 1 1\n";
        let s = by_target_text(&[
            ("linux/amd64".into(), amd64.into()),
            ("linux/arm64".into(), arm64.into()),
        ]);
        assert_eq!(
            s,
            "# Blocks run on some targets only (of linux/amd64, linux/arm64).\n\
             m/a.go:3.1,4.2: linux/amd64 only\n\
             m/a.go:5.1,6.2: linux/arm64 only\n"
        );
    }
}
