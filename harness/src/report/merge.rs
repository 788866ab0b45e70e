//! `crossprobe report merge`: one set of results from the results.json of
//! several runs — the shards of one runner, several runners, or both.
//!
//! Each cell keeps the runner it ran on (`ran_on`). When the runs span more
//! than one runner, every cell id gets `@<runner>`, so the same cell run on
//! two machines stays two entries with two names, in JUnit, in the grid and
//! in a diff. Shards of a single runner merge into exactly what one
//! unsharded run would have written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::errors::Error;
use crate::expand::slug;
use crate::model::{CellResult, Results, Source};

/// Merged results, and what a person should know about them.
pub struct Merged {
    pub results: Results,
    pub warnings: Vec<String>,
}

/// Reads every file, refusing a mix of schema versions before anything
/// else, then merges.
pub fn merge_files(paths: &[PathBuf]) -> Result<Merged, Error> {
    check_schemas(paths)?;
    let mut runs = Vec::new();
    for p in paths {
        runs.push((p.clone(), super::read_results(p)?));
    }
    merge(runs)
}

/// Different schemas get their own error: read one at a time, the message
/// would only say that one file is not what this crossprobe reads.
fn check_schemas(paths: &[PathBuf]) -> Result<(), Error> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in paths {
        // A journal is no results.json; read_results reads it as one.
        if p.extension().is_some_and(|e| e == "jsonl") {
            continue;
        }
        let text = super::read_json_bytes(p)?;
        // A corrupt file is reported by read_results, with its position.
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        let schema = v
            .get("schema")
            .map_or("(missing)".to_string(), |s| s.to_string());
        seen.entry(schema)
            .or_default()
            .push(p.display().to_string());
    }
    if seen.len() > 1 {
        let list: Vec<String> = seen
            .iter()
            .map(|(s, files)| format!("schema {s}: {}", files.join(", ")))
            .collect();
        return Err(Error::MergeSchemas {
            schemas: list,
            wanted: crate::model::SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// The runner a run names, or its OS and arch when it names none.
fn runner_of(r: &Results) -> String {
    if r.host.runner.is_empty() {
        format!("{}-{}", r.host.goos, r.host.goarch)
    } else {
        r.host.runner.clone()
    }
}

pub fn merge(runs: Vec<(PathBuf, Results)>) -> Result<Merged, Error> {
    let Some((_, first)) = runs.first() else {
        return Err(Error::NothingToMerge);
    };
    let mut out = Results {
        cells: Vec::new(),
        matrices: Vec::new(),
        // Each run's own cost stays in its own results.json.
        perf: None,
        shard: None,
        merged_from: Vec::new(),
        estimate: None,
        env_dropped: Vec::new(),
        env_passed: Vec::new(),
        interrupted: runs.iter().any(|(_, r)| r.interrupted),
        duration_ms: runs.iter().map(|(_, r)| r.duration_ms).max().unwrap_or(0),
        started_at: runs
            .iter()
            .map(|(_, r)| r.started_at.clone())
            .min()
            .unwrap_or_default(),
        ..first.clone()
    };
    let mut warnings = Vec::new();

    // Where each cell came from: (file, its runner).
    let mut cells: Vec<(CellResult, String, &Path)> = Vec::new();
    for (path, r) in &runs {
        let runner = runner_of(r);
        for m in &r.matrices {
            if !out.matrices.contains(m) {
                out.matrices.push(m.clone());
            }
        }
        if r.merged_from.is_empty() {
            out.merged_from.push(Source {
                file: path.display().to_string(),
                host: r.host.clone(),
                started_at: r.started_at.clone(),
                duration_ms: r.duration_ms,
                shard: r.shard.clone(),
                tools: r.tools.clone(),
                interrupted: r.interrupted,
            });
        } else {
            out.merged_from.extend(r.merged_from.iter().cloned());
        }
        for c in &r.cells {
            let on = c.ran_on.clone().unwrap_or_else(|| runner.clone());
            cells.push((c.clone(), on, path));
        }
    }

    let runners: BTreeSet<&str> = cells.iter().map(|(_, on, _)| on.as_str()).collect();
    if runners.len() > 1 {
        out.host.runner = runners.iter().copied().collect::<Vec<_>>().join(", ");
    }
    let rename = runners.len() > 1;
    let mut seen: BTreeMap<(String, String), &Path> = BTreeMap::new();
    for (mut c, on, path) in cells {
        let suffix = format!("@{on}");
        if rename && !c.cell.id.ends_with(&suffix) {
            c.cell.id.push_str(&suffix);
            c.cell.slug = slug(&c.cell.id);
        }
        c.ran_on = Some(on.clone());
        let key = (c.cell.matrix.clone(), c.cell.id.clone());
        if let Some(other) = seen.insert(key, path) {
            return Err(Error::MergedTwice {
                cell: c.cell.id.clone(),
                matrix: c.cell.matrix.clone(),
                first: other.to_path_buf(),
                second: path.to_path_buf(),
                runner: on.clone(),
            });
        }
        out.cells.push(c);
    }
    warnings.extend(missing_shards(&out.merged_from));
    Ok(Merged {
        results: out,
        warnings,
    })
}

/// Shards a runner split its cells into but that are not here.
fn missing_shards(sources: &[Source]) -> Vec<String> {
    let mut by_runner: BTreeMap<&str, (BTreeSet<usize>, BTreeSet<usize>)> = BTreeMap::new();
    for s in sources {
        let Some(shard) = s
            .shard
            .as_deref()
            .and_then(|s| s.parse::<crate::expand::shard::Shard>().ok())
        else {
            continue;
        };
        let e = by_runner.entry(&s.host.runner).or_default();
        e.0.insert(shard.count);
        e.1.insert(shard.index);
    }
    let mut w = Vec::new();
    for (runner, (counts, have)) in by_runner {
        if counts.len() > 1 {
            let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
            w.push(format!(
                "runner {runner}: shards of different splits ({} shards) were merged; cells may be missing or twice",
                counts.join(" and ")
            ));
            continue;
        }
        let n = *counts.iter().next().expect("one count");
        let missing: Vec<String> = (1..=n)
            .filter(|i| !have.contains(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            w.push(format!(
                "runner {runner}: shard {} missing; its cells are not in the merged results",
                missing.join(", ")
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Host, Outcome, Runner, Verdict};

    fn result(id: &str) -> CellResult {
        CellResult {
            cell: Cell {
                id: id.into(),
                slug: slug(id),
                matrix: "m".into(),
                probe: "hello".into(),
                goos: "linux".into(),
                goarch: "amd64".into(),
                go: "local".into(),
                cgo: "0".into(),
                runner: Runner::Native,
                ..Cell::default()
            },
            outcome: Outcome::Pass,
            reason: None,
            verdict: Verdict {
                met: true,
                message: "passed".into(),
            },
            facts: BTreeMap::new(),
            phases: Vec::new(),
            duration_ms: 10,
            dir: None,
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            not_run: None,
            tests: Vec::new(),
            missing: None,
            key: None,
        }
    }

    fn run(runner: &str, shard: Option<&str>, ids: &[&str]) -> Results {
        Results {
            schema: crate::model::SCHEMA_VERSION,
            crossprobe_version: "0".into(),
            matrices: vec!["m".into()],
            started_at: "2025-01-01T00:00:00Z".into(),
            duration_ms: 5,
            host: Host {
                goos: "linux".into(),
                goarch: "amd64".into(),
                runner: runner.into(),
                ..Host::default()
            },
            tools: BTreeMap::new(),
            interrupted: false,
            cells: ids.iter().map(|i| result(i)).collect(),
            perf: None,
            shard: shard.map(str::to_string),
            merged_from: Vec::new(),
            estimate: None,
            env_dropped: Vec::new(),
            env_passed: Vec::new(),
        }
    }

    fn ids(r: &Results) -> Vec<&str> {
        r.cells.iter().map(|c| c.cell.id.as_str()).collect()
    }

    #[test]
    fn shards_of_one_runner_keep_their_ids() {
        let m = merge(vec![
            ("a.json".into(), run("ci", Some("1/2"), &["x", "y"])),
            ("b.json".into(), run("ci", Some("2/2"), &["z"])),
        ])
        .unwrap();
        assert_eq!(ids(&m.results), ["x", "y", "z"]);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.results.merged_from.len(), 2);
        assert_eq!(m.results.host.runner, "ci");
    }

    #[test]
    fn two_runners_make_two_entries() {
        let m = merge(vec![
            ("a.json".into(), run("linux", None, &["x"])),
            ("b.json".into(), run("mac", None, &["x"])),
        ])
        .unwrap();
        assert_eq!(ids(&m.results), ["x@linux", "x@mac"]);
        assert_eq!(m.results.cells[1].ran_on.as_deref(), Some("mac"));
        assert_eq!(m.results.host.runner, "linux, mac");
        // Merging the merged file with a third runner renames only the new.
        let again = merge(vec![
            ("m.json".into(), m.results),
            ("c.json".into(), run("win", None, &["x"])),
        ])
        .unwrap();
        assert_eq!(ids(&again.results), ["x@linux", "x@mac", "x@win"]);
        assert_eq!(again.results.merged_from.len(), 3);
    }

    #[test]
    fn a_cell_twice_on_one_runner_is_an_error() {
        let e = merge(vec![
            ("a.json".into(), run("ci", Some("1/2"), &["x"])),
            ("b.json".into(), run("ci", Some("1/2"), &["x"])),
        ])
        .err()
        .unwrap();
        assert_eq!(
            e.to_string(),
            "cell x of matrix m is in both a.json and b.json (runner ci)"
        );
    }

    #[test]
    fn a_missing_shard_is_a_warning() {
        let m = merge(vec![
            ("a.json".into(), run("ci", Some("1/3"), &["x"])),
            ("c.json".into(), run("ci", Some("3/3"), &["z"])),
        ])
        .unwrap();
        assert_eq!(
            m.warnings,
            ["runner ci: shard 2/3 missing; its cells are not in the merged results"]
        );
    }
}
