//! `crossprobe repro`: does a reported failure reproduce, on which Go
//! versions, and what does a person need to replay it?
//!
//! - [`snippet`] reads the YAML from a file, stdin or a Markdown bug report
//!   and makes a matrix of it;
//! - this module runs it through the ordinary pipeline (over a `--go` range
//!   when asked), prints one verdict line per cell, and writes the reports;
//! - [`bundle`] writes a repro bundle, with `replay.sh`, for each failing
//!   cell;
//! - [`bisect`] finds the first Go release at which the outcome changes.

pub mod bisect;
pub mod bundle;
pub mod markdown;
mod shorthand;
pub mod snippet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use miette::SourceSpan;

use crate::errors::Error;
use crate::escape;
use crate::load::{Located, Matrix};
use crate::model::{CellResult, Outcome, Results, Standing};
use crate::report::observe::Observer;
use crate::report::{self, progress::Progress};
use crate::schedule::History;
use crate::session::{self, RunConfig, Session};
use crate::toolchain::go::GoToolchain;
use crate::toolchain::versions::{self, Request};

/// What `crossprobe repro` was asked.
pub struct Options<'a> {
    pub snippet: &'a str,
    /// `--go`: `1.21..1.26`, `1.22`, `local,1.22.3`.
    pub go: Option<&'a str>,
    pub bisect: bool,
    pub out: &'a Path,
    pub jobs: usize,
    pub keep: bool,
    /// `--no-sandbox`: run the probes outside bubblewrap.
    pub no_sandbox: bool,
    /// The snippet may name programs to run at build time.
    pub trust: bool,
    /// `--allow-missing`: as `allow_missing: true` in the snippet.
    pub allow_missing: bool,
    pub templates: Option<&'a Path>,
    pub filter: Option<&'a str>,
    pub max_cells: usize,
    /// `--strict`: an expectation that matches no cell is an error.
    pub strict: bool,
}

pub fn run(o: &Options) -> miette::Result<i32> {
    let started_at = report::now_rfc3339();
    let t0 = Instant::now();
    let input = snippet::read(o.snippet)?;
    let loaded = snippet::load(&input, o.templates, o.trust)?;
    let reqs = match o.go {
        None => None,
        Some(g) => Some(
            versions::parse_range(g).map_err(|(message, help)| Error::Usage {
                message: format!("--go {g}: {message}"),
                help: Some(help),
            })?,
        ),
    };
    session::install_interrupts()?;
    if let Some(t) = &loaded.title {
        println!("{}: {}", escape::Line(&loaded.matrix.name), escape::Line(t));
    }
    for note in &loaded.notes {
        println!("note: {note}");
    }
    let mut matrix = loaded.matrix;
    if o.allow_missing {
        matrix.allow_missing = None;
    }
    if o.bisect {
        let reqs = reqs.ok_or_else(|| Error::Usage {
            message: "--bisect needs a range of Go minors".into(),
            help: Some("e.g. crossprobe repro SNIPPET --go 1.21..1.26 --bisect".into()),
        })?;
        return bisect::run(matrix, &reqs, o, &loaded.yaml, &started_at, t0);
    }
    if let Some(reqs) = &reqs {
        matrix.set_values("go", as_axis(reqs));
    }
    let ex = execute(&matrix, o, (&started_at, t0), true)?;
    let all = &ex.ran.cells;
    let bundles = write_bundles(&matrix, all, &ex, &loaded.yaml, o)?;
    print_bundles(&bundles);
    let dir = write_results(o.out, &ex.ran.results)?;
    let met = all.iter().filter(|r| r.standing().ok()).count();
    println!(
        "{met} of {} cells as the snippet expects; reports: {}/results.json",
        all.len(),
        escape::Line(&dir.display().to_string())
    );
    if let Some(why) = &ex.ran.nothing_ran {
        eprintln!(
            "error: {}\n  help: the snippet is not reproduced here (no runner, a missing \
             tool or Go release); --allow-missing accepts that",
            escape::Line(why)
        );
    }
    Ok(ex.ran.exit_code)
}

/// `--go` values as a `go:` axis.
fn as_axis(reqs: &[Request]) -> Vec<Located<String>> {
    reqs.iter()
        .map(|r| Located {
            value: versions::request_value(*r),
            // No position: an error about it is a usage error about --go.
            span: SourceSpan::new(0.into(), 0),
        })
        .collect()
}

/// One run of the pipeline over a matrix.
pub(crate) struct Executed {
    pub ran: session::Ran,
    pub timeout: std::time::Duration,
    pub session: Session,
}

/// Runs the snippet's matrix through the session, watched by a progress
/// display, and by the verdict printer when `verdicts`. A reproduction runs what it was given, now:
/// - the result cache is off: a stored answer is no reproduction;
/// - no retries: the first outcome is the one reported;
/// - no history: one snippet's cells are too few to order.
pub(crate) fn execute(
    matrix: &Matrix,
    o: &Options,
    (started_at, t0): (&str, Instant),
    verdicts: bool,
) -> miette::Result<Executed> {
    let mut prepared = session::prepare(
        vec![matrix.clone()],
        &session::Options {
            filter: o.filter,
            max_cells: o.max_cells,
            strict: o.strict,
        },
    )?;
    let config = RunConfig::builder()
        .started(started_at.to_string(), t0)
        .jobs(Some(o.jobs))
        // Kept so that each failing cell's sources and logs can go into its
        // bundle; removed once the bundles are written, unless --keep.
        .keep_builds(true)
        .result_cache(false)
        .retries(0)
        .history(History::default())
        .snippet(true)
        .sandbox(crate::run::Sandbox::for_run(o.no_sandbox))
        // A build that may run a stranger's programs never writes the
        // user's own Go build cache, which they could poison.
        .trusted_gocache(
            o.trust
                .then(|| crate::host::cache_dir().join("trusted/go-build")),
        )
        .build();
    // Only now: bad input must leave no reports directory behind.
    report::prepare_root(o.out)?;
    report::prepare_dir(&o.out.join(&matrix.name))?;
    for w in &prepared.warnings {
        eprintln!("warning: {}", escape::Line(w));
    }
    let cells = std::mem::take(&mut prepared.cells);
    let s = Session::new(prepared, config);
    let mut progress = Progress::new(cells.len());
    let mut printer = Verdicts::of(s.gos());
    let ran = match verdicts {
        true => s.run(cells, &mut [&mut progress, &mut printer]),
        false => s.run(cells, &mut [&mut progress]),
    };
    Ok(Executed {
        ran,
        timeout: matrix.timeout,
        session: s,
    })
}

