//! The pipeline: takes expanded cells through render → build → inspect →
//! run → check, and hands each [`CellResult`] to the caller as it finishes.
//! Phases decide; this module only sequences them:
//!
//! 1. every cell's sources are rendered in memory and keyed ([`cache`]); a
//!    cell the result cache knows is finished at once;
//! 2. the others are grouped by build plan: cells that differ only in how
//!    they run (runner, qemu `-cpu`) share one build;
//! 3. [`schedule`] orders the builds and the runs that follow them.
//!
//! A build happens in `<cache dir>/builds/<slug>-<key>/`, the same directory
//! each time its plan comes back, so that `go build` finds its own output up
//! to date and does not link again (Go embeds the directory in the binary,
//! so a fresh one would always relink). `--keep`, or that directory being
//! in use by another crossprobe, gives a fresh temporary one instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::cache::{self, Entry, Identity, Keys};
use crate::check::{self, Observed};
use crate::host::{Host, Tools};
use crate::model::{Cell, CellResult, Command, Outcome, Phase, PhaseName, Runner, Verdict};
use crate::render::catalog::Probe;
use crate::run::runners::lock;
use crate::schedule::{self, History, Job, Limits};
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
    /// Reuse and record results in the result cache (off with --no-cache).
    pub cache: bool,
    /// How long each cell took last time: the schedule's estimates.
    pub history: History,
}

/// What the pipeline tells its caller, in order per cell.
pub enum Event {
    Started(String),
    Finished(Box<CellResult>),
}

/// Where a build happens, until its last cell has run.
enum BuildDir {
    /// `<cache>/builds/...`, locked against other crossprobes.
    Shared(PathBuf, #[allow(dead_code)] lock::Exclusive),
    Temp(tempfile::TempDir),
}

/// Cells that share one build.
struct Group {
    build_key: String,
    family: String,
    sources: Vec<(String, String)>,
    /// Index into the run's cells, and the cell's result key.
    cells: Vec<(usize, String)>,
    built: OnceLock<Built>,
    dir: Mutex<Option<BuildDir>>,
    /// Cells not finished yet; the directory is let go at zero.
    remaining: AtomicUsize,
    unmet: AtomicBool,
}

/// What the build of a group left for its runs.
struct Built {
    path: PathBuf,
    /// Whether `path` outlives the run whatever happens (the shared one).
    lasting: bool,
    output: PathBuf,
    phases: Vec<Phase>,
    command: Option<Command>,
    spawn_error: Option<(Outcome, String)>,
    inspected: BTreeMap<String, serde_json::Value>,
}

/// Runs `cells` with `jobs` builds and `jobs` runs at once. `on_event`
/// runs on the calling thread. Cells not started because of an interrupt
/// come back as `Interrupted`.
pub fn run_all(
    cells: Vec<Cell>,
    ctx: &Context,
    jobs: usize,
    mut on_event: impl FnMut(Event),
) -> Vec<CellResult> {
    let mut done: Vec<Option<CellResult>> = vec![None; cells.len()];
    let store = ctx.cache.then(cache::Store::open);
    let identity = Identity::read(ctx);
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        let (sources, keys) = match prepare(cell, ctx, &identity) {
            Ok(p) => p,
            Err(why) => {
                let r = render_failed(cell, why);
                on_event(Event::Started(cell.id.clone()));
                on_event(Event::Finished(Box::new(r.clone())));
                done[i] = Some(r);
                continue;
            }
        };
        if let Some(hit) = store.as_ref().and_then(|s| s.get(&keys.result)) {
            let r = hit.reuse(cell);
            on_event(Event::Started(cell.id.clone()));
            on_event(Event::Finished(Box::new(r.clone())));
            done[i] = Some(r);
            continue;
        }
        let g = *by_key.entry(keys.build.clone()).or_insert_with(|| {
            groups.push(Group {
                build_key: keys.build.clone(),
                family: family(cell),
                sources,
                cells: Vec::new(),
                built: OnceLock::new(),
                dir: Mutex::new(None),
                remaining: AtomicUsize::new(0),
                unmet: AtomicBool::new(false),
            });
            groups.len() - 1
        });
        groups[g].cells.push((i, keys.result));
        groups[g].remaining.fetch_add(1, Ordering::SeqCst);
    }

