//! A group: the cells that share one build plan. It owns the build
//! directory (under the cache, or a temporary one), builds once (again on
//! `--retries` when nobody expected the failure), runs each cell's binary
//! (again on `--retries`), judges the cells, records them in the result
//! cache, and lets the directory go after its last cell.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::{judge, module_of, ms, timeout, Context, OUTPUT_CAP};
use crate::cache::{self, Entry};
use crate::check::{self, Observed};
use crate::fsutil::{self, Lock};
use crate::gomod::{test2json, Kind};
use crate::host::Tools;
use crate::model::{
    Attempt, Cell, CellResult, Command, Missing, Outcome, Phase, PhaseName, Runner, Standing,
};
use crate::toolchain::go::GoToolchain;
use crate::{build, inspect, process, render, run};

/// Where a build happens, until its last cell has run.
enum BuildDir {
    /// `<cache>/builds/...`, locked against other crossprobes.
    Shared(PathBuf, #[allow(dead_code)] Lock),
    Temp(tempfile::TempDir),
}

/// Cells that share one build.
pub(super) struct Group {
    build_key: String,
    /// See [`crate::schedule`]: builds of one family share their stdlib.
    pub(super) family: String,
    sources: Vec<(String, String)>,
    /// Index into the run's cells, and the cell's result key.
    pub(super) cells: Vec<(usize, String)>,
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
    /// The build's commands, in order; the last one decides.
    commands: Vec<Command>,
    spawn_error: Option<(Outcome, String)>,
    /// Why the build could not go on and the cells are skips (no C
    /// compiler, with the hint).
    skip: Option<String>,
    /// Why the binary is not run although it was built (a library).
    no_run: Option<String>,
    /// What the plan, the build commands and inspection said.
    inspected: BTreeMap<String, serde_json::Value>,
}

impl Group {
    pub(super) fn new(build_key: String, family: String, sources: Vec<(String, String)>) -> Group {
        Group {
            build_key,
            family,
            sources,
            cells: Vec::new(),
            built: OnceLock::new(),
            dir: Mutex::new(None),
            remaining: AtomicUsize::new(0),
            unmet: AtomicBool::new(false),
        }
    }

    /// Adds the run's `i`th cell, whose result key is `key`.
    pub(super) fn add(&mut self, i: usize, key: String) {
        self.cells.push((i, key));
        self.remaining.fetch_add(1, Ordering::SeqCst);
    }

    /// Builds, once. Returns the cells it finished: every one of them when
    /// the build failed (they are judged on it), none when their runs can
    /// follow.
    pub(super) fn build(
        &self,
        cells: &[Cell],
        ctx: &Context,
        store: Option<&cache::Store>,
    ) -> Vec<(usize, CellResult)> {
        let built = self.built.get_or_init(|| build_group(self, cells, ctx));
        if built.ok() {
            return Vec::new();
        }
        (0..self.cells.len())
            .map(|n| {
                let i = self.cells[n].0;
                let tries = build_attempts(&cells[i], built);
                (i, finish_cell(self, n, cells, ctx, store, None, tries))
            })
            .collect()
    }

    /// Whether the build left a binary to run.
    pub(super) fn runnable(&self) -> bool {
        self.built.get().is_some_and(Built::ok)
    }

