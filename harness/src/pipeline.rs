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
use crate::model::{
    Attempt, Cell, CellResult, Command, Outcome, Phase, PhaseName, Runner, Verdict,
};
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
    /// Tries after a first that did not meet its expectation (`--retries`).
    pub retries: u32,
    /// Reuse and record results in the result cache (off with --no-cache).
    pub cache: bool,
    /// How long each cell took last time: the schedule's estimates.
    pub history: History,
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
    /// Earlier tries of the build that failed (`--retries`), as phases.
    failed: Vec<Vec<Phase>>,
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
            Err(r) => {
                let r = *r;
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
            let stop = || process::interrupt::requested().is_some() || stopped();
            let send = |i: usize, r: CellResult| {
                // Every later cell would fail the same way; stopping here,
                // not when the caller hears of it, starts no further one.
                if r.reason.as_deref().is_some_and(disk_full) {
                    stop();
                }
                let _ = tx.send((i, Event::Finished(Box::new(r))));
            };
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
                    if !built.ok() {
                        // Nothing to run: every cell of the group is judged
                        // on its build.
                        for (n, &(i, _)) in group.cells.iter().enumerate() {
                            let tries = build_attempts(&cells[i], built);
                            let r = finish_cell(group, n, cells, ctx, store.as_ref(), None, tries);
                            send(i, r);
                        }
                    }
                    built.ok()
                },
                |g, n| {
                    let group = &groups[g];
                    send(
                        group.cells[n].0,
                        run_tries(group, n, cells, ctx, store.as_ref()),
                    );
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
        attempts: Vec::new(),
        ran_on: None,
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

/// A cell's rendered sources, and its keys.
type Keyed = (Vec<(String, String)>, Keys);

/// A cell's rendered sources and keys; or its result, when it cannot be
/// built at all.
fn prepare(cell: &Cell, ctx: &Context, identity: &Identity) -> Result<Keyed, Box<CellResult>> {
    let go = &ctx.gos[&cell.go];
    if let Some(why) = &go.unavailable {
        // Never a silent fallback to another Go: the cell says why it
        // could not be built with the one it asked for.
        let obs = Observed {
            skip: Some(format!("{}: {why}", go.version)),
            ..Observed::default()
        };
        return Err(Box::new(judge(cell, vec![], &obs, BTreeMap::new())));
    }
    let probe = &ctx.probes[&format!("{}/{}", cell.matrix, cell.probe)];
    let sources = render::sources(cell, probe, &render::go_minor(&go.version))
        .map_err(|why| Box::new(render_failed(cell, why)))?;
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

/// Render, build and inspect, once for every cell of `group`; the build is
/// tried again (`--retries`) while it fails and no cell expected that.
fn build_group(group: &Group, cells: &[Cell], ctx: &Context) -> Built {
    let first = &cells[group.cells[0].0];
    let go = &ctx.gos[&first.go];
    let mut phases = Vec::new();
    let mut built = Built {
        failed: Vec::new(),
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
    while built.spawn_error.is_none() {
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
        built.command = None;
        match process::run(&spec) {
            Ok(c) => built.command = Some(c),
            Err(e) => {
                built.spawn_error = Some((
                    Outcome::BuildFail,
                    format!("cannot run {}: {e}", plan.argv[0]),
                ))
            }
        }
        let build = Phase {
            name: PhaseName::Build,
            duration_ms: ms(tb.elapsed()),
            commands: built.command.iter().cloned().collect(),
        };
        if !build_again(group, cells, ctx, &built) {
            phases.push(build);
            break;
        }
        let mut tried = phases.clone();
        tried.push(build);
        built.failed.push(tried);
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

impl Built {
    fn ok(&self) -> bool {
        self.command.as_ref().is_some_and(|c| c.exit.success()) && self.output.is_file()
    }
}

/// Whether a failed build is worth another try: tries are left, nobody
/// stopped the run, and every cell of the group expected it to succeed.
fn build_again(group: &Group, cells: &[Cell], ctx: &Context, built: &Built) -> bool {
    let Some(command) = built.command.as_ref().filter(|c| !c.exit.success()) else {
        return false;
    };
    if built.failed.len() >= ctx.retries as usize
        || process::interrupt::requested().is_some()
        || stopped()
    {
        return false;
    }
    let obs = Observed {
        build: Some(command),
        ..Observed::default()
    };
    group
        .cells
        .iter()
        .all(|&(i, _)| !check::check(&cells[i], &obs, &BTreeMap::new()).verdict.met)
}

/// The `n`th cell of a built group: run, judged, and run again while it
/// does not meet its expectation and `--retries` allows. The tries before
/// the last, failed builds included, are kept in `attempts`, so one that
/// passes on a retry shows as flaky, not as a pass. Retries reuse the
/// binary.
fn run_tries(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    store: Option<&cache::Store>,
) -> CellResult {
    let cell = &cells[group.cells[n].0];
    let built = group.built.get().expect("runs follow their build");
    let mut attempts = build_attempts(cell, built);
    loop {
        let run = run_once(cell, group, built, ctx);
        let (result, ..) = judged(group, n, cells, Some(&run));
        let again = !result.verdict.met
            && result.outcome != Outcome::Interrupted
            && attempts.len() < ctx.retries as usize
            && process::interrupt::requested().is_none()
            && !stopped();
        if !again {
            return finish_cell(group, n, cells, ctx, store, Some(run), attempts);
        }
        attempts.push(attempt(result, built));
    }
}

/// The build's failed tries, as tries of `cell`.
fn build_attempts(cell: &Cell, built: &Built) -> Vec<Attempt> {
    built
        .failed
        .iter()
        .map(|phases| {
            let obs = Observed {
                build: phases.last().and_then(|p| p.commands.first()),
                ..Observed::default()
            };
            attempt(judge(cell, phases.clone(), &obs, BTreeMap::new()), built)
        })
        .collect()
}

fn attempt(r: CellResult, built: &Built) -> Attempt {
    Attempt {
        outcome: r.outcome,
        reason: r.reason,
        verdict: r.verdict,
        phases: r.phases,
        duration_ms: r.duration_ms,
        dir: Some(built.path.display().to_string()),
    }
}

/// One run of a built cell's binary.
fn run_once(cell: &Cell, group: &Group, built: &Built, ctx: &Context) -> (Phase, Ran) {
    let mut ran = Ran::default();
    let tr = Instant::now();
    if process::interrupt::requested().is_none() {
        let go = &ctx.gos[&cell.go];
        match &cell.runner {
            Runner::None { reason } => ran.skip = Some(reason.clone()),
            runner => match run::warm_up(runner, &ctx.tools)
                .and_then(|()| run::invocation(runner, &built.output, &[], &tools_for(go, ctx)))
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
    (run, ran)
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

/// The `n`th cell of a group judged on its build and, when it ran, its
/// run; with whether anything could not start, and why a run was skipped.
fn judged(
    group: &Group,
    n: usize,
    cells: &[Cell],
    run: Option<&(Phase, Ran)>,
) -> (CellResult, bool, Option<String>) {
    let cell = &cells[group.cells[n].0];
    let built = group.built.get().expect("cells finish after their build");
    let mut phases = built.phases.clone();
    let ran = run.map(|(p, r)| {
        phases.push(p.clone());
        r
    });
    let obs = Observed {
        build: built.command.as_ref(),
        spawn_error: built
            .spawn_error
            .clone()
            .or_else(|| ran.and_then(|r| r.spawn_error.clone())),
        run: ran.and_then(|r| r.command.as_ref()),
        skip: ran.and_then(|r| r.skip.clone()),
        interrupted: process::interrupt::requested().is_some(),
    };
    let mut result = judge(cell, phases, &obs, built.inspected.clone());
    if n > 0 {
        result.build_of = Some(cells[group.cells[0].0].id.clone());
    }
    (result, obs.spawn_error.is_some(), obs.skip)
}

/// Judges the `n`th cell of a group for the last time; records it in the
/// cache; lets the build directory go after the group's last cell.
fn finish_cell(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    store: Option<&cache::Store>,
    run: Option<(Phase, Ran)>,
    attempts: Vec<Attempt>,
) -> CellResult {
    let built = group.built.get().expect("cells finish after their build");
    let (mut result, spawn_error, skip) = judged(group, n, cells, run.as_ref());
    result.attempts = attempts;
    let entry = store.and_then(|_| {
        Entry::of(
            &group.cells[n].1,
            &result,
            &built.inspected,
            skip,
            spawn_error,
        )
    });
    if let (Some(store), Some(entry)) = (store, entry) {
        // A cache that cannot be written costs the next run time, not this
        // run its result.
        let _ = store.put(&entry);
    }
    if !result.verdict.met || !result.attempts.is_empty() {
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
        attempts: Vec::new(),
        ran_on: None,
    }
}
