//! The pipeline: takes expanded cells through render → build → inspect →
//! run → check, and hands each [`CellResult`] to the caller as it finishes.
//! Phases decide; this module only sequences them:
//!
//! 1. every cell's sources are rendered in memory and keyed ([`cache`]); a
//!    cell an earlier run answered is finished at once: a resumed one as it
//!    was, one the result cache knows by the check phase, which judges the
//!    stored observation as it would judge a fresh one;
//! 2. the others are grouped by build plan: cells that differ only in how
//!    they run (runner, qemu `-cpu`) share one build;
//! 3. [`schedule`] orders the builds and the runs that follow them; a
//!    [`group`] takes one build's cells through build → inspect → run →
//!    check → record;
//! 4. each finished cell goes to the caller, with what the result cache may
//!    keep of it, which the caller (the session) writes.
//!
//! A build happens in `<cache dir>/builds/<slug>-<key>/`, the same directory
//! each time its plan comes back, so that `go build` finds its own output up
//! to date and does not link again (Go embeds the directory in the binary,
//! so a fresh one would always relink). `--keep`, or that directory being
//! in use by another crossprobe, gives a fresh temporary one instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cache::{self, Identity, Keys};
use crate::check::{self, Observed};
use crate::host::{Host, Tools};
use crate::model::{Cell, CellResult, Missing, Outcome, Phase, PhaseName, Probe};
use crate::process::interrupt::Cancel;
use crate::schedule::{self, History, Job, Limits};
use crate::toolchain::cc::{self, Compilers};
use crate::toolchain::go::GoToolchain;
use crate::{axis, probe, run};
use group::Group;

mod built;
mod group;
pub mod preflight;
mod run_cell;

/// Bytes of each stream kept per command in results (head and tail).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Everything a cell needs that is shared by the run: read once.
pub struct Context {
    pub gos: BTreeMap<String, GoToolchain>,
    pub host: Host,
    pub tools: Tools,
    /// The C compilers of the cells, resolved once.
    pub compilers: Compilers,
    /// Probe by `matrix/name`.
    pub probes: BTreeMap<String, Probe>,
    /// Per-phase timeout by matrix name.
    pub timeouts: BTreeMap<String, Duration>,
    /// Each cell's memory bound by matrix name (`run.memory`; None: none).
    pub memory: BTreeMap<String, Option<u64>>,
    /// Each cell's process bound by matrix name (`run.processes`; None:
    /// none).
    pub processes: BTreeMap<String, Option<u64>>,
    /// `run.pass_env` by matrix name.
    pub pass_env: BTreeMap<String, Vec<String>>,
    /// The Go build cache of builds that may run programs a stranger chose
    /// (`repro --trust`): never the user's own, which they could poison.
    pub trusted_gocache: Option<std::path::PathBuf>,
    /// The user a sandboxed cell's commands run as, when not crossprobe's
    /// own: a stranger's cells when crossprobe is root
    /// ([`crate::process::user`]). Their build directories and caches are
    /// given to it.
    pub run_as: Option<crate::process::user::RunAs>,
    /// Where probes run: in bwrap, or as they are (`--no-sandbox`, or no
    /// bwrap on this host).
    pub sandbox: run::Sandbox,
    /// Matrices whose probes run unsandboxed (`run.sandbox: false`).
    pub unsandboxed: std::collections::BTreeSet<String>,
    /// `--resume`: a dead run's finished cells by their result key.
    pub resumed: BTreeMap<String, CellResult>,
    /// By matrix, the tools that may be missing, their cells then skips
    /// (`run.allow_missing`); `None` for any tool (or `--allow-missing`).
    pub allow_missing: BTreeMap<String, Option<BTreeSet<String>>>,
    pub keep: bool,
    /// Tries after a first that did not meet its expectation (`--retries`).
    pub retries: u32,
    /// Reuse and record results in the result cache (off with --no-cache).
    pub cache: bool,
    /// How long each cell took last time: the schedule's estimates.
    pub history: History,
    /// Stops the run: a signal, or a reporter that can write no more.
    /// Cells not started then come back `Interrupted`.
    pub cancel: Cancel,
    /// The run's wine jail (its sandboxed cells' wine), removed by its
    /// cool-down.
    pub wine_users: run::WineUsers,
    /// The hold on crossprobe's wine prefix of the cells of a matrix with
    /// `run.sandbox: false`, let go by its cool-down.
    pub wine_unjailed: run::WineUsers,
}

