//! The command line: parses arguments and drives the pipeline. Each
//! subcommand is a function that returns an exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::errors::Error;
use crate::expand::{self, DEFAULT_MAX_CELLS};
use crate::load::{self, Matrix};
use crate::model::{exit, Cell, CellResult, Outcome, Results, Runner, SCHEMA_VERSION};
use crate::pipeline::{self, Context, Event};
use crate::report::{self, progress::Progress};
use crate::schedule::History;
use crate::toolchain::cc::Compilers;
use crate::toolchain::go::{self as gotool, GoToolchain};
use crate::toolchain::versions;
use crate::{host, inspect, process, render, run};

mod cache;
mod doctor;
mod exec;
mod reports;
mod shards;
mod workflow;

const EXAMPLES: &str = "\
Examples:
  crossprobe run matrices/linux-arches.yaml          run a matrix, reports in reports/linux-arches/
  crossprobe run matrices/quick.yaml -j1 --keep      one build and one run at a time, keep every build directory
  crossprobe run matrices/quick.yaml --no-cache      build and run every cell again
  crossprobe run matrices/linux-arches.yaml --filter 'linux/arm*'
  crossprobe plan matrices/windows.yaml              the cells and their runners, nothing built
  crossprobe repro matrices/repro/go599-atomic64.yaml --go 1.21..1.26
                                                     does a reported failure reproduce, on which Go
  crossprobe list-probes
  crossprobe inspect ./mybinary                      what a binary is, and how it was built
  GOARCH=arm64 go test -exec \"crossprobe exec\" ./...  a module's tests under qemu

Exit codes: 0 every cell met its expectation, 1 one did not, 2 bad input or usage,
3 the disk filled up or the reports could not be written,
130/143 interrupted by SIGINT/SIGTERM (reports still written for finished cells).";

