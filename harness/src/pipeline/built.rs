//! A group's build: its directory (under the cache, or a temporary one),
//! render, build (again on `--retries` when no cell expected the failure)
//! and inspect, once for all its cells.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use super::{judge, ms, timeout, Context, OUTPUT_CAP};
use crate::check::Observed;
use crate::fsutil::Lock;
use crate::model::{Attempt, Cell, CellResult, Command, Outcome, Phase, PhaseName};
use crate::{build, inspect};

/// Where a build happens, until its last cell has run.
pub(super) enum BuildDir {
    /// `<cache>/builds/...`, locked against other crossprobes.
    Shared(PathBuf, #[allow(dead_code)] Lock),
    Temp(tempfile::TempDir),
}

/// What the build of a group left for its runs.
pub(super) struct Built {
    /// Earlier tries of the build that failed (`--retries`): each cell of
    /// the group as checked on one, by try and then as the group's cells.
    pub(super) failed: Vec<Vec<CellResult>>,
    pub(super) path: PathBuf,
    /// Whether `path` outlives the run whatever happens (the shared one).
    pub(super) lasting: bool,
    pub(super) output: PathBuf,
    pub(super) phases: Vec<Phase>,
    /// The build's commands, in order; the last one decides.
    pub(super) commands: Vec<Command>,
    pub(super) spawn_error: Option<(Outcome, String)>,
    /// Why the build could not go on and the cells are skips (no C
    /// compiler, with the hint).
    pub(super) skip: Option<String>,
    /// Why the binary is not run although it was built (a library, `run:
    /// false`).
    pub(super) no_run: Option<(crate::model::NotRun, String)>,
    /// What the plan, the build commands and inspection said.
    pub(super) inspected: BTreeMap<String, serde_json::Value>,
}

/// The directory a group builds in: its own under the cache, unless
/// `--keep` asks for a fresh one or another crossprobe holds it.
pub(super) fn build_dir(build_key: &str, first: &Cell, keep: bool) -> std::io::Result<BuildDir> {
    let temp = || {
        let parent = super::temp_builds()?;
        tempfile::Builder::new()
            .prefix(&format!("crossprobe-{}-", first.slug))
            .tempdir_in(parent)
            .map(BuildDir::Temp)
    };
    if keep {
        return temp();
    }
    let root = crate::host::cache_dir().join("builds");
    let slug: String = first.slug.chars().take(80).collect();
    let name = format!("{slug}-{}", &build_key[..16]);
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

/// What a build needs of its group: the plan's key, the rendered sources,
/// the cells in the group's order, and where the group keeps its build
/// directory until its last cell has run.
pub(super) struct Members<'a> {
    pub(super) build_key: &'a str,
    pub(super) sources: &'a [(String, String)],
    pub(super) cc_hint: Option<&'a String>,
    pub(super) cells: Vec<&'a Cell>,
    pub(super) dir: &'a Mutex<Option<BuildDir>>,
}

/// Render, build and inspect, once for every cell of the group; the build
/// is tried again (`--retries`) while it fails and no cell expected that.
pub(super) fn build_group(group: &Members, ctx: &Context) -> Built {
    let first = group.cells[0];
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
    let dir = match build_dir(group.build_key, first, ctx.keep) {
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
    // A reused directory was writable by the probes of its last run.
    crate::fsutil::remove_links(&path);
    if let Err(e) = crate::fsutil::write_files(group.sources, &path) {
        built.spawn_error = Some((Outcome::BuildFail, e.to_string()));
    }
    phases.push(Phase {
        name: PhaseName::Render,
        duration_ms: ms(tr.elapsed()),
        commands: vec![],
    });

    let plan = super::plan(first, ctx, group.cc_hint, &path);
    built.output = plan.output.clone();
    built.no_run = plan.no_run.clone();
    let (writable, readable) = super::build_mounts(first, ctx, &path);
    for d in &writable {
        // A cache that does not exist yet could not be bound, and Go would
        // find nowhere to create it.
        let _ = std::fs::create_dir_all(d);
    }
    if let (Some(user), true) = (ctx.run_as, built.spawn_error.is_none()) {
        // What the build writes becomes the user's it runs as: the build
        // directory whole (a reused one holds the last build's outputs),
        // the caches' tops (what is in them, that user wrote).
        for (i, d) in writable.iter().enumerate() {
            if let Err(e) = crate::process::user::give(d, user, i == 0) {
                let why = format!("cannot give {} to uid {}: {e}", d.display(), user.uid);
                built.spawn_error = Some((Outcome::BuildFail, why));
            }
        }
    }
    let sandboxed = super::sandboxed(first, ctx);
    let enclose = |argv: Vec<String>| match sandboxed {
        true => ctx.sandbox.wrap_build(argv, &path, &writable, &readable),
        false => argv,
    };
    let how = build::Enclosure {
        confine: super::confine(first, ctx),
        enclose: &enclose,
        env: super::own_gocache(ctx)
            .iter()
            .map(|c| ("GOCACHE".to_string(), c.display().to_string()))
            .chain(ctx.run_as.iter().flat_map(|_| {
                let zig = super::writes(ctx).join("zig").display().to_string();
                ["ZIG_GLOBAL_CACHE_DIR", "ZIG_LOCAL_CACHE_DIR"]
                    .map(|k| (k.to_string(), zig.clone()))
            }))
            .chain(
                super::probe_of(first, ctx)
                    .module()
                    .and(super::user_goenv())
                    .map(|f| ("GOENV".to_string(), f.display().to_string())),
            )
            .collect(),
    };
    while built.spawn_error.is_none() {
        let tb = Instant::now();
        let ran = build::run(first, &plan, &path, timeout(first, ctx), OUTPUT_CAP, &how);
        built.commands = ran.commands;
        built.spawn_error = ran.failed;
        built.skip = ran.skip;
        let build = Phase {
            name: PhaseName::Build,
            duration_ms: ms(tb.elapsed()),
            commands: built.commands.clone(),
        };
        let mut tried = phases.clone();
        tried.push(build);
        match build_again(&group.cells, ctx, &built, &tried) {
            Some(checked) => built.failed.push(checked),
            None => {
                phases = tried;
                break;
            }
        }
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
    /// The `n`th cell's tries of the build that failed (`--retries`).
    pub(super) fn attempts(&self, n: usize) -> Vec<Attempt> {
        self.failed
            .iter()
            .map(|tried| self.attempt(tried[n].clone()))
            .collect()
    }

    /// A try of a cell that did not meet its expectation, as its result
    /// keeps it.
    pub(super) fn attempt(&self, r: CellResult) -> Attempt {
        Attempt {
            outcome: r.outcome,
            reason: r.reason,
            verdict: r.verdict,
            phases: r.phases,
            duration_ms: r.duration_ms,
            dir: Some(self.path.display().to_string()),
        }
    }

    pub(super) fn ok(&self) -> bool {
        self.spawn_error.is_none()
            && self.skip.is_none()
            && self.commands.last().is_some_and(|c| c.exit.success())
            && self.output.is_file()
    }
}

/// A failed build's cells, checked on it, when the build is worth another
/// try: tries are left, nobody stopped the run, and every cell of the group
/// expected it to succeed.
fn build_again(
    cells: &[&Cell],
    ctx: &Context,
    built: &Built,
    tried: &[Phase],
) -> Option<Vec<CellResult>> {
    let command = built.commands.last().filter(|c| !c.exit.success())?;
    if built.skip.is_some() {
        return None;
    }
    if built.failed.len() >= ctx.retries as usize || ctx.cancel.stopped() {
        return None;
    }
    let obs = Observed {
        build: Some(command),
        builds: &built.commands,
        ..Observed::default()
    };
    let checked: Vec<CellResult> = cells
        .iter()
        .map(|cell| judge(cell, tried.to_vec(), &obs, BTreeMap::new()))
        .collect();
    checked.iter().all(|r| !r.verdict.met).then_some(checked)
}