/// What the pipeline tells its caller, in order per cell.
pub enum Event {
    Started(String),
    /// What the result cache may keep of a cell, before its `Finished`.
    Cacheable(Box<cache::Entry>),
    Finished(Box<CellResult>),
    /// The filesystem a failed cell wrote to is full (what says so), sent
    /// before that cell's `Finished`; no further cell starts.
    DiskFull(String),
}

/// Whether `r` failed on a full disk: its filesystems are asked, never its
/// output (see [`crate::disk::full_at`]).
fn disk_full(r: &CellResult, ctx: &Context) -> Option<String> {
    if !matches!(
        r.outcome,
        Outcome::BuildFail | Outcome::RunFail | Outcome::Timeout
    ) {
        return None;
    }
    // Where a cell writes: its build directory (under the cache, or a
    // temporary one), go's temporary files, GOCACHE and zig's cache.
    let cache = crate::host::cache_dir();
    let temp = std::env::temp_dir();
    let kept = r.dir.as_deref().map(Path::new);
    let gocache = ctx
        .trusted_gocache
        .as_deref()
        .or_else(|| ctx.gos.get(&r.cell.go).map(|g| g.gocache.as_path()));
    let places: Vec<&Path> = kept
        .into_iter()
        .chain([cache.as_path(), temp.as_path()])
        .chain(gocache)
        .chain([ctx.tools.cache_dir.as_path()])
        .collect();
    crate::disk::full_at(&places).map(|at| format!("cell {}: {at}", r.cell.id))
}

