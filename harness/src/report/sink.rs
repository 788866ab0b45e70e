//! Where a run's results go while it runs and when it ends, one reports
//! directory per matrix: checked writable and locked before anything is
//! built, a journal line per finished cell, results.json and junit.xml at
//! the end.
//!
//! A full disk stops the run from starting more cells (each would fail the
//! same way), and what finished is kept: in the reports when they can
//! still be written, else in the journal, which the error names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::journal::{self, Journal};
use super::lock::{self, DirLock};
use super::observe::{Began, Observer};
use crate::errors::Error;
use crate::model::{CellResult, Outcome, Results};

struct Dir {
    path: PathBuf,
    _lock: DirLock,
    journal: Option<Journal>,
}

pub struct Sink {
    dirs: BTreeMap<String, Dir>,
    /// What showed the disk to be full, once something did.
    disk_full: Option<String>,
    /// `--resume`: the finished cells of dead runs' journals.
    resumable: Vec<CellResult>,
}

/// What became of a dead run's journal found in a reports directory.
fn found_journal(path: &Path, resume: bool, resumable: &mut Vec<CellResult>) -> Result<(), Error> {
    let keep_aside = |header| {
        journal::keep_aside(path, header).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            error: source,
            help: Some("move it away yourself, or run with --resume to keep its cells".into()),
        })
    };
    let old = match journal::read(path) {
        Ok(old) => old,
        // Not a journal crossprobe can read (cut by a crash, a disk error,
        // an edit): kept as it is, for a person to look at, and this run
        // goes on without it, --resume or not.
        Err(e) => {
            let kept = keep_aside(None)?;
            eprintln!(
                "warning: found a journal that cannot be read (corrupt: {e}); kept as {}{}",
                crate::escape::Line(&kept.display().to_string()),
                if resume {
                    "; --resume reuses none of its cells"
                } else {
                    ""
                }
            );
            return Ok(());
        }
    };
    let finished: Vec<CellResult> = old
        .finished
        .into_iter()
        .filter(|r| r.outcome != Outcome::Interrupted)
        .collect();
    let of = old
        .header
        .as_ref()
        .map_or(String::new(), |h| format!(" of {}", h.cells.len()));
    let who = old.header.as_ref().map_or(String::new(), |h| {
        format!(" (pid {}, started {})", h.pid, h.started_at)
    });
    let what = format!(
        "found the journal of a run that did not finish{who}: {}{of} cells finished",
        finished.len()
    );
    if resume {
        eprintln!(
            "{}; --resume keeps those whose inputs are unchanged",
            crate::escape::Line(&what)
        );
        resumable.extend(finished);
        return Ok(());
    }
    let kept = keep_aside(old.header.as_ref())?;
    eprintln!(
        "{}; kept as {} (--resume would have kept its cells)",
        crate::escape::Line(&what),
        crate::escape::Line(&kept.display().to_string())
    );
    Ok(())
}

