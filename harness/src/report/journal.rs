//! The cells of a run as they finish: one `CellResult` as JSON per line in
//! `<dir>/results.partial.jsonl`, flushed to disk as each cell finishes.
//! results.json and junit.xml are written once, at the end; until then this
//! file is what survives a crossprobe that is killed (SIGKILL, the OOM
//! killer) or a disk that fills up. It is removed once the reports are
//! written.
//!
//! A line is written whole or not at all: when a write fails (the disk is
//! full), the file is cut back to the last whole line and the journal stops.
//!
//! The first line is a [`Header`]: which cells the run set out to finish.
//! With it, a journal reads as results (`report merge`, `report html`): the
//! cells it lacks are `interrupted`. A later run into the same directory
//! finds the journal of a run that died (it holds the lock, so the writer
//! is gone): `--resume` keeps its finished cells, else it is kept under
//! another name ([`keep_aside`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::errors::Error;
use crate::load::limits;
use crate::model::{Cell, CellResult, Host, Results, SCHEMA_VERSION};

pub const FILE: &str = "results.partial.jsonl";

/// The journal's first line, as `{"journal": Header}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub matrix: String,
    pub host: Host,
    /// Every cell the run set out to finish, in order.
    pub cells: Vec<Cell>,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    journal: Header,
}

/// What a journal holds: its header (none from an older crossprobe) and
/// the cells that finished, in the order they did.
#[derive(Debug, Default)]
pub struct Read {
    pub header: Option<Header>,
    pub finished: Vec<CellResult>,
}

/// The longest journal line read: one cell's result, its captured output
/// capped, is far below it.
const MAX_LINE: u64 = 64 << 20;

/// Reads a journal. A last line cut short (a kill in mid-write) is left
/// out: only whole lines were ever finished cells. Read with a bound, a
/// line and the whole file ([`limits::MAX_RESULTS_BYTES`]) alike, so that
/// `/dev/zero` behind a `.jsonl` name is refused, not read forever.
pub fn read(path: &Path) -> Result<Read, Error> {
    use std::io::{BufRead, Read as _};
    let name = path.display().to_string();
    let (file, size) = limits::open(path, &name)?;
    let corrupt = |line: usize, what: String| Error::Journal {
        path: path.to_path_buf(),
        line: Some(line),
        what,
        help: "the journal is corrupt; rerun the matrix",
    };
    if size.is_some_and(|s| s > limits::MAX_RESULTS_BYTES) {
        return Err(corrupt(
            1,
            format!(
                ": the file is {}; a journal holds at most {}",
                limits::size_text(size.unwrap_or_default()),
                limits::size_text(limits::MAX_RESULTS_BYTES)
            ),
        ));
    }
    let mut reader = io::BufReader::new(file.take(limits::MAX_RESULTS_BYTES));
    let mut out = Read::default();
    let mut buf = Vec::new();
    for n in 1.. {
        buf.clear();
        let got = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                error: source,
            })?;
        if got == 0 {
            break;
        }
        if buf.len() as u64 > MAX_LINE {
            return Err(corrupt(
                n,
                format!(
                    ": a line longer than {}: not a crossprobe journal",
                    limits::size_text(MAX_LINE)
                ),
            ));
        }
        let whole = buf.ends_with(b"\n");
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| format!(": not UTF-8 text at byte {}", e.valid_up_to() + 1))
            .and_then(|line| {
                if let Ok(h) = serde_json::from_str::<HeaderLine>(line) {
                    out.header = Some(h.journal);
                    return Ok(());
                }
                serde_json::from_str::<CellResult>(line)
                    .map(|r| out.finished.push(r))
                    .map_err(|e| format!(":{}: not a crossprobe journal line: {e}", e.column()))
            });
        match parsed {
            Ok(()) => {}
            // The last line, cut short by a kill in mid-write.
            Err(_) if !whole => {}
            Err(e) => return Err(corrupt(n, e)),
        }
    }
    Ok(out)
}

/// A journal as results: every cell of its header, those that never
/// finished marked `interrupted`.
pub fn to_results(path: &Path) -> Result<Results, Error> {
    let read = read(path)?;
    let Some(h) = read.header else {
        return Err(Error::Journal {
            path: path.to_path_buf(),
            line: None,
            what: ": the journal has no header line".into(),
            help: "it was written by an older crossprobe, which did not record the cells it set out to run; rerun the matrix",
        });
    };
    let mut finished = read.finished;
    let cells = h
        .cells
        .into_iter()
        .map(|cell| {
            match finished
                .iter()
                .position(|r| r.cell.id == cell.id && r.cell.matrix == cell.matrix)
            {
                Some(i) => finished.swap_remove(i),
                None => {
                    let mut r = CellResult::interrupted(cell);
                    let why = "never finished: the run ended first (read from its journal)";
                    r.reason = Some(why.into());
                    r.verdict.message = why.into();
                    r
                }
            }
        })
        .collect();
    Ok(Results {
        schema: SCHEMA_VERSION,
        crossprobe_version: env!("CARGO_PKG_VERSION").to_string(),
        matrices: vec![h.matrix],
        started_at: h.started_at,
        duration_ms: 0,
        host: h.host,
        tools: Default::default(),
        interrupted: true,
        cells,
        perf: None,
        shard: None,
        merged_from: Vec::new(),
        estimate: None,
        env_dropped: Vec::new(),
        env_passed: Vec::new(),
    })
}