/// Runs `cells` with `jobs` builds and `jobs` runs at once. `on_event`
/// runs on the calling thread. `cc_hints` is crossprobe's word on a cell's
/// C compiler by cell id (the preflight's), shown beside Go's should the
/// build fail. Cells not started because of an interrupt come back as
/// `Interrupted`.
pub fn run_all(
    cells: Vec<Cell>,
    ctx: &Context,
    cc_hints: &BTreeMap<String, String>,
    jobs: usize,
    mut on_event: impl FnMut(Event),
) -> Vec<CellResult> {
    let mut done: Vec<Option<CellResult>> = vec![None; cells.len()];
    let store = ctx.cache.then(cache::Store::open);
    let identity = Identity::read(&ctx.host, &ctx.gos, &ctx.tools).in_sandbox(&ctx.sandbox);
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        // Planned: rendered in memory and keyed. A cell that cannot be
        // built, or that an earlier run answered, is finished here; the
        // others join the group of their build.
        let hint = cc_hints.get(&cell.id);
        let answered = match prepare(cell, ctx, hint, &identity) {
            Err(r) => Some(*r),
            Ok((sources, keys)) => match answered(cell, &keys, ctx, store.as_ref()) {
                Some(r) => Some(r),
                None => {
                    let g = *by_key.entry(keys.build.clone()).or_insert_with(|| {
                        let family = axis::family(cell);
                        groups.push(Group::new(keys.build.clone(), family, sources, hint));
                        groups.len() - 1
                    });
                    groups[g].add(i, keys.result);
                    None
                }
            },
        };
        if let Some(r) = answered {
            on_event(Event::Started(cell.id.clone()));
            on_event(Event::Finished(Box::new(r.clone())));
            done[i] = Some(r);
        }
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
        let (tx, rx) = mpsc::channel::<(usize, Event, Option<cache::Entry>)>();
        let (cells, groups, plan) = (&cells, &groups, &plan);
        s.spawn(move || {
            let halted = || ctx.cancel.stopped();
            let send = |i: usize, (r, entry): group::Finished| {
                // Every later cell would fail the same way; stopping here,
                // not when the caller hears of it, starts no further one.
                if let Some(what) = disk_full(&r, ctx) {
                    ctx.cancel.stop();
                    let _ = tx.send((i, Event::DiskFull(what), None));
                }
                let _ = tx.send((i, Event::Finished(Box::new(r)), entry));
            };
            schedule::execute(
                plan,
                Limits::jobs(jobs),
                &halted,
                |g| {
                    let group = &groups[g];
                    for &(i, _) in &group.cells {
                        let _ = tx.send((i, Event::Started(cells[i].id.clone()), None));
                    }
                    for (i, finished) in group.build(cells, ctx) {
                        send(i, finished);
                    }
                    group.runnable()
                },
                |g, n| {
                    let group = &groups[g];
                    send(group.cells[n].0, group.finish(n, cells, ctx));
                },
            );
        });
        for (i, ev, entry) in rx {
            if let Some(entry) = entry {
                on_event(Event::Cacheable(Box::new(entry)));
            }
            if let Event::Finished(r) = &ev {
                done[i] = Some((**r).clone());
            }
            on_event(ev);
        }
    });
    // Once, at the end: `wineserver -k` between cells would kill another
    // cell's wine process, since they share a prefix.
    let _ = run::cool_down(&ctx.tools, &ctx.wine_users);
    let _ = run::cool_down(&ctx.tools, &ctx.wine_unjailed);
    // Only if empty: what --keep kept stays.
    let _ = std::fs::remove_dir(temp_builds_dir());
    // No cell runs any more: what an orphan left (a daemon with a cleared
    // environment) is ended, and what it ran counted, before `perf`.
    crate::process::orphans::finish();
    // Walking every entry is work a cached rerun should not pay each time:
    // once a day is enough for an age counted in weeks.
    let root = crate::host::cache_dir();
    if !ctx.keep && cache::prune_due(&root) {
        cache::prune_builds(&root.join("builds"), cache::MAX_UNUSED_AGE);
        if let Some(store) = &store {
            store.prune(cache::MAX_UNUSED_AGE);
        }
        crate::probe::module::memo::store().prune(cache::MAX_UNUSED_AGE);
        crate::toolchain::known::store().prune(cache::MAX_UNUSED_AGE);
    }
    done.into_iter()
        .zip(cells)
        .map(|(r, cell)| r.unwrap_or_else(|| CellResult::interrupted(cell)))
        .collect()
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Whether `tool`, which doctor can install, may be missing for the cell.
pub fn allows_missing(cell: &Cell, tool: Option<&Missing>, ctx: &Context) -> bool {
    match (ctx.allow_missing.get(&cell.matrix), tool) {
        (Some(None), _) => true,
        (Some(Some(tools)), Some(m)) => tools.contains(&m.tool),
        _ => false,
    }
}

/// The cell's bound: its probe's `go_test: {timeout}`, else the matrix's
/// `run.timeout`.
fn timeout(cell: &Cell, ctx: &Context) -> Duration {
    let own = probe_of(cell, ctx).module().and_then(|m| m.go_test.timeout);
    own.or_else(|| ctx.timeouts.get(&cell.matrix).copied())
        .unwrap_or(crate::load::DEFAULT_TIMEOUT)
}

/// What a cell's build and run commands may take from the caller and the
/// machine: the environment's allowlist, and the memory and process bounds.
/// The cell's commands are wrapped in the sandbox exactly when
/// [`sandboxed`] says so, and recorded as such.
fn confine(cell: &Cell, ctx: &Context) -> crate::process::Confine {
    crate::process::Confine {
        env_allowlist: true,
        pass_env: ctx.pass_env.get(&cell.matrix).cloned().unwrap_or_default(),
        sandboxed: sandboxed(cell, ctx),
        memory: ctx
            .memory
            .get(&cell.matrix)
            .copied()
            .unwrap_or(Some(crate::load::DEFAULT_MEMORY)),
        processes: ctx
            .processes
            .get(&cell.matrix)
            .copied()
            .unwrap_or(Some(crate::load::DEFAULT_PROCESSES)),
        user: ctx.run_as,
    }
}

