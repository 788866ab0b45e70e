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
use crate::model::{CellResult, Outcome, Standing};
use crate::pipeline::Event;
use crate::report::{self, progress::Progress};
use crate::session::{self, Session};
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
    let ex = execute(&matrix, o)?;
    let all = ex.results.clone();
    for r in &all {
        print_verdict(r, &ex.gos);
    }
    let bundles = write_bundles(&matrix, &all, &ex, &loaded.yaml, o)?;
    print_bundles(&bundles);
    let dir = write_results(o.out, &matrix, &all, &ex, &started_at, t0)?;
    let met = all.iter().filter(|r| r.standing().ok()).count();
    println!(
        "{met} of {} cells as the snippet expects; reports: {}/results.json",
        all.len(),
        escape::Line(&dir.display().to_string())
    );
    let code = session::exit_code(&ex.session.ctx.cancel, &all, false);
    match crate::model::nothing_ran(&all, true) {
        Some(why) if code == crate::model::exit::OK && matrix.allow_missing.is_some() => {
            eprintln!(
                "error: {}\n  help: the snippet is not reproduced here (no runner, a missing \
                 tool or Go release); --allow-missing accepts that",
                escape::Line(&why)
            );
            Ok(crate::model::exit::NOTHING_RAN)
        }
        _ => Ok(code),
    }
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
    pub results: Vec<CellResult>,
    pub gos: BTreeMap<String, GoToolchain>,
    pub tools: BTreeMap<String, String>,
    pub timeout: std::time::Duration,
    pub session: Session,
}

pub(crate) fn execute(matrix: &Matrix, o: &Options) -> miette::Result<Executed> {
    // Kept so that each failing cell's sources and logs can go into its
    // bundle; removed once the bundles are written, unless --keep.
    let mut s = session::prepare(
        vec![matrix.clone()],
        &session::Options {
            filter: o.filter,
            max_cells: o.max_cells,
            strict: o.strict,
            keep: true,
        },
    )?;
    s.ctx.sandbox = crate::run::Sandbox::for_run(o.no_sandbox);
    if o.trust {
        s.ctx.trusted_gocache = Some(crate::host::cache_dir().join("trusted/go-build"));
    }
    // Only now: bad input must leave no reports directory behind.
    report::prepare_root(o.out)?;
    report::prepare_dir(&o.out.join(&matrix.name))?;
    for w in &s.warnings {
        eprintln!("warning: {}", escape::Line(w));
    }
    let cells = std::mem::take(&mut s.cells);
    let mut progress = Progress::new(cells.len());
    let results = s.run(cells, o.jobs, |ev| match ev {
        Event::Started(id) => progress.started(&id),
        Event::Finished(r) => progress.finished(&r),
    });
    progress.finish();
    Ok(Executed {
        results,
        gos: s.ctx.gos.clone(),
        tools: session::tool_versions(&s.ctx),
        timeout: matrix.timeout,
        session: s,
    })
}

/// One line per cell: reproduced, not reproduced, or a different failure.
pub fn verdict_line(r: &CellResult) -> String {
    let why = r.reason.as_deref().unwrap_or("");
    match (r.standing(), r.outcome) {
        (Standing::Skipped(_), _) => format!("skipped: {why}"),
        (Standing::BuiltNotRun, _) => format!("{}: {why}", Standing::BuiltNotRun.label()),
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

fn print_verdict(r: &CellResult, gos: &BTreeMap<String, GoToolchain>) {
    let version = gos
        .get(&r.cell.go)
        .map(|g| g.version.as_str())
        .unwrap_or(&r.cell.go);
    println!(
        "{} ({}): {}",
        escape::Line(&r.cell.id),
        escape::Line(version),
        escape::Line(&verdict_line(r))
    );
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
    for r in which.iter().filter(|r| bundle::wanted(r)) {
        let go = &ex.gos[&r.cell.go];
        let probe = ex
            .session
            .ctx
            .probes
            .get(&format!("{}/{}", r.cell.matrix, r.cell.probe));
        let sources: Vec<String> = probe
            .and_then(|p| crate::probe::sources(&r.cell, p, go).ok())
            .into_iter()
            .flatten()
            .map(|(name, _)| name)
            .collect();
        let how = bundle::Cell {
            rendered: &sources,
            sandbox: &ex.session.ctx.sandbox,
        };
        out.push(bundle::write(
            &parent, r, &how, go, &ex.tools, yaml, ex.timeout,
        )?);
    }
    if !o.keep {
        for r in &ex.results {
            if let Some(d) = &r.dir {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    Ok(out)
}

pub(crate) fn write_results(
    out: &Path,
    matrix: &Matrix,
    all: &[CellResult],
    ex: &Executed,
    started_at: &str,
    t0: Instant,
) -> miette::Result<PathBuf> {
    let dir = out.join(&matrix.name);
    let info = ex
        .session
        .info(started_at, t0.elapsed(), session::runner_name(None), all);
    let res = info.results(&matrix.name, all.to_vec());
    report::write_reports(&dir, &res)?;
    Ok(dir)
}
