//! The command line: parses arguments and drives the pipeline. Each
//! subcommand is a function that returns an exit code.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{CommandFactory, Parser, Subcommand};

use crate::errors::Error;
use crate::escape;
use crate::expand::DEFAULT_MAX_CELLS;
use crate::load;
use crate::model::{exit, Outcome, Runner};
use crate::report::{self, progress::Progress, summary::Summary};
use crate::schedule::History;
use crate::session::{self, Prepared, RunConfig, Session};

mod cache;
pub mod docs;
mod doctor;
mod exec;
mod init;
mod probes;
mod reports;
mod shards;
mod workflow;

const EXAMPLES: &str = "\
Examples:
  crossprobe init && crossprobe run                  a matrix for the Go module here, then run it
  crossprobe run matrices/linux-arches.yaml          run a matrix, reports in reports/linux-arches/
  crossprobe run matrices/quick.yaml -j1 --keep      one build and one run at a time, keep every build directory
  crossprobe run matrices/quick.yaml --no-cache      build and run every cell again
  crossprobe run matrices/linux-arches.yaml --filter 'linux/arm*'
  crossprobe plan matrices/windows.yaml              the cells and their runners, nothing built
  crossprobe repro matrices/repro/go599-atomic64.yaml --go 1.21..1.26
                                                     does a reported failure reproduce, on which Go
  crossprobe list-probes
  crossprobe inspect ./mybinary                      what a binary is, and how it was built
  GOARCH=arm64 go test -exec \"crossprobe exec\" ./...  a module's tests under qemu";

const REPRO_HELP: &str = "\
A snippet is the shorthand below, or a full matrix (one with `probes:` or `matrix:`):

  goos: linux                  # every key of the matrix format, at the top level:
  goarch: arm                  #   each axis (one value or a list), env: {GOARM: \"5\"},
  cgo: 1                       #   include, exclude, lang, files, timeout, runners
  issue: https://github.com/golang/go/issues/16801
  outcome: build-fail          # the expect keys too: outcome, match, reason, facts, when
  match: \"unrecognized command.line option '-marm'\"
  source: |                    # the program, as main.go (or probe: NAME for a shipped one)
    package main
    import \"C\"
    func main() {}

