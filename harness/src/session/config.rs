//! How a run goes: decided by the front end before the run starts, made
//! by [`RunConfigBuilder`], and never changed after (nextest's
//! `TestRunnerBuilder` is the model). What a matrix says of itself
//! (`run.sandbox`, `run.allow_missing`, timeouts) comes from the matrix;
//! this is what the command line, or a front end's own rule, adds.

use std::path::PathBuf;
use std::time::Instant;

use crate::model::{CellResult, ShardCost};
use crate::run::Sandbox;
use crate::schedule::History;

/// A run's settings. Made by [`RunConfig::builder`].
#[derive(Clone)]
pub struct RunConfig {
    pub(super) jobs: usize,
    pub(super) result_cache: bool,
    pub(super) retries: u32,
    pub(super) sandbox: Sandbox,
    pub(super) trusted_gocache: Option<PathBuf>,
    pub(super) allow_any_missing: bool,
    pub(super) resume: Option<Vec<CellResult>>,
    pub(super) keep_builds: bool,
    pub(super) snippet: bool,
    pub(super) history: History,
    pub(super) runner: String,
    pub(super) shard: Option<String>,
    pub(super) cost: Option<ShardCost>,
    pub(super) started_at: String,
    pub(super) t0: Instant,
}

impl RunConfig {
    /// A builder with every setting at its default, each named on its
    /// setter.
    pub fn builder() -> RunConfigBuilder {
        RunConfigBuilder {
            jobs: None,
            result_cache: true,
            retries: 0,
            sandbox: None,
            trusted_gocache: None,
            allow_any_missing: false,
            resume: None,
            keep_builds: false,
            snippet: false,
            history: History::default(),
            runner: None,
            shard: None,
            cost: None,
            started: None,
        }
    }

    /// Builds and runs at once.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// The sandbox the probes run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// This runner's name in results.
    pub fn runner(&self) -> &str {
        &self.runner
    }
}

/// Sets what a front end decides; [`RunConfigBuilder::build`] fixes it.
pub struct RunConfigBuilder {
    jobs: Option<usize>,
    result_cache: bool,
    retries: u32,
    sandbox: Option<Sandbox>,
    trusted_gocache: Option<PathBuf>,
    allow_any_missing: bool,
    resume: Option<Vec<CellResult>>,
    keep_builds: bool,
    snippet: bool,
    history: History,
    runner: Option<String>,
    shard: Option<String>,
    cost: Option<ShardCost>,
    started: Option<(String, Instant)>,
}

impl RunConfigBuilder {
    /// Builds at once, and runs at once (`--jobs`); default: the machine's
    /// cores.
    pub fn jobs(mut self, n: Option<usize>) -> Self {
        self.jobs = n;
        self
    }

    /// Reuse and record results in the result cache; default: on
    /// (`--no-cache` turns it off).
    pub fn result_cache(mut self, on: bool) -> Self {
        self.result_cache = on;
        self
    }

    /// Tries after a first that did not meet its expectation
    /// (`--retries`); default: none.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Where probes run; default: in bubblewrap where this host has it
    /// ([`Sandbox::for_run`]), detected when the config is built.
    pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    /// The Go build cache of builds that may run programs a stranger chose
    /// (`repro --trust`); default: none, each Go's own cache.
    pub fn trusted_gocache(mut self, dir: Option<PathBuf>) -> Self {
        self.trusted_gocache = dir;
        self
    }

    /// Any tool doctor can install may be missing, its cells then skips
    /// (`--allow-missing`); default: only what each matrix's
    /// `run.allow_missing` names.
    pub fn allow_any_missing(mut self, yes: bool) -> Self {
        self.allow_any_missing = yes;
        self
    }

    /// Finish a dead run (`--resume`): the finished cells its journal
    /// holds are kept when their inputs are unchanged; default: none.
    pub fn resume(mut self, journal: Option<Vec<CellResult>>) -> Self {
        self.resume = journal;
        self
    }

    /// Every cell builds in a fresh directory that stays (`--keep`);
    /// default: build directories are reused, and go when they passed.
    pub fn keep_builds(mut self, yes: bool) -> Self {
        self.keep_builds = yes;
        self
    }

    /// The cells reproduce a snippet (repro): for the run to count as one
    /// in which something ran, a cell built, not run answers only an
    /// expectation that asks nothing of a run (see
    /// [`crate::model::nothing_ran`]); default: a matrix's run, where it
    /// counts.
    pub fn snippet(mut self, yes: bool) -> Self {
        self.snippet = yes;
        self
    }

    /// How long each cell took last time, to order this run; default: no
    /// history, so guesses.
    pub fn history(mut self, history: History) -> Self {
        self.history = history;
        self
    }

    /// This runner's name in results; default: [`super::runner_name`]
    /// (`$CROSSPROBE_RUNNER`, else the host's name).
    pub fn runner(mut self, name: String) -> Self {
        self.runner = Some(name);
        self
    }

    /// The shard this run is (`i/n`, None unsharded) and what its cells
    /// were expected to cost, which results.json records beside what they
    /// cost; default: neither recorded.
    pub fn shard(mut self, shard: Option<String>, cost: ShardCost) -> Self {
        self.shard = shard;
        self.cost = Some(cost);
        self
    }

    /// When the front end started, which the results' `started_at` and
    /// duration count from; default: when the config is built.
    pub fn started(mut self, at: String, t0: Instant) -> Self {
        self.started = Some((at, t0));
        self
    }

    pub fn build(self) -> RunConfig {
        let (started_at, t0) = self
            .started
            .unwrap_or_else(|| (crate::report::now_rfc3339(), Instant::now()));
        RunConfig {
            jobs: super::jobs(self.jobs),
            result_cache: self.result_cache,
            retries: self.retries,
            sandbox: self.sandbox.unwrap_or_else(|| Sandbox::for_run(false)),
            trusted_gocache: self.trusted_gocache,
            allow_any_missing: self.allow_any_missing,
            resume: self.resume,
            keep_builds: self.keep_builds,
            snippet: self.snippet,
            history: self.history,
            runner: self.runner.unwrap_or_else(|| super::runner_name(None)),
            shard: self.shard,
            cost: self.cost,
            started_at,
            t0,
        }
    }
}
