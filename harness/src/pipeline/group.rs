//! A group: the cells that share one build plan. It builds once ([`built`]:
//! again on `--retries` when nobody expected the failure), runs each
//! cell's binary ([`run_cell`]: again on `--retries`), judges the cells,
//! records them in the result cache, and lets the build directory go after
//! its last cell.
//!
//! [`built`]: super::built
//! [`run_cell`]: super::run_cell

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::built::{build_group, BuildDir, Built};
use super::run_cell::{run_once, Ran};
use super::{judge, Context};
use crate::cache::{self, Entry};
use crate::check::Observed;
use crate::model::{Attempt, Cell, CellResult, Phase, Standing};
use crate::{process, run};

/// Cells that share one build.
pub(super) struct Group {
    pub(super) build_key: String,
    /// See [`crate::schedule`]: builds of one family share their stdlib.
    pub(super) family: String,
    pub(super) sources: Vec<(String, String)>,
    /// Index into the run's cells, and the cell's result key.
    pub(super) cells: Vec<(usize, String)>,
    pub(super) built: OnceLock<Built>,
    pub(super) dir: Mutex<Option<BuildDir>>,
    /// Cells not finished yet; the directory is let go at zero.
    pub(super) remaining: AtomicUsize,
    pub(super) unmet: AtomicBool,
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