Examples:
  crossprobe repro bug.md                          the first ```yaml block of a bug report
  crossprobe repro snippet.yaml --go 1.21..1.26    the latest patch of each minor
  crossprobe repro snippet.yaml --go 1.21..1.26 --bisect";

/// `crossprobe --help` after the commands: the examples, the exit codes
/// from their one table ([`exit::help`]), the book.
fn main_help() -> String {
    format!(
        "{EXAMPLES}\n\n{}\n\nThe book: {}",
        exit::help(false),
        env!("CARGO_PKG_HOMEPAGE")
    )
}

/// `crossprobe repro --help` after the options.
fn repro_help() -> String {
    format!("{REPRO_HELP}\n\n{}", exit::help(true))
}

#[derive(Parser)]
#[command(name = "crossprobe", version, about = "A declarative test-matrix harness for Go and C cross-compilation", after_help = main_help())]
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
        /// Matrix files (default: ./crossprobe.yaml, as `crossprobe init` writes it).
        #[arg(value_name = "MATRIX")]
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
        /// Finish what a killed run into the same reports directory left:
        /// keep the cells its journal holds whose inputs are unchanged, and
        /// run the rest.
        #[arg(long)]
        resume: bool,
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
        /// Matrix files; shards split them together, as `run` does
        /// (default: ./crossprobe.yaml).
        #[arg(value_name = "MATRIX")]
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
    #[command(after_help = repro_help())]
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
        /// Let the snippet name programs to run at build time (a compiler
        /// command, CC=, -toolexec, -extld, ...), which still run sandboxed;
        /// and, as root, run its windows cells (wine's jail runs as root;
        /// without it they are built, not run).
        #[arg(long)]
        trust: bool,
        /// A missing tool makes its cells skips, not failures, and a snippet
        /// that ran nothing exits 0, not 4 (also: `allow_missing: true`).
        #[arg(long)]
        allow_missing: bool,
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
    /// Write a commented crossprobe.yaml for the Go module here: its
    /// commands as `package:` probes, its tests, the common targets.
    Init(init::InitArgs),
    /// Run one binary of any target under the runner crossprobe would give it
    /// (for `go test -exec`), or install go_GOOS_GOARCH_exec wrappers.
    Exec(exec::ExecArgs),
    /// Print a shell's completion script: `crossprobe completions bash > ~/.local/share/bash-completion/completions/crossprobe`.
    Completions(docs::CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    Man(docs::ManArgs),
    /// Print the JSON Schema of crossprobe.yaml (for editors and check-jsonschema).
    Schema,
}

/// The command line's definition, for the generators (completions, man
/// page, the book's reference).
pub fn command() -> clap::Command {
    Cli::command()
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
            resume,
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
                resume,
            };
            match default_matrix(matrices) {
                Ok(matrices) => cmd_run(&matrices, jobs, &out, flags, runner, &m, &sh),
                Err(e) => Err(e.into()),
            }
        }
        Cmd::Plan {
            matrices,
            json,
            m,
            sh,
        } => match default_matrix(matrices) {
            Ok(matrices) => cmd_plan(&matrices, json, &m, &sh),
            Err(e) => Err(e.into()),
        },
        Cmd::Repro {
            snippet,
            go,
            bisect,
            jobs,
            out,
            keep,
            no_sandbox,
            trust,
            allow_missing,
            m,
        } => crate::repro::run(&crate::repro::Options {
            snippet: &snippet,
            go: go.as_deref(),
            bisect,
            out: &out,
            jobs: crate::session::jobs(jobs),
            keep,
            no_sandbox,
            trust,
            allow_missing,
            templates: m.templates.as_deref(),
            filter: m.filter.as_deref(),
            max_cells: m.max_cells,
            strict: m.strict,
        }),
        Cmd::ListProbes { templates } => probes::list_probes(templates.as_deref()),
        Cmd::Inspect { binaries, json } => probes::inspect_binaries(&binaries, json),
        Cmd::Report(c) => reports::main(c),
        Cmd::Ci(c) => workflow::main(c),
        Cmd::Doctor(a) => doctor::main(a),
        Cmd::Cache { cmd } => cache::main(cmd),
        Cmd::Init(a) => init::main(a),
        Cmd::Exec(a) => exec::main(a),
        Cmd::Completions(a) => docs::completions(a),
        Cmd::Man(a) => docs::man(a),
        Cmd::Schema => docs::schema(),
    };
    match r {
        Ok(code) => code,
        Err(report) => {
            crate::errors::eprint(&report);
            Error::exit_code_of(&report)
        }
    }
}

/// `crossprobe run` and `plan` with no matrix read `./crossprobe.yaml`, the
/// file `crossprobe init` writes.
fn default_matrix(given: Vec<PathBuf>) -> Result<Vec<PathBuf>, Error> {
    if !given.is_empty() {
        return Ok(given);
    }
    let here = PathBuf::from("crossprobe.yaml");
    if here.is_file() {
        return Ok(vec![here]);
    }
    Err(Error::NoMatrix)
}

fn prepare(paths: &[PathBuf], m: &MatrixArgs) -> miette::Result<Prepared> {
    let mut matrices = Vec::new();
    for p in paths {
        matrices.push(load::load_file(p, m.templates.as_deref())?);
    }
    session::prepare(
        matrices,
        &session::Options {
            filter: m.filter.as_deref(),
            max_cells: m.max_cells,
            strict: m.strict,
        },
    )
}

/// `run`'s switches.
struct RunFlags {
    keep: bool,
    no_cache: bool,
    allow_missing: bool,
    no_sandbox: bool,
    resume: bool,
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
        resume,
    }: RunFlags,
    runner: Option<String>,
    m: &MatrixArgs,
    sh: &shards::RunFleetArgs,
) -> miette::Result<i32> {
    let started_at = report::now_rfc3339();
    let t0 = Instant::now();
    let runner = session::runner_name(runner);
    let mut prepared = prepare(paths, m)?;
    let (cells, shard, cost) = sh
        .shard
        .select(std::mem::take(&mut prepared.cells), &runner)?;
    let sandbox = crate::run::Sandbox::for_run(no_sandbox);
    // The last run's durations order this one; a missing or unreadable
    // file only means guesses.
    let mut history = History::default();
    for mx in &prepared.matrices {
        if let Ok(last) = report::read_results(&out.join(&mx.name).join("results.json")) {
            history.extend(History::from_results(&last.cells));
        }
    }
    for w in &prepared.warnings {
        eprintln!("warning: {}", escape::Line(w));
    }
    let mut sink = report::sink::Sink::open(
        out,
        prepared.matrices.iter().map(|m| m.name.as_str()),
        resume,
    )?;
    let config = RunConfig::builder()
        .started(started_at, t0)
        .jobs(jobs)
        .keep_builds(keep)
        .result_cache(!no_cache)
        .retries(sh.retries)
        .sandbox(sandbox)
        .allow_any_missing(allow_missing)
        .resume(resume.then(|| sink.resumable()))
        .history(history)
        .runner(runner)
        .shard(shard, cost)
        .build();
    let s = Session::new(prepared, config);
    session::install_interrupts()?;
    let mut progress = Progress::new(cells.len());
    let ran = s.run(cells, &mut [&mut progress, &mut Summary, &mut sink]);
    if let Some(why) = &ran.nothing_ran {
        eprintln!(
            "error: {}\n  help: install what the cells need (crossprobe doctor --fix), \
             or pass --allow-missing if a run that runs nothing is what you want",
            escape::Line(why)
        );
    }
    Ok(ran.exit_code)
}

fn cmd_plan(
    paths: &[PathBuf],
    json: bool,
    m: &MatrixArgs,
    sh: &shards::ShardArgs,
) -> miette::Result<i32> {
    let mut prep = prepare(paths, m)?;
    let (cells, shard, cost) =
        sh.select(std::mem::take(&mut prep.cells), &session::runner_name(None))?;
    prep.cells = cells;
    for w in &prep.warnings {
        eprintln!("warning: {}", escape::Line(w));
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
        eprint!("{}", escape::text(&shards::describe(&cost)));
    }
    let w = prep
        .cells
        .iter()
        .map(|c| escape::line(&c.id).chars().count())
        .max()
        .unwrap_or(0);
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
        println!(
            "{:<w$}  {}",
            escape::Line(&c.id),
            escape::Line(&format!("{runner}{expect}"))
        );
    }
    eprintln!("{} cells", prep.cells.len());
    Ok(exit::OK)
}