/// Where this process builds when it cannot use the cache's build
/// directory (`--keep`, no result cache, another crossprobe holds it): one
/// directory of its own under the temporary directory, made here (mode
/// 0700), so that the run's wine jail can show its server all of them and
/// nothing else of /tmp. Removed at the end of the run when empty.
pub fn temp_builds() -> std::io::Result<PathBuf> {
    let dir = temp_builds_dir();
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    match b.create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(dir),
    }
}

/// [`temp_builds`]'s path, which may not exist.
pub fn temp_builds_dir() -> PathBuf {
    std::env::temp_dir().join(format!("crossprobe-{}", std::process::id()))
}

/// Whether the cell's probe runs in the sandbox.
fn sandboxed(cell: &Cell, ctx: &Context) -> bool {
    ctx.sandbox.enabled() && !ctx.unsandboxed.contains(&cell.matrix)
}

/// Where every build plan's key is computed: the plan as if built in this
/// directory, so that the key does not depend on the real one.
const KEY_DIR: &str = "/crossprobe/build";

/// A cell's rendered sources, and its keys.
type Keyed = (Vec<(String, String)>, Keys);

/// A cell's rendered sources and keys; or its result, when it cannot be
/// built at all.
fn prepare(
    cell: &Cell,
    ctx: &Context,
    cc_hint: Option<&String>,
    identity: &Identity,
) -> Result<Keyed, Box<CellResult>> {
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
    if let Some(why) = probe_of(cell, ctx).module().and_then(|m| m.absent(cell)) {
        // Not on this target, as `GOOS=… go test ./...` leaves it out: a
        // skip in Go's words, never a build that fails.
        let obs = Observed {
            skip: Some(why.to_string()),
            ..Observed::default()
        };
        return Err(Box::new(judge(cell, vec![], &obs, BTreeMap::new())));
    }
    let sources = probe::sources(cell, probe_of(cell, ctx), go)
        .map_err(|why| Box::new(render_failed(cell, why.to_string())))?;
    let plan = plan(cell, ctx, cc_hint, Path::new(KEY_DIR));
    let compiler = cc::wanted(cell)
        .then(|| ctx.compilers.for_cell(cell).ok())
        .flatten();
    let run_dir = Path::new(KEY_DIR);
    let run = probe::run_spec(cell, probe_of(cell, ctx), timeout(cell, ctx), run_dir);
    let keys = cache::keys(
        identity,
        cell,
        &sources,
        &plan,
        compiler,
        (timeout(cell, ctx), &run.args, &run.env),
        sandboxed(cell, ctx),
    );
    Ok((sources, keys))
}