const REPRO_HELP: &str = "\
A snippet is the shorthand below, or a full matrix (one with `probes:` or `matrix:`):

  goos: linux                  # axes at the top level: goos, goarch, go, cgo,
  goarch: arm                  #   ldflags, tags, flags, env: {GOARM: \"5\"}; one value or a list
  cgo: 1
  issue: https://github.com/golang/go/issues/16801
  expect: {outcome: build-fail, match: \"unrecognized command.line option '-marm'\"}
  source: |                    # the program, as main.go (or probe: NAME for a shipped one)
    package main
    import \"C\"
    func main() {}

Examples:
  crossprobe repro bug.md                          the first ```yaml block of a bug report
  crossprobe repro snippet.yaml --go 1.21..1.26    the latest patch of each minor
  crossprobe repro snippet.yaml --go 1.21..1.26 --bisect

Exit codes: 0 every cell as the snippet expects (with --bisect: a change was found),
1 not, 2 bad input or usage, 130/143 interrupted.";

#[derive(Parser)]
#[command(name = "crossprobe", version, about = "A declarative test-matrix harness for Go and C cross-compilation", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct MatrixArgs {
    /// Probe templates directory, overriding the shipped ones.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Only cells whose id contains PATTERN, or matches it as a glob (* ?).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Refuse matrices that expand past N cells.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CELLS)]
    max_cells: usize,
    /// Make an expect entry that matches no cell an error, not a warning.
    #[arg(long)]
    strict: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build, run and check every cell of one or more matrices.
    Run {
        #[arg(required = true, value_name = "MATRIX")]
        matrices: Vec<PathBuf>,
        /// Builds at once, and runs at once (default: the number of cores).
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// Reports root: each matrix writes to DIR/<name>/.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
        /// Build in fresh directories and keep them all (failed cells' are always kept).
        #[arg(long)]
        keep: bool,
        /// Build and run every cell, neither reusing nor recording results
        /// (also: CROSSPROBE_NO_CACHE=1).
        #[arg(long)]
        no_cache: bool,
        /// A missing tool that doctor can install (qemu-user, wine, node,
        /// wazero, a cross gcc, zig) makes its cells skips, not failures
        /// (also: `run.allow_missing: true` in a matrix).
        #[arg(long)]
        allow_missing: bool,
        /// This runner's name in results (default: $CROSSPROBE_RUNNER, else the host name).
        #[arg(long, value_name = "NAME")]
        runner: Option<String>,
        /// Run probes outside the bubblewrap sandbox, with the network,
        /// $HOME and the filesystem open to them.
        #[arg(long)]
        no_sandbox: bool,
        #[command(flatten)]
        m: MatrixArgs,
        #[command(flatten)]
        sh: shards::RunFleetArgs,
    },
    /// Show the expanded cells with their runners; nothing is built.
    Plan {
        /// Matrix files; shards split them together, as `run` does.
        #[arg(required = true, value_name = "MATRIX")]
        matrices: Vec<PathBuf>,
        /// Print the cells as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        m: MatrixArgs,
        #[command(flatten)]
        sh: shards::ShardArgs,
    },
    /// Does a reported failure reproduce? Runs a snippet (YAML, `-` for stdin,
    /// or a Markdown bug report's first ```yaml block), prints a verdict per
    /// cell, and writes a repro bundle with replay.sh for each failing cell.
    #[command(after_help = REPRO_HELP)]
    Repro {
        #[arg(value_name = "SNIPPET")]
        snippet: String,
        /// Go versions: a range of minors (1.21..1.26, each at its latest
        /// patch), a minor, a release (1.21.13), local, or a comma list.
        #[arg(long, value_name = "VERSIONS")]
        go: Option<String>,
        /// Find the first Go release at which the outcome changes (needs --go A..B).
        #[arg(long)]
        bisect: bool,
        /// Cells run at once (default: the number of cores).
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// Reports root: results, JUnit and bundles go to DIR/<name>/.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
        /// Keep every cell's build directory.
        #[arg(long)]
        keep: bool,
        /// Run the snippet's probe outside the bubblewrap sandbox, with the
        /// network, $HOME and the filesystem open to it.
        #[arg(long)]
        no_sandbox: bool,
        #[command(flatten)]
        m: MatrixArgs,
    },
    /// List the shipped probes.
    ListProbes {
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Read binaries: format, arch, linkage, glibc needs, Go build settings.
    Inspect {
        #[arg(required = true, value_name = "BINARY")]
        binaries: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Merge, compare and draw results.json files.
    #[command(subcommand)]
    Report(reports::ReportCmd),
    /// Write CI configuration that runs matrices across several runners.
    #[command(subcommand)]
    Ci(workflow::CiCmd),
    /// Check what a run needs (Go, C toolchains, emulators, limits), and fix it with --fix.
    Doctor(doctor::DoctorArgs),
    /// Where the result cache and build directories are, their size, and clearing them.
    Cache {
        #[command(subcommand)]
        cmd: cache::CacheCmd,
    },
    /// Run one binary of any target under the runner crossprobe would give it
    /// (for `go test -exec`), or install go_GOOS_GOARCH_exec wrappers.
    Exec(exec::ExecArgs),
}

pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(code) = exec::as_wrapper(&argv) {
        return code;
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let r = match cli.cmd {
        Cmd::Run {
            matrices,
            jobs,
            out,
            keep,
            no_cache,
            allow_missing,
            runner,
            no_sandbox,
            m,
            sh,
        } => {
            let no_cache = no_cache
                || std::env::var_os("CROSSPROBE_NO_CACHE")
                    .is_some_and(|v| !v.is_empty() && v != "0");
            let flags = RunFlags {
                keep,
                no_cache,
                no_sandbox,
                allow_missing,
            };
            cmd_run(&matrices, jobs, &out, flags, runner, &m, &sh)
        }
        Cmd::Plan {
            matrices,
            json,
            m,
            sh,
        } => cmd_plan(&matrices, json, &m, &sh),
        Cmd::Repro {
            snippet,
            go,
            bisect,
            jobs,
            out,
            keep,
            no_sandbox,
            m,
        } => crate::repro::run(&crate::repro::Options {
            snippet: &snippet,
            go: go.as_deref(),
            bisect,
            out: &out,
            jobs: jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
                .max(1),
            keep,
            no_sandbox,
            templates: m.templates.as_deref(),
            filter: m.filter.as_deref(),
            max_cells: m.max_cells,
            strict: m.strict,
        }),
        Cmd::ListProbes { templates } => cmd_list_probes(templates.as_deref()),
        Cmd::Inspect { binaries, json } => cmd_inspect(&binaries, json),
        Cmd::Report(c) => reports::main(c),
        Cmd::Ci(c) => workflow::main(c),
        Cmd::Doctor(a) => doctor::main(a),
        Cmd::Cache { cmd } => cache::main(cmd),
        Cmd::Exec(a) => exec::main(a),
    };
    match r {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            exit::INPUT
        }
    }
}