impl Sink {
    /// Prepares `out/<name>` for each matrix. Fails, before anything is
    /// built, when one cannot be written or another run is using it.
    /// A journal already there is a dead run's (this run holds the lock):
    /// with `resume` its finished cells are kept for the run to reuse
    /// (`resumable`), else it is kept aside under another name.
    pub fn open<'a>(
        out: &Path,
        names: impl IntoIterator<Item = &'a str>,
        resume: bool,
    ) -> Result<Sink, Error> {
        let mut dirs = BTreeMap::new();
        let mut resumable = Vec::new();
        super::prepare_root(out)?;
        for name in names {
            let path = out.join(name);
            super::prepare_dir(&path)?;
            let lock = lock::lock(&path)?;
            if path.join(journal::FILE).is_file() {
                found_journal(&path.join(journal::FILE), resume, &mut resumable)?;
            }
            let journal = Journal::create(&path).map_err(|source| Error::Write {
                path: path.join(journal::FILE),
                error: source,
                help: Some("check the disk has space and the reports directory is writable".into()),
            })?;
            dirs.insert(
                name.to_string(),
                Dir {
                    path,
                    _lock: lock,
                    journal: Some(journal),
                },
            );
        }
        Ok(Sink {
            dirs,
            disk_full: None,
            resumable,
        })
    }

    /// `--resume`: the finished cells the dead runs' journals hold, for
    /// the run to reuse; handed over once.
    pub fn resumable(&mut self) -> Vec<CellResult> {
        std::mem::take(&mut self.resumable)
    }

    /// Once the disk is full, the session starts no further cell (see
    /// [`Observer::disk_full`]).
    fn full(&mut self, what: String) {
        if self.disk_full.is_none() {
            self.disk_full = Some(what);
        }
    }

    /// Writes results.json and junit.xml for one matrix, then drops its
    /// journal. On failure the journal stays, and the error says what it
    /// holds.
    fn write(&mut self, name: &str, results: &Results) -> Result<PathBuf, Error> {
        let Some(dir) = self.dirs.get_mut(name) else {
            return Err(Error::Usage {
                message: format!("no reports directory was prepared for {name}"),
                help: None,
            });
        };
        match super::write_reports(&dir.path, results) {
            Ok(()) => {
                // Coverage is the toolchain's merge of what the run left;
                // a failure of it is said, and costs no result.
                if let Err(e) = super::coverage::write(&dir.path, results) {
                    eprintln!("warning: coverage: {}", crate::escape::line(&e.to_string()));
                }
                if let Some(j) = dir.journal.take() {
                    j.remove();
                }
                Ok(dir.path.clone())
            }
            Err(Error::Write {
                path,
                error: source,
                ..
            }) => {
                // The journal is now what holds the run: every line on disk.
                if let Some(j) = dir.journal.as_mut() {
                    let _ = j.sync();
                }
                let kept = match &dir.journal {
                    Some(j) if j.cells > 0 => format!(
                        "{} of the {} cells that finished are kept in {}, one JSON object a line (the summary above lists them all); ",
                        j.cells,
                        results.cells.iter().filter(|c| !c.phases.is_empty()).count(),
                        j.path.display()
                    ),
                    _ => String::new(),
                };
                let full = crate::disk::is_full(&source);
                if full {
                    self.disk_full
                        .get_or_insert_with(|| format!("{}: {source}", path.display()));
                }
                Err(Error::Write {
                    path,
                    error: source,
                    help: Some(format!(
                        "{kept}{}; the reports of an earlier run, if any, are untouched",
                        if full {
                            "free some space and run again"
                        } else {
                            "check the reports directory is writable"
                        }
                    )),
                })
            }
            Err(e) => Err(e),
        }
    }
}

impl Observer for Sink {
    /// Writes each journal's header: the cells its matrix sets out to run.
    fn began(&mut self, run: &Began) {
        for (name, dir) in &mut self.dirs {
            let Some(j) = dir.journal.as_mut() else {
                continue;
            };
            let header = journal::Header {
                pid: std::process::id(),
                started_at: run.started_at.to_string(),
                matrix: name.clone(),
                host: run.host.clone(),
                cells: run
                    .cells
                    .iter()
                    .filter(|c| c.matrix == *name)
                    .cloned()
                    .collect(),
            };
            // A header that cannot be written leaves a journal that still
            // holds every finished cell; the disk-full path sees the rest.
            let _ = j.header(&header);
        }
    }

    /// Records a finished cell in its matrix's journal.
    fn finished(&mut self, r: &CellResult) {
        let Some(j) = self
            .dirs
            .get_mut(&r.cell.matrix)
            .and_then(|d| d.journal.as_mut())
        else {
            return;
        };
        if j.error.is_some() {
            return;
        }
        if let Err(e) = j.append(r) {
            if crate::disk::is_full(&e) {
                let what = format!("{}: {e}", j.path.display());
                self.full(what);
            }
        }
    }

    /// Writes the matrix's reports and says where they are.
    fn matrix(&mut self, results: &Results) -> Result<(), Error> {
        let dir = self.write(&results.matrices[0], results)?;
        println!(
            "reports: {0}/junit.xml, {0}/results.json, {0}/report.html",
            dir.display()
        );
        Ok(())
    }

    /// Why the run stopped early for lack of space, if it did.
    fn disk_full(&self) -> Option<&str> {
        self.disk_full.as_deref()
    }
}
