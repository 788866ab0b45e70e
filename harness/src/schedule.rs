//! Scheduling: in what order, and how many at once, builds and runs go.
//!
//! The pipeline hands over jobs: one build each, followed by the runs of
//! every cell that shares that build. This module only decides order and
//! concurrency; what a build or a run does is the caller's.
//!
//! - **Longest first.** A build starts in order of its job's expected
//!   length (the build plus its longest run), a run in order of its own,
//!   both from the durations of the last run ([`History`]). The longest
//!   jobs then overlap the rest instead of finishing alone at the end.
//! - **Builds and runs are limited separately.** `go build` is CPU-bound
//!   and spreads over the cores by itself; an emulated run is one more busy
//!   process. Up to `builds` builds and `runs` runs go at once, so a run can
//!   fill a core while a build waits on its linker or the disk.
//! - **One cold build per family.** Builds that differ only in their
//!   ldflags or probe (a *family*: same Go, target, cgo, tags, flags and
//!   env) compile the same standard library. Started together on a cold
//!   GOCACHE each compiles all of it: the go command does not share work in
//!   flight between processes (two concurrent cold `go build`s of one
//!   target took 38.6 s of CPU here, two sequential ones 20.2 s). So the
//!   first build of a family runs alone, and the family's other builds wait
//!   until it has filled the cache. On a warm cache that costs one build's
//!   latency per family; other families' builds fill the wait.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex};

use crate::model::{CellResult, PhaseName, Runner};

/// One build and the runs that use its binary.
#[derive(Clone, Debug)]
pub struct Job {
    /// Builds of one family share their compiled standard library.
    pub family: String,
    /// Expected milliseconds of the build.
    pub build_ms: u64,
    /// Expected milliseconds of each run, in the caller's order.
    pub runs_ms: Vec<u64>,
}

impl Job {
    fn priority(&self) -> u64 {
        self.build_ms + self.runs_ms.iter().copied().max().unwrap_or(0)
    }
}

/// How many builds and how many runs at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub builds: usize,
    pub runs: usize,
}

impl Limits {
    /// `-j N`: N builds and N runs. A run mostly waits on an emulator that
    /// uses one core, so the two kinds overlap well; more than N of either
    /// only makes them share the cores.
    pub fn jobs(n: usize) -> Limits {
        Limits {
            builds: n.max(1),
            runs: n.max(1),
        }
    }
}

/// Durations of the last run, by cell id: build and run milliseconds.
#[derive(Clone, Debug, Default)]
pub struct History(BTreeMap<String, (u64, u64)>);

/// Guesses for cells the last run did not have: a warm build, and runs as
/// measured on the development machine (qemu-user ~0.4 s, wine ~1.5 s with
/// its server up, node ~0.7 s).
pub(crate) const GUESS_BUILD_MS: u64 = 1000;

impl History {
    pub fn from_results(cells: &[CellResult]) -> History {
        let phase = |r: &CellResult, name: PhaseName| {
            r.phases
                .iter()
                .filter(|p| p.name == name)
                .map(|p| p.duration_ms)
                .sum::<u64>()
        };
        History(
            cells
                .iter()
                .filter(|r| !r.phases.is_empty())
                .map(|r| {
                    let t = (phase(r, PhaseName::Build), phase(r, PhaseName::Run));
                    (r.cell.id.clone(), t)
                })
                .collect(),
        )
    }

    pub fn extend(&mut self, other: History) {
        self.0.extend(other.0);
    }

    pub fn build_ms(&self, id: &str) -> u64 {
        self.0.get(id).map_or(GUESS_BUILD_MS, |t| t.0)
    }

    pub fn run_ms(&self, id: &str, runner: &Runner) -> u64 {
        self.0.get(id).map_or_else(|| guess_run_ms(runner), |t| t.1)
    }
}