/// Loaded and expanded matrices, ready to run.
pub(crate) struct Prepared {
    pub(crate) matrices: Vec<Matrix>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) ctx: Context,
    pub(crate) warnings: Vec<String>,
}

fn prepare(paths: &[PathBuf], m: &MatrixArgs, keep: bool) -> miette::Result<Prepared> {
    let mut matrices = Vec::new();
    for p in paths {
        matrices.push(load::load_file(p, m.templates.as_deref())?);
    }
    prepare_loaded(matrices, m.filter.as_deref(), m.max_cells, m.strict, keep)
}

/// Resolves the Go versions of loaded matrices, expands them, and reads the
/// host once: everything [`pipeline::run_all`] needs.
pub(crate) fn prepare_loaded(
    mut matrices: Vec<Matrix>,
    filter: Option<&str>,
    max_cells: usize,
    strict: bool,
    keep: bool,
) -> miette::Result<Prepared> {
    for (i, mx) in matrices.iter().enumerate() {
        if matrices[..i].iter().any(|o| o.name == mx.name) {
            return Err(Error::Usage {
                message: format!("two matrices are named {:?}", mx.name),
                help: Some(
                    "their reports would share a directory; give one a different `name:`".into(),
                ),
            }
            .into());
        }
    }
    let gos = resolve_gos(&matrices)?;
    let host = host::detect();
    // The local Go's GOROOT, for the tools shared by the run; a cell built by
    // another Go finds its own wasm_exec_node.js (see pipeline).
    let local_root = gos
        .get("local")
        .or_else(|| gos.values().find(|g| g.unavailable.is_none()))
        .map(|g| g.goroot.clone());
    let tools = host::discover(local_root.as_deref());
    let mut cells = Vec::new();
    let mut warnings = complete_sums(&mut matrices, &gos);
    let mut probes = BTreeMap::new();
    let mut timeouts = BTreeMap::new();
    let mut unsandboxed = std::collections::BTreeSet::new();
    let mut allow_missing = BTreeMap::new();
    for mx in &matrices {
        let choose = |cell: &Cell, override_: Option<&str>| -> Runner {
            let mut ov = override_.and_then(|o| run::runners::parse_override(o).ok());
            // A CPU model means emulation even where the host could run the
            // binary itself: the point is to run it on an older CPU.
            if !cell.cpu.is_empty() && ov.is_none() {
                ov = Some(run::RunnerOverride::Qemu);
            }
            match run::runners::choose_with(ov, &cell.goos, &cell.goarch, &cell.env, &host, &tools)
            {
                Runner::Qemu { binary, .. } if !cell.cpu.is_empty() => Runner::Qemu {
                    binary,
                    cpu: Some(cell.cpu.clone()),
                },
                r @ Runner::None { .. } => r,
                r if !cell.cpu.is_empty() => Runner::None {
                    reason: format!(
                        "cpu {} needs qemu-user, but {} runs {}",
                        cell.cpu,
                        r.name(),
                        cell.target()
                    ),
                    missing: None,
                },
                r => r,
            }
        };
        let ex = expand::expand(
            mx,
            &gos,
            &expand::Options {
                max_cells,
                choose_runner: &choose,
            },
        )?;
        if strict && !ex.warnings.is_empty() {
            return Err(Error::Usage {
                message: ex.warnings.join("\n"),
                help: Some("--strict refuses expectations that match no cell: fix their `when`, or remove them".into()),
            }
            .into());
        }
        warnings.extend(ex.warnings);
        let before = ex.cells.len();
        cells.extend(
            ex.cells
                .into_iter()
                .filter(|c| filter.is_none_or(|f| expand::filter_matches(f, &c.id))),
        );
        if before > 0 && cells.is_empty() {
            if let Some(f) = filter {
                return Err(Error::Usage {
                    message: format!(
                        "--filter {f:?} matches none of the {before} cells of {}",
                        mx.name
                    ),
                    help: Some(format!(
                        "`crossprobe plan {}` lists the cell ids",
                        mx.source.name
                    )),
                }
                .into());
            }
        }
        for p in &mx.probes {
            probes.insert(format!("{}/{}", mx.name, p.name), p.clone());
        }
        timeouts.insert(mx.name.clone(), mx.timeout);
        if !mx.sandbox {
            unsandboxed.insert(mx.name.clone());
        }
        allow_missing.insert(mx.name.clone(), mx.allow_missing.clone());
    }
    let compilers = Compilers::discover(&cells, &host, &tools.cache_dir);
    Ok(Prepared {
        matrices,
        cells,
        ctx: Context {
            gos,
            host,
            tools,
            compilers,
            probes,
            timeouts,
            sandbox: run::Sandbox::off(),
            unsandboxed,
            allow_missing,
            keep,
            retries: 0,
            cache: false,
            history: History::default(),
        },
        warnings,
    })
}

