//! A group: the cells that share one build plan, and the way each of them
//! goes on once the pipeline has planned it (rendered its sources, keyed
//! it, missed the result cache):
//!
//! build → inspect ([`built`], once for the group) → run ([`run_cell`]) →
//! check → record.
//!
//! Each phase happens once a try. Retries (`--retries`) are loops around
//! build → check, while no cell of the group expected the build to fail,
//! and around run → check, for each cell that did not meet its
//! expectation; retries reuse the binary. Record keeps the tries before the
//! last in the result (a cell that passes on a retry shows as flaky), says
//! what the result cache may keep of it, and lets the build directory go
//! after the group's last cell.
//!
//! [`built`]: super::built
//! [`run_cell`]: super::run_cell

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::built::{build_group, BuildDir, Built, Members};
use super::run_cell::{run_once, Ran};
use super::{judge, Context};
use crate::cache::Entry;
use crate::check::Observed;
use crate::model::{Attempt, Cell, CellResult, Phase, Standing};

/// Cells that share one build.
pub(super) struct Group {
    pub(super) build_key: String,
    /// See [`crate::schedule`]: builds of one family share their stdlib.
    pub(super) family: String,
    pub(super) sources: Vec<(String, String)>,
    /// The preflight's word on the C compiler, for beside Go's.
    pub(super) cc_hint: Option<String>,
    /// Index into the run's cells, and the cell's result key.
    pub(super) cells: Vec<(usize, String)>,
    pub(super) built: OnceLock<Built>,
    pub(super) dir: Mutex<Option<BuildDir>>,
    /// Cells not finished yet; the directory is let go at zero.
    pub(super) remaining: AtomicUsize,
    pub(super) unmet: AtomicBool,
}

/// A finished cell, and what the result cache may keep of it.
pub(super) type Finished = (CellResult, Option<Entry>);

impl Group {
    pub(super) fn new(
        build_key: String,
        family: String,
        sources: Vec<(String, String)>,
        cc_hint: Option<&String>,
    ) -> Group {
        Group {
            build_key,
            family,
            sources,
            cc_hint: cc_hint.cloned(),
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

    /// Builds and inspects, once. Returns the cells it finished: every one
    /// of them when the build left nothing to run (they are checked on the
    /// build), none when their runs can follow.
    pub(super) fn build(&self, cells: &[Cell], ctx: &Context) -> Vec<(usize, Finished)> {
        let built = self.built.get_or_init(|| {
            let members = Members {
                build_key: &self.build_key,
                sources: &self.sources,
                cc_hint: self.cc_hint.as_ref(),
                cells: self.cells.iter().map(|&(i, _)| &cells[i]).collect(),
                dir: &self.dir,
            };
            build_group(&members, ctx)
        });
        if built.ok() {
            return Vec::new();
        }
        (0..self.cells.len())
            .map(|n| (self.cells[n].0, self.finish(n, cells, ctx)))
            .collect()
    }

    /// Whether the build left a binary to run.
    pub(super) fn runnable(&self) -> bool {
        self.built.get().is_some_and(Built::ok)
    }

    /// The `n`th cell once the group is built: run → check, again while
    /// it does not meet its expectation and `--retries` allows, then
    /// record. The build's failed tries count as the cell's first tries. A
    /// cell whose build left nothing to run is checked on the build alone.
    pub(super) fn finish(&self, n: usize, cells: &[Cell], ctx: &Context) -> Finished {
        let cell = &cells[self.cells[n].0];
        let built = self.built.get().expect("cells finish after their build");
        let mut attempts = built.attempts(n);
        loop {
            let ran = built
                .ok()
                .then(|| run_once(cell, self.log_name(n, cell), built, ctx));
            let checked = check(self, n, cells, ctx, ran.as_ref());
            if ran.is_none() || !again(&checked.result, attempts.len(), ctx) {
                return self.record(n, checked, attempts, ctx);
            }
            attempts.push(built.attempt(checked.result));
        }
    }

    /// What the `n`th cell's run captures its output as. Cells of one group
    /// run from one directory, at the same time: each gets its own capture
    /// files. Not by slug alone: the same cell in two matrices has the same
    /// one.
    fn log_name(&self, n: usize, cell: &Cell) -> String {
        match self.cells.len() {
            1 => "run".to_string(),
            _ => format!("run-{n}-{}", cell.slug),
        }
    }

    /// The record phase of the `n`th cell: its earlier tries and its key go
    /// into its result, beside which the result cache may keep it (the
    /// session writes the entries); the build directory is let go after the
    /// group's last cell, and kept when a cell did not meet its expectation.
    fn record(
        &self,
        n: usize,
        checked: Checked,
        attempts: Vec<Attempt>,
        ctx: &Context,
    ) -> Finished {
        let built = self.built.get().expect("cells finish after their build");
        let Checked {
            mut result,
            spawn_error,
            skip,
        } = checked;
        result.attempts = attempts;
        result.key = Some(self.cells[n].1.clone());
        let entry = match ctx.cache {
            true => Entry::of(
                &self.cells[n].1,
                &result,
                &built.inspected,
                skip,
                spawn_error,
            ),
            false => None,
        };
        if !result.verdict.met || !result.attempts.is_empty() {
            self.unmet.store(true, Ordering::SeqCst);
        }
        if built.lasting || ctx.keep || !result.verdict.met {
            result.dir = Some(built.path.display().to_string());
        }
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            let dir = self.dir.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(BuildDir::Temp(t)) = dir {
                if ctx.keep || self.unmet.load(Ordering::SeqCst) {
                    let _kept: PathBuf = t.keep();
                }
            }
        }
        (result, entry)
    }
}

/// Whether a cell that did not meet its expectation is run again: tries
/// are left and nobody stopped the run. A missing tool stays missing on a
/// retry.
fn again(result: &CellResult, tried: usize, ctx: &Context) -> bool {
    result.standing() == Standing::Unmet
        && result.missing.is_none()
        && tried < ctx.retries as usize
        && !ctx.cancel.stopped()
}

/// A cell's result as the check phase made it, with what the result cache
/// needs besides: whether anything could not start, and why a run was
/// skipped.
struct Checked {
    result: CellResult,
    spawn_error: bool,
    skip: Option<String>,
}

/// The check phase of the `n`th cell of a group: judged on its build and,
/// when it ran, its run.
fn check(
    group: &Group,
    n: usize,
    cells: &[Cell],
    ctx: &Context,
    run: Option<&(Phase, Ran)>,
) -> Checked {
    let cell = &cells[group.cells[n].0];
    let built = group.built.get().expect("cells finish after their build");
    let mut phases = built.phases.clone();
    let ran = run.map(|(p, r)| {
        phases.push(p.clone());
        r
    });
    let missing = match &built.skip {
        Some(_) => ctx
            .compilers
            .missing(cell)
            .map(crate::host::install::missing),
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
        interrupted: ctx.cancel.signal().is_some(),
        tests: ran.and_then(|r| r.tests.as_ref()),
        no_marker: !cell.package.is_empty(),
    };
    let mut result = judge(cell, phases, &obs, built.inspected.clone());
    result.not_run = ran.and_then(|r| r.not_run);
    if n > 0 {
        result.build_of = Some(cells[group.cells[0].0].id.clone());
    }
    Checked {
        result,
        spawn_error: obs.spawn_error.is_some(),
        skip: obs.skip,
    }
}
