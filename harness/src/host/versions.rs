//! The tools' own word on their versions: one `--version` (or `-cpu
//! help`) a tool, all asked at once, and qemu-user's answers kept between
//! runs under the file's identity.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cache_dir;

/// How long a `--version` query may take before it is killed.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One `--version` run.
pub(super) struct Query {
    key: String,
    path: PathBuf,
    args: Vec<String>,
    /// Its output counts whatever its exit status.
    pub(super) any_status: bool,
}

impl Query {
    /// For a qemu-user binary, its answer is kept between runs under its
    /// path, arguments and file identity (size, mtime, inode): an upgrade
    /// replaces the file, and so asks again. Only qemu: its answers depend
    /// on its file alone, where wine's 32-bit loader, say, starts or not by
    /// the libraries installed beside it. Only answers are kept, never a
    /// failure.
    fn memo_key(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        if !self.key.starts_with("qemu-") {
            return None;
        }
        let m = std::fs::metadata(&self.path).ok()?;
        Some(format!(
            "{} {} size={} mtime={}.{} ino={}",
            self.path.display(),
            self.args.join(" "),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ino()
        ))
    }

    pub(super) fn new(key: &str, path: &Path, args: &[&str]) -> Query {
        Query {
            key: key.to_string(),
            path: path.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            any_status: false,
        }
    }
}

/// Runs every query at once (they are tiny, and a slow one must not hold up
/// the rest); key → its output, None when it failed.
pub(super) fn ask_all(queries: Vec<Query>) -> BTreeMap<String, Option<String>> {
    let memo_file = cache_dir().join("tools").join("qemu.json");
    let mut memo = read_memo(&memo_file);
    let mut known = BTreeMap::new();
    let mut ask = Vec::new();
    for p in queries {
        match p.memo_key().and_then(|k| memo.get(&k)) {
            Some(text) => {
                known.insert(p.key.clone(), Some(text.clone()));
            }
            None => ask.push(p),
        }
    }
    let asked: Vec<(Query, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = ask
            .into_iter()
            .map(|p| {
                s.spawn(move || {
                    let out = output(&p);
                    (p, out)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut learned = false;
    for (p, out) in asked {
        if let (Some(k), Some(text)) = (p.memo_key(), &out) {
            memo.insert(k, text.clone());
            learned = true;
        }
        known.insert(p.key, out);
    }
    if learned {
        let json = serde_json::to_vec(&memo).expect("strings serialise");
        // A memo that cannot be written is asked again next run.
        let _ = std::fs::create_dir_all(memo_file.parent().expect("has a parent"))
            .and_then(|()| crate::fsutil::write_atomic(&memo_file, &json));
    }
    known
}

/// What qemu-user binaries answered (`--version`, `-cpu help`) in earlier
/// runs, by [`Query::memo_key`]: a run that starts every qemu twice costs
/// more than the rest of a cached rerun.
fn read_memo(path: &Path) -> BTreeMap<String, String> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Through `process`, like every child: a query that hangs is killed with
/// its group after [`QUERY_TIMEOUT`], and Ctrl-C reaches it. Its output
/// goes to files, so a child it leaves behind (wine's wineserver) cannot
/// keep us waiting for EOF. stdout, then stderr.
fn output(query: &Query) -> Option<String> {
    let logs = tempfile::tempdir().ok()?;
    let spec = crate::process::Spec {
        argv: std::iter::once(query.path.to_str()?.to_string())
            .chain(query.args.iter().cloned())
            .collect(),
        env: BTreeMap::from([("WINEDEBUG".to_string(), "-all".to_string())]),
        env_remove: Vec::new(),
        cwd: None,
        timeout: QUERY_TIMEOUT,
        log_dir: logs.path().to_path_buf(),
        log_name: "probe".to_string(),
        cap: 1 << 20,
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let c = crate::process::run(&spec).ok()?;
    if c.exit.timed_out || !(c.exit.success() || query.any_status && crate::process::started(&c)) {
        return None;
    }
    Some(c.stdout.text + &c.stderr.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qemu_answer_is_kept_by_its_file_and_only_a_qemu_one() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("qemu-aarch64");
        std::fs::write(&q, "one").unwrap();
        let p = Query::new("qemu-aarch64", &q, &["--version"]);
        let before = p.memo_key().unwrap();
        assert_eq!(p.memo_key().unwrap(), before);
        assert_ne!(
            Query::new("qemu-aarch64 -cpu help", &q, &["-cpu", "help"]).memo_key(),
            Some(before.clone())
        );
        // An upgrade replaces the file: another inode, size or mtime.
        let new = dir.path().join("new");
        std::fs::write(&new, "two!").unwrap();
        std::fs::rename(&new, &q).unwrap();
        assert_ne!(p.memo_key().unwrap(), before);
        assert_eq!(Query::new("node", &q, &["--version"]).memo_key(), None);
    }
}
