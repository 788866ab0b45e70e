//! One run of the engine, whatever front end asked for it (`run`, `repro`,
//! `repro --bisect`), through one door:
//!
//! 1. [`prepare`] resolves the Go versions, expands the matrices and reads
//!    the host and its tools; bad input stops here;
//! 2. the front end chooses the cells (a shard of them) and says how the
//!    run goes in a [`RunConfig`], fixed once built;
//! 3. [`Session::run`] takes the cells through the preflight and the
//!    pipeline, tells the observers (the result cache's writer, then the
//!    front end's: progress, journal, reports, summary, verdicts) what
//!    happens, assembles each matrix's `Results`, and maps them to an
//!    exit code.
//!
//! Front ends parse arguments, choose observers and print; the engine is
//! here, once.

mod config;
mod prepare;

use std::collections::BTreeMap;

pub use config::{RunConfig, RunConfigBuilder};
pub use prepare::{prepare, Options, Prepared};

use crate::errors::Error;
use crate::load::Matrix;
use crate::model::{self, exit, Cell, CellResult, Outcome, Probe, Results, SCHEMA_VERSION};
use crate::pipeline::{self, preflight, Context, Event};
use crate::process::{self, interrupt::Cancel};
use crate::report::observe::{Began, Observer};
use crate::toolchain::go::GoToolchain;
use crate::{cache, run};

/// Prepared matrices and how to run them: the engine's one door.
pub struct Session {
    matrices: Vec<Matrix>,
    ctx: Context,
    config: RunConfig,
}

/// What a run came to.
pub struct Ran {
    /// Each matrix's results, in the order the matrices were given.
    pub results: Vec<Results>,
    /// Every cell's result, the preflight's skips last.
    pub cells: Vec<CellResult>,
    /// The run's exit code ([`exit_code`]; [`exit::NOTHING_RAN`] when
    /// `nothing_ran`).
    pub exit_code: i32,
    /// Why the run fails as one in which nothing ran, though no cell
    /// failed ([`model::nothing_ran`]): the front end says it, with its
    /// own hint. Never when any tool may be missing (`--allow-missing`, or
    /// every matrix's `run.allow_missing: true`).
    pub nothing_ran: Option<String>,
}

impl Session {
    /// The session of `prepared`'s matrices, run as `config` says. The
    /// pipeline's context is made here, once, and nothing changes it.
    pub fn new(prepared: Prepared, config: RunConfig) -> Session {
        let mut shared = prepared.shared;
        if config.allow_any_missing {
            for allowed in shared.allow_missing.values_mut() {
                *allowed = None;
            }
        }
        let resumed = config
            .resume
            .iter()
            .flatten()
            .filter_map(|r| Some((r.key.clone()?, r.clone())))
            .collect();
        let (readable, writable) = match shared.tools.wine.is_some() && config.sandbox.enabled() {
            true => wine_dirs(&shared.gos, &shared.probes, config.keep_builds),
            false => Default::default(),
        };
        let wine_users = run::WineUsers::jailed(&config.sandbox, readable, writable);
        let ctx = Context {
            gos: shared.gos,
            host: shared.host,
            tools: shared.tools,
            compilers: shared.compilers,
            probes: shared.probes,
            timeouts: shared.timeouts,
            memory: shared.memory,
            processes: shared.processes,
            pass_env: shared.pass_env,
            trusted_gocache: config.trusted_gocache.clone(),
            run_as: (config.snippet && config.sandbox.enabled())
                .then(crate::process::user::RunAs::for_strangers)
                .flatten(),
            sandbox: config.sandbox.clone(),
            unsandboxed: shared.unsandboxed,
            resumed,
            allow_missing: shared.allow_missing,
            keep: config.keep_builds,
            retries: config.retries,
            cache: config.result_cache,
            history: config.history.clone(),
            cancel: Cancel::default(),
            wine_users,
            wine_unjailed: run::WineUsers::default(),
        };
        Session {
            matrices: prepared.matrices,
            ctx,
            config,
        }
    }

