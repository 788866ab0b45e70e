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
use crate::toolchain::go::{self as gotool, GoToolchain};
use crate::{host, inspect, process, render, run};

const EXAMPLES: &str = "\
Examples:
  crossprobe run matrices/linux-arches.yaml          run a matrix, reports in reports/linux-arches/
  crossprobe run matrices/quick.yaml -j1 --keep      one build and one run at a time, keep every build directory
  crossprobe run matrices/quick.yaml --no-cache      build and run every cell again
  crossprobe run matrices/linux-arches.yaml --filter 'linux/arm*'
  crossprobe plan matrices/windows.yaml              the cells and their runners, nothing built
  crossprobe list-probes
  crossprobe inspect ./mybinary                      what a binary is, and how it was built

Exit codes: 0 every cell met its expectation, 1 one did not, 2 bad input or usage,
130/143 interrupted by SIGINT/SIGTERM (reports still written for finished cells).";

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
        /// This runner's name in results (default: $CROSSPROBE_RUNNER, else the host name).
        #[arg(long, value_name = "NAME")]
        runner: Option<String>,
        #[command(flatten)]
        m: MatrixArgs,
    },
    /// Show the expanded cells with their runners; nothing is built.
    Plan {
        #[arg(value_name = "MATRIX")]
        matrix: PathBuf,
        /// Print the cells as JSON.
        #[arg(long)]
        json: bool,
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
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
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
            runner,
            m,
        } => {
            let no_cache = no_cache
                || std::env::var_os("CROSSPROBE_NO_CACHE")
                    .is_some_and(|v| !v.is_empty() && v != "0");
            cmd_run(&matrices, jobs, &out, (keep, no_cache), runner, &m)
        }
        Cmd::Plan { matrix, json, m } => cmd_plan(&matrix, json, &m),
        Cmd::ListProbes { templates } => cmd_list_probes(templates.as_deref()),
        Cmd::Inspect { binaries, json } => cmd_inspect(&binaries, json),
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
struct Prepared {
    matrices: Vec<Matrix>,
    cells: Vec<Cell>,
    ctx: Context,
    warnings: Vec<String>,
}

fn prepare(paths: &[PathBuf], m: &MatrixArgs, keep: bool) -> miette::Result<Prepared> {
    let mut matrices = Vec::new();
    for p in paths {
        let mx = load::load_file(p, m.templates.as_deref())?;
        if matrices.iter().any(|o: &Matrix| o.name == mx.name) {
            return Err(Error::Usage {
                message: format!("two matrices are named {:?}", mx.name),
                help: Some(
                    "their reports would share a directory; give one a different `name:`".into(),
                ),
            }
            .into());
        }
        matrices.push(mx);
    }
    let mut gos: BTreeMap<String, GoToolchain> = BTreeMap::new();
    for mx in &matrices {
        for g in &mx.go {
            if gos.contains_key(&g.value) {
                continue;
            }
            let tc = match g.value.as_str() {
                "local" => gotool::local().map_err(|message| Error::Toolchain {
                    message,
                    help: None,
                })?,
                other => {
                    return Err(Error::from(crate::errors::InputError::new(
                        &mx.source,
                        g.span,
                        format!("Go version {other:?} is not supported yet"),
                        "here",
                        Some("use `go: [local]`, the go on PATH".into()),
                    ))
                    .into())
                }
            };
            gos.insert(g.value.clone(), tc);
        }
    }
    let host = host::detect();
    let local_root = gos.values().next().map(|g| g.goroot.clone());
    let tools = host::discover(local_root.as_deref());
    let mut cells = Vec::new();
    let mut warnings = Vec::new();
    let mut probes = BTreeMap::new();
    let mut timeouts = BTreeMap::new();
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
                Runner::None { reason } => Runner::None { reason },
                r if !cell.cpu.is_empty() => Runner::None {
                    reason: format!(
                        "cpu {} needs qemu-user, but {} runs {}",
                        cell.cpu,
                        r.name(),
                        cell.target()
                    ),
                },
                r => r,
            }
        };
        let ex = expand::expand(
            mx,
            &gos,
            &expand::Options {
                max_cells: m.max_cells,
                choose_runner: &choose,
            },
        )?;
        if m.strict && !ex.warnings.is_empty() {
            return Err(Error::Usage {
                message: ex.warnings.join("\n"),
                help: Some("--strict refuses expectations that match no cell: fix their `when`, or remove them".into()),
            }
            .into());
        }
        warnings.extend(ex.warnings);
        let before = ex.cells.len();
        cells.extend(ex.cells.into_iter().filter(|c| {
            m.filter
                .as_deref()
                .is_none_or(|f| expand::filter_matches(f, &c.id))
        }));
        if before > 0 && cells.is_empty() {
            if let Some(f) = &m.filter {
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
    }
    Ok(Prepared {
        matrices,
        cells,
        ctx: Context {
            gos,
            host,
            tools,
            probes,
            timeouts,
            keep,
            cache: false,
            history: History::default(),
        },
        warnings,
    })
}

