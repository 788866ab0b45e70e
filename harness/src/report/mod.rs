//! Report: everything written for people and machines after cells finish.
//! Every reporter reads the same `Results`; none re-derives another's work.
//! Files are written atomically (temp file, then rename), so an interrupted
//! run never leaves half a report.

pub mod coverage;
pub mod diff;
pub mod html;
pub mod journal;
pub mod junit;
pub mod lock;
pub mod merge;
pub mod observe;
pub mod progress;
pub mod sink;
pub mod summary;

use std::path::Path;

use crate::errors::Error;
use crate::fsutil;
use crate::load::limits;
use crate::model::{Results, SCHEMA_VERSION};

/// Writes `bytes` to `path` whole or not at all ([`fsutil::write_atomic_synced`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fsutil::write_atomic_synced(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        error: source,
        help: Some("check the disk has space and the reports directory is writable".into()),
    })
}

/// Creates the reports root (`--out`) when it does not exist yet, and marks
/// it as output: a `.gitignore` of `*` and a `CACHEDIR.TAG`, as cargo marks
/// `target/`. A run in the user's own repository (the default `reports/`
/// beside their go.mod) then leaves `git status` as it found it, and
/// backup tools skip it. A directory that already exists is the user's
/// choice and is left as it is.
pub fn prepare_root(out: &Path) -> Result<(), Error> {
    if out.exists() {
        return Ok(());
    }
    let fail = |source: std::io::Error| Error::Write {
        path: out.to_path_buf(),
        error: source,
        help: Some("choose another directory with --out, or fix its permissions".into()),
    };
    std::fs::create_dir_all(out).map_err(fail)?;
    let ignore = "# Written by crossprobe: its reports are output, not source.\n*\n";
    fsutil::write_atomic(&out.join(".gitignore"), ignore.as_bytes()).map_err(fail)?;
    let tag = "Signature: 8a477f597d28d172789f06886806bc55\n\
               # This directory holds crossprobe's reports; see https://bford.info/cachedir/\n";
    fsutil::write_atomic(&out.join("CACHEDIR.TAG"), tag.as_bytes()).map_err(fail)?;
    Ok(())
}

/// Makes sure reports can be written to `dir` before anything is built.
pub fn prepare_dir(dir: &Path) -> Result<(), Error> {
    let fail = |source: std::io::Error| Error::Write {
        path: dir.to_path_buf(),
        error: source,
        help: Some("choose another directory with --out, or fix its permissions".into()),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    tempfile::Builder::new()
        .prefix(".crossprobe-probe-")
        .tempfile_in(dir)
        .map_err(fail)?;
    Ok(())
}

/// junit.xml, results.json and report.html for one set of results.
pub fn write_reports(dir: &Path, results: &Results) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(results).expect("results serialise");
    write_atomic(&dir.join("results.json"), &json)?;
    write_atomic(&dir.join("junit.xml"), junit::to_string(results).as_bytes())?;
    let page = html::render(results, &html::Layout::default(), None);
    write_atomic(&dir.join("report.html"), page.as_bytes())?;
    Ok(())
}

/// Reads a results.json, refusing other schema versions; or a journal
/// (`*.jsonl`, a run that never finished), its missing cells interrupted.
pub fn read_results(path: &Path) -> Result<Results, Error> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        return journal::to_results(path);
    }
    let text = read_json_bytes(path)?;
    let corrupt = |e: serde_json::Error, what: &'static str| Error::CorruptResults {
        name: path.display().to_string(),
        line: e.line(),
        col: e.column(),
        what,
        detail: without_position(&e),
        help: "the file is truncated or corrupt; rerun the matrix to recreate it",
    };
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| corrupt(e, "not valid JSON"))?;
    let schema = v.get("schema").and_then(|s| s.as_u64());
    if schema != Some(SCHEMA_VERSION as u64) {
        return Err(Error::ResultsSchema {
            name: path.display().to_string(),
            found: schema,
            wanted: SCHEMA_VERSION,
        });
    }
    // Parsed again from the text, not the Value, so that an error has a
    // line and column.
    serde_json::from_slice(&text).map_err(|e| corrupt(e, "not a crossprobe results file"))
}

/// The bytes of a JSON file that may be someone else's, read with a bound
/// ([`limits::MAX_RESULTS_BYTES`]): a larger file is refused by its size
/// before a byte is read, and a byte no JSON text holds (a control
/// character: `/dev/zero`, a binary) stops the read where it is found.
pub(crate) fn read_json_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let name = path.display().to_string();
    let (file, size) = limits::open(path, &name)?;
    let too_large = |size: Option<u64>| Error::TooLarge {
        name: name.clone(),
        said: format!(
            "{}; crossprobe reads results of at most {}",
            size.map_or("the input is larger".to_string(), |s| format!(
                "the file is {}",
                limits::size_text(s)
            )),
            limits::size_text(limits::MAX_RESULTS_BYTES)
        ),
        help: "is this a results.json or a journal crossprobe wrote?",
    };
    if size.is_some_and(|s| s > limits::MAX_RESULTS_BYTES) {
        return Err(too_large(size));
    }
    let mut reader = file.take(limits::MAX_RESULTS_BYTES + 1);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    error: source,
                })
            }
        };
        let at = bytes.len();
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(i) = chunk[..n]
            .iter()
            .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        {
            let before = &bytes[..at + i];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            return Err(Error::CorruptResults {
                name,
                line,
                col,
                what: "not valid JSON",
                detail: format!(
                    "byte 0x{:02x} is a control character, which JSON text never holds",
                    bytes[at + i]
                ),
                help: "is this a results.json or a journal crossprobe wrote?",
            });
        }
        if bytes.len() as u64 > limits::MAX_RESULTS_BYTES {
            return Err(too_large(size));
        }
    }
    Ok(bytes)
}

/// serde_json's message without the " at line L column C" it appends; the
/// position goes in front, as file:line:col.
fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Now as RFC 3339 in UTC, second precision.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