/// Prints one line per cell when the run ends: its verdict, beside the
/// Go release the cell's `go` value resolved to.
struct Verdicts {
    versions: BTreeMap<String, String>,
}

impl Verdicts {
    fn of(gos: &BTreeMap<String, GoToolchain>) -> Verdicts {
        let versions = gos.iter().map(|(k, g)| (k.clone(), g.version.clone()));
        Verdicts {
            versions: versions.collect(),
        }
    }
}

impl Observer for Verdicts {
    fn matrix(&mut self, res: &Results) -> Result<(), crate::errors::Error> {
        for r in &res.cells {
            let version = self.versions.get(&r.cell.go).unwrap_or(&r.cell.go);
            println!(
                "{} ({}): {}",
                escape::Line(&r.cell.id),
                escape::Line(version),
                escape::Line(&verdict_line(r))
            );
        }
        Ok(())
    }
}

/// One line per cell: reproduced, not reproduced, or a different failure.
pub fn verdict_line(r: &CellResult) -> String {
    let why = r.reason.as_deref().unwrap_or("");
    match (r.standing(), r.outcome) {
        (Standing::Skipped(_), _) => format!("skipped: {why}"),
        (Standing::BuiltNotRun, _) => format!("{}: {why}", r.built_not_run_label()),
        (Standing::Interrupted, _) => "interrupted before it finished".into(),
        (Standing::Flaky, o) => format!(
            "flaky: {o} on try {}, after {}",
            r.attempts.len() + 1,
            r.attempts[0].verdict.message
        ),
        (Standing::Unmet, _) if r.missing.is_some() => format!("not run: {}", r.verdict.message),
        (Standing::Unmet, _) if r.verdict.message.starts_with(crate::check::NOTHING_RAN) => {
            format!("not reproduced: {}", r.verdict.message)
        }
        (Standing::Unmet, Outcome::Skip) => format!("skipped, but {}", r.verdict.message),
        (_, o) => outcome_line(r, o, why),
    }
}

fn outcome_line(r: &CellResult, o: Outcome, why: &str) -> String {
    let exp = &r.cell.expect;
    match o {
        Outcome::Pass if r.verdict.met => "passed, as expected".into(),
        o if r.verdict.met => match &exp.r#match {
            Some(m) => format!("reproduced: {o} matching /{m}/"),
            None => format!("reproduced: {o}: {why}"),
        },
        Outcome::Pass => "not reproduced: passed".into(),
        o if exp.outcome == Outcome::Pass => format!("failed: {o}: {why}"),
        o if o == exp.outcome => format!(
            "different failure: {o}: {why} (does not match /{}/)",
            exp.r#match.as_deref().unwrap_or("")
        ),
        o => format!("different failure: {o}: {why}"),
    }
}

fn print_bundles(bundles: &[PathBuf]) {
    for b in bundles {
        let b = b.display().to_string();
        println!(
            "  bundle: {}/ (sh {}/replay.sh)",
            escape::Line(&b),
            escape::Line(&b)
        );
    }
}

/// Bundles for the failing cells among `which`, then the build directories
/// go unless --keep.
pub(crate) fn write_bundles(
    matrix: &Matrix,
    which: &[CellResult],
    ex: &Executed,
    yaml: &str,
    o: &Options,
) -> miette::Result<Vec<PathBuf>> {
    let parent = o.out.join(&matrix.name);
    let mut out = Vec::new();
    let tools = ex.session.tool_versions();
    for r in which.iter().filter(|r| bundle::wanted(r)) {
        let go = &ex.session.gos()[&r.cell.go];
        let sources: Vec<String> = ex
            .session
            .probe(&r.cell)
            .and_then(|p| crate::probe::sources(&r.cell, p, go).ok())
            .into_iter()
            .flatten()
            .map(|(name, _)| name)
            .collect();
        let how = bundle::Cell {
            rendered: &sources,
            sandbox: ex.session.config().sandbox(),
        };
        out.push(bundle::write(
            &parent, r, &how, go, &tools, yaml, ex.timeout,
        )?);
    }
    if !o.keep {
        for r in &ex.ran.cells {
            if let Some(d) = &r.dir {
                let _ = std::fs::remove_dir_all(d);
                // The process's directory of temporary builds
                // (pipeline::temp_builds), once it holds none.
                let _ = std::path::Path::new(d).parent().map(std::fs::remove_dir);
            }
        }
    }
    Ok(out)
}

/// Writes the results the session assembled; returns the matrix's
/// reports directory.
pub(crate) fn write_results(out: &Path, results: &[Results]) -> miette::Result<PathBuf> {
    let mut dir = out.to_path_buf();
    for res in results {
        dir = out.join(&res.matrices[0]);
        report::write_reports(&dir, res)?;
    }
    Ok(dir)
}
