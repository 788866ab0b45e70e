//! A directory of records, one JSON file a key (`DIR/ab/abcd….json`),
//! written whole or not at all. Reading a record marks it used (its
//! mtime), and [`Store::prune`] removes those no run has used for long.
//!
//! The result cache's entries ([`crate::cache`]) and what the go command
//! said of a user's module ([`crate::probe::module::memo`]) are both kept in one.
//! A record that cannot be read or does not parse is a miss: the caller
//! does the work again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The records under one directory.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn at(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// Where the record of `key` is.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.json"))
    }

    /// The record under `key`, when one parses and `valid` accepts it (its
    /// format, the key it says it is for). A hit marks the record used,
    /// which is what [`Store::prune`] goes by.
    pub fn get<T: DeserializeOwned>(&self, key: &str, valid: impl FnOnce(&T) -> bool) -> Option<T> {
        let path = self.path(key);
        let text = std::fs::read(&path).ok()?;
        let record: T = serde_json::from_slice(&text).ok()?;
        if !valid(&record) {
            return None;
        }
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(record)
    }

    /// Stores `record` under `key` through a temporary file and a rename,
    /// so a reader never sees half of one.
    pub fn put<T: Serialize>(&self, key: &str, record: &T) -> std::io::Result<()> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        crate::fsutil::write_atomic(&path, &serde_json::to_vec(record)?)
    }

    /// Removes the records no run has used for `max_age`: their inputs
    /// have changed since, or nothing asks for them any more. Returns how
    /// many went.
    pub fn prune(&self, max_age: Duration) -> usize {
        let now = std::time::SystemTime::now();
        let old = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age))
        };
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for shard in shards.filter_map(|e| Some(e.ok()?.path())) {
            let Ok(entries) = std::fs::read_dir(&shard) else {
                continue;
            };
            for p in entries.filter_map(|e| Some(e.ok()?.path())) {
                if p.extension().is_some_and(|x| x == "json")
                    && old(&p)
                    && std::fs::remove_file(&p).is_ok()
                {
                    removed += 1;
                }
            }
            // Only goes when empty.
            let _ = std::fs::remove_dir(&shard);
        }
        removed
    }
}