/// Completes the go.sum of each probe that brings its own go.mod, once per
/// run, with the local Go (else the first one to hand). A failure is a
/// warning: the build then says what is missing, in Go's words.
fn complete_sums(matrices: &mut [Matrix], gos: &BTreeMap<String, GoToolchain>) -> Vec<String> {
    let Some(go) = gos
        .get("local")
        .filter(|g| g.unavailable.is_none())
        .or_else(|| gos.values().find(|g| g.unavailable.is_none()))
    else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for mx in matrices {
        for p in &mut mx.probes {
            if let Err(e) = crate::toolchain::gomod::complete_sum(p, go) {
                warnings.push(format!(
                    "{}: probe {}: cannot complete its go.sum: {e}",
                    mx.name, p.name
                ));
            }
        }
    }
    warnings
}

/// Every Go version the matrices name, resolved once: `local`, a minor, or
/// an exact release (downloaded into the module cache on first use). One
/// that cannot be had becomes a toolchain whose cells skip, with the reason.
fn resolve_gos(matrices: &[Matrix]) -> miette::Result<BTreeMap<String, GoToolchain>> {
    let mut asked: Vec<(String, versions::Request, &Matrix, miette::SourceSpan)> = Vec::new();
    for mx in matrices {
        for g in &mx.go {
            if asked.iter().any(|(v, ..)| *v == g.value) {
                continue;
            }
            let req = versions::parse_request(&g.value)
                .map_err(|(message, help)| version_error(mx, g.span, message, help))?;
            asked.push((g.value.clone(), req, mx, g.span));
        }
    }
    let local = gotool::local();
    if let (Err(message), true) = (
        &local,
        asked
            .iter()
            .any(|(_, r, ..)| *r == versions::Request::Local),
    ) {
        return Err(Error::Toolchain {
            message: message.clone(),
            help: None,
        }
        .into());
    }
    let resolver = versions::Resolver::new(local);
    let reqs: Vec<versions::Request> = asked.iter().map(|(_, r, ..)| *r).collect();
    let mut gos = BTreeMap::new();
    for ((value, _, mx, span), res) in asked.iter().zip(versions::resolve_all(&resolver, &reqs)) {
        let tc = match res {
            Ok(versions::Resolved::Ready(tc)) => *tc,
            Ok(versions::Resolved::Unavailable { version, reason }) => {
                versions::unavailable(&version, &reason, resolver.local().ok())
            }
            Err(no) => return Err(version_error(mx, *span, no.message, no.help)),
        };
        gos.insert(value.clone(), tc);
    }
    Ok(gos)
}

