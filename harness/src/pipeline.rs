//! The pipeline: takes expanded cells through render → build → inspect →
//! run → check on a pool of workers, and hands each [`CellResult`] to the
//! caller as it finishes. Phases decide; this module only sequences them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::check::{self, Observed};
use crate::host::{Host, Tools};
use crate::model::{
    Attempt, Cell, CellResult, Command, Outcome, Phase, PhaseName, Runner, Verdict,
};
use crate::render::catalog::Probe;
use crate::toolchain::go::GoToolchain;
use crate::{build, inspect, process, render, run};

/// Bytes of each stream kept per command in results (head and tail).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Everything a cell needs that is shared by the run: read once.
pub struct Context {
    pub gos: BTreeMap<String, GoToolchain>,
    pub host: Host,
    pub tools: Tools,
    /// Probe by `matrix/name`.
    pub probes: BTreeMap<String, Probe>,
    /// Per-phase timeout by matrix name.
    pub timeouts: BTreeMap<String, Duration>,
    pub keep: bool,
    /// Tries after a first that did not meet its expectation (`--retries`).
    pub retries: u32,
}

/// Set when the run must start no more cells although nobody interrupted
/// it: the disk filled up. Cells already running finish.
static STOP: AtomicBool = AtomicBool::new(false);

/// Starts no more cells; those not started come back `Interrupted`.
pub fn stop() {
    STOP.store(true, Ordering::SeqCst);
}

pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// A cell's failure that says the disk is full: how a `go build` or the
/// creation of a cell's directory reports it.
pub fn disk_full(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("no space left on device") || r.contains("disk quota exceeded")
}

/// What the pipeline tells its caller, in order per cell.
pub enum Event {
    Started(String),
    Finished(Box<CellResult>),
}

/// Runs `cells` on `jobs` workers. `on_event` runs on the calling thread.
/// Cells not started because of an interrupt come back as `Interrupted`.
pub fn run_all(
    cells: Vec<Cell>,
    ctx: &Context,
    jobs: usize,
    mut on_event: impl FnMut(Event),
) -> Vec<CellResult> {
    let total = cells.len();
    let next = AtomicUsize::new(0);
    let cells_ref = &cells;
    let mut done: Vec<Option<CellResult>> = vec![None; total];
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<(usize, Event)>();
        for _ in 0..jobs.max(1).min(total.max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || loop {
                if process::interrupt::requested().is_some() || stopped() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(cell) = cells_ref.get(i) else { break };
                let _ = tx.send((i, Event::Started(cell.id.clone())));
                let result = run_tries(cell, ctx);
                // Every later cell would fail the same way; stopping here,
                // not when the caller hears of it, starts no further one.
                if result.reason.as_deref().is_some_and(disk_full) {
                    stop();
                }
                let _ = tx.send((i, Event::Finished(Box::new(result))));
            });
        }
        drop(tx);
        for (i, ev) in rx {
            if let Event::Finished(r) = &ev {
                done[i] = Some((**r).clone());
            }
            on_event(ev);
        }
    });
    // Once, at the end: `wineserver -k` between cells would kill another
    // cell's wine process, since they share a prefix.
    let _ = run::cool_down(&ctx.tools);
    done.into_iter()
        .zip(cells)
        .map(|(r, cell)| r.unwrap_or_else(|| interrupted(cell)))
        .collect()
}