/// A run's guess, for a cell no earlier run timed.
pub(crate) fn guess_run_ms(runner: &Runner) -> u64 {
    match runner {
        Runner::Native => 50,
        Runner::Qemu { .. } => 400,
        Runner::Wine { .. } => 1500,
        Runner::Node => 700,
        Runner::Wasi { .. } => 500,
        Runner::None { .. } => 0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Build(usize),
    Run(usize, usize),
}

struct State {
    /// Jobs not yet built, longest first.
    builds: Vec<usize>,
    /// Runs whose build is done, longest first: (expected ms, job, run).
    runs: Vec<(u64, usize, usize)>,
    /// Families whose first build is running, and those whose is done.
    pioneering: BTreeSet<String>,
    warm: BTreeSet<String>,
    building: usize,
    running: usize,
}

/// Runs every job: `build(job)` once, then, if it returned true,
/// `run(job, i)` for each of its runs. Returns when all are done, or, once
/// `stop()` is true, when what had started is done; jobs not started then
/// are simply never built.
pub fn execute<B, R>(
    jobs: &[Job],
    limits: Limits,
    stop: &(dyn Fn() -> bool + Sync),
    build: B,
    run: R,
) where
    B: Fn(usize) -> bool + Sync,
    R: Fn(usize, usize) + Sync,
{
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Stable: equal priorities keep the matrix's order.
    order.sort_by_key(|&j| std::cmp::Reverse(jobs[j].priority()));
    let state = Mutex::new(State {
        builds: order,
        runs: Vec::new(),
        pioneering: BTreeSet::new(),
        warm: BTreeSet::new(),
        building: 0,
        running: 0,
    });
    let changed = Condvar::new();
    let threads = (limits.builds + limits.runs)
        .min(jobs.len() + jobs.iter().map(|j| j.runs_ms.len()).sum::<usize>());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let task = {
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if let Some(t) = pick(&mut st, jobs, limits, stop()) {
                            break Some(t);
                        }
                        let idle = st.building == 0 && st.running == 0;
                        if idle && (st.builds.is_empty() || stop()) && st.runs.is_empty() {
                            break None;
                        }
                        st = changed.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                };
                let Some(task) = task else {
                    changed.notify_all();
                    return;
                };
                // Dropped even if the task panics, so that the other
                // workers are not left waiting for it.
                let mut done = Finished {
                    state: &state,
                    changed: &changed,
                    task,
                    built: false,
                    jobs,
                };
                match task {
                    Task::Build(j) => done.built = build(j),
                    Task::Run(j, i) => run(j, i),
                }
            });
        }
    });
}

/// Marks a task finished when dropped: frees its slot, makes a built job's
/// runs ready and its family warm.
struct Finished<'a> {
    state: &'a Mutex<State>,
    changed: &'a Condvar,
    task: Task,
    built: bool,
    jobs: &'a [Job],
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match self.task {
            Task::Build(j) => {
                st.building -= 1;
                let fam = &self.jobs[j].family;
                st.pioneering.remove(fam);
                st.warm.insert(fam.clone());
                if self.built {
                    for (i, &ms) in self.jobs[j].runs_ms.iter().enumerate() {
                        let at = st.runs.partition_point(|r| r.0 >= ms);
                        st.runs.insert(at, (ms, j, i));
                    }
                }
            }
            Task::Run(..) => st.running -= 1,
        }
        drop(st);
        self.changed.notify_all();
    }
}