    let plan: Vec<Job> = groups
        .iter()
        .map(|g| Job {
            family: g.family.clone(),
            build_ms: g
                .cells
                .iter()
                .map(|&(i, _)| ctx.history.build_ms(&cells[i].id))
                .max()
                .unwrap_or(0),
            runs_ms: g
                .cells
                .iter()
                .map(|&(i, _)| ctx.history.run_ms(&cells[i].id, &cells[i].runner))
                .collect(),
        })
        .collect();
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<(usize, Event)>();
        let (cells, groups, plan, store) = (&cells, &groups, &plan, &store);
        s.spawn(move || {
            let stop = || process::interrupt::requested().is_some();
            schedule::execute(
                plan,
                Limits::jobs(jobs),
                &stop,
                |g| {
                    let group = &groups[g];
                    for &(i, _) in &group.cells {
                        let _ = tx.send((i, Event::Started(cells[i].id.clone())));
                    }
                    let built = group.built.get_or_init(|| build_group(group, cells, ctx));
                    let ok = built.command.as_ref().is_some_and(|c| c.exit.success())
                        && built.output.is_file();
                    if !ok {
                        // Nothing to run: every cell of the group is judged
                        // on its build.
                        for n in 0..group.cells.len() {
                            let r = finish_cell(group, n, cells, ctx, store.as_ref(), None);
                            let _ = tx.send((group.cells[n].0, Event::Finished(Box::new(r))));
                        }
                    }
                    ok
                },
                |g, n| {
                    let group = &groups[g];
                    let r = run_cell(group, n, cells, ctx, store.as_ref());
                    let _ = tx.send((group.cells[n].0, Event::Finished(Box::new(r))));
                },
            );
        });
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
        cached: false,
        build_of: None,
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn timeout(cell: &Cell, ctx: &Context) -> Duration {
    ctx.timeouts
        .get(&cell.matrix)
        .copied()
        .unwrap_or(crate::load::DEFAULT_TIMEOUT)
}

/// Where every build plan's key is computed: the plan as if built in this
/// directory, so that the key does not depend on the real one.
const KEY_DIR: &str = "/crossprobe/build";

/// A cell's rendered sources and keys.
fn prepare(
    cell: &Cell,
    ctx: &Context,
    identity: &Identity,
) -> Result<(Vec<(String, String)>, Keys), String> {
    let go = &ctx.gos[&cell.go];
    let probe = &ctx.probes[&format!("{}/{}", cell.matrix, cell.probe)];
    let sources = render::sources(cell, probe, &render::go_minor(&go.version))?;
    let plan = build::go_plan(cell, go, Path::new(KEY_DIR));
    let keys = cache::keys(identity, cell, &sources, &plan, timeout(cell, ctx));
    Ok((sources, keys))
}

/// Builds that compile the same standard library: everything that reaches
/// the compiler but the probe and the ldflags.
fn family(cell: &Cell) -> String {
    let env: Vec<String> = cell.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    [
        cell.go.as_str(),
        &cell.target(),
        &cell.cgo,
        &cell.tags,
        &cell.flags,
        &env.join(" "),
    ]
    .join("|")
}

fn render_failed(cell: &Cell, why: String) -> CellResult {
    let obs = Observed {
        spawn_error: Some((Outcome::BuildFail, why)),
        ..Observed::default()
    };
    let render = Phase {
        name: PhaseName::Render,
        duration_ms: 0,
        commands: vec![],
    };
    judge(cell, vec![render], &obs, BTreeMap::new())
}

/// The directory a group builds in: its own under the cache, unless
/// `--keep` asks for a fresh one or another crossprobe holds it.
fn build_dir(group: &Group, first: &Cell, keep: bool) -> std::io::Result<BuildDir> {
    let temp = || {
        tempfile::Builder::new()
            .prefix(&format!("crossprobe-{}-", first.slug))
            .tempdir()
            .map(BuildDir::Temp)
    };
    if keep {
        return temp();
    }
    let root = crate::host::cache_dir().join("builds");
    let slug: String = first.slug.chars().take(80).collect();
    let path = root.join(format!("{slug}-{}", &group.build_key[..16]));
    if std::fs::create_dir_all(&path).is_err() {
        return temp();
    }
    match lock::Exclusive::try_acquire(&path.with_extension("lock")) {
        Ok(Some(held)) => Ok(BuildDir::Shared(path, held)),
        _ => temp(),
    }
}

/// Render, build and inspect, once for every cell of `group`.
fn build_group(group: &Group, cells: &[Cell], ctx: &Context) -> Built {
    let first = &cells[group.cells[0].0];
    let go = &ctx.gos[&first.go];
    let mut phases = Vec::new();
    let mut built = Built {
        path: PathBuf::new(),
        lasting: false,
        output: PathBuf::new(),
        phases: Vec::new(),
        command: None,
        spawn_error: None,
        inspected: BTreeMap::new(),
    };
    let dir = match build_dir(group, first, ctx.keep) {
        Ok(d) => d,
        Err(e) => {
            built.spawn_error = Some((
                Outcome::BuildFail,
                format!("cannot create a build directory: {e}"),
            ));
            return built;
        }
    };
    (built.path, built.lasting) = match &dir {
        BuildDir::Shared(p, _) => (p.clone(), true),
        BuildDir::Temp(t) => (t.path().to_path_buf(), false),
    };
    *group.dir.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
    let path = built.path.clone();

    let tr = Instant::now();
    if let Err(e) = render::write(&group.sources, &path) {
        built.spawn_error = Some((Outcome::BuildFail, e));
    }
    phases.push(Phase {
        name: PhaseName::Render,
        duration_ms: ms(tr.elapsed()),
        commands: vec![],
    });

    let plan = build::go_plan(first, go, &path);
    built.output = plan.output.clone();
    if built.spawn_error.is_none() {
        let tb = Instant::now();
        let spec = process::Spec {
            argv: plan.argv.clone(),
            env: plan.env.clone(),
            env_remove: plan.env_remove.clone(),
            cwd: Some(path.clone()),
            timeout: timeout(first, ctx),
            log_dir: path.clone(),
            log_name: "build".into(),
            cap: OUTPUT_CAP,
        };
        match process::run(&spec) {
            Ok(c) => built.command = Some(c),
            Err(e) => {
                built.spawn_error = Some((
                    Outcome::BuildFail,
                    format!("cannot run {}: {e}", plan.argv[0]),
                ))
            }
        }
        phases.push(Phase {
            name: PhaseName::Build,
            duration_ms: ms(tb.elapsed()),
            commands: built.command.iter().cloned().collect(),
        });
    }

    let ok = built.command.as_ref().is_some_and(|b| b.exit.success());
    if ok && plan.output.is_file() {
        let ti = Instant::now();
        match inspect::inspect_file(&plan.output) {
            Ok(insp) => built.inspected.extend(insp.facts),
            Err(e) => {
                built.inspected.insert(
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
    built.phases = phases;
    built
}

/// Runs the `n`th cell of a built group, then judges it.
fn run_cell(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    store: Option<&cache::Store>,
) -> CellResult {
    let cell = &cells[group.cells[n].0];
    let built = group.built.get().expect("runs follow their build");
    let mut ran = Ran::default();
    let tr = Instant::now();
    if process::interrupt::requested().is_none() {
        match &cell.runner {
            Runner::None { reason } => ran.skip = Some(reason.clone()),
            runner => match run::warm_up(runner, &ctx.tools)
                .and_then(|()| run::invocation(runner, &built.output, &[], &ctx.tools))
            {
                Err(why) => ran.skip = Some(why),
                Ok(inv) => {
                    // Cells of one group run from one directory: each gets
                    // its own capture files.
                    let log_name = match group.cells.len() {
                        1 => "run".to_string(),
                        _ => format!("run-{}", cell.slug),
                    };
                    invoke(cell, &inv, &built.path, log_name, ctx, &mut ran);
                }
            },
        }
    }
    let run = Phase {
        name: PhaseName::Run,
        duration_ms: ms(tr.elapsed()),
        commands: ran.command.iter().cloned().collect(),
    };
    finish_cell(group, n, cells, ctx, store, Some((run, ran)))
}

/// What the run phase saw.
#[derive(Default)]
struct Ran {
    command: Option<Command>,
    skip: Option<String>,
    spawn_error: Option<(Outcome, String)>,
}

fn invoke(
    cell: &Cell,
    inv: &run::Invocation,
    dir: &Path,
    log_name: String,
    ctx: &Context,
    ran: &mut Ran,
) {
    for (from, to) in &inv.prepare {
        if let Err(e) = std::fs::copy(from, to) {
            ran.spawn_error = Some((
                Outcome::RunFail,
                format!("cannot copy {} for the runner: {e}", from.display()),
            ));
            return;
        }
    }
    // The cell's env axes reach the probe too: GODEBUG and friends are read
    // at run time.
    let mut env = cell.env.clone();
    env.extend(inv.env.clone());
    let spec = process::Spec {
        argv: inv.argv.clone(),
        env,
        env_remove: Vec::new(),
        cwd: Some(inv.cwd.clone()),
        timeout: timeout(cell, ctx),
        log_dir: dir.to_path_buf(),
        log_name,
        cap: OUTPUT_CAP,
    };
    match process::run(&spec) {
        Ok(c) => ran.command = Some(c),
        Err(e) => {
            ran.spawn_error = Some((Outcome::RunFail, format!("cannot run {}: {e}", inv.argv[0])))
        }
    }
}

/// Judges the `n`th cell of a group on its build and, when it ran, its
/// run; records it in the cache; lets the build directory go after the
/// group's last cell.
fn finish_cell(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    store: Option<&cache::Store>,
    run: Option<(Phase, Ran)>,
) -> CellResult {
    let (i, key) = &group.cells[n];
    let cell = &cells[*i];
    let built = group.built.get().expect("cells finish after their build");
    let mut phases = built.phases.clone();
    let (run_phase, ran) = match run {
        Some((p, r)) => (Some(p), r),
        None => (None, Ran::default()),
    };
    phases.extend(run_phase);
    let obs = Observed {
        build: built.command.as_ref(),
        spawn_error: built.spawn_error.clone().or(ran.spawn_error.clone()),
        run: ran.command.as_ref(),
        skip: ran.skip.clone(),
        interrupted: process::interrupt::requested().is_some(),
    };
    let mut result = judge(cell, phases, &obs, built.inspected.clone());
    if n > 0 {
        result.build_of = Some(cells[group.cells[0].0].id.clone());
    }
    if let Some(entry) = store.and_then(|_| {
        Entry::of(
            key,
            &result,
            &built.inspected,
            ran.skip.clone(),
            obs.spawn_error.is_some(),
        )
    }) {
        // A cache that cannot be written costs the next run time, not this
        // run its result.
        let _ = store.map(|s| s.put(&entry));
    }
    if !result.verdict.met {
        group.unmet.store(true, Ordering::SeqCst);
    }
    if built.lasting || ctx.keep || !result.verdict.met {
        result.dir = Some(built.path.display().to_string());
    }
    if group.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
        let dir = group.dir.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(BuildDir::Temp(t)) = dir {
            if ctx.keep || group.unmet.load(Ordering::SeqCst) {
                let _kept: PathBuf = t.keep();
            }
        }
    }
    result
}

/// The check phase, and the result it makes.
fn judge(
    cell: &Cell,
    mut phases: Vec<Phase>,
    obs: &Observed,
    mut facts: BTreeMap<String, serde_json::Value>,
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
        duration_ms: phases.iter().map(|p| p.duration_ms).sum(),
        phases,
        dir: None,
        cached: false,
        build_of: None,
    }
}