/// The result of a cell that never started.
pub fn interrupted(cell: Cell) -> CellResult {
    CellResult {
        cell,
        outcome: Outcome::Interrupted,
        reason: Some("interrupted before it started".into()),
        verdict: Verdict {
            met: false,
            message: "interrupted before it started".into(),
        },
        facts: BTreeMap::new(),
        phases: Vec::new(),
        duration_ms: 0,
        dir: None,
        attempts: Vec::new(),
        ran_on: None,
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// A cell, tried again while it does not meet its expectation, up to
/// `ctx.retries` more times; the tries before the last are kept in
/// `attempts`, so one that passes on a retry shows as flaky, not as a pass.
fn run_tries(cell: &Cell, ctx: &Context) -> CellResult {
    let mut result = run_cell(cell, ctx);
    let mut earlier = Vec::new();
    while !result.verdict.met
        && result.outcome != Outcome::Interrupted
        && earlier.len() < ctx.retries as usize
        && process::interrupt::requested().is_none()
    {
        earlier.push(Attempt {
            outcome: result.outcome,
            reason: result.reason,
            verdict: result.verdict,
            phases: result.phases,
            duration_ms: result.duration_ms,
            dir: result.dir,
        });
        result = run_cell(cell, ctx);
    }
    result.attempts = earlier;
    result
}

/// One cell through every phase.
fn run_cell(cell: &Cell, ctx: &Context) -> CellResult {
    let t0 = Instant::now();
    let mut phases = Vec::new();
    let mut obs_build: Option<Command> = None;
    let mut obs_run: Option<Command> = None;
    let mut spawn_error = None;
    let mut skip = None;
    let mut facts = BTreeMap::new();
    let timeout = ctx
        .timeouts
        .get(&cell.matrix)
        .copied()
        .unwrap_or(crate::load::DEFAULT_TIMEOUT);

    let go = &ctx.gos[&cell.go];
    if let Some(why) = &go.unavailable {
        // Never a silent fallback to another Go: the cell says why it
        // could not be built with the one it asked for.
        let obs = Observed {
            skip: Some(format!("{}: {why}", go.version)),
            ..Observed::default()
        };
        return finish(cell, t0, phases, &obs, facts, None);
    }

    let dir = match tempfile::Builder::new()
        .prefix(&format!("crossprobe-{}-", cell.slug))
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            spawn_error = Some((
                Outcome::BuildFail,
                format!("cannot create a build directory: {e}"),
            ));
            return finish(
                cell,
                t0,
                phases,
                &Observed {
                    spawn_error,
                    ..Observed::default()
                },
                facts,
                None,
            );
        }
    };
    let path = dir.path().to_path_buf();

    // render
    let tr = Instant::now();
    let probe = &ctx.probes[&format!("{}/{}", cell.matrix, cell.probe)];
    if let Err(e) = render::render(cell, probe, &path, &render::go_minor(&go.version)) {
        spawn_error = Some((Outcome::BuildFail, e));
    }
    phases.push(Phase {
        name: PhaseName::Render,
        duration_ms: ms(tr.elapsed()),
        commands: vec![],
    });

    // build
    let plan = build::go_plan(cell, go, &path);
    if spawn_error.is_none() {
        let tb = Instant::now();
        let spec = process::Spec {
            argv: plan.argv.clone(),
            env: plan.env.clone(),
            env_remove: plan.env_remove.clone(),
            cwd: Some(path.clone()),
            timeout,
            log_dir: path.clone(),
            log_name: "build".into(),
            cap: OUTPUT_CAP,
        };
        match process::run(&spec) {
            Ok(c) => obs_build = Some(c),
            Err(e) => {
                spawn_error = Some((
                    Outcome::BuildFail,
                    format!("cannot run {}: {e}", plan.argv[0]),
                ))
            }
        }
        phases.push(Phase {
            name: PhaseName::Build,
            duration_ms: ms(tb.elapsed()),
            commands: obs_build.iter().cloned().collect(),
        });
    }
    let built = obs_build.as_ref().is_some_and(|b| b.exit.success()) && plan.output.is_file();

    // inspect
    if built {
        let ti = Instant::now();
        match inspect::inspect_file(&plan.output) {
            Ok(insp) => facts.extend(insp.facts),
            Err(e) => {
                facts.insert(
                    "inspect.error".into(),
                    serde_json::Value::String(e.to_string()),
                );
            }
        }
        phases.push(Phase {
            name: PhaseName::Inspect,
            duration_ms: ms(ti.elapsed()),
            commands: vec![],
        });
    }

    // run
    if built && process::interrupt::requested().is_none() {
        let tr = Instant::now();
        match &cell.runner {
            Runner::None { reason } => skip = Some(reason.clone()),
            runner => match run::warm_up(runner, &ctx.tools)
                .and_then(|()| run::invocation(runner, &plan.output, &[], &tools_for(go, ctx)))
            {
                Err(why) => skip = Some(why),
                Ok(inv) => {
                    let mut ok = true;
                    for (from, to) in &inv.prepare {
                        if let Err(e) = std::fs::copy(from, to) {
                            spawn_error = Some((
                                Outcome::RunFail,
                                format!("cannot copy {} for the runner: {e}", from.display()),
                            ));
                            ok = false;
                        }
                    }
                    if ok {
                        // The cell's env axes reach the probe too: GODEBUG
                        // and friends are read at run time.
                        let mut env = cell.env.clone();
                        env.extend(inv.env.clone());
                        let spec = process::Spec {
                            argv: inv.argv.clone(),
                            env,
                            env_remove: Vec::new(),
                            cwd: Some(inv.cwd.clone()),
                            timeout,
                            log_dir: path.clone(),
                            log_name: "run".into(),
                            cap: OUTPUT_CAP,
                        };
                        match process::run(&spec) {
                            Ok(c) => obs_run = Some(c),
                            Err(e) => {
                                spawn_error = Some((
                                    Outcome::RunFail,
                                    format!("cannot run {}: {e}", inv.argv[0]),
                                ))
                            }
                        }
                    }
                }
            },
        }
        phases.push(Phase {
            name: PhaseName::Run,
            duration_ms: ms(tr.elapsed()),
            commands: obs_run.iter().cloned().collect(),
        });
    }

    let obs = Observed {
        build: obs_build.as_ref(),
        spawn_error,
        run: obs_run.as_ref(),
        skip,
        interrupted: process::interrupt::requested().is_some(),
    };
    let mut result = finish(cell, t0, phases, &obs, facts, None);
    if ctx.keep || !result.verdict.met {
        let kept: PathBuf = dir.keep();
        result.dir = Some(kept.display().to_string());
    }
    result
}

