//! What watches a run: the session tells every observer, in the order the
//! front end lists them, what happens, and each turns it into output of
//! its own (progress lines, the journal, results.json and JUnit, a
//! summary, repro's verdicts) or keeps it (the result cache's writer).
//! An observer never changes a result; nextest's reporters work the same
//! way over its runner's events.

use crate::cache::Entry;
use crate::errors::Error;
use crate::model::{Cell, CellResult, Host, Results};

/// A run about to start.
pub struct Began<'a> {
    pub started_at: &'a str,
    /// The host, with this runner's name.
    pub host: &'a Host,
    /// Every cell this run sets out to run.
    pub cells: &'a [Cell],
}

/// Each method has a default that does nothing: an observer says only
/// what it watches.
pub trait Observer {
    /// Before any cell starts.
    fn began(&mut self, _run: &Began) {}
    /// A cell started.
    fn started(&mut self, _id: &str) {}
    /// What the result cache may keep of a cell, before its `finished`.
    fn cacheable(&mut self, _entry: &Entry) {}
    /// A cell finished.
    fn finished(&mut self, _result: &CellResult) {}
    /// Every cell finished (or will never start).
    fn all_finished(&mut self, _results: &[CellResult]) {}
    /// One matrix's results, assembled: the last thing an observer hears,
    /// once per matrix. An error (a report that could not be written)
    /// makes the run's exit code an I/O failure; later observers still
    /// hear of the matrix.
    fn matrix(&mut self, _results: &Results) -> Result<(), Error> {
        Ok(())
    }
    /// What showed the disk to be full, if this observer saw it fill up:
    /// the session then starts no further cell (each would fail the same
    /// way).
    fn disk_full(&self) -> Option<&str> {
        None
    }
}