    /// Runs `cells` (the prepared ones, or a shard of them): the preflight
    /// first, whose skips the observers see finish before anything is
    /// built, then the pipeline. Cells not started because of an interrupt
    /// come back as `Interrupted`. Each matrix's results are assembled
    /// here, and every observer hears of each in turn.
    pub fn run(&self, cells: Vec<Cell>, observers: &mut [&mut dyn Observer]) -> Ran {
        let host = self.host();
        let began = Began {
            started_at: &self.config.started_at,
            host: &host,
            cells: &cells,
        };
        for o in observers.iter_mut() {
            o.began(&began);
        }
        let (cells, skipped, cc_hints) = preflight::split(cells, &self.ctx);
        // Made before any build: the wine jail starts at the first windows
        // cell's run, and shows its server this directory only if it exists.
        if cells
            .iter()
            .any(|c| matches!(c.runner, model::Runner::Wine { .. }))
        {
            let _ = pipeline::temp_builds();
        }
        for r in &skipped {
            for o in observers.iter_mut() {
                o.finished(r);
            }
        }
        if disk_full(observers).is_some() {
            self.ctx.cancel.stop();
        }
        let mut cache = CacheWriter(self.ctx.cache.then(cache::Store::open));
        let mut filled: Option<String> = None;
        let on_event = |ev: Event| match ev {
            Event::Started(id) => observers.iter_mut().for_each(|o| o.started(&id)),
            Event::Cacheable(entry) => {
                cache.cacheable(&entry);
                observers.iter_mut().for_each(|o| o.cacheable(&entry));
            }
            Event::Finished(r) => {
                observers.iter_mut().for_each(|o| o.finished(&r));
                if disk_full(observers).is_some() {
                    self.ctx.cancel.stop();
                }
            }
            Event::DiskFull(what) => {
                filled.get_or_insert(what);
            }
        };
        let mut results =
            pipeline::run_all(cells, &self.ctx, &cc_hints, self.config.jobs, on_event);
        results.extend(skipped);
        for o in observers.iter_mut() {
            o.all_finished(&results);
        }
        // The pipeline's word (a failed cell's filesystem is full) or an
        // observer's (a journal that could not be written).
        let full = filled.or_else(|| disk_full(observers));
        if full.is_some() {
            explain_not_started(&mut results);
        }
        if self.config.resume.is_some() {
            let kept = results
                .iter()
                .filter(|r| {
                    r.key
                        .as_ref()
                        .and_then(|k| self.ctx.resumed.get(k))
                        .is_some_and(|old| old == *r)
                })
                .count();
            eprintln!("resumed {kept} cells from the journal; ran the rest");
        }
        let mut io_failed = false;
        let per_matrix = self.assemble(&results);
        for res in &per_matrix {
            for o in observers.iter_mut() {
                if let Err(e) = o.matrix(res) {
                    crate::errors::eprint(&miette::Report::new(e));
                    io_failed = true;
                }
            }
        }
        let full = full.or_else(|| disk_full(observers));
        if let Some(what) = &full {
            eprintln!(
                "error: the disk filled up during the run ({what}); cells after it were not started"
            );
        }
        let mut code = exit_code(&self.ctx.cancel, &results, io_failed || full.is_some());
        // --allow-missing has made every matrix's value None (any tool).
        let allowed = self.ctx.allow_missing.values().all(Option::is_none);
        let nothing_ran = (code == exit::OK && !allowed)
            .then(|| model::nothing_ran(&results, self.config.snippet))
            .flatten();
        if nothing_ran.is_some() {
            code = exit::NOTHING_RAN;
        }
        Ran {
            results: per_matrix,
            exit_code: code,
            nothing_ran,
            cells: results,
        }
    }

    /// Each matrix's `Results` of `all`: the one place results are
    /// assembled. A bisection, which runs one session per Go release it
    /// tries, assembles every release's cells through its last session.
    pub fn assemble(&self, all: &[CellResult]) -> Vec<Results> {
        let c = &self.config;
        let tools = self.tool_versions();
        let perf = crate::perf::measure(all);
        let duration_ms = c.t0.elapsed().as_millis() as u64;
        let host = self.host();
        self.matrices
            .iter()
            .map(|mx| {
                let cells: Vec<CellResult> = all
                    .iter()
                    .filter(|r| r.cell.matrix == mx.name)
                    .cloned()
                    .collect();
                let (env_dropped, env_passed) =
                    crate::process::env::names(&prepare::pass_names(mx));
                Results {
                    schema: SCHEMA_VERSION,
                    crossprobe_version: env!("CARGO_PKG_VERSION").to_string(),
                    matrices: vec![mx.name.clone()],
                    started_at: c.started_at.clone(),
                    duration_ms,
                    host: host.clone(),
                    tools: tools.clone(),
                    // The run stopped before its end: a signal, or the
                    // engine gave up (a full disk).
                    interrupted: self.ctx.cancel.stopped(),
                    estimate: c
                        .cost
                        .as_ref()
                        .map(|cost| crate::expand::shard::settle(cost, &cells)),
                    cells,
                    perf: Some(perf.clone()),
                    shard: c.shard.clone(),
                    merged_from: Vec::new(),
                    env_dropped,
                    env_passed,
                }
            })
            .collect()
    }