/// A bad Go version points at the matrix when it came from one, else (from
/// `--go`) it is a usage error.
fn version_error(
    mx: &Matrix,
    span: miette::SourceSpan,
    message: String,
    help: String,
) -> miette::Report {
    if span.is_empty() {
        return Error::Usage {
            message,
            help: Some(help),
        }
        .into();
    }
    Error::from(crate::errors::InputError::new(
        &mx.source,
        span,
        message,
        "this Go version",
        Some(help),
    ))
    .into()
}

/// `run`'s switches.
struct RunFlags {
    keep: bool,
    no_cache: bool,
    allow_missing: bool,
    no_sandbox: bool,
}

fn cmd_run(
    paths: &[PathBuf],
    jobs: Option<usize>,
    out: &Path,
    RunFlags {
        keep,
        no_cache,
        no_sandbox,
        allow_missing,
    }: RunFlags,
    runner: Option<String>,
    m: &MatrixArgs,
    sh: &shards::RunFleetArgs,
) -> miette::Result<i32> {
    let started_at = report::now_rfc3339();
    let t0 = Instant::now();
    let runner = runner_name(runner);
    let mut prep = prepare(paths, m, keep)?;
    let (cells, shard, cost) = sh.shard.select(prep.cells, &runner)?;
    if allow_missing {
        for allowed in prep.ctx.allow_missing.values_mut() {
            *allowed = None;
        }
    }
    let (cells, skipped) = crate::doctor::preflight::split(cells, &prep.ctx);
    prep.ctx.retries = sh.retries;
    prep.ctx.cache = !no_cache;
    prep.ctx.sandbox = run::Sandbox::for_run(no_sandbox);
    for mx in &prep.matrices {
        // The last run's durations order this one; a missing or unreadable
        // file only means guesses.
        if let Ok(last) = report::read_results(&out.join(&mx.name).join("results.json")) {
            prep.ctx.history.extend(History::from_results(&last.cells));
        }
    }
    for w in &prep.warnings {
        eprintln!("warning: {w}");
    }
    let mut sink = report::sink::Sink::open(out, prep.matrices.iter().map(|m| m.name.as_str()))?;
    process::interrupt::install().map_err(|e| Error::Usage {
        message: format!("cannot install signal handlers: {e}"),
        help: None,
    })?;
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let tools_versions = tool_versions(&prep.ctx);

    let mut progress = Progress::new(cells.len() + skipped.len());
    // Cells the preflight judged are finished before anything is built:
    // every reporter, the journal included, sees them like the rest.
    for r in &skipped {
        sink.finished(r);
        progress.finished(r);
    }
    let mut results = pipeline::run_all(cells, &prep.ctx, jobs, |ev| match ev {
        Event::Started(id) => progress.started(&id),
        Event::Finished(r) => {
            sink.finished(&r);
            progress.finished(&r)
        }
    });
    progress.finish();
    sink.explain_not_started(&mut results);
    results.extend(skipped);

    let interrupted = process::interrupt::requested();
    let host = crate::model::Host {
        os: prep.ctx.host.goos.clone(),
        arch: prep.ctx.host.goarch.clone(),
        kernel: prep.ctx.host.kernel.clone(),
        cpu: prep.ctx.host.cpu.clone(),
        runner,
    };
    let elapsed = t0.elapsed();
    let perf = crate::perf::measure(&results);
    let mut all_met = true;
    let mut write_failed = false;
    for mx in &prep.matrices {
        let cells: Vec<CellResult> = results
            .iter()
            .filter(|r| r.cell.matrix == mx.name)
            .cloned()
            .collect();
        all_met &= cells.iter().all(|r| r.standing().ok());
        let estimate = Some(crate::expand::shard::settle(&cost, &cells));
        let res = Results {
            schema: SCHEMA_VERSION,
            crossprobe_version: env!("CARGO_PKG_VERSION").to_string(),
            matrices: vec![mx.name.clone()],
            started_at: started_at.clone(),
            duration_ms: elapsed.as_millis() as u64,
            host: host.clone(),
            tools: tools_versions.clone(),
            interrupted: interrupted.is_some() || pipeline::stopped(),
            cells,
            perf: Some(perf.clone()),
            shard: shard.clone(),
            merged_from: Vec::new(),
            estimate,
        };
        // The summary first: it reaches the CI log even if the disk is full.
        print!(
            "{}",
            report::summary::render(&res.cells, elapsed.as_secs_f64())
        );
        match sink.write(&mx.name, &res) {
            Ok(dir) => println!(
                "reports: {0}/junit.xml, {0}/results.json, {0}/report.html",
                dir.display()
            ),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                write_failed = true;
            }
        }
    }
    if let Some(what) = sink.disk_full() {
        eprintln!(
            "error: the disk filled up during the run ({what}); cells after it were not started"
        );
    }
    Ok(match interrupted {
        Some(libc::SIGTERM) => exit::SIGTERM,
        Some(_) => exit::SIGINT,
        None if write_failed || sink.disk_full().is_some() => exit::IO,
        None if all_met => exit::OK,
        None => exit::UNMET,
    })
}

