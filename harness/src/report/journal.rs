//! The cells of a run as they finish: one `CellResult` as JSON per line in
//! `<dir>/results.partial.jsonl`, flushed to disk as each cell finishes.
//! results.json and junit.xml are written once, at the end; until then this
//! file is what survives a crossprobe that is killed (SIGKILL, the OOM
//! killer) or a disk that fills up. It is removed once the reports are
//! written.
//!
//! A line is written whole or not at all: when a write fails (the disk is
//! full), the file is cut back to the last whole line and the journal stops.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::model::CellResult;

pub const FILE: &str = "results.partial.jsonl";

pub struct Journal {
    pub path: PathBuf,
    file: Option<File>,
    /// Bytes of whole lines written.
    len: u64,
    /// Cells written.
    pub cells: usize,
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
            error: None,
        })
    }

    /// Appends `result`. After the first failure this does nothing and
    /// returns the same error kind again.
    pub fn append(&mut self, result: &CellResult) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(self.stopped());
        };
        let mut line = serde_json::to_vec(result).expect("results serialise");
        line.push(b'\n');
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        match written {
            Ok(()) => {
                self.len += line.len() as u64;
                self.cells += 1;
                Ok(())
            }
            Err(e) => {
                // Cutting back frees what the half line took, too.
                let _ = file.set_len(self.len);
                let _ = file.sync_data();
                self.file = None;
                let again = io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                Err(again)
            }
        }
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

/// True for the errors of a full disk: no space, a quota, or a file size
/// limit (`ulimit -f`).
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG)
    ) || e.kind() == io::ErrorKind::StorageFull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disks_are_recognised() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(is_disk_full(&io::Error::from_raw_os_error(libc::EFBIG)));
        assert!(!is_disk_full(&io::Error::from_raw_os_error(libc::EACCES)));
        assert!(crate::pipeline::disk_full(
            "write /tmp/go-build123/b001/exe/a.out: no space left on device"
        ));
        assert!(!crate::pipeline::disk_full("undefined: x"));
    }
}