/// The run's tools, with the wasm_exec_node.js of the Go that built the
/// cell: it must match the binary's syscall/js imports, which change between
/// releases. Toolchains downloaded through GOTOOLCHAIN leave out misc/, so
/// before Go 1.24 (when the file moved to lib/wasm) they have none; those
/// cells keep the local Go's, which ran go1.21.13 and go1.22.12 binaries here.
fn tools_for<'a>(go: &GoToolchain, ctx: &'a Context) -> std::borrow::Cow<'a, Tools> {
    match crate::host::wasm_exec_node(&go.goroot) {
        Some(p) if ctx.tools.wasm_exec_node.as_ref() != Some(&p) => {
            std::borrow::Cow::Owned(Tools {
                wasm_exec_node: Some(p),
                ..ctx.tools.clone()
            })
        }
        _ => std::borrow::Cow::Borrowed(&ctx.tools),
    }
}

fn finish(
    cell: &Cell,
    t0: Instant,
    mut phases: Vec<Phase>,
    obs: &Observed,
    mut facts: BTreeMap<String, serde_json::Value>,
    dir: Option<&Path>,
) -> CellResult {
    let tc = Instant::now();
    let checked = check::check(cell, obs, &facts);
    facts.extend(checked.facts);
    phases.push(Phase {
        name: PhaseName::Check,
        duration_ms: ms(tc.elapsed()),
        commands: vec![],
    });
    CellResult {
        cell: cell.clone(),
        outcome: checked.outcome,
        reason: checked.reason,
        verdict: checked.verdict,
        facts,
        phases,
        duration_ms: ms(t0.elapsed()),
        dir: dir.map(|d| d.display().to_string()),
        attempts: Vec::new(),
        ran_on: None,
    }
}