/// The next task that may start now, if any. Runs go first: each one
/// finishes a cell whose build is already paid for.
fn pick(st: &mut State, jobs: &[Job], limits: Limits, stopping: bool) -> Option<Task> {
    if st.running < limits.runs && !st.runs.is_empty() {
        let (_, j, i) = st.runs.remove(0);
        st.running += 1;
        return Some(Task::Run(j, i));
    }
    if stopping || st.building >= limits.builds {
        return None;
    }
    let at = st.builds.iter().position(|&j| {
        let fam = &jobs[j].family;
        st.warm.contains(fam) || !st.pioneering.contains(fam)
    })?;
    let j = st.builds.remove(at);
    let fam = &jobs[j].family;
    if !st.warm.contains(fam) {
        st.pioneering.insert(fam.clone());
    }
    st.building += 1;
    Some(Task::Build(j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    fn job(family: &str, build_ms: u64, runs_ms: &[u64]) -> Job {
        Job {
            family: family.into(),
            build_ms,
            runs_ms: runs_ms.to_vec(),
        }
    }

    /// The order tasks started in, one build or run at a time.
    fn trace(jobs: &[Job], limits: Limits, fail: &[usize]) -> Vec<Task> {
        let log = Mutex::new(Vec::new());
        execute(
            jobs,
            limits,
            &|| false,
            |j| {
                log.lock().unwrap().push(Task::Build(j));
                !fail.contains(&j)
            },
            |j, i| log.lock().unwrap().push(Task::Run(j, i)),
        );
        log.into_inner().unwrap()
    }

    #[test]
    fn longest_expected_first() {
        let jobs = [
            job("a", 100, &[10]),
            job("b", 100, &[2000]),
            job("c", 500, &[10, 30]),
        ];
        let t = trace(&jobs, Limits::jobs(1), &[]);
        // One build and one run at a time: each kind starts in its own order.
        let builds: Vec<_> = t.iter().filter(|t| matches!(t, Task::Build(_))).collect();
        let runs: Vec<_> = t.iter().filter(|t| matches!(t, Task::Run(..))).collect();
        assert_eq!(
            builds,
            [&Task::Build(1), &Task::Build(2), &Task::Build(0)],
            "{t:?}"
        );
        assert_eq!(
            runs,
            [
                &Task::Run(1, 0),
                &Task::Run(2, 1),
                &Task::Run(2, 0),
                &Task::Run(0, 0)
            ],
            "{t:?}"
        );
    }

    #[test]
    fn a_failed_build_has_no_runs() {
        let jobs = [job("a", 1, &[1, 1]), job("b", 1, &[1])];
        let t = trace(&jobs, Limits::jobs(2), &[0]);
        assert!(!t.iter().any(|t| matches!(t, Task::Run(0, _))), "{t:?}");
        assert!(t.contains(&Task::Run(1, 0)), "{t:?}");
    }

    #[test]
    fn a_family_waits_for_its_first_build_and_others_fill_the_wait() {
        let jobs = [
            job("arm", 50, &[]),
            job("arm", 40, &[]),
            job("arm", 30, &[]),
            job("arm", 20, &[]),
            job("amd64", 10, &[]),
        ];
        let busy = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let first_done = AtomicBool::new(false);
        let (tx, rx) = std::sync::mpsc::channel();
        let rx = Mutex::new(rx);
        let tx = Mutex::new(tx);
        execute(
            &jobs,
            Limits { builds: 2, runs: 1 },
            &|| false,
            |j| {
                most.fetch_max(busy.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                match j {
                    // The first arm build holds on until the amd64 build
                    // has started beside it: a scheduler that made amd64
                    // wait would time out here.
                    0 => {
                        let started = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
                        assert!(
                            started.is_ok(),
                            "amd64 did not start beside the first arm build"
                        );
                        first_done.store(true, Ordering::SeqCst);
                    }
                    4 => tx.lock().unwrap().send(()).unwrap(),
                    _ => assert!(
                        first_done.load(Ordering::SeqCst),
                        "arm build {j} started before the family's first was done"
                    ),
                }
                busy.fetch_sub(1, Ordering::SeqCst);
                true
            },
            |_, _| {},
        );
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn history_is_the_last_run_and_guesses_by_runner_otherwise() {
        use crate::model::{Cell, Outcome, Phase, Verdict};
        let phase = |name, ms| Phase {
            name,
            duration_ms: ms,
            commands: vec![],
        };
        let r = CellResult {
            cell: Cell {
                id: "linux/arm64/cgo0/hello".into(),
                ..Cell::default()
            },
            outcome: Outcome::Pass,
            reason: None,
            verdict: Verdict {
                met: true,
                message: String::new(),
            },
            facts: Default::default(),
            phases: vec![
                phase(PhaseName::Render, 1),
                phase(PhaseName::Build, 700),
                phase(PhaseName::Run, 300),
            ],
            duration_ms: 1001,
            dir: None,
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed: None,
            tests: Vec::new(),
            missing: None,
            not_run: None,
            key: None,
        };
        let h = History::from_results(&[r]);
        assert_eq!(h.build_ms("linux/arm64/cgo0/hello"), 700);
        assert_eq!(h.run_ms("linux/arm64/cgo0/hello", &Runner::Node), 300);
        assert_eq!(h.build_ms("new"), GUESS_BUILD_MS);
        assert!(h.run_ms("new", &Runner::Node) > h.run_ms("new", &Runner::Native));
    }

    #[test]
    fn stop_starts_nothing_new() {
        let jobs = [job("a", 1, &[1]), job("b", 1, &[1])];
        let builds = AtomicUsize::new(0);
        execute(
            &jobs,
            Limits::jobs(1),
            &|| builds.load(Ordering::SeqCst) > 0,
            |_| {
                builds.fetch_add(1, Ordering::SeqCst);
                true
            },
            |_, _| {},
        );
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }
}