fn cmd_run(
    paths: &[PathBuf],
    jobs: Option<usize>,
    out: &Path,
    (keep, no_cache): (bool, bool),
    runner: Option<String>,
    m: &MatrixArgs,
) -> miette::Result<i32> {
    let started_at = report::now_rfc3339();
    let t0 = Instant::now();
    let mut prep = prepare(paths, m, keep)?;
    prep.ctx.cache = !no_cache;
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
    for mx in &prep.matrices {
        report::prepare_dir(&out.join(&mx.name))?;
    }
    process::interrupt::install().map_err(|e| Error::Usage {
        message: format!("cannot install signal handlers: {e}"),
        help: None,
    })?;
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let tools_versions = tool_versions(&prep.ctx);

    let mut progress = Progress::new(prep.cells.len());
    let results = pipeline::run_all(prep.cells, &prep.ctx, jobs, |ev| match ev {
        Event::Started(id) => progress.started(&id),
        Event::Finished(r) => progress.finished(&r),
    });
    progress.finish();

    let interrupted = process::interrupt::requested();
    let host = crate::model::Host {
        os: prep.ctx.host.goos.clone(),
        arch: prep.ctx.host.goarch.clone(),
        kernel: prep.ctx.host.kernel.clone(),
        cpu: prep.ctx.host.cpu.clone(),
        runner: runner
            .or_else(|| std::env::var("CROSSPROBE_RUNNER").ok())
            .unwrap_or_else(host_name),
    };
    let elapsed = t0.elapsed();
    let perf = crate::perf::measure(&results);
    let mut all_met = true;
    for mx in &prep.matrices {
        let cells: Vec<CellResult> = results
            .iter()
            .filter(|r| r.cell.matrix == mx.name)
            .cloned()
            .collect();
        all_met &= cells.iter().all(|r| r.verdict.met);
        let res = Results {
            schema: SCHEMA_VERSION,
            crossprobe_version: env!("CARGO_PKG_VERSION").to_string(),
            matrices: vec![mx.name.clone()],
            started_at: started_at.clone(),
            duration_ms: elapsed.as_millis() as u64,
            host: host.clone(),
            tools: tools_versions.clone(),
            interrupted: interrupted.is_some(),
            cells,
            perf: Some(perf.clone()),
        };
        let dir = out.join(&mx.name);
        report::write_reports(&dir, &res)?;
        print!(
            "{}",
            report::summary::render(&res.cells, elapsed.as_secs_f64())
        );
        println!(
            "reports: {}/junit.xml, {}/results.json",
            dir.display(),
            dir.display()
        );
    }
    Ok(match interrupted {
        Some(libc::SIGTERM) => exit::SIGTERM,
        Some(_) => exit::SIGINT,
        None if all_met => exit::OK,
        None => exit::UNMET,
    })
}

fn tool_versions(ctx: &Context) -> BTreeMap<String, String> {
    let mut v = ctx.tools.versions();
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

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "local".into())
}

fn cmd_plan(path: &Path, json: bool, m: &MatrixArgs) -> miette::Result<i32> {
    let prep = prepare(&[path.to_path_buf()], m, false)?;
    for w in &prep.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&prep.cells).expect("cells serialise")
        );
        return Ok(exit::OK);
    }
    let w = prep.cells.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &prep.cells {
        let runner = match &c.runner {
            Runner::None { reason } => format!("none ({reason})"),
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
    let names = render::catalog::names(templates);
    let w = names.iter().map(String::len).max().unwrap_or(0);
    for n in names {
        let p = render::catalog::find(&n, templates)
            .map_err(|message| Error::Usage {
                message,
                help: None,
            })?
            .expect("listed probes exist");
        println!(
            "{n:<w$}  {:<2}  {}",
            format!("{:?}", p.lang).to_lowercase(),
            p.summary
        );
    }
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
