//! The entries on disk: one JSON file a key under `<cache dir>/results/`,
//! written whole or not at all.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::FORMAT;
use crate::check::{self, Observed};
use crate::model::{Cell, CellResult, Command, Outcome, PhaseName};
use crate::probe::test2json::Converted;

/// What a run of a cell observed, as stored: enough for check to judge it
/// again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub format: u32,
    pub key: String,
    /// The result as first recorded; its phases hold the commands.
    pub result: CellResult,
    /// What inspection read from the binary.
    pub inspected: BTreeMap<String, serde_json::Value>,
    /// Why the run was skipped, when it was.
    pub skip: Option<String>,
}

impl Entry {
    /// An entry for `result`, or `None` when it must not be reused: a
    /// timeout or an interrupt (they depend on the moment), something that
    /// could not start, and a cell that did not meet its expectation, or
    /// met it only on a retry. Those run again next time, so that a flaky
    /// failure is never frozen in the cache.
    pub fn of(
        key: &str,
        result: &CellResult,
        inspected: &BTreeMap<String, serde_json::Value>,
        skip: Option<String>,
        spawn_error: bool,
    ) -> Option<Entry> {
        let stable = matches!(
            result.outcome,
            Outcome::Pass | Outcome::BuildFail | Outcome::RunFail | Outcome::Skip
        );
        // A skip for a missing tool runs again once the tool is there.
        let settled = result.verdict.met && result.attempts.is_empty() && result.missing.is_none();
        (stable && settled && !spawn_error).then(|| Entry {
            format: FORMAT,
            key: key.to_string(),
            result: CellResult {
                dir: None,
                ..result.clone()
            },
            inspected: inspected.clone(),
            skip,
        })
    }

    /// What the stored run observed, for check to judge as it judges a
    /// fresh one: the cell reusing it may carry other expectations than
    /// the cell that was run. `tests` is what [`Entry::tests`] gave.
    pub fn observed<'a>(&'a self, cell: &Cell, tests: Option<&'a Converted>) -> Observed<'a> {
        let phase = |name: PhaseName| -> &'a [Command] {
            self.result
                .phases
                .iter()
                .find(|p| p.name == name)
                .map_or(&[][..], |p| &p.commands[..])
        };
        let builds = phase(PhaseName::Build);
        Observed {
            build: builds.last(),
            builds,
            spawn_error: None,
            run: phase(PhaseName::Run).first(),
            skip: self.skip.clone(),
            missing: None,
            allow_missing: false,
            interrupted: false,
            tests,
            no_marker: !cell.package.is_empty(),
        }
    }

    /// A `test:` cell's test events, as stored, when its binary ran.
    pub fn tests(&self, cell: &Cell) -> Option<Converted> {
        let ran = self
            .result
            .phases
            .iter()
            .any(|p| p.name == PhaseName::Run && !p.commands.is_empty());
        (!cell.package.is_empty() && ran)
            .then(|| check::gotest::stored(&self.result.tests, &self.result.facts))
    }
}

/// The entries on disk: a [`crate::store::Store`] of [`Entry`]s.
pub struct Store(crate::store::Store);

impl Store {
    /// `<cache dir>/results`.
    pub fn open() -> Store {
        Store::at(crate::host::cache_dir().join("results"))
    }

    pub fn at(dir: PathBuf) -> Store {
        Store(crate::store::Store::at(dir))
    }

    #[cfg(test)]
    pub(super) fn path(&self, key: &str) -> PathBuf {
        self.0.path(key)
    }

    /// The entry for `key`; `None` when there is none, or it cannot be read.
    /// A hit marks the entry used (its mtime), which is what [`Store::prune`]
    /// goes by.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.0
            .get(key, |e: &Entry| e.format == FORMAT && e.key == key)
    }

    /// Stores `entry` through a temporary file and a rename, so a reader
    /// never sees half of one.
    pub fn put(&self, entry: &Entry) -> std::io::Result<()> {
        self.0.put(&entry.key, entry)
    }

    /// Removes the entries no run has used for `max_age`: their inputs
    /// have changed since, or the cells left the matrices. Returns how
    /// many went.
    pub fn prune(&self, max_age: std::time::Duration) -> usize {
        self.0.prune(max_age)
    }
}