/// What a cell's build may write and read besides the system, in the
/// sandbox: the build directory and the build caches; the module cache,
/// GOROOT, the C compilers' own directories, and the user's module (which
/// may lie under $HOME or /tmp, hidden otherwise).
fn build_mounts(cell: &Cell, ctx: &Context, dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let go = &ctx.gos[&cell.go];
    let gocache = own_gocache(ctx).unwrap_or_else(|| go.gocache.clone());
    let writable = vec![dir.to_path_buf(), gocache, writes(ctx).join("zig")];
    let mut readable = vec![
        go.goroot.clone(),
        go.gomodcache.clone(),
        ctx.tools.cache_dir.join("zig-darwin-stubs"),
    ];
    if let Ok(c) = ctx.compilers.for_cell(cell) {
        // The program itself, where it really lies: zig from PyPI is a link
        // on PATH into a site-packages under $HOME, with its lib/ beside it.
        let program = crate::fsutil::which(&c.cc[0]).and_then(|p| p.canonicalize().ok());
        readable.extend(
            program
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
    }
    if let Some(m) = probe_of(cell, ctx).module() {
        readable.push(m.root.clone());
        readable.extend(m.outside.iter().cloned());
        readable.extend(user_goenv());
    }
    (writable, readable)
}

/// The Go build cache a cell's build uses instead of the user's: the
/// trusted one (`repro --trust`), or, for cells run as another user, that
/// user's (never the user's own, which a stranger's build could poison, and
/// which is not theirs to write).
fn own_gocache(ctx: &Context) -> Option<PathBuf> {
    match ctx.run_as {
        Some(_) => Some(writes(ctx).join("go-build")),
        None => ctx.trusted_gocache.clone(),
    }
}

/// Where a cell's commands keep their caches (zig's, wazero's): crossprobe's
/// cache directory, or, for cells run as another user, a directory of that
/// user's in it.
fn writes(ctx: &Context) -> PathBuf {
    match ctx.run_as {
        Some(_) => ctx.tools.cache_dir.join("unprivileged"),
        None => ctx.tools.cache_dir.clone(),
    }
}

/// The user's GOENV file (`go env -w` settings), when there is one: read by
/// a module's build and its tests' `go`, never by a snippet's (it may hold
/// a GOPROXY with credentials).
fn user_goenv() -> Option<PathBuf> {
    crate::toolchain::go::go_env_file().filter(|f| f.is_file())
}

/// The probe a cell runs.
fn probe_of<'a>(cell: &Cell, ctx: &'a Context) -> &'a Probe {
    &ctx.probes[&format!("{}/{}", cell.matrix, cell.probe)]
}

/// The cell's build, in `dir`.
fn plan(cell: &Cell, ctx: &Context, cc_hint: Option<&String>, dir: &Path) -> probe::Plan {
    probe::plan(
        cell,
        probe_of(cell, ctx),
        &ctx.gos[&cell.go],
        (ctx.compilers.for_cell(cell), ctx.compilers.would_use(cell)),
        cc_hint,
        dir,
    )
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

/// A cell's result from an earlier run: a dead run's (`--resume`), kept
/// only as it was, with the same inputs (its key) and the same cell,
/// expectation included; else the result cache's, checked anew.
fn answered(
    cell: &Cell,
    keys: &Keys,
    ctx: &Context,
    store: Option<&cache::Store>,
) -> Option<CellResult> {
    let resumed = ctx.resumed.get(&keys.result).filter(|r| r.cell == *cell);
    if let Some(r) = resumed {
        return Some(r.clone());
    }
    let hit = store?.get(&keys.result)?;
    let mut r = judge_stored(cell, &hit);
    r.key = Some(keys.result.clone());
    Some(r)
}

/// The check phase for a cell the result cache answered: the stored
/// observation judged as a fresh one is, against this cell's expectation.
/// Its phases and their times are the stored run's.
fn judge_stored(cell: &Cell, hit: &cache::Entry) -> CellResult {
    let tests = hit.tests(cell);
    let obs = hit.observed(cell, tests.as_ref());
    let mut r = check::check(cell, &obs, &hit.inspected).into_result(
        cell,
        hit.inspected.clone(),
        hit.result.phases.clone(),
        hit.result.duration_ms,
    );
    r.cached = true;
    r.not_run = hit.result.not_run;
    r
}

/// The check phase, and the result it makes.
fn judge(
    cell: &Cell,
    mut phases: Vec<Phase>,
    obs: &Observed,
    facts: BTreeMap<String, serde_json::Value>,
) -> CellResult {
    let tc = Instant::now();
    let checked = check::check(cell, obs, &facts);
    phases.push(Phase {
        name: PhaseName::Check,
        duration_ms: ms(tc.elapsed()),
        commands: vec![],
    });
    let duration_ms = phases.iter().map(|p| p.duration_ms).sum();
    checked.into_result(cell, facts, phases, duration_ms)
}