pub(crate) fn tool_versions(ctx: &Context) -> BTreeMap<String, String> {
    let mut v = ctx.tools.versions();
    v.extend(ctx.compilers.versions());
    for (req, g) in &ctx.gos {
        let key = if req == "local" {
            "go".to_string()
        } else {
            format!("go@{req}")
        };
        v.insert(key, g.version.clone());
    }
    v
}

/// `--runner`, else $CROSSPROBE_RUNNER, else the host's name.
fn runner_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("CROSSPROBE_RUNNER").ok())
        .unwrap_or_else(host_name)
}

pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "local".into())
}

fn cmd_plan(
    paths: &[PathBuf],
    json: bool,
    m: &MatrixArgs,
    sh: &shards::ShardArgs,
) -> miette::Result<i32> {
    let mut prep = prepare(paths, m, false)?;
    let (cells, shard, cost) = sh.select(std::mem::take(&mut prep.cells), &runner_name(None))?;
    prep.cells = cells;
    for w in &prep.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        // A shard's plan is the cells with what they are expected to cost.
        let out = match shard {
            Some(_) => serde_json::json!({ "cost": cost, "cells": prep.cells }),
            None => serde_json::json!(prep.cells),
        };
        let text = serde_json::to_string_pretty(&out).expect("cells serialise") + "\n";
        // `plan --json | head` closes the pipe early: not an error.
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
        return Ok(exit::OK);
    }
    if shard.is_some() {
        eprint!("{}", shards::describe(&cost));
    }
    let w = prep.cells.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &prep.cells {
        let runner = match &c.runner {
            Runner::None { reason, .. } => format!("none ({reason})"),
            r => r.name().to_string(),
        };
        let expect = match c.expect.outcome {
            Outcome::Pass => String::new(),
            o => format!(
                "  expect {o}{}",
                c.expect
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        };
        println!("{:<w$}  {runner}{expect}", c.id);
    }
    eprintln!("{} cells", prep.cells.len());
    Ok(exit::OK)
}

fn cmd_list_probes(templates: Option<&Path>) -> miette::Result<i32> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let names = render::catalog::names(templates);
    let w = names.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for n in names {
        let Some(p) = render::catalog::find(&n, templates).map_err(|message| Error::Usage {
            message,
            help: None,
        })?
        else {
            continue;
        };
        let lang = format!("{:?}", p.lang).to_lowercase();
        let _ = writeln!(out, "{n:<w$}  {lang:<2}  {}", p.summary);
        if let Some(page) = render::catalog::docs_page(&n, templates) {
            let _ = writeln!(out, "{:<w$}      see {page}", "");
        }
    }
    // `crossprobe list-probes | head` closes the pipe early: not an error,
    // and println! would panic on it.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(exit::OK)
}

fn cmd_inspect(paths: &[PathBuf], json: bool) -> miette::Result<i32> {
    let mut all = serde_json::Map::new();
    let mut failed = false;
    for p in paths {
        match inspect::inspect_file(p) {
            Ok(insp) => {
                if json {
                    all.insert(
                        p.display().to_string(),
                        serde_json::json!({ "facts": insp.facts, "notes": insp.notes }),
                    );
                } else {
                    println!("{}", inspect::render_text(p, &insp));
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("facts serialise")
        );
    }
    Ok(if failed { exit::INPUT } else { exit::OK })
}