/// Moves a dead run's journal out of the way, beside the new reports:
/// `results.partial.<its start>.jsonl`. Returns where it went.
pub fn keep_aside(path: &Path, header: Option<&Header>) -> io::Result<PathBuf> {
    let stamp = header.map_or_else(|| "earlier".to_string(), |h| h.started_at.replace(':', ""));
    let mut to = path.with_file_name(format!("results.partial.{stamp}.jsonl"));
    let mut n = 1;
    while to.exists() {
        n += 1;
        to = path.with_file_name(format!("results.partial.{stamp}-{n}.jsonl"));
    }
    std::fs::rename(path, &to)?;
    Ok(to)
}

pub struct Journal {
    pub path: PathBuf,
    file: Option<File>,
    /// Bytes of whole lines written.
    len: u64,
    /// Cells written.
    pub cells: usize,
    /// Bytes and cells of the lines known to be on disk.
    synced: (u64, usize),
    /// fdatasync calls made: each costs a disk round trip.
    syncs: usize,
    /// Why the journal stopped, if it did.
    pub error: Option<io::Error>,
}

impl Journal {
    /// Starts an empty journal in `dir`, replacing one a previous run left.
    pub fn create(dir: &Path) -> io::Result<Journal> {
        let path = dir.join(FILE);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        Ok(Journal {
            path,
            file: Some(file),
            len: 0,
            cells: 0,
            synced: (0, 0),
            syncs: 0,
            error: None,
        })
    }

    /// Writes the header: the first line.
    pub fn header(&mut self, h: &Header) -> io::Result<()> {
        let line = HeaderLine { journal: h.clone() };
        self.line(
            serde_json::to_vec(&line).expect("a header serialises"),
            false,
            true,
        )
    }

    /// Appends `result`. After the first failure this does nothing and
    /// returns the same error kind again.
    ///
    /// A cell the result cache answered is written but not synced on its
    /// own: it reaches the disk with the next synced line, or [`sync`]
    /// (before the reports' failure names the journal). A power cut before
    /// then loses only what the result cache still holds, so a `--resume`
    /// gets it back at no cost; a killed crossprobe loses nothing. Syncing
    /// each cached line was most of a cached rerun's wall time.
    ///
    /// [`sync`]: Journal::sync
    pub fn append(&mut self, result: &CellResult) -> io::Result<()> {
        let line = serde_json::to_vec(result).expect("results serialise");
        self.line(line, true, !result.cached)
    }

    /// Puts every line written so far on disk.
    pub fn sync(&mut self) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(self.stopped());
        };
        if self.synced.0 == self.len {
            return Ok(());
        }
        self.syncs += 1;
        match file.sync_data() {
            Ok(()) => {
                self.synced = (self.len, self.cells);
                Ok(())
            }
            Err(e) => Err(self.stop(e)),
        }
    }

    fn line(&mut self, mut line: Vec<u8>, cell: bool, sync: bool) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(self.stopped());
        };
        line.push(b'\n');
        let mut written = file.write_all(&line);
        if sync && written.is_ok() {
            self.syncs += 1;
            written = file.sync_data();
        }
        match written {
            Ok(()) => {
                self.len += line.len() as u64;
                self.cells += usize::from(cell);
                if sync {
                    self.synced = (self.len, self.cells);
                }
                Ok(())
            }
            Err(e) => Err(self.stop(e)),
        }
    }

    /// Stops the journal after `e`: cut back to its last whole line (which
    /// frees what a half line took, too), or to the last synced one when
    /// even that cannot be put on disk.
    fn stop(&mut self, e: io::Error) -> io::Error {
        if let Some(file) = self.file.take() {
            let _ = file.set_len(self.len);
            if file.sync_data().is_err() {
                let _ = file.set_len(self.synced.0);
                self.cells = self.synced.1;
            }
        }
        let again = io::Error::new(e.kind(), e.to_string());
        self.error = Some(e);
        again
    }

    fn stopped(&self) -> io::Error {
        match &self.error {
            Some(e) => io::Error::new(e.kind(), e.to_string()),
            None => io::Error::other("the journal is closed"),
        }
    }

    /// The reports are written: the journal is no longer needed.
    pub fn remove(mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: &str, cached: bool) -> CellResult {
        let mut r = CellResult::interrupted(Cell {
            id: id.to_string(),
            ..Cell::default()
        });
        r.cached = cached;
        r
    }

    #[test]
    fn cached_cells_are_synced_with_the_next_fresh_one_or_on_demand() {
        let t = tempfile::tempdir().unwrap();
        let mut j = Journal::create(t.path()).unwrap();
        for i in 0..8 {
            j.append(&cell(&format!("cached/{i}"), true)).unwrap();
        }
        assert_eq!(j.syncs, 0, "a cached cell's line is not synced on its own");
        assert_eq!((j.cells, j.synced.1), (8, 0));
        j.append(&cell("fresh", false)).unwrap();
        assert_eq!(
            j.syncs, 1,
            "a fresh cell's line is synced, with those before it"
        );
        assert_eq!(j.synced, (j.len, 9));
        j.append(&cell("cached/8", true)).unwrap();
        j.sync().unwrap();
        j.sync().unwrap();
        assert_eq!(j.syncs, 2, "sync puts the rest on disk, once");
        let text = std::fs::read_to_string(&j.path).unwrap();
        assert_eq!(text.lines().count(), 10);
        assert_eq!(text.len() as u64, j.len);
    }
}