    /// The host, with this runner's name.
    fn host(&self) -> model::Host {
        model::Host {
            runner: self.config.runner.clone(),
            ..self.ctx.host.clone()
        }
    }

    /// Each tool's version, as results record them: the runners', the C
    /// compilers', and each Go's (`go` for the local one, `go@REQUEST`).
    pub fn tool_versions(&self) -> BTreeMap<String, String> {
        let ctx = &self.ctx;
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

    /// The Go toolchains, by the name the matrices give them.
    pub fn gos(&self) -> &BTreeMap<String, GoToolchain> {
        &self.ctx.gos
    }

    /// The probe a cell runs.
    pub fn probe(&self, cell: &Cell) -> Option<&Probe> {
        self.ctx
            .probes
            .get(&format!("{}/{}", cell.matrix, cell.probe))
    }

    pub fn config(&self) -> &RunConfig {
        &self.config
    }
}

/// The result cache's writer, the first observer of every run: the
/// pipeline says what may be kept. A cache that cannot be written costs
/// the next run time, not this run its result.
struct CacheWriter(Option<cache::Store>);

impl Observer for CacheWriter {
    fn cacheable(&mut self, entry: &cache::Entry) {
        if let Some(store) = &self.0 {
            let _ = store.put(entry);
        }
    }
}

/// What showed the disk to be full, if an observer saw it fill up.
fn disk_full(observers: &[&mut dyn Observer]) -> Option<String> {
    observers
        .iter()
        .find_map(|o| o.disk_full().map(str::to_string))
}

/// Cells the pipeline never started because the disk filled up say so,
/// instead of claiming an interrupt.
fn explain_not_started(results: &mut [CellResult]) {
    for r in results
        .iter_mut()
        .filter(|r| r.outcome == Outcome::Interrupted && r.phases.is_empty())
    {
        let why = "not started: the disk filled up during the run".to_string();
        r.reason = Some(why.clone());
        r.verdict.message = why;
    }
}

/// Catches SIGINT and SIGTERM, so that an interrupted run still writes
/// what finished.
pub fn install_interrupts() -> Result<(), Error> {
    process::interrupt::install().map_err(|error| Error::Signals { error })
}

/// The exit status of a run: the signal that stopped it, else an I/O
/// failure writing reports, else whether every cell met its expectation.
pub fn exit_code(cancel: &Cancel, all: &[CellResult], io_failed: bool) -> i32 {
    match cancel.signal() {
        Some(libc::SIGTERM) => exit::SIGTERM,
        Some(_) => exit::SIGINT,
        None if io_failed => exit::IO,
        None if all.iter().all(|r| r.standing().ok()) => exit::OK,
        None => exit::UNMET,
    }
}

/// The number of cells to build and run at once: `--jobs`, else the
/// machine's cores.
pub fn jobs(flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

/// `--runner`, else $CROSSPROBE_RUNNER, else the host's name.
pub fn runner_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("CROSSPROBE_RUNNER").ok())
        .unwrap_or_else(host_name)
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "local".into())
}

/// What the run's wine jail shows its server: writable, the build
/// directories (a probe's binary and its run directory: this process's
/// temporary ones, and the cache's unless the run keeps its builds, as
/// repro does), since the server does its clients' file work: a windows
/// test's coverage counters are written by it, into the cell's run
/// directory; read-only, every module probe's root and what it reads
/// outside it, and each Go's GOROOT and module cache (a test reads
/// GOROOT's zoneinfo, a module's testdata).
fn wine_dirs(
    gos: &BTreeMap<String, GoToolchain>,
    probes: &BTreeMap<String, Probe>,
    keep: bool,
) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let mut writable = vec![pipeline::temp_builds_dir()];
    // A run that keeps its builds (repro) builds in temporary directories
    // only: its windows probes see no other run's.
    if !keep {
        writable.push(crate::host::cache_dir().join("builds"));
    }
    let mut dirs = Vec::new();
    for m in probes.values().filter_map(Probe::module) {
        dirs.push(m.root.clone());
        dirs.extend(m.outside.iter().cloned());
    }
    for go in gos.values() {
        dirs.extend([go.goroot.clone(), go.gomodcache.clone()]);
    }
    dirs.sort();
    dirs.dedup();
    (dirs, writable)
}