    /// Runs and judges the `n`th cell, once the build is done.
    pub(super) fn run(
        &self,
        n: usize,
        cells: &[Cell],
        ctx: &Context,
        store: Option<&cache::Store>,
    ) -> CellResult {
        run_tries(self, n, cells, ctx, store)
    }
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
    let name = format!("{slug}-{}", &group.build_key[..16]);
    let path = root.join(&name);
    if std::fs::create_dir_all(&path).is_err() {
        return temp();
    }
    // Beside the directory, named after all of it: a slug may hold dots
    // (go1.22), so `with_extension` would cut it short.
    match Lock::try_exclusive(&root.join(format!("{name}.lock"))) {
        Ok(Some(held)) => {
            // What `cache::prune_builds` goes by.
            let _ = held.touch();
            Ok(BuildDir::Shared(path, held))
        }
        _ => temp(),
    }
}

/// Render, build and inspect, once for every cell of `group`; the build is
/// tried again (`--retries`) while it fails and no cell expected that.
fn build_group(group: &Group, cells: &[Cell], ctx: &Context) -> Built {
    let first = &cells[group.cells[0].0];
    let mut phases = Vec::new();
    let mut built = Built {
        failed: Vec::new(),
        path: PathBuf::new(),
        lasting: false,
        output: PathBuf::new(),
        phases: Vec::new(),
        commands: Vec::new(),
        spawn_error: None,
        skip: None,
        no_run: None,
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

    let plan = super::plan(first, ctx, &path);
    built.output = plan.output.clone();
    built.no_run = plan.no_run.clone();
    while built.spawn_error.is_none() {
        let tb = Instant::now();
        let ran = build::run(first, &plan, &path, timeout(first, ctx), OUTPUT_CAP);
        built.commands = ran.commands;
        built.spawn_error = ran.failed;
        built.skip = ran.skip;
        let build = Phase {
            name: PhaseName::Build,
            duration_ms: ms(tb.elapsed()),
            commands: built.commands.clone(),
        };
        if !build_again(group, cells, ctx, &built) {
            phases.push(build);
            break;
        }
        let mut tried = phases.clone();
        tried.push(build);
        built.failed.push(tried);
    }
    built.inspected.extend(plan.facts.clone());
    built
        .inspected
        .extend(build::observed_facts(&plan, &built.commands));

    if built.ok() {
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
        self.spawn_error.is_none()
            && self.skip.is_none()
            && self.commands.last().is_some_and(|c| c.exit.success())
            && self.output.is_file()
    }
}

/// Whether a failed build is worth another try: tries are left, nobody
/// stopped the run, and every cell of the group expected it to succeed.
fn build_again(group: &Group, cells: &[Cell], ctx: &Context, built: &Built) -> bool {
    let Some(command) = built.commands.last().filter(|c| !c.exit.success()) else {
        return false;
    };
    if built.skip.is_some() {
        return false;
    }
    if built.failed.len() >= ctx.retries as usize || ctx.cancel.stopped() {
        return false;
    }
    let obs = Observed {
        build: Some(command),
        builds: &built.commands,
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
        let run = run_once(cell, n, group, built, ctx);
        let (result, ..) = judged(group, n, cells, ctx, Some(&run));
        // A missing tool stays missing on a retry.
        let again = result.standing() == Standing::Unmet
            && result.missing.is_none()
            && attempts.len() < ctx.retries as usize
            && !ctx.cancel.stopped();
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
            let builds = phases.last().map_or(&[][..], |p| &p.commands[..]);
            let obs = Observed {
                build: builds.last(),
                builds,
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
fn run_once(cell: &Cell, n: usize, group: &Group, built: &Built, ctx: &Context) -> (Phase, Ran) {
    let mut ran = Ran::default();
    let tr = Instant::now();
    if process::interrupt::requested().is_none() {
        let go = &ctx.gos[&cell.go];
        match &cell.runner {
            _ if built.no_run.is_some() => ran.skip = built.no_run.clone(),
            Runner::None { reason, missing } => {
                ran.skip = Some(reason.clone());
                ran.missing = missing.clone();
            }
            runner => match run::warm_up(runner, &ctx.tools, &ctx.wine_users).and_then(|()| {
                run::invocation(runner, &built.output, &args(cell, ctx), &tools_for(go, ctx))
            }) {
                Err(why) => ran.skip = Some(why),
                Ok(mut inv) => {
                    if let Some(m) = module_of(cell, ctx) {
                        // Tests read testdata/ relative to their package.
                        if let Some(p) = m.package(&cell.package) {
                            inv.cwd = p.dir.clone();
                        }
                        inv.env.extend(m.env.clone());
                    }
                    let inv = match super::sandboxed(cell, ctx) {
                        true => ctx.sandbox.wrap(inv, &built.output, runner, &ctx.tools),
                        false => inv,
                    };
                    // Cells of one group run from one directory, at the same
                    // time: each gets its own capture files. Not by slug
                    // alone: the same cell in two matrices has the same one.
                    let log_name = match group.cells.len() {
                        1 => "run".to_string(),
                        _ => format!("run-{n}-{}", cell.slug),
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
/// cell.
fn tools_for<'a>(go: &GoToolchain, ctx: &'a Context) -> std::borrow::Cow<'a, Tools> {
    run::tools_for_goroot(&ctx.tools, &go.goroot)
}

/// The arguments of a cell's binary: a module probe's `args`, or what a
/// test binary needs to report each test as an event, bounded by the
/// matrix's timeout.
fn args(cell: &Cell, ctx: &Context) -> Vec<String> {
    match module_of(cell, ctx) {
        Some(m) if matches!(m.kind, Kind::Test(_)) => vec![
            "-test.v=test2json".into(),
            format!("-test.timeout={}ms", timeout(cell, ctx).as_millis()),
        ],
        Some(m) => m.args.clone(),
        None => Vec::new(),
    }
}

/// What the run phase saw.
#[derive(Default)]
struct Ran {
    command: Option<Command>,
    skip: Option<String>,
    /// The runner doctor could install, when its absence is the skip.
    missing: Option<Missing>,
    spawn_error: Option<(Outcome, String)>,
    /// A test binary's events, through `go tool test2json`.
    tests: Option<test2json::Converted>,
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
        // Whole or not at all: another cell of the group may be running
        // with `to` loaded (wine's DLL stub).
        if let Err(e) = fsutil::copy_atomic(from, to) {
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
        // A test binary's own -test.timeout panics first and names the
        // test it was running; this is the bound if it cannot.
        timeout: match cell.package.is_empty() {
            true => timeout(cell, ctx),
            false => timeout(cell, ctx) + std::time::Duration::from_secs(10),
        },
        log_dir: dir.to_path_buf(),
        log_name,
        cap: OUTPUT_CAP,
        daemons: false,
    };
    match process::run(&spec) {
        Ok(mut c) => {
            run::sandbox::restore_signal(&mut c);
            ran.command = Some(c)
        }
        Err(e) => {
            ran.spawn_error = Some((Outcome::RunFail, format!("cannot run {}: {e}", inv.argv[0])));
            return;
        }
    }
    let Some(p) = module_of(cell, ctx).and_then(|m| m.package(&cell.package)) else {
        return;
    };
    // From the capture file, not a pipe: wine keeps pipes open.
    let go = &ctx.gos[&cell.go];
    let convert = process::Spec {
        argv: vec![
            go.go.display().to_string(),
            "tool".into(),
            "test2json".into(),
            "-t".into(),
            "-p".into(),
            p.import_path.clone(),
        ],
        env: go.env.clone(),
        env_remove: Vec::new(),
        cwd: Some(dir.to_path_buf()),
        timeout: timeout(cell, ctx),
        log_dir: dir.to_path_buf(),
        log_name: format!("{}-test2json", spec.log_name),
        cap: OUTPUT_CAP,
        daemons: false,
    };
    let stdout = dir.join(format!("{}.stdout", spec.log_name));
    let events = process::run_fed(&convert, Some(&stdout))
        .map_err(|e| e.to_string())
        .and_then(|c| {
            let file = dir.join(format!("{}.stdout", convert.log_name));
            match c.exit.success() {
                true => std::fs::read_to_string(&file).map_err(|e| e.to_string()),
                false => Err(format!("{} ({})", c.stderr.text.trim(), c.exit)),
            }
        });
    match events {
        Ok(text) => {
            let stderr = ran.command.as_ref().map_or("", |c| c.stderr.text.as_str());
            ran.tests = Some(test2json::convert(&text, stderr));
        }
        Err(why) => {
            ran.spawn_error = Some((Outcome::RunFail, format!("go tool test2json failed: {why}")))
        }
    }
}

/// The `n`th cell of a group judged on its build and, when it ran, its
/// run; with whether anything could not start, and why a run was skipped.
fn judged(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    run: Option<&(Phase, Ran)>,
) -> (CellResult, bool, Option<String>) {
    let cell = &cells[group.cells[n].0];
    let built = group.built.get().expect("cells finish after their build");
    let mut phases = built.phases.clone();
    let ran = run.map(|(p, r)| {
        phases.push(p.clone());
        r
    });
    let missing = match &built.skip {
        Some(_) => ctx.compilers.missing(cell).map(run::needs::missing),
        None => ran.and_then(|r| r.missing.clone()),
    };
    let obs = Observed {
        build: built.commands.last(),
        builds: &built.commands,
        spawn_error: built
            .spawn_error
            .clone()
            .or_else(|| ran.and_then(|r| r.spawn_error.clone())),
        run: ran.and_then(|r| r.command.as_ref()),
        skip: built
            .skip
            .clone()
            .or_else(|| ran.and_then(|r| r.skip.clone())),
        allow_missing: super::allows_missing(cell, missing.as_ref(), ctx),
        missing,
        interrupted: process::interrupt::requested().is_some(),
        tests: ran.and_then(|r| r.tests.as_ref()),
        no_marker: !cell.package.is_empty(),
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
    let (mut result, spawn_error, skip) = judged(group, n, cells, ctx, run.as_ref());
    result.attempts = attempts;
    result.key = Some(group.cells[n].1.clone());
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
